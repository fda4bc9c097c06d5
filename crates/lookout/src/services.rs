//! The binary's implementation of the API's role traits (`ScrapeStatus`, `ConfigControl`, `RuntimeStatus`,
//! `SelfMetrics`): targets from the scrape manager, configuration and reload,
//! runtime facts (incl. the memory budget split) and everyone's self-metrics.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use lookout_api::services::{
    ActiveTarget, ConfigControl, DroppedTarget, MetricMetadata, RuntimeStatus, ScrapeStatus,
    SelfMetrics, TargetsSnapshot, TsdbStatus,
};
use lookout_collect::scrape::{Health, ScrapeManager};
use lookout_model::{Labels, MetricKind, MetricsWriter};
use lookout_tsdb::Tsdb;
use parking_lot::RwLock;

use crate::budget::MemoryBudget;
use crate::config::{self, Config};
use crate::kubernetes::KubernetesWiring;

/// The loaded configuration and the text it came from.
pub struct LoadedConfig {
    /// Parsed.
    pub config: Config,
    /// As written (for `/api/v1/status/config`).
    pub text: String,
}

/// Everything the API asks the appliance for.
pub struct AppServices {
    /// The TSDB (`None` in agent mode: nothing is stored).
    pub(crate) tsdb: Option<Arc<Tsdb>>,
    /// Agent mode (`lookout agent`): reloads apply the agent's checks too.
    pub(crate) agent: bool,
    pub(crate) scrape: ScrapeManager,
    pub(crate) config: RwLock<LoadedConfig>,
    pub(crate) config_path: Option<PathBuf>,
    pub(crate) self_addr: String,
    pub(crate) flags: Vec<(String, String)>,
    pub(crate) budget: MemoryBudget,
    pub(crate) query_max_samples: usize,
    pub(crate) started: SystemTime,
    pub(crate) last_reload_ok: RwLock<(bool, SystemTime)>,
    pub(crate) kubernetes: Arc<KubernetesWiring>,
    pub(crate) rules: Arc<crate::rules::RulesWiring>,
    pub(crate) notifiers: Arc<crate::notify::Notifiers>,
    pub(crate) collectors: Arc<crate::collectors::CollectorsWiring>,
    /// TLS, authentication and roles (the web config file and the `auth:` section).
    pub(crate) web: Arc<crate::web::WebSecurity>,
}

fn rfc3339(t: SystemTime) -> String {
    let ms = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    lookout_api::format::rfc3339(ms)
}

impl AppServices {
    /// Re-applies the scrape jobs after the Operator monitors changed (the configuration file is unchanged).
    pub(crate) fn apply_generated_jobs(&self) {
        let configs = {
            let cfg = self.config.read();
            cfg.config.collectors.resolve().and_then(|collectors| {
                crate::collectors::all_jobs(
                    &cfg.config,
                    &collectors,
                    &self.kubernetes,
                    &self.self_addr,
                )
            })
        };
        let applied = configs
            .map_err(|e| format!("{e:#}"))
            .and_then(|c| self.scrape.apply_config(c).map_err(|e| e.to_string()));
        match applied {
            Ok(()) => tracing::info!("scrape jobs updated from ServiceMonitor/PodMonitor objects"),
            Err(e) => {
                tracing::error!(error = %e, "monitor jobs refused; the previous jobs keep running")
            }
        }
    }

    fn reload_inner(&self) -> Result<(), String> {
        let (mut cfg, text) = config::load(self.config_path.as_deref(), &self.self_addr)
            .map_err(|e| format!("{e:#}"))?;
        if self.agent {
            config::apply_agent(&mut cfg, "configuration").map_err(|e| format!("{e:#}"))?;
        }
        // Rule files and notifier settings are checked before anything is applied: a bad one refuses the reload
        // and the old rules keep running.
        let rule_files = self.rules.load(&cfg)?;
        let notifiers = self.notifiers.prepare(&cfg)?;
        let collectors = cfg.collectors.resolve().map_err(|e| format!("{e:#}"))?;
        let jobs =
            crate::collectors::all_jobs(&cfg, &collectors, &self.kubernetes, &self.self_addr)
                .map_err(|e| format!("{e:#}"))?;
        // Authentication first: a broken token file refuses the reload before anything else changed.
        self.web.reload(cfg.auth.as_ref())?;
        self.collectors
            .apply(&collectors)
            .map_err(|e| format!("{e:#}"))?;
        self.scrape.apply_config(jobs).map_err(|e| e.to_string())?;
        self.rules.apply(rule_files);
        self.notifiers.apply(notifiers);
        let old = self.config.read();
        if old.config.storage != cfg.storage
            || old.config.server != cfg.server
            || old.config.limits != cfg.limits
            || old.config.kubernetes != cfg.kubernetes
            || old.config.logs != cfg.logs
            || old.config.remote_write != cfg.remote_write
            || old.config.loki_write != cfg.loki_write
            || old.config.host_logs != cfg.host_logs
            || old.config.rules != cfg.rules
            || old.config.global.external_labels != cfg.global.external_labels
            || old.config.global.evaluation_interval != cfg.global.evaluation_interval
        {
            tracing::warn!(
                "storage, limits, server, kubernetes, logs, forwarding, host_logs, rules settings, external labels or the evaluation interval changed: they take effect at the next restart"
            );
        }
        drop(old);
        *self.config.write() = LoadedConfig { config: cfg, text };
        Ok(())
    }
}

impl ScrapeStatus for AppServices {
    fn targets(&self) -> TargetsSnapshot {
        let snap = self.scrape.targets();
        let active = snap
            .active
            .into_iter()
            .map(|t| ActiveTarget {
                discovered_labels: t.target.discovered_labels.clone(),
                labels: t.target.labels.clone(),
                scrape_pool: t.target.job.clone(),
                scrape_url: t.target.url.clone(),
                last_error: t.health.last_error.clone(),
                last_scrape_ms: t.health.last_scrape_ms,
                last_scrape_duration_s: t.health.last_scrape_duration.as_secs_f64(),
                health: match t.health.health {
                    Health::Up => "up",
                    Health::Down => "down",
                    Health::Unknown => "unknown",
                },
                scrape_interval: t.target.interval.to_string(),
                scrape_timeout: t.target.timeout.to_string(),
            })
            .collect();
        let dropped = snap
            .dropped
            .into_iter()
            .map(|d| DroppedTarget {
                discovered_labels: d.dropped.discovered_labels,
                scrape_pool: d.job,
            })
            .collect();
        TargetsSnapshot { active, dropped }
    }

    fn metadata(&self) -> Vec<MetricMetadata> {
        self.scrape
            .metadata()
            .into_iter()
            .map(|(metric, kind, help, unit)| MetricMetadata {
                metric,
                kind,
                help,
                unit,
            })
            .collect()
    }
}

impl ConfigControl for AppServices {
    fn config_yaml(&self) -> String {
        // Secrets are shown as <secret>, as Prometheus does.
        lookout_auth::redact_config_yaml(&self.config.read().text)
    }

    fn flags(&self) -> Vec<(String, String)> {
        self.flags.clone()
    }

    fn reload(&self) -> Result<(), String> {
        let r = self.reload_inner();
        *self.last_reload_ok.write() = (r.is_ok(), SystemTime::now());
        match &r {
            Ok(()) => tracing::info!("configuration reloaded"),
            Err(e) => {
                tracing::error!(error = %e, "configuration reload failed; the previous configuration stays")
            }
        }
        r
    }

    fn external_labels(&self) -> Labels {
        let cfg = self.config.read();
        let pairs: Vec<(&str, &str)> = cfg
            .config
            .global
            .external_labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Labels::from_pairs_unchecked(&pairs)
    }
}

impl RuntimeStatus for AppServices {
    fn runtime_info(&self) -> Vec<(String, serde_json::Value)> {
        use serde_json::json;
        let cfg = self.config.read();
        let (ok, at) = *self.last_reload_ok.read();
        let mut rows = vec![
            ("startTime".to_string(), json!(rfc3339(self.started))),
            (
                "CWD".to_string(),
                json!(
                    std::env::current_dir()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                ),
            ),
            ("reloadConfigSuccess".to_string(), json!(ok)),
            ("lastConfigTime".to_string(), json!(rfc3339(at))),
            (
                "storageRetention".to_string(),
                json!(cfg.config.storage.retention_time.to_string()),
            ),
            (
                "headBytes".to_string(),
                json!(self.tsdb.as_ref().map_or(0, |t| t.head_bytes())),
            ),
            (
                "diskBytes".to_string(),
                json!(self.tsdb.as_ref().map_or(0, |t| t.disk_bytes())),
            ),
            ("queryMaxSamples".to_string(), json!(self.query_max_samples)),
        ];
        let mut budget = serde_json::Map::new();
        for (name, bytes) in self.budget.rows() {
            budget.insert(name.to_string(), json!(bytes));
        }
        budget.insert(
            "source".into(),
            json!(format!("{:?}", self.budget.source).to_lowercase()),
        );
        rows.push((
            "memoryBudget".to_string(),
            serde_json::Value::Object(budget),
        ));
        rows
    }

    fn is_ready(&self) -> bool {
        true
    }

    fn tsdb_status(&self, limit: usize) -> TsdbStatus {
        let Some(tsdb) = &self.tsdb else {
            return TsdbStatus::default();
        };
        let st = tsdb.stats(limit);
        let metric_names = st
            .top_label_pairs
            .iter()
            .filter_map(|(pair, n)| {
                pair.strip_prefix("__name__=")
                    .map(|name| (name.to_string(), *n))
            })
            .take(limit)
            .collect();
        TsdbStatus {
            num_series: st.head_series,
            num_label_pairs: st.top_label_pairs.len() as u64,
            chunk_count: tsdb.metrics().head_chunks,
            min_time: st.persisted_boundary.max(0),
            max_time: st.head_max_time.max(0),
            series_count_by_metric_name: metric_names,
            label_value_count_by_label_name: st.top_label_names.clone(),
            memory_in_bytes_by_label_name: Vec::new(),
            series_count_by_label_value_pair: st.top_label_pairs,
        }
    }
}

impl SelfMetrics for AppServices {
    fn write_metrics(&self, out: &mut MetricsWriter) {
        if let Some(t) = &self.tsdb {
            t.write_metrics(out);
        }
        self.scrape.write_metrics(out);
        lookout_model::regex_limits::write_metrics(out);
        let mut budget = out.family(
            "lookout_memory_budget_bytes",
            MetricKind::Gauge,
            "The memory budget and its split by component.",
        );
        for (name, bytes) in self.budget.rows() {
            budget.sample(&[("component", name)], bytes);
        }
        let (discovery_bytes, discovery_over) = self.kubernetes.memory_use();
        let mut used = out.family(
            "lookout_memory_used_bytes",
            MetricKind::Gauge,
            "Memory in use by component (head: accounted bytes; discovery: estimated heap of the watch stores).",
        );
        if let Some(t) = &self.tsdb {
            used.sample(&[("component", "head")], t.head_bytes());
        }
        used.sample(&[("component", "discovery")], discovery_bytes);
        out.family(
            "lookout_memory_over_budget",
            MetricKind::Gauge,
            "1 while a component that cannot shed data holds more than its budget share.",
        )
        .sample(&[("component", "discovery")], u64::from(discovery_over));
        let (ok, at) = *self.last_reload_ok.read();
        out.gauge(
            "lookout_config_last_reload_successful",
            "Whether the last configuration reload succeeded.",
            ok,
        );
        let secs = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        out.gauge(
            "lookout_config_last_reload_success_timestamp_seconds",
            "Time of the last reload attempt.",
            secs,
        );
    }
}
