//! The scrape manager: holds the jobs, their discovered target groups and one loop per target; starts and stops
//! loops as configuration and discovery change, and answers the targets API, the metadata API and `/metrics`.
//!
//! All methods but [`ScrapeManager::shutdown`] are synchronous and quick: they take a short lock and spawn or
//! signal tasks on the runtime captured at construction. Loops whose target disappears write staleness markers
//! for everything the target exposed.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Weak};
use std::time::Duration;

use lookout_discovery::KubernetesTargets;
use lookout_model::{Exporter, Labels, TargetGroup};
use lookout_storage::Storage;
use parking_lot::{Mutex, RwLock};
use tokio::runtime::Handle;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;

use super::append::ScrapeContext;
use super::body_memory::BodyMemory;
use super::error::ScrapeError;
use super::fetch::Fetcher;
use super::http::JobClient;
use super::labels::LabelLimits;
use super::metadata::{MAX_METADATA_ENTRIES, MetadataStore};
use super::metrics::ScrapeMetrics;
use super::target_loop::{Health, LoopEnv, LoopSpec, StopMode, TargetHealth, run_target_loop};
use crate::config::{ConfigError, ScrapeConfig};
use crate::file_sd::FileSd;
use crate::target::{DroppedTarget, Target, static_groups, targets_from_groups};

/// Provider name of the groups from `static_configs`.
pub const STATIC_PROVIDER: &str = "static";

/// Knobs of the manager (the binary sets them from the memory budget).
#[derive(Clone)]
pub struct ScrapeOptions {
    /// Scrapes whose storage work may run on the blocking pool at once.
    pub max_concurrent_appends: usize,
    /// Body cap for jobs that set no `body_size_limit`.
    pub default_max_body_bytes: usize,
    /// Bytes all bodies in flight may hold together (0: unbounded); a scrape past it fails (see `body_memory`).
    pub body_memory_bytes: usize,
    /// Where `kubernetes_sd_configs` get their targets (None: such entries discover nothing, with an error logged).
    pub kubernetes: Option<Arc<dyn KubernetesTargets>>,
    /// The exporters built into the binary, for jobs that name one in `builtin_exporter`.
    pub exporters: Vec<Arc<dyn Exporter>>,
}

impl std::fmt::Debug for ScrapeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScrapeOptions")
            .field("max_concurrent_appends", &self.max_concurrent_appends)
            .field("default_max_body_bytes", &self.default_max_body_bytes)
            .field("body_memory_bytes", &self.body_memory_bytes)
            .field("kubernetes", &self.kubernetes.is_some())
            .field(
                "exporters",
                &self.exporters.iter().map(|e| e.name()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Default for ScrapeOptions {
    fn default() -> Self {
        ScrapeOptions {
            max_concurrent_appends: 2,
            default_max_body_bytes: 256 << 20,
            body_memory_bytes: 0,
            kubernetes: None,
            exporters: Vec::new(),
        }
    }
}

/// A target as the targets API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetStatus {
    /// The target's identity and labels.
    pub target: Arc<Target>,
    /// Its last scrape.
    pub health: TargetHealth,
}

/// A dropped target with its job, for the targets API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedTargetStatus {
    /// The job that discovered it.
    pub job: String,
    /// Its labels before relabeling and why it was dropped.
    pub dropped: DroppedTarget,
}

/// All targets, active and dropped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetsSnapshot {
    /// Targets being scraped, by job then URL.
    pub active: Vec<TargetStatus>,
    /// Discovered targets not scraped.
    pub dropped: Vec<DroppedTargetStatus>,
}

struct RunningLoop {
    target: Arc<Target>,
    health: Arc<RwLock<TargetHealth>>,
    stop: oneshot::Sender<StopMode>,
    task: JoinHandle<()>,
}

impl RunningLoop {
    fn stop(self, mode: StopMode) -> JoinHandle<()> {
        let _ = self.stop.send(mode);
        self.task
    }
}

struct Job {
    config: Arc<ScrapeConfig>,
    client: Arc<Result<Fetcher, ScrapeError>>,
    /// Groups by (provider, source).
    groups: BTreeMap<(String, String), TargetGroup>,
    loops: HashMap<u64, RunningLoop>,
    dropped: Vec<DroppedTarget>,
    discovery_tasks: Vec<JoinHandle<()>>,
    /// One task pair per `kubernetes_sd_configs` entry, restarted only when those entries change.
    kubernetes_tasks: Vec<JoinHandle<()>>,
}

struct Inner {
    env: Arc<LoopEnv>,
    runtime: Handle,
    jobs: Mutex<BTreeMap<String, Job>>,
    kubernetes: Option<Arc<dyn KubernetesTargets>>,
    exporters: Vec<Arc<dyn Exporter>>,
}

/// Runs the scrape loops of all jobs.
#[derive(Clone)]
pub struct ScrapeManager {
    inner: Arc<Inner>,
}

fn context_for(config: &ScrapeConfig, target: &Target) -> ScrapeContext {
    ScrapeContext::new(
        target.labels.clone(),
        config.honor_labels,
        config.honor_timestamps,
        config.metric_relabel_configs.clone(),
        config.sample_limit.unwrap_or(0),
        LabelLimits {
            label_limit: config.label_limit,
            name_length_limit: config.label_name_length_limit,
            value_length_limit: config.label_value_length_limit,
        },
    )
}

impl ScrapeManager {
    /// A manager writing to `storage`; must be called inside a tokio runtime, whose handle it keeps.
    pub fn new(storage: Arc<dyn Storage>, options: ScrapeOptions) -> Self {
        let env = LoopEnv {
            storage,
            storage_slots: Arc::new(Semaphore::new(options.max_concurrent_appends.max(1))),
            metrics: Arc::new(ScrapeMetrics::default()),
            metadata: Arc::new(MetadataStore::new(MAX_METADATA_ENTRIES)),
            default_max_body_bytes: options.default_max_body_bytes,
            body_memory: BodyMemory::new(options.body_memory_bytes),
        };
        ScrapeManager {
            inner: Arc::new(Inner {
                env: Arc::new(env),
                runtime: Handle::current(),
                jobs: Mutex::new(BTreeMap::new()),
                kubernetes: options.kubernetes,
                exporters: options.exporters,
            }),
        }
    }

    /// Replaces the set of jobs with `configs` (resolved and validated, see [`crate::config::resolve_all`]).
    /// Unchanged jobs keep running; changed jobs restart their loops (targets that remain are not marked stale);
    /// removed jobs stop and mark their series stale.
    pub fn apply_config(&self, configs: Vec<ScrapeConfig>) -> Result<(), ConfigError> {
        for (i, c) in configs.iter().enumerate() {
            c.validate(&format!("scrape_configs[{i}]"))?;
        }
        let mut jobs = self.inner.jobs.lock();
        let wanted: BTreeMap<String, ScrapeConfig> = configs
            .into_iter()
            .map(|c| (c.job_name.clone(), c))
            .collect();
        jobs.retain(|name, job| {
            if wanted.contains_key(name) {
                return true;
            }
            job.discovery_tasks.drain(..).for_each(|t| t.abort());
            job.kubernetes_tasks.drain(..).for_each(|t| t.abort());
            for (_, l) in job.loops.drain() {
                drop(l.stop(StopMode::TargetGone));
            }
            false
        });
        for (name, config) in wanted {
            let config = Arc::new(config);
            let job = jobs.entry(name.clone()).or_insert_with(|| Job {
                config: config.clone(),
                client: Arc::new(self.fetcher(&config)),
                groups: BTreeMap::new(),
                loops: HashMap::new(),
                dropped: Vec::new(),
                discovery_tasks: Vec::new(),
                kubernetes_tasks: Vec::new(),
            });
            let changed = *job.config != *config;
            let fresh = job.discovery_tasks.is_empty() && job.groups.is_empty();
            if changed {
                job.client = Arc::new(self.fetcher(&config));
            }
            if fresh || job.config.file_sd_configs != config.file_sd_configs {
                job.discovery_tasks.drain(..).for_each(|t| t.abort());
                job.groups
                    .retain(|(provider, _), _| !provider.starts_with("file/"));
                job.discovery_tasks = self.spawn_file_sd(&name, &config);
            }
            let wants_kubernetes = !config.kubernetes_sd_configs.is_empty();
            if (wants_kubernetes && job.kubernetes_tasks.is_empty())
                || job.config.kubernetes_sd_configs != config.kubernetes_sd_configs
            {
                job.kubernetes_tasks.drain(..).for_each(|t| t.abort());
                // Groups of entries that still exist stay until their new provider replaces them (no flapping).
                let n = config.kubernetes_sd_configs.len();
                job.groups.retain(|(provider, _), _| {
                    provider
                        .strip_prefix("kubernetes/")
                        .is_none_or(|i| i.parse::<usize>().is_ok_and(|i| i < n))
                });
                job.kubernetes_tasks = self.spawn_kubernetes_sd(&name, &config);
            }
            job.groups
                .retain(|(provider, _), _| provider != STATIC_PROVIDER);
            for g in static_groups(&config) {
                job.groups
                    .insert((STATIC_PROVIDER.to_string(), g.source.clone()), g);
            }
            let restart_all = changed;
            job.config = config;
            self.sync_job(job, restart_all);
        }
        Ok(())
    }

    /// The job's fetcher: its built-in exporter when it names one, else an HTTP client.
    fn fetcher(&self, config: &Arc<ScrapeConfig>) -> Result<Fetcher, ScrapeError> {
        match &config.builtin_exporter {
            Some(name) => self
                .inner
                .exporters
                .iter()
                .find(|e| e.name() == name)
                .map(|e| Fetcher::Builtin(e.clone()))
                .ok_or_else(|| ScrapeError::Client(format!("no built-in exporter named {name:?}"))),
            None => JobClient::new(config.clone()).map(Fetcher::Http),
        }
    }

    fn spawn_file_sd(&self, job: &str, config: &ScrapeConfig) -> Vec<JoinHandle<()>> {
        let mut tasks = Vec::new();
        for (i, sd) in config.file_sd_configs.iter().enumerate() {
            let (tx, mut rx) = mpsc::channel::<Vec<TargetGroup>>(4);
            tasks.push(self.inner.runtime.spawn(FileSd::new(sd.clone()).run(tx)));
            let weak: Weak<Inner> = Arc::downgrade(&self.inner);
            let (job, provider) = (job.to_string(), format!("file/{i}"));
            tasks.push(self.inner.runtime.spawn(async move {
                while let Some(groups) = rx.recv().await {
                    let Some(inner) = weak.upgrade() else { return };
                    ScrapeManager { inner }.update_target_groups(&job, &provider, groups);
                }
            }));
        }
        tasks
    }

    fn spawn_kubernetes_sd(&self, job: &str, config: &ScrapeConfig) -> Vec<JoinHandle<()>> {
        let mut tasks = Vec::new();
        if config.kubernetes_sd_configs.is_empty() {
            return tasks;
        }
        let Some(source) = self.inner.kubernetes.clone() else {
            tracing::error!(
                job,
                "kubernetes_sd_configs given but this scraper has no Kubernetes discovery; no targets"
            );
            return tasks;
        };
        for (i, sd) in config.kubernetes_sd_configs.iter().enumerate() {
            let (tx, mut rx) = mpsc::channel::<Vec<TargetGroup>>(2);
            tasks.push(self.inner.runtime.spawn(source.run(sd.clone(), tx)));
            let weak: Weak<Inner> = Arc::downgrade(&self.inner);
            let (job, provider) = (job.to_string(), format!("kubernetes/{i}"));
            tasks.push(self.inner.runtime.spawn(async move {
                while let Some(groups) = rx.recv().await {
                    let Some(inner) = weak.upgrade() else { return };
                    ScrapeManager { inner }.replace_target_groups(&job, &provider, groups);
                }
            }));
        }
        tasks
    }

    /// Applies changed groups from a discovery `provider` of `job`: a group replaces the previous group with the
    /// same source; a group without targets removes it. Unknown jobs are ignored.
    pub fn update_target_groups(&self, job: &str, provider: &str, groups: Vec<TargetGroup>) {
        let mut jobs = self.inner.jobs.lock();
        let Some(job) = jobs.get_mut(job) else { return };
        for g in groups {
            let key = (provider.to_string(), g.source.clone());
            if g.targets.is_empty() {
                job.groups.remove(&key);
            } else {
                job.groups.insert(key, g);
            }
        }
        self.sync_job(job, false);
    }

    /// Replaces every group of a discovery `provider` of `job` with `groups`.
    pub fn replace_target_groups(&self, job: &str, provider: &str, groups: Vec<TargetGroup>) {
        let mut jobs = self.inner.jobs.lock();
        let Some(job) = jobs.get_mut(job) else { return };
        job.groups.retain(|(p, _), _| p != provider);
        for g in groups.into_iter().filter(|g| !g.targets.is_empty()) {
            job.groups
                .insert((provider.to_string(), g.source.clone()), g);
        }
        self.sync_job(job, false);
    }

    /// Recomputes a job's targets from its groups and starts/stops loops to match.
    fn sync_job(&self, job: &mut Job, restart_all: bool) {
        let (targets, dropped) = targets_from_groups(&job.config, job.groups.values());
        job.dropped = dropped;
        let mut next: HashMap<u64, Target> = targets.into_iter().map(|t| (t.key(), t)).collect();
        let keys: Vec<u64> = job.loops.keys().copied().collect();
        for key in keys {
            match next.remove(&key) {
                Some(target) if restart_all => {
                    let old = job.loops.remove(&key).expect("listed");
                    drop(old.stop(StopMode::Quiet));
                    let new = self.start_loop(job, target);
                    job.loops.insert(key, new);
                }
                Some(_) => {}
                None => {
                    let old = job.loops.remove(&key).expect("listed");
                    drop(old.stop(StopMode::TargetGone));
                }
            }
        }
        for (key, target) in next {
            let l = self.start_loop(job, target);
            job.loops.insert(key, l);
        }
    }

    fn start_loop(&self, job: &Job, target: Target) -> RunningLoop {
        let target = Arc::new(target);
        let health = Arc::new(RwLock::new(TargetHealth::default()));
        let max_body_bytes = match job.config.body_size_limit {
            Some(limit) if limit.0 > 0 => limit.0.min(usize::MAX as u64) as usize,
            _ => self.inner.env.default_max_body_bytes,
        };
        let spec = LoopSpec {
            target: target.clone(),
            client: job.client.clone(),
            ctx: Arc::new(context_for(&job.config, &target)),
            max_body_bytes,
            health: health.clone(),
        };
        let (stop, stop_rx) = oneshot::channel();
        let task = self
            .inner
            .runtime
            .spawn(run_target_loop(self.inner.env.clone(), spec, stop_rx));
        RunningLoop {
            target,
            health,
            stop,
            task,
        }
    }

    /// Active and dropped targets with their last scrape.
    pub fn targets(&self) -> TargetsSnapshot {
        let jobs = self.inner.jobs.lock();
        let mut snapshot = TargetsSnapshot::default();
        for (name, job) in jobs.iter() {
            let mut active: Vec<TargetStatus> = job
                .loops
                .values()
                .map(|l| TargetStatus {
                    target: l.target.clone(),
                    health: l.health.read().clone(),
                })
                .collect();
            active.sort_by(|a, b| {
                a.target
                    .url
                    .cmp(&b.target.url)
                    .then_with(|| a.target.labels.cmp(&b.target.labels))
            });
            snapshot.active.extend(active);
            snapshot
                .dropped
                .extend(job.dropped.iter().map(|d| DroppedTargetStatus {
                    job: name.clone(),
                    dropped: d.clone(),
                }));
        }
        snapshot
    }

    /// Counts of targets by health, for quick status displays.
    pub fn health_counts(&self) -> (usize, usize, usize) {
        let snapshot = self.targets();
        let count = |h| {
            snapshot
                .active
                .iter()
                .filter(|t| t.health.health == h)
                .count()
        };
        (
            count(Health::Up),
            count(Health::Down),
            count(Health::Unknown),
        )
    }

    /// Appends the scraper's self-metrics in the Prometheus text format.
    pub fn write_metrics(&self, out: &mut lookout_model::MetricsWriter) {
        let (active, dropped) = {
            let jobs = self.inner.jobs.lock();
            (
                jobs.values().map(|j| j.loops.len()).sum(),
                jobs.values().map(|j| j.dropped.len()).sum(),
            )
        };
        self.inner.env.metrics.write(out, active, dropped);
        let memory = &self.inner.env.body_memory;
        out.gauge(
            "lookout_scrape_body_memory_bytes",
            "Bytes held by scrape bodies in flight (fetched, not yet stored).",
            memory.used() as f64,
        );
        out.gauge(
            "lookout_scrape_body_memory_limit_bytes",
            "Bytes scrape bodies in flight may hold together (0: unbounded).",
            memory.capacity() as f64,
        );
        self.inner.env.metadata.write_metrics(out);
    }

    /// Metric metadata of the active targets' last successful scrapes as (family, type, help, unit),
    /// deduplicated across targets and sorted; the type is spelled as Prometheus's metadata API does.
    pub fn metadata(&self) -> Vec<(String, String, String, String)> {
        self.inner.env.metadata.snapshot()
    }

    /// The public labels of every active target, for callers that need them without health.
    pub fn target_labels(&self) -> Vec<Labels> {
        self.targets()
            .active
            .into_iter()
            .map(|t| t.target.labels.clone())
            .collect()
    }

    /// Stops every loop and discovery task without writing staleness markers (process shutdown) and waits up to
    /// `grace` for in-flight storage work.
    pub async fn shutdown(&self, grace: Duration) {
        let tasks: Vec<JoinHandle<()>> = {
            let mut jobs = self.inner.jobs.lock();
            let mut tasks = Vec::new();
            for (_, mut job) in std::mem::take(&mut *jobs) {
                job.discovery_tasks.drain(..).for_each(|t| t.abort());
                job.kubernetes_tasks.drain(..).for_each(|t| t.abort());
                tasks.extend(job.loops.drain().map(|(_, l)| l.stop(StopMode::Quiet)));
            }
            tasks
        };
        let _ = tokio::time::timeout(grace, futures_util::future::join_all(tasks)).await;
    }
}
