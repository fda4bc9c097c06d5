//! The node role: one target per node, at its kubelet port.

use k8s_openapi::api::core::v1::Node;
use lookout_model::TargetGroup;

use super::meta::{LabelSet, join_host_port, object_labels};

/// Address types in the order Prometheus picks the target address from.
const ADDRESS_ORDER: [&str; 6] = [
    "InternalIP",
    "InternalDNS",
    "ExternalIP",
    "ExternalDNS",
    "LegacyHostIP",
    "Hostname",
];

/// The node's preferred address (InternalIP first), if it has any.
pub(crate) fn node_address(node: &Node) -> Option<String> {
    let addrs = node.status.as_ref()?.addresses.as_ref()?;
    ADDRESS_ORDER.iter().find_map(|t| {
        addrs
            .iter()
            .find(|a| a.type_ == *t)
            .map(|a| a.address.clone())
    })
}

/// The node role's group (`node/<name>`).
pub fn node_group(node: &Node) -> TargetGroup {
    let name = node.metadata.name.clone().unwrap_or_default();
    let source = format!("node/{name}");
    let Some(addr) = node_address(node) else {
        return TargetGroup {
            source,
            ..TargetGroup::default()
        };
    };
    let mut g = LabelSet::default();
    g.meta("node_name", name.clone());
    if let Some(p) = node.spec.as_ref().and_then(|s| s.provider_id.clone()) {
        g.meta("node_provider_id", p);
    }
    object_labels(&mut g, "node", &node.metadata);
    let status = node.status.as_ref();
    for a in status
        .and_then(|s| s.addresses.as_ref())
        .into_iter()
        .flatten()
    {
        let key = format!("__meta_kubernetes_node_address_{}", a.type_);
        g.0.entry(key).or_insert_with(|| a.address.clone());
    }
    for c in status
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
    {
        g.meta(
            &format!(
                "node_condition_{}",
                super::meta::sanitize(&c.type_.to_lowercase())
            ),
            c.status.to_lowercase(),
        );
    }
    let port = status
        .and_then(|s| s.daemon_endpoints.as_ref())
        .and_then(|d| d.kubelet_endpoint.as_ref())
        .map(|e| e.port)
        .unwrap_or(10250);
    let mut t = LabelSet::default();
    t.raw("__address__", join_host_port(&addr, port));
    t.raw("instance", name);
    TargetGroup {
        source,
        targets: vec![t.labels()],
        labels: g.labels(),
    }
}
