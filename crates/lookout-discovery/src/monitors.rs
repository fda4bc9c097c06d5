//! Prometheus Operator `ServiceMonitor` and `PodMonitor` objects, watched when their CRDs exist and turned into
//! scrape jobs with [`crate::operator`]. Absent CRDs or forbidden RBAC are a logged condition and a status value,
//! checked again every five minutes: never a crash and never a retry storm.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::ListParams;
use kube::{Api, Client};
use parking_lot::Mutex;
use tokio::sync::watch;

use crate::client::Connection;
use crate::operator::{self, SecretSource};
use crate::sd::KubernetesDiscovery;
use crate::settings::KubernetesSettings;
use crate::watch::{Hub, Watchable, Watched};

/// How often absent CRDs or forbidden monitors are checked again.
const RECHECK: Duration = Duration::from_secs(300);
/// How often the monitor watches are checked for changes.
const POLL: Duration = Duration::from_secs(1);
/// Secrets referenced by monitors are read again this often, so rotated credentials are picked up.
const SECRET_REFRESH: Duration = Duration::from_secs(300);

/// Declares a `monitoring.coreos.com/v1` kind whose spec is kept as JSON (the Operator's types are not needed whole).
macro_rules! operator_kind {
    ($name:ident, $kind:literal, $plural:literal) => {
        /// A `monitoring.coreos.com/v1` object of this kind; the spec is kept as JSON, as written.
        #[derive(Debug, Clone, ::serde::Serialize, ::serde::Deserialize)]
        pub struct $name {
            /// Object metadata.
            pub metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
            /// The spec as written.
            #[serde(default)]
            pub spec: serde_json::Value,
        }

        impl k8s_openapi::Resource for $name {
            const API_VERSION: &'static str = "monitoring.coreos.com/v1";
            const GROUP: &'static str = "monitoring.coreos.com";
            const KIND: &'static str = $kind;
            const VERSION: &'static str = "v1";
            const URL_PATH_SEGMENT: &'static str = $plural;
            type Scope = k8s_openapi::NamespaceResourceScope;
        }

        impl k8s_openapi::Metadata for $name {
            type Ty = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
            fn metadata(&self) -> &Self::Ty {
                &self.metadata
            }
            fn metadata_mut(&mut self) -> &mut Self::Ty {
                &mut self.metadata
            }
        }
    };
}

pub(crate) use operator_kind;

operator_kind!(ServiceMonitor, "ServiceMonitor", "servicemonitors");
operator_kind!(PodMonitor, "PodMonitor", "podmonitors");

/// Whether monitors (or PrometheusRules) can be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MonitorAvailability {
    /// Not checked yet, or monitors are off.
    #[default]
    Unknown,
    /// Watching.
    Watching,
    /// The CRDs are not installed (404).
    CrdsAbsent,
    /// The service account may not list them (403).
    Forbidden,
    /// Another error; checked again later.
    Failed,
}

/// What the monitor watcher publishes: the generated jobs and its condition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MonitorJobs {
    /// Prometheus scrape-config values, one per monitor endpoint.
    pub jobs: Vec<serde_json::Value>,
    /// Whether monitors are watched.
    pub availability: MonitorAvailability,
    /// Monitors currently honoured.
    pub monitors: usize,
    /// Monitors skipped for an error (named in the log).
    pub invalid: usize,
}

/// Watches monitors until the sender's receivers are gone; TLS files from Secrets are written under `tls_dir`.
pub async fn run_monitors(
    discovery: KubernetesDiscovery,
    settings: KubernetesSettings,
    tls_dir: PathBuf,
    tx: watch::Sender<MonitorJobs>,
) {
    let hub = discovery
        .hub_retrying(&Connection::of_settings(&settings))
        .await;
    let m = &settings.monitors;
    let scopes: Vec<Option<&str>> = if m.namespaces.is_empty() {
        vec![None]
    } else {
        m.namespaces.iter().map(|n| Some(n.as_str())).collect()
    };
    let selector = Some(m.selector.as_str()).filter(|s| !s.is_empty());
    loop {
        let availability = check_available::<ServiceMonitor>(
            hub.client(),
            scopes[0],
            "ServiceMonitor/PodMonitor",
            "monitors",
        )
        .await;
        if availability != MonitorAvailability::Watching {
            tx.send_modify(|s| s.availability = availability);
            if tx.is_closed() {
                return;
            }
            tokio::time::sleep(RECHECK).await;
            continue;
        }
        let service_monitors: Vec<Arc<Watched<ServiceMonitor>>> = scopes
            .iter()
            .map(|ns| hub.watch_namespaced(*ns, selector, None))
            .collect();
        let pod_monitors: Vec<Arc<Watched<PodMonitor>>> = scopes
            .iter()
            .map(|ns| hub.watch_namespaced(*ns, selector, None))
            .collect();
        follow(&hub, &service_monitors, &pod_monitors, &tls_dir, &tx).await;
        return;
    }
}

/// Whether `K` can be listed in `namespace` (None: all), logging why not once per check; `crds` names the CRDs and
/// `ignored` the objects in the log (e.g. `ServiceMonitor/PodMonitor` and `monitors`).
pub(crate) async fn check_available<K>(
    client: &Client,
    namespace: Option<&str>,
    crds: &str,
    ignored: &str,
) -> MonitorAvailability
where
    K: Watchable + kube::Resource<Scope = NamespaceResourceScope>,
{
    let api: Api<K> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let kind = K::kind(&());
    match api.list(&ListParams::default().limit(1)).await {
        Ok(_) => MonitorAvailability::Watching,
        Err(kube::Error::Api(e)) if e.code == 404 => {
            tracing::info!(
                "{crds} CRDs are not installed; {ignored} are ignored (checked again in 5m)"
            );
            MonitorAvailability::CrdsAbsent
        }
        Err(kube::Error::Api(e)) if e.code == 403 => {
            tracing::warn!(reason = %e.message, "not allowed to list {kind}s; {ignored} are ignored (checked again in 5m)");
            MonitorAvailability::Forbidden
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot list {kind}s; checked again in 5m");
            MonitorAvailability::Failed
        }
    }
}

async fn follow(
    hub: &Hub,
    service_monitors: &[Arc<Watched<ServiceMonitor>>],
    pod_monitors: &[Arc<Watched<PodMonitor>>],
    tls_dir: &std::path::Path,
    tx: &watch::Sender<MonitorJobs>,
) {
    let secrets = FetchedSecrets::new(tls_dir.to_path_buf());
    let mut seen: Option<Vec<u64>> = None;
    let mut refreshed = tokio::time::Instant::now();
    loop {
        let generations: Vec<u64> = service_monitors
            .iter()
            .map(|w| *w.changes().borrow())
            .chain(pod_monitors.iter().map(|w| *w.changes().borrow()))
            .collect();
        let refresh = refreshed.elapsed() > SECRET_REFRESH;
        if refresh {
            secrets.clear();
            refreshed = tokio::time::Instant::now();
        }
        if seen.as_ref() != Some(&generations) || refresh {
            seen = Some(generations);
            let sms: Vec<Arc<ServiceMonitor>> =
                service_monitors.iter().flat_map(|w| w.objects()).collect();
            let pms: Vec<Arc<PodMonitor>> = pod_monitors.iter().flat_map(|w| w.objects()).collect();
            let mut out = generate(&sms, &pms, &secrets, false);
            // Secrets the first pass could not find in the cache are fetched, then the jobs are generated again.
            let missing = secrets.take_missing();
            if !missing.is_empty() {
                secrets.fetch(hub.client(), missing).await;
                out = generate(&sms, &pms, &secrets, true);
            }
            tx.send_if_modified(|current| {
                let changed = *current != out;
                *current = out;
                changed
            });
        }
        if tx.is_closed() {
            return;
        }
        tokio::time::sleep(POLL).await;
    }
}

fn generate(
    sms: &[Arc<ServiceMonitor>],
    pms: &[Arc<PodMonitor>],
    secrets: &FetchedSecrets,
    log_errors: bool,
) -> MonitorJobs {
    let mut out = MonitorJobs {
        availability: MonitorAvailability::Watching,
        ..MonitorJobs::default()
    };
    let mut all: Vec<(&str, &ObjectMeta, &serde_json::Value)> = Vec::new();
    all.extend(sms.iter().map(|m| ("ServiceMonitor", &m.metadata, &m.spec)));
    all.extend(pms.iter().map(|m| ("PodMonitor", &m.metadata, &m.spec)));
    all.sort_by_key(|(kind, meta, _)| (*kind, meta.namespace.clone(), meta.name.clone()));
    for (kind, meta, spec) in all {
        let ns = meta.namespace.as_deref().unwrap_or_default();
        let name = meta.name.as_deref().unwrap_or_default();
        let jobs = if kind == "ServiceMonitor" {
            operator::service_monitor_jobs(ns, name, spec, secrets)
        } else {
            operator::pod_monitor_jobs(ns, name, spec, secrets)
        };
        match jobs {
            Ok(jobs) => {
                out.monitors += 1;
                out.jobs.extend(jobs);
            }
            Err(e) => {
                out.invalid += 1;
                if log_errors || secrets.missing_is_empty() {
                    tracing::warn!(error = %e, "monitor skipped");
                }
            }
        }
    }
    out
}

/// A Secret's keys and values (None: not found).
type SecretData = BTreeMap<String, Vec<u8>>;

/// Secrets read from the API server on demand (the operator functions are synchronous).
struct FetchedSecrets {
    tls_dir: PathBuf,
    values: Mutex<HashMap<(String, String), Option<SecretData>>>,
    missing: Mutex<Vec<(String, String)>>,
}

impl FetchedSecrets {
    fn new(tls_dir: PathBuf) -> Self {
        FetchedSecrets {
            tls_dir,
            values: Mutex::new(HashMap::new()),
            missing: Mutex::new(Vec::new()),
        }
    }

    fn clear(&self) {
        self.values.lock().clear();
    }

    fn take_missing(&self) -> Vec<(String, String)> {
        std::mem::take(&mut *self.missing.lock())
    }

    fn missing_is_empty(&self) -> bool {
        self.missing.lock().is_empty()
    }

    async fn fetch(&self, client: &Client, wanted: Vec<(String, String)>) {
        for (ns, name) in wanted {
            let api: Api<Secret> = Api::namespaced(client.clone(), &ns);
            let value = match api.get_opt(&name).await {
                Ok(Some(s)) => Some(
                    s.data
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(k, v)| (k, v.0))
                        .collect(),
                ),
                Ok(None) => None,
                Err(e) => {
                    tracing::warn!(namespace = %ns, secret = %name, error = %e, "cannot read secret");
                    None
                }
            };
            self.values.lock().insert((ns, name), value);
        }
    }

    fn bytes(&self, namespace: &str, name: &str, key: &str) -> Result<Vec<u8>, String> {
        let k = (namespace.to_string(), name.to_string());
        let values = self.values.lock();
        match values.get(&k) {
            None => {
                drop(values);
                self.missing.lock().push(k);
                Err(format!("secret {namespace}/{name} not read yet"))
            }
            Some(None) => Err(format!("secret {namespace}/{name} not found")),
            Some(Some(data)) => data
                .get(key)
                .cloned()
                .ok_or_else(|| format!("secret {namespace}/{name} has no key {key:?}")),
        }
    }
}

impl SecretSource for FetchedSecrets {
    fn secret_value(&self, namespace: &str, name: &str, key: &str) -> Result<String, String> {
        let bytes = self.bytes(namespace, name, key)?;
        String::from_utf8(bytes)
            .map_err(|_| format!("secret {namespace}/{name} key {key:?} is not UTF-8"))
    }

    fn write_tls_file(&self, namespace: &str, name: &str, key: &str) -> Result<String, String> {
        let bytes = self.bytes(namespace, name, key)?;
        let safe = |s: &str| {
            s.replace(
                |c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '.',
                "_",
            )
        };
        let path = self
            .tls_dir
            .join(format!("{}_{}_{}", safe(namespace), safe(name), safe(key)));
        // Key material: readable by this user only.
        let write = || -> std::io::Result<()> {
            use std::io::Write as _;
            use std::os::unix::fs::OpenOptionsExt as _;
            std::fs::create_dir_all(&self.tls_dir)?;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&path)?;
            f.write_all(&bytes)
        };
        write().map_err(|e| format!("writing {}: {e}", path.display()))?;
        Ok(path.display().to_string())
    }
}
