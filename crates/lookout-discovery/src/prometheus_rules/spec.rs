//! One PrometheusRule's `spec` → a Prometheus rule file, as the Operator's `pkg/operator/rules.go` writes it: the
//! spec is read into the Operator's types (so fields it does not know are dropped), `partial_response_strategy` is
//! removed (only Thanos Ruler reads it, and Prometheus refuses unknown group fields), and the groups are written
//! back as YAML.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// The generated rule file's name, as the Operator names it: `<namespace>-<name>-<uid>.yaml`. The UID keeps
/// `foo-bar/fred` and `foo/bar-fred` apart.
pub fn rule_file_name(namespace: &str, name: &str, uid: &str) -> String {
    format!("{namespace}-{name}-{uid}.yaml")
}

/// The rule file (`groups: [...]`) made from a PrometheusRule's `spec`, or why the spec cannot be read.
pub fn rule_file_yaml(spec: &serde_json::Value) -> Result<String, String> {
    // An object without a spec (the CRD requires one, but older objects may lack it) has no groups.
    let spec = Option::<Spec>::deserialize(spec)
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    serde_yaml_ng::to_string(&spec).map_err(|e| e.to_string())
}

/// `spec`: unknown fields are ignored, as Go's decoder into the Operator's types ignores them.
#[derive(Default, Deserialize, Serialize)]
struct Spec {
    #[serde(default, deserialize_with = "null_default")]
    groups: Vec<Group>,
}

/// `RuleGroup`. `partial_response_strategy` is deliberately not a field: the Operator clears it for Prometheus.
#[derive(Deserialize, Serialize)]
struct Group {
    #[serde(default, deserialize_with = "null_default")]
    name: String,
    // Empty durations are left out rather than written as `""`, which no duration parser accepts; the Operator's
    // validation drops them the same way.
    #[serde(default, skip_serializing_if = "blank")]
    interval: Option<String>,
    #[serde(default, skip_serializing_if = "blank")]
    query_offset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    limit: Option<i64>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_default")]
    rules: Vec<Rule>,
}

/// `Rule`.
#[derive(Deserialize, Serialize)]
struct Rule {
    #[serde(default, skip_serializing_if = "blank")]
    record: Option<String>,
    #[serde(default, skip_serializing_if = "blank")]
    alert: Option<String>,
    /// An int-or-string in the CRD (`expr: 1`); always written as text.
    #[serde(default, deserialize_with = "int_or_string")]
    expr: String,
    #[serde(rename = "for", default, skip_serializing_if = "blank")]
    hold: Option<String>,
    #[serde(default, skip_serializing_if = "blank")]
    keep_firing_for: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    labels: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    annotations: BTreeMap<String, String>,
}

fn blank(v: &Option<String>) -> bool {
    v.as_deref().is_none_or(str::is_empty)
}

/// An explicit `null` reads as the empty value, as in Go.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn int_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        serde_json::Value::Null => Ok(String::new()),
        other => Err(serde::de::Error::custom(format!(
            "expr: expected a string or an integer, got {other}"
        ))),
    }
}
