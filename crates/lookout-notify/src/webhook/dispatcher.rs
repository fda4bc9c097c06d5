//! The running webhook notifier: a bounded input channel, routing into aggregation groups, one task per group that
//! waits `group_wait`, then flushes every `group_interval`, and per-webhook delivery with dedup and retries.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use futures_util::future::join_all;
use lookout_model::Labels;
use parking_lot::Mutex;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::config::WebhookNotifierConfig;
use super::deliver::Integration;
use super::gofmt::label_set_string;
use super::group::{GroupState, LogEntry, Snapshot, needs_update};
use super::payload::{self, MessageContext, NotifyAlert};
use super::route::{RouteNode, RouteTree};
use super::stats::{IntegrationStats, WebhookStats};
use crate::alert::{Alert, Fingerprint, fingerprint_pairs};
use crate::config::ConfigError;

/// Settings from flags and the server section rather than the notifier's own YAML.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookOptions {
    /// Lookout's external URL, sent as `externalURL`.
    pub external_url: String,
    /// `global.external_labels`, added to alerts that lack them, so webhooks see what an Alertmanager fed by
    /// Prometheus would see.
    pub external_labels: Labels,
    /// Alerts the input channel holds before new ones are dropped.
    pub queue_capacity: usize,
    /// End time given to alerts that arrive without one (Alertmanager's `resolve_timeout`, 5m).
    pub resolve_timeout: Duration,
}

impl Default for WebhookOptions {
    fn default() -> Self {
        WebhookOptions {
            external_url: String::new(),
            external_labels: Labels::empty(),
            queue_capacity: 10_000,
            resolve_timeout: Duration::from_secs(5 * 60),
        }
    }
}

struct Receiver {
    name: String,
    integrations: Vec<Integration>,
}

/// A route index and the fingerprint of the group labels.
type GroupId = (usize, Fingerprint);

struct Group {
    id: GroupId,
    /// Alertmanager's group key: `<route key>:<group labels>`.
    key: String,
    labels: BTreeMap<String, String>,
    state: Mutex<GroupState>,
}

struct Shared {
    routes: RouteTree,
    receivers: Vec<Receiver>,
    /// Lock order: `groups` before any group's `state`; neither is held across an await.
    groups: Mutex<HashMap<GroupId, Arc<Group>>>,
    options: WebhookOptions,
    handle: Handle,
    tasks: Mutex<JoinSet<()>>,
    stop: watch::Receiver<bool>,
    received: AtomicU64,
    dropped: AtomicU64,
}

struct Running {
    shared: Arc<Shared>,
    input: mpsc::Sender<Alert>,
    /// Dropping the last handle drops this sender, which stops every task.
    stop: watch::Sender<bool>,
}

/// Alertmanager-lite: groups alerts by route and labels and notifies webhooks. Cheap to clone.
#[derive(Clone)]
pub struct WebhookNotifier {
    running: Arc<Running>,
}

impl std::fmt::Debug for WebhookNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookNotifier")
            .field("stats", &self.stats())
            .finish()
    }
}

/// Resolves when a stop is requested or every stop sender is gone.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|&s| s).await;
}

impl WebhookNotifier {
    /// Validates `config` (error paths relative to the section), builds the webhook clients and starts the
    /// ingest task on `handle`.
    pub fn new(
        config: &WebhookNotifierConfig,
        options: WebhookOptions,
        handle: Handle,
    ) -> Result<WebhookNotifier, ConfigError> {
        config.validate("")?;
        if options.queue_capacity == 0 {
            return Err(ConfigError::new(
                "webhook options",
                "queue capacity must be at least 1",
            ));
        }
        let routes = RouteTree::compile(config, "")?;
        let mut receivers = Vec::with_capacity(config.receivers.len());
        for (i, r) in config.receivers.iter().enumerate() {
            let mut integrations = Vec::with_capacity(r.webhook_configs.len());
            for (j, w) in r.webhook_configs.iter().enumerate() {
                let path = format!("receivers[{i}].webhook_configs[{j}]");
                integrations.push(Integration::new(&r.name, j, w.clone(), &path)?);
            }
            receivers.push(Receiver {
                name: r.name.clone(),
                integrations,
            });
        }
        let (input, rx) = mpsc::channel(options.queue_capacity);
        let (stop, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            routes,
            receivers,
            groups: Mutex::new(HashMap::new()),
            options,
            handle,
            tasks: Mutex::new(JoinSet::new()),
            stop: stop_rx,
            received: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        });
        shared.spawn(ingest(shared.clone(), rx));
        Ok(WebhookNotifier {
            running: Arc::new(Running {
                shared,
                input,
                stop,
            }),
        })
    }

    /// Hands alerts to the dispatcher without waiting; alerts that do not fit into the input channel are dropped
    /// and counted.
    pub fn send(&self, alerts: Vec<Alert>) {
        let r = &self.running;
        for alert in alerts {
            let counter = match r.input.try_send(alert) {
                Ok(()) => &r.shared.received,
                Err(_) => &r.shared.dropped,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A snapshot of the counters, for self-metrics.
    pub fn stats(&self) -> WebhookStats {
        let s = &self.running.shared;
        let integrations = s
            .receivers
            .iter()
            .flat_map(|r| &r.integrations)
            .map(|i| {
                let c = &i.counters;
                IntegrationStats {
                    receiver: i.receiver.clone(),
                    integration: i.name(),
                    notifications: c.notifications.load(Ordering::Relaxed),
                    delivered: c.notifications_delivered.load(Ordering::Relaxed),
                    failed: c.notifications_failed.load(Ordering::Relaxed),
                    requests: c.requests.load(Ordering::Relaxed),
                    requests_failed: c.requests_failed.load(Ordering::Relaxed),
                }
            })
            .collect();
        WebhookStats {
            alerts_received: s.received.load(Ordering::Relaxed),
            alerts_dropped: s.dropped.load(Ordering::Relaxed),
            aggregation_groups: s.groups.lock().len(),
            integrations,
        }
    }

    /// Stops routing and flushing; notifications in flight get until `deadline`, then their tasks are aborted.
    /// Pending groups are not flushed (Alertmanager does not flush on shutdown either).
    pub async fn shutdown(&self, deadline: Duration) {
        let _ = self.running.stop.send(true);
        let until = tokio::time::Instant::now() + deadline;
        loop {
            let mut tasks = std::mem::take(&mut *self.running.shared.tasks.lock());
            if tasks.is_empty() {
                break;
            }
            loop {
                match tokio::time::timeout_at(until, tasks.join_next()).await {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(_) => {
                        tasks.abort_all();
                        return;
                    }
                }
            }
        }
    }
}

async fn ingest(shared: Arc<Shared>, mut rx: mpsc::Receiver<Alert>) {
    let mut stop = shared.stop.clone();
    loop {
        tokio::select! {
            biased;
            () = stopped(&mut stop) => return,
            alert = rx.recv() => match alert {
                Some(alert) => shared.route_alert(alert),
                None => return,
            },
        }
    }
}

async fn run_group(shared: Arc<Shared>, group: Arc<Group>, first_wait: Duration) {
    let interval = shared.routes.nodes[group.id.0].group_interval;
    let mut stop = shared.stop.clone();
    let mut next = Instant::now() + first_wait;
    loop {
        tokio::select! {
            biased;
            () = stopped(&mut stop) => return,
            () = tokio::time::sleep_until(next.into()) => {}
        }
        // The next flush is due one interval after this one started, however long this one takes.
        let fired = Instant::now();
        next = fired + interval;
        let destroyed = tokio::select! {
            biased;
            () = stopped(&mut stop) => return,
            destroyed = shared.flush(&group, fired) => destroyed,
        };
        if destroyed {
            return;
        }
    }
}

impl Shared {
    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        if *self.stop.borrow() {
            return;
        }
        let mut tasks = self.tasks.lock();
        // Reap finished group tasks so the set does not grow with every group ever created.
        while tasks.try_join_next().is_some() {}
        tasks.spawn_on(task, &self.handle);
    }

    fn route_alert(self: &Arc<Self>, mut alert: Alert) {
        let external = &self.options.external_labels;
        if external.iter().any(|l| alert.labels.get(&l.name).is_none()) {
            let mut builder = alert.labels.to_builder();
            for l in external.iter() {
                if alert.labels.get(&l.name).is_none() {
                    builder.set(&l.name, &l.value);
                }
            }
            alert.labels = builder.build_unchecked();
        }
        let now = SystemTime::now();
        let timeout = alert.ends_at.is_none();
        if timeout {
            alert.ends_at = Some(now + self.options.resolve_timeout);
        }
        for idx in self.routes.matching(&alert.labels) {
            let node = &self.routes.nodes[idx];
            let labels = node.group_by.select(&alert.labels);
            let id = (
                idx,
                fingerprint_pairs(labels.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            );
            let mut groups = self.groups.lock();
            if let Some(group) = groups.get(&id) {
                group.state.lock().insert(alert.clone(), timeout, now);
                continue;
            }
            let mut state = GroupState::new(self.receivers[node.receiver].integrations.len());
            state.insert(alert.clone(), timeout, now);
            let group = Arc::new(Group {
                id,
                key: format!("{}:{}", node.key, label_set_string(&labels)),
                labels,
                state: Mutex::new(state),
            });
            groups.insert(id, group.clone());
            drop(groups);
            // An alert that started more than group_wait ago is notified at once, as in Alertmanager.
            let wait = if alert.starts_at + node.group_wait < now {
                Duration::ZERO
            } else {
                node.group_wait
            };
            self.spawn(run_group(self.clone(), group, wait));
        }
    }

    /// Notifies every webhook of the group's receiver that needs it; after full success, forgets the resolved
    /// alerts just sent. Returns true when that left the group empty, which ends it.
    async fn flush(&self, group: &Group, fired: Instant) -> bool {
        let node = &self.routes.nodes[group.id.0];
        let snapshot = {
            let state = group.state.lock();
            if state.is_empty() {
                return false;
            }
            state.snapshot(SystemTime::now())
        };
        let mut firing = BTreeSet::new();
        let mut resolved = BTreeSet::new();
        for s in &snapshot {
            let set = if s.alert.resolved {
                &mut resolved
            } else {
                &mut firing
            };
            set.insert(s.alert.fingerprint);
        }
        let flush = Flush {
            group,
            node,
            snapshot: &snapshot,
            firing: &firing,
            resolved: &resolved,
            fired,
            deadline: fired + node.group_interval,
        };
        let receiver = &self.receivers[node.receiver];
        let results = join_all(
            receiver
                .integrations
                .iter()
                .map(|i| self.notify(&flush, &receiver.name, i)),
        )
        .await;
        if results.iter().all(|&ok| ok) {
            let mut groups = self.groups.lock();
            let mut state = group.state.lock();
            state.delete_resolved(&snapshot);
            if state.is_empty() {
                groups.remove(&group.id);
                return true;
            }
        }
        false
    }

    /// One integration's share of a flush: the dedup decision, the send_resolved filter, delivery, and the log
    /// entry on success. Returns false when delivery failed.
    async fn notify(&self, f: &Flush<'_>, receiver: &str, integration: &Integration) -> bool {
        let send_resolved = integration.config.send_resolved;
        let reason = {
            let state = f.group.state.lock();
            needs_update(
                state.log[integration.index].as_ref(),
                f.firing,
                f.resolved,
                send_resolved,
                f.node.repeat_interval,
                f.fired,
            )
        };
        if !reason.should_notify() {
            return true;
        }
        let record = || {
            f.group.state.lock().log[integration.index] = Some(LogEntry {
                firing: f.firing.clone(),
                resolved: f.resolved.clone(),
                at: f.fired,
            });
        };
        let alerts: Vec<NotifyAlert> = if send_resolved {
            f.snapshot.iter().map(|s| s.alert.clone()).collect()
        } else if f.firing.is_empty() {
            // Nothing to say without resolved alerts, but the log must forget what was firing.
            record();
            return true;
        } else {
            f.snapshot
                .iter()
                .filter(|s| !s.alert.resolved)
                .map(|s| s.alert.clone())
                .collect()
        };
        let counters = &integration.counters;
        counters.notifications.fetch_add(1, Ordering::Relaxed);
        let ctx = MessageContext {
            receiver,
            group_key: &f.group.key,
            group_labels: &f.group.labels,
            external_url: &self.options.external_url,
            reason: reason.as_str(),
        };
        let body = payload::build(&ctx, &alerts, integration.config.max_alerts);
        match integration.deliver(&body, f.deadline).await {
            Ok(()) => {
                counters
                    .notifications_delivered
                    .fetch_add(1, Ordering::Relaxed);
                record();
                true
            }
            Err(reason) => {
                counters
                    .notifications_failed
                    .fetch_add(1, Ordering::Relaxed);
                tracing::warn!(receiver, integration = %integration.name(), group = %f.group.key, %reason, "webhook notification failed");
                false
            }
        }
    }
}

/// What every integration of one flush shares.
struct Flush<'a> {
    group: &'a Group,
    node: &'a RouteNode,
    snapshot: &'a [Snapshot],
    firing: &'a BTreeSet<Fingerprint>,
    resolved: &'a BTreeSet<Fingerprint>,
    fired: Instant,
    deadline: Instant,
}
