//! The node role (Prometheus's `node.go`): one target per node, at its preferred address and kubelet port.

use k8s_openapi::api::core::v1::Node;
use lookout_model::TargetGroup;

use super::meta::{LabelSet, join_host_port, object_meta_labels, opt, sanitize};

/// Address types in the order Prometheus picks the target address from.
const ADDRESS_ORDER: [&str; 6] = [
    "InternalIP",
    "InternalDNS",
    "ExternalIP",
    "ExternalDNS",
    "LegacyHostIP",
    "Hostname",
];

/// The node's preferred address (the first address of the first type present in [`ADDRESS_ORDER`]).
fn node_address(node: &Node) -> Option<&str> {
    let addrs = node.status.as_ref()?.addresses.as_ref()?;
    ADDRESS_ORDER
        .iter()
        .find_map(|t| addrs.iter().find(|a| a.type_ == *t))
        .map(|a| a.address.as_str())
}

/// The node role's group (`node/<name>`); without any address, the group has no labels and no target (Prometheus
/// sends nothing at all then).
pub fn node_group(node: &Node) -> TargetGroup {
    let name = opt(&node.metadata.name);
    let source = format!("node/{name}");
    let Some(addr) = node_address(node) else {
        return TargetGroup {
            source,
            ..TargetGroup::default()
        };
    };
    let status = node.status.as_ref();

    let mut g = LabelSet::default();
    g.meta(
        "node_provider_id",
        node.spec
            .as_ref()
            .map(|s| opt(&s.provider_id))
            .unwrap_or_default(),
    );
    for c in status
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
    {
        let ty = sanitize(&c.type_.to_lowercase());
        g.meta(&format!("node_condition_{ty}"), c.status.to_lowercase());
    }
    object_meta_labels(&mut g, "node", &node.metadata);

    // Go's zero value when the kubelet endpoint is not reported.
    let port = status
        .and_then(|s| s.daemon_endpoints.as_ref())
        .and_then(|d| d.kubelet_endpoint.as_ref())
        .map_or(0, |e| e.port);
    let mut t = LabelSet::default();
    t.address(join_host_port(addr, port));
    t.raw("instance", name);
    // The first address of each type, on the target as in Prometheus.
    for a in status
        .and_then(|s| s.addresses.as_ref())
        .into_iter()
        .flatten()
        .rev()
    {
        t.meta(
            &sanitize(&format!("node_address_{}", a.type_)),
            a.address.as_str(),
        );
    }
    TargetGroup {
        source,
        targets: vec![t.labels()],
        labels: g.labels(),
    }
}
