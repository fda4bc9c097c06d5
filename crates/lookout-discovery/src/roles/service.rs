//! The service role: one target per service port, at the service's cluster DNS name.

use k8s_openapi::api::core::v1::Service;
use lookout_model::TargetGroup;

use super::meta::{LabelSet, name_ns, namespace_labels, object_labels};
use crate::cache::{ObjectLookup, RoleOptions};

/// The service-level labels (also added to endpoints and endpointslice groups).
pub(crate) fn service_labels(out: &mut LabelSet, svc: &Service) {
    let (name, ns) = name_ns(&svc.metadata);
    out.meta("namespace", ns);
    out.meta("service_name", name);
    object_labels(out, "service", &svc.metadata);
    let Some(spec) = &svc.spec else { return };
    let kind = spec.type_.clone().unwrap_or_else(|| "ClusterIP".into());
    if kind == "ExternalName" {
        if let Some(e) = &spec.external_name {
            out.meta("service_external_name", e.clone());
        }
    } else if let Some(ip) = &spec.cluster_ip {
        out.meta("service_cluster_ip", ip.clone());
    }
    if kind == "LoadBalancer" {
        let ips: Vec<String> = svc
            .status
            .as_ref()
            .and_then(|s| s.load_balancer.as_ref())
            .and_then(|l| l.ingress.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|i| i.ip.clone())
            .collect();
        if !ips.is_empty() {
            out.meta("service_loadbalancer_ip", ips.join(","));
        } else if let Some(ip) = &spec.load_balancer_ip {
            out.meta("service_loadbalancer_ip", ip.clone());
        }
    }
    out.meta("service_type", kind);
}

/// The service role's group (`svc/<ns>/<name>`).
pub fn service_group(svc: &Service, opts: RoleOptions, lookup: &dyn ObjectLookup) -> TargetGroup {
    let (name, ns) = name_ns(&svc.metadata);
    let mut g = LabelSet::default();
    service_labels(&mut g, svc);
    if opts.attach_namespace {
        namespace_labels(&mut g, lookup.namespace(ns).as_deref());
    }
    let targets = svc
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .into_iter()
        .flatten()
        .map(|p| {
            let mut t = LabelSet::default();
            t.raw("__address__", format!("{name}.{ns}.svc:{}", p.port));
            t.meta("service_port_name", p.name.clone().unwrap_or_default());
            t.meta("service_port_number", p.port.to_string());
            t.meta(
                "service_port_protocol",
                p.protocol.clone().unwrap_or_else(|| "TCP".into()),
            );
            t.labels()
        })
        .collect();
    TargetGroup {
        source: format!("svc/{ns}/{name}"),
        targets,
        labels: g.labels(),
    }
}
