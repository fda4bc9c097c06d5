//! Wiring of rules and alerting: the rule manager (evaluating on the API's query pool, so rules share the query
//! limits and concurrency), rule files loaded from `rule_files` (relative to the configuration file), reloads that
//! refuse a bad set whole, and the notifiers alerts go to.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use lookout_api::SelfMetrics;
use lookout_api::pool::BlockingPool;
use lookout_api::rules::RuleStatus;
use lookout_model::{MetricKind, MetricsWriter};
use lookout_promql::Engine;
use lookout_rules::{
    Executor, Group, ManagerOptions, Notification, NotifySink, PromTemplates, RuleFile,
    RuleManager, Templates, load_files,
};
use lookout_storage::Storage;

use crate::config::Config;

/// Runs evaluations on the query pool (a full pool delays the evaluation until a slot frees up or the pool's
/// queue timeout passes; then that evaluation is skipped and logged).
struct PoolExecutor(BlockingPool);

impl Executor for PoolExecutor {
    fn run(
        &self,
        job: Box<dyn FnOnce() + Send>,
    ) -> Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        let pool = self.0.clone();
        Box::pin(async move {
            if let Err(e) = pool.run(job).await {
                tracing::warn!(error = %e.body(), "rule evaluation skipped: the query pool stayed full");
            }
        })
    }
}

/// One destination of due alerts.
pub(crate) type AlertSink = Box<dyn Fn(&[Notification]) + Send + Sync>;

/// Where due alerts go.
pub(crate) struct Fanout {
    pub(crate) sinks: Vec<AlertSink>,
}

impl NotifySink for Fanout {
    fn notify(&self, alerts: Vec<Notification>) {
        for s in &self.sinks {
            s(&alerts);
        }
    }
}

/// The rule manager and what it needs to reload.
pub struct RulesWiring {
    manager: RuleManager,
    templates: Arc<PromTemplates>,
    base: PathBuf,
    /// `PrometheusRule` objects (Kubernetes), loaded like rule files.
    objects: Option<tokio::sync::watch::Receiver<lookout_discovery::prometheus_rules::RuleObjects>>,
    alertmanagers: Box<dyn Fn() -> (Vec<String>, Vec<String>) + Send + Sync>,
}

/// The directory rule file globs are relative to.
fn base_dir(config_path: Option<&Path>) -> PathBuf {
    config_path
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

impl RulesWiring {
    /// Starts the manager (no rules yet; [`RulesWiring::load`] then [`RulesWiring::apply`]).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start(
        cfg: &Config,
        config_path: Option<&Path>,
        storage: Arc<dyn Storage>,
        engine: Arc<Engine>,
        pool: BlockingPool,
        external_url: String,
        sink: Fanout,
        alertmanagers: Box<dyn Fn() -> (Vec<String>, Vec<String>) + Send + Sync>,
        objects: Option<
            tokio::sync::watch::Receiver<lookout_discovery::prometheus_rules::RuleObjects>,
        >,
    ) -> RulesWiring {
        let templates = Arc::new(PromTemplates::new(
            storage.clone(),
            engine.clone(),
            cfg.global.external_labels.clone(),
            external_url.clone(),
        ));
        let opts = ManagerOptions {
            evaluation_interval: cfg.global.evaluation_interval.as_duration(),
            query_offset: cfg.global.rule_query_offset.as_duration(),
            resend_delay: cfg.rules.resend_delay.as_duration(),
            outage_tolerance: cfg.rules.for_outage_tolerance.as_duration(),
            for_grace_period: cfg.rules.for_grace_period.as_duration(),
            external_url,
        };
        let manager = RuleManager::new(
            storage,
            engine,
            templates.clone(),
            Arc::new(PoolExecutor(pool)),
            Arc::new(sink),
            opts,
        );
        RulesWiring {
            manager,
            templates,
            base: base_dir(config_path),
            objects,
            alertmanagers,
        }
    }

    /// Reads and checks the rule files `cfg` names — every error, with file and position, when any is bad — then
    /// adds the `PrometheusRule` objects' files (named as the Operator names them); an object whose rules are bad
    /// is skipped with an error logged, so one broken object never blocks the others or the files.
    pub(crate) fn load(&self, cfg: &Config) -> Result<Vec<RuleFile>, String> {
        let mut warnings = Vec::new();
        let mut files = load_files(&cfg.rule_files, &self.base, &*self.templates, &mut warnings)
            .map_err(|errors| format!("rule files refused:\n{}", errors.join("\n")))?;
        if let Some(rx) = &self.objects {
            let objects = rx.borrow().clone();
            for f in objects.files {
                match lookout_rules::parse(&f.name, &f.yaml, &|t| self.templates.check(t)) {
                    Ok((file, found)) => {
                        warnings.extend(found.warnings);
                        files.push(file);
                    }
                    Err(found) => tracing::error!(
                        object = %f.name,
                        errors = %found.errors.join("; "),
                        "PrometheusRule object skipped: its rules do not load"
                    ),
                }
            }
        }
        for w in warnings {
            tracing::warn!("{w}");
        }
        Ok(files)
    }

    /// Re-reads the rules after the `PrometheusRule` objects changed (the configuration is unchanged).
    pub(crate) fn reload_objects(&self, cfg: &Config) {
        match self.load(cfg) {
            Ok(files) => self.apply(files),
            Err(e) => {
                tracing::error!(error = %e, "rules not reloaded; the previous rules keep running")
            }
        }
    }

    /// Runs `files` in place of the current rules.
    pub(crate) fn apply(&self, files: Vec<RuleFile>) {
        let groups: usize = files.iter().map(|f| f.groups.len()).sum();
        self.manager.update(files);
        tracing::info!(groups, "rules loaded");
    }

    /// Stops evaluating.
    pub(crate) fn stop(&self) {
        self.manager.stop();
    }
}

impl RuleStatus for RulesWiring {
    fn groups(&self) -> Vec<Group> {
        self.manager.groups()
    }

    fn alertmanagers(&self) -> (Vec<String>, Vec<String>) {
        (self.alertmanagers)()
    }
}

impl SelfMetrics for RulesWiring {
    fn write_metrics(&self, out: &mut MetricsWriter) {
        let groups = self.manager.groups();
        type Field = fn(&Group) -> f64;
        let families: [(&str, &str, MetricKind, Field); 8] = [
            (
                "lookout_rule_evaluations_total",
                "Rule evaluations.",
                MetricKind::Counter,
                |g| g.counters.evaluations as f64,
            ),
            (
                "lookout_rule_evaluation_failures_total",
                "Rule evaluations that failed.",
                MetricKind::Counter,
                |g| g.counters.failures as f64,
            ),
            (
                "lookout_rule_group_iterations_total",
                "Scheduled group evaluations, done or missed.",
                MetricKind::Counter,
                |g| g.counters.iterations as f64,
            ),
            (
                "lookout_rule_group_iterations_missed_total",
                "Group evaluations missed because the previous one ran too long.",
                MetricKind::Counter,
                |g| g.counters.missed as f64,
            ),
            (
                "lookout_rule_group_last_duration_seconds",
                "Duration of the last group evaluation.",
                MetricKind::Gauge,
                |g| g.evaluation_time.as_secs_f64(),
            ),
            (
                "lookout_rule_group_last_evaluation_timestamp_seconds",
                "Time of the last group evaluation.",
                MetricKind::Gauge,
                |g| g.last_evaluation as f64 / 1000.0,
            ),
            (
                "lookout_rule_group_last_evaluation_samples",
                "Samples the last group evaluation wrote.",
                MetricKind::Gauge,
                |g| g.counters.last_samples as f64,
            ),
            (
                "lookout_rule_group_rules",
                "Rules of the group.",
                MetricKind::Gauge,
                |g| g.rules.len() as f64,
            ),
        ];
        for (name, help, kind, field) in families {
            let mut f = out.family(name, kind, help);
            for g in &groups {
                f.sample(&[("rule_group", &g.key())], field(g));
            }
        }
    }
}
