//! The ingress role (Prometheus's `ingress.go`): one target per rule host × path.

use k8s_openapi::api::networking::v1::{Ingress, IngressRule};
use lookout_model::TargetGroup;

use super::meta::{LabelSet, name_ns, namespace_metadata, object_meta_labels, opt};
use crate::cache::{ObjectLookup, RoleOptions};

/// Whether `host` matches a TLS host `pattern`: equal, or a pattern whose first dot-separated part is `*` and whose
/// other parts equal the host's (same number of parts, so `*.example.org` does not match `a.b.example.org`).
fn host_matches(pattern: &str, host: &str) -> bool {
    if pattern == host {
        return true;
    }
    let mut pattern_parts = pattern.split('.');
    if pattern_parts.next() != Some("*") {
        return false;
    }
    let mut host_parts = host.split('.');
    host_parts.next();
    pattern_parts.eq(host_parts)
}

/// The rule's paths: `/` for a rule without `http`, and for an empty path.
fn rule_paths(rule: &IngressRule) -> Vec<&str> {
    match &rule.http {
        None => vec!["/"],
        Some(http) => http
            .paths
            .iter()
            .map(|p| match opt(&p.path) {
                "" => "/",
                path => path,
            })
            .collect(),
    }
}

/// The ingress role's group (`ingress/<ns>/<name>`).
pub fn ingress_group(ing: &Ingress, opts: RoleOptions, lookup: &dyn ObjectLookup) -> TargetGroup {
    let (name, ns) = name_ns(&ing.metadata);
    let spec = ing.spec.as_ref();
    let mut g = LabelSet::default();
    g.meta("namespace", ns);
    if let Some(class) = spec.and_then(|s| s.ingress_class_name.as_deref()) {
        g.meta("ingress_class_name", class);
    }
    object_meta_labels(&mut g, "ingress", &ing.metadata);
    if opts.attach_namespace {
        namespace_metadata(&mut g, lookup, ns);
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
        let host = opt(&rule.host);
        let https = tls_hosts.iter().any(|p| host_matches(p, host));
        for path in rule_paths(rule) {
            let mut t = LabelSet::default();
            t.address(host);
            t.meta("ingress_scheme", if https { "https" } else { "http" });
            t.meta("ingress_host", host);
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
