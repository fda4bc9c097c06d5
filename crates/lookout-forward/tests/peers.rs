//! remote_write out into real receivers: Debian's Prometheus (`--web.enable-remote-write-receiver`) and
//! VictoriaMetrics. Each test forwards 2,000 series × 50 samples through a `ForwardingStorage` without an inner
//! store, checks every sample arrived through the receiver's query API, then stops the receiver for ~10 s while
//! appending more, restarts it on the same data dir and port, and checks nothing was lost.
//!
//! Run by `.ci/run` with `--include-ignored`; they fail (not skip) when the peer binary is missing.

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lookout_forward::{ForwardOptions, Forwarders, ForwardingStorage, RemoteWriteConfig};
use lookout_model::{Labels, PromDuration};
use lookout_storage::Storage;

const SERIES: usize = 2000;
const STEP_MS: i64 = 15_000;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(program: &str, args: &[String]) -> Child {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program} (install it: apt-get install -y prometheus victoria-metrics): {e}"))
}

fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    for _ in 0..300 {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

async fn wait_ready(url: &str) {
    for _ in 0..600 {
        if let Ok(r) = reqwest::get(url).await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} not ready after 60 s");
}

fn labels(i: usize) -> Labels {
    Labels::from_pairs(&[
        ("__name__", "lookout_peer_test".to_string()),
        ("i", i.to_string()),
        ("job", "peer".to_string()),
    ])
    .unwrap()
}

/// Appends samples `steps` for every series, one commit per step.
fn append(s: &ForwardingStorage, base: i64, steps: std::ops::Range<i64>) {
    for k in steps {
        let mut app = s.appender();
        for i in 0..SERIES {
            app.append(&labels(i), base + k * STEP_MS, k as f64)
                .unwrap();
        }
        app.commit().unwrap();
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn forwarder(
    dir: &std::path::Path,
    url: String,
) -> (Forwarders, std::sync::Arc<ForwardingStorage>) {
    let mut c = RemoteWriteConfig::new(url);
    c.name = "peer".into();
    c.queue_config.min_shards = 4;
    c.queue_config.max_shards = 4;
    c.queue_config.max_backoff = PromDuration::from_secs(1);
    c.metadata_config.send = false;
    let f = Forwarders::start(
        ForwardOptions::new(dir, vec![c], vec![]),
        &tokio::runtime::Handle::current(),
    )
    .unwrap();
    let s = f.wrap_storage(None);
    (f, s)
}

/// Polls `count` until it equals `want` (60 s at most); returns the last count.
async fn wait_count<F, Fut>(want: u64, mut count: F) -> u64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = u64>,
{
    let mut got = 0;
    for _ in 0..120 {
        got = count().await;
        if got == want {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    got
}

/// Runs the scenario against a receiver started by `start` (which must reuse its data dir and port).
async fn scenario(
    write_url: String,
    ready_url: String,
    mut start: impl FnMut() -> Child,
    count: impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = u64>>>,
) {
    let mut child = start();
    wait_ready(&ready_url).await;
    let dir = tempfile::tempdir().unwrap();
    let (f, s) = forwarder(dir.path(), write_url);
    let base = now_ms() - 40 * 60 * 1000;
    append(&s, base, 0..50);
    let want = (SERIES * 50) as u64;
    let got = wait_count(want, &count).await;
    assert_eq!(
        got, want,
        "samples stored by the receiver after the first phase"
    );

    terminate(&mut child);
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut k = 50;
    while tokio::time::Instant::now() < until {
        append(&s, base, k..k + 1);
        k += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    child = start();
    wait_ready(&ready_url).await;
    let want = (SERIES as u64) * k as u64;
    let got = wait_count(want, &count).await;
    terminate(&mut child);
    assert_eq!(got, want, "samples stored after the outage ({k} steps)");
    f.stop(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs prometheus and victoria-metrics: run by .ci/run"]
async fn prometheus_receives_everything_across_an_outage() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = data.path().join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 1h\n").unwrap();
    let args = vec![
        format!("--config.file={}", config.display()),
        format!("--storage.tsdb.path={}", data.path().join("tsdb").display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
        "--web.enable-remote-write-receiver".to_string(),
    ];
    let query = format!(
        "http://127.0.0.1:{port}/api/v1/query?query=sum(count_over_time(lookout_peer_test[2h]))"
    );
    scenario(
        format!("http://127.0.0.1:{port}/api/v1/write"),
        format!("http://127.0.0.1:{port}/-/ready"),
        || spawn("prometheus", &args),
        || {
            let q = query.clone();
            Box::pin(async move {
                let Ok(r) = reqwest::get(&q).await else {
                    return 0;
                };
                let Ok(text) = r.text().await else { return 0 };
                let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                v["data"]["result"][0]["value"][1]
                    .as_str()
                    .and_then(|s| s.parse::<f64>().ok())
                    .unwrap_or(0.0) as u64
            })
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs prometheus and victoria-metrics: run by .ci/run"]
async fn victoria_metrics_receives_everything_across_an_outage() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let args = vec![
        format!("-httpListenAddr=127.0.0.1:{port}"),
        format!("-storageDataPath={}", data.path().display()),
        "-retentionPeriod=1".to_string(),
    ];
    let flush = format!("http://127.0.0.1:{port}/internal/force_flush");
    let export = format!("http://127.0.0.1:{port}/api/v1/export?match[]=lookout_peer_test&start=0");
    scenario(
        format!("http://127.0.0.1:{port}/api/v1/write"),
        format!("http://127.0.0.1:{port}/health"),
        || spawn("victoria-metrics", &args),
        || {
            let (flush, export) = (flush.clone(), export.clone());
            Box::pin(async move {
                let _ = reqwest::get(&flush).await;
                let Ok(r) = reqwest::get(&export).await else {
                    return 0;
                };
                let Ok(text) = r.text().await else { return 0 };
                // Distinct (series, timestamp) pairs: duplicates (allowed after an outage) count once.
                let mut seen = HashSet::new();
                for line in text.lines() {
                    let v: serde_json::Value = serde_json::from_str(line).unwrap();
                    let series = v["metric"]["i"].as_str().unwrap().to_string();
                    for t in v["timestamps"].as_array().unwrap() {
                        seen.insert((series.clone(), t.as_i64().unwrap()));
                    }
                }
                seen.len() as u64
            })
        },
    )
    .await;
}
