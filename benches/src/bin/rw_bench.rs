//! remote_write ingest in process, without HTTP: a dataset sent as Prometheus's queue sends it (series sharded over
//! the senders, time-major, 2,000 samples per request, one sample per series each), decoded and appended by
//! `lookout_collect::push` into a TSDB, one thread per sender. Reports samples/s and CPU seconds per M samples.
//!
//! `rw_bench DATASET.om [--senders N] [--full-decoder]` (`--full-decoder`: every request through prost's decoder and
//! appends by labels, the path without the pushed-series cache, for comparison).

use std::io::BufReader;
use std::time::Instant;

use lookout_benches::read_dataset;
use lookout_collect::push::{PushSeriesCache, commit_all, ingest_remote_write};
use lookout_model::Sample;
use lookout_tsdb::{Tsdb, TsdbOptions};
use lookout_wire::remote_write::{
    InvalidSeriesPolicy, RemoteWriteVersion, WireLimits, WriteSeries, decode_write_request,
    encode_write_request,
};

const SAMPLES_PER_REQUEST: usize = 2000;

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .expect("usage: rw_bench DATASET.om [--senders N] [--full-decoder]");
    let senders: usize = args
        .iter()
        .position(|a| a == "--senders")
        .and_then(|i| args.get(i + 1))
        .map_or(2, |s| s.parse().expect("--senders N"));
    let full = args.iter().any(|a| a == "--full-decoder");
    let data =
        read_dataset(BufReader::new(std::fs::File::open(path).expect("dataset"))).expect("parse");
    let t0 = data
        .iter()
        .filter_map(|s| s.samples.first())
        .map(|s| s.0)
        .min()
        .unwrap_or(0);
    let offsets: Vec<usize> = data
        .iter()
        .map(|s| ((s.samples.first().map_or(t0, |x| x.0) - t0) / 15_000) as usize)
        .collect();
    let steps = data
        .iter()
        .zip(&offsets)
        .map(|(s, o)| o + s.samples.len())
        .max()
        .unwrap_or(0);
    let mut shards: Vec<Vec<Vec<u8>>> = vec![Vec::new(); senders];
    let mut total = 0usize;
    for (shard, bodies) in shards.iter_mut().enumerate() {
        let mut batch: Vec<WriteSeries> = Vec::new();
        for step in 0..steps {
            for i in (shard..data.len()).step_by(senders) {
                let Some(k) = step.checked_sub(offsets[i]) else {
                    continue;
                };
                let Some(&(t, v)) = data[i].samples.get(k) else {
                    continue;
                };
                batch.push(WriteSeries {
                    labels: data[i].labels.clone(),
                    samples: vec![Sample::new(t, v)],
                    exemplars: 0,
                    histograms: 0,
                });
                if batch.len() == SAMPLES_PER_REQUEST {
                    bodies.push(encode_write_request(&batch, &[]));
                    total += batch.len();
                    batch.clear();
                }
            }
        }
        if !batch.is_empty() {
            bodies.push(encode_write_request(&batch, &[]));
            total += batch.len();
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Tsdb::open(
        dir.path(),
        TsdbOptions {
            maintenance_interval: None,
            memory_budget_bytes: 1 << 30,
            ..TsdbOptions::default()
        },
    )
    .expect("open");
    let cache = PushSeriesCache::new(20 << 20);
    let limits = WireLimits::default();
    eprintln!("ingesting {total} samples (pid {})", std::process::id());
    if let Ok(secs) = std::env::var("RW_BENCH_PAUSE_S") {
        // Time to attach a profiler to the ingest phase alone.
        std::thread::sleep(std::time::Duration::from_secs(secs.parse().unwrap_or(0)));
    }
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    let stored: usize = std::thread::scope(|s| {
        let handles: Vec<_> = shards
            .iter()
            .map(|bodies| {
                let (db, cache, limits) = (&db, &cache, &limits);
                s.spawn(move || {
                    let mut n = 0;
                    for body in bodies {
                        n += if full {
                            let batch = decode_write_request(
                                body,
                                RemoteWriteVersion::V1,
                                limits,
                                InvalidSeriesPolicy::Reject,
                            )
                            .expect("decode");
                            commit_all(
                                db,
                                batch
                                    .series
                                    .iter()
                                    .map(|s| (&s.labels, s.samples.as_slice())),
                            )
                            .expect("append")
                        } else {
                            ingest_remote_write(db, cache, body, RemoteWriteVersion::V1, limits)
                                .expect("ingest")
                        };
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("sender")).sum()
    });
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let (hits, misses) = cache.lookups();
    println!(
        "{} samples ({} stored) in {} requests from {senders} senders{}: {secs:.2} s, {:.2} M samples/s, {cpu:.2} CPU s, {:.3} CPU s per M; cache {hits} hits, {misses} misses",
        total,
        stored,
        shards.iter().map(Vec::len).sum::<usize>(),
        if full { " (full decoder)" } else { "" },
        total as f64 / secs / 1e6,
        cpu / total as f64 * 1e6,
    );
    assert_eq!(stored, total, "every sample stored");
}
