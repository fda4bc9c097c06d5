//! Exact label sets per role for realistic objects: the labels Prometheus's discovery (`discovery/kubernetes/*.go`)
//! produces for them, group and targets compared in full.

mod endpoints;
mod endpointslice;
mod pod_node;
mod service_ingress;

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Namespace, Node, Pod, Service};
use lookout_model::{Labels, TargetGroup};
use serde_json::json;

use super::meta::PREFIX;
use crate::cache::{ObjectLookup, RoleOptions};

/// Related objects over hash maps.
#[derive(Default)]
struct Lookup {
    pods: HashMap<(String, String), Arc<Pod>>,
    services: HashMap<(String, String), Arc<Service>>,
    nodes: HashMap<String, Arc<Node>>,
    namespaces: HashMap<String, Arc<Namespace>>,
}

impl ObjectLookup for Lookup {
    fn pod(&self, ns: &str, name: &str) -> Option<Arc<Pod>> {
        self.pods.get(&(ns.into(), name.into())).cloned()
    }
    fn service(&self, ns: &str, name: &str) -> Option<Arc<Service>> {
        self.services.get(&(ns.into(), name.into())).cloned()
    }
    fn node(&self, name: &str) -> Option<Arc<Node>> {
        self.nodes.get(name).cloned()
    }
    fn namespace(&self, name: &str) -> Option<Arc<Namespace>> {
        self.namespaces.get(name).cloned()
    }
}

impl Lookup {
    /// The fixtures below: pods `shop/web-1` and `shop/web-2`, service `shop/web`, node `n1`, namespace `shop`.
    fn full() -> Self {
        let mut l = Lookup::default();
        l.add_pod(web_pod());
        l.add_pod(web_pod2());
        l.add_service(web_service());
        l.nodes.insert("n1".into(), Arc::new(node_n1()));
        l.namespaces
            .insert("shop".into(), Arc::new(shop_namespace()));
        l
    }

    fn add_pod(&mut self, p: Pod) {
        let key = (
            p.metadata.namespace.clone().unwrap(),
            p.metadata.name.clone().unwrap(),
        );
        self.pods.insert(key, Arc::new(p));
    }

    fn add_service(&mut self, s: Service) {
        let key = (
            s.metadata.namespace.clone().unwrap(),
            s.metadata.name.clone().unwrap(),
        );
        self.services.insert(key, Arc::new(s));
    }
}

const NO_OPTS: RoleOptions = RoleOptions {
    attach_node: false,
    attach_namespace: false,
};
const ALL_OPTS: RoleOptions = RoleOptions {
    attach_node: true,
    attach_namespace: true,
};

fn from<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).unwrap()
}

/// Asserts that `actual` is exactly `expected`, given as `name=value` with `~` standing for `__meta_kubernetes_`.
#[track_caller]
fn assert_labels<S: AsRef<str>>(actual: &Labels, expected: &[S]) {
    let mut got: Vec<String> = actual
        .iter()
        .map(|l| format!("{}={}", l.name, l.value))
        .collect();
    let mut want: Vec<String> = expected
        .iter()
        .map(|e| e.as_ref().replacen('~', PREFIX, 1))
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
}

/// Asserts the group's source, group labels and every target's labels in order.
#[track_caller]
fn assert_group<G: AsRef<str>, T: AsRef<str>>(
    g: &TargetGroup,
    source: &str,
    group: &[G],
    targets: &[Vec<T>],
) {
    assert_eq!(g.source, source);
    assert_labels(&g.labels, group);
    let addrs: Vec<&str> = g
        .targets
        .iter()
        .map(|t| t.get("__address__").unwrap_or("-"))
        .collect();
    assert_eq!(g.targets.len(), targets.len(), "targets: {addrs:?}");
    for (t, want) in g.targets.iter().zip(targets) {
        assert_labels(t, want);
    }
}

/// `base` followed by `extra`.
fn with<'a>(base: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    base.iter().chain(extra).copied().collect()
}

/// A ReplicaSet pod with two containers (named ports), a port-less sidecar and an init container with a port.
fn web_pod() -> Pod {
    from(json!({
        "metadata": {"name": "web-1", "namespace": "shop", "uid": "5f0c2d1e-uid",
            "labels": {"app.kubernetes.io/name": "web", "pod-template-hash": "7d9f"},
            "annotations": {"prometheus.io/scrape": "true"},
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "ConfigMap", "name": "not-a-controller", "uid": "c"},
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d9f", "uid": "r", "controller": true}]},
        "spec": {"nodeName": "n1",
            "containers": [
                {"name": "app", "image": "registry.example/web:1.2",
                 "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                           {"name": "metrics", "containerPort": 9100, "protocol": "TCP"}]},
                {"name": "proxy", "image": "envoy:1.31",
                 "ports": [{"name": "admin", "containerPort": 15000, "protocol": "TCP"},
                           {"name": "dns", "containerPort": 5353, "protocol": "UDP"}]},
                {"name": "logs", "image": "fluent-bit:3"}],
            "initContainers": [{"name": "migrate", "image": "registry.example/migrate:1.2",
                "ports": [{"name": "debug", "containerPort": 7000, "protocol": "TCP"}]}]},
        "status": {"phase": "Running", "podIP": "10.1.0.5", "hostIP": "192.168.1.10",
            "conditions": [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {"name": "proxy", "containerID": "containerd://bbb", "image": "envoy:1.31", "imageID": "i", "ready": true, "restartCount": 0},
                {"name": "app", "containerID": "containerd://aaa", "image": "registry.example/web:1.2", "imageID": "i", "ready": true, "restartCount": 2}],
            "initContainerStatuses": [
                {"name": "migrate", "containerID": "containerd://iii", "image": "registry.example/migrate:1.2", "imageID": "i", "ready": false, "restartCount": 0}]}
    }))
}

/// The pod labels of [`web_pod`] (Prometheus's `podLabels`, without the namespace).
const WEB_POD: &[&str] = &[
    "~pod_name=web-1",
    "~pod_ip=10.1.0.5",
    "~pod_ready=true",
    "~pod_phase=Running",
    "~pod_node_name=n1",
    "~pod_host_ip=192.168.1.10",
    "~pod_uid=5f0c2d1e-uid",
    "~pod_label_app_kubernetes_io_name=web",
    "~pod_labelpresent_app_kubernetes_io_name=true",
    "~pod_label_pod_template_hash=7d9f",
    "~pod_labelpresent_pod_template_hash=true",
    "~pod_annotation_prometheus_io_scrape=true",
    "~pod_annotationpresent_prometheus_io_scrape=true",
    "~pod_controller_kind=ReplicaSet",
    "~pod_controller_name=web-7d9f",
];

/// A node with every address type (two InternalIPs), several conditions and a kubelet port.
fn node_n1() -> Node {
    from(json!({
        "metadata": {"name": "n1", "labels": {"kubernetes.io/arch": "arm64", "topology.kubernetes.io/zone": "z1"},
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"}},
        "spec": {"providerID": "k3s://n1"},
        "status": {
            "addresses": [
                {"type": "Hostname", "address": "n1"},
                {"type": "ExternalIP", "address": "203.0.113.7"},
                {"type": "InternalIP", "address": "192.168.1.10"},
                {"type": "InternalIP", "address": "fd00::10"},
                {"type": "ExternalDNS", "address": "n1.example.org"},
                {"type": "InternalDNS", "address": "n1.cluster.local"}],
            "conditions": [
                {"type": "Ready", "status": "True"},
                {"type": "MemoryPressure", "status": "False"},
                {"type": "DiskPressure", "status": "Unknown"},
                {"type": "example.com/KernelDeadlock", "status": "False"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}
    }))
}

/// The labels `attach_metadata.node` adds for [`node_n1`].
const NODE_N1: &[&str] = &[
    "~node_name=n1",
    "~node_label_kubernetes_io_arch=arm64",
    "~node_labelpresent_kubernetes_io_arch=true",
    "~node_label_topology_kubernetes_io_zone=z1",
    "~node_labelpresent_topology_kubernetes_io_zone=true",
    "~node_annotation_node_alpha_kubernetes_io_ttl=0",
    "~node_annotationpresent_node_alpha_kubernetes_io_ttl=true",
];

fn shop_namespace() -> Namespace {
    from(json!({"metadata": {"name": "shop",
        "labels": {"kubernetes.io/metadata.name": "shop", "team": "payments"},
        "annotations": {"owner": "alice@example.org"}}}))
}

/// The labels `attach_metadata.namespace` adds for [`shop_namespace`].
const SHOP_NAMESPACE: &[&str] = &[
    "~namespace_label_kubernetes_io_metadata_name=shop",
    "~namespace_labelpresent_kubernetes_io_metadata_name=true",
    "~namespace_label_team=payments",
    "~namespace_labelpresent_team=true",
    "~namespace_annotation_owner=alice@example.org",
    "~namespace_annotationpresent_owner=true",
];

/// A ClusterIP service in front of [`web_pod`].
fn web_service() -> Service {
    from(json!({
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"},
            "annotations": {"prometheus.io/port": "9100"}},
        "spec": {"type": "ClusterIP", "clusterIP": "10.43.0.7", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
            "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                      {"name": "metrics", "port": 9100, "targetPort": "metrics", "protocol": "TCP"}]}
    }))
}

/// The group labels of [`web_service`] (Prometheus's `serviceLabels`, on endpoints and endpointslice groups).
const WEB_SERVICE: &[&str] = &[
    "~namespace=shop",
    "~service_name=web",
    "~service_label_app=web",
    "~service_labelpresent_app=true",
    "~service_annotation_prometheus_io_port=9100",
    "~service_annotationpresent_prometheus_io_port=true",
];

/// A second, not ready replica of [`web_pod`] on node `n2` (which the lookup does not know).
fn web_pod2() -> Pod {
    let mut p = web_pod();
    p.metadata.name = Some("web-2".into());
    p.metadata.uid = Some("6a1d3e2f-uid".into());
    p.spec.as_mut().unwrap().node_name = Some("n2".into());
    let status = p.status.as_mut().unwrap();
    status.pod_ip = Some("10.1.0.6".into());
    status.host_ip = Some("192.168.1.11".into());
    status.conditions.as_mut().unwrap()[1].status = "False".into();
    p
}

/// The pod labels of [`web_pod2`].
fn web_pod2_labels() -> Vec<&'static str> {
    WEB_POD
        .iter()
        .map(|l| match *l {
            "~pod_name=web-1" => "~pod_name=web-2",
            "~pod_ip=10.1.0.5" => "~pod_ip=10.1.0.6",
            "~pod_ready=true" => "~pod_ready=false",
            "~pod_node_name=n1" => "~pod_node_name=n2",
            "~pod_host_ip=192.168.1.10" => "~pod_host_ip=192.168.1.11",
            "~pod_uid=5f0c2d1e-uid" => "~pod_uid=6a1d3e2f-uid",
            other => other,
        })
        .collect()
}

/// The targets the endpoints and endpointslice roles add for the container ports of [`web_pod`] (`pod` labels
/// given) that endpoint ports 8080 and 9100 do not cover: no container id, no endpoint labels.
fn uncovered_web_targets(ip: &str, pod: &[&str]) -> Vec<Vec<String>> {
    let port =
        |container: &str, image: &str, init: bool, name: &str, number: u16, protocol: &str| {
            let mut t = vec![
                format!("__address__={ip}:{number}"),
                format!("~pod_container_name={container}"),
                format!("~pod_container_image={image}"),
                format!("~pod_container_init={init}"),
                format!("~pod_container_port_name={name}"),
                format!("~pod_container_port_number={number}"),
                format!("~pod_container_port_protocol={protocol}"),
            ];
            t.extend(pod.iter().map(|s| s.to_string()));
            t
        };
    vec![
        port("proxy", "envoy:1.31", false, "admin", 15000, "TCP"),
        port("proxy", "envoy:1.31", false, "dns", 5353, "UDP"),
        port(
            "migrate",
            "registry.example/migrate:1.2",
            true,
            "debug",
            7000,
            "TCP",
        ),
    ]
}

/// The container labels an endpoint target on port 8080 (`http`) or 9100 (`metrics`) of [`web_pod`] gets.
fn app_container(port: u16) -> Vec<String> {
    let name = if port == 8080 { "http" } else { "metrics" };
    vec![
        "~pod_container_name=app".into(),
        "~pod_container_image=registry.example/web:1.2".into(),
        "~pod_container_init=false".into(),
        format!("~pod_container_port_name={name}"),
        format!("~pod_container_port_number={port}"),
        "~pod_container_port_protocol=TCP".into(),
    ]
}
