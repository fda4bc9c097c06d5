//! The service role (Prometheus's `service.go`): one target per service port, at the service's cluster DNS name.

use k8s_openapi::api::core::v1::Service;
use lookout_model::TargetGroup;

use super::meta::{LabelSet, name_ns, namespace_metadata, object_meta_labels, opt};
use crate::cache::{ObjectLookup, RoleOptions};

/// The service's group labels: namespace, `service_name` and the service's label/annotation sets (Prometheus's
/// `serviceLabels`, also added to the groups of the endpoints and endpointslice roles).
pub(crate) fn service_labels(svc: &Service) -> LabelSet {
    let mut out = LabelSet::default();
    out.meta("namespace", opt(&svc.metadata.namespace));
    object_meta_labels(&mut out, "service", &svc.metadata);
    out
}

/// `status.loadBalancer.ingress[].ip` joined with `,`, else the deprecated `spec.loadBalancerIP`.
fn load_balancer_ips(svc: &Service) -> String {
    let ips: Vec<&str> = svc
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|l| l.ingress.as_ref())
        .into_iter()
        .flatten()
        .map(|i| opt(&i.ip))
        .filter(|ip| !ip.is_empty())
        .collect();
    if ips.is_empty() {
        svc.spec
            .as_ref()
            .map(|s| opt(&s.load_balancer_ip).to_string())
            .unwrap_or_default()
    } else {
        ips.join(",")
    }
}

/// The service role's group (`svc/<ns>/<name>`).
pub fn service_group(svc: &Service, opts: RoleOptions, lookup: &dyn ObjectLookup) -> TargetGroup {
    let (name, ns) = name_ns(&svc.metadata);
    let mut g = service_labels(svc);
    if opts.attach_namespace {
        namespace_metadata(&mut g, lookup, ns);
    }
    let mut targets = Vec::new();
    if let Some(spec) = &svc.spec {
        let kind = opt(&spec.type_);
        for p in spec.ports.iter().flatten() {
            let mut t = LabelSet::default();
            t.address(join_port(name, ns, p.port));
            t.meta("service_port_name", opt(&p.name));
            t.meta("service_port_number", p.port.to_string());
            t.meta("service_port_protocol", opt(&p.protocol));
            t.meta("service_type", kind);
            if kind == "ExternalName" {
                t.meta("service_external_name", opt(&spec.external_name));
            } else {
                t.meta("service_cluster_ip", opt(&spec.cluster_ip));
            }
            if kind == "LoadBalancer" {
                t.meta("service_loadbalancer_ip", load_balancer_ips(svc));
            }
            targets.push(t.labels());
        }
    }
    TargetGroup {
        source: format!("svc/{ns}/{name}"),
        targets,
        labels: g.labels(),
    }
}

/// `<name>.<namespace>.svc:<port>`.
fn join_port(name: &str, ns: &str, port: i32) -> String {
    format!("{name}.{ns}.svc:{port}")
}
