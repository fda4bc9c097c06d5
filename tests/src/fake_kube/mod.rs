//! A fake Kubernetes API server for the tests: list (with `limit`/`continue` paging), watch (history replay, live
//! events, bookmarks, `410 Gone`), label/field selectors and single-object GET, over plain HTTP on 127.0.0.1.
//!
//! Resources are named by their plural (`"pods"`, `"deployments"`, `"servicemonitors"`) or, for resources not in the
//! built-in table, by `"group/version/plural"` (`"v1/pods"` for the core group). Every change bumps one global
//! resourceVersion, as etcd does.

pub mod objects;
mod selectors;
mod server;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::{Value, json};
use tokio::sync::broadcast;

/// Live events buffered per resource; a watch that falls further behind gets `410 Gone` and is closed.
const LIVE_CAPACITY: usize = 4096;
/// Events kept per resource for watches resuming from an older resourceVersion (older ones are compacted away).
const HISTORY_LIMIT: usize = 10_000;
/// Entries kept in the request log (the oldest are dropped).
const REQUEST_LOG_LIMIT: usize = 100_000;

/// The built-in resources: (API path prefix, plural, kind, namespaced).
const BUILTIN: &[(&str, &str, &str, bool)] = &[
    ("/api/v1", "pods", "Pod", true),
    ("/api/v1", "services", "Service", true),
    ("/api/v1", "endpoints", "Endpoints", true),
    ("/api/v1", "nodes", "Node", false),
    ("/api/v1", "namespaces", "Namespace", false),
    ("/api/v1", "secrets", "Secret", true),
    ("/api/v1", "configmaps", "ConfigMap", true),
    (
        "/api/v1",
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        true,
    ),
    ("/api/v1", "persistentvolumes", "PersistentVolume", false),
    ("/apis/apps/v1", "deployments", "Deployment", true),
    ("/apis/apps/v1", "statefulsets", "StatefulSet", true),
    ("/apis/apps/v1", "daemonsets", "DaemonSet", true),
    ("/apis/apps/v1", "replicasets", "ReplicaSet", true),
    ("/apis/batch/v1", "jobs", "Job", true),
    ("/apis/batch/v1", "cronjobs", "CronJob", true),
    (
        "/apis/autoscaling/v2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        true,
    ),
    (
        "/apis/discovery.k8s.io/v1",
        "endpointslices",
        "EndpointSlice",
        true,
    ),
    ("/apis/networking.k8s.io/v1", "ingresses", "Ingress", true),
    (
        "/apis/monitoring.coreos.com/v1",
        "servicemonitors",
        "ServiceMonitor",
        true,
    ),
    (
        "/apis/monitoring.coreos.com/v1",
        "podmonitors",
        "PodMonitor",
        true,
    ),
    (
        "/apis/monitoring.coreos.com/v1",
        "prometheusrules",
        "PrometheusRule",
        true,
    ),
];

/// One change, kept in a resource's history and broadcast to its open watches. Each watch turns it into ADDED,
/// MODIFIED or DELETED as the API server's watch cache does: by whether the old and the new object pass its filter.
struct Change {
    /// The resourceVersion the change created.
    rv: u64,
    /// The object after the change (None: deleted).
    obj: Option<Value>,
    /// The object before the change (None: created).
    prev: Option<Value>,
}

/// What open watches of a resource receive.
#[derive(Clone)]
enum Live {
    /// A change.
    Event(Arc<Change>),
    /// History was expired: send `410 Gone` and close.
    Expire,
    /// The API server "restarted": drop the connection.
    Disconnect,
}

/// One resource: its objects, its history and its open watches.
struct Resource {
    /// `/api/v1` or `/apis/GROUP/VERSION`.
    prefix: String,
    plural: String,
    kind: String,
    namespaced: bool,
    /// Keyed by (namespace, name); namespace is "" for cluster-scoped objects.
    objects: BTreeMap<(String, String), Value>,
    history: VecDeque<Arc<Change>>,
    /// Watches from a resourceVersion older than this get `410 Gone`.
    floor: u64,
    live: broadcast::Sender<Live>,
    missing: bool,
    forbidden: bool,
    lists: usize,
    watches: usize,
}

impl Resource {
    fn new(prefix: &str, plural: &str, kind: &str, namespaced: bool, floor: u64) -> Resource {
        Resource {
            prefix: prefix.to_owned(),
            plural: plural.to_owned(),
            kind: kind.to_owned(),
            namespaced,
            objects: BTreeMap::new(),
            history: VecDeque::new(),
            floor,
            live: broadcast::channel(LIVE_CAPACITY).0,
            missing: false,
            forbidden: false,
            lists: 0,
            watches: 0,
        }
    }

    /// `v1` or `GROUP/VERSION`.
    fn api_version(&self) -> &str {
        self.prefix
            .strip_prefix("/api/")
            .or_else(|| self.prefix.strip_prefix("/apis/"))
            .unwrap_or(&self.prefix)
    }

    /// The API group ("" for core).
    fn group(&self) -> &str {
        self.api_version()
            .rsplit_once('/')
            .map_or("", |(group, _)| group)
    }

    /// Records a change at `rv` and sends it to the open watches.
    fn record(&mut self, rv: u64, obj: Option<Value>, prev: Option<Value>) {
        let event = Arc::new(Change { rv, obj, prev });
        self.history.push_back(event.clone());
        while self.history.len() > HISTORY_LIMIT {
            if let Some(old) = self.history.pop_front() {
                self.floor = old.rv;
            }
        }
        let _ = self.live.send(Live::Event(event));
    }
}

/// The fake server's state, shared by the test handle and the HTTP handlers.
struct State {
    /// The global resourceVersion: the last change's.
    rv: u64,
    uids: u64,
    /// Keyed by `PREFIX/PLURAL`, e.g. `/api/v1/pods`.
    resources: BTreeMap<String, Resource>,
    requests: VecDeque<(String, String)>,
}

impl State {
    /// The key of `resource` (a plural from the table, `group/version/plural`, `version/plural` or a path).
    fn key(&self, resource: &str) -> String {
        let parts: Vec<&str> = resource.trim_matches('/').split('/').collect();
        match parts.as_slice() {
            ["api", version, plural] => format!("/api/{version}/{plural}"),
            ["apis", group, version, plural] => format!("/apis/{group}/{version}/{plural}"),
            [version, plural] => format!("/api/{version}/{plural}"),
            [group, version, plural] => format!("/apis/{group}/{version}/{plural}"),
            [plural] => {
                let mut found = self.resources.iter().filter(|(_, r)| r.plural == *plural);
                match (found.next(), found.next()) {
                    (Some((key, _)), None) => key.clone(),
                    (Some(_), Some(_)) => {
                        panic!("fake kube: {plural:?} is ambiguous; use group/version/plural")
                    }
                    (None, _) => {
                        panic!("fake kube: unknown resource {plural:?}; use group/version/plural")
                    }
                }
            }
            _ => panic!("fake kube: bad resource name {resource:?}"),
        }
    }

    /// The resource, registered on first use with `kind` (default: from the plural) and scope.
    fn resource(&mut self, resource: &str, kind: Option<&str>, namespaced: bool) -> &mut Resource {
        let key = self.key(resource);
        let floor = self.rv;
        self.resources.entry(key.clone()).or_insert_with(|| {
            let (prefix, plural) = key.rsplit_once('/').unwrap_or(("", &key));
            let kind = kind.map_or_else(|| guess_kind(plural), str::to_owned);
            Resource::new(prefix, plural, &kind, namespaced, floor)
        })
    }

    fn counter(&self, resource: &str, f: impl Fn(&Resource) -> usize) -> usize {
        self.resources.get(&self.key(resource)).map_or(0, f)
    }
}

/// `widgets` → `Widget` (for resources registered without a kind).
fn guess_kind(plural: &str) -> String {
    let singular = plural.strip_suffix('s').unwrap_or(plural);
    let mut chars = singular.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

type Shared = Arc<Mutex<State>>;

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running fake Kubernetes API server on 127.0.0.1; stops (and drops its watch connections) when dropped.
pub struct FakeKube {
    addr: SocketAddr,
    state: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl FakeKube {
    /// Starts the server on an ephemeral 127.0.0.1 port with every built-in resource present and empty.
    pub async fn start() -> FakeKube {
        let resources = BUILTIN
            .iter()
            .map(|(prefix, plural, kind, namespaced)| {
                (
                    format!("{prefix}/{plural}"),
                    Resource::new(prefix, plural, kind, *namespaced, 1),
                )
            })
            .collect();
        let state = Arc::new(Mutex::new(State {
            rv: 1,
            uids: 0,
            resources,
            requests: VecDeque::new(),
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("bound address");
        let app = server::router(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeKube { addr, state, task }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A kube client for this server (plain HTTP, no auth); call inside a Tokio runtime.
    pub fn client(&self) -> kube::Client {
        let url = self.url().parse().expect("server URL");
        kube::Client::try_from(kube::Config::new(url)).expect("kube client")
    }

    /// Creates or replaces an object (`metadata.name` required; `namespace` defaults to `default` for namespaced
    /// resources; `apiVersion`/`kind` filled in when missing). Sets `resourceVersion`, keeps or sets `uid` and
    /// `creationTimestamp`, emits ADDED or MODIFIED, and returns the stored object.
    pub fn apply(&self, resource: &str, mut obj: Value) -> Value {
        let mut state = lock(&self.state);
        state.rv += 1;
        state.uids += 1;
        let (rv, uid) = (state.rv, state.uids);
        let has_namespace = obj
            .pointer("/metadata/namespace")
            .is_some_and(Value::is_string);
        let kind_hint = obj.get("kind").and_then(Value::as_str).map(str::to_owned);
        let res = state.resource(resource, kind_hint.as_deref(), has_namespace);
        let map = obj
            .as_object_mut()
            .expect("fake kube: an object must be a JSON object");
        map.entry("apiVersion")
            .or_insert_with(|| res.api_version().into());
        map.entry("kind").or_insert_with(|| res.kind.clone().into());
        let meta = map
            .entry("metadata")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("fake kube: metadata must be an object");
        let name = meta
            .get("name")
            .and_then(Value::as_str)
            .expect("fake kube: metadata.name is required")
            .to_owned();
        let namespace = if res.namespaced {
            let ns = meta
                .get("namespace")
                .and_then(Value::as_str)
                .unwrap_or("default");
            let ns = ns.to_owned();
            meta.insert("namespace".into(), ns.clone().into());
            ns
        } else {
            meta.remove("namespace");
            String::new()
        };
        let key = (namespace, name);
        let prev = res.objects.get(&key).cloned();
        let old_meta = prev.as_ref().map(|o| &o["metadata"]);
        for (field, fresh) in [
            (
                "uid",
                Value::from(format!("00000000-0000-4000-8000-{uid:012x}")),
            ),
            ("creationTimestamp", objects::now().into()),
        ] {
            if !meta.contains_key(field) {
                let kept = old_meta.and_then(|m| m.get(field)).cloned();
                meta.insert(field.into(), kept.unwrap_or(fresh));
            }
        }
        meta.insert("resourceVersion".into(), rv.to_string().into());
        res.objects.insert(key, obj.clone());
        res.record(rv, Some(obj.clone()), prev);
        obj
    }

    /// Deletes an object (`namespace` is ignored for cluster-scoped resources), emitting DELETED (the last state with
    /// the deletion's resourceVersion); returns the deleted object, or None when there was none.
    pub fn delete(&self, resource: &str, namespace: &str, name: &str) -> Option<Value> {
        let mut state = lock(&self.state);
        let key = state.key(resource);
        let next_rv = state.rv + 1;
        let res = state.resources.get_mut(&key)?;
        let namespace = if res.namespaced { namespace } else { "" };
        let obj = res
            .objects
            .remove(&(namespace.to_owned(), name.to_owned()))?;
        res.record(next_rv, None, Some(obj.clone()));
        state.rv = next_rv;
        Some(obj)
    }

    /// The stored object, if any (`namespace` is ignored for cluster-scoped resources).
    pub fn get(&self, resource: &str, namespace: &str, name: &str) -> Option<Value> {
        let state = lock(&self.state);
        let res = state.resources.get(&state.key(resource))?;
        let namespace = if res.namespaced { namespace } else { "" };
        res.objects
            .get(&(namespace.to_owned(), name.to_owned()))
            .cloned()
    }

    /// Registers a resource not in the built-in table (`resource` is `group/version/plural`), e.g. a CRD.
    pub fn register(&self, resource: &str, kind: &str, namespaced: bool) {
        lock(&self.state).resource(resource, Some(kind), namespaced);
    }

    /// The current global resourceVersion.
    pub fn resource_version(&self) -> String {
        lock(&self.state).rv.to_string()
    }

    /// Compacts all history: watch requests from an older resourceVersion get a `410 Gone` ERROR event, and every
    /// open watch gets that event and is closed (so kube's watcher relists).
    pub fn expire_history(&self) {
        let mut state = lock(&self.state);
        let rv = state.rv;
        for res in state.resources.values_mut() {
            res.history.clear();
            res.floor = rv;
            let _ = res.live.send(Live::Expire);
        }
    }

    /// Drops every open watch connection mid-stream, as an API-server restart does.
    pub fn disconnect_watches(&self) {
        for res in lock(&self.state).resources.values() {
            let _ = res.live.send(Live::Disconnect);
        }
    }

    /// Makes the resource answer `404 NotFound` (a CRD not installed) and drops its open watches.
    pub fn set_missing(&self, resource: &str) {
        let mut state = lock(&self.state);
        let res = state.resource(resource, None, true);
        res.missing = true;
        let _ = res.live.send(Live::Disconnect);
    }

    /// Makes the resource answer `403 Forbidden` (no RBAC permission).
    pub fn set_forbidden(&self, resource: &str) {
        lock(&self.state).resource(resource, None, true).forbidden = true;
    }

    /// Serves the resource normally again (undoes `set_missing` and `set_forbidden`).
    pub fn set_served(&self, resource: &str) {
        let mut state = lock(&self.state);
        let res = state.resource(resource, None, true);
        res.missing = false;
        res.forbidden = false;
    }

    /// Every request received so far, oldest first: (method, path and query exactly as sent, i.e. percent-encoded).
    pub fn requests(&self) -> Vec<(String, String)> {
        lock(&self.state).requests.iter().cloned().collect()
    }

    /// How many list requests (each page counts, whatever the answer) the resource received.
    pub fn list_requests(&self, resource: &str) -> usize {
        lock(&self.state).counter(resource, |r| r.lists)
    }

    /// How many watch requests (whatever the answer) the resource received.
    pub fn watch_requests(&self, resource: &str) -> usize {
        lock(&self.state).counter(resource, |r| r.watches)
    }

    /// How many watch streams of the resource are open right now.
    pub fn open_watches(&self, resource: &str) -> usize {
        lock(&self.state).counter(resource, |r| r.live.receiver_count())
    }
}

impl Drop for FakeKube {
    fn drop(&mut self) {
        self.task.abort();
        self.disconnect_watches();
    }
}
