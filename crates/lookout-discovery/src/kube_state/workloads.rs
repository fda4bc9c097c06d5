//! Deployment, StatefulSet, DaemonSet and ReplicaSet families.

use lookout_model::MetricsWriter;

use super::helpers::{Ident, cond3, gauge, owners, put, simple};
use crate::cache::Snapshot;

/// `namespace` and the object's name under `label`.
pub(super) fn id(
    label: &'static str,
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Ident<'static> {
    vec![
        ("namespace", meta.namespace.clone().unwrap_or_default()),
        (label, meta.name.clone().unwrap_or_default()),
    ]
}

/// An optional count as a value.
pub(super) fn n(v: Option<i32>) -> Option<f64> {
    v.map(f64::from)
}

/// An optional 64-bit count as a value.
pub(super) fn n64(v: Option<i64>) -> Option<f64> {
    v.map(|v| v as f64)
}

/// The Deployment condition reasons KSM reports verbatim (the deployment controller's); others are `unknown`.
const DEPLOYMENT_REASONS: [&str; 11] = [
    "ReplicaSetUpdated",
    "ReplicaSetCreateError",
    "NewReplicaSetCreated",
    "FoundNewReplicaSet",
    "NewReplicaSetAvailable",
    "ProgressDeadlineExceeded",
    "DeploymentPaused",
    "DeploymentResumed",
    "MinimumReplicasAvailable",
    "MinimumReplicasUnavailable",
    "",
];

/// Renders the workload families.
pub fn render(s: &Snapshot, out: &mut MetricsWriter) {
    let d = &s.deployments;
    let di = |x: &k8s_openapi::api::apps::v1::Deployment| id("deployment", &x.metadata);
    let st = |x: &k8s_openapi::api::apps::v1::Deployment| x.status.clone().unwrap_or_default();
    simple(
        out,
        "kube_deployment_spec_replicas",
        "Number of desired pods for a deployment.",
        d,
        di,
        |x| n(x.spec.as_ref().and_then(|s| s.replicas)),
    );
    simple(
        out,
        "kube_deployment_status_replicas",
        "The number of replicas per deployment.",
        d,
        di,
        |x| n(st(x).replicas),
    );
    simple(
        out,
        "kube_deployment_status_replicas_ready",
        "The number of ready replicas per deployment.",
        d,
        di,
        |x| n(st(x).ready_replicas.or(Some(0))),
    );
    simple(
        out,
        "kube_deployment_status_replicas_available",
        "The number of available replicas per deployment.",
        d,
        di,
        |x| n(st(x).available_replicas.or(Some(0))),
    );
    simple(
        out,
        "kube_deployment_status_replicas_unavailable",
        "The number of unavailable replicas per deployment.",
        d,
        di,
        |x| n(st(x).unavailable_replicas.or(Some(0))),
    );
    simple(
        out,
        "kube_deployment_status_replicas_updated",
        "The number of updated replicas per deployment.",
        d,
        di,
        |x| n(st(x).updated_replicas.or(Some(0))),
    );
    simple(
        out,
        "kube_deployment_status_observed_generation",
        "The generation observed by the deployment controller.",
        d,
        di,
        |x| n64(st(x).observed_generation),
    );
    simple(
        out,
        "kube_deployment_metadata_generation",
        "Sequence number representing a specific generation of the desired state.",
        d,
        di,
        |x| n64(x.metadata.generation),
    );
    simple(
        out,
        "kube_deployment_spec_paused",
        "Whether the deployment is paused and will not be processed by the deployment controller.",
        d,
        di,
        |x| {
            Some(f64::from(u8::from(
                x.spec.as_ref().and_then(|s| s.paused).unwrap_or(false),
            )))
        },
    );
    let mut f = gauge(
        out,
        "kube_deployment_status_condition",
        "The current status conditions of a deployment.",
    );
    for x in d {
        for c in x
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .into_iter()
            .flatten()
        {
            let reason = c
                .reason
                .as_deref()
                .filter(|r| DEPLOYMENT_REASONS.contains(r))
                .or(c.reason.is_none().then_some(""))
                .unwrap_or("unknown");
            cond3(
                &mut f,
                &di(x),
                &[("reason", reason), ("condition", &c.type_)],
                "status",
                &c.status,
            );
        }
    }

    let ss = &s.stateful_sets;
    let si = |x: &k8s_openapi::api::apps::v1::StatefulSet| id("statefulset", &x.metadata);
    let sst = |x: &k8s_openapi::api::apps::v1::StatefulSet| x.status.clone().unwrap_or_default();
    simple(
        out,
        "kube_statefulset_replicas",
        "Number of desired pods for a StatefulSet.",
        ss,
        si,
        |x| n(x.spec.as_ref().and_then(|s| s.replicas)),
    );
    simple(
        out,
        "kube_statefulset_status_replicas",
        "The number of replicas per StatefulSet.",
        ss,
        si,
        |x| n(Some(sst(x).replicas)),
    );
    simple(
        out,
        "kube_statefulset_status_replicas_ready",
        "The number of ready replicas per StatefulSet.",
        ss,
        si,
        |x| n(sst(x).ready_replicas.or(Some(0))),
    );
    simple(
        out,
        "kube_statefulset_status_replicas_current",
        "The number of current replicas per StatefulSet.",
        ss,
        si,
        |x| n(sst(x).current_replicas.or(Some(0))),
    );
    simple(
        out,
        "kube_statefulset_status_replicas_updated",
        "The number of updated replicas per StatefulSet.",
        ss,
        si,
        |x| n(sst(x).updated_replicas.or(Some(0))),
    );
    simple(
        out,
        "kube_statefulset_status_replicas_available",
        "The number of available replicas per StatefulSet.",
        ss,
        si,
        |x| n(sst(x).available_replicas.or(Some(0))),
    );
    simple(
        out,
        "kube_statefulset_status_observed_generation",
        "The generation observed by the StatefulSet controller.",
        ss,
        si,
        |x| n64(sst(x).observed_generation),
    );
    simple(
        out,
        "kube_statefulset_metadata_generation",
        "Sequence number representing a specific generation of the desired state for the StatefulSet.",
        ss,
        si,
        |x| n64(x.metadata.generation),
    );
    for (name, current) in [
        ("kube_statefulset_status_current_revision", true),
        ("kube_statefulset_status_update_revision", false),
    ] {
        let mut f = gauge(out, name, "Indicates the version of the StatefulSet.");
        for x in ss {
            let r = if current {
                sst(x).current_revision
            } else {
                sst(x).update_revision
            };
            if let Some(r) = r {
                put(&mut f, &si(x), &[("revision", &r)], 1.0);
            }
        }
    }

    let ds = &s.daemon_sets;
    let dsi = |x: &k8s_openapi::api::apps::v1::DaemonSet| id("daemonset", &x.metadata);
    let dst = |x: &k8s_openapi::api::apps::v1::DaemonSet| x.status.clone().unwrap_or_default();
    simple(
        out,
        "kube_daemonset_status_desired_number_scheduled",
        "The number of nodes that should be running the daemon pod.",
        ds,
        dsi,
        |x| n(Some(dst(x).desired_number_scheduled)),
    );
    simple(
        out,
        "kube_daemonset_status_current_number_scheduled",
        "The number of nodes running at least one daemon pod and are supposed to.",
        ds,
        dsi,
        |x| n(Some(dst(x).current_number_scheduled)),
    );
    simple(
        out,
        "kube_daemonset_status_number_ready",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
        ds,
        dsi,
        |x| n(Some(dst(x).number_ready)),
    );
    simple(
        out,
        "kube_daemonset_status_number_available",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.",
        ds,
        dsi,
        |x| n(dst(x).number_available.or(Some(0))),
    );
    simple(
        out,
        "kube_daemonset_status_number_unavailable",
        "The number of nodes that should be running the daemon pod and have none of the daemon pod running and available.",
        ds,
        dsi,
        |x| n(dst(x).number_unavailable.or(Some(0))),
    );
    simple(
        out,
        "kube_daemonset_status_number_misscheduled",
        "The number of nodes running a daemon pod but are not supposed to.",
        ds,
        dsi,
        |x| n(Some(dst(x).number_misscheduled)),
    );
    simple(
        out,
        "kube_daemonset_status_updated_number_scheduled",
        "The total number of nodes that are running updated daemon pod.",
        ds,
        dsi,
        |x| n(dst(x).updated_number_scheduled.or(Some(0))),
    );
    simple(
        out,
        "kube_daemonset_status_observed_generation",
        "The most recent generation observed by the daemon set controller.",
        ds,
        dsi,
        |x| n64(dst(x).observed_generation),
    );
    simple(
        out,
        "kube_daemonset_metadata_generation",
        "Sequence number representing a specific generation of the desired state.",
        ds,
        dsi,
        |x| n64(x.metadata.generation),
    );

    let rs = &s.replica_sets;
    let ri = |x: &k8s_openapi::api::apps::v1::ReplicaSet| id("replicaset", &x.metadata);
    let rst = |x: &k8s_openapi::api::apps::v1::ReplicaSet| x.status.clone().unwrap_or_default();
    simple(
        out,
        "kube_replicaset_spec_replicas",
        "Number of desired pods for a ReplicaSet.",
        rs,
        ri,
        |x| n(x.spec.as_ref().and_then(|s| s.replicas)),
    );
    simple(
        out,
        "kube_replicaset_status_replicas",
        "The number of replicas per ReplicaSet.",
        rs,
        ri,
        |x| n(Some(rst(x).replicas)),
    );
    simple(
        out,
        "kube_replicaset_status_ready_replicas",
        "The number of ready replicas per ReplicaSet.",
        rs,
        ri,
        |x| n(rst(x).ready_replicas.or(Some(0))),
    );
    simple(
        out,
        "kube_replicaset_status_fully_labeled_replicas",
        "The number of fully labeled replicas per ReplicaSet.",
        rs,
        ri,
        |x| n(rst(x).fully_labeled_replicas.or(Some(0))),
    );
    simple(
        out,
        "kube_replicaset_status_observed_generation",
        "The generation observed by the ReplicaSet controller.",
        rs,
        ri,
        |x| n64(rst(x).observed_generation),
    );
    let mut f = gauge(
        out,
        "kube_replicaset_owner",
        "Information about the ReplicaSet's owner.",
    );
    for x in rs {
        for (k, nm, c) in owners(&x.metadata) {
            put(
                &mut f,
                &ri(x),
                &[
                    ("owner_kind", &k),
                    ("owner_name", &nm),
                    ("owner_is_controller", &c),
                ],
                1.0,
            );
        }
    }
}
