//! Exact label sets per role for realistic objects (the labels Prometheus's discovery produces for them).

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Endpoints, Namespace, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use lookout_model::{Labels, TargetGroup};
use serde_json::json;

use super::*;
use crate::cache::{ObjectLookup, RoleOptions};

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

fn from<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn web_pod() -> Pod {
    from(json!({
        "metadata": {"name": "web-1", "namespace": "shop", "uid": "u-1",
            "labels": {"app.kubernetes.io/name": "web"}, "annotations": {"prometheus.io/scrape": "true"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-abc", "uid": "r", "controller": true}]},
        "spec": {"nodeName": "n1",
            "containers": [
                {"name": "app", "image": "web:1", "ports": [{"name": "http", "containerPort": 8080}, {"name": "metrics", "containerPort": 9100, "protocol": "TCP"}]},
                {"name": "sidecar", "image": "side:2"}],
            "initContainers": [{"name": "init", "image": "init:1", "ports": [{"containerPort": 7000}]}]},
        "status": {"phase": "Running", "podIP": "10.1.0.5", "hostIP": "192.168.1.10",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "app", "containerID": "containerd://abc", "image": "web:1", "imageID": "x", "ready": true, "restartCount": 0}]}
    }))
}

fn sorted(l: &Labels) -> Vec<(String, String)> {
    l.iter()
        .map(|x| (x.name.to_string(), x.value.to_string()))
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    out.sort();
    out
}

fn target_addresses(g: &TargetGroup) -> Vec<String> {
    g.targets
        .iter()
        .map(|t| t.get("__address__").unwrap().to_string())
        .collect()
}

#[test]
fn pod_role_labels() {
    let g = pod_group(&web_pod(), RoleOptions::default(), &Lookup::default());
    assert_eq!(g.source, "pod/shop/web-1");
    assert_eq!(
        sorted(&g.labels),
        pairs(&[
            ("__meta_kubernetes_namespace", "shop"),
            (
                "__meta_kubernetes_pod_annotation_prometheus_io_scrape",
                "true"
            ),
            (
                "__meta_kubernetes_pod_annotationpresent_prometheus_io_scrape",
                "true"
            ),
            ("__meta_kubernetes_pod_controller_kind", "ReplicaSet"),
            ("__meta_kubernetes_pod_controller_name", "web-abc"),
            ("__meta_kubernetes_pod_host_ip", "192.168.1.10"),
            ("__meta_kubernetes_pod_ip", "10.1.0.5"),
            ("__meta_kubernetes_pod_label_app_kubernetes_io_name", "web"),
            (
                "__meta_kubernetes_pod_labelpresent_app_kubernetes_io_name",
                "true"
            ),
            ("__meta_kubernetes_pod_name", "web-1"),
            ("__meta_kubernetes_pod_node_name", "n1"),
            ("__meta_kubernetes_pod_phase", "Running"),
            ("__meta_kubernetes_pod_ready", "true"),
            ("__meta_kubernetes_pod_uid", "u-1"),
        ])
    );
    assert_eq!(
        target_addresses(&g),
        [
            "10.1.0.5:8080",
            "10.1.0.5:9100",
            "10.1.0.5",
            "10.1.0.5:7000"
        ]
    );
    assert_eq!(
        sorted(&g.targets[1]),
        pairs(&[
            ("__address__", "10.1.0.5:9100"),
            ("__meta_kubernetes_pod_container_id", "containerd://abc"),
            ("__meta_kubernetes_pod_container_image", "web:1"),
            ("__meta_kubernetes_pod_container_init", "false"),
            ("__meta_kubernetes_pod_container_name", "app"),
            ("__meta_kubernetes_pod_container_port_name", "metrics"),
            ("__meta_kubernetes_pod_container_port_number", "9100"),
            ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
        ])
    );
    assert_eq!(
        sorted(&g.targets[2]),
        pairs(&[
            ("__address__", "10.1.0.5"),
            ("__meta_kubernetes_pod_container_image", "side:2"),
            ("__meta_kubernetes_pod_container_init", "false"),
            ("__meta_kubernetes_pod_container_name", "sidecar"),
        ])
    );
    assert_eq!(
        g.targets[3].get("__meta_kubernetes_pod_container_init"),
        Some("true")
    );
    let mut unscheduled = web_pod();
    unscheduled.status.as_mut().unwrap().pod_ip = None;
    assert!(
        pod_group(&unscheduled, RoleOptions::default(), &Lookup::default())
            .targets
            .is_empty()
    );
}

#[test]
fn pod_role_attaches_node_and_namespace_metadata() {
    let mut l = Lookup::default();
    l.nodes.insert(
        "n1".into(),
        Arc::new(from(
            json!({"metadata": {"name": "n1", "labels": {"zone": "a"}}}),
        )),
    );
    l.namespaces.insert(
        "shop".into(),
        Arc::new(from(
            json!({"metadata": {"name": "shop", "labels": {"team": "x"}}}),
        )),
    );
    let opts = RoleOptions {
        attach_node: true,
        attach_namespace: true,
    };
    let g = pod_group(&web_pod(), opts, &l);
    assert_eq!(g.labels.get("__meta_kubernetes_node_label_zone"), Some("a"));
    assert_eq!(g.labels.get("__meta_kubernetes_node_name"), Some("n1"));
    assert_eq!(
        g.labels.get("__meta_kubernetes_namespace_label_team"),
        Some("x")
    );
}

#[test]
fn node_role_labels() {
    let node: Node = from(json!({
        "metadata": {"name": "n1", "labels": {"kubernetes.io/arch": "arm64"}},
        "spec": {"providerID": "k3s://n1"},
        "status": {"addresses": [{"type": "Hostname", "address": "n1"}, {"type": "InternalIP", "address": "192.168.1.10"}],
            "conditions": [{"type": "Ready", "status": "True"}, {"type": "MemoryPressure", "status": "False"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}
    }));
    let g = node_group(&node);
    assert_eq!(
        sorted(&g.labels),
        pairs(&[
            ("__meta_kubernetes_node_address_Hostname", "n1"),
            ("__meta_kubernetes_node_address_InternalIP", "192.168.1.10"),
            ("__meta_kubernetes_node_condition_memorypressure", "false"),
            ("__meta_kubernetes_node_condition_ready", "true"),
            ("__meta_kubernetes_node_label_kubernetes_io_arch", "arm64"),
            (
                "__meta_kubernetes_node_labelpresent_kubernetes_io_arch",
                "true"
            ),
            ("__meta_kubernetes_node_name", "n1"),
            ("__meta_kubernetes_node_provider_id", "k3s://n1"),
        ])
    );
    assert_eq!(
        sorted(&g.targets[0]),
        pairs(&[("__address__", "192.168.1.10:10250"), ("instance", "n1")])
    );
}

fn web_service() -> Service {
    from(json!({
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {"type": "ClusterIP", "clusterIP": "10.43.0.7", "ports": [{"name": "http", "port": 80, "targetPort": 8080}, {"name": "metrics", "port": 9100}]}
    }))
}

#[test]
fn service_role_labels() {
    let g = service_group(&web_service(), RoleOptions::default(), &Lookup::default());
    assert_eq!(
        sorted(&g.labels),
        pairs(&[
            ("__meta_kubernetes_namespace", "shop"),
            ("__meta_kubernetes_service_cluster_ip", "10.43.0.7"),
            ("__meta_kubernetes_service_label_app", "web"),
            ("__meta_kubernetes_service_labelpresent_app", "true"),
            ("__meta_kubernetes_service_name", "web"),
            ("__meta_kubernetes_service_type", "ClusterIP"),
        ])
    );
    assert_eq!(
        sorted(&g.targets[1]),
        pairs(&[
            ("__address__", "web.shop.svc:9100"),
            ("__meta_kubernetes_service_port_name", "metrics"),
            ("__meta_kubernetes_service_port_number", "9100"),
            ("__meta_kubernetes_service_port_protocol", "TCP"),
        ])
    );
    let lb: Service = from(json!({"metadata": {"name": "lb", "namespace": "a"},
        "spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.1", "ports": [{"port": 443}]},
        "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}, {"ip": "1.2.3.5"}]}}}));
    let g = service_group(&lb, RoleOptions::default(), &Lookup::default());
    assert_eq!(
        g.labels.get("__meta_kubernetes_service_loadbalancer_ip"),
        Some("1.2.3.4,1.2.3.5")
    );
}

#[test]
fn endpoints_role_adds_service_pod_and_uncovered_ports() {
    let mut l = Lookup::default();
    l.pods
        .insert(("shop".into(), "web-1".into()), Arc::new(web_pod()));
    l.services
        .insert(("shop".into(), "web".into()), Arc::new(web_service()));
    let ep: Endpoints = from(json!({
        "metadata": {"name": "web", "namespace": "shop"},
        "subsets": [{
            "addresses": [{"ip": "10.1.0.5", "nodeName": "n1", "targetRef": {"kind": "Pod", "name": "web-1", "namespace": "shop"}}],
            "notReadyAddresses": [{"ip": "10.1.0.9"}],
            "ports": [{"name": "metrics", "port": 9100, "protocol": "TCP"}]}]
    }));
    let g = endpoints_group(&ep, RoleOptions::default(), &l);
    assert_eq!(g.labels.get("__meta_kubernetes_service_name"), Some("web"));
    assert_eq!(
        g.labels.get("__meta_kubernetes_endpoints_name"),
        Some("web")
    );
    assert_eq!(
        target_addresses(&g),
        [
            "10.1.0.5:9100",
            "10.1.0.9:9100",
            "10.1.0.5:8080",
            "10.1.0.5:7000"
        ]
    );
    let t = &g.targets[0];
    assert_eq!(t.get("__meta_kubernetes_endpoint_ready"), Some("true"));
    assert_eq!(
        t.get("__meta_kubernetes_endpoint_address_target_kind"),
        Some("Pod")
    );
    assert_eq!(
        t.get("__meta_kubernetes_endpoint_address_target_name"),
        Some("web-1")
    );
    assert_eq!(t.get("__meta_kubernetes_endpoint_node_name"), Some("n1"));
    assert_eq!(t.get("__meta_kubernetes_pod_container_name"), Some("app"));
    assert_eq!(
        t.get("__meta_kubernetes_pod_container_port_name"),
        Some("metrics")
    );
    assert_eq!(
        g.targets[1].get("__meta_kubernetes_endpoint_ready"),
        Some("false")
    );
    assert_eq!(g.targets[1].get("__meta_kubernetes_pod_name"), None);
    assert_eq!(
        g.targets[2].get("__meta_kubernetes_endpoint_port_name"),
        None
    );
    assert_eq!(
        g.targets[2].get("__meta_kubernetes_pod_container_port_name"),
        Some("http")
    );
}

#[test]
fn endpointslice_role_labels() {
    let mut l = Lookup::default();
    l.services
        .insert(("shop".into(), "web".into()), Arc::new(web_service()));
    let es: EndpointSlice = from(json!({
        "metadata": {"name": "web-xyz", "namespace": "shop", "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.1.0.5"], "conditions": {"ready": true, "serving": true, "terminating": false},
            "nodeName": "n1", "zone": "z1", "targetRef": {"kind": "Pod", "name": "gone", "namespace": "shop"}}],
        "ports": [{"name": "metrics", "port": 9100, "protocol": "TCP", "appProtocol": "http"}]
    }));
    let g = endpointslice_group(&es, RoleOptions::default(), &l);
    assert_eq!(
        g.labels.get("__meta_kubernetes_endpointslice_address_type"),
        Some("IPv4")
    );
    assert_eq!(g.labels.get("__meta_kubernetes_service_name"), Some("web"));
    assert_eq!(
        sorted(&g.targets[0]),
        pairs(&[
            ("__address__", "10.1.0.5:9100"),
            ("__meta_kubernetes_endpointslice_address_target_kind", "Pod"),
            (
                "__meta_kubernetes_endpointslice_address_target_name",
                "gone"
            ),
            (
                "__meta_kubernetes_endpointslice_endpoint_conditions_ready",
                "true"
            ),
            (
                "__meta_kubernetes_endpointslice_endpoint_conditions_serving",
                "true"
            ),
            (
                "__meta_kubernetes_endpointslice_endpoint_conditions_terminating",
                "false"
            ),
            ("__meta_kubernetes_endpointslice_endpoint_node_name", "n1"),
            ("__meta_kubernetes_endpointslice_endpoint_zone", "z1"),
            ("__meta_kubernetes_endpointslice_port", "9100"),
            ("__meta_kubernetes_endpointslice_port_app_protocol", "http"),
            ("__meta_kubernetes_endpointslice_port_name", "metrics"),
            ("__meta_kubernetes_endpointslice_port_protocol", "TCP"),
        ])
    );
}

#[test]
fn ingress_role_labels() {
    let ing: Ingress = from(json!({
        "metadata": {"name": "site", "namespace": "web"},
        "spec": {"ingressClassName": "traefik", "tls": [{"hosts": ["*.example.org"]}],
            "rules": [{"host": "a.example.org", "http": {"paths": [{"path": "/api", "pathType": "Prefix", "backend": {"service": {"name": "x", "port": {"number": 80}}}}]}},
                      {"host": "other.net"}]}
    }));
    let g = ingress_group(&ing, RoleOptions::default(), &Lookup::default());
    assert_eq!(
        g.labels.get("__meta_kubernetes_ingress_class_name"),
        Some("traefik")
    );
    assert_eq!(
        sorted(&g.targets[0]),
        pairs(&[
            ("__address__", "a.example.org"),
            ("__meta_kubernetes_ingress_host", "a.example.org"),
            ("__meta_kubernetes_ingress_path", "/api"),
            ("__meta_kubernetes_ingress_scheme", "https"),
        ])
    );
    assert_eq!(
        g.targets[1].get("__meta_kubernetes_ingress_scheme"),
        Some("http")
    );
    assert_eq!(
        g.targets[1].get("__meta_kubernetes_ingress_path"),
        Some("/")
    );
}
