//! Wiring of the `kubernetes:` section: the discovery handed to the scraper, the default jobs and the Operator
//! monitors' jobs merged into the configured scrape jobs, the built-in kube-state-metrics exporter, and the
//! discovery's self-metrics.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lookout_api::SelfMetrics;
use lookout_collect::config::{ScrapeConfig, resolve_all};
use lookout_discovery::client::Connection;
use lookout_discovery::kube_state_watches::LazyKubeState;
use lookout_discovery::monitors::{MonitorAvailability, MonitorJobs, run_monitors};
use lookout_discovery::prometheus_rules::{RuleObjects, run_rules};
use lookout_discovery::{KubernetesDiscovery, KubernetesSettings, kube_state, operator};
use lookout_model::{ExportError, ExportFuture, Exporter, MetricKind, MetricsWriter};
use tokio::sync::watch;

use crate::config::Config;

/// The name kube-state metrics are served under (`/exporters/kube-state-metrics/metrics`) and scraped as.
pub const KUBE_STATE_EXPORTER: &str = "kube-state-metrics";

/// Everything Kubernetes the running appliance holds.
pub struct KubernetesWiring {
    /// Shared connections and watches (also used by plain `kubernetes_sd_configs`).
    pub discovery: KubernetesDiscovery,
    monitors: Option<watch::Receiver<MonitorJobs>>,
    rules: Option<watch::Receiver<RuleObjects>>,
    kube_state: Option<Arc<KubeStateExporter>>,
    /// Estimated heap of the watch stores, refreshed every [`MEMORY_CHECK`].
    memory_used: Arc<AtomicU64>,
    /// The discovery share of the memory budget.
    memory_budget: u64,
}

/// How often the watch stores' memory is estimated and checked against the budget share.
const MEMORY_CHECK: Duration = Duration::from_secs(15);

impl KubernetesWiring {
    /// Starts the memory check, and the monitor watcher and kube-state watches when `settings.enabled`; must run
    /// inside the runtime. `memory_budget` is discovery's share of the memory budget.
    pub fn start(settings: &KubernetesSettings, data_dir: &Path, memory_budget: u64) -> Self {
        let discovery = KubernetesDiscovery::new();
        let mut wiring = KubernetesWiring {
            discovery: discovery.clone(),
            monitors: None,
            rules: None,
            kube_state: None,
            memory_used: Arc::new(AtomicU64::new(0)),
            memory_budget,
        };
        tokio::spawn(check_memory(
            discovery.clone(),
            wiring.memory_used.clone(),
            memory_budget,
        ));
        if !settings.enabled {
            return wiring;
        }
        if settings.monitors.enabled {
            let (tx, rx) = watch::channel(MonitorJobs::default());
            tokio::spawn(run_monitors(
                discovery.clone(),
                settings.clone(),
                data_dir.join("monitor-secrets"),
                tx,
            ));
            wiring.monitors = Some(rx);
        }
        if settings.rules.enabled {
            let (tx, rx) = watch::channel(RuleObjects::default());
            tokio::spawn(run_rules(discovery.clone(), settings.clone(), tx));
            wiring.rules = Some(rx);
        }
        if settings.kube_state_metrics.enabled {
            wiring.kube_state = Some(Arc::new(KubeStateExporter {
                watches: LazyKubeState::start(discovery, Connection::of_settings(settings)),
                settings: settings.clone(),
            }));
        }
        wiring
    }

    /// Estimated heap bytes of the watch stores, and whether that is above discovery's budget share.
    pub fn memory_use(&self) -> (u64, bool) {
        let used = self.memory_used.load(Ordering::Relaxed);
        (used, used > self.memory_budget)
    }

    /// A receiver that changes whenever the monitors' jobs do.
    pub fn monitor_changes(&self) -> Option<watch::Receiver<MonitorJobs>> {
        self.monitors.clone()
    }

    /// A receiver that changes whenever the selected `PrometheusRule` objects do.
    pub fn rule_objects(&self) -> Option<watch::Receiver<RuleObjects>> {
        self.rules.clone()
    }

    /// The built-in exporters to serve.
    pub fn exporters(&self) -> Vec<Arc<dyn Exporter>> {
        self.kube_state
            .iter()
            .map(|e| e.clone() as Arc<dyn Exporter>)
            .collect()
    }

    /// The configured jobs, then the default jobs, then the monitors' jobs; a generated job whose name is taken
    /// is skipped with a warning (the configuration file wins).
    pub fn scrape_configs(&self, cfg: &Config, self_addr: &str) -> Vec<ScrapeConfig> {
        let mut out = cfg.scrape_configs.clone();
        if !cfg.kubernetes.enabled {
            return out;
        }
        let mut generated = Vec::new();
        if cfg.kubernetes.default_scrape_jobs {
            generated.extend(operator::default_jobs(&cfg.kubernetes, self_addr));
        }
        if let Some(rx) = &self.monitors {
            generated.extend(rx.borrow().jobs.iter().cloned());
        }
        let global = cfg.scrape_global();
        for mut value in generated {
            with_connection(&mut value, &cfg.kubernetes);
            let name = value["job_name"].as_str().unwrap_or_default().to_string();
            if out.iter().any(|c| c.job_name == name) {
                tracing::warn!(job = %name, "a generated job has the name of a configured job; the configured one is kept");
                continue;
            }
            let parsed = serde_json::from_value::<ScrapeConfig>(value).map_err(|e| e.to_string());
            match parsed.and_then(|c| {
                let mut one = [c];
                resolve_all(&mut one, &global).map_err(|e| e.to_string())?;
                let [c] = one;
                Ok(c)
            }) {
                Ok(c) => out.push(c),
                Err(e) => tracing::warn!(job = %name, error = %e, "generated scrape job refused"),
            }
        }
        out
    }
}

/// Gives generated `kubernetes_sd_configs` the `kubernetes:` section's connection when it is not in-cluster.
fn with_connection(job: &mut serde_json::Value, settings: &KubernetesSettings) {
    let Some(sds) = job
        .get_mut("kubernetes_sd_configs")
        .and_then(|v| v.as_array_mut())
    else {
        return;
    };
    for sd in sds {
        let Some(sd) = sd.as_object_mut() else {
            continue;
        };
        if sd.contains_key("api_server") || sd.contains_key("kubeconfig_file") {
            continue;
        }
        if !settings.api_server.is_empty() {
            sd.insert("api_server".into(), settings.api_server.clone().into());
        } else if !settings.kubeconfig_file.is_empty() {
            sd.insert(
                "kubeconfig_file".into(),
                settings.kubeconfig_file.clone().into(),
            );
        }
    }
}

/// Kube-state metrics from the shared watches.
pub struct KubeStateExporter {
    watches: LazyKubeState,
    settings: KubernetesSettings,
}

impl Exporter for KubeStateExporter {
    fn name(&self) -> &str {
        KUBE_STATE_EXPORTER
    }

    /// Renders on the blocking pool: it walks every watched object.
    fn collect<'a>(&'a self, _params: &'a [(String, String)]) -> ExportFuture<'a> {
        let (watches, settings) = (self.watches.clone(), self.settings.clone());
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut out = MetricsWriter::new();
                kube_state::render(&watches.snapshot(), &settings.kube_state_metrics, &mut out);
                out.finish()
            })
            .await
            .map_err(|e| ExportError::Failed(format!("rendering kube-state metrics: {e}")))
        })
    }
}

/// Re-estimates the watch stores' heap every [`MEMORY_CHECK`] (sooner at first) (on the blocking pool: it serialises a sample of
/// every store) and warns when it crosses the budget share. Objects are kept either way: a dropped pod would be a
/// lost target, so the remedy is the operator's (a larger limit, fewer watched namespaces).
async fn check_memory(discovery: KubernetesDiscovery, used: Arc<AtomicU64>, budget: u64) {
    let mut over = false;
    // Early checks come sooner (1, 2, 4, 8 s) so the first figure appears once the initial lists are in.
    let mut wait = Duration::from_secs(1);
    loop {
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(MEMORY_CHECK);
        let d = discovery.clone();
        let Ok(bytes) = tokio::task::spawn_blocking(move || d.approx_bytes()).await else {
            continue;
        };
        used.store(bytes, Ordering::Relaxed);
        if bytes > budget && !over {
            tracing::warn!(
                used = bytes,
                budget,
                "kubernetes watch stores exceed their memory budget share; objects are kept (dropping one would \
                 lose a target): raise --memory-limit or narrow the watched namespaces"
            );
        }
        over = bytes > budget;
    }
}

impl SelfMetrics for KubernetesWiring {
    fn write_metrics(&self, out: &mut MetricsWriter) {
        let hubs = self.discovery.hubs();
        let mut objects = out.family(
            "lookout_kubernetes_watch_objects",
            MetricKind::Gauge,
            "Objects held by a shared Kubernetes watch, by kind and namespace.",
        );
        let mut watches = 0usize;
        for hub in &hubs {
            for (key, n) in hub.watch_counts() {
                watches += 1;
                let ns = key.namespace.as_deref().unwrap_or("");
                objects.sample(&[("kind", key.kind), ("namespace", ns)], n);
            }
        }
        out.gauge(
            "lookout_kubernetes_watches",
            "Shared Kubernetes watches running (one per resource, namespace and selector).",
            watches,
        );
        let mut errors = out.family(
            "lookout_kubernetes_watch_errors_total",
            MetricKind::Counter,
            "Kubernetes watch errors, each retried with backoff, by kind.",
        );
        for hub in &hubs {
            let mut by_kind: Vec<(&str, u64)> = hub
                .stats()
                .errors
                .lock()
                .iter()
                .map(|(k, v)| (*k, *v))
                .collect();
            by_kind.sort();
            for (kind, n) in by_kind {
                errors.sample(&[("kind", kind)], n);
            }
        }
        let relists: u64 = hubs
            .iter()
            .map(|h| h.stats().relists.load(std::sync::atomic::Ordering::Relaxed))
            .sum();
        out.counter(
            "lookout_kubernetes_watch_lists_total",
            "Complete (re)lists of Kubernetes watches.",
            relists,
        );
        if let Some(rx) = &self.monitors {
            let state = rx.borrow();
            let mut avail = out.family(
                "lookout_kubernetes_monitors_available",
                MetricKind::Gauge,
                "Whether ServiceMonitor/PodMonitor objects are watched (1) or not, by reason.",
            );
            for (reason, value) in [
                ("watching", MonitorAvailability::Watching),
                ("crds_absent", MonitorAvailability::CrdsAbsent),
                ("forbidden", MonitorAvailability::Forbidden),
                ("failed", MonitorAvailability::Failed),
            ] {
                avail.sample(&[("state", reason)], state.availability == value);
            }
            out.family(
                "lookout_kubernetes_monitors",
                MetricKind::Gauge,
                "Operator monitors honoured or skipped for an error.",
            )
            .sample(&[("state", "honoured")], state.monitors)
            .sample(&[("state", "invalid")], state.invalid);
        }
    }
}
