//! TSDB figures on a nodegen dataset: append throughput, head memory per series, replay time after a crash,
//! select+decode throughput (head and persisted), on-disk bytes per sample.
//!
//! `tsdb_bench DATASET.om [--workdir DIR] [--keep]` runs everything: a child process (this binary with `--crash-writer`)
//! ingests the dataset and aborts (a crash: no shutdown), then this process reopens the directory (replay), reads
//! everything back, persists it, measures the directory and reads it again from sled.

use std::alloc::System;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use lookout_benches::{DatasetSeries, read_dataset};
use lookout_model::{MatchOp, Matcher, Sample, TimeRange};
use lookout_storage::{SelectHints, SeriesRef, Storage};
use lookout_tsdb::{Tsdb, TsdbOptions, dir_size};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Series per batch: one node_exporter scrape.
const BATCH_SERIES: usize = 100;

fn options() -> TsdbOptions {
    TsdbOptions {
        maintenance_interval: None,
        memory_budget_bytes: 4 << 30,
        ..TsdbOptions::default()
    }
}

fn load(path: &Path) -> Vec<DatasetSeries> {
    let f = std::fs::File::open(path)
        .unwrap_or_else(|e| panic!("cannot open dataset {}: {e}", path.display()));
    read_dataset(BufReader::with_capacity(1 << 20, f)).expect("dataset parses")
}

/// `name size` of every file under sled's directory (blob files summed), to tell its parts apart.
fn sled_files(dir: &Path) -> String {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let size = if e.path().is_dir() {
            dir_size(&e.path())
        } else {
            e.metadata().map_or(0, |m| m.len())
        };
        out.push(format!("{name} {size}"));
    }
    out.sort();
    out.join(", ")
}

/// Keys and values sled holds for us.
fn stored(u: &lookout_tsdb::SledUsage) -> u64 {
    u.chunk_groups + u.parts_and_meta + u.series_table + u.postings
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm
        .split(' ')
        .nth(1)
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(0)
        * 4096
}

/// Child mode: ingest scrape by scrape on one thread, report, then abort without any shutdown.
fn crash_writer(dir: &Path, dataset: &Path) -> ! {
    let data = load(dataset);
    let samples: usize = data.iter().map(|s| s.samples.len()).sum();
    let steps = data.iter().map(|s| s.samples.len()).max().unwrap_or(0);
    let db = Tsdb::open(dir, options()).expect("open");
    let mut refs: Vec<SeriesRef> = vec![0; data.len()];
    let rss_before = rss_bytes();
    let region = Region::new(GLOBAL);
    let started = Instant::now();
    for k in 0..steps {
        for (c, chunk) in data.chunks(BATCH_SERIES).enumerate() {
            let mut a = db.appender();
            for (i, s) in chunk.iter().enumerate() {
                let Some(&(t, v)) = s.samples.get(k) else {
                    continue;
                };
                let idx = c * BATCH_SERIES + i;
                if k == 0 {
                    refs[idx] = a.append(&s.labels, t, v).expect("append");
                } else {
                    a.append_ref(refs[idx], t, v).expect("append_ref");
                }
            }
            a.commit().expect("commit");
            if k == 0 {
                // Refs of series created by this batch become real ids once committed: look them up again.
                let mut a = db.appender();
                for (i, s) in chunk.iter().enumerate() {
                    if let Some(&(t, v)) = s.samples.first() {
                        refs[c * BATCH_SERIES + i] = a.append(&s.labels, t, v).expect("ref lookup");
                    }
                }
                a.rollback();
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let change = region.change();
    // stats_alloc counts a realloc's growth in bytes_allocated (and shrinkage in bytes_deallocated) as well as in
    // bytes_reallocated, so the net heap is allocated minus deallocated.
    let heap = change.bytes_allocated as i64 - change.bytes_deallocated as i64;
    let m = db.metrics();
    println!("series {}", data.len());
    println!("samples {samples}");
    println!("appended {}", m.samples_appended);
    println!("append_seconds {secs:.3}");
    println!("heap_bytes {heap}");
    println!("head_estimate_bytes {}", db.head_bytes());
    println!("rss_delta_bytes {}", rss_bytes().saturating_sub(rss_before));
    println!("wal_bytes {}", m.wal_size_bytes);
    std::process::abort();
}

fn select_all(db: &Tsdb) -> (u64, f64, f64) {
    let started = Instant::now();
    let mut sum = 0f64;
    let n = for_each_sample(db, &mut |x| sum += x.v);
    (n, started.elapsed().as_secs_f64(), sum)
}

/// Calls `f` with every sample of every series, in select order; returns how many.
fn for_each_sample(db: &Tsdb, f: &mut dyn FnMut(Sample)) -> u64 {
    let q = db.querier(TimeRange::ALL).expect("querier");
    let m = Matcher::new(MatchOp::Regex, "__name__", ".+").expect("matcher");
    let mut n = 0u64;
    for s in q
        .select(&[m], SelectHints::samples(TimeRange::ALL))
        .expect("select")
    {
        let mut s = s.expect("series");
        while let Some(x) = s.samples.next() {
            n += 1;
            f(x);
        }
    }
    n
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--crash-writer") {
        crash_writer(Path::new(&args[2]), Path::new(&args[3]));
    }
    if args.get(1).map(String::as_str) == Some("--open-only") {
        // Times one open (replay) of an existing directory, for profiling start-up.
        let started = Instant::now();
        let db = Tsdb::open(&args[2], options()).expect("open");
        let m = db.metrics();
        println!(
            "open {:.2} s, {} samples replayed ({} from the head chunk log)",
            started.elapsed().as_secs_f64(),
            m.replayed_samples,
            m.replay_chunk_log_samples
        );
        if args.iter().any(|a| a == "--checksum") {
            // Every series' samples, times and value bits, folded in select order.
            let mut hash = 0u64;
            let n = for_each_sample(&db, &mut |x| {
                hash = hash.wrapping_mul(0x100_0000_01b3)
                    ^ (x.t as u64)
                    ^ x.v.to_bits().rotate_left(17);
            });
            println!("{n} samples read, checksum {hash:016x}");
        }
        return;
    }
    let dataset = PathBuf::from(
        args.get(1)
            .expect("usage: tsdb_bench DATASET.om [--workdir DIR] [--keep]"),
    );
    let tmp = tempfile::tempdir_in(
        args.iter()
            .position(|a| a == "--workdir")
            .map_or_else(std::env::temp_dir, |i| PathBuf::from(&args[i + 1])),
    )
    .expect("temp dir");
    // `--keep` leaves the data directory in place, to inspect its files.
    let keep = args.iter().any(|a| a == "--keep");
    // Dropping `_removal` (at the end of `main`) deletes the directory, unless it was kept.
    let (root, _removal) = if keep {
        (tmp.keep(), None)
    } else {
        (tmp.path().to_path_buf(), Some(tmp))
    };
    let dir = root.join("data");
    if keep {
        println!("data directory (kept)         {}", dir.display());
    }

    // 1. Ingest in a child that then crashes.
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .arg("--crash-writer")
        .arg(&dir)
        .arg(&dataset)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn writer");
    let mut report = std::collections::HashMap::new();
    for line in BufReader::new(child.stdout.take().expect("stdout")).lines() {
        let line = line.expect("line");
        if let Some((k, v)) = line.split_once(' ') {
            report.insert(k.to_string(), v.parse::<f64>().unwrap_or(f64::NAN));
        }
    }
    let status = child.wait().expect("wait");
    assert!(!status.success(), "the writer must crash (abort), not exit");
    let series = report["series"];
    let samples = report["samples"];
    assert_eq!(report["appended"], samples, "every sample accepted");
    let append_secs = report["append_seconds"];
    println!("dataset                       {}", dataset.display());
    println!("series                        {series}");
    println!("samples                       {samples}");
    println!(
        "append (1 thread, 100/batch)  {:.2} M samples/s ({append_secs:.2} s)",
        samples / append_secs / 1e6
    );
    println!(
        "head heap per series          {:.0} B (counting allocator; engine estimate {:.0} B, RSS delta {:.0} B)",
        report["heap_bytes"] / series,
        report["head_estimate_bytes"] / series,
        report["rss_delta_bytes"] / series
    );
    println!(
        "WAL after ingest              {:.2} bytes/sample",
        report["wal_bytes"] / samples
    );

    // 2. Reopen after the crash: WAL replay.
    let started = Instant::now();
    let db = Tsdb::open(&dir, options()).expect("reopen");
    let replay = started.elapsed().as_secs_f64();
    let m = db.metrics();
    println!(
        "open + replay after crash     {replay:.2} s ({} samples, {} series)",
        m.replayed_samples, m.head_series
    );
    assert_eq!(m.replayed_samples as f64, samples);

    let (n, secs, head_sum) = select_all(&db);
    assert_eq!(n as f64, samples);
    println!(
        "select+decode (head)          {:.1} M samples/s ({secs:.2} s)",
        n as f64 / secs / 1e6
    );

    // 3. Persist everything and measure the directory.
    let started = Instant::now();
    db.persist_now().expect("persist");
    let persist = started.elapsed().as_secs_f64();
    let m = db.metrics();
    let usage = db.sled_usage().expect("sled usage");
    db.close().expect("close");
    let disk = dir_size(&dir);
    let sled_dir = dir_size(&dir.join("sled"));
    let parts_dir = dir_size(&dir.join("parts"));
    println!("persist                       {persist:.2} s");
    println!(
        "on disk after persistence     {:.3} bytes/sample ({disk} bytes: parts {parts_dir}, sled {sled_dir}, wal {})",
        disk as f64 / samples,
        disk - sled_dir - parts_dir
    );
    println!(
        "  stored (parts + sled k/v)   {:.3} bytes/sample; whole dir / stored = {:.3}",
        (parts_dir + stored(&usage)) as f64 / samples,
        disk as f64 / (parts_dir + stored(&usage)) as f64
    );
    println!(
        "  part files                  {:.3} bytes/sample ({} bytes of chunk groups and directories)",
        m.persisted_data_bytes as f64 / samples,
        m.persisted_data_bytes
    );
    println!(
        "  sled's files                {}",
        sled_files(&dir.join("sled"))
    );
    println!(
        "  sled by tree (keys+values)  groups {} B, parts+meta {} B, series table {} B, postings {} B",
        usage.chunk_groups, usage.parts_and_meta, usage.series_table, usage.postings
    );
    println!(
        "  sled's own overhead         {:.3} bytes/sample (files {} B − stored keys and values {} B)",
        (sled_dir as f64 - stored(&usage) as f64) / samples,
        sled_dir,
        stored(&usage)
    );

    // 4. Read everything back from sled.
    let started = Instant::now();
    let db = Tsdb::open(&dir, options()).expect("reopen persisted");
    println!(
        "open (persisted only)         {:.2} s",
        started.elapsed().as_secs_f64()
    );
    for pass in ["cold", "warm"] {
        let (n, secs, sum) = select_all(&db);
        assert_eq!(n as f64, samples);
        assert_eq!(
            sum.to_bits(),
            head_sum.to_bits(),
            "sled returns the values the head held"
        );
        println!(
            "select+decode (sled, {pass})    {:.1} M samples/s ({secs:.2} s)",
            n as f64 / secs / 1e6
        );
    }
    db.close().expect("close");
}
