//! Node, storage, namespace and service families.

use lookout_model::MetricsWriter;

use super::helpers::{
    Ident, each_condition, enumerate, gauge, labels_families, parse_quantity, put, quantities,
    simple, ts,
};
use crate::cache::Snapshot;
use crate::settings::KubeStateSettings;

fn named(
    label: &'static str,
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Ident<'static> {
    vec![(label, meta.name.clone().unwrap_or_default())]
}

fn namespaced(
    label: &'static str,
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Ident<'static> {
    vec![
        ("namespace", meta.namespace.clone().unwrap_or_default()),
        (label, meta.name.clone().unwrap_or_default()),
    ]
}

/// Node families (`node` identity).
pub fn render_nodes(s: &Snapshot, settings: &KubeStateSettings, out: &mut MetricsWriter) {
    let nodes = &s.nodes;
    let mut f = gauge(out, "kube_node_info", "Information about a cluster node.");
    for n in nodes {
        let info = n.status.as_ref().and_then(|s| s.node_info.as_ref());
        let get = |f: fn(&k8s_openapi::api::core::v1::NodeSystemInfo) -> &String| {
            info.map(f).cloned().unwrap_or_default()
        };
        let spec = n.spec.as_ref();
        let internal_ip = n
            .status
            .as_ref()
            .and_then(|s| s.addresses.as_ref())
            .and_then(|a| a.iter().find(|a| a.type_ == "InternalIP"))
            .map(|a| a.address.clone())
            .unwrap_or_default();
        put(
            &mut f,
            &named("node", &n.metadata),
            &[
                ("kernel_version", &get(|i| &i.kernel_version)),
                ("os_image", &get(|i| &i.os_image)),
                (
                    "container_runtime_version",
                    &get(|i| &i.container_runtime_version),
                ),
                ("kubelet_version", &get(|i| &i.kubelet_version)),
                ("kubeproxy_version", "deprecated"),
                (
                    "provider_id",
                    &spec.and_then(|s| s.provider_id.clone()).unwrap_or_default(),
                ),
                (
                    "pod_cidr",
                    &spec.and_then(|s| s.pod_cidr.clone()).unwrap_or_default(),
                ),
                ("system_uuid", &get(|i| &i.system_uuid)),
                ("internal_ip", &internal_ip),
            ],
            1.0,
        );
    }
    let mut f = gauge(out, "kube_node_role", "The role of a cluster node.");
    for n in nodes {
        for k in n.metadata.labels.iter().flatten().map(|(k, _)| k) {
            if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                put(&mut f, &named("node", &n.metadata), &[("role", role)], 1.0);
            }
        }
    }
    let mut f = gauge(
        out,
        "kube_node_status_condition",
        "The condition of a cluster node.",
    );
    for n in nodes {
        let conds = n.status.as_ref().and_then(|s| s.conditions.as_ref());
        let pairs = conds.into_iter().flatten();
        let ident = named("node", &n.metadata);
        each_condition(
            &mut f,
            &ident,
            pairs.map(|c| (c.type_.as_str(), c.status.as_str())),
        );
    }
    for (name, alloc) in [
        ("kube_node_status_capacity", false),
        ("kube_node_status_allocatable", true),
    ] {
        let mut f = gauge(out, name, "The resources of a node.");
        for n in nodes {
            let st = n.status.as_ref();
            let q = if alloc {
                st.and_then(|s| s.allocatable.as_ref())
            } else {
                st.and_then(|s| s.capacity.as_ref())
            };
            quantities(&mut f, &named("node", &n.metadata), &[], q);
        }
    }
    let mut f = gauge(
        out,
        "kube_node_spec_unschedulable",
        "Whether a node can schedule new pods.",
    );
    for n in nodes {
        let u = n
            .spec
            .as_ref()
            .and_then(|s| s.unschedulable)
            .unwrap_or(false);
        put(
            &mut f,
            &named("node", &n.metadata),
            &[],
            f64::from(u8::from(u)),
        );
    }
    let mut f = gauge(out, "kube_node_spec_taint", "The taint of a cluster node.");
    for n in nodes {
        for t in n
            .spec
            .as_ref()
            .and_then(|s| s.taints.as_ref())
            .into_iter()
            .flatten()
        {
            let v = t.value.clone().unwrap_or_default();
            put(
                &mut f,
                &named("node", &n.metadata),
                &[("key", &t.key), ("value", &v), ("effect", &t.effect)],
                1.0,
            );
        }
    }
    simple(
        out,
        "kube_node_created",
        "Unix creation timestamp.",
        nodes,
        |n| named("node", &n.metadata),
        |n| n.metadata.creation_timestamp.as_ref().map(ts),
    );
    let objects: Vec<_> = nodes
        .iter()
        .map(|n| (named("node", &n.metadata), &n.metadata))
        .collect();
    labels_families(out, settings, "nodes", "node", &objects);
}

/// PersistentVolumeClaim and PersistentVolume families.
pub fn render_storage(s: &Snapshot, out: &mut MetricsWriter) {
    let pvcs = &s.persistent_volume_claims;
    let id = |m| namespaced("persistentvolumeclaim", m);
    let mut f = gauge(
        out,
        "kube_persistentvolumeclaim_info",
        "Information about persistent volume claim.",
    );
    for c in pvcs {
        let spec = c.spec.as_ref();
        let class = c
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("volume.beta.kubernetes.io/storage-class").cloned())
            .or_else(|| spec.and_then(|s| s.storage_class_name.clone()))
            .unwrap_or_default();
        let vol = spec.and_then(|s| s.volume_name.clone()).unwrap_or_default();
        let mode = spec.and_then(|s| s.volume_mode.clone()).unwrap_or_default();
        put(
            &mut f,
            &id(&c.metadata),
            &[
                ("storageclass", &class),
                ("volumename", &vol),
                ("volumemode", &mode),
            ],
            1.0,
        );
    }
    let mut f = gauge(
        out,
        "kube_persistentvolumeclaim_status_phase",
        "The phase the persistent volume claim is currently in.",
    );
    for c in pvcs {
        let phase = c
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default();
        enumerate(
            &mut f,
            &id(&c.metadata),
            "phase",
            &["Lost", "Bound", "Pending"],
            &phase,
        );
    }
    let mut f = gauge(
        out,
        "kube_persistentvolumeclaim_resource_requests_storage_bytes",
        "The capacity of storage requested by the persistent volume claim.",
    );
    for c in pvcs {
        let q = c
            .spec
            .as_ref()
            .and_then(|s| s.resources.as_ref())
            .and_then(|r| r.requests.as_ref())
            .and_then(|r| r.get("storage"));
        if let Some(v) = q.and_then(|q| parse_quantity(&q.0)) {
            put(&mut f, &id(&c.metadata), &[], v);
        }
    }
    let mut f = gauge(
        out,
        "kube_persistentvolumeclaim_access_mode",
        "The access mode(s) specified by the persistent volume claim.",
    );
    for c in pvcs {
        for m in c
            .spec
            .as_ref()
            .and_then(|s| s.access_modes.as_ref())
            .into_iter()
            .flatten()
        {
            put(&mut f, &id(&c.metadata), &[("access_mode", m)], 1.0);
        }
    }

    let pvs = &s.persistent_volumes;
    let id = |m| named("persistentvolume", m);
    let mut f = gauge(
        out,
        "kube_persistentvolume_status_phase",
        "The phase indicates if a volume is available, bound to a claim, or released by a claim.",
    );
    for v in pvs {
        let phase = v
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default();
        enumerate(
            &mut f,
            &id(&v.metadata),
            "phase",
            &["Pending", "Available", "Bound", "Released", "Failed"],
            &phase,
        );
    }
    let mut f = gauge(
        out,
        "kube_persistentvolume_capacity_bytes",
        "Persistentvolume capacity in bytes.",
    );
    for v in pvs {
        let q = v
            .spec
            .as_ref()
            .and_then(|s| s.capacity.as_ref())
            .and_then(|c| c.get("storage"));
        if let Some(b) = q.and_then(|q| parse_quantity(&q.0)) {
            put(&mut f, &id(&v.metadata), &[], b);
        }
    }
    let mut f = gauge(
        out,
        "kube_persistentvolume_claim_ref",
        "Information about the Persistent Volume Claim Reference.",
    );
    for v in pvs {
        if let Some(r) = v.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) {
            let n = r.name.clone().unwrap_or_default();
            let ns = r.namespace.clone().unwrap_or_default();
            put(
                &mut f,
                &id(&v.metadata),
                &[("name", &n), ("claim_namespace", &ns)],
                1.0,
            );
        }
    }
    let mut f = gauge(
        out,
        "kube_persistentvolume_info",
        "Information about persistentvolume.",
    );
    for v in pvs {
        let spec = v.spec.as_ref();
        let class = spec
            .and_then(|s| s.storage_class_name.clone())
            .unwrap_or_default();
        let policy = spec
            .and_then(|s| s.persistent_volume_reclaim_policy.clone())
            .unwrap_or_default();
        let csi = spec
            .and_then(|s| s.csi.as_ref())
            .map(|c| c.driver.clone())
            .unwrap_or_default();
        put(
            &mut f,
            &id(&v.metadata),
            &[
                ("storageclass", &class),
                ("reclaim_policy", &policy),
                ("csi_driver", &csi),
            ],
            1.0,
        );
    }
}

/// Namespace families.
pub fn render_namespaces(s: &Snapshot, settings: &KubeStateSettings, out: &mut MetricsWriter) {
    let id = |m| named("namespace", m);
    let mut f = gauge(
        out,
        "kube_namespace_status_phase",
        "kubernetes namespace status phase.",
    );
    for n in &s.namespaces {
        let phase = n
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default();
        enumerate(
            &mut f,
            &id(&n.metadata),
            "phase",
            &["Active", "Terminating"],
            &phase,
        );
    }
    simple(
        out,
        "kube_namespace_created",
        "Unix creation timestamp.",
        &s.namespaces,
        |n| named("namespace", &n.metadata),
        |n| n.metadata.creation_timestamp.as_ref().map(ts),
    );
    let objects: Vec<_> = s
        .namespaces
        .iter()
        .map(|n| (id(&n.metadata), &n.metadata))
        .collect();
    labels_families(out, settings, "namespaces", "namespace", &objects);
}

/// Service families.
pub fn render_services(s: &Snapshot, out: &mut MetricsWriter) {
    let id = |svc: &k8s_openapi::api::core::v1::Service| {
        let mut i = namespaced("service", &svc.metadata);
        i.push(("uid", svc.metadata.uid.clone().unwrap_or_default()));
        i
    };
    let mut f = gauge(out, "kube_service_info", "Information about service.");
    for svc in &s.services {
        let spec = svc.spec.as_ref();
        let g = |v: Option<String>| v.unwrap_or_default();
        put(
            &mut f,
            &id(svc),
            &[
                ("cluster_ip", &g(spec.and_then(|s| s.cluster_ip.clone()))),
                (
                    "external_name",
                    &g(spec.and_then(|s| s.external_name.clone())),
                ),
                (
                    "load_balancer_ip",
                    &g(spec.and_then(|s| s.load_balancer_ip.clone())),
                ),
                (
                    "external_traffic_policy",
                    &g(spec.and_then(|s| s.external_traffic_policy.clone())),
                ),
            ],
            1.0,
        );
    }
    let mut f = gauge(out, "kube_service_spec_type", "Type about service.");
    for svc in &s.services {
        let t = svc
            .spec
            .as_ref()
            .and_then(|s| s.type_.clone())
            .unwrap_or_else(|| "ClusterIP".into());
        put(&mut f, &id(svc), &[("type", &t)], 1.0);
    }
}
