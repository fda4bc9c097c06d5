//! A compiled pipeline: runs a line and its labels through the stages in order. Line filters that come before
//! any stage changing the line are handed to the store (which narrows through its index and checks each line),
//! so the pipeline skips them.

use std::borrow::Cow;
use std::sync::OnceLock;

use lookout_storage::logs::LineFilter;
use lookout_template::{Functions, Template, Value};

use crate::ast::{FilterValue, LabelFmt, LabelSel, LineOp, Stage};
use crate::filters::{label_filter_passes, line_passes};
use crate::labels::{Category, ERROR, ERROR_DETAILS, LabelSet};
use crate::parsers::{self, PathStep};

/// Loki's template functions, built once.
pub fn template_functions() -> &'static Functions {
    static F: OnceLock<Functions> = OnceLock::new();
    F.get_or_init(Functions::loki)
}

enum Step {
    Stage(Stage),
    JsonPaths(Vec<(String, Vec<PathStep>)>),
}

/// A pipeline ready to run.
pub struct Pipeline {
    steps: Vec<Step>,
}

/// Splits the stages into the line filters the store can apply and the rest.
pub fn push_down(stages: &[Stage]) -> (Vec<LineFilter>, Vec<Stage>) {
    let mut filters = Vec::new();
    let mut rest = Vec::new();
    let mut line_changed = false;
    for s in stages {
        match s {
            Stage::Line { op, values } if !line_changed && values.len() == 1 => {
                let f = match (op, &values[0]) {
                    (LineOp::Contains, FilterValue::Text(t)) => {
                        Some(LineFilter::Contains(t.clone()))
                    }
                    (LineOp::NotContains, FilterValue::Text(t)) => {
                        Some(LineFilter::NotContains(t.clone()))
                    }
                    (LineOp::Regex, FilterValue::Regex(r)) => Some(LineFilter::Matches(r.clone())),
                    (LineOp::NotRegex, FilterValue::Regex(r)) => {
                        Some(LineFilter::NotMatches(r.clone()))
                    }
                    _ => None,
                };
                match f {
                    Some(f) => filters.push(f),
                    None => rest.push(s.clone()),
                }
            }
            Stage::LineFormat { .. } | Stage::Decolorize | Stage::Unpack => {
                line_changed = true;
                rest.push(s.clone());
            }
            other => rest.push(other.clone()),
        }
    }
    (filters, rest)
}

fn template_data(labels: &LabelSet, line: &str, ts: i64) -> Value {
    let mut map = std::collections::BTreeMap::new();
    for (n, v) in labels.iter() {
        map.insert(n.to_string(), Value::Str(v.to_string()));
    }
    map.insert("__line__".to_string(), Value::Str(line.to_string()));
    map.insert("__timestamp__".to_string(), Value::Time(ts));
    Value::Map(map)
}

fn decolorize(line: &str) -> String {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r"\x1b\[[0-9;?]*[ -/]*[@-~]").expect("static ANSI regex")
    });
    re.replace_all(line, "").into_owned()
}

fn sel_matches(items: &[LabelSel], name: &str, value: &str) -> bool {
    items.iter().any(|i| match i {
        LabelSel::Name(n) => n == name,
        LabelSel::Matcher(m) => m.name == name && m.matches(value),
    })
}

impl Pipeline {
    /// Compiles stages (JSON expressions are parsed here).
    pub fn new(stages: Vec<Stage>) -> Result<Pipeline, String> {
        let mut steps = Vec::with_capacity(stages.len());
        for s in stages {
            match s {
                Stage::Json(params) if !params.is_empty() => {
                    let mut paths = Vec::new();
                    for (name, expr) in params {
                        paths.push((name, parsers::parse_json_path(&expr)?));
                    }
                    steps.push(Step::JsonPaths(paths));
                }
                other => steps.push(Step::Stage(other)),
            }
        }
        Ok(Pipeline { steps })
    }

    /// True when no stage is left (every filter went to the store): lines pass unchanged, labels untouched.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Runs one line: `None` when a filter drops it.
    pub fn process<'a>(
        &self,
        ts: i64,
        line: &'a str,
        labels: &mut LabelSet,
    ) -> Option<Cow<'a, str>> {
        let mut line: Cow<'a, str> = Cow::Borrowed(line);
        for step in &self.steps {
            let stage = match step {
                Step::JsonPaths(p) => {
                    parsers::json_params(&line, p, labels);
                    continue;
                }
                Step::Stage(s) => s,
            };
            match stage {
                Stage::Line { op, values } => {
                    if !line_passes(*op, values, &line) {
                        return None;
                    }
                }
                Stage::Json(_) => parsers::json_all(&line, labels),
                Stage::Logfmt {
                    strict,
                    keep_empty,
                    params,
                } => parsers::logfmt(&line, *strict, *keep_empty, params, labels),
                Stage::Regexp(re) => parsers::regexp(re, &line, labels),
                Stage::Pattern(p) => {
                    if let Some(c) = p.captures(&line) {
                        for (n, v) in c {
                            labels.set_extracted(n, v);
                        }
                    }
                }
                Stage::Unpack => {
                    if let Some(entry) = parsers::unpack(&line, labels) {
                        line = Cow::Owned(entry);
                    }
                }
                Stage::LabelFilter(f) => {
                    if !label_filter_passes(f, labels) {
                        return None;
                    }
                }
                Stage::LineFormat { tmpl, .. } => match render(tmpl, labels, &line, ts) {
                    Ok(s) => line = Cow::Owned(s),
                    Err(e) => labels.set_error("TemplateFormatErr", &e),
                },
                Stage::LabelFormat(items) => self.label_format(items, labels, &line, ts),
                Stage::Drop(items) => {
                    labels.retain(|n, v| !sel_matches(items, n, v));
                }
                Stage::Keep(items) => {
                    labels.retain(|n, v| {
                        n == ERROR || n == ERROR_DETAILS || sel_matches(items, n, v)
                    });
                }
                Stage::Decolorize => line = Cow::Owned(decolorize(&line)),
            }
        }
        Some(line)
    }

    fn label_format(&self, items: &[LabelFmt], labels: &mut LabelSet, line: &str, ts: i64) {
        // Every item sees the labels as they were before the stage, as in Loki.
        let before = labels.clone();
        for item in items {
            match item {
                LabelFmt::Rename { dst, src } => {
                    let v = before.get(src).unwrap_or("").to_string();
                    labels.remove(src);
                    labels.set(dst, &v, Category::Parsed);
                }
                LabelFmt::Template { dst, tmpl, .. } => match render(tmpl, &before, line, ts) {
                    Ok(v) => labels.set(dst, &v, Category::Parsed),
                    Err(e) => labels.set_error("TemplateFormatErr", &e),
                },
            }
        }
    }
}

fn render(tmpl: &Template, labels: &LabelSet, line: &str, ts: i64) -> Result<String, String> {
    tmpl.render(&template_data(labels, line, ts), template_functions())
        .map_err(|e| e.to_string())
}
