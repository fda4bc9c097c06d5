//! The cluster-wide watches kube-state metrics reads, shared with discovery where the same (kind, all namespaces,
//! no selector) watch is used there.

use std::sync::{Arc, OnceLock};

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod, Service,
};

use crate::cache::Snapshot;
use crate::client::Connection;
use crate::sd::KubernetesDiscovery;
use crate::watch::{Hub, Watched};

/// One watch per kind kube-state metrics reports on.
pub struct KubeStateWatches {
    pods: Arc<Watched<Pod>>,
    nodes: Arc<Watched<Node>>,
    namespaces: Arc<Watched<Namespace>>,
    services: Arc<Watched<Service>>,
    deployments: Arc<Watched<Deployment>>,
    stateful_sets: Arc<Watched<StatefulSet>>,
    daemon_sets: Arc<Watched<DaemonSet>>,
    replica_sets: Arc<Watched<ReplicaSet>>,
    jobs: Arc<Watched<Job>>,
    cron_jobs: Arc<Watched<CronJob>>,
    persistent_volume_claims: Arc<Watched<PersistentVolumeClaim>>,
    persistent_volumes: Arc<Watched<PersistentVolume>>,
    horizontal_pod_autoscalers: Arc<Watched<HorizontalPodAutoscaler>>,
}

impl KubeStateWatches {
    /// Starts (or joins) the watches on `hub`.
    pub fn subscribe(hub: &Hub) -> Self {
        KubeStateWatches {
            pods: hub.watch_namespaced(None, None, None),
            nodes: hub.watch_cluster(None, None),
            namespaces: hub.watch_cluster(None, None),
            services: hub.watch_namespaced(None, None, None),
            deployments: hub.watch_namespaced(None, None, None),
            stateful_sets: hub.watch_namespaced(None, None, None),
            daemon_sets: hub.watch_namespaced(None, None, None),
            replica_sets: hub.watch_namespaced(None, None, None),
            jobs: hub.watch_namespaced(None, None, None),
            cron_jobs: hub.watch_namespaced(None, None, None),
            persistent_volume_claims: hub.watch_namespaced(None, None, None),
            persistent_volumes: hub.watch_cluster(None, None),
            horizontal_pod_autoscalers: hub.watch_namespaced(None, None, None),
        }
    }

    /// The current objects of every kind.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            pods: self.pods.objects(),
            nodes: self.nodes.objects(),
            namespaces: self.namespaces.objects(),
            services: self.services.objects(),
            deployments: self.deployments.objects(),
            stateful_sets: self.stateful_sets.objects(),
            daemon_sets: self.daemon_sets.objects(),
            replica_sets: self.replica_sets.objects(),
            jobs: self.jobs.objects(),
            cron_jobs: self.cron_jobs.objects(),
            persistent_volume_claims: self.persistent_volume_claims.objects(),
            persistent_volumes: self.persistent_volumes.objects(),
            horizontal_pod_autoscalers: self.horizontal_pod_autoscalers.objects(),
        }
    }
}

/// Kube-state watches started in the background once the API server can be reached.
#[derive(Clone, Default)]
pub struct LazyKubeState {
    watches: Arc<OnceLock<KubeStateWatches>>,
}

impl LazyKubeState {
    /// Connects (retrying) and subscribes in a background task of the current runtime.
    pub fn start(discovery: KubernetesDiscovery, connection: Connection) -> Self {
        let this = LazyKubeState::default();
        let cell = this.watches.clone();
        tokio::spawn(async move {
            let hub = discovery.hub_retrying(&connection).await;
            let _ = cell.set(KubeStateWatches::subscribe(&hub));
        });
        this
    }

    /// The current objects; empty before the connection is made.
    pub fn snapshot(&self) -> Snapshot {
        self.watches
            .get()
            .map(KubeStateWatches::snapshot)
            .unwrap_or_default()
    }
}
