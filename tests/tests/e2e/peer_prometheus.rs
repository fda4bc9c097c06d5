//! Side by side with a real Prometheus (Debian's 2.42): Prometheus and Lookout scrape the same synthetic target,
//! Prometheus remote-writes to a second Lookout, and a fixed list of queries must give the same results from
//! Prometheus's API and from that Lookout's, instant and range, within float tolerance.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::routing::get;
use lookout_e2e::{Lookout, enc, free_port, get_json, spawn_peer, wait_for};

/// The comparison list: rates, aggregations, joins, histogram_quantile, subqueries, offsets, functions.
const QUERIES: &[&str] = &[
    "up",
    "synth_requests_total",
    "rate(synth_requests_total[10s])",
    "irate(synth_requests_total[10s])",
    "increase(synth_requests_total[20s])",
    "sum(rate(synth_requests_total[10s]))",
    "sum by (code) (rate(synth_requests_total[10s]))",
    "sum without (path) (rate(synth_requests_total[10s]))",
    "avg(synth_temperature)",
    "max by (room) (synth_temperature)",
    "min(synth_temperature)",
    "count(synth_requests_total)",
    "topk(2, synth_temperature)",
    "bottomk(2, synth_temperature)",
    "quantile(0.9, synth_temperature)",
    "stddev(synth_temperature)",
    "stdvar(synth_temperature)",
    "count_values(\"v\", synth_info)",
    "histogram_quantile(0.9, sum by (le) (rate(synth_latency_seconds_bucket[10s])))",
    "histogram_quantile(0.5, rate(synth_latency_seconds_bucket[10s]))",
    "rate(synth_latency_seconds_sum[10s]) / rate(synth_latency_seconds_count[10s])",
    "synth_requests_total / on(path) group_left sum by (path) (synth_requests_total)",
    "synth_temperature * on(job, instance) group_left(version) synth_info",
    "synth_requests_total > 10",
    "synth_requests_total > bool 10",
    "synth_requests_total and synth_requests_total{code=\"200\"}",
    "synth_requests_total unless synth_requests_total{code=\"500\"}",
    "synth_temperature or vector(0)",
    "avg_over_time(synth_temperature[10s])",
    "max_over_time(synth_temperature[10s])",
    "min_over_time(synth_temperature[10s])",
    "sum_over_time(synth_temperature[10s])",
    "count_over_time(synth_temperature[10s])",
    "quantile_over_time(0.5, synth_temperature[10s])",
    "stddev_over_time(synth_temperature[10s])",
    "last_over_time(synth_temperature[10s])",
    "deriv(synth_temperature[10s])",
    "predict_linear(synth_temperature[10s], 60)",
    "delta(synth_temperature[10s])",
    "idelta(synth_temperature[10s])",
    "changes(synth_temperature[20s])",
    "resets(synth_requests_total[20s])",
    "holt_winters(synth_temperature[20s], 0.5, 0.5)",
    "max_over_time(rate(synth_requests_total[5s])[10s:2s])",
    "avg_over_time(synth_temperature[10s] offset 5s)",
    "synth_temperature offset 3s",
    "abs(synth_temperature - 20)",
    "clamp(synth_temperature, 18, 22)",
    "round(synth_temperature, 0.5)",
    "label_replace(synth_temperature, \"r2\", \"$1\", \"room\", \"(.*)\")",
    "sort_desc(synth_temperature)",
    "absent(nonexistent_metric)",
    "scalar(sum(synth_info))",
    "sum(synth_requests_total{path=~\"/a|/b\"}) by (path)",
    "synth_requests_total{code!=\"500\", path!~\"/c\"}",
];

fn exposition(start: Instant) -> String {
    let s = start.elapsed().as_secs_f64();
    let mut out = String::new();
    for (i, path) in ["/a", "/b", "/c"].iter().enumerate() {
        for (j, code) in ["200", "500"].iter().enumerate() {
            let rate = (i as f64 + 1.0) * if j == 0 { 7.0 } else { 0.5 };
            out.push_str(&format!(
                "synth_requests_total{{path=\"{path}\",code=\"{code}\"}} {}\n",
                (s * rate).floor()
            ));
        }
    }
    for (i, room) in ["kitchen", "attic", "cellar"].iter().enumerate() {
        let v = 20.0 + 3.0 * (s / 7.0 + i as f64).sin();
        out.push_str(&format!("synth_temperature{{room=\"{room}\"}} {:.2}\n", v));
    }
    let count = (s * 10.0).floor();
    let mut cum = 0.0;
    for (le, share) in [
        ("0.01", 0.1),
        ("0.05", 0.3),
        ("0.1", 0.3),
        ("0.5", 0.2),
        ("+Inf", 0.1),
    ] {
        cum += share;
        out.push_str(&format!(
            "synth_latency_seconds_bucket{{le=\"{le}\"}} {}\n",
            (count * cum).floor()
        ));
    }
    out.push_str(&format!(
        "synth_latency_seconds_sum {:.3}\nsynth_latency_seconds_count {count}\n",
        count * 0.07
    ));
    out.push_str("synth_info{version=\"1.2.3\"} 1\n");
    out
}

async fn serve_synthetic() -> std::net::SocketAddr {
    let start = Instant::now();
    let app = Router::new().route("/metrics", get(move || async move { exposition(start) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// label-set JSON → points (t, value string), for any result type.
fn normalize(data: &serde_json::Value) -> BTreeMap<String, Vec<(f64, String)>> {
    let mut out = BTreeMap::new();
    match data["resultType"].as_str() {
        Some("scalar") | Some("string") => {
            let p = &data["result"];
            out.insert(
                "scalar".into(),
                vec![(p[0].as_f64().unwrap(), p[1].as_str().unwrap().to_string())],
            );
        }
        _ => {
            for s in data["result"].as_array().cloned().unwrap_or_default() {
                let key = s["metric"].to_string();
                let points: Vec<serde_json::Value> = match s.get("values") {
                    Some(v) => v.as_array().cloned().unwrap_or_default(),
                    None => vec![s["value"].clone()],
                };
                let pts = points
                    .iter()
                    .map(|p| (p[0].as_f64().unwrap(), p[1].as_str().unwrap().to_string()))
                    .collect();
                out.insert(key, pts);
            }
        }
    }
    out
}

fn values_match(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) if x.is_nan() && y.is_nan() => true,
        (Ok(x), Ok(y)) => {
            let diff = (x - y).abs();
            diff <= 1e-9 || diff <= 1e-6 * x.abs().max(y.abs())
        }
        _ => false,
    }
}

fn compare(
    query: &str,
    mode: &str,
    prom: &serde_json::Value,
    lookout: &serde_json::Value,
) -> Option<String> {
    if prom["status"] != "success" {
        return Some(format!("{mode} {query}: Prometheus failed: {prom}"));
    }
    if lookout["status"] != "success" {
        return Some(format!("{mode} {query}: Lookout failed: {lookout}"));
    }
    if prom["data"]["resultType"] != lookout["data"]["resultType"] {
        return Some(format!("{mode} {query}: result types differ"));
    }
    let (p, l) = (normalize(&prom["data"]), normalize(&lookout["data"]));
    if p.keys().ne(l.keys()) {
        return Some(format!(
            "{mode} {query}: series differ:\n  prometheus {:?}\n  lookout    {:?}",
            p.keys(),
            l.keys()
        ));
    }
    for (k, pp) in &p {
        let lp = &l[k];
        let same = pp.len() == lp.len()
            && pp
                .iter()
                .zip(lp)
                .all(|(a, b)| (a.0 - b.0).abs() < 1e-6 && values_match(&a.1, &b.1));
        if !same {
            return Some(format!(
                "{mode} {query}: {k} differs:\n  prometheus {pp:?}\n  lookout    {lp:?}"
            ));
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Debian's prometheus 2.42 (installed by .ci/run)"]
async fn prometheus_and_lookout_answer_the_same() {
    assert!(QUERIES.len() >= 40);
    let target = serve_synthetic().await;
    let scrape = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: synth\n    static_configs:\n      - targets: [\"{target}\"]\n"
    );
    // Lookout #1 scrapes the target itself; Lookout #2 receives Prometheus's remote_write.
    let scraper = Lookout::start(Some(&scrape)).await;
    let receiver = Lookout::start(Some("scrape_configs: []\n")).await;
    let tmp = tempfile::tempdir().unwrap();
    let prom_port = free_port();
    let prom_cfg = format!(
        "{scrape}remote_write:\n  - url: {}/api/v1/write\n    queue_config:\n      batch_send_deadline: 500ms\n      max_samples_per_send: 2000\n",
        receiver.url
    );
    std::fs::write(tmp.path().join("prometheus.yml"), prom_cfg).unwrap();
    let listen = format!("--web.listen-address=127.0.0.1:{prom_port}");
    let _prom = spawn_peer(
        "prometheus",
        &[
            "--config.file=prometheus.yml",
            "--storage.tsdb.path=data",
            &listen,
        ],
        tmp.path(),
    );
    let prom = format!("http://127.0.0.1:{prom_port}");

    // Let ~30 s of data accumulate, then compare at a time both have completely.
    tokio::time::sleep(Duration::from_secs(30)).await;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let t = now - 6;
    let r = receiver.url.clone();
    wait_for(
        "remote-written samples past the comparison time",
        Duration::from_secs(30),
        || async {
            let (_, j) = get_json(&format!(
                "{r}/api/v1/query?query=max(timestamp(synth_info))&time={}",
                t + 3
            ))
            .await;
            let v: f64 = j["data"]["result"][0]["value"][1].as_str()?.parse().ok()?;
            (v >= t as f64 + 1.0).then_some(())
        },
    )
    .await;

    // Lookout #1 scraped the same target: same series, healthy.
    let (_, j) = get_json(&format!(
        "{}/api/v1/query?query=count(synth_requests_total)&time={t}",
        scraper.url
    ))
    .await;
    assert_eq!(
        j["data"]["result"][0]["value"][1], "6",
        "Lookout's own scrape: {j}"
    );

    // Prometheus 3 (and Lookout, checked by the conformance suite) select range windows left-open, (t - r, t];
    // Prometheus 2.42 selects them closed, [t - r, t]. The two differ only when a point lies exactly on t - r, so
    // compare at times no point can lie on: an odd second (subquery points sit on multiples of their 2 s step) plus
    // a millisecond phase half a second away from the scrapes' phase.
    let (_, j) = get_json(&format!(
        "{prom}/api/v1/query?query=timestamp(synth_info)&time={t}"
    ))
    .await;
    let scraped_at: f64 = j["data"]["result"][0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("a scrape timestamp");
    let scrape_phase_ms = ((scraped_at * 1000.0).round() as i64).rem_euclid(1000);
    let phase_ms = (scrape_phase_ms + 500) % 1000;
    let base_s = if t.is_multiple_of(2) { t - 1 } else { t } as i64;
    let at = |s: i64| format!("{s}.{phase_ms:03}");

    let mut failures = Vec::new();
    for q in QUERIES {
        let instant = format!("/api/v1/query?query={}&time={}", enc(q), at(base_s));
        let (_, p) = get_json(&format!("{prom}{instant}")).await;
        let (_, l) = get_json(&format!("{}{instant}", receiver.url)).await;
        failures.extend(compare(q, "instant", &p, &l));
        let range = format!(
            "/api/v1/query_range?query={}&start={}&end={}&step=2",
            enc(q),
            at(base_s - 20),
            at(base_s)
        );
        let (_, p) = get_json(&format!("{prom}{range}")).await;
        let (_, l) = get_json(&format!("{}{range}", receiver.url)).await;
        failures.extend(compare(q, "range", &p, &l));
    }
    assert!(
        failures.is_empty(),
        "{} of {} comparisons differ:\n{}",
        failures.len(),
        QUERIES.len() * 2,
        failures.join("\n")
    );
    scraper.server.stop().await.unwrap();
    receiver.server.stop().await.unwrap();
}
