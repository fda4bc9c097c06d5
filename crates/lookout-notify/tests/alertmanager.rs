//! The Alertmanager v2 sender against in-test receivers on 127.0.0.1.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{Behavior, Receiver, alert, eventually, labels};
use lookout_model::TargetGroup;
use lookout_notify::{AlertingConfig, Notifier, NotifierOptions};
use tokio::runtime::Handle;

const WAIT: Duration = Duration::from_secs(5);

fn config(yaml: &str) -> AlertingConfig {
    AlertingConfig::from_yaml(yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
}

fn static_config(targets: &[&Receiver], extra: &str) -> AlertingConfig {
    let list: Vec<String> = targets.iter().map(|r| format!("'{}'", r.addr)).collect();
    config(&format!(
        "alertmanagers:\n  - static_configs: [{{targets: [{}]}}]\n{extra}",
        list.join(", ")
    ))
}

fn names(body: &serde_json::Value) -> Vec<String> {
    body.as_array()
        .unwrap()
        .iter()
        .map(|a| a["labels"]["alertname"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_labels_and_relabeling_apply_before_sending() {
    let am = Receiver::ok().await;
    let mut cfg = static_config(&[&am], "");
    cfg.alert_relabel_configs = serde_yaml_ng::from_str(
        "- {source_labels: [severity], regex: debug, action: drop}\n\
         - {source_labels: [alertname], target_label: copied}",
    )
    .unwrap();
    let options = NotifierOptions {
        external_labels: labels(&[("cluster", "home"), ("env", "prod")]),
        ..NotifierOptions::default()
    };
    let n = Notifier::new(&cfg, options, Handle::current()).unwrap();
    let mut a = alert(&[("alertname", "A"), ("env", "own")]);
    a.annotations.insert("summary".into(), "s".into());
    a.generator_url = "http://lookout/graph?g0.expr=up".into();
    n.send(vec![
        a,
        alert(&[("alertname", "Dropped"), ("severity", "debug")]),
    ]);
    let reqs = am.wait_for(1, WAIT).await;
    let r = &reqs[0];
    assert_eq!(r.path, "/api/v2/alerts");
    assert_eq!(r.headers["content-type"], "application/json");
    assert!(
        r.headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("Lookout/")
    );
    let body = r.body.as_array().unwrap();
    assert_eq!(body.len(), 1, "the dropped alert is not sent");
    let sent = &body[0];
    assert_eq!(
        sent["labels"],
        serde_json::json!({"alertname": "A", "cluster": "home", "copied": "A", "env": "own"}),
        "external labels added only when absent, then relabeled"
    );
    assert_eq!(sent["annotations"], serde_json::json!({"summary": "s"}));
    assert_eq!(sent["generatorURL"], "http://lookout/graph?g0.expr=up");
    let starts = sent["startsAt"].as_str().unwrap();
    assert!(
        starts.len() == 24 && starts.ends_with('Z') && starts.as_bytes()[19] == b'.',
        "{starts}"
    );
    assert!(sent["endsAt"].is_string());
    n.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_hold_at_most_the_batch_size() {
    let am = Receiver::ok().await;
    let options = NotifierOptions {
        max_batch_size: 3,
        ..NotifierOptions::default()
    };
    let n = Notifier::new(&static_config(&[&am], ""), options, Handle::current()).unwrap();
    let alerts = (0..7)
        .map(|i| alert(&[("alertname", &format!("A{i}"))]))
        .collect();
    n.send(alerts);
    let reqs = am.wait_for(3, WAIT).await;
    let sizes: Vec<usize> = reqs
        .iter()
        .map(|r| r.body.as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, vec![3, 3, 1]);
    let all: Vec<String> = reqs.iter().flat_map(|r| names(&r.body)).collect();
    assert_eq!(
        all,
        (0..7).map(|i| format!("A{i}")).collect::<Vec<_>>(),
        "queue order kept"
    );
    eventually(WAIT, "stats", || n.stats().alertmanagers[0].sent == 7).await;
    let s = n.stats();
    assert_eq!(s.alertmanagers[0].latency_count, 3);
    assert_eq!(s.alertmanagers[0].errors, 0);
    n.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_alertmanager_gets_every_alert_and_a_failing_one_does_not_hold_back_the_other() {
    let good = Receiver::ok().await;
    let bad = Receiver::start(Behavior {
        then: 500,
        ..Behavior::default()
    })
    .await;
    let also_good = Receiver::ok().await;
    let cfg = static_config(&[&good, &bad], "");
    let mut cfg2 = static_config(&[&also_good], "");
    cfg2.alertmanagers.insert(0, cfg.alertmanagers[0].clone());
    let n = Notifier::new(&cfg2, NotifierOptions::default(), Handle::current()).unwrap();
    assert_eq!(n.alertmanagers().active.len(), 3);
    for i in 0..3 {
        n.send(vec![alert(&[("alertname", &format!("A{i}"))])]);
    }
    for r in [&good, &also_good] {
        eventually(WAIT, "all alerts", || {
            r.requests()
                .iter()
                .map(|q| q.body.as_array().unwrap().len())
                .sum::<usize>()
                == 3
        })
        .await;
    }
    let bad_url = format!("http://{}/api/v2/alerts", bad.addr);
    eventually(WAIT, "errors counted", || {
        n.stats()
            .alertmanagers
            .iter()
            .any(|s| s.url == bad_url && s.errors == 3)
    })
    .await;
    let stats = n.stats();
    for s in &stats.alertmanagers {
        if s.url == bad_url {
            assert_eq!(
                (s.sent, s.errors, s.dropped),
                (0, 3, 3),
                "batches that still fail after their retries are dropped"
            );
        } else {
            assert_eq!((s.sent, s.errors), (3, 0), "{}", s.url);
        }
    }
    assert_eq!(stats.dropped_total, 3);
    let attempted: usize = bad
        .requests()
        .iter()
        .map(|q| q.body.as_array().unwrap().len())
        .sum();
    assert_eq!(attempted, 9, "each alert posted three times: two retries");
    n.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_alertmanager_that_recovers_gets_the_batch_on_a_retry_and_a_4xx_is_not_retried() {
    let flaky = Receiver::start(Behavior {
        first: [503, 500].into_iter().collect(),
        ..Behavior::default()
    })
    .await;
    let n = Notifier::new(
        &static_config(&[&flaky], ""),
        NotifierOptions::default(),
        Handle::current(),
    )
    .unwrap();
    n.send(vec![alert(&[("alertname", "A")])]);
    let reqs = flaky.wait_for(3, WAIT).await;
    assert!(reqs.iter().all(|r| names(&r.body) == ["A"]));
    eventually(WAIT, "sent after two retries", || {
        n.stats().alertmanagers[0].sent == 1
    })
    .await;
    assert_eq!(n.stats().alertmanagers[0].errors, 0);
    n.shutdown(Duration::from_secs(1)).await;

    let refusing = Receiver::start(Behavior {
        then: 400,
        ..Behavior::default()
    })
    .await;
    let n = Notifier::new(
        &static_config(&[&refusing], ""),
        NotifierOptions::default(),
        Handle::current(),
    )
    .unwrap();
    n.send(vec![alert(&[("alertname", "B")])]);
    eventually(WAIT, "the 400 counted", || {
        n.stats().alertmanagers[0].errors == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(refusing.requests().len(), 1, "a 400 is not retried");
    n.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_drops_the_oldest_alerts_and_counts_them() {
    let am = Receiver::start(Behavior {
        delay: Duration::from_millis(200),
        ..Behavior::default()
    })
    .await;
    let options = NotifierOptions {
        queue_capacity: 3,
        max_batch_size: 1,
        ..NotifierOptions::default()
    };
    let n = Notifier::new(&static_config(&[&am], ""), options, Handle::current()).unwrap();
    n.send(vec![alert(&[("alertname", "first")])]);
    // While the first request is held by the slow receiver, six more arrive for three places.
    am.wait_for(1, WAIT).await;
    let more = (1..=6)
        .map(|i| alert(&[("alertname", &format!("A{i}"))]))
        .collect();
    n.send(more);
    let s = n.stats();
    assert_eq!(
        (s.alertmanagers[0].queue_length, s.alertmanagers[0].dropped),
        (3, 3)
    );
    assert_eq!(s.dropped_total, 3);
    let reqs = am.wait_for(4, WAIT).await;
    let got: Vec<String> = reqs.iter().flat_map(|r| names(&r.body)).collect();
    assert_eq!(got, ["first", "A4", "A5", "A6"]);
    n.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_timeout_is_respected() {
    let slow = Receiver::start(Behavior {
        delay: Duration::from_secs(3),
        ..Behavior::default()
    })
    .await;
    let cfg = static_config(&[&slow], "    timeout: 100ms\n");
    assert_eq!(cfg.alertmanagers[0].timeout.as_millis(), 100);
    let n = Notifier::new(&cfg, NotifierOptions::default(), Handle::current()).unwrap();
    let begin = Instant::now();
    n.send(vec![alert(&[("alertname", "A")])]);
    eventually(WAIT, "timeout error", || {
        n.stats().alertmanagers[0].errors == 1
    })
    .await;
    assert!(
        begin.elapsed() < Duration::from_secs(2),
        "{:?}",
        begin.elapsed()
    );
    assert_eq!(n.stats().alertmanagers[0].sent, 0);
    n.shutdown(Duration::from_millis(100)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_the_queue() {
    let am = Receiver::ok().await;
    let options = NotifierOptions {
        max_batch_size: 2,
        ..NotifierOptions::default()
    };
    let n = Notifier::new(&static_config(&[&am], ""), options, Handle::current()).unwrap();
    n.send(
        (0..5)
            .map(|i| alert(&[("alertname", &format!("A{i}"))]))
            .collect(),
    );
    n.shutdown(Duration::from_secs(2)).await;
    let total: usize = am
        .requests()
        .iter()
        .map(|r| r.body.as_array().unwrap().len())
        .sum();
    assert_eq!(total, 5);
    // After shutdown nothing is queued any more.
    n.send(vec![alert(&[("alertname", "late")])]);
    assert!(n.stats().alertmanagers.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targets_can_be_replaced_at_run_time_and_relabeling_drops_some() {
    let a = Receiver::ok().await;
    let b = Receiver::ok().await;
    let cfg = config(
        "alertmanagers:\n  - path_prefix: /am\n    basic_auth: {username: u, password: p}\n    relabel_configs:\n      - {source_labels: [role], regex: standby, action: drop}\n",
    );
    let n = Notifier::new(&cfg, NotifierOptions::default(), Handle::current()).unwrap();
    assert!(n.alertmanagers().active.is_empty());
    let group = |addr: String, role: &str| TargetGroup {
        source: addr.clone(),
        targets: vec![labels(&[("__address__", &addr), ("role", role)])],
        labels: lookout_model::Labels::empty(),
    };
    n.set_alertmanagers(
        0,
        &[
            group(a.addr.to_string(), "primary"),
            group(b.addr.to_string(), "standby"),
        ],
    )
    .unwrap();
    let urls = n.alertmanagers();
    assert_eq!(
        urls.active,
        vec![format!("http://{}/am/api/v2/alerts", a.addr)]
    );
    assert_eq!(
        urls.dropped,
        vec![format!("http://{}/am/api/v2/alerts", b.addr)]
    );
    n.send(vec![alert(&[("alertname", "A")])]);
    let reqs = a.wait_for(1, WAIT).await;
    assert_eq!(reqs[0].path, "/am/api/v2/alerts");
    assert_eq!(reqs[0].headers["authorization"], "Basic dTpw");
    assert!(n.set_alertmanagers(1, &[]).is_err());
    n.set_alertmanagers(0, &[]).unwrap();
    assert_eq!(n.alertmanagers().active.len(), 0);
    let seen: BTreeSet<String> = b.requests().iter().map(|r| r.path.clone()).collect();
    assert!(seen.is_empty());
    n.shutdown(Duration::from_millis(200)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_render_under_prometheus_names() {
    let am = Receiver::ok().await;
    let n = Notifier::new(
        &static_config(&[&am], ""),
        NotifierOptions::default(),
        Handle::current(),
    )
    .unwrap();
    n.send(vec![alert(&[("alertname", "A")])]);
    eventually(WAIT, "sent", || n.stats().alertmanagers[0].sent == 1).await;
    let mut w = lookout_model::MetricsWriter::new();
    n.stats().render(&mut w);
    let text = w.finish();
    let url = format!("http://{}/api/v2/alerts", am.addr);
    for line in [
        "prometheus_notifications_queue_capacity 10000".to_string(),
        "prometheus_notifications_dropped_total 0".to_string(),
        "prometheus_notifications_alertmanagers_discovered 1".to_string(),
        format!("prometheus_notifications_sent_total{{alertmanager=\"{url}\"}} 1"),
        format!("prometheus_notifications_errors_total{{alertmanager=\"{url}\"}} 0"),
        format!("prometheus_notifications_queue_length{{alertmanager=\"{url}\"}} 0"),
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    n.shutdown(Duration::from_millis(200)).await;
}
