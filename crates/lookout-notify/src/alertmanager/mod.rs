//! Delivery to Alertmanager API v2 with Prometheus's notifier semantics: external labels and alert relabeling on
//! the way in, one bounded drop-oldest queue and send loop per Alertmanager, every Alertmanager gets every alert,
//! batches posted without retry, a drain on shutdown. [`Notifier::send`] never waits on the network.

pub mod config;
mod sendloop;
mod stats;
mod targets;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use lookout_model::relabel::{RelabelConfig, relabel_builder};
use lookout_model::{Labels, TargetGroup};
use parking_lot::{Mutex, RwLock};
use tokio::runtime::Handle;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use self::config::{AlertingConfig, AlertmanagerConfig};
use self::sendloop::{LoopShared, run};
pub use self::stats::{AlertmanagerStats, NotifierStats};
pub use self::targets::static_groups;
use crate::alert::Alert;
use crate::config::ConfigError;
use crate::http::HttpClientConfig;

/// Settings that come from flags and the global section rather than `alerting:`.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifierOptions {
    /// Alerts each Alertmanager's queue holds before the oldest are dropped (Prometheus: 10000).
    pub queue_capacity: usize,
    /// Most alerts in one request (Prometheus: 256).
    pub max_batch_size: usize,
    /// `global.external_labels`, added to every alert that lacks them.
    pub external_labels: Labels,
    /// Send what is queued when shutting down (Prometheus's default) instead of dropping it.
    pub drain_on_shutdown: bool,
}

impl Default for NotifierOptions {
    fn default() -> Self {
        NotifierOptions {
            queue_capacity: 10_000,
            max_batch_size: 256,
            external_labels: Labels::empty(),
            drain_on_shutdown: true,
        }
    }
}

/// The active and dropped Alertmanager push URLs, for `/api/v1/alertmanagers`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertmanagerUrls {
    /// Targets alerts are sent to.
    pub active: Vec<String>,
    /// Targets relabeling dropped.
    pub dropped: Vec<String>,
}

/// A running send loop and the means to stop it.
struct LoopHandle {
    shared: Arc<LoopShared>,
    stop: watch::Sender<Option<Instant>>,
    task: JoinHandle<()>,
}

#[derive(Default)]
struct SetState {
    dropped: Vec<String>,
    /// In target order; the URL is `shared.url`.
    loops: Vec<LoopHandle>,
}

/// One `alertmanagers[]` entry at run time.
struct AlertmanagerSet {
    config: AlertmanagerConfig,
    client: reqwest::Client,
    http: Arc<HttpClientConfig>,
    state: RwLock<SetState>,
}

struct Inner {
    options: NotifierOptions,
    alert_relabel_configs: Vec<RelabelConfig>,
    sets: Vec<AlertmanagerSet>,
    handle: Handle,
    dropped_total: Arc<AtomicU64>,
    closed: AtomicBool,
    /// Serializes target updates so two callers cannot start duplicate loops for one URL.
    sync_lock: Mutex<()>,
}

/// Sends alerts to Alertmanagers; cheap to clone, all clones share the queues.
#[derive(Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("alertmanagers", &self.alertmanagers())
            .finish()
    }
}

/// Adds external labels a label set lacks and applies relabeling; `None` when relabeling drops the alert.
fn relabel_alert(alert: &Alert, external: &Labels, configs: &[RelabelConfig]) -> Option<Alert> {
    if external.is_empty() && configs.is_empty() {
        return Some(alert.clone());
    }
    let mut builder = alert.labels.to_builder();
    for l in external.iter() {
        if alert.labels.get(&l.name).is_none() {
            builder.set(&l.name, &l.value);
        }
    }
    if !relabel_builder(&mut builder, configs) {
        return None;
    }
    let mut out = alert.clone();
    out.labels = builder.build_unchecked();
    Some(out)
}

impl Notifier {
    /// Validates `config`, builds one HTTP client per `alertmanagers[]` entry and starts send loops for the static
    /// targets on `handle`.
    pub fn new(
        config: &AlertingConfig,
        options: NotifierOptions,
        handle: Handle,
    ) -> Result<Notifier, ConfigError> {
        config.validate("alerting")?;
        if options.queue_capacity == 0 || options.max_batch_size == 0 {
            return Err(ConfigError::new(
                "notifier options",
                "queue capacity and batch size must be at least 1",
            ));
        }
        let mut sets = Vec::with_capacity(config.alertmanagers.len());
        for (i, am) in config.alertmanagers.iter().enumerate() {
            let client = am
                .http
                .build_client(&format!("alerting.alertmanagers[{i}]"))?;
            sets.push(AlertmanagerSet {
                config: am.clone(),
                client,
                http: Arc::new(am.http.clone()),
                state: RwLock::new(SetState::default()),
            });
        }
        let notifier = Notifier {
            inner: Arc::new(Inner {
                options,
                alert_relabel_configs: config.alert_relabel_configs.clone(),
                sets,
                handle,
                dropped_total: Arc::new(AtomicU64::new(0)),
                closed: AtomicBool::new(false),
                sync_lock: Mutex::new(()),
            }),
        };
        for (i, set) in notifier.inner.sets.iter().enumerate() {
            notifier.sync_set(i, &targets::static_groups(&set.config));
        }
        Ok(notifier)
    }

    /// Queues alerts for every Alertmanager after adding external labels and applying `alert_relabel_configs`.
    /// Never blocks on the network: a full queue drops its oldest alerts, which is counted.
    pub fn send(&self, alerts: Vec<Alert>) {
        let inner = &self.inner;
        if inner.closed.load(Ordering::Acquire) {
            return;
        }
        let alerts: Vec<Arc<Alert>> = alerts
            .iter()
            .filter_map(|a| {
                relabel_alert(
                    a,
                    &inner.options.external_labels,
                    &inner.alert_relabel_configs,
                )
            })
            .map(Arc::new)
            .collect();
        if alerts.is_empty() {
            return;
        }
        for set in &inner.sets {
            let own;
            let set_alerts = if set.config.alert_relabel_configs.is_empty() {
                &alerts
            } else {
                own = alerts
                    .iter()
                    .filter_map(|a| {
                        relabel_alert(a, &Labels::empty(), &set.config.alert_relabel_configs)
                    })
                    .map(Arc::new)
                    .collect::<Vec<_>>();
                &own
            };
            if set_alerts.is_empty() {
                continue;
            }
            for l in &set.state.read().loops {
                l.shared.push(set_alerts);
            }
        }
    }

    /// Replaces the targets of `alertmanagers[index]` with those of `groups` (each target a label set with at
    /// least `__address__`), e.g. from service discovery. Loops of new URLs start, loops of vanished URLs drain
    /// for at most the entry's timeout and stop.
    pub fn set_alertmanagers(
        &self,
        index: usize,
        groups: &[TargetGroup],
    ) -> Result<(), ConfigError> {
        if index >= self.inner.sets.len() {
            return Err(ConfigError::new(
                format!("alerting.alertmanagers[{index}]"),
                format!(
                    "no such entry; {} alertmanagers entries are configured",
                    self.inner.sets.len()
                ),
            ));
        }
        self.sync_set(index, groups);
        Ok(())
    }

    fn sync_set(&self, index: usize, groups: &[TargetGroup]) {
        let inner = &self.inner;
        let _serial = inner.sync_lock.lock();
        if inner.closed.load(Ordering::Acquire) {
            return;
        }
        let set = &inner.sets[index];
        let resolved = targets::resolve(&set.config, groups);
        let mut state = set.state.write();
        let mut old: Vec<LoopHandle> = std::mem::take(&mut state.loops);
        for url in &resolved.active {
            if let Some(pos) = old.iter().position(|l| &l.shared.url == url) {
                state.loops.push(old.swap_remove(pos));
                continue;
            }
            let shared = Arc::new(LoopShared {
                url: url.clone(),
                client: set.client.clone(),
                http: set.http.clone(),
                timeout: set.config.timeout.as_duration(),
                capacity: inner.options.queue_capacity,
                batch_size: inner.options.max_batch_size,
                queue: Mutex::new(Default::default()),
                work: Notify::new(),
                counters: Default::default(),
                dropped_total: inner.dropped_total.clone(),
            });
            let (stop, stop_rx) = watch::channel(None);
            let task = inner.handle.spawn(run(shared.clone(), stop_rx));
            state.loops.push(LoopHandle { shared, stop, task });
        }
        state.dropped = resolved.dropped;
        drop(state);
        let drain_until = Instant::now() + set.config.timeout.as_duration();
        for gone in old {
            // The task drains on its own and ends; nothing waits for it.
            let _ = gone.stop.send(Some(drain_until));
        }
    }

    /// The active and dropped Alertmanager URLs over all entries.
    pub fn alertmanagers(&self) -> AlertmanagerUrls {
        let mut out = AlertmanagerUrls::default();
        for set in &self.inner.sets {
            let state = set.state.read();
            out.active
                .extend(state.loops.iter().map(|l| l.shared.url.clone()));
            out.dropped.extend(state.dropped.iter().cloned());
        }
        out
    }

    /// A snapshot of the counters, for self-metrics.
    pub fn stats(&self) -> NotifierStats {
        let mut alertmanagers = Vec::new();
        for set in &self.inner.sets {
            for l in &set.state.read().loops {
                let s = &l.shared;
                let c = &s.counters;
                alertmanagers.push(AlertmanagerStats {
                    url: s.url.clone(),
                    sent: c.sent.load(Ordering::Relaxed),
                    errors: c.errors.load(Ordering::Relaxed),
                    dropped: c.dropped.load(Ordering::Relaxed),
                    queue_length: s.queue_len(),
                    latency_seconds_sum: c.latency_nanos.load(Ordering::Relaxed) as f64 / 1e9,
                    latency_count: c.requests.load(Ordering::Relaxed),
                });
            }
        }
        NotifierStats {
            queue_capacity: self.inner.options.queue_capacity,
            dropped_total: self.inner.dropped_total.load(Ordering::Relaxed),
            alertmanagers,
        }
    }

    /// Stops accepting alerts, lets every loop send what is queued (when draining is enabled) until `deadline`
    /// has passed, and then stops the loops; whatever is still queued is counted as dropped.
    pub async fn shutdown(&self, deadline: Duration) {
        let inner = &self.inner;
        let loops: Vec<LoopHandle> = {
            let _serial = inner.sync_lock.lock();
            inner.closed.store(true, Ordering::Release);
            inner
                .sets
                .iter()
                .flat_map(|s| std::mem::take(&mut s.state.write().loops))
                .collect()
        };
        let now = Instant::now();
        let until = if inner.options.drain_on_shutdown {
            now + deadline
        } else {
            now
        };
        for l in &loops {
            let _ = l.stop.send(Some(until));
        }
        // A request in flight at the deadline is cut off by aborting its task.
        let hard_stop = tokio::time::Instant::from_std(now + deadline);
        for l in loops {
            let LoopHandle { shared, task, .. } = l;
            let abort = task.abort_handle();
            if tokio::time::timeout_at(hard_stop, task).await.is_err() {
                abort.abort();
            }
            let left = std::mem::take(&mut *shared.queue.lock()).len();
            if left > 0 {
                shared
                    .counters
                    .dropped
                    .fetch_add(left as u64, Ordering::Relaxed);
                inner
                    .dropped_total
                    .fetch_add(left as u64, Ordering::Relaxed);
            }
        }
    }
}
