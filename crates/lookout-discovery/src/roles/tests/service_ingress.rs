//! The service and ingress roles.

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::Ingress;
use serde_json::json;

use super::*;
use crate::roles::{ingress_group, service_group};

#[test]
fn service_role_cluster_ip() {
    let port = |addr: &'static str, name: &'static str, number: &'static str| {
        vec![
            addr,
            name,
            number,
            "~service_port_protocol=TCP",
            "~service_type=ClusterIP",
            "~service_cluster_ip=10.43.0.7",
        ]
    };
    let targets = [
        port(
            "__address__=web.shop.svc:80",
            "~service_port_name=http",
            "~service_port_number=80",
        ),
        port(
            "__address__=web.shop.svc:9100",
            "~service_port_name=metrics",
            "~service_port_number=9100",
        ),
    ];
    let g = service_group(&web_service(), NO_OPTS, &Lookup::full());
    assert_group(&g, "svc/shop/web", WEB_SERVICE, &targets);

    let g = service_group(&web_service(), ALL_OPTS, &Lookup::full());
    assert_group(
        &g,
        "svc/shop/web",
        &[WEB_SERVICE, SHOP_NAMESPACE].concat(),
        &targets,
    );
}

/// The one target of a single-port service `s` in namespace `edge`.
fn only_target(spec: serde_json::Value, status: serde_json::Value) -> Labels {
    let svc: Service = from(
        json!({"metadata": {"name": "s", "namespace": "edge"}, "spec": spec, "status": status}),
    );
    let g = service_group(&svc, NO_OPTS, &Lookup::default());
    assert_labels(&g.labels, &["~namespace=edge", "~service_name=s"]);
    assert_eq!(g.targets.len(), 1);
    g.targets[0].clone()
}

#[test]
fn service_role_types() {
    let t = only_target(
        json!({"type": "NodePort", "clusterIP": "10.43.0.9",
            "ports": [{"name": "https", "port": 443, "nodePort": 30443, "protocol": "TCP"}]}),
        json!({}),
    );
    let common = [
        "__address__=s.edge.svc:443",
        "~service_port_name=https",
        "~service_port_number=443",
        "~service_port_protocol=TCP",
    ];
    assert_labels(
        &t,
        &with(
            &common,
            &["~service_type=NodePort", "~service_cluster_ip=10.43.0.9"],
        ),
    );

    // Load balancer addresses from the status (entries without an IP skipped)...
    let lb = json!({"type": "LoadBalancer", "clusterIP": "10.43.0.10", "loadBalancerIP": "5.6.7.8",
        "ports": [{"name": "https", "port": 443, "protocol": "TCP"}]});
    let status = json!({"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}, {"hostname": "lb.example"}, {"ip": "1.2.3.5"}]}});
    let lb_labels = |ip: Option<&'static str>| {
        let mut v = with(
            &common,
            &[
                "~service_type=LoadBalancer",
                "~service_cluster_ip=10.43.0.10",
            ],
        );
        v.extend(ip);
        v
    };
    assert_labels(
        &only_target(lb.clone(), status),
        &lb_labels(Some("~service_loadbalancer_ip=1.2.3.4,1.2.3.5")),
    );
    // ... else the deprecated spec field ...
    assert_labels(
        &only_target(lb.clone(), json!({"loadBalancer": {}})),
        &lb_labels(Some("~service_loadbalancer_ip=5.6.7.8")),
    );
    // ... else none (empty, hence absent).
    let mut pending = lb;
    pending.as_object_mut().unwrap().remove("loadBalancerIP");
    assert_labels(&only_target(pending, json!({})), &lb_labels(None));

    // ExternalName: the external name instead of a cluster IP.
    let t = only_target(
        json!({"type": "ExternalName", "externalName": "db.example.org", "ports": [{"port": 5432, "protocol": "TCP"}]}),
        json!({}),
    );
    assert_labels(
        &t,
        &[
            "__address__=s.edge.svc:5432",
            "~service_port_number=5432",
            "~service_port_protocol=TCP",
            "~service_type=ExternalName",
            "~service_external_name=db.example.org",
        ],
    );

    // Headless.
    let t = only_target(
        json!({"type": "ClusterIP", "clusterIP": "None", "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]}),
        json!({}),
    );
    assert_labels(
        &t,
        &[
            "__address__=s.edge.svc:53",
            "~service_port_name=dns",
            "~service_port_number=53",
            "~service_port_protocol=UDP",
            "~service_type=ClusterIP",
            "~service_cluster_ip=None",
        ],
    );
}

fn site_ingress() -> Ingress {
    let backend = json!({"service": {"name": "web", "port": {"number": 80}}});
    from(json!({
        "metadata": {"name": "site", "namespace": "shop", "labels": {"app": "site"},
            "annotations": {"traefik.ingress.kubernetes.io/router.entrypoints": "websecure"}},
        "spec": {"ingressClassName": "traefik",
            "tls": [{"hosts": ["*.example.org"], "secretName": "wild"}, {"hosts": ["shop.example.com"]}],
            "rules": [
                {"host": "a.example.org", "http": {"paths": [
                    {"path": "/api", "pathType": "Prefix", "backend": backend},
                    {"path": "/", "pathType": "Prefix", "backend": backend}]}},
                {"host": "a.b.example.org", "http": {"paths": [{"path": "/x", "pathType": "Exact", "backend": backend}]}},
                {"host": "shop.example.com", "http": {"paths": [{"pathType": "ImplementationSpecific", "backend": backend}]}},
                {"host": "other.net"}]}
    }))
}

#[test]
fn ingress_role_exact_labels() {
    let group = [
        "~namespace=shop",
        "~ingress_name=site",
        "~ingress_class_name=traefik",
        "~ingress_label_app=site",
        "~ingress_labelpresent_app=true",
        "~ingress_annotation_traefik_ingress_kubernetes_io_router_entrypoints=websecure",
        "~ingress_annotationpresent_traefik_ingress_kubernetes_io_router_entrypoints=true",
    ];
    let target = |host: &str, scheme: &str, path: &str| {
        vec![
            format!("__address__={host}"),
            format!("~ingress_host={host}"),
            format!("~ingress_scheme={scheme}"),
            format!("~ingress_path={path}"),
        ]
    };
    let targets = [
        target("a.example.org", "https", "/api"),
        target("a.example.org", "https", "/"),
        // A wildcard covers exactly one label.
        target("a.b.example.org", "http", "/x"),
        // No path: `/`.
        target("shop.example.com", "https", "/"),
        // No HTTP rule value: `/`.
        target("other.net", "http", "/"),
    ];
    let g = ingress_group(&site_ingress(), NO_OPTS, &Lookup::full());
    assert_group(&g, "ingress/shop/site", &group, &targets);

    let g = ingress_group(&site_ingress(), ALL_OPTS, &Lookup::full());
    assert_labels(&g.labels, &with(&group, SHOP_NAMESPACE));
    assert_eq!(g.targets.len(), 5);
}

#[test]
fn ingress_role_bare_wildcard_and_hostless_rule() {
    let ing: Ingress = from(json!({
        "metadata": {"name": "intra", "namespace": "ops"},
        "spec": {"tls": [{"hosts": ["*"]}],
            "rules": [{"host": "intranet"}, {"host": "a.b"},
                {"http": {"paths": [{"path": "/d", "pathType": "Prefix", "backend": {"service": {"name": "d", "port": {"number": 80}}}}]}}]}
    }));
    let g = ingress_group(&ing, NO_OPTS, &Lookup::default());
    // Go's pattern matching: `*` matches any single-label host.
    let targets = [
        vec![
            "__address__=intranet",
            "~ingress_host=intranet",
            "~ingress_scheme=https",
            "~ingress_path=/",
        ],
        vec![
            "__address__=a.b",
            "~ingress_host=a.b",
            "~ingress_scheme=http",
            "~ingress_path=/",
        ],
        // A rule without host: empty (absent) address and host; `*` matches the empty host too.
        vec!["~ingress_scheme=https", "~ingress_path=/d"],
    ];
    assert_group(
        &g,
        "ingress/ops/intra",
        &["~namespace=ops", "~ingress_name=intra"],
        &targets,
    );
}
