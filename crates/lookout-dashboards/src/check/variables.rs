//! `templating.list`: variable types, data source variables, the query of each query variable, and the stand-in
//! value each variable takes when the panels' queries are expanded.
//!
//! Stand-ins follow what Grafana sends: a variable with `includeAll` becomes its `allValue` (else `.*`), a
//! `multi` variable becomes `.*` (a regex over all its values), a single-valued variable its `current` value,
//! else its first option (custom and interval variables), else the word `value`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::vocabulary::{DATASOURCE_TYPES, VARIABLE_TYPES};
use super::{Ctx, Language, Parsers, template};

/// What the panels need to know about the dashboard's variables.
#[derive(Debug, Default)]
pub(crate) struct Templating {
    /// Variable name → stand-in value.
    pub values: BTreeMap<String, String>,
    /// Data source variable name → data source type (`prometheus`, `loki`).
    pub datasources: BTreeMap<String, String>,
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// The options of a custom or interval variable: its comma-separated `query`, `key : value` pairs giving `value`.
fn listed_options(query: &str) -> Vec<String> {
    query
        .split(',')
        .map(|o| o.rsplit(" : ").next().unwrap_or(o).trim().to_string())
        .filter(|o| !o.is_empty())
        .collect()
}

fn stand_in(var: &Value, options: &[String]) -> String {
    let flag = |k: &str| var.get(k).and_then(Value::as_bool).unwrap_or(false);
    if flag("includeAll") {
        return str_of(var, "allValue")
            .filter(|a| !a.is_empty())
            .unwrap_or(".*")
            .to_string();
    }
    if flag("multi") {
        return ".*".to_string();
    }
    let current = var.get("current").and_then(|c| c.get("value"));
    match current.and_then(Value::as_str) {
        Some(v) if !v.is_empty() && v != "$__all" => v.to_string(),
        _ => options
            .first()
            .cloned()
            .unwrap_or_else(|| "value".to_string()),
    }
}

/// Reads and checks `templating.list`.
pub(crate) fn check(ctx: &mut Ctx, dashboard: &Value, parsers: &Parsers) -> Templating {
    let mut t = Templating::default();
    let Some(list) = dashboard
        .get("templating")
        .and_then(|t| t.get("list"))
        .and_then(Value::as_array)
    else {
        ctx.problem("templating", "missing templating.list");
        return t;
    };
    // First pass: names, types, data sources, stand-ins; so a query may use a variable defined after it.
    let mut queries = Vec::new();
    for (i, var) in list.iter().enumerate() {
        let Some(name) = str_of(var, "name")
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        else {
            ctx.problem(format!("variable #{i}"), "missing or invalid name");
            continue;
        };
        let loc = format!("variable {name}");
        if t.values.contains_key(name) {
            ctx.problem(&loc, "defined twice");
        }
        let kind = str_of(var, "type").unwrap_or_default();
        if !VARIABLE_TYPES.contains(&kind) {
            ctx.problem(
                &loc,
                format!("variable type {kind:?} is not one of {VARIABLE_TYPES:?}"),
            );
        }
        let mut options = Vec::new();
        match kind {
            "datasource" => match str_of(var, "query") {
                Some(q) if DATASOURCE_TYPES.contains(&q) => {
                    t.datasources.insert(name.to_string(), q.to_string());
                }
                q => ctx.problem(
                    &loc,
                    format!("data source variable query {q:?} is not one of {DATASOURCE_TYPES:?}"),
                ),
            },
            "custom" | "interval" => {
                options = listed_options(str_of(var, "query").unwrap_or_default());
                if options.is_empty() {
                    ctx.problem(&loc, "no options in query");
                }
            }
            "query" => queries.push((loc, var)),
            _ => {}
        }
        t.values.insert(name.to_string(), stand_in(var, &options));
    }
    if t.datasources.is_empty() {
        ctx.problem("templating", "no data source variable (type datasource)");
    }
    for (loc, var) in queries {
        check_query_variable(ctx, &loc, var, &t, parsers);
    }
    t
}

/// A query variable: its data source is a data source variable, and its query is one of the documented forms
/// whose expression (if any) parses.
fn check_query_variable(ctx: &mut Ctx, loc: &str, var: &Value, t: &Templating, parsers: &Parsers) {
    let Some(language) = super::panels::datasource_language(ctx, loc, var.get("datasource"), t)
    else {
        return;
    };
    // Grafana accepts the query as a string or as an object whose `query` is the string.
    let query = match var.get("query") {
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Object(o)) => o.get("query").and_then(Value::as_str).unwrap_or_default(),
        _ => "",
    };
    let query = query.trim();
    let (expr, label) = if let Some(inner) = query
        .strip_prefix("label_values(")
        .and_then(|r| r.strip_suffix(')'))
    {
        match inner.rsplit_once(',') {
            Some((expr, label)) => (Some(expr.trim()), Some(label.trim())),
            None => (None, Some(inner.trim())),
        }
    } else if let Some(inner) = query
        .strip_prefix("query_result(")
        .and_then(|r| r.strip_suffix(')'))
        .filter(|_| language == Language::PromQl)
    {
        (Some(inner.trim()), None)
    } else {
        ctx.problem(
            loc,
            format!("query {query:?} is not label_values(label), label_values(expr, label) or (Prometheus) query_result(expr)"),
        );
        return;
    };
    if let Some(label) = label {
        let valid = label
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            ctx.problem(loc, format!("{label:?} is not a label name"));
        }
    }
    if let Some(expr) = expr {
        if expr.is_empty() {
            ctx.problem(loc, "empty expression");
            return;
        }
        match template::expand(expr, &t.values) {
            Ok(expanded) => ctx.parse(loc, language, expr, expanded, parsers),
            Err(e) => ctx.problem(loc, e),
        }
    }
}
