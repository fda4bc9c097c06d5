//! The endpointslice role.

use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::json;

use super::*;
use crate::roles::endpointslice_group;

/// The slice of service `web`: web-1 (ready, with deprecated topology), web-2 (terminating) and a node endpoint.
fn web_slice() -> EndpointSlice {
    from(json!({
        "metadata": {"name": "web-abc12", "namespace": "shop",
            "labels": {"kubernetes.io/service-name": "web", "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
        "addressType": "IPv4",
        "endpoints": [
            {"addresses": ["10.1.0.5"], "conditions": {"ready": true, "serving": true, "terminating": false},
             "nodeName": "n1", "zone": "z1", "deprecatedTopology": {"topology.kubernetes.io/zone": "z1"},
             "targetRef": {"kind": "Pod", "name": "web-1", "namespace": "shop"}},
            {"addresses": ["10.1.0.6"], "conditions": {"ready": false, "serving": true, "terminating": true},
             "hostname": "web-2", "nodeName": "n2", "zone": "z2",
             "targetRef": {"kind": "Pod", "name": "web-2", "namespace": "shop"}},
            {"addresses": ["192.168.1.10"], "conditions": {}, "targetRef": {"kind": "Node", "name": "n1"}}],
        "ports": [{"name": "metrics", "port": 9100, "protocol": "TCP", "appProtocol": "http"},
                  {"name": "http", "port": 8080, "protocol": "TCP"}]
    }))
}

const WEB_SLICE: &[&str] = &[
    "~endpointslice_name=web-abc12",
    "~endpointslice_address_type=IPv4",
    "~endpointslice_label_kubernetes_io_service_name=web",
    "~endpointslice_labelpresent_kubernetes_io_service_name=true",
    "~endpointslice_label_endpointslice_kubernetes_io_managed_by=endpointslice-controller.k8s.io",
    "~endpointslice_labelpresent_endpointslice_kubernetes_io_managed_by=true",
];

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// The labels of slice port 9100 (`metrics`, app protocol `http`) or 8080 (`http`) at `ip`.
fn port(ip: &str, port: u16) -> Vec<String> {
    let mut t = vec![
        format!("__address__={ip}:{port}"),
        format!("~endpointslice_port={port}"),
        "~endpointslice_port_protocol=TCP".to_string(),
    ];
    if port == 9100 {
        t.push("~endpointslice_port_name=metrics".into());
        t.push("~endpointslice_port_app_protocol=http".into());
    } else {
        t.push("~endpointslice_port_name=http".into());
    }
    t
}

/// The expected targets without `attach_metadata`: per endpoint, port and address; then the uncovered container
/// ports of web-1 and web-2.
fn expected_targets() -> Vec<Vec<String>> {
    let web1 = |p: u16| {
        let mut t = port("10.1.0.5", p);
        t.extend(strings(&[
            "~endpointslice_endpoint_conditions_ready=true",
            "~endpointslice_endpoint_conditions_serving=true",
            "~endpointslice_endpoint_conditions_terminating=false",
            "~endpointslice_endpoint_node_name=n1",
            "~endpointslice_endpoint_zone=z1",
            "~endpointslice_endpoint_topology_topology_kubernetes_io_zone=z1",
            "~endpointslice_endpoint_topology_present_topology_kubernetes_io_zone=true",
            "~endpointslice_address_target_kind=Pod",
            "~endpointslice_address_target_name=web-1",
        ]));
        t.extend(app_container(p));
        t.extend(strings(WEB_POD));
        t
    };
    let web2 = |p: u16| {
        let mut t = port("10.1.0.6", p);
        t.extend(strings(&[
            "~endpointslice_endpoint_conditions_ready=false",
            "~endpointslice_endpoint_conditions_serving=true",
            "~endpointslice_endpoint_conditions_terminating=true",
            "~endpointslice_endpoint_hostname=web-2",
            "~endpointslice_endpoint_node_name=n2",
            "~endpointslice_endpoint_zone=z2",
            "~endpointslice_address_target_kind=Pod",
            "~endpointslice_address_target_name=web-2",
        ]));
        t.extend(app_container(p));
        t.extend(strings(&web_pod2_labels()));
        t
    };
    let node = |p: u16| {
        let mut t = port("192.168.1.10", p);
        t.extend(strings(&[
            "~endpointslice_address_target_kind=Node",
            "~endpointslice_address_target_name=n1",
        ]));
        t
    };
    let mut targets = vec![
        web1(9100),
        web1(8080),
        web2(9100),
        web2(8080),
        node(9100),
        node(8080),
    ];
    targets.extend(uncovered_web_targets("10.1.0.5", WEB_POD));
    targets.extend(uncovered_web_targets("10.1.0.6", &web_pod2_labels()));
    targets
}

#[test]
fn endpointslice_role_exact_labels() {
    let g = endpointslice_group(&web_slice(), NO_OPTS, &Lookup::full());
    let group = with(WEB_SERVICE, WEB_SLICE);
    assert_group(
        &g,
        "endpointslice/shop/web-abc12",
        &group,
        &expected_targets(),
    );
}

#[test]
fn endpointslice_role_attaches_node_and_namespace_metadata() {
    let g = endpointslice_group(&web_slice(), ALL_OPTS, &Lookup::full());
    let group = [WEB_SERVICE, WEB_SLICE, SHOP_NAMESPACE].concat();
    // web-1's node n1 and the Node reference n1 (web-2's n2 is unknown); never on uncovered-port targets.
    let mut targets = expected_targets();
    for i in [0, 1, 4, 5] {
        targets[i].extend(strings(NODE_N1));
    }
    assert_group(&g, "endpointslice/shop/web-abc12", &group, &targets);
}

#[test]
fn endpointslice_role_ports_without_number_and_shared_container_ports() {
    // Two containers declaring the same port: the later one's labels win, as in Prometheus.
    let mut l = Lookup::default();
    l.add_pod(from(json!({
        "metadata": {"name": "dup", "namespace": "ns"},
        "spec": {"containers": [
            {"name": "a", "image": "a:1", "ports": [{"name": "a-http", "containerPort": 8080, "protocol": "TCP"}]},
            {"name": "b", "image": "b:1", "ports": [{"name": "b-http", "containerPort": 8080, "protocol": "TCP"},
                                                     {"name": "b-admin", "containerPort": 9000, "protocol": "TCP"}]}]},
        "status": {"phase": "Running", "podIP": "10.2.0.1"}
    })));
    let es: EndpointSlice = from(json!({
        "metadata": {"name": "s-1", "namespace": "ns"},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.2.0.1"], "targetRef": {"kind": "Pod", "name": "dup", "namespace": "ns"}}],
        "ports": [{"name": "web", "port": 8080}, {"name": "all"}]
    }));
    let g = endpointslice_group(&es, NO_OPTS, &l);
    let pod = [
        "~pod_name=dup",
        "~pod_ip=10.2.0.1",
        "~pod_phase=Running",
        "~pod_ready=unknown",
        "~endpointslice_address_target_kind=Pod",
        "~endpointslice_address_target_name=dup",
    ];
    let b = [
        "~pod_container_name=b",
        "~pod_container_image=b:1",
        "~pod_container_init=false",
    ];
    let targets = [
        [
            &pod[..],
            &b,
            &[
                "__address__=10.2.0.1:8080",
                "~endpointslice_port=8080",
                "~endpointslice_port_name=web",
                "~pod_container_port_name=b-http",
                "~pod_container_port_number=8080",
                "~pod_container_port_protocol=TCP",
            ],
        ]
        .concat(),
        // A slice port without number: the bare address, no container labels.
        with(
            &pod,
            &["__address__=10.2.0.1", "~endpointslice_port_name=all"],
        ),
        // 8080 is covered (for both containers); 9000 is not.
        [
            &pod[..4],
            &b,
            &[
                "__address__=10.2.0.1:9000",
                "~pod_container_port_name=b-admin",
                "~pod_container_port_number=9000",
                "~pod_container_port_protocol=TCP",
            ],
        ]
        .concat(),
    ];
    let group = [
        "~namespace=ns",
        "~endpointslice_name=s-1",
        "~endpointslice_address_type=IPv4",
    ];
    assert_group(&g, "endpointslice/ns/s-1", &group, &targets);

    // A slice without ports gives no targets.
    let mut no_ports = es;
    no_ports.ports = None;
    assert_group(
        &endpointslice_group(&no_ports, NO_OPTS, &l),
        "endpointslice/ns/s-1",
        &group,
        &[] as &[Vec<&str>],
    );
}

#[test]
fn endpointslice_role_dual_stack_uses_the_primary_family_only() {
    let mut l = Lookup::default();
    l.add_service(from(json!({
        "metadata": {"name": "ds", "namespace": "ns"},
        "spec": {"type": "ClusterIP", "clusterIP": "fd00::a", "ipFamilyPolicy": "PreferDualStack", "ipFamilies": ["IPv6", "IPv4"],
            "ports": [{"port": 80, "protocol": "TCP"}]}
    })));
    let slice = |name: &str, family: &str, addr: &str| -> EndpointSlice {
        from(json!({
            "metadata": {"name": name, "namespace": "ns", "labels": {"kubernetes.io/service-name": "ds"}},
            "addressType": family,
            "endpoints": [{"addresses": [addr], "conditions": {"ready": true}}],
            "ports": [{"name": "", "port": 80, "protocol": "TCP"}]
        }))
    };
    let group = |name: &str, family: &str| {
        vec![
            "~namespace=ns".to_string(),
            "~service_name=ds".to_string(),
            format!("~endpointslice_name={name}"),
            format!("~endpointslice_address_type={family}"),
            "~endpointslice_label_kubernetes_io_service_name=ds".to_string(),
            "~endpointslice_labelpresent_kubernetes_io_service_name=true".to_string(),
        ]
    };
    // The secondary family's slice keeps its group labels but has no targets.
    let g = endpointslice_group(&slice("ds-v4", "IPv4", "10.0.0.1"), NO_OPTS, &l);
    assert_group(
        &g,
        "endpointslice/ns/ds-v4",
        &group("ds-v4", "IPv4"),
        &[] as &[Vec<&str>],
    );
    let g = endpointslice_group(&slice("ds-v6", "IPv6", "fd00::1"), NO_OPTS, &l);
    let target = vec![
        "__address__=[fd00::1]:80",
        "~endpointslice_port=80",
        "~endpointslice_port_protocol=TCP",
        "~endpointslice_endpoint_conditions_ready=true",
    ];
    assert_group(
        &g,
        "endpointslice/ns/ds-v6",
        &group("ds-v6", "IPv6"),
        &[target],
    );

    // FQDN slices (here of an unknown service) are used as they are.
    let g = endpointslice_group(
        &slice("ext", "FQDN", "db.example.org"),
        NO_OPTS,
        &Lookup::default(),
    );
    assert_eq!(g.targets.len(), 1);
    assert_eq!(g.targets[0].get("__address__"), Some("db.example.org:80"));
}
