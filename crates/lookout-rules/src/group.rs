//! A rule group: its rules, its slot in time (Prometheus's offset from a hash of file and name, so every
//! evaluation lands on the same phase of the interval, the same one Prometheus picks), an evaluation of all rules
//! at one timestamp, the `for`-state restore after a restart, and what it counts.

use std::hash::Hasher;
use std::time::{Duration, Instant};

use lookout_model::{Labels, Matcher, TimeRange, is_stale_nan};
use lookout_storage::SelectHints;

use crate::alert::AlertState;
use crate::file::{GroupSpec, RuleKind};
use crate::rule::{EvalEnv, Notification, Rule};

/// Counters and gauges of one group, for self-metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GroupCounters {
    /// Rule evaluations.
    pub evaluations: u64,
    /// Rule evaluations that failed.
    pub failures: u64,
    /// Scheduled group evaluations, done or missed.
    pub iterations: u64,
    /// Group evaluations skipped because the previous one ran too long.
    pub missed: u64,
    /// Samples the last evaluation wrote.
    pub last_samples: u64,
}

/// A loaded group and its state.
#[derive(Debug, Clone)]
pub struct Group {
    /// `name`.
    pub name: String,
    /// The file it came from.
    pub file: String,
    /// Evaluation interval.
    pub interval: Duration,
    /// Query offset.
    pub query_offset: Duration,
    /// `limit`.
    pub limit: usize,
    /// Its rules, in order.
    pub rules: Vec<Rule>,
    /// Wall-clock time of the last evaluation (ms; 0: never).
    pub last_evaluation: i64,
    /// The slot time of the last evaluation (ms).
    pub last_eval_ts: i64,
    /// How long the last evaluation took.
    pub evaluation_time: Duration,
    /// Series of rules removed by a reload, marked stale at the next evaluation.
    pub stale: Vec<Labels>,
    /// Counters.
    pub counters: GroupCounters,
}

/// Prometheus's hash of a label set (xxHash64 over `name 0xff value 0xff …`, names sorted).
fn labels_hash(pairs: &[(&str, &str)]) -> u64 {
    let mut h = twox_hash::XxHash64::with_seed(0);
    for (n, v) in pairs {
        h.write(n.as_bytes());
        h.write(&[0xff]);
        h.write(v.as_bytes());
        h.write(&[0xff]);
    }
    h.finish()
}

impl Group {
    /// A group from its spec; `interval`/`query_offset` fill in what the spec leaves out. `restored` says whether
    /// its alerting rules write `ALERTS` from the first evaluation (false only for the groups loaded at start-up,
    /// which restore their `for` state first).
    pub fn new(
        spec: GroupSpec,
        file: &str,
        interval: Duration,
        query_offset: Duration,
        restored: bool,
    ) -> Group {
        Group {
            rules: spec
                .rules
                .into_iter()
                .map(|r| Rule::new(r, restored))
                .collect(),
            name: spec.name,
            file: file.to_string(),
            interval: spec
                .interval
                .unwrap_or(interval)
                .max(Duration::from_millis(1)),
            query_offset: spec.query_offset.unwrap_or(query_offset),
            limit: spec.limit,
            last_evaluation: 0,
            last_eval_ts: 0,
            evaluation_time: Duration::ZERO,
            stale: Vec::new(),
            counters: GroupCounters::default(),
        }
    }

    /// A copy for status readers, without the rules' written-series sets.
    pub fn snapshot(&self) -> Group {
        Group {
            name: self.name.clone(),
            file: self.file.clone(),
            interval: self.interval,
            query_offset: self.query_offset,
            limit: self.limit,
            rules: self.rules.iter().map(Rule::snapshot).collect(),
            last_evaluation: self.last_evaluation,
            last_eval_ts: self.last_eval_ts,
            evaluation_time: self.evaluation_time,
            stale: Vec::new(),
            counters: self.counters,
        }
    }

    /// `file;name`, as Prometheus keys groups.
    pub fn key(&self) -> String {
        format!("{};{}", self.file, self.name)
    }

    /// The group's phase in its interval (ns).
    fn offset_ns(&self) -> i128 {
        let h = labels_hash(&[("file", &self.file), ("name", &self.name)]);
        (h % self.interval.as_nanos().max(1) as u64) as i128
    }

    /// The slot at or before `now_ns`: `base + offset` where base is a multiple of the interval.
    pub fn eval_timestamp(&self, now_ns: i128) -> i128 {
        let interval = self.interval.as_nanos() as i128;
        let offset = self.offset_ns();
        let adj = now_ns - offset;
        adj - adj.rem_euclid(interval) + offset
    }

    /// Whether `other` is the same group with the same rules (a reload keeps it running untouched).
    pub fn same_as(&self, other: &Group) -> bool {
        self.name == other.name
            && self.file == other.file
            && self.interval == other.interval
            && self.query_offset == other.query_offset
            && self.limit == other.limit
            && self.rules.len() == other.rules.len()
            && self
                .rules
                .iter()
                .zip(&other.rules)
                .all(|(a, b)| a.spec == b.spec)
    }

    /// Takes over the state of `old` (the group before a reload): rules matched by name and labels in order;
    /// series of `old`'s unmatched rules are marked stale at the next evaluation.
    pub fn copy_state(&mut self, old: &Group) {
        self.last_evaluation = old.last_evaluation;
        self.last_eval_ts = old.last_eval_ts;
        self.evaluation_time = old.evaluation_time;
        self.counters = old.counters;
        let mut taken = vec![false; old.rules.len()];
        for r in &mut self.rules {
            let id = r.identity();
            if let Some(i) =
                (0..old.rules.len()).find(|&i| !taken[i] && old.rules[i].identity() == id)
            {
                taken[i] = true;
                r.copy_state(&old.rules[i]);
            }
        }
        self.stale = old.stale.clone();
        for (i, r) in old.rules.iter().enumerate() {
            if !taken[i] {
                self.stale.extend(r.written_series().cloned());
            }
        }
    }

    /// Evaluates every rule at `ts` (ms), in order; returns the alerts due for notification.
    pub fn eval(&mut self, env: &EvalEnv<'_>, ts: i64) -> Vec<Notification> {
        let started = Instant::now();
        let mut due = Vec::new();
        let mut samples = 0u64;
        for rule in &mut self.rules {
            if env
                .query
                .cancel
                .as_ref()
                .is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed))
            {
                break;
            }
            let (n, mut d) = rule.eval(env, ts, self.query_offset, self.limit, self.interval);
            self.counters.evaluations += 1;
            if rule.health == crate::rule::Health::Err {
                self.counters.failures += 1;
            }
            samples += n as u64;
            due.append(&mut d);
        }
        if !self.stale.is_empty() {
            let t = ts - self.query_offset.as_millis() as i64;
            let mut app = env.storage.appender();
            for l in &self.stale {
                let _ = app.append(l, t, lookout_model::stale_nan());
            }
            if app.commit().is_ok() {
                self.stale.clear();
            }
        }
        self.counters.last_samples = samples;
        self.evaluation_time = started.elapsed();
        self.last_evaluation = crate::rule::now_ms();
        self.last_eval_ts = ts;
        due
    }

    /// Restores the `for` state of alerts from `ALERTS_FOR_STATE` as Prometheus does at start-up: an alert active
    /// before an outage shorter than `outage_tolerance` keeps its `activeAt`, shifted by the outage so it still
    /// waits its full `for`; one that had less than `grace` left gets `grace`; one that was firing fires again at
    /// the next evaluation. Rules whose `for` is shorter than `grace` are not restored. Marks every alerting rule
    /// restored.
    pub fn restore_for_state(
        &mut self,
        env: &EvalEnv<'_>,
        now_ms: i64,
        outage_tolerance: Duration,
        grace: Duration,
    ) {
        let range = TimeRange {
            min: now_ms - outage_tolerance.as_millis() as i64,
            max: now_ms,
        };
        let querier = env.storage.querier(range).ok();
        for rule in &mut self.rules {
            if rule.spec.kind != RuleKind::Alerting {
                continue;
            }
            let hold = rule.spec.hold.as_millis() as i64;
            rule.restored = true;
            if hold < grace.as_millis() as i64 {
                continue;
            }
            let Some(q) = querier.as_ref() else { continue };
            let matchers = [
                Matcher::equal("__name__", "ALERTS_FOR_STATE"),
                Matcher::equal("alertname", rule.spec.name.clone()),
            ];
            let Ok(set) = q.select(&matchers, SelectHints::samples(range)) else {
                continue;
            };
            let mut last: std::collections::HashMap<Labels, (i64, f64)> = Default::default();
            for series in set.flatten() {
                let mut samples = series.samples;
                let mut end = None;
                while let Some(s) = samples.next() {
                    end = Some((s.t, s.v));
                }
                if let Some(e) = end {
                    last.insert(series.labels.without_metric_name(), e);
                }
            }
            for a in rule.alerts.alerts.values_mut() {
                if a.state == AlertState::Inactive {
                    continue;
                }
                let Some(&(down_at, v)) = last.get(&a.labels) else {
                    continue;
                };
                if is_stale_nan(v) {
                    continue;
                }
                let down_at = down_at / 1000 * 1000;
                let mut active_at = (v as i64) * 1000;
                let remaining = hold - (down_at - active_at);
                if remaining <= 0 {
                    // It was firing: the next evaluation fires it again.
                } else if remaining < grace.as_millis() as i64 {
                    active_at = now_ms + grace.as_millis() as i64 - hold;
                } else {
                    active_at += now_ms - down_at;
                }
                a.active_at = active_at;
            }
        }
    }
}
