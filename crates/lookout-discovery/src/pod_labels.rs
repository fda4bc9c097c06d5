//! Labels for a pod's log streams (the agent's `/var/log/pods` tailing): the pod found by namespace and name in a
//! shared watch of this node's pods (the same field selector as the node-local `kubernetes-pods` job, so one watch
//! serves both), turned into the labels Promtail's Helm chart gives pod logs: `app`, `instance`, `component`,
//! `node_name`.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use k8s_openapi::api::core::v1::Pod;

use crate::client::Connection;
use crate::sd::KubernetesDiscovery;
use crate::watch::Watched;

/// Pod lookups over a lazily started watch of one node's pods.
#[derive(Clone, Default)]
pub struct PodLabels {
    pods: Arc<OnceLock<Arc<Watched<Pod>>>>,
}

impl PodLabels {
    /// Connects (retrying) and watches the pods on `node_name` (all pods when empty) in a background task of the
    /// current runtime.
    pub fn start(discovery: KubernetesDiscovery, connection: Connection, node_name: &str) -> Self {
        let this = PodLabels::default();
        let cell = this.pods.clone();
        let selector = (!node_name.is_empty()).then(|| format!("spec.nodeName={node_name}"));
        tokio::spawn(async move {
            let hub = discovery.hub_retrying(&connection).await;
            let _ = cell.set(hub.watch_namespaced::<Pod>(None, None, selector.as_deref()));
        });
        this
    }

    /// The labels of pod `namespace/name`, or None while it is not (yet) in the watch.
    pub fn labels(&self, namespace: &str, name: &str) -> Option<BTreeMap<String, String>> {
        let pod = self.pods.get()?.get(namespace, name)?;
        Some(pod_labels(&pod))
    }
}

/// Promtail's chart's relabeling of `kubernetes-pods`: `app` from `app.kubernetes.io/name`, else `app`, else the
/// controller's name (a ReplicaSet's without its hash), else the pod's; `instance` and `component` from
/// `app.kubernetes.io/instance`/`instance` and `app.kubernetes.io/component`/`component`; `node_name`.
pub fn pod_labels(pod: &Pod) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let labels = pod.metadata.labels.clone().unwrap_or_default();
    let first = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| labels.get(*k).filter(|v| !v.is_empty()).cloned())
    };
    let controller = pod.metadata.owner_references.as_ref().and_then(|refs| {
        refs.iter().find(|r| r.controller == Some(true)).map(|r| {
            if r.kind == "ReplicaSet" {
                // Deployment pods: the ReplicaSet is `<deployment>-<pod-template-hash>`.
                r.name
                    .rsplit_once('-')
                    .map_or(r.name.clone(), |(d, _)| d.to_string())
            } else {
                r.name.clone()
            }
        })
    });
    let app = first(&["app.kubernetes.io/name", "app"])
        .or(controller)
        .or_else(|| pod.metadata.name.clone());
    if let Some(app) = app {
        out.insert("app".to_string(), app);
    }
    if let Some(v) = first(&["app.kubernetes.io/instance", "instance"]) {
        out.insert("instance".to_string(), v);
    }
    if let Some(v) = first(&["app.kubernetes.io/component", "component"]) {
        out.insert("component".to_string(), v);
    }
    if let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.clone()) {
        out.insert("node_name".to_string(), node);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(json: serde_json::Value) -> Pod {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn labels_follow_promtails_pod_relabeling() {
        let p = pod(serde_json::json!({
            "metadata": {"name": "web-7d4b9c-x2x", "namespace": "shop",
                "labels": {"app.kubernetes.io/name": "web", "app": "old", "app.kubernetes.io/instance": "shop-web",
                           "component": "frontend"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d4b9c", "uid": "u", "controller": true}]},
            "spec": {"nodeName": "worker-2", "containers": []}
        }));
        let l = pod_labels(&p);
        assert_eq!(l["app"], "web");
        assert_eq!(l["instance"], "shop-web");
        assert_eq!(l["component"], "frontend");
        assert_eq!(l["node_name"], "worker-2");
        let bare = pod(serde_json::json!({
            "metadata": {"name": "api-5f6d8-abcde", "namespace": "shop",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-5f6d8", "uid": "u", "controller": true}]},
            "spec": {"containers": []}
        }));
        let l = pod_labels(&bare);
        assert_eq!(l["app"], "api");
        assert!(!l.contains_key("instance") && !l.contains_key("node_name"));
        let lone = pod(serde_json::json!({"metadata": {"name": "debug", "namespace": "x"}}));
        assert_eq!(pod_labels(&lone)["app"], "debug");
    }
}
