//! Rules end to end: a scraped gauge drives a recording rule and an alert with `for`; the alert goes pending,
//! fires, reaches the built-in webhook notifier with its expanded annotation, resolves and is sent as resolved;
//! `/api/v1/rules`, `/api/v1/alerts` and `/api/v1/alertmanagers` answer in Prometheus's shapes; a reload with a
//! bad rule file is refused with the file and line, and the old rules keep running.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::routing::{get, post};
use lookout_e2e::{Lookout, get_json, instant_query, wait_for};
use parking_lot::Mutex;

const RULES: &str = r#"
groups:
  - name: gauges
    interval: 1s
    rules:
      - record: test:gauge:doubled
        expr: test_gauge * 2
      - alert: GaugeHigh
        expr: test_gauge > 5
        for: 2s
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.instance }} at {{ $value }}"
"#;

/// A target whose `test_gauge` the test sets, and a webhook receiver that keeps what it gets.
struct Peers {
    gauge: Arc<AtomicU64>,
    received: Arc<Mutex<Vec<serde_json::Value>>>,
    addr: std::net::SocketAddr,
}

async fn peers() -> Peers {
    let gauge = Arc::new(AtomicU64::new(10));
    let received = Arc::new(Mutex::new(Vec::new()));
    let (g, r) = (gauge.clone(), received.clone());
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(move || {
                let v = g.load(Ordering::Relaxed);
                async move { format!("# TYPE test_gauge gauge\ntest_gauge {v}\n") }
            }),
        )
        .route(
            "/hook",
            post(move |body: String| {
                r.lock()
                    .push(serde_json::from_str(&body).unwrap_or(serde_json::Value::Null));
                async { "ok" }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Peers {
        gauge,
        received,
        addr,
    }
}

fn config(addr: std::net::SocketAddr) -> String {
    format!(
        r#"
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
  external_labels: {{cluster: test}}
rule_files: ["*.rules.yml"]
scrape_configs:
  - job_name: gauge
    static_configs:
      - targets: ["{addr}"]
notifications:
  route:
    receiver: hook
    group_by: [alertname]
    group_wait: 100ms
    group_interval: 500ms
    repeat_interval: 1h
  receivers:
    - name: hook
      webhook_configs:
        - url: http://{addr}/hook
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scraped_gauge_drives_recording_rules_and_alerts_to_the_webhook() {
    let p = peers().await;
    let lo = Lookout::start_with_files(Some(&config(p.addr)), &[("gauges.rules.yml", RULES)]).await;
    let u = lo.url.clone();

    // The recording rule's output is queryable.
    wait_for(
        "test:gauge:doubled = 20",
        Duration::from_secs(20),
        || async {
            let r = instant_query(&u, "test:gauge:doubled").await;
            (r.first().and_then(|s| s["value"][1].as_str()) == Some("20")).then_some(())
        },
    )
    .await;

    // The alert fires after its 2 s and reaches the webhook with its expanded annotation and external labels.
    let received = p.received.clone();
    let firing = wait_for("a firing notification", Duration::from_secs(20), || async {
        received
            .lock()
            .iter()
            .find(|n| n["status"] == "firing")
            .cloned()
    })
    .await;
    let alert = &firing["alerts"][0];
    assert_eq!(alert["labels"]["alertname"], "GaugeHigh");
    assert_eq!(alert["labels"]["severity"], "page");
    assert_eq!(
        alert["labels"]["cluster"], "test",
        "external labels: {firing}"
    );
    assert!(
        alert["annotations"]["summary"]
            .as_str()
            .unwrap()
            .ends_with(" at 10"),
        "{firing}"
    );
    assert_eq!(firing["version"], "4");

    let (_, alerts) = get_json(&format!("{u}/api/v1/alerts")).await;
    let a = &alerts["data"]["alerts"][0];
    assert_eq!(a["state"], "firing", "{alerts}");
    assert_eq!(a["value"], "1e+01");
    let (_, rules) = get_json(&format!("{u}/api/v1/rules")).await;
    let g = &rules["data"]["groups"][0];
    assert_eq!(g["name"], "gauges");
    assert_eq!(g["interval"], 1.0);
    assert!(g["file"].as_str().unwrap().ends_with("gauges.rules.yml"));
    assert_eq!(g["rules"][0]["type"], "recording");
    assert_eq!(g["rules"][0]["health"], "ok");
    assert_eq!(g["rules"][1]["type"], "alerting");
    assert_eq!(g["rules"][1]["state"], "firing");
    assert_eq!(g["rules"][1]["duration"], 2.0);
    let (_, only) = get_json(&format!("{u}/api/v1/rules?type=record")).await;
    assert_eq!(
        only["data"]["groups"][0]["rules"].as_array().unwrap().len(),
        1
    );
    let (code, _) = get_json(&format!("{u}/api/v1/rules?type=nope")).await;
    assert_eq!(code, 400);
    let (_, excluded) = get_json(&format!("{u}/api/v1/rules?exclude_alerts=true")).await;
    assert!(excluded["data"]["groups"][0]["rules"][1]["alerts"].is_null());
    let (code, ams) = get_json(&format!("{u}/api/v1/alertmanagers")).await;
    assert_eq!(code, 200);
    assert!(
        ams["data"]["activeAlertmanagers"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let (_, alerts_series) = get_json(&format!("{u}/api/v1/query?query=ALERTS")).await;
    assert_eq!(
        alerts_series["data"]["result"][0]["metric"]["alertstate"],
        "firing"
    );

    // The gauge drops: the alert resolves and the webhook hears so.
    p.gauge.store(1, Ordering::Relaxed);
    let received = p.received.clone();
    wait_for(
        "a resolved notification",
        Duration::from_secs(20),
        || async {
            received
                .lock()
                .iter()
                .any(|n| n["status"] == "resolved")
                .then_some(())
        },
    )
    .await;

    // A bad rule file refuses the reload, naming file and line; the old rules keep running.
    std::fs::write(
        lo.dir().join("bad.rules.yml"),
        "groups:\n  - name: x\n    rules:\n      - record: y\n        expr: sum(\n",
    )
    .unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{u}/-/reload"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 500);
    let body = resp.text().await.unwrap();
    assert!(
        body.contains(
            "bad.rules.yml: 5:15: group \"x\", rule 1, \"y\": could not parse expression"
        ),
        "{body}"
    );
    let (_, rules) = get_json(&format!("{u}/api/v1/rules")).await;
    assert_eq!(rules["data"]["groups"].as_array().unwrap().len(), 1);
    assert_eq!(rules["data"]["groups"][0]["name"], "gauges");
    // Fixed: the new group joins, the old one keeps its state.
    std::fs::write(
        lo.dir().join("bad.rules.yml"),
        "groups:\n  - name: x\n    rules:\n      - record: y\n        expr: sum(test_gauge)\n",
    )
    .unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{u}/-/reload"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let (_, rules) = get_json(&format!("{u}/api/v1/rules")).await;
    assert_eq!(rules["data"]["groups"].as_array().unwrap().len(), 2);
    lo.server.stop().await.unwrap();
}

/// The `for` state survives a restart: a pending alert keeps the pending time it had, shifted by the outage, as
/// Prometheus restores it from `ALERTS_FOR_STATE` (grace period shortened to 1 s so the test runs in seconds).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_alerts_keep_their_for_state_across_a_restart() {
    let rules = "groups:\n  - name: r\n    interval: 1s\n    rules:\n      - alert: Slow\n        expr: vector(1)\n        for: 60s\n";
    let config = "global:\n  evaluation_interval: 1s\nrule_files: [r.rules.yml]\nrules:\n  for_grace_period: 1s\n";
    let lo = Lookout::start_with_files(Some(config), &[("r.rules.yml", rules)]).await;
    let u = lo.url.clone();
    let active_at = |j: &serde_json::Value| -> Option<f64> {
        let s = j["data"]["alerts"][0]["activeAt"].as_str()?;
        Some(rfc3339_seconds(s))
    };
    let first = wait_for("the pending alert", Duration::from_secs(10), || async {
        let (_, j) = get_json(&format!("{u}/api/v1/alerts")).await;
        active_at(&j)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let lo = lo.restart().await;
    let restarted = now_seconds();
    let u = lo.url.clone();
    // Restored after the second evaluation: activeAt moves by the outage, so the alert keeps its ~4 s of progress.
    let restored = wait_for("the restored alert", Duration::from_secs(15), || async {
        let (_, j) = get_json(&format!("{u}/api/v1/alerts")).await;
        active_at(&j).filter(|t| *t < restarted - 1.0)
    })
    .await;
    assert!(
        restored > first,
        "shifted by the outage: {first} → {restored}"
    );
    assert!(
        restarted - restored >= 2.0,
        "kept the pending progress: restart {restarted}, activeAt {restored}"
    );
    lo.server.stop().await.unwrap();
}

fn now_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Seconds since the epoch of an RFC 3339 UTC time (`2026-12-05T10:00:00.123Z`).
fn rfc3339_seconds(s: &str) -> f64 {
    let (date, time) = s.trim_end_matches('Z').split_once('T').unwrap();
    let d: Vec<i64> = date.split('-').map(|x| x.parse().unwrap()).collect();
    let days = lookout_model::time::days_from_civil(d[0], d[1] as u32, d[2] as u32);
    let t: Vec<f64> = time.split(':').map(|x| x.parse().unwrap()).collect();
    days as f64 * 86_400.0 + t[0] * 3600.0 + t[1] * 60.0 + t[2]
}
