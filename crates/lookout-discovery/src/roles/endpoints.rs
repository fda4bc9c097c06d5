//! The endpoints role (Prometheus's `endpoints.go`): one target per endpoints port × address (ready addresses, then
//! not-ready ones), with the labels of the service of the same name, of the backing pod and its matching container,
//! plus targets for the pods' container ports that no endpoint port covers.

use k8s_openapi::api::core::v1::{EndpointAddress, EndpointPort, Endpoints};
use lookout_model::TargetGroup;

use super::backing::{ProtocolFrom, SeenPods, resolve_pod};
use super::meta::{
    LabelSet, join_host_port, name_ns, namespace_metadata, node_metadata, object_meta_labels, opt,
};
use super::service::service_labels;
use crate::cache::{ObjectLookup, RoleOptions};

/// The endpoints role's group (`endpoints/<ns>/<name>`).
pub fn endpoints_group(
    ep: &Endpoints,
    opts: RoleOptions,
    lookup: &dyn ObjectLookup,
) -> TargetGroup {
    let (name, ns) = name_ns(&ep.metadata);
    let mut g = LabelSet::default();
    g.meta("namespace", ns);
    if let Some(svc) = lookup.service(ns, name) {
        g.merge(service_labels(&svc));
    }
    object_meta_labels(&mut g, "endpoints", &ep.metadata);
    if opts.attach_namespace {
        namespace_metadata(&mut g, lookup, ns);
    }

    let mut seen = SeenPods::default();
    let mut targets = Vec::new();
    for subset in ep.subsets.iter().flatten() {
        for port in subset.ports.iter().flatten() {
            let ready = subset.addresses.iter().flatten().map(|a| (a, "true"));
            let not_ready = subset
                .not_ready_addresses
                .iter()
                .flatten()
                .map(|a| (a, "false"));
            for (addr, is_ready) in ready.chain(not_ready) {
                let mut t = endpoint_target(addr, port, is_ready, opts, lookup);
                if let Some(pod) = resolve_pod(addr.target_ref.as_ref(), lookup) {
                    let protocol = ProtocolFrom::Endpoint(opt(&port.protocol));
                    seen.add(&mut t, pod, Some(port.port), protocol);
                }
                targets.push(t.labels());
            }
        }
    }
    seen.uncovered_targets(&mut targets);
    TargetGroup {
        source: format!("endpoints/{ns}/{name}"),
        targets,
        labels: g.labels(),
    }
}

/// The labels of one address × port, before any pod labels.
fn endpoint_target(
    addr: &EndpointAddress,
    port: &EndpointPort,
    ready: &str,
    opts: RoleOptions,
    lookup: &dyn ObjectLookup,
) -> LabelSet {
    let mut t = LabelSet::default();
    t.address(join_host_port(&addr.ip, port.port));
    t.meta("endpoint_port_name", opt(&port.name));
    t.meta("endpoint_port_protocol", opt(&port.protocol));
    t.meta("endpoint_ready", ready);
    if let Some(r) = &addr.target_ref {
        t.meta("endpoint_address_target_kind", opt(&r.kind));
        t.meta("endpoint_address_target_name", opt(&r.name));
    }
    if let Some(n) = &addr.node_name {
        t.meta("endpoint_node_name", n.as_str());
    }
    t.meta("endpoint_hostname", opt(&addr.hostname));
    if opts.attach_node {
        // The address's node name, else a Node target reference.
        let node = addr.node_name.as_deref().or_else(|| {
            let r = addr.target_ref.as_ref()?;
            (r.kind.as_deref() == Some("Node")).then(|| opt(&r.name))
        });
        node_metadata(&mut t, lookup, node);
    }
    t
}
