//! The built-in webhook notifier: grouping, timers, resolution, routing, retries and the payload, against an
//! in-test receiver on 127.0.0.1. Timers are tens to hundreds of milliseconds; assertions leave generous slack.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{Behavior, Receiver, Recorded, alert, eventually, labels};
use lookout_notify::{WebhookNotifier, WebhookNotifierConfig, WebhookOptions};
use serde_json::Value;
use tokio::runtime::Handle;

const WAIT: Duration = Duration::from_secs(5);

fn start_with(yaml: &str, options: WebhookOptions) -> WebhookNotifier {
    let cfg = WebhookNotifierConfig::from_yaml(yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    WebhookNotifier::new(&cfg, options, Handle::current()).unwrap()
}

fn start(yaml: &str) -> WebhookNotifier {
    start_with(yaml, WebhookOptions::default())
}

/// One receiver `hook` posting to `url`, with the given route timers and grouping.
fn simple(url: &str, group_by: &str, wait: &str, interval: &str, repeat: &str) -> String {
    format!(
        "route:\n  receiver: hook\n  group_by: {group_by}\n  group_wait: {wait}\n  group_interval: {interval}\n  repeat_interval: {repeat}\nreceivers:\n  - name: hook\n    webhook_configs: [{{url: '{url}'}}]\n"
    )
}

fn alert_names(r: &Recorded) -> Vec<String> {
    r.body["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["labels"]["alertname"].as_str().unwrap().to_string())
        .collect()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_by_label_after_group_wait() {
    let hook = Receiver::ok().await;
    let n = start(&simple(&hook.url("/"), "[alertname]", "150ms", "1h", "1h"));
    let sent = Instant::now();
    n.send(vec![
        alert(&[("alertname", "A"), ("instance", "1")]),
        alert(&[("alertname", "A"), ("instance", "2")]),
        alert(&[("alertname", "B"), ("instance", "1")]),
    ]);
    let reqs = hook.wait_for(2, WAIT).await;
    for r in &reqs {
        assert!(
            r.at - sent >= Duration::from_millis(140),
            "sent before group_wait: {:?}",
            r.at - sent
        );
    }
    let by_group = |name: &str| {
        reqs.iter()
            .find(|r| r.body["groupLabels"]["alertname"] == name)
            .unwrap_or_else(|| panic!("no notification for {name}"))
    };
    assert_eq!(alert_names(by_group("A")), ["A", "A"]);
    assert_eq!(alert_names(by_group("B")), ["B"]);
    assert_eq!(by_group("A").body["groupKey"], r#"{}:{alertname="A"}"#);
    assert_eq!(
        by_group("A").body["commonLabels"],
        serde_json::json!({"alertname": "A"})
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        hook.requests().len(),
        2,
        "nothing else until the group interval"
    );
    assert_eq!(n.stats().aggregation_groups, 2);
    n.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_older_than_group_wait_is_notified_at_once() {
    let hook = Receiver::ok().await;
    let n = start(&simple(&hook.url("/"), "[]", "10s", "1h", "1h"));
    let mut a = alert(&[("alertname", "Old")]);
    a.starts_at = SystemTime::now() - Duration::from_secs(60);
    let sent = Instant::now();
    n.send(vec![a]);
    let reqs = hook.wait_for(1, WAIT).await;
    assert!(reqs[0].at - sent < Duration::from_secs(2));
    n.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_alert_joins_the_group_at_the_next_interval() {
    let hook = Receiver::ok().await;
    let n = start(&simple(&hook.url("/"), "[job]", "50ms", "400ms", "1h"));
    n.send(vec![alert(&[("alertname", "A1"), ("job", "node")])]);
    let first = hook.wait_for(1, WAIT).await.remove(0);
    assert_eq!(alert_names(&first), ["A1"]);
    assert_eq!(first.body["notification_reason"], "first notification");
    n.send(vec![alert(&[("alertname", "A2"), ("job", "node")])]);
    let second = hook.wait_for(2, WAIT).await.remove(1);
    let gap = second.at - first.at;
    assert!(
        gap >= Duration::from_millis(330) && gap < Duration::from_millis(1500),
        "gap {gap:?}"
    );
    assert_eq!(alert_names(&second), ["A1", "A2"]);
    assert_eq!(second.body["notification_reason"], "new alerts added");
    assert_eq!(second.body["groupKey"], first.body["groupKey"]);
    n.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_group_is_re_sent_after_repeat_interval() {
    let hook = Receiver::ok().await;
    let n = start(&simple(&hook.url("/"), "[]", "50ms", "100ms", "300ms"));
    n.send(vec![alert(&[("alertname", "A")])]);
    let first = hook.wait_for(1, WAIT).await.remove(0);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        hook.requests().len(),
        1,
        "no change, no notification before repeat_interval"
    );
    let second = hook.wait_for(2, WAIT).await.remove(1);
    let gap = second.at - first.at;
    assert!(
        gap >= Duration::from_millis(290) && gap < Duration::from_millis(900),
        "gap {gap:?}"
    );
    assert_eq!(
        second.body["notification_reason"],
        "repeat interval elapsed"
    );
    assert_eq!(alert_names(&second), ["A"]);
    n.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolution_is_sent_once_when_send_resolved_and_not_at_all_otherwise() {
    let hook = Receiver::ok().await;
    let yaml = format!(
        "route: {{receiver: hook, group_wait: 50ms, group_interval: 150ms, repeat_interval: 1h}}\n\
         receivers:\n  - name: hook\n    webhook_configs:\n      - url: '{}'\n      - url: '{}'\n        send_resolved: false\n",
        hook.url("/loud"),
        hook.url("/quiet")
    );
    let n = start(&yaml);
    let a = alert(&[("alertname", "A")]);
    n.send(vec![a.clone()]);
    hook.wait_for(2, WAIT).await;
    let mut resolved = a;
    let ended = SystemTime::now();
    resolved.ends_at = Some(ended);
    n.send(vec![resolved]);
    let reqs = hook.wait_for(3, WAIT).await;
    let last = &reqs[2];
    assert_eq!(last.path, "/loud");
    assert_eq!(last.body["status"], "resolved");
    assert_eq!(last.body["notification_reason"], "all alerts resolved");
    let alert = &last.body["alerts"][0];
    assert_eq!(alert["status"], "resolved");
    assert_eq!(alert["endsAt"], lookout_notify::time::format_nanos(ended));
    // The group is gone once the resolution went out; neither webhook hears more.
    eventually(WAIT, "group removed", || n.stats().aggregation_groups == 0).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let paths: Vec<String> = hook.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths.iter().filter(|p| *p == "/quiet").count(),
        1,
        "{paths:?}"
    );
    assert_eq!(paths.len(), 3, "{paths:?}");
    for r in hook.requests().iter().take(2) {
        assert_eq!(r.body["status"], "firing");
        assert_eq!(r.body["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
    }
    n.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_match_in_order_and_continue_goes_on() {
    let hook = Receiver::ok().await;
    let yaml = format!(
        "route:\n  receiver: default\n  group_wait: 50ms\n  group_interval: 1h\n  routes:\n    - matchers: ['severity=\"critical\"']\n      receiver: pager\n      continue: true\n    - matchers: ['team=~\"db|infra\"']\n      receiver: team\nreceivers:\n  - {{name: default, webhook_configs: [{{url: '{0}'}}]}}\n  - {{name: pager, webhook_configs: [{{url: '{1}'}}]}}\n  - {{name: team, webhook_configs: [{{url: '{2}'}}]}}\n",
        hook.url("/default"),
        hook.url("/pager"),
        hook.url("/team"),
    );
    let n = start(&yaml);
    n.send(vec![
        alert(&[("alertname", "X"), ("severity", "critical"), ("team", "db")]),
        alert(&[
            ("alertname", "Y"),
            ("severity", "critical"),
            ("team", "web"),
        ]),
        alert(&[
            ("alertname", "Z"),
            ("severity", "warning"),
            ("team", "infra"),
        ]),
        alert(&[("alertname", "W"), ("severity", "info")]),
    ]);
    let reqs = hook.wait_for(3, WAIT).await;
    let at = |path: &str| {
        reqs.iter()
            .find(|r| r.path == path)
            .unwrap_or_else(|| panic!("no {path}"))
    };
    assert_eq!(alert_names(at("/pager")), ["X", "Y"]);
    assert_eq!(alert_names(at("/team")), ["X", "Z"]);
    assert_eq!(alert_names(at("/default")), ["W"]);
    assert_eq!(
        at("/pager").body["groupKey"],
        r#"{}/{severity="critical"}:{}"#
    );
    assert_eq!(at("/team").body["groupKey"], r#"{}/{team=~"db|infra"}:{}"#);
    assert_eq!(at("/default").body["groupKey"], "{}:{}");
    assert_eq!(at("/pager").body["receiver"], "pager");
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(hook.requests().len(), 3);
    n.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_webhook_gets_the_notification_after_retries() {
    let hook = Receiver::start(Behavior {
        first: [500, 503, 429].into(),
        ..Behavior::default()
    })
    .await;
    let n = start(&simple(&hook.url("/"), "[]", "50ms", "1600ms", "1h"));
    n.send(vec![alert(&[("alertname", "A")])]);
    let reqs = hook.wait_for(4, WAIT).await;
    assert!(
        reqs[3].at - reqs[0].at < Duration::from_millis(1500),
        "retried within the interval"
    );
    assert!(
        reqs.iter().all(|r| r.raw == reqs[0].raw),
        "the same message each time"
    );
    eventually(WAIT, "delivered", || {
        n.stats().integrations[0].delivered == 1
    })
    .await;
    let s = &n.stats().integrations[0];
    assert_eq!(
        (
            s.notifications,
            s.delivered,
            s.failed,
            s.requests,
            s.requests_failed
        ),
        (1, 1, 0, 4, 3)
    );
    assert_eq!(
        (s.receiver.as_str(), s.integration.as_str()),
        ("hook", "webhook[0]")
    );
    n.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_error_is_not_retried_until_the_next_flush() {
    let hook = Receiver::start(Behavior {
        first: [400].into(),
        ..Behavior::default()
    })
    .await;
    let n = start(&simple(&hook.url("/"), "[]", "50ms", "500ms", "1h"));
    n.send(vec![alert(&[("alertname", "A")])]);
    let first = hook.wait_for(1, WAIT).await.remove(0);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(hook.requests().len(), 1, "a 400 is final for this flush");
    assert_eq!(n.stats().integrations[0].failed, 1);
    // Nothing was logged as notified, so the next flush tries again.
    let second = hook.wait_for(2, WAIT).await.remove(1);
    assert!(second.at - first.at >= Duration::from_millis(400));
    assert_eq!(second.body["notification_reason"], "first notification");
    n.shutdown(Duration::from_secs(1)).await;
}

/// Prometheus's `LabelSet.Fingerprint`, written out from its definition: 64-bit FNV-1a (offset basis
/// 14695981039346656037, prime 1099511628211) over each label in name order as `name 0xff value 0xff`.
fn fnv1a_by_hand(pairs: &[(&str, &str)]) -> String {
    let mut sorted = pairs.to_vec();
    sorted.sort();
    let mut h: u64 = 14_695_981_039_346_656_037;
    for (name, value) in sorted {
        for b in name
            .bytes()
            .chain([0xff])
            .chain(value.bytes())
            .chain([0xff])
        {
            h ^= u64::from(b);
            h = h.wrapping_mul(1_099_511_628_211);
        }
    }
    format!("{h:016x}")
}

#[test]
fn fingerprint_matches_alertmanager() {
    let pairs = [
        ("alertname", "InstanceDown"),
        ("instance", "h1:9100"),
        ("job", "node"),
    ];
    let by_hand = fnv1a_by_hand(&pairs);
    // Also computed independently (Python, same definition) when this test was written.
    assert_eq!(by_hand, "d94497577bec7302");
    assert_eq!(
        lookout_notify::fingerprint(&labels(&pairs)).to_string(),
        by_hand
    );
    assert_eq!(
        lookout_notify::fingerprint(&labels(&[])).to_string(),
        "cbf29ce484222325"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_is_alertmanagers_webhook_v4() {
    let hook = Receiver::ok().await;
    let yaml = format!(
        "route: {{receiver: home.lab, group_by: ['...'], group_wait: 1h}}\nreceivers:\n  - name: home.lab\n    webhook_configs: [{{url: '{}'}}]\n",
        hook.url("/hook")
    );
    let options = WebhookOptions {
        external_url: "http://lookout.test:9090".into(),
        external_labels: labels(&[("cluster", "home")]),
        ..WebhookOptions::default()
    };
    let n = start_with(&yaml, options);
    let pairs = [
        ("alertname", "InstanceDown"),
        ("instance", "h1:9100"),
        ("job", "node"),
    ];
    let mut a = alert(&pairs);
    // Old enough to be flushed at once despite the long group_wait.
    a.starts_at = UNIX_EPOCH + Duration::from_millis(1_777_629_600_500);
    a.annotations
        .insert("summary".into(), "h1 <down> & out".into());
    a.generator_url = "http://lookout.test:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1".into();
    n.send(vec![a]);
    let r = hook.wait_for(1, WAIT).await.remove(0);
    assert_eq!(r.headers["content-type"], "application/json");
    assert!(
        r.raw.ends_with(b"}\n"),
        "Go's encoder ends the body with a newline"
    );
    let raw = String::from_utf8(r.raw.clone()).unwrap();
    assert!(
        raw.contains(r"h1 \u003cdown\u003e \u0026 out"),
        "HTML-safe escaping as Go writes it: {raw}"
    );
    let b = &r.body;
    let expected_top: BTreeSet<String> = [
        "version",
        "groupKey",
        "truncatedAlerts",
        "status",
        "receiver",
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "externalURL",
        "alerts",
        // Added by current Alertmanager versions (reference commit 68fb2d5) next to the classic v4 fields.
        "notification_reason",
        "routeLabels",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(keys(b), expected_top);
    let with_cluster = [
        ("alertname", "InstanceDown"),
        ("cluster", "home"),
        ("instance", "h1:9100"),
        ("job", "node"),
    ];
    let all_labels = serde_json::json!({"alertname": "InstanceDown", "cluster": "home", "instance": "h1:9100", "job": "node"});
    assert_eq!(b["version"], "4");
    assert_eq!(
        b["groupKey"],
        r#"{}:{alertname="InstanceDown", cluster="home", instance="h1:9100", job="node"}"#
    );
    assert_eq!(b["truncatedAlerts"], 0);
    assert_eq!(b["status"], "firing");
    assert_eq!(
        b["receiver"], r"home\.lab",
        "regexp.QuoteMeta of the receiver name, as Alertmanager sends it"
    );
    assert_eq!(b["groupLabels"], all_labels);
    assert_eq!(b["commonLabels"], all_labels);
    assert_eq!(
        b["commonAnnotations"],
        serde_json::json!({"summary": "h1 <down> & out"})
    );
    assert_eq!(b["routeLabels"], serde_json::json!({}));
    assert_eq!(b["externalURL"], "http://lookout.test:9090");
    assert_eq!(b["notification_reason"], "first notification");
    let alerts = b["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1);
    let expected_alert: BTreeSet<String> = [
        "status",
        "labels",
        "annotations",
        "startsAt",
        "endsAt",
        "generatorURL",
        "fingerprint",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(keys(&alerts[0]), expected_alert);
    assert_eq!(alerts[0]["status"], "firing");
    assert_eq!(alerts[0]["labels"], all_labels);
    assert_eq!(alerts[0]["startsAt"], "2026-05-01T10:00:00.5Z");
    assert_eq!(
        alerts[0]["endsAt"], "0001-01-01T00:00:00Z",
        "a firing alert's end is hidden"
    );
    assert_eq!(
        alerts[0]["generatorURL"],
        "http://lookout.test:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1"
    );
    assert_eq!(alerts[0]["fingerprint"], fnv1a_by_hand(&with_cluster));
    n.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_alerts_truncates_and_counts() {
    let hook = Receiver::ok().await;
    let yaml = format!(
        "route: {{receiver: hook, group_wait: 50ms}}\nreceivers:\n  - name: hook\n    webhook_configs: [{{url: '{}', max_alerts: 1}}]\n",
        hook.url("/")
    );
    let n = start(&yaml);
    n.send(vec![
        alert(&[("alertname", "A"), ("job", "a")]),
        alert(&[("alertname", "B"), ("job", "b")]),
        alert(&[("alertname", "C"), ("job", "c")]),
    ]);
    let r = hook.wait_for(1, WAIT).await.remove(0);
    assert_eq!(alert_names(&r), ["A"], "sorted by job, then truncated");
    assert_eq!(r.body["truncatedAlerts"], 2);
    n.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_input_channel_drops_and_counts() {
    let hook = Receiver::ok().await;
    let options = WebhookOptions {
        queue_capacity: 4,
        ..WebhookOptions::default()
    };
    let n = start_with(&simple(&hook.url("/"), "[]", "1h", "1h", "1h"), options);
    n.send(
        (0..2000)
            .map(|i| alert(&[("alertname", &format!("A{i}"))]))
            .collect(),
    );
    let s = n.stats();
    assert!(s.alerts_dropped > 0, "{s:?}");
    assert_eq!(s.alerts_received + s.alerts_dropped, 2000);
    let mut w = lookout_model::MetricsWriter::new();
    s.render(&mut w);
    let text = w.finish();
    assert!(
        text.contains(&format!(
            "lookout_webhook_alerts_dropped_total {}",
            s.alerts_dropped
        )),
        "{text}"
    );
    assert!(
        text.contains(
            "lookout_webhook_notifications_total{receiver=\"hook\",integration=\"webhook[0]\"} 0"
        ),
        "{text}"
    );
    let begin = Instant::now();
    n.shutdown(Duration::from_secs(1)).await;
    assert!(begin.elapsed() < Duration::from_secs(2));
}
