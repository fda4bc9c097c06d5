//! Label helpers shared by the roles: Prometheus's name sanitising and the label/annotation sets every object kind
//! contributes (`<kind>_label_*`, `_labelpresent_*`, `_annotation_*`, `_annotationpresent_*`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Namespace, Node};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use lookout_model::Labels;

/// The prefix of every discovered label.
pub const PREFIX: &str = "__meta_kubernetes_";

/// Labels being collected for one target or group.
#[derive(Debug, Default, Clone)]
pub struct LabelSet(pub BTreeMap<String, String>);

impl LabelSet {
    /// Sets `__meta_kubernetes_<name>`.
    pub fn meta(&mut self, name: &str, value: impl Into<String>) {
        self.0.insert(format!("{PREFIX}{name}"), value.into());
    }

    /// Sets a label as written (e.g. `__address__`, `instance`).
    pub fn raw(&mut self, name: &str, value: impl Into<String>) {
        self.0.insert(name.to_string(), value.into());
    }

    /// Adds every label of `other`.
    pub fn extend(&mut self, other: &LabelSet) {
        for (k, v) in &other.0 {
            self.0.insert(k.clone(), v.clone());
        }
    }

    /// The finished label set.
    pub fn labels(&self) -> Labels {
        let pairs: Vec<(&str, &str)> = self
            .0
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Labels::from_pairs_unchecked(&pairs)
    }
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
        out.meta(&format!("{kind}_label_{k}"), v.clone());
        out.meta(&format!("{kind}_labelpresent_{k}"), "true");
    }
    for (k, v) in meta.annotations.iter().flatten() {
        let k = sanitize(k);
        out.meta(&format!("{kind}_annotation_{k}"), v.clone());
        out.meta(&format!("{kind}_annotationpresent_{k}"), "true");
    }
}

/// The namespace's label and annotation sets (`attach_metadata.namespace`).
pub fn namespace_labels(out: &mut LabelSet, ns: Option<&Namespace>) {
    if let Some(ns) = ns {
        object_labels(out, "namespace", &ns.metadata);
    }
}

/// The node's name and label/annotation sets (`attach_metadata.node`).
pub fn node_metadata(out: &mut LabelSet, node_name: &str, node: Option<&Node>) {
    let Some(node) = node else { return };
    out.meta("node_name", node_name);
    object_labels(out, "node", &node.metadata);
}

/// `host:port`, bracketing IPv6 addresses.
pub fn join_host_port(host: &str, port: i32) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The object's name and namespace ("" when unset).
pub fn name_ns(meta: &ObjectMeta) -> (&str, &str) {
    (
        meta.name.as_deref().unwrap_or_default(),
        meta.namespace.as_deref().unwrap_or_default(),
    )
}
