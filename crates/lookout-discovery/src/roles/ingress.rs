//! The ingress role: one target per rule host and path.

use k8s_openapi::api::networking::v1::Ingress;
use lookout_model::TargetGroup;

use super::meta::{LabelSet, name_ns, namespace_labels, object_labels};
use crate::cache::{ObjectLookup, RoleOptions};

fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host.split_once('.').is_some_and(|(_, rest)| rest == suffix),
        None => pattern == host,
    }
}

/// The ingress role's group (`ingress/<ns>/<name>`).
pub fn ingress_group(ing: &Ingress, opts: RoleOptions, lookup: &dyn ObjectLookup) -> TargetGroup {
    let (name, ns) = name_ns(&ing.metadata);
    let mut g = LabelSet::default();
    g.meta("namespace", ns);
    g.meta("ingress_name", name);
    object_labels(&mut g, "ingress", &ing.metadata);
    if opts.attach_namespace {
        namespace_labels(&mut g, lookup.namespace(ns).as_deref());
    }
    let spec = ing.spec.as_ref();
    if let Some(class) = spec.and_then(|s| s.ingress_class_name.clone()) {
        g.meta("ingress_class_name", class);
    }
    let tls_hosts: Vec<&str> = spec
        .and_then(|s| s.tls.as_ref())
        .into_iter()
        .flatten()
        .flat_map(|t| t.hosts.iter().flatten())
        .map(String::as_str)
        .collect();
    let mut targets = Vec::new();
    for rule in spec.and_then(|s| s.rules.as_ref()).into_iter().flatten() {
        let host = rule.host.clone().unwrap_or_default();
        let scheme = if tls_hosts.iter().any(|p| host_matches(p, &host)) {
            "https"
        } else {
            "http"
        };
        let mut paths: Vec<String> = rule
            .http
            .as_ref()
            .map(|h| {
                h.paths
                    .iter()
                    .map(|p| p.path.clone().unwrap_or_else(|| "/".into()))
                    .collect()
            })
            .unwrap_or_default();
        if paths.is_empty() {
            paths.push("/".into());
        }
        for path in paths {
            let mut t = LabelSet::default();
            t.raw("__address__", host.clone());
            t.meta("ingress_scheme", scheme);
            t.meta("ingress_host", host.clone());
            t.meta("ingress_path", path);
            targets.push(t.labels());
        }
    }
    TargetGroup {
        source: format!("ingress/{ns}/{name}"),
        targets,
        labels: g.labels(),
    }
}
