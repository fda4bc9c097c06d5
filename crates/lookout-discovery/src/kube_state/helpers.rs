//! Shared conventions: quantities, `cond3`, enums, timestamps, owner triples and the label allowlists.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use lookout_model::MetricsWriter;
use lookout_model::self_metrics::{Family, MetricKind};

use crate::settings::KubeStateSettings;

/// Identity labels of one object, in KSM's order.
pub type Ident<'a> = Vec<(&'a str, String)>;

/// A gauge family.
pub fn gauge<'a>(out: &'a mut MetricsWriter, name: &'a str, help: &str) -> Family<'a> {
    out.family(name, MetricKind::Gauge, help)
}

/// Writes one sample with identity labels followed by `extra`.
pub fn put(f: &mut Family<'_>, ident: &Ident<'_>, extra: &[(&str, &str)], value: f64) {
    let mut labels: Vec<(&str, &str)> = ident.iter().map(|(k, v)| (*k, v.as_str())).collect();
    labels.extend_from_slice(extra);
    f.sample(&labels, value);
}

/// Three series `<label>="true|false|unknown"` for a condition's status (`label` is `status`, or `condition` for
/// the pod families, as KSM names them).
pub fn cond3(
    f: &mut Family<'_>,
    ident: &Ident<'_>,
    extra: &[(&str, &str)],
    label: &str,
    status: &str,
) {
    let status = status.to_lowercase();
    for s in ["true", "false", "unknown"] {
        let mut labels = extra.to_vec();
        labels.push((label, s));
        put(f, ident, &labels, f64::from(u8::from(status == s)));
    }
}

/// `cond3` for every condition of an object, labelled `condition=<type>` and `status` (nodes, HPAs).
pub fn each_condition<'c>(
    f: &mut Family<'_>,
    ident: &Ident<'_>,
    conditions: impl IntoIterator<Item = (&'c str, &'c str)>,
) {
    for (type_, status) in conditions {
        cond3(f, ident, &[("condition", type_)], "status", status);
    }
}

/// One series per value of `all`, 1 for `current`; none when `current` is empty.
pub fn enumerate(f: &mut Family<'_>, ident: &Ident<'_>, label: &str, all: &[&str], current: &str) {
    if current.is_empty() {
        return;
    }
    for v in all {
        put(f, ident, &[(label, v)], f64::from(u8::from(*v == current)));
    }
}

/// Whole Unix seconds of a Kubernetes time.
pub fn ts(t: &Time) -> f64 {
    t.0.as_second() as f64
}

/// `(owner_kind, owner_name, owner_is_controller)` triples; one empty triple when there is no owner.
pub fn owners(meta: &ObjectMeta) -> Vec<(String, String, String)> {
    let refs: &[OwnerReference] = meta.owner_references.as_deref().unwrap_or_default();
    if refs.is_empty() {
        return vec![(String::new(), String::new(), String::new())];
    }
    refs.iter()
        .map(|o| {
            (
                o.kind.clone(),
                o.name.clone(),
                o.controller.unwrap_or(false).to_string(),
            )
        })
        .collect()
}

/// Parses a Kubernetes quantity (`250m`, `128Mi`, `1G`, `2e3`, `1.5`) into its value.
pub fn parse_quantity(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match suffix {
        "" => 1.0,
        // Divided, not multiplied: 3800m must print as 3.8, not 3.8000000000000003.
        "m" => return Some(n / 1e3),
        "u" => return Some(n / 1e6),
        "n" => return Some(n / 1e9),
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        s if s.starts_with(['e', 'E']) => 10f64.powi(s[1..].parse().ok()?),
        _ => return None,
    };
    Some(n * mult)
}

/// KSM's `resource` and `unit` labels for a resource name.
pub fn resource_unit(name: &str) -> (String, &'static str) {
    let unit = match name {
        "cpu" => "core",
        "memory" | "storage" | "ephemeral-storage" => "byte",
        n if n.starts_with("hugepages-") || n.starts_with("attachable-volumes-") => "byte",
        _ => "integer",
    };
    (crate::roles::meta::sanitize(name), unit)
}

/// One `resource`/`unit` series per quantity in `list`.
pub fn quantities(
    f: &mut Family<'_>,
    ident: &Ident<'_>,
    extra: &[(&str, &str)],
    list: Option<&BTreeMap<String, Quantity>>,
) {
    for (name, q) in list.into_iter().flatten() {
        let Some(v) = parse_quantity(&q.0) else {
            continue;
        };
        let (resource, unit) = resource_unit(name);
        let mut labels = extra.to_vec();
        labels.push(("resource", &resource));
        labels.push(("unit", unit));
        put(f, ident, &labels, v);
    }
}

/// KSM's name for a Kubernetes label key: sanitised, snake-cased, lower-cased, with `prefix`.
pub fn ksm_label_name(prefix: &str, key: &str) -> String {
    let mut out = String::from(prefix);
    let mut prev_lower = false;
    for c in key.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        };
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// `kube_<resource>_labels` and `_annotations`: only for resources with an allowlist entry (KSM ≥ 2.10).
pub fn labels_families(
    out: &mut MetricsWriter,
    settings: &KubeStateSettings,
    resource: &str,
    singular: &str,
    objects: &[(Ident<'_>, &ObjectMeta)],
) {
    for (kind, lists, field) in [
        ("labels", &settings.metric_labels_allowlist, "label_"),
        (
            "annotations",
            &settings.metric_annotations_allowlist,
            "annotation_",
        ),
    ] {
        let Some(allowed) = lists.get(resource).or_else(|| lists.get("*")) else {
            continue;
        };
        let all = allowed.first().is_some_and(|a| a == "*");
        let name = format!("kube_{singular}_{kind}");
        let help = format!("Kubernetes {kind} converted to Prometheus labels.");
        let mut f = gauge(out, &name, &help);
        for (ident, meta) in objects {
            let src = if kind == "labels" {
                &meta.labels
            } else {
                &meta.annotations
            };
            let pairs: Vec<(String, String)> = src
                .iter()
                .flatten()
                .filter(|(k, _)| all || allowed.contains(k))
                .map(|(k, v)| (ksm_label_name(field, k), v.clone()))
                .collect();
            let extra: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            put(&mut f, ident, &extra, 1.0);
        }
    }
}

/// One gauge family over `objects`, a sample per object whose `value` is Some.
pub fn simple<T>(
    out: &mut MetricsWriter,
    name: &str,
    help: &str,
    objects: &[std::sync::Arc<T>],
    ident: impl Fn(&T) -> Ident<'static>,
    value: impl Fn(&T) -> Option<f64>,
) {
    let mut f = gauge(out, name, help);
    for o in objects {
        if let Some(v) = value(o) {
            put(&mut f, &ident(o), &[], v);
        }
    }
}
