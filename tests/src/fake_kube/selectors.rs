//! Request filters: namespace, `labelSelector` (`k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (..)`, `k notin (..)`) and
//! `fieldSelector` (`metadata.name`, `metadata.namespace`, and for pods `spec.nodeName` and `status.phase`).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::Change;

/// A label selector requirement.
enum LabelReq {
    Eq(String, String),
    NotEq(String, String),
    Exists(String),
    NotExists(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

/// Which objects a request sees: namespace, `labelSelector`, `fieldSelector`.
pub(super) struct Filter {
    namespace: Option<String>,
    labels: Vec<LabelReq>,
    /// (JSON pointer, wanted value, equal?).
    fields: Vec<(&'static str, String, bool)>,
}

impl Filter {
    /// The filter of a request on `plural` in `namespace` (None: all namespaces); Err is a message for a 400.
    pub(super) fn parse(
        namespace: Option<&str>,
        query: &BTreeMap<String, String>,
        plural: &str,
    ) -> Result<Filter, String> {
        let labels = match query.get("labelSelector") {
            Some(selector) => split_top_level(selector)
                .into_iter()
                .filter(|term| !term.trim().is_empty())
                .map(|term| parse_label_req(term.trim()))
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        let mut fields = Vec::new();
        for term in query
            .get("fieldSelector")
            .into_iter()
            .flat_map(|s| s.split(','))
        {
            let term = term.trim();
            if term.is_empty() {
                continue;
            }
            let (key, value, equal) = if let Some((k, v)) = term.split_once("!=") {
                (k, v, false)
            } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                (k, v, true)
            } else {
                return Err(format!(
                    "invalid selector: '{term}'; can't understand '{term}'"
                ));
            };
            let pointer = match (key.trim(), plural) {
                ("metadata.name", _) => "/metadata/name",
                ("metadata.namespace", _) => "/metadata/namespace",
                ("spec.nodeName", "pods") => "/spec/nodeName",
                ("status.phase", "pods") => "/status/phase",
                (other, _) => return Err(format!("field label not supported: {other}")),
            };
            fields.push((pointer, value.trim().to_owned(), equal));
        }
        Ok(Filter {
            namespace: namespace.map(str::to_owned),
            labels,
            fields,
        })
    }

    /// The watch event line for a change as this filter sees it: ADDED when the object starts passing, MODIFIED while
    /// it passes, DELETED (the old object at the change's resourceVersion) when it stops passing or is deleted.
    pub(super) fn event_line(&self, change: &Change) -> Option<String> {
        let now = change.obj.as_ref().filter(|obj| self.matches(obj));
        let before = change.prev.as_ref().filter(|obj| self.matches(obj));
        let (kind, object) = match (now, before) {
            (Some(obj), None) => ("ADDED", obj.clone()),
            (Some(obj), Some(_)) => ("MODIFIED", obj.clone()),
            (None, Some(prev)) => {
                let mut prev = prev.clone();
                prev["metadata"]["resourceVersion"] = change.rv.to_string().into();
                ("DELETED", prev)
            }
            (None, None) => return None,
        };
        Some(format!("{}\n", json!({"type": kind, "object": object})))
    }

    /// Whether the object passes the namespace, label and field filters.
    pub(super) fn matches(&self, obj: &Value) -> bool {
        let text = |pointer: &str| obj.pointer(pointer).and_then(Value::as_str).unwrap_or("");
        if self
            .namespace
            .as_deref()
            .is_some_and(|ns| text("/metadata/namespace") != ns)
        {
            return false;
        }
        let labels = obj.pointer("/metadata/labels");
        let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
        let labels_match = self.labels.iter().all(|req| match req {
            LabelReq::Eq(k, v) => label(k) == Some(v.as_str()),
            LabelReq::NotEq(k, v) => label(k) != Some(v.as_str()),
            LabelReq::Exists(k) => label(k).is_some(),
            LabelReq::NotExists(k) => label(k).is_none(),
            LabelReq::In(k, vs) => label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            LabelReq::NotIn(k, vs) => label(k).is_none_or(|l| vs.iter().all(|v| v != l)),
        });
        labels_match
            && self
                .fields
                .iter()
                .all(|(pointer, value, equal)| (text(pointer) == value) == *equal)
    }
}

/// Splits a label selector at the commas outside parentheses.
fn split_top_level(selector: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&selector[start..]);
    terms
}

fn parse_label_req(term: &str) -> Result<LabelReq, String> {
    let err = || format!("unable to parse requirement: {term:?}");
    let valid_key =
        |k: &str| !k.is_empty() && !k.contains(|c: char| c.is_whitespace() || "!=(),".contains(c));
    let key = |k: &str| {
        let k = k.trim();
        if valid_key(k) {
            Ok(k.to_owned())
        } else {
            Err(err())
        }
    };
    if let Some(open) = term.find('(') {
        let inner = term[open + 1..].strip_suffix(')').ok_or_else(err)?;
        let values: Vec<String> = inner.split(',').map(|v| v.trim().to_owned()).collect();
        let mut words = term[..open].split_whitespace();
        return match (words.next(), words.next(), words.next()) {
            (Some(k), Some("in"), None) => Ok(LabelReq::In(key(k)?, values)),
            (Some(k), Some("notin"), None) => Ok(LabelReq::NotIn(key(k)?, values)),
            _ => Err(err()),
        };
    }
    if let Some(k) = term.strip_prefix('!') {
        return Ok(LabelReq::NotExists(key(k)?));
    }
    if let Some((k, v)) = term.split_once("!=") {
        return Ok(LabelReq::NotEq(key(k)?, v.trim().to_owned()));
    }
    if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
        return Ok(LabelReq::Eq(key(k)?, v.trim().to_owned()));
    }
    Ok(LabelReq::Exists(key(term)?))
}
