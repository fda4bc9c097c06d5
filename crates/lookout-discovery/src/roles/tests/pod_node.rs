//! The pod and node roles.

use k8s_openapi::api::core::v1::{Node, Pod};
use serde_json::json;

use super::*;
use crate::roles::{node_group, pod_group};

/// The pod-role targets of [`web_pod`]: every container port (regular containers, then the init container), the
/// port-less sidecar at the bare pod IP.
fn web_pod_targets() -> Vec<Vec<&'static str>> {
    let app = [
        "~pod_container_name=app",
        "~pod_container_image=registry.example/web:1.2",
        "~pod_container_id=containerd://aaa",
        "~pod_container_init=false",
    ];
    let proxy = [
        "~pod_container_name=proxy",
        "~pod_container_image=envoy:1.31",
        "~pod_container_id=containerd://bbb",
        "~pod_container_init=false",
    ];
    vec![
        with(
            &app,
            &[
                "__address__=10.1.0.5:8080",
                "~pod_container_port_name=http",
                "~pod_container_port_number=8080",
                "~pod_container_port_protocol=TCP",
            ],
        ),
        with(
            &app,
            &[
                "__address__=10.1.0.5:9100",
                "~pod_container_port_name=metrics",
                "~pod_container_port_number=9100",
                "~pod_container_port_protocol=TCP",
            ],
        ),
        with(
            &proxy,
            &[
                "__address__=10.1.0.5:15000",
                "~pod_container_port_name=admin",
                "~pod_container_port_number=15000",
                "~pod_container_port_protocol=TCP",
            ],
        ),
        with(
            &proxy,
            &[
                "__address__=10.1.0.5:5353",
                "~pod_container_port_name=dns",
                "~pod_container_port_number=5353",
                "~pod_container_port_protocol=UDP",
            ],
        ),
        // No status for `logs`: no container id.
        vec![
            "__address__=10.1.0.5",
            "~pod_container_name=logs",
            "~pod_container_image=fluent-bit:3",
            "~pod_container_init=false",
        ],
        vec![
            "__address__=10.1.0.5:7000",
            "~pod_container_name=migrate",
            "~pod_container_image=registry.example/migrate:1.2",
            "~pod_container_id=containerd://iii",
            "~pod_container_init=true",
            "~pod_container_port_name=debug",
            "~pod_container_port_number=7000",
            "~pod_container_port_protocol=TCP",
        ],
    ]
}

#[test]
fn pod_role_exact_labels() {
    let g = pod_group(&web_pod(), NO_OPTS, &Lookup::full());
    let group = with(WEB_POD, &["~namespace=shop"]);
    assert_group(&g, "pod/shop/web-1", &group, &web_pod_targets());
}

#[test]
fn pod_role_attaches_node_and_namespace_metadata() {
    let g = pod_group(&web_pod(), ALL_OPTS, &Lookup::full());
    let group = [WEB_POD, &["~namespace=shop"], NODE_N1, SHOP_NAMESPACE].concat();
    assert_group(&g, "pod/shop/web-1", &group, &web_pod_targets());

    // Only namespace metadata, of an unknown namespace: nothing added.
    let opts = RoleOptions {
        attach_node: false,
        attach_namespace: true,
    };
    let g = pod_group(&web_pod(), opts, &Lookup::default());
    assert_labels(&g.labels, &with(WEB_POD, &["~namespace=shop"]));

    // With node metadata, a pod whose node is not known (filtered out by node selectors) gives no targets.
    let mut l = Lookup::full();
    l.nodes.clear();
    let g = pod_group(&web_pod(), ALL_OPTS, &l);
    let empty: &[&str] = &[];
    assert_group(&g, "pod/shop/web-1", empty, &Vec::<Vec<&str>>::new());
}

#[test]
fn pod_role_ipv6_finished_and_unscheduled_pods() {
    let pod: Pod = from(json!({
        "metadata": {"name": "job-x", "namespace": "batch", "uid": "u2"},
        "spec": {"nodeName": "n2", "containers": [
            {"name": "work", "image": "work:1", "ports": [{"containerPort": 8080, "protocol": "TCP"}]},
            {"name": "idle", "image": "idle:1"}]},
        "status": {"phase": "Succeeded", "podIP": "fd00:1::5", "hostIP": "fd00::2"}
    }));
    // A finished pod keeps its targets (relabeling drops it if wanted); no Ready condition gives `unknown`, no
    // controller owner gives no controller labels, an unnamed port no port name.
    let group = [
        "~namespace=batch",
        "~pod_name=job-x",
        "~pod_ip=fd00:1::5",
        "~pod_ready=unknown",
        "~pod_phase=Succeeded",
        "~pod_node_name=n2",
        "~pod_host_ip=fd00::2",
        "~pod_uid=u2",
    ];
    let targets = [
        vec![
            "__address__=[fd00:1::5]:8080",
            "~pod_container_name=work",
            "~pod_container_image=work:1",
            "~pod_container_init=false",
            "~pod_container_port_number=8080",
            "~pod_container_port_protocol=TCP",
        ],
        vec![
            "__address__=fd00:1::5",
            "~pod_container_name=idle",
            "~pod_container_image=idle:1",
            "~pod_container_init=false",
        ],
    ];
    let g = pod_group(&pod, NO_OPTS, &Lookup::default());
    assert_group(&g, "pod/batch/job-x", &group, &targets);

    let mut pending = web_pod();
    let status = pending.status.as_mut().unwrap();
    status.pod_ip = None;
    status.phase = Some("Pending".into());
    let g = pod_group(&pending, NO_OPTS, &Lookup::default());
    let empty: &[&str] = &[];
    assert_group(&g, "pod/shop/web-1", empty, &Vec::<Vec<&str>>::new());
}

#[test]
fn node_role_exact_labels() {
    let g = node_group(&node_n1());
    let group = [
        NODE_N1,
        &[
            "~node_provider_id=k3s://n1",
            "~node_condition_ready=true",
            "~node_condition_memorypressure=false",
            "~node_condition_diskpressure=unknown",
            "~node_condition_example_com_kerneldeadlock=false",
        ],
    ]
    .concat();
    // The first address of each type; the target address is the first InternalIP.
    let target = vec![
        "__address__=192.168.1.10:10250",
        "instance=n1",
        "~node_address_Hostname=n1",
        "~node_address_ExternalIP=203.0.113.7",
        "~node_address_InternalIP=192.168.1.10",
        "~node_address_ExternalDNS=n1.example.org",
        "~node_address_InternalDNS=n1.cluster.local",
    ];
    assert_group(&g, "node/n1", &group, &[target]);
}

fn node_with(addresses: serde_json::Value, kubelet_port: Option<i32>) -> Node {
    let mut status = json!({"addresses": addresses});
    if let Some(p) = kubelet_port {
        status["daemonEndpoints"] = json!({"kubeletEndpoint": {"Port": p}});
    }
    from(json!({"metadata": {"name": "x"}, "status": status}))
}

#[test]
fn node_role_address_priority() {
    let cases = [
        (json!([{"type": "Hostname", "address": "x"}]), "x:10250"),
        (
            json!([{"type": "Hostname", "address": "x"}, {"type": "LegacyHostIP", "address": "10.0.0.9"}]),
            "10.0.0.9:10250",
        ),
        (
            json!([{"type": "ExternalDNS", "address": "x.example"}, {"type": "ExternalIP", "address": "1.2.3.4"}]),
            "1.2.3.4:10250",
        ),
        (
            json!([{"type": "ExternalIP", "address": "1.2.3.4"}, {"type": "InternalDNS", "address": "x.local"}]),
            "x.local:10250",
        ),
        (
            json!([{"type": "InternalIP", "address": "fd00::1"}]),
            "[fd00::1]:10250",
        ),
    ];
    for (addresses, want) in cases {
        let g = node_group(&node_with(addresses, Some(10250)));
        assert_eq!(g.targets.len(), 1);
        assert_eq!(g.targets[0].get("__address__"), Some(want));
        assert_eq!(g.targets[0].get("instance"), Some("x"));
    }
    // Without a reported kubelet endpoint, Go's zero port.
    let g = node_group(&node_with(
        json!([{"type": "InternalIP", "address": "10.0.0.1"}]),
        None,
    ));
    assert_eq!(g.targets[0].get("__address__"), Some("10.0.0.1:0"));
    // Without any address: no labels, no target.
    let g = node_group(&node_with(json!([]), Some(10250)));
    let empty: &[&str] = &[];
    assert_group(&g, "node/x", empty, &Vec::<Vec<&str>>::new());
}
