//! `kube_<kind>_created` and the allowlist-gated `kube_<kind>_labels`/`_annotations` for the kinds whose own module
//! does not write them (pods, nodes and namespaces do).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use lookout_model::MetricsWriter;

use super::helpers::{Ident, gauge, labels_families, put, ts};
use crate::cache::Snapshot;
use crate::settings::KubeStateSettings;

/// `namespace` and the name under `label`, or only the name for cluster-scoped kinds.
fn ident(label: &'static str, meta: &ObjectMeta, uid: bool) -> Ident<'static> {
    let mut i = Vec::with_capacity(3);
    if let Some(ns) = &meta.namespace {
        i.push(("namespace", ns.clone()));
    }
    i.push((label, meta.name.clone().unwrap_or_default()));
    if uid {
        i.push(("uid", meta.uid.clone().unwrap_or_default()));
    }
    i
}

/// One kind's objects: (KSM singular, plural resource name for the allowlists, identity label, uid in identity).
struct Kind<'a> {
    singular: &'static str,
    resource: &'static str,
    label: &'static str,
    uid: bool,
    metas: Vec<&'a ObjectMeta>,
}

fn metas<K: kube::Resource>(list: &[std::sync::Arc<K>]) -> Vec<&ObjectMeta> {
    list.iter().map(|o| o.meta()).collect()
}

/// Renders the shared families of every kind listed here.
pub fn render(s: &Snapshot, settings: &KubeStateSettings, out: &mut MetricsWriter) {
    let kinds = [
        Kind {
            singular: "deployment",
            resource: "deployments",
            label: "deployment",
            uid: false,
            metas: metas(&s.deployments),
        },
        Kind {
            singular: "statefulset",
            resource: "statefulsets",
            label: "statefulset",
            uid: false,
            metas: metas(&s.stateful_sets),
        },
        Kind {
            singular: "daemonset",
            resource: "daemonsets",
            label: "daemonset",
            uid: false,
            metas: metas(&s.daemon_sets),
        },
        Kind {
            singular: "replicaset",
            resource: "replicasets",
            label: "replicaset",
            uid: false,
            metas: metas(&s.replica_sets),
        },
        Kind {
            singular: "job",
            resource: "jobs",
            label: "job_name",
            uid: false,
            metas: metas(&s.jobs),
        },
        Kind {
            singular: "cronjob",
            resource: "cronjobs",
            label: "cronjob",
            uid: false,
            metas: metas(&s.cron_jobs),
        },
        Kind {
            singular: "persistentvolumeclaim",
            resource: "persistentvolumeclaims",
            label: "persistentvolumeclaim",
            uid: false,
            metas: metas(&s.persistent_volume_claims),
        },
        Kind {
            singular: "persistentvolume",
            resource: "persistentvolumes",
            label: "persistentvolume",
            uid: false,
            metas: metas(&s.persistent_volumes),
        },
        Kind {
            singular: "service",
            resource: "services",
            label: "service",
            uid: true,
            metas: metas(&s.services),
        },
        Kind {
            singular: "horizontalpodautoscaler",
            resource: "horizontalpodautoscalers",
            label: "horizontalpodautoscaler",
            uid: false,
            metas: metas(&s.horizontal_pod_autoscalers),
        },
    ];
    for k in &kinds {
        let name = format!("kube_{}_created", k.singular);
        let mut f = gauge(out, &name, "Unix creation timestamp");
        for m in &k.metas {
            if let Some(t) = &m.creation_timestamp {
                put(&mut f, &ident(k.label, m, k.uid), &[], ts(t));
            }
        }
        let objects: Vec<_> = k
            .metas
            .iter()
            .map(|m| (ident(k.label, m, k.uid), *m))
            .collect();
        labels_families(out, settings, k.resource, k.singular, &objects);
    }
}
