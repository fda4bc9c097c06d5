//! Rule files as Prometheus reads them (`groups:` of `record`/`alert` rules), validated the way `promtool check
//! rules` validates them: unknown keys, empty or repeated group names, rules with both or neither of
//! `record`/`alert`, unparsable PromQL, invalid names, recording rules with alerting fields, and alert templates
//! that do not parse — each error with the file and, where the YAML places it, line and column.

use std::collections::BTreeMap;
use std::time::Duration;

use lookout_model::PromDuration;
use lookout_model::labels::{is_valid_label_name, is_valid_metric_name};
use serde::Deserialize;

use crate::locate::Positions;

/// One rule file's groups.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleFile {
    /// The path as configured (after glob expansion).
    pub path: String,
    /// Its groups, in file order.
    pub groups: Vec<GroupSpec>,
}

/// A group as written.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSpec {
    /// `name`.
    pub name: String,
    /// `interval` (`None`: the global `evaluation_interval`).
    pub interval: Option<Duration>,
    /// `query_offset` (`None`: the global `rule_query_offset`).
    pub query_offset: Option<Duration>,
    /// `limit` (0: none).
    pub limit: usize,
    /// `labels`, added to every rule (a rule's own win).
    pub labels: BTreeMap<String, String>,
    /// Its rules, in order.
    pub rules: Vec<RuleSpec>,
}

/// A rule as written.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSpec {
    /// What it is.
    pub kind: RuleKind,
    /// `record` or `alert`.
    pub name: String,
    /// `expr`.
    pub expr: String,
    /// `for` (alerting).
    pub hold: Duration,
    /// `keep_firing_for` (alerting).
    pub keep_firing_for: Duration,
    /// `labels` (templates for alerting rules), the group's labels merged under them.
    pub labels: BTreeMap<String, String>,
    /// `annotations` (templates).
    pub annotations: BTreeMap<String, String>,
}

/// Recording or alerting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// `record:`.
    Recording,
    /// `alert:`.
    Alerting,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    groups: Vec<RawGroup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    name: String,
    #[serde(default)]
    interval: Option<PromDuration>,
    #[serde(default)]
    query_offset: Option<PromDuration>,
    #[serde(default)]
    limit: usize,
    #[serde(default, deserialize_with = "scalar_map")]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    record: String,
    #[serde(default)]
    alert: String,
    #[serde(default, deserialize_with = "scalar")]
    expr: String,
    #[serde(default, rename = "for")]
    hold: PromDuration,
    #[serde(default)]
    keep_firing_for: PromDuration,
    #[serde(default, deserialize_with = "scalar_map")]
    labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "scalar_map")]
    annotations: BTreeMap<String, String>,
}

/// A YAML scalar read as text (`expr: 1` and `severity: 2` are valid, as in Prometheus).
fn scalar_text(v: serde_yaml_ng::Value) -> Result<String, String> {
    use serde_yaml_ng::Value;
    match v {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Ok(String::new()),
        other => Err(format!("expected a string, got {other:?}")),
    }
}

fn scalar<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    scalar_text(serde_yaml_ng::Value::deserialize(d)?).map_err(serde::de::Error::custom)
}

fn scalar_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let raw = Option::<BTreeMap<String, serde_yaml_ng::Value>>::deserialize(d)?;
    raw.unwrap_or_default()
        .into_iter()
        .map(|(k, v)| Ok((k, scalar_text(v).map_err(serde::de::Error::custom)?)))
        .collect()
}

/// What checking a file found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Findings {
    /// Errors: the file is refused.
    pub errors: Vec<String>,
    /// Warnings (duplicate rules, as `promtool check rules` lints by default): the file still loads.
    pub warnings: Vec<String>,
}

/// Parses and validates `text` as the rule file `path`. `validate_template` checks one alert template (label or
/// annotation value), returning its error.
pub fn parse(
    path: &str,
    text: &str,
    validate_template: &dyn Fn(&str) -> Result<(), String>,
) -> Result<(RuleFile, Findings), Findings> {
    let raw: RawFile = match serde_yaml_ng::from_str::<Option<RawFile>>(text) {
        Ok(Some(f)) => f,
        Ok(None) => RawFile { groups: Vec::new() },
        Err(e) => {
            return Err(Findings {
                errors: vec![format!("{path}: {}", yaml_error(&e))],
                warnings: Vec::new(),
            });
        }
    };
    let pos = Positions::scan(text);
    let mut f = Findings::default();
    let mut seen = std::collections::HashSet::new();
    let mut groups = Vec::new();
    for (gi, g) in raw.groups.into_iter().enumerate() {
        let at = pos.group(gi);
        if g.name.is_empty() {
            f.errors
                .push(format!("{path}: {at}Groupname must not be empty"));
        }
        if !seen.insert(g.name.clone()) {
            f.errors.push(format!(
                "{path}: {at}groupname: \"{}\" is repeated in the same file",
                g.name
            ));
        }
        for (k, v) in &g.labels {
            check_label(k, v, &mut |e| f.errors.push(format!("{path}: {e}")));
        }
        let mut rules = Vec::new();
        let mut rule_keys = std::collections::HashSet::new();
        for (ri, r) in g.rules.into_iter().enumerate() {
            let name = if r.alert.is_empty() {
                &r.record
            } else {
                &r.alert
            };
            let prefix = |node: Option<(usize, usize)>| {
                let at = node.map_or(String::new(), |(l, c)| format!("{l}:{c}: "));
                format!(
                    "{path}: {at}group \"{}\", rule {}, \"{name}\": ",
                    g.name,
                    ri + 1
                )
            };
            let rp = pos.rule(gi, ri);
            let mut fail = |node: Option<(usize, usize)>, msg: String| {
                f.errors.push(format!("{}{msg}", prefix(node)));
            };
            if !r.record.is_empty() && !r.alert.is_empty() {
                fail(
                    rp.record,
                    "only one of 'record' and 'alert' must be set".into(),
                );
            }
            if r.record.is_empty() && r.alert.is_empty() {
                fail(
                    rp.record.or(rp.alert),
                    "one of 'record' or 'alert' must be set".into(),
                );
            }
            if r.expr.is_empty() {
                fail(rp.expr, "field 'expr' must be set in rule".into());
            } else if let Err(e) = lookout_promql::parse_query(&r.expr) {
                fail(rp.expr, format!("could not parse expression: {e}"));
            }
            if !r.record.is_empty() {
                if !r.annotations.is_empty() {
                    fail(
                        rp.record,
                        "invalid field 'annotations' in recording rule".into(),
                    );
                }
                if !r.hold.as_duration().is_zero() {
                    fail(rp.record, "invalid field 'for' in recording rule".into());
                }
                if !r.keep_firing_for.as_duration().is_zero() {
                    fail(
                        rp.record,
                        "invalid field 'keep_firing_for' in recording rule".into(),
                    );
                }
                if !is_valid_metric_name(&r.record) {
                    fail(
                        rp.record,
                        format!("invalid recording rule name: {}", r.record),
                    );
                }
            }
            for (k, v) in &r.labels {
                check_label(k, v, &mut |e| fail(None, e));
            }
            for k in r.annotations.keys() {
                if !is_valid_label_name(k) {
                    fail(None, format!("invalid annotation name: {k}"));
                }
            }
            if !r.alert.is_empty() {
                for (what, map) in [("label", &r.labels), ("annotation", &r.annotations)] {
                    for (k, v) in map {
                        if let Err(e) = validate_template(v) {
                            fail(None, format!("{what} {k:?}: {e}"));
                        }
                    }
                }
            }
            let mut labels = g.labels.clone();
            labels.extend(r.labels.clone());
            let kind = if r.alert.is_empty() {
                RuleKind::Recording
            } else {
                RuleKind::Alerting
            };
            let key = format!("{kind:?}\u{0}{name}\u{0}{labels:?}");
            if !rule_keys.insert(key) {
                f.warnings.push(format!(
                    "{path}: group \"{}\": duplicate rule \"{name}\" with the same labels",
                    g.name
                ));
            }
            rules.push(RuleSpec {
                kind,
                name: name.clone(),
                expr: r.expr,
                hold: r.hold.as_duration(),
                keep_firing_for: r.keep_firing_for.as_duration(),
                labels,
                annotations: r.annotations,
            });
        }
        groups.push(GroupSpec {
            name: g.name,
            interval: g.interval.map(PromDuration::as_duration),
            query_offset: g.query_offset.map(PromDuration::as_duration),
            limit: g.limit,
            labels: g.labels,
            rules,
        });
    }
    if f.errors.is_empty() {
        Ok((
            RuleFile {
                path: path.to_string(),
                groups,
            },
            f,
        ))
    } else {
        Err(f)
    }
}

fn check_label(k: &str, v: &str, fail: &mut dyn FnMut(String)) {
    if !is_valid_label_name(k) || k == "__name__" {
        fail(format!("invalid label name: {k}"));
    }
    let _ = v; // Label values are any UTF-8, which YAML text already is.
}

/// serde_yaml_ng's message, which names the line and column.
fn yaml_error(e: &serde_yaml_ng::Error) -> String {
    e.to_string()
}

#[cfg(test)]
mod tests;
