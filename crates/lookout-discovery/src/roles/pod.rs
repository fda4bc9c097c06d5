//! The pod role (Prometheus's `pod.go`): one target per declared container port, regular containers first, then
//! init containers; a container without ports gives one target at the bare pod IP.

use k8s_openapi::api::core::v1::{Container, ContainerPort, Pod};
use lookout_model::TargetGroup;

use super::meta::{
    LabelSet, join_host_port, name_ns, namespace_metadata, node_metadata, object_meta_labels, opt,
};
use crate::cache::{ObjectLookup, RoleOptions};

/// The pod's labels (Prometheus's `podLabels`: no namespace), also added to pod-backed endpoint targets.
pub(crate) fn pod_labels(pod: &Pod) -> LabelSet {
    let mut out = LabelSet::default();
    let status = pod.status.as_ref();
    out.meta("pod_ip", status.map(|s| opt(&s.pod_ip)).unwrap_or_default());
    out.meta("pod_ready", pod_ready(pod));
    out.meta(
        "pod_phase",
        status.map(|s| opt(&s.phase)).unwrap_or_default(),
    );
    out.meta("pod_node_name", pod_node(pod));
    out.meta(
        "pod_host_ip",
        status.map(|s| opt(&s.host_ip)).unwrap_or_default(),
    );
    out.meta("pod_uid", opt(&pod.metadata.uid));
    object_meta_labels(&mut out, "pod", &pod.metadata);
    // The first owner reference with `controller: true`.
    let owners = pod.metadata.owner_references.iter().flatten();
    if let Some(owner) = owners.into_iter().find(|o| o.controller == Some(true)) {
        out.meta("pod_controller_kind", owner.kind.as_str());
        out.meta("pod_controller_name", owner.name.as_str());
    }
    out
}

/// The status of the `Ready` condition, lower-cased; `unknown` without one.
fn pod_ready(pod: &Pod) -> String {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
        .map_or_else(|| "unknown".into(), |c| c.status.to_lowercase())
}

/// `spec.nodeName`, empty when unscheduled.
fn pod_node(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .map(|s| opt(&s.node_name))
        .unwrap_or_default()
}

/// The pod IP, empty when the pod has none (starting or evicted).
pub(crate) fn pod_ip(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .map(|s| opt(&s.pod_ip))
        .unwrap_or_default()
}

/// The containers in Prometheus's order (regular, then init), each with whether it is an init container.
pub(crate) fn containers(pod: &Pod) -> impl Iterator<Item = (&Container, bool)> {
    let spec = pod.spec.as_ref();
    let regular = spec
        .into_iter()
        .flat_map(|s| s.containers.iter().map(|c| (c, false)));
    let init = spec
        .into_iter()
        .flat_map(|s| s.init_containers.iter().flatten().map(|c| (c, true)));
    regular.chain(init)
}

/// `pod_container_name`, `_image` and `_init`.
pub(crate) fn container_labels(t: &mut LabelSet, c: &Container, init: bool) {
    t.meta("pod_container_name", c.name.as_str());
    t.meta("pod_container_image", opt(&c.image));
    t.meta("pod_container_init", init.to_string());
}

/// `pod_container_port_name`, `_number` and `_protocol` (the protocol is passed separately: the endpoints role
/// takes it from the endpoint port).
pub(crate) fn port_labels(t: &mut LabelSet, p: &ContainerPort, protocol: &str) {
    t.meta("pod_container_port_name", opt(&p.name));
    t.meta("pod_container_port_number", p.container_port.to_string());
    t.meta("pod_container_port_protocol", protocol);
}

/// `<runtime>://<id>` from the container's status (init statuses for init containers), empty when unknown.
fn container_id<'a>(pod: &'a Pod, name: &str, init: bool) -> &'a str {
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
        .map(|s| opt(&s.container_id))
        .unwrap_or_default()
}

/// The pod role's group (`pod/<ns>/<name>`). Empty when the pod has no IP yet, and with `attach_node` when its node
/// is not known (filtered out by the node selectors), as in Prometheus.
pub fn pod_group(pod: &Pod, opts: RoleOptions, lookup: &dyn ObjectLookup) -> TargetGroup {
    let (name, ns) = name_ns(&pod.metadata);
    let source = format!("pod/{ns}/{name}");
    let ip = pod_ip(pod);
    let node = pod_node(pod);
    if ip.is_empty() || (opts.attach_node && lookup.node(node).is_none()) {
        return TargetGroup {
            source,
            ..TargetGroup::default()
        };
    }
    let mut g = pod_labels(pod);
    g.meta("namespace", ns);
    if opts.attach_node {
        node_metadata(&mut g, lookup, Some(node));
    }
    if opts.attach_namespace {
        namespace_metadata(&mut g, lookup, ns);
    }
    let mut targets = Vec::new();
    for (c, init) in containers(pod) {
        let ports = c.ports.as_deref().unwrap_or_default();
        let mut base = LabelSet::default();
        container_labels(&mut base, c, init);
        base.meta("pod_container_id", container_id(pod, &c.name, init));
        if ports.is_empty() {
            // No port: the bare pod IP; relabeling has to add one.
            base.address(ip);
            targets.push(base.labels());
            continue;
        }
        for p in ports {
            let mut t = base.clone();
            t.address(join_host_port(ip, p.container_port));
            port_labels(&mut t, p, opt(&p.protocol));
            targets.push(t.labels());
        }
    }
    TargetGroup {
        source,
        targets,
        labels: g.labels(),
    }
}
