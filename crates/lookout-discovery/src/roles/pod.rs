//! The pod role: one target per declared container port (regular containers, then init containers); a container
//! without ports gives one target at the bare pod IP.

use k8s_openapi::api::core::v1::{Container, ContainerPort, Pod};
use lookout_model::TargetGroup;

use super::meta::{
    LabelSet, join_host_port, name_ns, namespace_labels, node_metadata, object_labels,
};
use crate::cache::{ObjectLookup, RoleOptions};

/// The pod-wide labels (also added to pod-backed endpoint targets).
pub(crate) fn pod_labels(out: &mut LabelSet, pod: &Pod) {
    let (name, ns) = name_ns(&pod.metadata);
    out.meta("namespace", ns);
    out.meta("pod_name", name);
    let status = pod.status.as_ref();
    out.meta(
        "pod_ip",
        status.and_then(|s| s.pod_ip.clone()).unwrap_or_default(),
    );
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
        .map(|c| c.status.to_lowercase())
        .unwrap_or_else(|| "unknown".into());
    out.meta("pod_ready", ready);
    out.meta(
        "pod_phase",
        status.and_then(|s| s.phase.clone()).unwrap_or_default(),
    );
    out.meta(
        "pod_node_name",
        pod.spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default(),
    );
    out.meta(
        "pod_host_ip",
        status.and_then(|s| s.host_ip.clone()).unwrap_or_default(),
    );
    out.meta("pod_uid", pod.metadata.uid.clone().unwrap_or_default());
    if let Some(owner) = pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
    {
        out.meta("pod_controller_kind", owner.kind.clone());
        out.meta("pod_controller_name", owner.name.clone());
    }
    object_labels(out, "pod", &pod.metadata);
}

/// The containers in Prometheus's order, with whether each is an init container.
pub(crate) fn containers(pod: &Pod) -> impl Iterator<Item = (&Container, bool)> {
    let spec = pod.spec.as_ref();
    spec.into_iter()
        .flat_map(|s| s.containers.iter().map(|c| (c, false)))
        .chain(
            spec.into_iter()
                .flat_map(|s| s.init_containers.iter().flatten().map(|c| (c, true))),
        )
}

/// `<runtime>://<id>` from the container's status, empty when unknown.
fn container_id(pod: &Pod, name: &str, init: bool) -> String {
    let status = pod.status.as_ref();
    let statuses = if init {
        status.and_then(|s| s.init_container_statuses.as_ref())
    } else {
        status.and_then(|s| s.container_statuses.as_ref())
    };
    statuses
        .into_iter()
        .flatten()
        .find(|s| s.name == name)
        .and_then(|s| s.container_id.clone())
        .unwrap_or_default()
}

/// The per-container labels.
pub(crate) fn container_labels(out: &mut LabelSet, pod: &Pod, c: &Container, init: bool) {
    out.meta("pod_container_name", c.name.clone());
    out.meta("pod_container_image", c.image.clone().unwrap_or_default());
    out.meta("pod_container_id", container_id(pod, &c.name, init));
    out.meta("pod_container_init", if init { "true" } else { "false" });
}

/// The per-port labels.
pub(crate) fn port_labels(out: &mut LabelSet, p: &ContainerPort) {
    out.meta(
        "pod_container_port_name",
        p.name.clone().unwrap_or_default(),
    );
    out.meta("pod_container_port_number", p.container_port.to_string());
    out.meta(
        "pod_container_port_protocol",
        p.protocol.clone().unwrap_or_else(|| "TCP".into()),
    );
}

/// The pod role's group (`pod/<ns>/<name>`); empty when the pod has no IP yet.
pub fn pod_group(pod: &Pod, opts: RoleOptions, lookup: &dyn ObjectLookup) -> TargetGroup {
    let (name, ns) = name_ns(&pod.metadata);
    let source = format!("pod/{ns}/{name}");
    let ip = pod
        .status
        .as_ref()
        .and_then(|s| s.pod_ip.clone())
        .unwrap_or_default();
    if ip.is_empty() {
        return TargetGroup {
            source,
            ..TargetGroup::default()
        };
    }
    let mut g = LabelSet::default();
    pod_labels(&mut g, pod);
    if opts.attach_node {
        let node = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default();
        node_metadata(&mut g, &node, lookup.node(&node).as_deref());
    }
    if opts.attach_namespace {
        namespace_labels(&mut g, lookup.namespace(ns).as_deref());
    }
    let mut targets = Vec::new();
    for (c, init) in containers(pod) {
        let ports = c.ports.as_deref().unwrap_or_default();
        if ports.is_empty() {
            let mut t = LabelSet::default();
            t.raw("__address__", ip.clone());
            container_labels(&mut t, pod, c, init);
            targets.push(t.labels());
        }
        for p in ports {
            let mut t = LabelSet::default();
            t.raw("__address__", join_host_port(&ip, p.container_port));
            container_labels(&mut t, pod, c, init);
            port_labels(&mut t, p);
            targets.push(t.labels());
        }
    }
    TargetGroup {
        source,
        targets,
        labels: g.labels(),
    }
}
