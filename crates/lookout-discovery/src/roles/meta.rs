//! Label helpers shared by the roles: Prometheus's label-name sanitising, the label/annotation sets every object
//! kind contributes (`<kind>_label_*`, `_labelpresent_*`, `_annotation_*`, `_annotationpresent_*`), and the
//! namespace and node metadata of `attach_metadata`.
//!
//! As in Prometheus, a label set to an empty value is the same as an absent label: [`LabelSet::labels`] drops it.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use lookout_model::Labels;

use crate::cache::ObjectLookup;

/// The prefix of every discovered label.
pub const PREFIX: &str = "__meta_kubernetes_";

/// Labels being collected for one target or group.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LabelSet(BTreeMap<String, String>);

impl LabelSet {
    /// Sets `__meta_kubernetes_<name>`.
    pub fn meta(&mut self, name: &str, value: impl Into<String>) {
        self.0.insert(format!("{PREFIX}{name}"), value.into());
    }

    /// Sets a label named as written (`__address__`, `instance`).
    pub fn raw(&mut self, name: &str, value: impl Into<String>) {
        self.0.insert(name.to_string(), value.into());
    }

    /// Sets `__address__`.
    pub fn address(&mut self, value: impl Into<String>) {
        self.raw("__address__", value);
    }

    /// Adds every label of `other`, whose values win (Prometheus's `LabelSet.Merge`).
    pub fn merge(&mut self, other: LabelSet) {
        self.0.extend(other.0);
    }

    /// The finished label set, without empty values.
    pub fn labels(&self) -> Labels {
        let pairs: Vec<(&str, &str)> = self
            .0
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Labels::from_pairs_unchecked(&pairs)
    }
}

/// The value of an optional string field, empty when unset (Go's zero value).
pub fn opt(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or_default()
}

/// Replaces every character outside `[a-zA-Z0-9_]` with `_`, as Prometheus's `strutil.SanitizeLabelName`.
pub fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `<kind>_label_*`, `<kind>_labelpresent_*`, `<kind>_annotation_*`, `<kind>_annotationpresent_*` of `meta`.
pub fn object_labels(out: &mut LabelSet, kind: &str, meta: &ObjectMeta) {
    for (k, v) in meta.labels.iter().flatten() {
        let k = sanitize(k);
        out.meta(&format!("{kind}_label_{k}"), v.as_str());
        out.meta(&format!("{kind}_labelpresent_{k}"), "true");
    }
    for (k, v) in meta.annotations.iter().flatten() {
        let k = sanitize(k);
        out.meta(&format!("{kind}_annotation_{k}"), v.as_str());
        out.meta(&format!("{kind}_annotationpresent_{k}"), "true");
    }
}

/// `<kind>_name` and the label/annotation sets of `meta` (Prometheus's `addObjectMetaLabels`).
pub fn object_meta_labels(out: &mut LabelSet, kind: &str, meta: &ObjectMeta) {
    out.meta(&format!("{kind}_name"), opt(&meta.name));
    object_labels(out, kind, meta);
}

/// `attach_metadata.namespace`: the namespace's label/annotation sets (not its name), if the namespace is known.
pub fn namespace_metadata(out: &mut LabelSet, lookup: &dyn ObjectLookup, namespace: &str) {
    if let Some(ns) = lookup.namespace(namespace) {
        object_labels(out, "namespace", &ns.metadata);
    }
}

/// `attach_metadata.node`: `node_name` and the node's label/annotation sets, if the node is known.
pub fn node_metadata(out: &mut LabelSet, lookup: &dyn ObjectLookup, node: Option<&str>) {
    if let Some(node) = node.and_then(|n| lookup.node(n)) {
        object_meta_labels(out, "node", &node.metadata);
    }
}

/// `host:port` as Go's `net.JoinHostPort`: hosts containing `:` (IPv6) are bracketed.
pub fn join_host_port(host: &str, port: i32) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The object's name and namespace ("" when unset).
pub fn name_ns(meta: &ObjectMeta) -> (&str, &str) {
    (opt(&meta.name), opt(&meta.namespace))
}
