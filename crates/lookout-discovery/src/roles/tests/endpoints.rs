//! The endpoints role.

use k8s_openapi::api::core::v1::Endpoints;
use serde_json::json;

use super::*;
use crate::roles::endpoints_group;

/// Endpoints of service `web`: the two pods (one not ready) on two ports, and a second subset with an external
/// address and a node address.
fn web_endpoints() -> Endpoints {
    from(json!({
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"},
            "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": "2026-01-01T00:00:00Z"}},
        "subsets": [
            {"addresses": [{"ip": "10.1.0.5", "nodeName": "n1",
                    "targetRef": {"kind": "Pod", "name": "web-1", "namespace": "shop", "uid": "5f0c2d1e-uid"}}],
             "notReadyAddresses": [{"ip": "10.1.0.6", "hostname": "web-2", "nodeName": "n2",
                    "targetRef": {"kind": "Pod", "name": "web-2", "namespace": "shop", "uid": "6a1d3e2f-uid"}}],
             "ports": [{"name": "metrics", "port": 9100, "protocol": "TCP"},
                       {"name": "http", "port": 8080, "protocol": "TCP", "appProtocol": "http"}]},
            {"addresses": [{"ip": "192.168.1.50"}, {"ip": "192.168.1.10", "targetRef": {"kind": "Node", "name": "n1"}}],
             "ports": [{"name": "legacy", "port": 9000, "protocol": "TCP"}]}]
    }))
}

const WEB_ENDPOINTS: &[&str] = &[
    "~endpoints_name=web",
    "~endpoints_label_app=web",
    "~endpoints_labelpresent_app=true",
    "~endpoints_annotation_endpoints_kubernetes_io_last_change_trigger_time=2026-01-01T00:00:00Z",
    "~endpoints_annotationpresent_endpoints_kubernetes_io_last_change_trigger_time=true",
];

/// The expected targets without `attach_metadata`: per subset and port, ready then not-ready addresses; then the
/// uncovered container ports of web-1 and web-2.
fn expected_targets() -> Vec<Vec<String>> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let pod1 = |port: u16, name: &str| {
        let mut t = s(&[
            "~endpoint_ready=true",
            "~endpoint_address_target_kind=Pod",
            "~endpoint_address_target_name=web-1",
            "~endpoint_node_name=n1",
            "~endpoint_port_protocol=TCP",
        ]);
        t.push(format!("__address__=10.1.0.5:{port}"));
        t.push(format!("~endpoint_port_name={name}"));
        t.extend(app_container(port));
        t.extend(s(WEB_POD));
        t
    };
    let pod2 = |port: u16, name: &str| {
        let mut t = s(&[
            "~endpoint_ready=false",
            "~endpoint_address_target_kind=Pod",
            "~endpoint_address_target_name=web-2",
            "~endpoint_node_name=n2",
            "~endpoint_hostname=web-2",
            "~endpoint_port_protocol=TCP",
        ]);
        t.push(format!("__address__=10.1.0.6:{port}"));
        t.push(format!("~endpoint_port_name={name}"));
        t.extend(app_container(port));
        t.extend(s(&web_pod2_labels()));
        t
    };
    let legacy = [
        "~endpoint_ready=true",
        "~endpoint_port_name=legacy",
        "~endpoint_port_protocol=TCP",
    ];
    let mut targets = vec![
        pod1(9100, "metrics"),
        pod2(9100, "metrics"),
        pod1(8080, "http"),
        pod2(8080, "http"),
        s(&with(&legacy, &["__address__=192.168.1.50:9000"])),
        s(&with(
            &legacy,
            &[
                "__address__=192.168.1.10:9000",
                "~endpoint_address_target_kind=Node",
                "~endpoint_address_target_name=n1",
            ],
        )),
    ];
    targets.extend(uncovered_web_targets("10.1.0.5", WEB_POD));
    targets.extend(uncovered_web_targets("10.1.0.6", &web_pod2_labels()));
    targets
}

#[test]
fn endpoints_role_exact_labels() {
    let g = endpoints_group(&web_endpoints(), NO_OPTS, &Lookup::full());
    let group = with(WEB_SERVICE, WEB_ENDPOINTS);
    assert_group(&g, "endpoints/shop/web", &group, &expected_targets());
}

#[test]
fn endpoints_role_attaches_node_and_namespace_metadata() {
    let g = endpoints_group(&web_endpoints(), ALL_OPTS, &Lookup::full());
    let group = [WEB_SERVICE, WEB_ENDPOINTS, SHOP_NAMESPACE].concat();
    // The node of the address (web-1 on n1; web-2's n2 is unknown), else of a Node target reference; never on the
    // uncovered-port targets.
    let mut targets = expected_targets();
    for i in [0, 2, 5] {
        targets[i].extend(NODE_N1.iter().map(|s| s.to_string()));
    }
    assert_group(&g, "endpoints/shop/web", &group, &targets);
}

#[test]
fn endpoints_role_without_service_or_pods() {
    // Neither the service nor the pods are known: only the endpoint labels.
    let mut l = Lookup::default();
    l.nodes.insert("n1".into(), Arc::new(node_n1()));
    let ep: Endpoints = from(json!({
        "metadata": {"name": "ext", "namespace": "shop"},
        "subsets": [{"addresses": [{"ip": "fd00::7", "nodeName": "n1",
                "targetRef": {"kind": "Pod", "name": "gone", "namespace": "shop"}}],
            "ports": [{"port": 9100, "protocol": "TCP"}]}]
    }));
    let g = endpoints_group(&ep, NO_OPTS, &l);
    let target = vec![
        "__address__=[fd00::7]:9100",
        "~endpoint_port_protocol=TCP",
        "~endpoint_ready=true",
        "~endpoint_node_name=n1",
        "~endpoint_address_target_kind=Pod",
        "~endpoint_address_target_name=gone",
    ];
    let group = ["~namespace=shop", "~endpoints_name=ext"];
    assert_group(&g, "endpoints/shop/ext", &group, &[target]);

    // A subset without ports gives no targets.
    let ep: Endpoints = from(json!({"metadata": {"name": "e", "namespace": "shop"},
        "subsets": [{"addresses": [{"ip": "10.0.0.1"}]}]}));
    assert!(endpoints_group(&ep, NO_OPTS, &l).targets.is_empty());
}
