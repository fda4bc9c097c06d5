//! Shared watches: one `kube` runtime watcher (list → watch, resourceVersion, bookmarks, 410 Gone → relist, backoff)
//! and one reflector store per (resource, namespace, label selector, field selector), shared by every discovery
//! config, monitor and exporter that needs it, and stopped when the last user lets go.
//!
//! A relist replaces the store's contents atomically when the list is complete (the reflector buffers `InitApply`
//! events until `InitDone`), so readers never see a half-listed store and targets do not flap on reconnects.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::{ClusterResourceScope, NamespaceResourceScope};
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::{self, ObjectRef, Store, reflector};
use kube::runtime::watcher::{self, Event, watcher};
use kube::{Api, Client, Resource};
use parking_lot::Mutex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The annotation `kubectl apply` leaves on every object: a full copy of it, never read by discovery.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What identifies one shared watch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WatchKey {
    /// The Rust type of the object (one per Kubernetes kind).
    type_id: TypeId,
    /// The kind, for metrics and logs.
    pub kind: &'static str,
    /// A namespace, or all.
    pub namespace: Option<String>,
    /// Server-side label selector.
    pub label_selector: Option<String>,
    /// Server-side field selector.
    pub field_selector: Option<String>,
}

/// A kind that can be watched: a typed Kubernetes object.
pub trait Watchable:
    Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + Debug + Send + Sync + 'static
{
}

impl<K> Watchable for K where
    K: Resource<DynamicType = ()>
        + Clone
        + DeserializeOwned
        + Serialize
        + Debug
        + Send
        + Sync
        + 'static
{
}

/// Objects serialised to estimate a store's memory.
const SIZE_SAMPLE: usize = 32;

/// Heap bytes a watched object costs per byte of its JSON form: `k8s-openapi` structs reserve room for every
/// optional field, a `String` per value and B-tree nodes per map, and the watch keeps per-object state beside the
/// store. Calibrated with `benches/src/bin/kube_churn.rs`, which prints the estimate next to the counted heap
/// (1,000 two-container pods: 1.9 KB of JSON, 13.7 KiB of heap each).
const HEAP_PER_JSON_BYTE: f64 = 7.0;

/// One running watch and its store; the watch stops when the last `Arc` is dropped.
pub struct Watched<K: Watchable> {
    /// Identity.
    pub key: WatchKey,
    store: Store<K>,
    generation: watch::Receiver<u64>,
    task: JoinHandle<()>,
}

impl<K: Watchable> Drop for Watched<K> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl<K: Watchable> Watched<K> {
    /// Every object in the store (empty until the first list completes).
    pub fn objects(&self) -> Vec<Arc<K>> {
        self.store.state()
    }

    /// One object by namespace (empty for cluster-scoped kinds) and name.
    pub fn get(&self, namespace: &str, name: &str) -> Option<Arc<K>> {
        let mut r = ObjectRef::<K>::new(name);
        if !namespace.is_empty() {
            r = r.within(namespace);
        }
        self.store.get(&r)
    }

    /// Estimated heap bytes of the stored objects: the mean JSON size of up to 32 evenly spaced objects, times the
    /// object count, times [`HEAP_PER_JSON_BYTE`].
    pub fn approx_bytes(&self) -> u64 {
        let all = self.store.state();
        if all.is_empty() {
            return 0;
        }
        let step = all.len().div_ceil(SIZE_SAMPLE);
        let sample: Vec<usize> = all
            .iter()
            .step_by(step)
            .map(|o| serde_json::to_vec(o.as_ref()).map_or(0, |v| v.len()))
            .collect();
        let mean = sample.iter().sum::<usize>() as f64 / sample.len() as f64;
        (mean * all.len() as f64 * HEAP_PER_JSON_BYTE) as u64
    }

    /// True once the first complete list is in the store.
    pub fn is_ready(&self) -> bool {
        *self.generation.borrow() > 0
    }

    /// A receiver that changes on every applied event after the first list (the value counts them).
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.generation.clone()
    }
}

/// A watch of any kind, as the hub keeps it.
trait ErasedWatch: Send + Sync {
    fn object_count(&self) -> usize;
    fn approx_bytes(&self) -> u64;
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

impl<K: Watchable> ErasedWatch for Watched<K> {
    fn object_count(&self) -> usize {
        self.store.len()
    }
    fn approx_bytes(&self) -> u64 {
        Watched::approx_bytes(self)
    }
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}

/// Counters of one hub, by kind.
#[derive(Debug, Default)]
pub struct HubStats {
    /// Watch stream errors (each retried with backoff), by kind.
    pub errors: Mutex<HashMap<&'static str, u64>>,
    /// Events applied to stores.
    pub events: AtomicU64,
    /// Completed (re)lists.
    pub relists: AtomicU64,
}

/// The watches of one API server connection.
pub struct Hub {
    client: Client,
    slots: Mutex<HashMap<WatchKey, Weak<dyn ErasedWatch>>>,
    stats: Arc<HubStats>,
}

impl Hub {
    /// A hub over `client`; watches start on first use, inside the current tokio runtime.
    pub fn new(client: Client) -> Self {
        Hub {
            client,
            slots: Mutex::new(HashMap::new()),
            stats: Arc::new(HubStats::default()),
        }
    }

    /// The API client (for one-off reads such as Secrets).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Counters.
    pub fn stats(&self) -> &HubStats {
        &self.stats
    }

    /// The shared watch of namespaced `K` in `namespace` (None = all) with the given server-side selectors,
    /// started if no one holds it yet.
    pub fn watch_namespaced<K>(
        &self,
        namespace: Option<&str>,
        label_selector: Option<&str>,
        field_selector: Option<&str>,
    ) -> Arc<Watched<K>>
    where
        K: Watchable + Resource<Scope = NamespaceResourceScope>,
    {
        let client = self.client.clone();
        self.shared(
            namespace,
            label_selector,
            field_selector,
            move |ns| match ns {
                Some(ns) => Api::namespaced(client, ns),
                None => Api::all(client),
            },
        )
    }

    /// The shared watch of cluster-scoped `K` (nodes, namespaces, persistent volumes).
    pub fn watch_cluster<K>(
        &self,
        label_selector: Option<&str>,
        field_selector: Option<&str>,
    ) -> Arc<Watched<K>>
    where
        K: Watchable + Resource<Scope = ClusterResourceScope>,
    {
        let client = self.client.clone();
        self.shared(None, label_selector, field_selector, move |_| {
            Api::all(client)
        })
    }

    fn shared<K: Watchable>(
        &self,
        namespace: Option<&str>,
        label_selector: Option<&str>,
        field_selector: Option<&str>,
        api: impl FnOnce(Option<&str>) -> Api<K>,
    ) -> Arc<Watched<K>> {
        let key = WatchKey {
            type_id: TypeId::of::<K>(),
            kind: leak_kind::<K>(),
            namespace: namespace.map(str::to_owned),
            label_selector: label_selector.filter(|s| !s.is_empty()).map(str::to_owned),
            field_selector: field_selector.filter(|s| !s.is_empty()).map(str::to_owned),
        };
        let mut slots = self.slots.lock();
        slots.retain(|_, w| w.strong_count() > 0);
        if let Some(existing) = slots.get(&key).and_then(Weak::upgrade)
            && let Ok(w) = existing.into_any().downcast::<Watched<K>>()
        {
            return w;
        }
        let api = api(key.namespace.as_deref());
        let watched = Arc::new(self.start::<K>(key.clone(), api));
        let erased: Arc<dyn ErasedWatch> = watched.clone();
        slots.insert(key, Arc::downgrade(&erased));
        watched
    }

    /// Estimated heap bytes of every running watch's store.
    pub fn approx_bytes(&self) -> u64 {
        let live: Vec<_> = self
            .slots
            .lock()
            .values()
            .filter_map(Weak::upgrade)
            .collect();
        live.iter().map(|w| w.approx_bytes()).sum()
    }

    /// Running watches by kind, with the objects each holds.
    pub fn watch_counts(&self) -> Vec<(WatchKey, usize)> {
        let slots = self.slots.lock();
        let mut out = Vec::new();
        for (key, weak) in slots.iter() {
            if let Some(w) = weak.upgrade() {
                out.push((key.clone(), w.object_count()));
            }
        }
        out.sort_by(|a, b| format!("{:?}", a.0).cmp(&format!("{:?}", b.0)));
        out
    }

    fn start<K: Watchable>(&self, key: WatchKey, api: Api<K>) -> Watched<K> {
        let mut config = watcher::Config::default();
        if let Some(l) = &key.label_selector {
            config = config.labels(l);
        }
        if let Some(f) = &key.field_selector {
            config = config.fields(f);
        }
        let (store, writer) = reflector::store::<K>();
        let (tx, rx) = watch::channel(0u64);
        let stats = self.stats.clone();
        let kind = key.kind;
        let stream = reflector(
            writer,
            watcher(api, config)
                .default_backoff()
                .modify(|obj: &mut K| strip_unused_metadata(obj)),
        );
        let task = tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            let mut last_warning: Option<Instant> = None;
            let mut generation = 0u64;
            while let Some(event) = stream.next().await {
                match event {
                    Ok(Event::Init | Event::InitApply(_)) => {}
                    Ok(event) => {
                        if matches!(event, Event::InitDone) {
                            stats.relists.fetch_add(1, Ordering::Relaxed);
                        }
                        stats.events.fetch_add(1, Ordering::Relaxed);
                        generation += 1;
                        tx.send_replace(generation);
                    }
                    Err(e) => {
                        *stats.errors.lock().entry(kind).or_default() += 1;
                        // One warning a minute per watch: a dead API server must not flood the log.
                        if last_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                            last_warning = Some(Instant::now());
                            tracing::warn!(kind, error = %e, "kubernetes watch failed; retrying with backoff");
                        }
                    }
                }
            }
        });
        Watched {
            key,
            store,
            generation: rx,
            task,
        }
    }
}

/// Drops what no role, monitor or exporter reads, so the store holds the minimum: managed fields, the
/// last-applied copy of the object, and for pods (the bulk of any cluster) the container details no label or
/// kube-state series is made from (environment, mounts, commands, probes, volumes).
fn strip_unused_metadata<K: Resource + 'static>(obj: &mut K) {
    let meta = obj.meta_mut();
    meta.managed_fields = None;
    if let Some(a) = meta.annotations.as_mut() {
        a.remove(LAST_APPLIED);
    }
    if let Some(pod) = (obj as &mut dyn Any).downcast_mut::<Pod>()
        && let Some(spec) = pod.spec.as_mut()
    {
        spec.volumes = None;
        spec.affinity = None;
        spec.tolerations = None;
        for c in spec
            .containers
            .iter_mut()
            .chain(spec.init_containers.iter_mut().flatten())
        {
            c.env = None;
            c.env_from = None;
            c.volume_mounts = None;
            c.command = None;
            c.args = None;
            c.liveness_probe = None;
            c.readiness_probe = None;
            c.startup_probe = None;
            c.lifecycle = None;
            c.security_context = None;
        }
    }
}

fn leak_kind<K: Watchable>() -> &'static str {
    // Kinds are a small fixed set; interning them once keeps keys cheap to clone.
    static KINDS: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let kind = K::kind(&());
    let mut kinds = KINDS.lock();
    if let Some(k) = kinds.iter().find(|k| **k == kind) {
        return k;
    }
    let k: &'static str = Box::leak(kind.into_owned().into_boxed_str());
    kinds.push(k);
    k
}
