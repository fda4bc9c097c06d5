//! The rules every shipped dashboard passes, for the tests (and for anyone adding a dashboard).
//!
//! Per file ([`check_dashboard`]):
//! - it parses as a JSON object with a non-empty `uid` (at most 40 of `[A-Za-z0-9_-]`), a `title`, `tags` that
//!   include `lookout`, `schemaVersion` ≥ [`MIN_SCHEMA_VERSION`], no numeric `id` (so an import never clashes),
//!   `time.from`/`time.to`, a string `refresh`, and at least one link (`type: dashboards` with the tag `lookout`,
//!   or `type: link` with a URL);
//! - `templating.list` has at least one `datasource` variable; variables are of [`VARIABLE_TYPES`] with unique
//!   names; a query variable's data source is a data source variable and its query is `label_values(label)`,
//!   `label_values(expr, label)` or `query_result(expr)` (Prometheus only), its expression parsed like a target's;
//! - panels (and the panels nested in rows, never a row in a row) have unique numeric ids, a type of
//!   [`PANEL_TYPES`], a `gridPos` inside the 24-column grid and a title; each non-row, non-text panel has a
//!   `datasource` `{"type": …, "uid": "${var}"}` naming a data source variable of that type, and targets with
//!   unique `refId`s and a non-empty `expr` (a target may name its own data source the same way); a `logs`
//!   panel queries Loki; units (defaults and overrides) are in [`UNITS`], override matchers in
//!   [`OVERRIDE_MATCHERS`];
//! - every expression is expanded (Grafana's variable syntaxes; see `template.rs` for the stand-in values) and
//!   parsed by the parser of its data source's language: PromQL for `prometheus`, LogQL for `loki`; and no range
//!   is a fixed duration such as `[5m]`.
//!
//! Across files ([`check_all`]): uids and titles are unique and every `/d/<uid>` link points at a shipped uid.
//!
//! The parsers are passed in as closures ([`Parsers`]) so this crate does not depend on the query engines at
//! run time; the tests wire `lookout_promql::parse_query` and `lookout_logql::parse`.

mod panels;
mod scan;
pub mod template;
mod variables;
pub mod vocabulary;

use std::fmt;

use serde_json::Value;

pub use scan::metric_names;
pub use vocabulary::{
    DATASOURCE_TYPES, MIN_SCHEMA_VERSION, OVERRIDE_MATCHERS, PANEL_TYPES, UNITS, VARIABLE_TYPES,
};

/// A query parser: `Ok` when the text parses, else the parser's message.
pub type ParseFn = dyn Fn(&str) -> Result<(), String>;

/// The query parsers the checker calls.
pub struct Parsers<'a> {
    /// Parses a PromQL expression (the tests use `lookout_promql::parse_query`).
    pub promql: &'a ParseFn,
    /// Parses a LogQL query (the tests use `lookout_logql::parse`).
    pub logql: &'a ParseFn,
}

/// The query language a target or variable runs in, from its data source type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// A `prometheus` data source.
    PromQl,
    /// A `loki` data source.
    LogQl,
}

/// One expression found in a dashboard (a target's `expr` or a query variable's expression).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The file it comes from.
    pub file: String,
    /// Where in the file, e.g. `panel 3 "CPU" target A` or `variable instance`.
    pub location: String,
    /// The language it was parsed as.
    pub language: Language,
    /// The expression as written.
    pub raw: String,
    /// The expression after template variables were replaced by their stand-ins.
    pub expanded: String,
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file.
    pub file: String,
    /// Where in the file (`dashboard`, `variable job`, `panel 3 "CPU" target A`, …).
    pub location: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.location, self.message)
    }
}

/// What a check found: every expression and every broken rule.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The expressions, each parsed (whether or not it parsed: failures are also in `problems`).
    pub queries: Vec<Query>,
    /// The broken rules; empty when the files pass.
    pub problems: Vec<Problem>,
}

/// Collects findings for one file.
pub(crate) struct Ctx<'a> {
    file: &'a str,
    report: Report,
}

impl Ctx<'_> {
    pub(crate) fn problem(&mut self, location: impl Into<String>, message: impl Into<String>) {
        self.report.problems.push(Problem {
            file: self.file.to_string(),
            location: location.into(),
            message: message.into(),
        });
    }

    /// Records an expression and parses its expansion with the parser of `language`.
    pub(crate) fn parse(
        &mut self,
        location: &str,
        language: Language,
        raw: &str,
        expanded: String,
        parsers: &Parsers,
    ) {
        let (parse, name): (&ParseFn, _) = match language {
            Language::PromQl => (parsers.promql, "PromQL"),
            Language::LogQl => (parsers.logql, "LogQL"),
        };
        if let Err(e) = parse(&expanded) {
            self.problem(
                location,
                format!("{name} does not parse: {e} (expanded: {expanded})"),
            );
        }
        self.report.queries.push(Query {
            file: self.file.to_string(),
            location: location.to_string(),
            language,
            raw: raw.to_string(),
            expanded,
        });
    }
}

/// Checks one file's JSON against the per-file rules.
pub fn check_dashboard(file: &str, json: &str, parsers: &Parsers) -> Report {
    let mut ctx = Ctx {
        file,
        report: Report::default(),
    };
    match serde_json::from_str::<Value>(json) {
        Ok(v) if v.is_object() => {
            check_top_level(&mut ctx, &v);
            let templating = variables::check(&mut ctx, &v, parsers);
            panels::check(&mut ctx, &v, &templating, parsers);
        }
        Ok(_) => ctx.problem("dashboard", "not a JSON object"),
        Err(e) => ctx.problem("dashboard", format!("not JSON: {e}")),
    }
    ctx.report
}

fn check_top_level(ctx: &mut Ctx, d: &Value) {
    let text = |k: &str| d.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let uid_ok = text("uid").is_some_and(|u| {
        u.len() <= 40
            && u.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    if !uid_ok {
        ctx.problem("dashboard", "uid missing or not 1-40 of [A-Za-z0-9_-]");
    }
    if text("title").is_none() {
        ctx.problem("dashboard", "no title");
    }
    let tags = d.get("tags").and_then(Value::as_array);
    if !tags.is_some_and(|t| t.iter().any(|t| t.as_str() == Some("lookout"))) {
        ctx.problem("dashboard", "tags must include \"lookout\"");
    }
    match d.get("schemaVersion").and_then(Value::as_u64) {
        Some(v) if v >= MIN_SCHEMA_VERSION => {}
        v => ctx.problem(
            "dashboard",
            format!("schemaVersion {v:?} is below {MIN_SCHEMA_VERSION}"),
        ),
    }
    if d.get("id").is_some_and(|id| !id.is_null()) {
        ctx.problem(
            "dashboard",
            "id must be null or absent (Grafana assigns it)",
        );
    }
    let time = |k: &str| d.get("time").and_then(|t| t.get(k)).and_then(Value::as_str);
    if time("from").is_none() || time("to").is_none() {
        ctx.problem("dashboard", "no default time range (time.from, time.to)");
    }
    if !d.get("refresh").is_some_and(Value::is_string) {
        ctx.problem("dashboard", "refresh must be a string");
    }
    let links = d.get("links").and_then(Value::as_array);
    if links.is_none_or(|l| l.is_empty()) {
        ctx.problem("links", "no links to the other dashboards");
    }
    for (i, link) in links.into_iter().flatten().enumerate() {
        let tagged = |l: &Value| {
            let tags = l.get("tags").and_then(Value::as_array);
            tags.is_some_and(|t| t.iter().any(|t| t.as_str() == Some("lookout")))
        };
        match link.get("type").and_then(Value::as_str) {
            Some("dashboards") if tagged(link) => {}
            Some("link")
                if link
                    .get("url")
                    .and_then(Value::as_str)
                    .is_some_and(|u| !u.is_empty()) => {}
            _ => ctx.problem(
                format!("link #{i}"),
                "neither type dashboards with tag lookout nor type link with a url",
            ),
        }
    }
}

/// The dashboard uids a file links to with `/d/<uid>` URLs.
fn linked_uids(d: &Value) -> Vec<String> {
    let links = d.get("links").and_then(Value::as_array);
    links
        .into_iter()
        .flatten()
        .filter_map(|l| l.get("url").and_then(Value::as_str))
        .filter_map(|u| u.strip_prefix("/d/"))
        .map(|rest| {
            rest.split(['/', '?', '#'])
                .next()
                .unwrap_or(rest)
                .to_string()
        })
        .collect()
}

/// Checks every file, plus the rules across files.
pub fn check_all(files: &[(&str, &str)], parsers: &Parsers) -> Report {
    let mut all = Report::default();
    let mut ids: Vec<(String, String, String)> = Vec::new();
    let mut links: Vec<(String, String)> = Vec::new();
    for (file, json) in files {
        let r = check_dashboard(file, json, parsers);
        all.queries.extend(r.queries);
        all.problems.extend(r.problems);
        if let Ok(v) = serde_json::from_str::<Value>(json) {
            let s = |k: &str| {
                v.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            ids.push((file.to_string(), s("uid"), s("title")));
            links.extend(linked_uids(&v).into_iter().map(|u| (file.to_string(), u)));
        }
    }
    let problem = |file: &str, location: &str, message: String| Problem {
        file: file.to_string(),
        location: location.to_string(),
        message,
    };
    for (i, (file, uid, title)) in ids.iter().enumerate() {
        for (other, ouid, otitle) in &ids[..i] {
            if uid == ouid {
                all.problems.push(problem(
                    file,
                    "dashboard",
                    format!("uid {uid:?} also used by {other}"),
                ));
            }
            if title == otitle {
                all.problems.push(problem(
                    file,
                    "dashboard",
                    format!("title {title:?} also used by {other}"),
                ));
            }
        }
    }
    for (file, uid) in links {
        if !ids.iter().any(|(_, u, _)| *u == uid) {
            all.problems.push(problem(
                &file,
                "links",
                format!("/d/{uid} is not a shipped dashboard"),
            ));
        }
    }
    all
}

#[cfg(test)]
mod tests;
