//! Restart after an OOM kill never re-OOMs: `lookout serve --memory-limit 128MiB` is filled until its TSDB head
//! refuses new series (the active-series limit the head share derives) and its log store refuses pushes for its
//! index backlog, then killed with SIGKILL, as the OOM killer would. The restart replays both WALs under the same
//! limit while its memory is sampled.
//!
//! The bound asserted, and why: the budget is for the data the process holds, so
//! - the peak of the whole resident set (`VmHWM`, exact: the kernel's high-water mark) stays within the budget
//!   plus the fixed cost of code and runtime, which is what an idle process with an empty data directory holds:
//!   the `VmHWM` of the first start, ready and before anything is written (~54 MiB in this debug build: ~30 MiB of
//!   file-backed code pages, ~24 MiB of runtime: thread stacks, tokio, sled's and tantivy's start-up state);
//! - the anonymous memory (`RssAnon`, sampled every 10 ms through replay and the log store's first commit after
//!   it) stays within the budget plus the idle process's own anonymous memory (its runtime share of that cost).
//!
//! And nothing acknowledged is lost: every sample and log entry answered 2xx before the kill is counted after it.

mod common;

use std::time::{Duration, Instant};

use common::{Proc, free_port, lookout_in, now_ms, wait_ready};

const LIMIT: &str = "128MiB";
const BUDGET: u64 = 128 << 20;
/// Series of one import request while the head takes them (halved once it refuses, down to one).
const SERIES_BATCH: usize = 2_000;
/// Series per import request after they exist: one whole round, as one scrape of a big target commits.
const ROUND_BATCH: usize = 60_000;
/// Samples per series after the one that created it.
const ROUNDS: usize = 10;
/// Series label `shard` values: the count query is split by it to stay within one query's sample limit.
const SHARDS: usize = 8;
const LOG_STREAMS: usize = 16;
const LINES_PER_PUSH: usize = 500;
/// Push bodies (~0.5 MiB of lines each) offered at most: four times the 8 MiB backlog a 128 MiB budget allows.
const LOG_BODIES: usize = 64;
/// Pushes in flight at once.
const LOG_CONCURRENCY: usize = 4;

/// The value of `name` (summed over its label sets) in a text exposition.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn mib(b: u64) -> f64 {
    b as f64 / 1048576.0
}

async fn self_metrics(client: &reqwest::Client, base: &str) -> String {
    client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn series_line(i: usize, t: i64, round: usize) -> String {
    format!(
        "restart_budget_metric{{instance=\"host-{:05}.example.org:9100\",job=\"restart-budget\",shard=\"{}\",path=\"/var/lib/lookout/volume-{i:06}\"}} {}.25 {t}\n",
        i / 10,
        i % SHARDS,
        i * 31 + round * 7
    )
}

async fn import(client: &reqwest::Client, base: &str, body: String) -> reqwest::Response {
    client
        .post(format!("{base}/api/v1/import/prometheus"))
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Creates series until the head refuses new ones (batches halved after a refusal, so the head ends exactly at its
/// limit), then appends `ROUNDS` more samples to each. Returns (series, samples acknowledged, t0).
async fn fill_head(client: &reqwest::Client, base: &str) -> (usize, u64, i64) {
    let t0 = now_ms() - 20 * 60_000;
    let mut series = 0usize;
    let mut batch = SERIES_BATCH;
    let mut refusals = 0;
    // Bounded: at most 1,000 accepted batches (2 M series, far above the limit) and one refusal per halving.
    for _ in 0..1_000 {
        let body: String = (series..series + batch)
            .map(|i| series_line(i, t0, 0))
            .collect();
        let r = import(client, base, body).await;
        match r.status().as_u16() {
            204 => series += batch,
            400 => {
                let text = r.text().await.unwrap();
                assert!(
                    text.contains("limit"),
                    "a refusal names the series or memory limit: {text}"
                );
                refusals += 1;
                if batch == 1 {
                    break;
                }
                batch /= 2;
            }
            other => panic!("import answered {other}: {}", r.text().await.unwrap()),
        }
    }
    assert!(refusals > 0, "the head refused new series at its limit");
    let mut samples = series as u64;
    for round in 1..=ROUNDS {
        let t = t0 + round as i64 * 15_000;
        for start in (0..series).step_by(ROUND_BATCH) {
            let body: String = (start..(start + ROUND_BATCH).min(series))
                .map(|i| series_line(i, t, round))
                .collect();
            let r = import(client, base, body).await;
            assert_eq!(
                r.status().as_u16(),
                204,
                "samples of existing series are taken: {}",
                r.text().await.unwrap()
            );
            samples += (start..(start + ROUND_BATCH).min(series)).len() as u64;
        }
    }
    (series, samples, t0)
}

/// One Loki push body of ~1 KiB lines of random tokens (so the index has real work) over `LOG_STREAMS` streams,
/// entries numbered from `first`; returns (body, entries, line bytes).
fn log_body(first: i64, t0: i64, seed: u64) -> (String, u64, u64) {
    let mut seed = seed | 1;
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut k = first;
    let mut bytes = 0u64;
    let per_stream = LINES_PER_PUSH / LOG_STREAMS;
    let streams: Vec<serde_json::Value> = (0..LOG_STREAMS)
        .map(|s| {
            let values: Vec<serde_json::Value> = (0..per_stream)
                .map(|_| {
                    k += 1;
                    let mut line = format!("{k:010} level=info msg=\"request served\"");
                    while line.len() < 1_000 {
                        line.push_str(&format!(" t{:x}={:016x}", random() % 64, random()));
                    }
                    bytes += line.len() as u64;
                    serde_json::json!([(t0 + k * 1_000).to_string(), line])
                })
                .collect();
            serde_json::json!({
                "stream": {"app": "restart-budget", "worker": format!("w{s:02}")},
                "values": values
            })
        })
        .collect();
    let body = serde_json::json!({ "streams": streams }).to_string();
    (body, (per_stream * LOG_STREAMS) as u64, bytes)
}

/// Pushes log bodies, `LOG_CONCURRENCY` at a time so the pushes outrun the index, until the store refuses them for
/// its index backlog (the most it buffers awaiting a commit). Returns (entries acknowledged, line bytes
/// acknowledged, t0 ns, whether the backlog refusal came).
async fn fill_logs(base: &str) -> (u64, u64, i64, bool) {
    let t0 = (now_ms() - 30 * 60_000) * 1_000_000;
    let per_body = (LINES_PER_PUSH / LOG_STREAMS * LOG_STREAMS) as i64;
    let bodies = tokio::task::spawn_blocking(move || {
        (0..LOG_BODIES)
            .map(|b| log_body(b as i64 * per_body, t0, 0x9e37_79b9_7f4a_7c15 ^ b as u64))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let (mut entries, mut bytes) = (0u64, 0u64);
    let mut backlog = false;
    let mut bodies = bodies.into_iter();
    // Bounded: `LOG_BODIES` bodies at most.
    while !backlog {
        let mut wave = tokio::task::JoinSet::new();
        for (body, n, b) in bodies.by_ref().take(LOG_CONCURRENCY) {
            let (client, url) = (client.clone(), format!("{base}/loki/api/v1/push"));
            wave.spawn(async move {
                let r = client
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.text().await.unwrap(), n, b)
            });
        }
        if wave.is_empty() {
            break;
        }
        while let Some(done) = wave.join_next().await {
            match done.unwrap() {
                (204, _, n, b) => {
                    entries += n;
                    bytes += b;
                }
                (429, text, _, _) => {
                    assert!(
                        text.contains("index is behind"),
                        "only the index backlog refuses: {text}"
                    );
                    backlog = true;
                }
                (status, text, _, _) => panic!("push answered {status}: {text}"),
            }
        }
    }
    (entries, bytes, t0, backlog)
}

/// Samples the process's memory every 10 ms until it is ready and its log store has committed what it replayed
/// (40 s at most). Returns (peak sampled RssAnon, seconds to ready).
async fn sample_restart(child: &Proc, base: &str) -> (u64, f64) {
    let started = Instant::now();
    // The probe runs beside the sampling, so an HTTP round trip never pauses it.
    let probe = tokio::spawn({
        let base = base.to_string();
        async move {
            let client = reqwest::Client::new();
            let mut ready_after = None;
            loop {
                let r = client
                    .get(format!("{base}/-/ready"))
                    .timeout(Duration::from_millis(500))
                    .send()
                    .await;
                if ready_after.is_none() && r.is_ok_and(|r| r.status().is_success()) {
                    ready_after = Some(started.elapsed().as_secs_f64());
                }
                if let Some(ready) = ready_after
                    && metric(
                        &self_metrics(&client, &base).await,
                        "lookout_logs_uncommitted_entries",
                    ) == 0.0
                {
                    return ready;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    });
    let deadline = started + Duration::from_secs(40);
    let mut peak_anon = 0u64;
    while !probe.is_finished() {
        peak_anon = peak_anon.max(child.rss_parts().0);
        if Instant::now() > deadline {
            probe.abort();
            panic!("the restart did not become ready and commit its replayed logs within 40 s");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    peak_anon = peak_anon.max(child.rss_parts().0);
    (peak_anon, probe.await.unwrap())
}

async fn count_samples(client: &reqwest::Client, base: &str, t0: i64) -> u64 {
    let mut total = 0u64;
    for shard in 0..SHARDS {
        let q = format!(
            "{base}/api/v1/query?query=sum(count_over_time(restart_budget_metric%7Bshard%3D%22{shard}%22%7D%5B1h%5D))&time={}",
            (t0 + 1_800_000) / 1000
        );
        let j: serde_json::Value = client.get(q).send().await.unwrap().json().await.unwrap();
        let v = j["data"]["result"][0]["value"][1]
            .as_str()
            .unwrap_or_else(|| panic!("a count for shard {shard}: {j}"));
        total += v.parse::<u64>().unwrap();
    }
    total
}

async fn count_entries(client: &reqwest::Client, base: &str, t0: i64) -> u64 {
    let q = format!(
        "{base}/loki/api/v1/query?query=sum(count_over_time(%7Bapp%3D%22restart-budget%22%7D%5B2h%5D))&time={}",
        t0 + 3_600_000_000_000
    );
    let j: serde_json::Value = client.get(q).send().await.unwrap().json().await.unwrap();
    j["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap_or_else(|| panic!("a log count: {j}"))
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_after_kill_9_stays_within_the_memory_budget_and_loses_nothing() {
    let began = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lookout.yml"),
        // No per-stream rate limit: the pushes below are meant to outrun the index, not the rate limiter.
        "scrape_configs: []\nlogs:\n  per_stream_rate: 0B\n",
    )
    .unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();

    let first = lookout_in("serve", dir.path(), port, LIMIT);
    wait_ready(&format!("{base}/-/ready"), Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The fixed cost of code and runtime: an idle process with an empty data directory.
    let idle_peak = first.peak_rss();
    let (idle_anon, idle_file) = first.rss_parts();

    let filled = Instant::now();
    let (series, samples, t0) = fill_head(&client, &base).await;
    let (entries, log_bytes, t0_ns, backlog) = fill_logs(&base).await;
    let fill_seconds = filled.elapsed().as_secs_f64();
    let before = self_metrics(&client, &base).await;
    let running_peak = first.peak_rss();
    first.kill9();

    let wal_bytes = lookout_tsdb::dir_size(&dir.path().join("data/wal"));
    let log_wal_bytes: u64 = std::fs::read_dir(dir.path().join("data/logs"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("wal"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();

    let second = lookout_in("serve", dir.path(), port, LIMIT);
    let (replay_anon, ready_seconds) = sample_restart(&second, &base).await;
    let replay_peak = second.peak_rss();
    let after = self_metrics(&client, &base).await;
    let got_samples = count_samples(&client, &base, t0).await;
    let got_entries = count_entries(&client, &base, t0_ns).await;
    drop(second);

    let report = format!(
        "budget {} MiB; idle start: VmHWM {:.1} MiB (RssAnon {:.1}, RssFile {:.1}); filled in {fill_seconds:.1} s: \
         {series} series (head_series {}, head_bytes {:.1} MiB, series refused {}, memory refused {}), {samples} samples, \
         {entries} log entries ({:.1} MiB of lines, backlog refusal: {backlog}, uncommitted at the end {:.1} MiB); \
         peak before the kill VmHWM {:.1} MiB; on disk at the kill: metrics WAL {:.1} MiB, log WAL {:.1} MiB; \
         restart: ready after {ready_seconds:.2} s, replayed {} samples (skipped {}), VmHWM {:.1} MiB, peak sampled RssAnon {:.1} MiB; \
         counted after: {got_samples} samples, {got_entries} entries",
        BUDGET >> 20,
        mib(idle_peak),
        mib(idle_anon),
        mib(idle_file),
        metric(&before, "lookout_tsdb_head_series"),
        metric(&before, "lookout_tsdb_head_bytes") / 1048576.0,
        metric(&before, "lookout_tsdb_series_limit_rejected_total"),
        metric(&before, "lookout_tsdb_memory_limit_rejected_total"),
        mib(log_bytes),
        metric(&before, "lookout_logs_uncommitted_bytes") / 1048576.0,
        mib(running_peak),
        mib(wal_bytes),
        mib(log_wal_bytes),
        metric(&after, "lookout_tsdb_replayed_samples_total"),
        metric(&after, "lookout_tsdb_replay_skipped_samples_total"),
        mib(replay_peak),
        mib(replay_anon),
    );
    eprintln!(
        "restart budget: {report}; wall {:.1} s",
        began.elapsed().as_secs_f64()
    );
    assert!(backlog, "the log store's backlog filled up: {report}");
    assert_eq!(
        metric(&before, "lookout_tsdb_head_series") as usize,
        series,
        "{report}"
    );
    assert_eq!(
        metric(&after, "lookout_tsdb_replayed_samples_total") as u64,
        samples,
        "the restart replayed the whole head from the WAL: {report}"
    );
    assert_eq!(got_samples, samples, "every acknowledged sample: {report}");
    assert_eq!(
        got_entries, entries,
        "every acknowledged log entry: {report}"
    );
    assert!(
        replay_anon <= BUDGET + idle_anon,
        "the data held during replay stays within the budget (beside the idle runtime's own): {report}"
    );
    assert!(
        replay_peak <= BUDGET + idle_peak,
        "the peak resident set during replay stays within the budget plus the idle process's code and runtime: {report}"
    );
}
