//! Side by side with Debian's Prometheus 2.42 and Alertmanager: Prometheus and Lookout scrape the same synthetic
//! target with the same rule file (recording rules, alerts with `for`, one that resolves, one that fires later);
//! their recording-rule outputs and `ALERTS` series agree step by step (away from the moment the target changes);
//! a real Alertmanager receives Lookout's alerts and their resolution, checked through its API v2.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::routing::get;
use lookout_e2e::{Lookout, enc, free_port, get_json, spawn_peer, wait_for};

const RULES: &str = r#"groups:
  - name: side-by-side
    rules:
      - record: test:gauge:doubled
        expr: test_gauge * 2
      - record: job:test_requests:rate10s
        expr: sum by (job) (rate(test_requests_total[10s]))
      - alert: GaugeHigh
        expr: test_gauge > 5
        for: 3s
        labels:
          severity: page
        annotations:
          summary: "gauge at {{ $value }}"
      - alert: GaugeLow
        expr: test_gauge < 5
        for: 2s
      - alert: AlwaysOn
        expr: vector(1)
"#;

fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// `query_range` at 1 s steps: per step, the sorted list of (labels without __name__, value).
async fn range(url: &str, q: &str, start: f64, end: f64) -> Vec<(i64, Vec<(String, String)>)> {
    let (code, j) = get_json(&format!(
        "{url}/api/v1/query_range?query={}&start={start}&end={end}&step=1",
        enc(q)
    ))
    .await;
    assert_eq!(code, 200, "{url} {q}: {j}");
    let mut by_step: std::collections::BTreeMap<i64, Vec<(String, String)>> = Default::default();
    for s in j["data"]["result"].as_array().unwrap() {
        let mut m = s["metric"].as_object().unwrap().clone();
        m.remove("__name__");
        for v in s["values"].as_array().unwrap() {
            let t = v[0].as_f64().unwrap() as i64;
            by_step.entry(t).or_default().push((
                serde_json::Value::Object(m.clone()).to_string(),
                v[1].as_str().unwrap().to_string(),
            ));
        }
    }
    by_step
        .into_iter()
        .map(|(t, mut v)| {
            v.sort();
            (t, v)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Debian's prometheus and prometheus-alertmanager (installed by .ci/run)"]
async fn prometheus_and_lookout_agree_on_rules_and_alertmanager_gets_lookouts_alerts() {
    // The synthetic target: a gauge the test sets and a counter growing 5 per second.
    let gauge = Arc::new(AtomicU64::new(10));
    let g = gauge.clone();
    let started = std::time::Instant::now();
    let app = axum::Router::new().route(
        "/metrics",
        get(move || {
            let v = g.load(Ordering::Relaxed);
            let c = started.elapsed().as_secs() * 5;
            async move {
                format!("# TYPE test_gauge gauge\ntest_gauge {v}\n# TYPE test_requests_total counter\ntest_requests_total {c}\n")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let am_port = free_port();
    let scrape = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nrule_files: [rules.yml]\nscrape_configs:\n  - job_name: synth\n    static_configs:\n      - targets: [\"{target}\"]\n"
    );
    let lookout_cfg = format!(
        "{scrape}  \nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [\"127.0.0.1:{am_port}\"]\nrules:\n  resend_delay: 2s\n"
    );
    let lo = Lookout::start_with_files(Some(&lookout_cfg), &[("rules.yml", RULES)]).await;
    let dir = lo.dir().to_path_buf();
    std::fs::write(dir.join("prometheus.yml"), &scrape).unwrap();
    std::fs::write(
        dir.join("am.yml"),
        "route:\n  receiver: blackhole\n  group_wait: 1s\nreceivers:\n  - name: blackhole\n",
    )
    .unwrap();
    let prom_port = free_port();
    let prom_cfg = dir.join("prometheus.yml").display().to_string();
    let prom_data = dir.join("prom-data").display().to_string();
    let _prom = spawn_peer(
        "prometheus",
        &[
            &format!("--config.file={prom_cfg}"),
            &format!("--storage.tsdb.path={prom_data}"),
            &format!("--web.listen-address=127.0.0.1:{prom_port}"),
        ],
        &dir,
    );
    let am_cfg = dir.join("am.yml").display().to_string();
    let am_data = dir.join("am-data").display().to_string();
    let _am = spawn_peer(
        "prometheus-alertmanager",
        &[
            &format!("--config.file={am_cfg}"),
            &format!("--storage.path={am_data}"),
            &format!("--web.listen-address=127.0.0.1:{am_port}"),
            "--cluster.listen-address=",
        ],
        &dir,
    );
    let prom = format!("http://127.0.0.1:{prom_port}");
    let am = format!("http://127.0.0.1:{am_port}");
    let p = prom.clone();
    wait_for(
        "Prometheus evaluating the rules",
        Duration::from_secs(30),
        || async {
            let r = reqwest::get(format!("{p}/api/v1/query?query=test:gauge:doubled"))
                .await
                .ok()?;
            let j: serde_json::Value = r.json().await.ok()?;
            (!j["data"]["result"].as_array()?.is_empty()).then_some(())
        },
    )
    .await;
    // Lookout started first: its alerts became pending earlier. Compare from when Prometheus's pending GaugeHigh
    // (for: 3s) has fired too.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let t0 = now_s();

    // Phase 1: the gauge is high. Alertmanager gets Lookout's GaugeHigh (after its 3 s) and AlwaysOn.
    let a = am.clone();
    let alerts = wait_for(
        "GaugeHigh in Alertmanager",
        Duration::from_secs(30),
        || async {
            let (_, j) = get_json(&format!("{a}/api/v2/alerts")).await;
            let names: Vec<String> = j
                .as_array()?
                .iter()
                .map(|x| x["labels"]["alertname"].as_str().unwrap_or("").to_string())
                .collect();
            (names.contains(&"GaugeHigh".to_string()) && names.contains(&"AlwaysOn".to_string()))
                .then_some(j)
        },
    )
    .await;
    let high = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["labels"]["alertname"] == "GaugeHigh")
        .unwrap();
    assert_eq!(high["labels"]["severity"], "page");
    assert_eq!(high["annotations"]["summary"], "gauge at 10");
    assert!(
        high["generatorURL"]
            .as_str()
            .unwrap()
            .contains("/graph?g0.expr=test_gauge")
    );
    tokio::time::sleep(Duration::from_secs(8)).await;

    // Phase 2: the gauge drops: GaugeHigh resolves (Alertmanager drops it from its active list), GaugeLow fires.
    let t_change = now_s();
    gauge.store(1, Ordering::Relaxed);
    let a = am.clone();
    wait_for(
        "GaugeHigh resolved and GaugeLow firing in Alertmanager",
        Duration::from_secs(30),
        || async {
            let (_, j) = get_json(&format!("{a}/api/v2/alerts?active=true")).await;
            let names: Vec<String> = j
                .as_array()?
                .iter()
                .map(|x| x["labels"]["alertname"].as_str().unwrap_or("").to_string())
                .collect();
            (!names.contains(&"GaugeHigh".to_string()) && names.contains(&"GaugeLow".to_string()))
                .then_some(())
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    let t1 = now_s();

    // Both evaluated the same rules on the same slots: compare step by step, away from the change (scrapes and
    // evaluations of the two happen at different offsets within a second, so ±3 s around it may differ).
    let (start, end) = (t0.ceil(), t1.floor());
    let near_change = |t: i64| (t as f64 - t_change).abs() < 4.0;
    for q in [
        "test:gauge:doubled",
        "ALERTS",
        "count by (alertname, alertstate) (ALERTS)",
        "job:test_requests:rate10s > 0",
    ] {
        let ours = range(&lo.url, q, start, end).await;
        let theirs = range(&prom, q, start, end).await;
        let strip = |v: Vec<(i64, Vec<(String, String)>)>| -> Vec<(i64, Vec<(String, String)>)> {
            v.into_iter().filter(|(t, _)| !near_change(*t)).collect()
        };
        let (ours, theirs) = (strip(ours), strip(theirs));
        let mut mismatches = Vec::new();
        let keys: std::collections::BTreeSet<i64> = ours
            .iter()
            .map(|x| x.0)
            .chain(theirs.iter().map(|x| x.0))
            .collect();
        for t in &keys {
            let o = ours.iter().find(|x| x.0 == *t).map(|x| &x.1);
            let p = theirs.iter().find(|x| x.0 == *t).map(|x| &x.1);
            // A rate is compared for presence only (its value depends on each one's scrape timing).
            let norm = |v: Option<&Vec<(String, String)>>| -> Vec<String> {
                v.map(|v| {
                    v.iter()
                        .map(|(l, val)| {
                            if q.starts_with("job:") {
                                l.clone()
                            } else {
                                format!("{l}={val}")
                            }
                        })
                        .collect()
                })
                .unwrap_or_default()
            };
            if norm(o) != norm(p) {
                mismatches.push(format!(
                    "t={t}: lookout {:?} prometheus {:?}",
                    norm(o),
                    norm(p)
                ));
            }
        }
        // At the edges of the window one of the two may not have evaluated yet.
        assert!(mismatches.len() <= 2, "{q}: {mismatches:#?}");
        assert!(
            keys.len() >= 8,
            "{q}: too few steps compared: {}",
            keys.len()
        );
    }
    lo.server.stop().await.unwrap();
}
