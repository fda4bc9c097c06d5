//! Pod and container families (`namespace`, `pod`, `uid` identity).

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use lookout_model::MetricsWriter;

use super::helpers::{
    Ident, cond3, enumerate, gauge, labels_families, owners, put, quantities, simple, ts,
};
use crate::cache::Snapshot;
use crate::settings::KubeStateSettings;

pub(super) fn ident(p: &Pod) -> Ident<'static> {
    vec![
        (
            "namespace",
            p.metadata.namespace.clone().unwrap_or_default(),
        ),
        ("pod", p.metadata.name.clone().unwrap_or_default()),
        ("uid", p.metadata.uid.clone().unwrap_or_default()),
    ]
}

fn condition<'a>(p: &'a Pod, t: &str) -> Option<&'a k8s_openapi::api::core::v1::PodCondition> {
    p.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == t)
}

/// The reasons `kube_pod_status_reason` reports (KSM v2.20).
const REASONS: [&str; 8] = [
    "Evicted",
    "NodeAffinity",
    "NodeLost",
    "PreemptionByScheduler",
    "SchedulingGated",
    "Shutdown",
    "TerminationByKubelet",
    "UnexpectedAdmissionError",
];

/// The known reasons found in the pod's status, a condition or a terminated container.
fn pod_reasons(p: &Pod) -> Vec<&'static str> {
    let st = p.status.as_ref();
    let mut found: Vec<&str> = Vec::new();
    found.extend(st.and_then(|s| s.reason.as_deref()));
    found.extend(
        st.and_then(|s| s.conditions.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|c| c.reason.as_deref()),
    );
    found.extend(
        statuses(p)
            .iter()
            .filter_map(|cs| cs.state.as_ref()?.terminated.as_ref()?.reason.as_deref()),
    );
    REASONS
        .iter()
        .copied()
        .filter(|r| found.contains(r))
        .collect()
}

pub(super) fn statuses(p: &Pod) -> &[ContainerStatus] {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default()
}

/// Renders the pod and container families.
pub fn render(s: &Snapshot, settings: &KubeStateSettings, out: &mut MetricsWriter) {
    let pods = &s.pods;
    let mut f = gauge(out, "kube_pod_info", "Information about pod.");
    for p in pods {
        let st = p.status.as_ref();
        let spec = p.spec.as_ref();
        let (ck, cn) = p
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.controller == Some(true))
            .map(|o| (o.kind.clone(), o.name.clone()))
            .unwrap_or_default();
        let host_ip = st.and_then(|s| s.host_ip.clone()).unwrap_or_default();
        let pod_ip = st.and_then(|s| s.pod_ip.clone()).unwrap_or_default();
        let node = spec.and_then(|s| s.node_name.clone()).unwrap_or_default();
        let prio = spec
            .and_then(|s| s.priority_class_name.clone())
            .unwrap_or_default();
        let host_net = spec
            .and_then(|s| s.host_network)
            .unwrap_or(false)
            .to_string();
        put(
            &mut f,
            &ident(p),
            &[
                ("host_ip", &host_ip),
                ("pod_ip", &pod_ip),
                ("node", &node),
                ("created_by_kind", &ck),
                ("created_by_name", &cn),
                ("priority_class", &prio),
                ("host_network", &host_net),
            ],
            1.0,
        );
    }
    let mut f = gauge(out, "kube_pod_owner", "Information about the Pod's owner.");
    for p in pods {
        for (k, n, c) in owners(&p.metadata) {
            put(
                &mut f,
                &ident(p),
                &[
                    ("owner_kind", &k),
                    ("owner_name", &n),
                    ("owner_is_controller", &c),
                ],
                1.0,
            );
        }
    }
    let mut f = gauge(out, "kube_pod_status_phase", "The pods current phase.");
    for p in pods {
        let phase = p
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default();
        enumerate(
            &mut f,
            &ident(p),
            "phase",
            &["Pending", "Succeeded", "Failed", "Unknown", "Running"],
            &phase,
        );
    }
    for (name, cond, help) in [
        (
            "kube_pod_status_ready",
            "Ready",
            "Describes whether the pod is ready to serve requests.",
        ),
        (
            "kube_pod_status_scheduled",
            "PodScheduled",
            "Describes the status of the scheduling process for the pod.",
        ),
    ] {
        let mut f = gauge(out, name, help);
        for p in pods {
            if let Some(c) = condition(p, cond) {
                cond3(&mut f, &ident(p), &[], "condition", &c.status);
            }
        }
    }
    let mut f = gauge(
        out,
        "kube_pod_status_unschedulable",
        "Describes the unschedulable status for the pod.",
    );
    for p in pods {
        if condition(p, "PodScheduled").is_some_and(|c| c.status == "False") {
            put(&mut f, &ident(p), &[], 1.0);
        }
    }
    let mut f = gauge(
        out,
        "kube_pod_status_qos_class",
        "The pods current qosClass.",
    );
    for p in pods {
        let q = p
            .status
            .as_ref()
            .and_then(|s| s.qos_class.clone())
            .unwrap_or_default();
        enumerate(
            &mut f,
            &ident(p),
            "qos_class",
            &["BestEffort", "Burstable", "Guaranteed"],
            &q,
        );
    }
    simple(
        out,
        "kube_pod_created",
        "Unix creation timestamp.",
        pods,
        ident,
        |p| p.metadata.creation_timestamp.as_ref().map(ts),
    );
    simple(
        out,
        "kube_pod_start_time",
        "Start time in unix timestamp for a pod.",
        pods,
        ident,
        |p| {
            p.status
                .as_ref()
                .and_then(|s| s.start_time.as_ref())
                .map(ts)
        },
    );
    simple(
        out,
        "kube_pod_deletion_timestamp",
        "Unix deletion timestamp.",
        pods,
        ident,
        |p| p.metadata.deletion_timestamp.as_ref().map(ts),
    );
    for (name, cond, help) in [
        (
            "kube_pod_status_scheduled_time",
            "PodScheduled",
            "Unix timestamp when pod moved into scheduled status.",
        ),
        (
            "kube_pod_status_ready_time",
            "Ready",
            "Readiness achieved time in unix timestamp for a pod.",
        ),
        (
            "kube_pod_status_initialized_time",
            "Initialized",
            "Initialized time in unix timestamp for a pod.",
        ),
        (
            "kube_pod_status_container_ready_time",
            "ContainersReady",
            "Readiness achieved time in unix timestamp for a pod containers.",
        ),
    ] {
        let mut f = gauge(out, name, help);
        for p in pods {
            if let Some(t) = condition(p, cond)
                .filter(|c| c.status == "True")
                .and_then(|c| c.last_transition_time.as_ref())
            {
                put(&mut f, &ident(p), &[], ts(t));
            }
        }
    }
    let mut f = gauge(out, "kube_pod_status_reason", "The pod status reasons.");
    for p in pods {
        let reasons = pod_reasons(p);
        for r in REASONS {
            put(
                &mut f,
                &ident(p),
                &[("reason", r)],
                f64::from(u8::from(reasons.contains(&r))),
            );
        }
    }
    let mut f = gauge(
        out,
        "kube_pod_completion_time",
        "Completion time in unix timestamp for a pod.",
    );
    for p in pods {
        let latest = statuses(p)
            .iter()
            .filter_map(|cs| cs.state.as_ref()?.terminated.as_ref()?.finished_at.as_ref())
            .map(ts)
            .fold(None, |m: Option<f64>, t| Some(m.map_or(t, |m| m.max(t))));
        if let Some(t) = latest {
            put(&mut f, &ident(p), &[], t);
        }
    }
    for (name, init, kind) in [
        ("kube_pod_container_resource_requests", false, "requests"),
        ("kube_pod_container_resource_limits", false, "limits"),
        (
            "kube_pod_init_container_resource_requests",
            true,
            "requests",
        ),
        ("kube_pod_init_container_resource_limits", true, "limits"),
    ] {
        let help = format!("The number of {kind} resource requested by a container.");
        let mut f = gauge(out, name, &help);
        for p in pods {
            let Some(spec) = &p.spec else { continue };
            let node = spec.node_name.clone().unwrap_or_default();
            let list = if init {
                spec.init_containers.as_deref().unwrap_or_default()
            } else {
                &spec.containers
            };
            for c in list {
                let r = c.resources.as_ref();
                let q = if kind == "requests" {
                    r.and_then(|r| r.requests.as_ref())
                } else {
                    r.and_then(|r| r.limits.as_ref())
                };
                quantities(
                    &mut f,
                    &ident(p),
                    &[("container", &c.name), ("node", &node)],
                    q,
                );
            }
        }
    }
    super::containers::render(s, out);
    let objects: Vec<_> = pods.iter().map(|p| (ident(p), &p.metadata)).collect();
    labels_families(out, settings, "pods", "pod", &objects);
}
