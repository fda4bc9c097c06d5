//! One `kubernetes_sd_configs` entry at run time: subscribes to the shared watches its role needs, and sends the
//! complete set of target groups whenever one of them changed (never a partial list, so nothing flaps).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Endpoints, Namespace, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use lookout_model::TargetGroup;
use parking_lot::Mutex;
use tokio::sync::mpsc;

use crate::cache::{ObjectLookup, RoleOptions};
use crate::client::{Connection, own_namespace};
use crate::config::{KubernetesSdConfig, Role};
use crate::roles;
use crate::targets::KubernetesTargets;
use crate::watch::{Hub, Watchable, Watched};

/// How often a discovery checks its watches for changes; bounds how late targets follow the cluster.
const POLL: Duration = Duration::from_millis(250);
/// How long a discovery waits for its watches' first lists before sending what it has.
const SYNC_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause before retrying a connection that could not be set up.
const CONNECT_RETRY: Duration = Duration::from_secs(30);

/// All API-server connections and their watch hubs; cheap to clone.
#[derive(Clone, Default)]
pub struct KubernetesDiscovery {
    hubs: Arc<Mutex<HashMap<Connection, Arc<Hub>>>>,
}

impl KubernetesDiscovery {
    /// No connections yet; each is made when a discovery, monitor or exporter first needs it.
    pub fn new() -> Self {
        KubernetesDiscovery::default()
    }

    /// The hub of `conn`, connecting if needed.
    pub async fn hub(&self, conn: &Connection) -> Result<Arc<Hub>, crate::client::ConnectError> {
        if let Some(h) = self.hubs.lock().get(conn) {
            return Ok(h.clone());
        }
        let client = conn.connect().await?;
        let mut hubs = self.hubs.lock();
        Ok(hubs
            .entry(conn.clone())
            .or_insert_with(|| Arc::new(Hub::new(client)))
            .clone())
    }

    /// The hub of `conn`, retrying every 30 s until a client can be built (logged once per attempt).
    pub async fn hub_retrying(&self, conn: &Connection) -> Arc<Hub> {
        loop {
            match self.hub(conn).await {
                Ok(h) => return h,
                Err(e) => {
                    tracing::error!(error = %e, "kubernetes discovery cannot connect; retrying in 30s");
                    tokio::time::sleep(CONNECT_RETRY).await;
                }
            }
        }
    }

    /// Estimated heap bytes of every hub's watch stores (the discovery's share of the memory budget).
    pub fn approx_bytes(&self) -> u64 {
        self.hubs().iter().map(|h| h.approx_bytes()).sum()
    }

    /// Every hub, for self-metrics.
    pub fn hubs(&self) -> Vec<Arc<Hub>> {
        self.hubs.lock().values().cloned().collect()
    }
}

impl KubernetesTargets for KubernetesDiscovery {
    fn run(
        &self,
        config: KubernetesSdConfig,
        tx: mpsc::Sender<Vec<TargetGroup>>,
    ) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let this = self.clone();
        Box::pin(async move {
            let hub = this.hub_retrying(&Connection::of(&config)).await;
            let watches = RoleWatches::subscribe(&hub, &config);
            watches.send_changes(tx).await;
        })
    }
}

/// The shared watches one entry reads: its role's objects and the related kinds its labels come from.
struct RoleWatches {
    role: Role,
    options: RoleOptions,
    nodes: Vec<Arc<Watched<Node>>>,
    namespaces: Vec<Arc<Watched<Namespace>>>,
    services: Vec<Arc<Watched<Service>>>,
    pods: Vec<Arc<Watched<Pod>>>,
    endpoints: Vec<Arc<Watched<Endpoints>>>,
    endpoint_slices: Vec<Arc<Watched<EndpointSlice>>>,
    ingresses: Vec<Arc<Watched<Ingress>>>,
}

impl RoleWatches {
    fn subscribe(hub: &Hub, cfg: &KubernetesSdConfig) -> Self {
        let mut names = cfg.namespaces.names.clone();
        if cfg.namespaces.own_namespace
            && let Some(own) = own_namespace()
        {
            names.push(own);
        }
        names.sort();
        names.dedup();
        let scopes: Vec<Option<&str>> = if names.is_empty() {
            vec![None]
        } else {
            names.iter().map(|n| Some(n.as_str())).collect()
        };
        let options = RoleOptions {
            attach_node: cfg.attach_metadata.node,
            attach_namespace: cfg.attach_metadata.namespace,
        };
        fn each<K: Watchable + kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>>(
            hub: &Hub,
            scopes: &[Option<&str>],
            sel: (Option<&str>, Option<&str>),
        ) -> Vec<Arc<Watched<K>>> {
            scopes
                .iter()
                .map(|ns| hub.watch_namespaced::<K>(*ns, sel.0, sel.1))
                .collect()
        }
        let mut w = RoleWatches {
            role: cfg.role,
            options,
            nodes: Vec::new(),
            namespaces: Vec::new(),
            services: Vec::new(),
            pods: Vec::new(),
            endpoints: Vec::new(),
            endpoint_slices: Vec::new(),
            ingresses: Vec::new(),
        };
        if cfg.role == Role::Node || (options.attach_node && cfg.role != Role::Service) {
            let (l, f) = cfg.selector_for(Role::Node);
            w.nodes.push(hub.watch_cluster::<Node>(l, f));
        }
        if options.attach_namespace && cfg.role != Role::Node {
            w.namespaces
                .push(hub.watch_cluster::<Namespace>(None, None));
        }
        if matches!(
            cfg.role,
            Role::Service | Role::Endpoints | Role::EndpointSlice
        ) {
            w.services = each(hub, &scopes, cfg.selector_for(Role::Service));
        }
        if matches!(cfg.role, Role::Pod | Role::Endpoints | Role::EndpointSlice) {
            w.pods = each(hub, &scopes, cfg.selector_for(Role::Pod));
        }
        match cfg.role {
            Role::Endpoints => w.endpoints = each(hub, &scopes, cfg.selector_for(Role::Endpoints)),
            Role::EndpointSlice => {
                w.endpoint_slices = each(hub, &scopes, cfg.selector_for(Role::EndpointSlice))
            }
            Role::Ingress => w.ingresses = each(hub, &scopes, cfg.selector_for(Role::Ingress)),
            _ => {}
        }
        w
    }

    /// The generation of every watch, in a fixed order: any difference means something changed.
    fn generations(&self) -> Vec<u64> {
        fn g<K: Watchable>(v: &[Arc<Watched<K>>], out: &mut Vec<u64>) {
            out.extend(v.iter().map(|w| *w.changes().borrow()));
        }
        let mut out = Vec::new();
        g(&self.nodes, &mut out);
        g(&self.namespaces, &mut out);
        g(&self.services, &mut out);
        g(&self.pods, &mut out);
        g(&self.endpoints, &mut out);
        g(&self.endpoint_slices, &mut out);
        g(&self.ingresses, &mut out);
        out
    }

    fn groups(&self) -> Vec<TargetGroup> {
        let o = self.options;
        let mut out: Vec<TargetGroup> = match self.role {
            Role::Node => objects(&self.nodes)
                .map(|n| roles::node_group(&n))
                .collect(),
            Role::Service => objects(&self.services)
                .map(|s| roles::service_group(&s, o, self))
                .collect(),
            Role::Pod => objects(&self.pods)
                .map(|p| roles::pod_group(&p, o, self))
                .collect(),
            Role::Endpoints => objects(&self.endpoints)
                .map(|e| roles::endpoints_group(&e, o, self))
                .collect(),
            Role::EndpointSlice => objects(&self.endpoint_slices)
                .map(|e| roles::endpointslice_group(&e, o, self))
                .collect(),
            Role::Ingress => objects(&self.ingresses)
                .map(|i| roles::ingress_group(&i, o, self))
                .collect(),
        };
        out.retain(|g| !g.targets.is_empty());
        out.sort_by(|a, b| a.source.cmp(&b.source));
        out
    }

    async fn send_changes(self, tx: mpsc::Sender<Vec<TargetGroup>>) {
        let started = Instant::now();
        // Wait for the first complete lists, as Prometheus waits for its informers to sync: sending earlier would
        // drop every target for a moment.
        while !self.generations().iter().all(|g| *g > 0) && started.elapsed() < SYNC_TIMEOUT {
            if tx.is_closed() {
                return;
            }
            tokio::time::sleep(POLL).await;
        }
        let mut seen: Option<Vec<u64>> = None;
        let mut last_sent: Option<Vec<TargetGroup>> = None;
        loop {
            let now = self.generations();
            if seen.as_ref() != Some(&now) {
                seen = Some(now);
                let groups = self.groups();
                if last_sent.as_ref() != Some(&groups) {
                    if tx.send(groups.clone()).await.is_err() {
                        return;
                    }
                    last_sent = Some(groups);
                }
            }
            if tx.is_closed() {
                return;
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

fn objects<K: Watchable>(watches: &[Arc<Watched<K>>]) -> impl Iterator<Item = Arc<K>> + '_ {
    watches.iter().flat_map(|w| w.objects())
}

fn find<K: Watchable>(watches: &[Arc<Watched<K>>], ns: &str, name: &str) -> Option<Arc<K>> {
    watches.iter().find_map(|w| w.get(ns, name))
}

impl ObjectLookup for RoleWatches {
    fn pod(&self, namespace: &str, name: &str) -> Option<Arc<Pod>> {
        find(&self.pods, namespace, name)
    }
    fn service(&self, namespace: &str, name: &str) -> Option<Arc<Service>> {
        find(&self.services, namespace, name)
    }
    fn node(&self, name: &str) -> Option<Arc<Node>> {
        find(&self.nodes, "", name)
    }
    fn namespace(&self, name: &str) -> Option<Arc<Namespace>> {
        find(&self.namespaces, "", name)
    }
}
