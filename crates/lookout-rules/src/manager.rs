//! The rule manager: loads rule files (globs), runs one task per group on its slot, evaluating on the caller's
//! blocking pool (so a slow group neither blocks the runtime nor delays the other groups), hands due alerts to the
//! notifiers, and swaps in new files on reload — refusing a bad set whole, so the old rules keep running, and
//! carrying alert state over to the same rules in the new set.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lookout_promql::{Engine, QueryContext};
use lookout_storage::Storage;
use parking_lot::Mutex;
use tokio::sync::watch;

use crate::file::{RuleFile, parse};
use crate::group::Group;
use crate::rule::{EvalEnv, Notification, Templates};

/// Settings of the manager (Prometheus's flags and `global:` keys).
#[derive(Debug, Clone)]
pub struct ManagerOptions {
    /// `global.evaluation_interval` (1 m).
    pub evaluation_interval: Duration,
    /// `global.rule_query_offset` (0).
    pub query_offset: Duration,
    /// `--rules.alert.resend-delay` (1 m).
    pub resend_delay: Duration,
    /// `--rules.alert.for-outage-tolerance` (1 h).
    pub outage_tolerance: Duration,
    /// `--rules.alert.for-grace-period` (10 m).
    pub for_grace_period: Duration,
    /// The external URL, for generator URLs.
    pub external_url: String,
}

impl Default for ManagerOptions {
    fn default() -> Self {
        ManagerOptions {
            evaluation_interval: Duration::from_secs(60),
            query_offset: Duration::ZERO,
            resend_delay: Duration::from_secs(60),
            outage_tolerance: Duration::from_secs(3600),
            for_grace_period: Duration::from_secs(600),
            external_url: "http://localhost:9090".into(),
        }
    }
}

/// Runs blocking work (an evaluation) on the caller's bounded pool.
pub trait Executor: Send + Sync {
    /// Runs `job` off the async runtime; the future completes when it has run.
    fn run(&self, job: Box<dyn FnOnce() + Send>) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// Receives the alerts due for notification (must not block).
pub trait NotifySink: Send + Sync {
    /// Hands over alerts of one rule evaluation.
    fn notify(&self, alerts: Vec<Notification>);
}

/// Reads and checks rule files matching `patterns` (globs; relative ones against `base`). Returns the files, or
/// every error found (with file and position); `warnings` gets the lint findings.
pub fn load_files(
    patterns: &[String],
    base: &Path,
    templates: &dyn Templates,
    warnings: &mut Vec<String>,
) -> Result<Vec<RuleFile>, Vec<String>> {
    let mut paths = Vec::new();
    let mut errors = Vec::new();
    for p in patterns {
        let full = if Path::new(p).is_absolute() {
            p.clone()
        } else {
            base.join(p).to_string_lossy().into_owned()
        };
        match glob::glob(&full) {
            Ok(found) => {
                let mut found: Vec<String> = found
                    .filter_map(Result::ok)
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect();
                found.sort();
                paths.extend(found);
            }
            Err(e) => errors.push(format!("rule_files: invalid pattern {p:?}: {e}")),
        }
    }
    let mut files = Vec::new();
    for path in paths {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                errors.push(format!("{path}: {e}"));
                continue;
            }
        };
        match parse(&path, &text, &|t| templates.check(t)) {
            Ok((f, found)) => {
                warnings.extend(found.warnings);
                files.push(f);
            }
            Err(found) => errors.extend(found.errors),
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(errors)
    }
}

struct Running {
    /// The group, locked by its evaluations (and by reloads).
    group: Arc<Mutex<Group>>,
    /// What the API shows: a copy taken after each evaluation, without the written-series sets.
    status: Arc<Mutex<Group>>,
    stop: watch::Sender<bool>,
}

struct Inner {
    storage: Arc<dyn Storage>,
    engine: Arc<Engine>,
    templates: Arc<dyn Templates>,
    exec: Arc<dyn Executor>,
    sink: Arc<dyn NotifySink>,
    opts: ManagerOptions,
    cancel: Arc<AtomicBool>,
}

/// The rule manager (cheap to clone).
#[derive(Clone)]
pub struct RuleManager {
    inner: Arc<Inner>,
    running: Arc<Mutex<Vec<Running>>>,
    started: Arc<AtomicBool>,
    runtime: tokio::runtime::Handle,
}

impl RuleManager {
    /// A manager with no rules yet (call within a tokio runtime: its tasks run there).
    pub fn new(
        storage: Arc<dyn Storage>,
        engine: Arc<Engine>,
        templates: Arc<dyn Templates>,
        exec: Arc<dyn Executor>,
        sink: Arc<dyn NotifySink>,
        opts: ManagerOptions,
    ) -> RuleManager {
        RuleManager {
            inner: Arc::new(Inner {
                storage,
                engine,
                templates,
                exec,
                sink,
                opts,
                cancel: Arc::new(AtomicBool::new(false)),
            }),
            running: Arc::new(Mutex::new(Vec::new())),
            started: Arc::new(AtomicBool::new(false)),
            runtime: tokio::runtime::Handle::current(),
        }
    }

    /// Replaces the running groups by those of `files` (blocking while a changed group finishes an evaluation:
    /// call it off the async runtime). Unchanged groups keep
    /// running; changed ones restart with their rules' state; removed ones stop and their series go stale. The
    /// first call restores the `for` state of its alerting rules after their second evaluation.
    pub fn update(&self, files: Vec<RuleFile>) {
        let first = !self.started.swap(true, Ordering::SeqCst);
        let o = &self.inner.opts;
        let mut old = std::mem::take(&mut *self.running.lock());
        let mut next = Vec::new();
        for f in files {
            for spec in f.groups {
                let mut g =
                    Group::new(spec, &f.path, o.evaluation_interval, o.query_offset, !first);
                let prev = old.iter().position(|r| r.group.lock().key() == g.key());
                if let Some(i) = prev {
                    let r = old.remove(i);
                    if r.group.lock().same_as(&g) {
                        next.push(r);
                        continue;
                    }
                    let _ = r.stop.send(true);
                    g.copy_state(&r.group.lock());
                }
                next.push(self.start(g, first));
            }
        }
        for r in old {
            let _ = r.stop.send(true);
            let g = r.group.lock().clone();
            self.mark_removed_stale(g);
        }
        *self.running.lock() = next;
    }

    fn mark_removed_stale(&self, g: Group) {
        let storage = self.inner.storage.clone();
        let job = Box::new(move || {
            let t = now_ns() as i64 / 1_000_000 - g.query_offset.as_millis() as i64;
            let mut app = storage.appender();
            for r in &g.rules {
                for l in r.written_series() {
                    let _ = app.append(l, t, lookout_model::stale_nan());
                }
            }
            let _ = app.commit();
        });
        self.runtime.spawn(self.inner.exec.run(job));
    }

    fn start(&self, g: Group, restore: bool) -> Running {
        let (stop, stopped) = watch::channel(false);
        let status = Arc::new(Mutex::new(g.snapshot()));
        let group = Arc::new(Mutex::new(g));
        self.runtime.spawn(run_group(
            self.inner.clone(),
            group.clone(),
            status.clone(),
            stopped,
            restore,
        ));
        Running {
            group,
            status,
            stop,
        }
    }

    /// A snapshot of every group, in file order.
    pub fn groups(&self) -> Vec<Group> {
        self.running
            .lock()
            .iter()
            .map(|r| r.status.lock().clone())
            .collect()
    }

    /// Stops every group (their evaluations in flight are cancelled).
    pub fn stop(&self) {
        self.inner.cancel.store(true, Ordering::Relaxed);
        for r in self.running.lock().drain(..) {
            let _ = r.stop.send(true);
        }
    }
}

fn now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

/// Evaluates `group` at `ts_ms` on the executor, then notifies; optionally restores the `for` state first.
async fn eval_once(
    inner: &Arc<Inner>,
    group: &Arc<Mutex<Group>>,
    status: &Arc<Mutex<Group>>,
    ts_ms: i64,
    restore_after: bool,
) {
    let inner2 = inner.clone();
    let group = group.clone();
    let status = status.clone();
    inner
        .exec
        .run(Box::new(move || {
            let env = EvalEnv {
                storage: &*inner2.storage,
                engine: &inner2.engine,
                templates: &*inner2.templates,
                resend_delay: inner2.opts.resend_delay,
                external_url: &inner2.opts.external_url,
                query: QueryContext {
                    cancel: Some(inner2.cancel.clone()),
                    deadline: None,
                },
            };
            let mut g = group.lock();
            let due = g.eval(&env, ts_ms);
            if restore_after {
                let now = (now_ns() / 1_000_000) as i64;
                g.restore_for_state(
                    &env,
                    now,
                    inner2.opts.outage_tolerance,
                    inner2.opts.for_grace_period,
                );
            }
            let snapshot = g.snapshot();
            drop(g);
            *status.lock() = snapshot;
            if !due.is_empty() {
                inner2.sink.notify(due);
            }
        }))
        .await;
}

async fn run_group(
    inner: Arc<Inner>,
    group: Arc<Mutex<Group>>,
    status: Arc<Mutex<Group>>,
    mut stop: watch::Receiver<bool>,
    restore: bool,
) {
    let (interval, mut ts) = {
        let g = group.lock();
        let interval = g.interval.as_nanos() as i128;
        (interval, g.eval_timestamp(now_ns()) + interval)
    };
    let mut evaluations = 0u32;
    loop {
        let wait = (ts - now_ns()).max(0) as u64;
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(Duration::from_nanos(wait)) => {}
        }
        if *stop.borrow() {
            return;
        }
        evaluations += 1;
        let restore_after = restore && evaluations == 2;
        eval_once(
            &inner,
            &group,
            &status,
            (ts / 1_000_000) as i64,
            restore_after,
        )
        .await;
        // The next slot after now; slots that passed while this evaluation ran are missed, as in Prometheus.
        let missed = ((now_ns() - ts) / interval - 1).max(0);
        for g in [&group, &status] {
            let mut g = g.lock();
            g.counters.iterations += 1 + missed as u64;
            g.counters.missed += missed as u64;
        }
        ts += (missed + 1) * interval;
    }
}

#[cfg(test)]
mod tests;
