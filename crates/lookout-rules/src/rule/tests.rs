//! Evaluation of rules against an in-memory store: recording output and staleness, alert states with `ALERTS`
//! and `ALERTS_FOR_STATE`, notifications, template errors in health, duplicate label sets and limits, and the
//! `for`-state restore.

use std::collections::BTreeMap;
use std::time::Duration;

use lookout_model::{Labels, Matcher, TimeRange, is_stale_nan};
use lookout_promql::{Engine, EngineOptions, QueryContext};
use lookout_storage::mem::MemStorage;
use lookout_storage::{SelectHints, Storage};

use crate::file::{GroupSpec, RuleKind, RuleSpec};
use crate::group::Group;
use crate::rule::{EvalEnv, Health, Templates};
use crate::{AlertState, Notification};

/// `{{ $labels.NAME }}` and `{{ $value }}` only; anything else with `{{` is an error.
struct TestTemplates;

impl Templates for TestTemplates {
    fn expand(
        &self,
        text: &str,
        labels: &Labels,
        value: f64,
        _eval_ms: i64,
    ) -> Result<String, String> {
        let mut out = text.replace("{{ $value }}", &value.to_string());
        for l in labels.iter() {
            out = out.replace(&format!("{{{{ $labels.{} }}}}", l.name), &l.value);
        }
        if out.contains("{{") {
            Err(format!("cannot expand {text:?}"))
        } else {
            Ok(out)
        }
    }
    fn check(&self, _text: &str) -> Result<(), String> {
        Ok(())
    }
}

fn rule(kind: RuleKind, name: &str, expr: &str, hold_s: u64, labels: &[(&str, &str)]) -> RuleSpec {
    RuleSpec {
        kind,
        name: name.into(),
        expr: expr.into(),
        hold: Duration::from_secs(hold_s),
        keep_firing_for: Duration::ZERO,
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        annotations: BTreeMap::new(),
    }
}

fn group(rules: Vec<RuleSpec>, limit: usize) -> Group {
    let spec = GroupSpec {
        name: "g".into(),
        interval: Some(Duration::from_secs(60)),
        query_offset: None,
        limit,
        labels: BTreeMap::new(),
        rules,
    };
    Group::new(spec, "f.yml", Duration::from_secs(60), Duration::ZERO, true)
}

struct World {
    storage: MemStorage,
    engine: Engine,
}

impl World {
    fn new() -> World {
        World {
            storage: MemStorage::new(),
            engine: Engine::new(EngineOptions::default()),
        }
    }

    fn env(&self) -> EvalEnv<'_> {
        EvalEnv {
            storage: &self.storage,
            engine: &self.engine,
            templates: &TestTemplates,
            resend_delay: Duration::from_secs(60),
            external_url: "http://lookout:9090",
            query: QueryContext::default(),
        }
    }

    fn put(&self, pairs: &[(&str, &str)], t: i64, v: f64) {
        let mut app = self.storage.appender();
        app.append(&Labels::from_pairs(pairs).unwrap(), t, v)
            .unwrap();
        app.commit().unwrap();
    }

    /// Every (labels, t, v) of series named `name`.
    fn series(&self, name: &str) -> Vec<(String, i64, f64)> {
        let q = self
            .storage
            .querier(TimeRange {
                min: i64::MIN / 2,
                max: i64::MAX / 2,
            })
            .unwrap();
        let mut out = Vec::new();
        let range = TimeRange {
            min: i64::MIN / 2,
            max: i64::MAX / 2,
        };
        for s in q
            .select(
                &[Matcher::equal("__name__", name)],
                SelectHints::samples(range),
            )
            .unwrap()
        {
            let s = s.unwrap();
            let mut it = s.samples;
            while let Some(x) = it.next() {
                out.push((s.labels.to_string(), x.t, x.v));
            }
        }
        out
    }
}

#[test]
fn recording_rules_write_in_order_and_mark_vanished_series_stale() {
    let w = World::new();
    w.put(&[("__name__", "up"), ("job", "a")], 0, 1.0);
    w.put(&[("__name__", "up"), ("job", "b")], 0, 0.0);
    let mut g = group(
        vec![
            rule(
                RuleKind::Recording,
                "job:up:sum",
                "sum by (job) (up)",
                0,
                &[("src", "r")],
            ),
            // Sees the first rule's output of the same evaluation.
            rule(
                RuleKind::Recording,
                "all:up:count",
                "count(job:up:sum)",
                0,
                &[],
            ),
            rule(RuleKind::Recording, "one", "1", 0, &[]),
        ],
        0,
    );
    g.eval(&w.env(), 1_000);
    assert_eq!(
        w.series("job:up:sum"),
        [
            ("job:up:sum{job=\"a\", src=\"r\"}".to_string(), 1_000, 1.0),
            ("job:up:sum{job=\"b\", src=\"r\"}".to_string(), 1_000, 0.0),
        ]
    );
    assert_eq!(
        w.series("all:up:count"),
        [("all:up:count{}".to_string(), 1_000, 2.0)]
    );
    assert_eq!(
        w.series("one"),
        [("one{}".to_string(), 1_000, 1.0)],
        "a scalar result is one sample"
    );
    assert!(g.rules.iter().all(|r| r.health == Health::Ok));
    // job b disappears (its sample is older than the lookback at t=400s): a stale marker at the next evaluation.
    w.put(&[("__name__", "up"), ("job", "a")], 390_000, 1.0);
    g.eval(&w.env(), 400_000);
    let b: Vec<_> = w
        .series("job:up:sum")
        .into_iter()
        .filter(|s| s.0.contains("\"b\""))
        .collect();
    assert_eq!(b.len(), 2);
    assert!(b[1].1 == 400_000 && is_stale_nan(b[1].2), "{b:?}");
    assert_eq!(g.counters.evaluations, 6);
}

#[test]
fn failures_go_into_health_and_write_nothing() {
    let w = World::new();
    w.put(&[("__name__", "x"), ("a", "1"), ("b", "1")], 0, 1.0);
    w.put(&[("__name__", "x"), ("a", "2"), ("b", "1")], 0, 1.0);
    let mut g = group(
        vec![
            rule(RuleKind::Recording, "dup", "x", 0, &[("a", "same")]),
            rule(RuleKind::Recording, "limited", "x", 0, &[]),
            rule(RuleKind::Recording, "range", "x[5m]", 0, &[]),
        ],
        1,
    );
    g.eval(&w.env(), 1_000);
    let errs: Vec<&str> = g.rules.iter().map(|r| r.last_error.as_str()).collect();
    assert_eq!(
        errs[0],
        "vector contains metrics with the same labelset after applying rule labels"
    );
    assert_eq!(errs[1], "exceeded limit of 1 with 2 series");
    assert!(!errs[2].is_empty());
    assert!(g.rules.iter().all(|r| r.health == Health::Err));
    assert!(w.series("dup").is_empty() && w.series("limited").is_empty());
    assert_eq!(g.counters.failures, 3);
}

fn alerts_of(g: &Group) -> Vec<(String, AlertState)> {
    g.rules[0]
        .alerts
        .alerts
        .values()
        .map(|a| (a.labels.get("instance").unwrap_or("").to_string(), a.state))
        .collect()
}

#[test]
fn alerts_go_pending_firing_resolved_with_alerts_series_and_notifications() {
    let w = World::new();
    let mut spec = rule(
        RuleKind::Alerting,
        "Down",
        "up == 0",
        120,
        &[("severity", "page")],
    );
    spec.annotations.insert(
        "summary".into(),
        "{{ $labels.instance }} is down ({{ $value }})".into(),
    );
    let mut g = group(vec![spec], 0);
    let up = |t: i64, v: f64| {
        w.put(
            &[("__name__", "up"), ("instance", "h1"), ("job", "j")],
            t,
            v,
        )
    };
    up(0, 0.0);
    let sent = g.eval(&w.env(), 60_000);
    assert!(sent.is_empty(), "pending alerts are not sent");
    assert_eq!(alerts_of(&g), [("h1".into(), AlertState::Pending)]);
    up(120_000, 0.0);
    g.eval(&w.env(), 120_000);
    up(180_000, 0.0);
    let sent: Vec<Notification> = g.eval(&w.env(), 180_000);
    assert_eq!(alerts_of(&g), [("h1".into(), AlertState::Firing)]);
    assert_eq!(sent.len(), 1);
    let n = &sent[0];
    assert_eq!(
        n.labels.to_string(),
        "{alertname=\"Down\", instance=\"h1\", job=\"j\", severity=\"page\"}"
    );
    assert_eq!(n.annotations["summary"], "h1 is down (0)");
    assert_eq!(
        (n.starts_at, n.ends_at, n.resolved),
        (180_000, 180_000 + 4 * 60_000, false)
    );
    assert_eq!(
        n.generator_url,
        "http://lookout:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1"
    );
    let alerts = w.series("ALERTS");
    assert_eq!(
        alerts
            .iter()
            .map(|(l, t, _)| (l.contains("alertstate=\"pending\""), *t))
            .collect::<Vec<_>>(),
        [
            (false, 180_000),
            (true, 60_000),
            (true, 120_000),
            (true, 180_000)
        ],
        "pending at 60 s and 120 s, stale when it fires at 180 s: {alerts:?}"
    );
    assert!(is_stale_nan(alerts[3].2));
    assert!(
        w.series("ALERTS_FOR_STATE")
            .iter()
            .all(|(_, _, v)| *v == 60.0),
        "activeAt in seconds"
    );
    // Not re-sent within the resend delay; re-sent after it.
    up(240_000, 0.0);
    assert!(g.eval(&w.env(), 240_000).is_empty());
    up(300_000, 0.0);
    assert_eq!(g.eval(&w.env(), 300_000).len(), 1);
    // Resolved: sent at once with endsAt = resolution time, ALERTS goes stale.
    up(360_000, 1.0);
    let sent = g.eval(&w.env(), 360_000);
    assert_eq!(alerts_of(&g), [("h1".into(), AlertState::Inactive)]);
    assert_eq!(
        (sent.len(), sent[0].resolved, sent[0].ends_at),
        (1, true, 360_000)
    );
    let last = w
        .series("ALERTS")
        .into_iter()
        .rfind(|s| s.0.contains("firing"))
        .unwrap();
    assert!(last.1 == 360_000 && is_stale_nan(last.2), "{last:?}");
}

#[test]
fn a_template_error_shows_in_health_and_in_the_text() {
    let w = World::new();
    w.put(&[("__name__", "up"), ("instance", "h1")], 0, 0.0);
    let mut spec = rule(RuleKind::Alerting, "Down", "up == 0", 0, &[]);
    spec.annotations
        .insert("summary".into(), "{{ broken".into());
    let mut g = group(vec![spec], 0);
    let sent = g.eval(&w.env(), 1_000);
    assert_eq!(g.rules[0].health, Health::Err);
    assert!(
        g.rules[0].last_error.contains("expanding template"),
        "{}",
        g.rules[0].last_error
    );
    assert!(sent[0].annotations["summary"].starts_with("<error expanding template: "));
}

#[test]
fn for_state_is_restored_from_alerts_for_state_after_a_restart() {
    let w = World::new();
    // Before the restart: pending since t=100 s (for 30 m), last written at t=400 s; now is t=1000 s.
    w.put(
        &[
            ("__name__", "ALERTS_FOR_STATE"),
            ("alertname", "Down"),
            ("instance", "h1"),
        ],
        400_000,
        100.0,
    );
    w.put(&[("__name__", "up"), ("instance", "h1")], 950_000, 0.0);
    let spec = GroupSpec {
        name: "g".into(),
        interval: Some(Duration::from_secs(60)),
        query_offset: None,
        limit: 0,
        labels: BTreeMap::new(),
        rules: vec![rule(RuleKind::Alerting, "Down", "up == 0", 1800, &[])],
    };
    let mut g = Group::new(
        spec,
        "f.yml",
        Duration::from_secs(60),
        Duration::ZERO,
        false,
    );
    g.eval(&w.env(), 1_000_000);
    assert!(
        w.series("ALERTS").is_empty(),
        "nothing written before the restore"
    );
    g.restore_for_state(
        &w.env(),
        1_000_000,
        Duration::from_secs(3600),
        Duration::from_secs(600),
    );
    // It had 30 m − 5 m = 25 m left: activeAt shifts by the 600 s outage to 700 s.
    assert_eq!(
        g.rules[0].alerts.alerts.values().next().unwrap().active_at,
        700_000
    );
    assert!(g.rules[0].restored);
    g.eval(&w.env(), 1_060_000);
    assert_eq!(w.series("ALERTS_FOR_STATE").last().unwrap().2, 700.0);
}
