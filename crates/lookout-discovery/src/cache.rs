//! What role functions and exporters read besides the object at hand: related objects by key, and whole lists.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod, Service,
};

/// Related objects by key, read from the shared watches' stores (absent when not watched or not found).
pub trait ObjectLookup {
    /// A pod by namespace and name.
    fn pod(&self, namespace: &str, name: &str) -> Option<Arc<Pod>>;
    /// A service by namespace and name.
    fn service(&self, namespace: &str, name: &str) -> Option<Arc<Service>>;
    /// A node by name.
    fn node(&self, name: &str) -> Option<Arc<Node>>;
    /// A namespace by name.
    fn namespace(&self, name: &str) -> Option<Arc<Namespace>>;
}

/// Role options from `attach_metadata`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoleOptions {
    /// Add the hosting node's `__meta_kubernetes_node_*` labels (pod, endpoints, endpointslice).
    pub attach_node: bool,
    /// Add the namespace's `__meta_kubernetes_namespace_label_*`/`_annotation_*` labels.
    pub attach_namespace: bool,
}

/// A point-in-time copy of every watched list kube-state metrics reads.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Pods.
    pub pods: Vec<Arc<Pod>>,
    /// Nodes.
    pub nodes: Vec<Arc<Node>>,
    /// Namespaces.
    pub namespaces: Vec<Arc<Namespace>>,
    /// Services.
    pub services: Vec<Arc<Service>>,
    /// Deployments.
    pub deployments: Vec<Arc<Deployment>>,
    /// StatefulSets.
    pub stateful_sets: Vec<Arc<StatefulSet>>,
    /// DaemonSets.
    pub daemon_sets: Vec<Arc<DaemonSet>>,
    /// ReplicaSets.
    pub replica_sets: Vec<Arc<ReplicaSet>>,
    /// Jobs.
    pub jobs: Vec<Arc<Job>>,
    /// CronJobs.
    pub cron_jobs: Vec<Arc<CronJob>>,
    /// PersistentVolumeClaims.
    pub persistent_volume_claims: Vec<Arc<PersistentVolumeClaim>>,
    /// PersistentVolumes.
    pub persistent_volumes: Vec<Arc<PersistentVolume>>,
    /// HorizontalPodAutoscalers.
    pub horizontal_pod_autoscalers: Vec<Arc<HorizontalPodAutoscaler>>,
}
