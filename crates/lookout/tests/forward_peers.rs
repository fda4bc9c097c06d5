//! remote_write out of the real binary into the real receivers (Debian's Prometheus 2.42 with
//! `--web.enable-remote-write-receiver`, and VictoriaMetrics 1.79), through a `kill -9` of Lookout mid-stream and
//! a 60 s outage of both receivers: every sample Lookout acknowledged arrives, in each receiver.
//!
//! Delivery is at least once: after `kill -9` the records that were in flight are sent again. VictoriaMetrics
//! keeps the duplicates (counted once here); Prometheus needs `out_of_order_time_window` to take a resent batch
//! that holds samples older than ones it already has (README, "Forwarding to a distributed engine").

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Proc, free_port, lookout_in, now_ms, wait_ready};

const SERIES: i64 = 20;
/// The receivers' outage, as the issue names it.
const OUTAGE: Duration = Duration::from_secs(60);

/// A receiver that can be stopped and started again on the same port and data.
struct Receiver {
    program: &'static str,
    args: Vec<String>,
    port: u16,
    proc: Option<Proc>,
}

impl Receiver {
    fn prometheus(dir: &Path) -> Receiver {
        let port = free_port();
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            "global:\n  scrape_interval: 1h\nstorage:\n  tsdb:\n    out_of_order_time_window: 2h\n",
        )
        .unwrap();
        Receiver {
            program: "prometheus",
            args: vec![
                format!("--config.file={}", config.display()),
                format!("--storage.tsdb.path={}", dir.join("prom-data").display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                "--web.enable-remote-write-receiver".into(),
            ],
            port,
            proc: None,
        }
    }

    fn victoria_metrics(dir: &Path) -> Receiver {
        let port = free_port();
        Receiver {
            program: "victoria-metrics",
            args: vec![
                format!("-httpListenAddr=127.0.0.1:{port}"),
                format!("-storageDataPath={}", dir.join("vm-data").display()),
                "-retentionPeriod=1".into(),
            ],
            port,
            proc: None,
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn start(&mut self) {
        self.proc = Some(Proc::spawn(self.program, &self.args));
        let ready = match self.program {
            "prometheus" => "/-/ready",
            _ => "/health",
        };
        wait_ready(&format!("{}{ready}", self.base()), Duration::from_secs(60)).await;
    }

    fn stop(&mut self) {
        if let Some(p) = self.proc.take() {
            p.terminate();
        }
    }

    /// Distinct (series, timestamp) pairs of `forward_peer_test` the receiver holds.
    async fn distinct_samples(&self) -> usize {
        let client = reqwest::Client::new();
        let mut seen = HashSet::new();
        if self.program == "prometheus" {
            let url = format!(
                "{}/api/v1/query?query=count_over_time(forward_peer_test[3h])",
                self.base()
            );
            let Ok(r) = client.get(url).send().await else {
                return 0;
            };
            let v: serde_json::Value = r.json().await.unwrap_or_default();
            // count_over_time counts a timestamp once per series: Prometheus keeps no duplicates.
            return v["data"]["result"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|s| {
                            s["value"][1]
                                .as_str()
                                .unwrap_or("0")
                                .parse::<usize>()
                                .unwrap_or(0)
                        })
                        .sum()
                })
                .unwrap_or(0);
        }
        let _ = client
            .get(format!("{}/internal/force_flush", self.base()))
            .send()
            .await;
        let url = format!(
            "{}/api/v1/export?match[]=forward_peer_test&start=0",
            self.base()
        );
        let Ok(r) = client.get(url).send().await else {
            return 0;
        };
        let text = r.text().await.unwrap_or_default();
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let series = v["metric"]["series"].as_str().unwrap().to_string();
            for t in v["timestamps"].as_array().unwrap() {
                seen.insert((series.clone(), t.as_i64().unwrap()));
            }
        }
        seen.len()
    }
}

/// Imports one step of every series into Lookout; true when acknowledged (204).
async fn push(client: &reqwest::Client, base: &str, t0: i64, k: i64) -> bool {
    let mut body = String::new();
    for s in 0..SERIES {
        body.push_str(&format!(
            "forward_peer_test{{series=\"{s}\"}} {k} {}\n",
            t0 + k * 1000
        ));
    }
    matches!(
        client
            .post(format!("{base}/api/v1/import/prometheus"))
            .body(body)
            .timeout(Duration::from_secs(5))
            .send()
            .await,
        Ok(r) if r.status().as_u16() == 204
    )
}

fn config(prom: &Receiver, vm: &Receiver) -> String {
    let endpoint = |name: &str, r: &Receiver| {
        format!(
            "  - url: {}/api/v1/write\n    name: {name}\n    queue_config: {{min_shards: 2, max_shards: 2, \
             max_samples_per_send: 100, batch_send_deadline: 1s, max_backoff: 2s}}\n    metadata_config: {{send: false}}\n",
            r.base()
        )
    };
    format!(
        "scrape_configs: []\nremote_write:\n{}{}",
        endpoint("prometheus", prom),
        endpoint("vm", vm)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs prometheus and victoria-metrics, and takes 2 minutes: run by .ci/run"]
async fn acknowledged_samples_reach_both_receivers_across_kill_9_and_a_60s_outage() {
    let dir = tempfile::tempdir().unwrap();
    let mut prom = Receiver::prometheus(dir.path());
    let mut vm = Receiver::victoria_metrics(dir.path());
    prom.start().await;
    vm.start().await;

    let lookout_dir: PathBuf = dir.path().join("lookout");
    std::fs::create_dir_all(&lookout_dir).unwrap();
    std::fs::write(lookout_dir.join("lookout.yml"), config(&prom, &vm)).unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let ready = format!("{base}/-/ready");
    let mut lookout = lookout_in("serve", &lookout_dir, port, "256MiB");
    wait_ready(&ready, Duration::from_secs(30)).await;

    let client = reqwest::Client::new();
    let t0 = now_ms() - 30 * 60 * 1000;
    let mut acked = 0i64;
    let mut k = 0i64;

    // 1. A stream of writes, then kill -9 right after one was acknowledged: some records are still in flight.
    while k < 40 {
        acked += i64::from(push(&client, &base, t0, k).await);
        k += 1;
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    lookout.kill9();
    lookout = lookout_in("serve", &lookout_dir, port, "256MiB");
    wait_ready(&ready, Duration::from_secs(30)).await;
    while k < 60 {
        acked += i64::from(push(&client, &base, t0, k).await);
        k += 1;
        tokio::time::sleep(Duration::from_millis(30)).await;
    }

    // 2. Both receivers down for 60 s while writes go on.
    prom.stop();
    vm.stop();
    let back_at = tokio::time::Instant::now() + OUTAGE;
    while tokio::time::Instant::now() < back_at {
        acked += i64::from(push(&client, &base, t0, k).await);
        k += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    prom.start().await;
    vm.start().await;
    for _ in 0..10 {
        acked += i64::from(push(&client, &base, t0, k).await);
        k += 1;
    }
    assert_eq!(acked, k, "Lookout acknowledged every import while it ran");

    // 3. Everything acknowledged arrives in both (120 s at most).
    let want = (acked * SERIES) as usize;
    let mut got = (0, 0);
    for _ in 0..240 {
        got = (prom.distinct_samples().await, vm.distinct_samples().await);
        if got == (want, want) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        got,
        (want, want),
        "distinct samples in (Prometheus, VictoriaMetrics) after kill -9 and a {OUTAGE:?} outage; {k} steps of {SERIES} series acknowledged"
    );
    drop(lookout);
}
