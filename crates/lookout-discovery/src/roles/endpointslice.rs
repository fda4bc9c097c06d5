//! The endpointslice role (Prometheus's `endpointslice.go`, `discovery.k8s.io/v1`): one target per endpoint × slice
//! port × address whatever the endpoint's conditions, with the labels of the service named by the slice's
//! `kubernetes.io/service-name` label, of the backing pod and its matching container, plus targets for the pods'
//! container ports that no slice port covers.

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointPort, EndpointSlice};
use lookout_model::TargetGroup;

use super::backing::{ProtocolFrom, SeenPods, resolve_pod};
use super::meta::{
    LabelSet, join_host_port, name_ns, namespace_metadata, node_metadata, object_meta_labels, opt,
    sanitize,
};
use super::service::service_labels;
use crate::cache::{ObjectLookup, RoleOptions};

/// The label naming a slice's service.
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// The endpointslice role's group (`endpointslice/<ns>/<name>`). The secondary slice of a dual-stack service keeps
/// its group labels but has no targets (they would duplicate the primary slice's).
pub fn endpointslice_group(
    es: &EndpointSlice,
    opts: RoleOptions,
    lookup: &dyn ObjectLookup,
) -> TargetGroup {
    let (name, ns) = name_ns(&es.metadata);
    let mut g = LabelSet::default();
    g.meta("namespace", ns);
    g.meta("endpointslice_address_type", es.address_type.as_str());
    object_meta_labels(&mut g, "endpointslice", &es.metadata);
    let svc = es
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(SERVICE_NAME_LABEL))
        .and_then(|s| lookup.service(ns, s));
    if let Some(svc) = &svc {
        g.merge(service_labels(svc));
    }
    if opts.attach_namespace {
        namespace_metadata(&mut g, lookup, ns);
    }
    let mut group = TargetGroup {
        source: format!("endpointslice/{ns}/{name}"),
        targets: Vec::new(),
        labels: g.labels(),
    };
    if svc.is_some_and(|s| non_primary_family(&s, es)) {
        return group;
    }

    let mut seen = SeenPods::default();
    for e in &es.endpoints {
        for port in es.ports.iter().flatten() {
            for addr in &e.addresses {
                let mut t = endpoint_target(addr, e, port, opts, lookup);
                if let Some(pod) = resolve_pod(e.target_ref.as_ref(), lookup) {
                    seen.add(&mut t, pod, port.port, ProtocolFrom::Container);
                }
                group.targets.push(t.labels());
            }
        }
    }
    seen.uncovered_targets(&mut group.targets);
    group
}

/// Whether the slice's address type is not the primary IP family of its dual-stack service.
fn non_primary_family(svc: &Service, es: &EndpointSlice) -> bool {
    let Some(spec) = &svc.spec else { return false };
    let dual = matches!(
        spec.ip_family_policy.as_deref(),
        Some("PreferDualStack" | "RequireDualStack")
    );
    let primary = spec.ip_families.as_ref().and_then(|f| f.first());
    dual && primary.is_some_and(|p| *p != es.address_type)
}

/// The labels of one address × port, before any pod labels.
fn endpoint_target(
    addr: &str,
    e: &Endpoint,
    port: &EndpointPort,
    opts: RoleOptions,
    lookup: &dyn ObjectLookup,
) -> LabelSet {
    let mut t = LabelSet::default();
    match port.port {
        Some(p) => {
            t.address(join_host_port(addr, p));
            t.meta("endpointslice_port", p.to_string());
        }
        None => t.address(addr),
    }
    let optional = [
        ("port_name", &port.name),
        ("port_protocol", &port.protocol),
        ("port_app_protocol", &port.app_protocol),
        ("endpoint_hostname", &e.hostname),
        ("endpoint_node_name", &e.node_name),
        ("endpoint_zone", &e.zone),
    ];
    for (label, value) in optional {
        if let Some(v) = value {
            t.meta(&format!("endpointslice_{label}"), v.as_str());
        }
    }
    if let Some(c) = &e.conditions {
        let conditions = [
            ("ready", c.ready),
            ("serving", c.serving),
            ("terminating", c.terminating),
        ];
        for (k, v) in conditions {
            if let Some(v) = v {
                t.meta(
                    &format!("endpointslice_endpoint_conditions_{k}"),
                    v.to_string(),
                );
            }
        }
    }
    if let Some(r) = &e.target_ref {
        t.meta("endpointslice_address_target_kind", opt(&r.kind));
        t.meta("endpointslice_address_target_name", opt(&r.name));
    }
    for (k, v) in e.deprecated_topology.iter().flatten() {
        let k = sanitize(k);
        t.meta(&format!("endpointslice_endpoint_topology_{k}"), v.as_str());
        t.meta(
            &format!("endpointslice_endpoint_topology_present_{k}"),
            "true",
        );
    }
    if opts.attach_node {
        // A Node target reference, else the endpoint's node name.
        let node = match &e.target_ref {
            Some(r) if r.kind.as_deref() == Some("Node") => Some(opt(&r.name)),
            _ => e.node_name.as_deref(),
        };
        node_metadata(&mut t, lookup, node);
    }
    t
}
