//! One rule group's evaluation at one timestamp, as Prometheus evaluates it: rules in order, each committed before
//! the next runs (so a later rule sees an earlier one's output of the same evaluation); recording results written
//! with `__name__` and the rule's labels, stale markers for series a rule stopped returning; alerting rules update
//! their alerts, write `ALERTS` and `ALERTS_FOR_STATE`, and hand due alerts to the notifiers.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use lookout_model::{Labels, LabelsBuilder, stale_nan};
use lookout_promql::{Engine, QueryContext, Value};
use lookout_storage::Storage;

use crate::alert::{ActiveAlerts, AlertState, Element};
use crate::file::{RuleKind, RuleSpec};

/// What a group's evaluation needs from its surroundings.
pub struct EvalEnv<'a> {
    /// Where queries read and results are written.
    pub storage: &'a dyn Storage,
    /// The PromQL engine (with the API's limits).
    pub engine: &'a Engine,
    /// Alert template expansion.
    pub templates: &'a dyn Templates,
    /// How often a still-active alert is re-sent.
    pub resend_delay: Duration,
    /// `<external URL>` for generator URLs.
    pub external_url: &'a str,
    /// Cancels the evaluation (shutdown).
    pub query: QueryContext,
}

/// Alert template expansion (label and annotation values of alerting rules).
pub trait Templates: Send + Sync {
    /// Expands `text` for an alert with `labels` and `value`, evaluated at `eval_ms`.
    fn expand(
        &self,
        text: &str,
        labels: &Labels,
        value: f64,
        eval_ms: i64,
    ) -> Result<String, String>;
    /// Checks that `text` parses with every function defined.
    fn check(&self, text: &str) -> Result<(), String>;
}

/// A rule's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Not evaluated yet.
    Unknown,
    /// The last evaluation succeeded.
    Ok,
    /// The last evaluation failed.
    Err,
}

impl Health {
    /// Prometheus's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Ok => "ok",
            Health::Err => "err",
        }
    }
}

/// An alert due for the notifiers.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Labels (external labels are the notifier's to add).
    pub labels: Labels,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// `startsAt`: when it fired (ms).
    pub starts_at: i64,
    /// `endsAt`: when it resolved, or until when it is valid unless re-sent (ms).
    pub ends_at: i64,
    /// Whether it resolved.
    pub resolved: bool,
    /// Link back to the expression.
    pub generator_url: String,
}

/// One rule and what its evaluations left.
#[derive(Debug, Clone)]
pub struct Rule {
    /// As written (labels include the group's).
    pub spec: RuleSpec,
    /// Health of the last evaluation.
    pub health: Health,
    /// Its error, empty when healthy.
    pub last_error: String,
    /// Wall-clock time of the last evaluation (ms; 0: never).
    pub last_evaluation: i64,
    /// How long it took.
    pub evaluation_time: Duration,
    /// Alerts (alerting rules).
    pub alerts: ActiveAlerts,
    /// Whether `ALERTS`/`ALERTS_FOR_STATE` are written yet (after the for-state restore at start-up).
    pub restored: bool,
    /// Series written by the last successful evaluation, for stale markers.
    series: HashSet<Labels>,
}

impl Rule {
    /// A rule not yet evaluated.
    pub fn new(spec: RuleSpec, restored: bool) -> Rule {
        Rule {
            spec,
            health: Health::Unknown,
            last_error: String::new(),
            last_evaluation: 0,
            evaluation_time: Duration::ZERO,
            alerts: ActiveAlerts::default(),
            restored,
            series: HashSet::new(),
        }
    }

    /// The key rules are matched by across reloads (name and labels).
    pub fn identity(&self) -> String {
        format!(
            "{:?}\u{0}{}\u{0}{:?}",
            self.spec.kind, self.spec.name, self.spec.labels
        )
    }

    /// Takes over the alerts and written series of `old` (the same rule before a reload).
    pub fn copy_state(&mut self, old: &Rule) {
        self.alerts = old.alerts.clone();
        self.series = old.series.clone();
        self.health = old.health;
        self.last_error = old.last_error.clone();
        self.last_evaluation = old.last_evaluation;
        self.evaluation_time = old.evaluation_time;
        self.restored = old.restored;
    }

    /// A copy without the written-series set (for status readers).
    pub fn snapshot(&self) -> Rule {
        Rule {
            spec: self.spec.clone(),
            health: self.health,
            last_error: self.last_error.clone(),
            last_evaluation: self.last_evaluation,
            evaluation_time: self.evaluation_time,
            alerts: self.alerts.clone(),
            restored: self.restored,
            series: HashSet::new(),
        }
    }

    /// Series its last evaluation wrote (for stale markers when the rule is removed).
    pub fn written_series(&self) -> impl Iterator<Item = &Labels> {
        self.series.iter()
    }

    /// The rule's state (highest among its alerts).
    pub fn state(&self) -> AlertState {
        self.alerts.state()
    }
}

/// Wall-clock time in Unix milliseconds.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The instant vector `expr` returns at `t` (a scalar becomes one sample without labels).
fn query(env: &EvalEnv<'_>, expr: &str, t: i64) -> Result<Vec<(Labels, f64)>, String> {
    let out = env
        .engine
        .instant_query(env.storage, expr, t, &env.query)
        .map_err(|e| e.to_string())?;
    match out.value {
        Value::Vector(v) => Ok(v.into_iter().map(|s| (s.labels, s.v)).collect()),
        Value::Scalar { v, .. } => Ok(vec![(Labels::empty(), v)]),
        _ => Err("rule result is not a vector or scalar".into()),
    }
}

fn with_labels(base: &Labels, set: &[(&str, &str)], drop_name: bool) -> Result<Labels, String> {
    let mut b = LabelsBuilder::with_capacity(base.len() + set.len());
    for l in base.iter() {
        if drop_name && &*l.name == "__name__" {
            continue;
        }
        b.push(l.name.clone(), l.value.clone());
    }
    for (n, v) in set {
        b.set(n, v);
    }
    b.build().map_err(|e| e.to_string())
}

/// The generator URL Prometheus builds: the expression in the table view of the graph page.
pub fn generator_url(external_url: &str, expr: &str) -> String {
    let mut enc = String::new();
    for b in expr.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                enc.push(b as char)
            }
            b' ' => enc.push('+'),
            _ => enc.push_str(&format!("%{b:02X}")),
        }
    }
    format!(
        "{}/graph?g0.expr={enc}&g0.tab=1",
        external_url.trim_end_matches('/')
    )
}

impl Rule {
    /// Evaluates the rule at `ts` (ms) with `offset`, writing its output and returning the alerts due for
    /// notification. Errors go into the rule's health; nothing of a failed evaluation is written.
    pub fn eval(
        &mut self,
        env: &EvalEnv<'_>,
        ts: i64,
        offset: Duration,
        limit: usize,
        interval: Duration,
    ) -> (usize, Vec<Notification>) {
        let started = Instant::now();
        let t = ts - offset.as_millis() as i64;
        let result = match self.spec.kind {
            RuleKind::Recording => self.eval_recording(env, t, limit),
            RuleKind::Alerting => self.eval_alerting(env, ts, t, limit),
        };
        self.last_evaluation = now_ms();
        self.evaluation_time = started.elapsed();
        let (samples, template_error) = match result {
            Ok(out) => out,
            Err(e) => {
                self.health = Health::Err;
                self.last_error = e;
                return (0, Vec::new());
            }
        };
        match template_error {
            Some(e) => {
                self.health = Health::Err;
                self.last_error = e;
            }
            None => {
                self.health = Health::Ok;
                self.last_error.clear();
            }
        }
        let due = if self.spec.kind == RuleKind::Alerting {
            self.due_alerts(env, ts, interval)
        } else {
            Vec::new()
        };
        (samples, due)
    }

    /// Writes `out` at `t`, stale markers for the series of the previous evaluation it lacks, and commits.
    fn write(
        &mut self,
        env: &EvalEnv<'_>,
        t: i64,
        out: Vec<(Labels, f64)>,
    ) -> Result<usize, String> {
        let mut app = env.storage.appender();
        let mut now: HashSet<Labels> = HashSet::with_capacity(out.len());
        let mut first_error = None;
        let n = out.len();
        for (labels, v) in out {
            match app.append(&labels, t, v) {
                Ok(_) => {
                    now.insert(labels);
                }
                Err(e) => {
                    first_error.get_or_insert_with(|| format!("rule result discarded: {e}"));
                }
            }
        }
        for old in &self.series {
            if !now.contains(old) {
                // Refusals (another rule wrote it at this time) are expected and not errors.
                let _ = app.append(old, t, stale_nan());
            }
        }
        app.commit().map_err(|e| e.to_string())?;
        self.series = now;
        match first_error {
            Some(e) => Err(e),
            None => Ok(n),
        }
    }

    fn eval_recording(
        &mut self,
        env: &EvalEnv<'_>,
        t: i64,
        limit: usize,
    ) -> Result<(usize, Option<String>), String> {
        let vector = query(env, &self.spec.expr, t)?;
        let mut set: Vec<(&str, &str)> = vec![("__name__", self.spec.name.as_str())];
        set.extend(
            self.spec
                .labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let mut out = Vec::with_capacity(vector.len());
        let mut seen = std::collections::HashSet::with_capacity(vector.len());
        for (labels, v) in vector {
            let l = with_labels(&labels, &set, false)?;
            if !seen.insert(l.clone()) {
                return Err(
                    "vector contains metrics with the same labelset after applying rule labels"
                        .into(),
                );
            }
            out.push((l, v));
        }
        if limit > 0 && out.len() > limit {
            return Err(format!(
                "exceeded limit of {limit} with {} series",
                out.len()
            ));
        }
        Ok((self.write(env, t, out)?, None))
    }

    fn eval_alerting(
        &mut self,
        env: &EvalEnv<'_>,
        ts: i64,
        t: i64,
        limit: usize,
    ) -> Result<(usize, Option<String>), String> {
        let vector = query(env, &self.spec.expr, t)?;
        let mut template_error = None;
        let mut expand =
            |text: &str, labels: &Labels, v: f64| match env.templates.expand(text, labels, v, ts) {
                Ok(s) => s,
                Err(e) => {
                    // As Prometheus: the text says what failed; the rule's health says so too.
                    let msg = format!("<error expanding template: {e}>");
                    template_error.get_or_insert_with(|| format!("expanding template: {e}"));
                    msg
                }
            };
        let mut elements = Vec::with_capacity(vector.len());
        let mut seen = std::collections::HashSet::with_capacity(vector.len());
        for (labels, v) in vector {
            let expanded: Vec<(String, String)> = self
                .spec
                .labels
                .iter()
                .map(|(k, text)| (k.clone(), expand(text, &labels, v)))
                .collect();
            let mut set: Vec<(&str, &str)> = expanded
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            set.push(("alertname", self.spec.name.as_str()));
            let alert_labels = with_labels(&labels, &set, true)?;
            if !seen.insert(alert_labels.hash64()) {
                return Err(
                    "vector contains metrics with the same labelset after applying alert labels"
                        .into(),
                );
            }
            let annotations = self
                .spec
                .annotations
                .iter()
                .map(|(k, text)| (k.clone(), expand(text, &labels, v)))
                .collect();
            elements.push(Element {
                labels: alert_labels,
                annotations,
                value: v,
            });
        }
        let active = self.alerts.update(
            elements,
            ts,
            self.spec.hold.as_millis() as i64,
            self.spec.keep_firing_for.as_millis() as i64,
        );
        if limit > 0 && active > limit {
            self.alerts = ActiveAlerts::default();
            return Err(format!("exceeded limit of {limit} with {active} alerts"));
        }
        let mut out = Vec::new();
        if self.restored {
            for a in self.alerts.alerts.values() {
                if a.state == AlertState::Inactive {
                    continue;
                }
                let state = a.state.as_str();
                out.push((
                    with_labels(
                        &a.labels,
                        &[("__name__", "ALERTS"), ("alertstate", state)],
                        false,
                    )?,
                    1.0,
                ));
                out.push((
                    with_labels(&a.labels, &[("__name__", "ALERTS_FOR_STATE")], false)?,
                    (a.active_at / 1000) as f64,
                ));
            }
        }
        Ok((self.write(env, t, out)?, template_error))
    }

    /// The alerts to hand to the notifiers at `ts`, marked as sent.
    fn due_alerts(&mut self, env: &EvalEnv<'_>, ts: i64, interval: Duration) -> Vec<Notification> {
        let resend = env.resend_delay.as_millis() as i64;
        let delta = resend.max(interval.as_millis() as i64);
        let url = generator_url(env.external_url, &self.spec.expr);
        let mut out = Vec::new();
        for a in self.alerts.alerts.values_mut() {
            if !a.needs_sending(ts, resend) {
                continue;
            }
            a.last_sent_at = ts;
            a.valid_until = ts + 4 * delta;
            let resolved = a.resolved_at != 0;
            out.push(Notification {
                labels: a.labels.clone(),
                annotations: a.annotations.clone(),
                starts_at: a.fired_at,
                ends_at: if resolved {
                    a.resolved_at
                } else {
                    a.valid_until
                },
                resolved,
                generator_url: url.clone(),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests;
