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
        .stderr(Stdio::null())
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
