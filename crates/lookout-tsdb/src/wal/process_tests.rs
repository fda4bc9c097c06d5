//! Tests that need a second process or a stopwatch: acknowledged batches surviving SIGKILL, and append
//! throughput.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use super::tests::{fingerprint, value_bits};
use super::*;

const SIGKILL_CHILD_DIR: &str = "LOOKOUT_WAL_SIGKILL_CHILD_DIR";
const SIGKILL_TEST: &str = "wal::process_tests::acknowledged_batches_survive_sigkill";
const SIGKILL_BATCH: u64 = 50;

/// Batch `i` of the SIGKILL test: recognisable from its contents alone.
fn kill_batch(i: u64) -> WalRecord {
    WalRecord::Samples(
        (0..SIGKILL_BATCH)
            .map(|j| {
                (
                    i * SIGKILL_BATCH + j,
                    i as i64,
                    f64::from_bits(value_bits(i, j)),
                )
            })
            .collect(),
    )
}

#[test]
fn acknowledged_batches_survive_sigkill() {
    if let Some(dir) = std::env::var_os(SIGKILL_CHILD_DIR) {
        // Writer mode: append until killed, acknowledging each batch on stdout. Bounded: the parent stops reading
        // after a while, and the full pipe then blocks us until the kill.
        let wal = Wal::open(
            Path::new(&dir),
            WalOptions {
                segment_bytes: MIN_SEGMENT_BYTES,
                ..Default::default()
            },
        )
        .unwrap();
        let mut out = std::io::stdout().lock();
        for i in 0..1_000_000u64 {
            wal.append(&[kill_batch(i)]).unwrap();
            writeln!(out, "ack {i}").unwrap();
            out.flush().unwrap();
        }
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", SIGKILL_TEST, "--nocapture", "--test-threads=1"])
        .env(SIGKILL_CHILD_DIR, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked: Option<u64> = None;
    for line in lines.by_ref().take(10_000) {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("ack ") {
            acked = Some(n.parse().unwrap());
            if acked >= Some(500) {
                break;
            }
        }
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    let acked = acked.expect("the child acknowledged nothing");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "child was not killed: {status:?}"
    );

    let wal = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let mut next = 0u64;
    let stats = wal
        .replay(&mut |record| {
            assert_eq!(
                fingerprint(&[record]),
                fingerprint(&[kill_batch(next)]),
                "batch {next} damaged"
            );
            next += 1;
        })
        .unwrap();
    assert!(
        next > acked,
        "acknowledged batch {acked} lost: replay ended after {next} batches ({stats:?})"
    );
    assert!(stats.segments >= 2, "the kill test should span a rotation");
}

/// Scrape-shaped append throughput: 10,000 series scraped in batches of 1,000 samples sharing a timestamp, with
/// node_exporter-like values (integer counters, fractional gauges, constants). Run it in release:
/// `cargo test -p lookout-tsdb --release wal::process_tests::append_throughput -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement; run in release"]
fn append_throughput() {
    const SERIES: u64 = 10_000;
    const BATCH: u64 = 1_000;
    let scrapes: u64 = if cfg!(debug_assertions) { 20 } else { 200 };
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let mut batch = Vec::with_capacity(BATCH as usize);
    let value = |series: u64, scrape: u64| match series % 4 {
        0 => (series * 1_000 + scrape * (series % 97)) as f64,
        1 => (series as f64).sqrt() * (1.0 + scrape as f64 / 1e4),
        2 => (series % 3) as f64,
        _ => 1e9 + (scrape * 4096) as f64,
    };
    let started = Instant::now();
    for scrape in 0..scrapes {
        let t = 1_700_000_000_000 + scrape as i64 * 15_000;
        for first in (0..SERIES).step_by(BATCH as usize) {
            batch.clear();
            batch.extend((first..first + BATCH).map(|s| (s, t, value(s, scrape))));
            wal.append(&[WalRecord::Samples(std::mem::take(&mut batch))])
                .unwrap();
            batch = Vec::with_capacity(BATCH as usize);
        }
    }
    let elapsed = started.elapsed();
    let samples = scrapes * SERIES;
    let rate = samples as f64 / elapsed.as_secs_f64();
    let m = wal.metrics();
    println!(
        "wal append: {samples} samples in {elapsed:?} = {:.2} M samples/s, {:.2} bytes/sample, {} fsyncs, {} segments",
        rate / 1e6,
        m.bytes_written as f64 / samples as f64,
        m.fsyncs,
        m.segments
    );
    wal.close().unwrap();

    let wal = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let started = Instant::now();
    let stats = wal.replay(&mut |_| {}).unwrap();
    println!(
        "wal replay: {:.2} M samples/s",
        stats.samples as f64 / started.elapsed().as_secs_f64() / 1e6
    );
    assert_eq!(stats.samples, samples);
    if !cfg!(debug_assertions) {
        assert!(
            rate >= 2e6,
            "append rate {rate:.0} samples/s is below the 2 M/s goal"
        );
    }
}

/// WAL bytes per sample and append rate on the nodegen data set (`LOOKOUT_NODEGEN_FILE`), replayed in scrape order:
/// one batch per host and timestamp, the series record with each host's first scrape.
///
/// `python3 ../shared/bench/nodegen.py dataset --hosts 100 --hours 2 --step 15 > /tmp/nodegen.om`
/// `LOOKOUT_NODEGEN_FILE=/tmp/nodegen.om cargo test -p lookout-tsdb wal::process_tests::nodegen -- --ignored --nocapture`
#[test]
#[ignore = "a measurement on a generated data set"]
fn nodegen_wal_bytes_per_sample() {
    let Ok(path) = std::env::var("LOOKOUT_NODEGEN_FILE") else {
        eprintln!(
            "skipped: set LOOKOUT_NODEGEN_FILE to a nodegen.py dataset file (see the doc comment)"
        );
        return;
    };
    // Series in file order; each series' samples follow one another.
    let mut labels: Vec<lookout_model::Labels> = Vec::new();
    let mut hosts: Vec<String> = Vec::new();
    let mut samples: Vec<Vec<(i64, f64)>> = Vec::new();
    let mut last_key = String::new();
    let file = std::fs::File::open(&path).unwrap();
    for line in BufReader::with_capacity(1 << 20, file).lines() {
        let line = line.unwrap();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let mut parts = line.rsplitn(3, ' ');
        let (Some(ts), Some(v), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            panic!("bad line {line:?}");
        };
        if key != last_key {
            let (name, rest) = key.split_once('{').unwrap_or((key, "}"));
            let mut pairs = vec![("__name__".to_string(), name.to_string())];
            for pair in rest
                .trim_end_matches('}')
                .split("\",")
                .filter(|p| !p.is_empty())
            {
                let (n, v) = pair.split_once("=\"").unwrap();
                pairs.push((n.to_string(), v.trim_end_matches('"').to_string()));
            }
            let host = pairs
                .iter()
                .find(|p| p.0 == "instance")
                .map_or(String::new(), |p| p.1.clone());
            labels.push(lookout_model::Labels::from_pairs(&pairs).unwrap());
            hosts.push(host);
            samples.push(Vec::new());
            last_key = key.to_string();
        }
        let t = (ts.parse::<f64>().unwrap() * 1000.0).round() as i64;
        samples.last_mut().unwrap().push((t, v.parse().unwrap()));
    }
    let mut by_host: Vec<(String, Vec<u64>)> = Vec::new();
    for (series_ref, host) in hosts.iter().enumerate() {
        match by_host.last_mut() {
            Some((h, refs)) if h == host => refs.push(series_ref as u64),
            _ => by_host.push((host.clone(), vec![series_ref as u64])),
        }
    }
    let steps = samples.iter().map(Vec::len).max().unwrap_or(0);

    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let (mut total, mut batch) = (0u64, Vec::new());
    let started = Instant::now();
    for step in 0..steps {
        for (_, refs) in &by_host {
            batch.clear();
            batch.extend(
                refs.iter()
                    .filter_map(|&r| samples[r as usize].get(step).map(|&(t, v)| (r, t, v))),
            );
            total += batch.len() as u64;
            let record = WalRecord::Samples(std::mem::take(&mut batch));
            if step == 0 {
                let series = refs
                    .iter()
                    .map(|&r| (r, labels[r as usize].clone()))
                    .collect();
                wal.append(&[WalRecord::Series(series), record]).unwrap();
            } else {
                wal.append(std::slice::from_ref(&record)).unwrap();
            }
        }
    }
    let elapsed = started.elapsed();
    let m = wal.metrics();
    println!(
        "nodegen wal: {} series, {total} samples, {:.2} M samples/s appended, {:.2} bytes/sample ({} bytes on disk)",
        labels.len(),
        total as f64 / elapsed.as_secs_f64() / 1e6,
        m.size_on_disk_bytes as f64 / total as f64,
        m.size_on_disk_bytes
    );
    wal.close().unwrap();
    let wal = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let stats = wal.replay(&mut |_| {}).unwrap();
    assert_eq!(stats.samples, total);
    println!(
        "nodegen wal replay: {:.2} M samples/s",
        total as f64 / stats.seconds / 1e6
    );
}
