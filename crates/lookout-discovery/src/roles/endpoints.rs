//! The endpoints and endpointslice roles: one target per address × port, with the labels of the service of the same
//! name, of the backing pod and its matching container, plus targets for the pods' container ports that no
//! endpoint port covers.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Endpoints, ObjectReference, Pod};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use lookout_model::{Labels, TargetGroup};

use super::meta::{
    LabelSet, join_host_port, name_ns, namespace_labels, node_metadata, object_labels,
};
use super::pod::{container_labels, containers, pod_labels, port_labels};
use super::service::service_labels;
use crate::cache::{ObjectLookup, RoleOptions};

/// Pods seen behind endpoints, with the container ports already covered by an endpoint target.
#[derive(Default)]
struct SeenPods {
    pods: BTreeMap<(String, String), Arc<Pod>>,
    covered: BTreeSet<(String, String, String, i32)>,
}

/// What one endpoint address contributes, shared by both roles.
struct Address<'a> {
    target_ref: Option<&'a ObjectReference>,
    node_name: Option<&'a str>,
}

fn pod_for(address: &Address<'_>, ns: &str, lookup: &dyn ObjectLookup) -> Option<Arc<Pod>> {
    let r = address.target_ref?;
    if r.kind.as_deref() != Some("Pod") {
        return None;
    }
    lookup.pod(
        r.namespace.as_deref().unwrap_or(ns),
        r.name.as_deref().unwrap_or_default(),
    )
}

/// Adds the pod, container and node labels of an address to `t` and records the covered port.
/// The object being turned into targets: its namespace and the role's options and lookups.
struct Ctx<'a> {
    ns: &'a str,
    opts: RoleOptions,
    lookup: &'a dyn ObjectLookup,
}

fn add_backing(
    t: &mut LabelSet,
    address: &Address<'_>,
    (port, protocol): (i32, &str),
    ctx: &Ctx<'_>,
    seen: &mut SeenPods,
) {
    let (ns, opts, lookup) = (ctx.ns, ctx.opts, ctx.lookup);
    if let Some(r) = address.target_ref {
        t.meta_kind_target(r);
    }
    if opts.attach_node
        && let Some(node) = address.node_name
    {
        node_metadata(t, node, lookup.node(node).as_deref());
    }
    let Some(pod) = pod_for(address, ns, lookup) else {
        return;
    };
    pod_labels(t, &pod);
    for (c, init) in containers(&pod) {
        if let Some(p) = c.ports.iter().flatten().find(|p| {
            p.container_port == port && p.protocol.as_deref().unwrap_or("TCP") == protocol
        }) {
            container_labels(t, &pod, c, init);
            port_labels(t, p);
            let (pname, pns) = name_ns(&pod.metadata);
            seen.covered
                .insert((pns.to_string(), pname.to_string(), c.name.clone(), port));
            break;
        }
    }
    let (pname, pns) = name_ns(&pod.metadata);
    seen.pods
        .insert((pns.to_string(), pname.to_string()), pod.clone());
}

impl LabelSet {
    fn meta_kind_target(&mut self, r: &ObjectReference) {
        // The role decides the prefix; both roles use `<role>_address_target_*` through `target_prefix`.
        let prefix = self
            .0
            .get("__target_prefix__")
            .cloned()
            .unwrap_or_else(|| "endpoint".into());
        self.meta(
            &format!("{prefix}_address_target_kind"),
            r.kind.clone().unwrap_or_default(),
        );
        self.meta(
            &format!("{prefix}_address_target_name"),
            r.name.clone().unwrap_or_default(),
        );
    }
}

/// Targets for the pods' container ports that no endpoint port covered.
fn uncovered_targets(seen: &SeenPods, out: &mut Vec<Labels>) {
    for ((ns, name), pod) in &seen.pods {
        let ip = pod
            .status
            .as_ref()
            .and_then(|s| s.pod_ip.clone())
            .unwrap_or_default();
        if ip.is_empty() {
            continue;
        }
        for (c, init) in containers(pod) {
            for p in c.ports.iter().flatten() {
                let key = (ns.clone(), name.clone(), c.name.clone(), p.container_port);
                if seen.covered.contains(&key) {
                    continue;
                }
                let mut t = LabelSet::default();
                t.raw("__address__", join_host_port(&ip, p.container_port));
                pod_labels(&mut t, pod);
                container_labels(&mut t, pod, c, init);
                port_labels(&mut t, p);
                out.push(t.labels());
            }
        }
    }
}

fn finish(mut t: LabelSet) -> Labels {
    t.0.remove("__target_prefix__");
    t.labels()
}

/// The endpoints role's group (`endpoints/<ns>/<name>`).
pub fn endpoints_group(
    ep: &Endpoints,
    opts: RoleOptions,
    lookup: &dyn ObjectLookup,
) -> TargetGroup {
    let (name, ns) = name_ns(&ep.metadata);
    let mut g = LabelSet::default();
    if let Some(svc) = lookup.service(ns, name) {
        service_labels(&mut g, &svc);
    }
    g.meta("namespace", ns);
    g.meta("endpoints_name", name);
    object_labels(&mut g, "endpoints", &ep.metadata);
    if opts.attach_namespace {
        namespace_labels(&mut g, lookup.namespace(ns).as_deref());
    }
    let mut seen = SeenPods::default();
    let mut targets = Vec::new();
    for subset in ep.subsets.iter().flatten() {
        let ready = subset.addresses.iter().flatten().map(|a| (a, "true"));
        let not_ready = subset
            .not_ready_addresses
            .iter()
            .flatten()
            .map(|a| (a, "false"));
        for (a, is_ready) in ready.chain(not_ready) {
            for port in subset.ports.iter().flatten() {
                let protocol = port.protocol.clone().unwrap_or_else(|| "TCP".into());
                let mut t = LabelSet::default();
                t.raw("__address__", join_host_port(&a.ip, port.port));
                t.meta("endpoint_port_name", port.name.clone().unwrap_or_default());
                t.meta("endpoint_port_protocol", protocol.clone());
                t.meta("endpoint_ready", is_ready);
                if let Some(ap) = &port.app_protocol {
                    t.meta("endpoint_port_app_protocol", ap.clone());
                }
                if let Some(h) = &a.hostname {
                    t.meta("endpoint_hostname", h.clone());
                }
                if let Some(n) = &a.node_name {
                    t.meta("endpoint_node_name", n.clone());
                }
                let address = Address {
                    target_ref: a.target_ref.as_ref(),
                    node_name: a.node_name.as_deref(),
                };
                let ctx = Ctx { ns, opts, lookup };
                add_backing(&mut t, &address, (port.port, &protocol), &ctx, &mut seen);
                targets.push(finish(t));
            }
        }
    }
    uncovered_targets(&seen, &mut targets);
    TargetGroup {
        source: format!("endpoints/{ns}/{name}"),
        targets,
        labels: g.labels(),
    }
}

/// The endpointslice role's group (`endpointslice/<ns>/<name>`).
pub fn endpointslice_group(
    es: &EndpointSlice,
    opts: RoleOptions,
    lookup: &dyn ObjectLookup,
) -> TargetGroup {
    let (name, ns) = name_ns(&es.metadata);
    let source = format!("endpointslice/{ns}/{name}");
    let mut g = LabelSet::default();
    let svc_name = es
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("kubernetes.io/service-name"))
        .cloned();
    let svc = svc_name.as_deref().and_then(|s| lookup.service(ns, s));
    if let Some(svc) = &svc {
        // Dual-stack services: only slices of the primary IP family are used.
        let families = svc.spec.as_ref().and_then(|s| s.ip_families.as_ref());
        let policy = svc
            .spec
            .as_ref()
            .and_then(|s| s.ip_family_policy.as_deref());
        if let (Some(f), Some("PreferDualStack" | "RequireDualStack")) = (families, policy)
            && f.first().is_some_and(|primary| primary != &es.address_type)
        {
            return TargetGroup {
                source,
                ..TargetGroup::default()
            };
        }
        service_labels(&mut g, svc);
    }
    g.meta("namespace", ns);
    g.meta("endpointslice_name", name);
    g.meta("endpointslice_address_type", es.address_type.clone());
    object_labels(&mut g, "endpointslice", &es.metadata);
    if opts.attach_namespace {
        namespace_labels(&mut g, lookup.namespace(ns).as_deref());
    }
    let mut seen = SeenPods::default();
    let mut targets = Vec::new();
    let no_port = [Default::default()];
    let ports: &[k8s_openapi::api::discovery::v1::EndpointPort] = match es.ports.as_deref() {
        Some(p) if !p.is_empty() => p,
        _ => &no_port,
    };
    for e in &es.endpoints {
        for addr in &e.addresses {
            for port in ports {
                let protocol = port.protocol.clone().unwrap_or_else(|| "TCP".into());
                let mut t = LabelSet::default();
                t.raw("__target_prefix__", "endpointslice");
                match port.port {
                    Some(p) => t.raw("__address__", join_host_port(addr, p)),
                    None => t.raw("__address__", addr.clone()),
                }
                if let Some(p) = port.port {
                    t.meta("endpointslice_port", p.to_string());
                    t.meta("endpointslice_port_protocol", protocol.clone());
                }
                if let Some(n) = &port.name {
                    t.meta("endpointslice_port_name", n.clone());
                }
                if let Some(ap) = &port.app_protocol {
                    t.meta("endpointslice_port_app_protocol", ap.clone());
                }
                if let Some(c) = &e.conditions {
                    for (k, v) in [
                        ("ready", c.ready),
                        ("serving", c.serving),
                        ("terminating", c.terminating),
                    ] {
                        if let Some(v) = v {
                            t.meta(
                                &format!("endpointslice_endpoint_conditions_{k}"),
                                v.to_string(),
                            );
                        }
                    }
                }
                if let Some(h) = &e.hostname {
                    t.meta("endpointslice_endpoint_hostname", h.clone());
                }
                if let Some(n) = &e.node_name {
                    t.meta("endpointslice_endpoint_node_name", n.clone());
                }
                if let Some(z) = &e.zone {
                    t.meta("endpointslice_endpoint_zone", z.clone());
                }
                for (k, v) in e.deprecated_topology.iter().flatten() {
                    let k = super::meta::sanitize(k);
                    t.meta(&format!("endpointslice_endpoint_topology_{k}"), v.clone());
                    t.meta(
                        &format!("endpointslice_endpoint_topology_present_{k}"),
                        "true",
                    );
                }
                let address = Address {
                    target_ref: e.target_ref.as_ref(),
                    node_name: e.node_name.as_deref(),
                };
                let ctx = Ctx { ns, opts, lookup };
                add_backing(
                    &mut t,
                    &address,
                    (port.port.unwrap_or(0), &protocol),
                    &ctx,
                    &mut seen,
                );
                targets.push(finish(t));
            }
        }
    }
    uncovered_targets(&seen, &mut targets);
    TargetGroup {
        source,
        targets,
        labels: g.labels(),
    }
}
