//! Kubernetes discovery figures against the fake API server (all on 127.0.0.1): how fast targets follow a rolling
//! deployment, whether any target is duplicated, the heap discovery holds per 1,000 watched pods, and whether that
//! heap stays flat after churn. Heap figures come from a counting allocator (bytes allocated minus freed).
//!
//! Usage: `cargo run --release -p lookout-benches --bin kube_churn -- [--pods 300] [--rolls 20]`

use std::alloc::System;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lookout_collect::config::{GlobalConfig, parse_scrape_configs};
use lookout_collect::scrape::{ScrapeManager, ScrapeOptions};
use lookout_discovery::KubernetesDiscovery;
use lookout_e2e::fake_kube::FakeKube;
use lookout_e2e::fake_kube::objects;
use lookout_storage::mem::MemStorage;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn heap_bytes() -> i64 {
    let s = Region::new(GLOBAL).initial();
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The address of pod `i` of revision `rev`: on loopback, so any scrape stays on this machine (port 9 refuses).
fn ip(rev: usize, i: usize) -> String {
    format!("127.{}.{}.{}", 10 + rev, i / 250, 1 + i % 250)
}

/// Pod `i` of revision `rev` (a rollout gives new pods new addresses).
fn pod(rev: usize, i: usize) -> serde_json::Value {
    let ip = ip(rev, i);
    let name = format!("web-{rev}-{i}");
    let hash = format!("{rev}");
    objects::pod(
        "shop",
        &name,
        &ip,
        &format!("n{}", i % 3),
        &[("app", "web"), ("pod-template-hash", &hash)],
        &[("app", &[("metrics", 9)]), ("sidecar", &[("admin", 8081)])],
    )
}

async fn wait_targets(
    m: &ScrapeManager,
    want: &HashSet<String>,
    timeout: Duration,
) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        let snap = m.targets();
        let urls: Vec<String> = snap.active.iter().map(|t| t.target.url.clone()).collect();
        let unique: HashSet<String> = urls.iter().cloned().collect();
        assert_eq!(unique.len(), urls.len(), "a target is duplicated");
        if &unique == want {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    None
}

/// The scrape URLs of the `pods` pods of revision `rev`.
fn want(rev: usize, pods: usize) -> HashSet<String> {
    (0..pods)
        .map(|i| format!("http://{}:9/metrics", ip(rev, i)))
        .collect()
}

/// The fake API server in a child process, so its copies of the objects never count in this process's heap.
/// Commands on stdin, one per line: `add REV N` (pods 0..N of revision REV), `del REV N`; each answered `ok`.
async fn serve_fake() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let fake = FakeKube::start().await;
    for n in 0..3 {
        fake.apply(
            "nodes",
            objects::node(&format!("n{n}"), &format!("127.0.9.{n}"), true),
        );
    }
    let mut out = tokio::io::stdout();
    out.write_all(format!("{}\n", fake.url()).as_bytes())
        .await
        .unwrap();
    out.flush().await.unwrap();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let parts: Vec<&str> = line.split(' ').collect();
        let (rev, n): (usize, usize) = (parts[1].parse().unwrap(), parts[2].parse().unwrap());
        for i in 0..n {
            match parts[0] {
                "add" => {
                    fake.apply("pods", pod(rev, i));
                }
                _ => {
                    fake.delete("pods", "shop", &format!("web-{rev}-{i}"));
                }
            }
        }
        // Old events are not what this benchmark measures: drop them (watchers keep their place).
        out.write_all(b"ok\n").await.unwrap();
        out.flush().await.unwrap();
    }
}

/// Talks to the fake server's process.
struct Fake {
    child: tokio::process::Child,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    url: String,
}

impl Fake {
    async fn start() -> Fake {
        use tokio::io::AsyncBufReadExt;
        let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
            .arg("--serve-fake")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let url = lines.next_line().await.unwrap().unwrap();
        Fake { child, lines, url }
    }

    async fn send(&mut self, cmd: &str) {
        use tokio::io::AsyncWriteExt;
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin
            .write_all(format!("{cmd}\n").as_bytes())
            .await
            .unwrap();
        stdin.flush().await.unwrap();
        assert_eq!(self.lines.next_line().await.unwrap().as_deref(), Some("ok"));
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--serve-fake") {
        return serve_fake().await;
    }
    let pods = arg("--pods", 300);
    let rolls = arg("--rolls", 20);
    let mut fake = Fake::start().await;
    let global = GlobalConfig::default();
    let discovery = KubernetesDiscovery::new();

    // Discovery heap per 1,000 watched pods: the reflector store plus the target groups it sends.
    fake.send("add 200 1000").await;
    let before = heap_bytes();
    {
        let cfg: lookout_discovery::KubernetesSdConfig =
            serde_json::from_value(serde_json::json!({"role": "pod", "api_server": fake.url}))
                .unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        let run = tokio::spawn(lookout_discovery::KubernetesTargets::run(
            &discovery, cfg, tx,
        ));
        let groups = rx.recv().await.expect("first target groups");
        assert_eq!(groups.len(), 1000);
        println!(
            "discovery heap for 1,000 watched pods (2 containers each; reflector store + target groups): {:.1} MiB",
            (heap_bytes() - before) as f64 / 1048576.0
        );
        let with_groups = heap_bytes();
        drop(groups);
        println!(
            "  of which the target-group message handed to the scraper: {:.1} MiB",
            (with_groups - heap_bytes()) as f64 / 1048576.0
        );
        let store_heap = heap_bytes() - before;
        println!(
            "  budget estimate of the watch stores (lookout_memory_used_bytes{{component=\"discovery\"}}): {:.1} MiB, counted heap without the message {:.1} MiB",
            discovery.approx_bytes() as f64 / 1048576.0,
            store_heap as f64 / 1048576.0
        );
        run.abort();
        let _ = run.await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!(
        "heap after the watch stopped: {:+.0} KiB against before it started",
        (heap_bytes() - before) as f64 / 1024.0
    );
    fake.send("del 200 1000").await;

    // A deployment of `pods` pods rolled `rolls` times: every roll replaces every pod (new names and addresses).
    // The scrape interval is long so the figures are discovery's and the scraper's, not stored samples'.
    let storage = Arc::new(MemStorage::new());
    let manager = ScrapeManager::new(
        storage.clone(),
        ScrapeOptions {
            kubernetes: Some(Arc::new(discovery.clone())),
            ..ScrapeOptions::default()
        },
    );
    fake.send(&format!("add 0 {pods}")).await;
    let config = format!(
        "- job_name: web\n  scrape_interval: 1h\n  scrape_timeout: 10s\n  kubernetes_sd_configs: [{{role: pod, api_server: \"{}\", namespaces: {{names: [shop]}}}}]\n  relabel_configs: [{{source_labels: [__meta_kubernetes_pod_container_port_name], regex: metrics, action: keep}}]\n",
        fake.url
    );
    manager
        .apply_config(parse_scrape_configs(&config, &global).unwrap())
        .unwrap();
    wait_targets(&manager, &want(0, pods), Duration::from_secs(60))
        .await
        .expect("initial targets");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let heap_start = heap_bytes();
    let mut latencies = Vec::new();
    for rev in 1..=rolls {
        fake.send(&format!("del {} {pods}", rev - 1)).await;
        fake.send(&format!("add {rev} {pods}")).await;
        let started = Instant::now();
        wait_targets(&manager, &want(rev, pods), Duration::from_secs(15))
            .await
            .unwrap_or_else(|| {
                panic!("roll {rev} not followed within 15 s (one default scrape interval)")
            });
        latencies.push(started.elapsed());
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let heap_end = heap_bytes();
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{rolls} rolls of {pods} pods: all targets replaced in median {:.0} ms, max {:.0} ms after the last pod changed; no duplicate target",
        ms(latencies[latencies.len() / 2]),
        ms(*latencies.last().unwrap())
    );
    println!(
        "heap (discovery + scraper, {pods} targets) after the first sync {:.1} MiB, after {rolls} rolls {:.1} MiB ({:+.0} KiB)",
        heap_start as f64 / 1048576.0,
        heap_end as f64 / 1048576.0,
        (heap_end - heap_start) as f64 / 1024.0
    );
    manager.shutdown(Duration::from_secs(1)).await;
}
