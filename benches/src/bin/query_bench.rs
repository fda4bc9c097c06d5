//! PromQL query figures on a nodegen dataset: for each query of [`QUERIES`], as an instant query (at the last sample)
//! and as a range query (over the whole dataset at 15 s step), the median wall time and the median peak heap of a
//! few runs after a warm-up run. Prints a markdown table.
//!
//! `query_bench DATASET.om [--workdir DIR] [--runs N] [--only TEXT]`: the dataset (nodegen's `dataset` output, timestamps in
//! seconds) is loaded into a `Tsdb` in a temp dir; the first three quarters of the steps are persisted to sled, the
//! rest stays in the head, so queries read sled and head as in production.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::Instant;

use lookout_benches::{DatasetSeries, read_dataset};
use lookout_promql::{Engine, EngineOptions, QueryContext, QueryOutput, Value};
use lookout_storage::{SeriesRef, Storage};
use lookout_tsdb::{Tsdb, TsdbOptions};
use peak_alloc::PeakAlloc;

/// Counts live heap bytes and their high-water mark, so a query's peak can be read off.
#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

/// The benchmarked queries: a short name for the table and the PromQL text (metrics that nodegen writes).
pub const QUERIES: &[(&str, &str)] = &[
    ("rate all cpu", "rate(node_cpu_seconds_total[5m])"),
    (
        "sum by job",
        "sum by (job) (rate(node_network_receive_bytes_total[5m]))",
    ),
    (
        "sum by instance",
        "sum by (instance) (rate(node_network_receive_bytes_total[5m]))",
    ),
    (
        "histogram_quantile",
        "histogram_quantile(0.9, sum by (le) (rate(node_scrape_latency_seconds_bucket[5m])))",
    ),
    ("topk", "topk(10, node_memory_MemFree_bytes)"),
    (
        "regex matcher",
        "rate(node_disk_read_bytes_total{device=~\"sd.*\"}[5m])",
    ),
    (
        "group_left join",
        "node_filesystem_avail_bytes / on (instance) group_left node_boot_time_seconds",
    ),
    (
        "sum of rate",
        "sum(rate(node_cpu_seconds_total{mode!=\"idle\"}[5m]))",
    ),
    ("avg by instance", "avg by (instance) (node_load1)"),
    (
        "ratio",
        "1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes",
    ),
];

/// Range-query resolution, the dataset's scrape step.
const STEP_MS: i64 = 15_000;
/// Series per appender commit while loading: one node_exporter scrape.
const BATCH_SERIES: usize = 100;

fn options() -> TsdbOptions {
    TsdbOptions {
        maintenance_interval: None,
        memory_budget_bytes: 8 << 30,
        ..TsdbOptions::default()
    }
}

/// Appends steps `from..to` of every series, scrape by scrape; `refs` caches each series' id after step `from`
/// (ids are looked up again per call: persistence may drop series from the head).
fn ingest_steps(db: &Tsdb, data: &[DatasetSeries], refs: &mut [SeriesRef], from: usize, to: usize) {
    for k in from..to {
        for (c, chunk) in data.chunks(BATCH_SERIES).enumerate() {
            let mut a = db.appender();
            for (i, s) in chunk.iter().enumerate() {
                let Some(&(t, v)) = s.samples.get(k) else {
                    continue;
                };
                let idx = c * BATCH_SERIES + i;
                if k == from {
                    a.append(&s.labels, t, v).expect("append");
                } else {
                    a.append_ref(refs[idx], t, v).expect("append_ref");
                }
            }
            a.commit().expect("commit");
            if k == from {
                // Ids handed out before a commit are provisional: look the committed series up again.
                let mut a = db.appender();
                for (i, s) in chunk.iter().enumerate() {
                    if let Some(&(t, v)) = s.samples.get(k) {
                        refs[c * BATCH_SERIES + i] = a.append(&s.labels, t, v).expect("ref lookup");
                    }
                }
                a.rollback();
            }
        }
    }
}

/// Number of series (or 1 for a scalar) in a result, to check that a query found data.
fn result_series(out: &QueryOutput) -> usize {
    match &out.value {
        Value::Vector(v) => v.len(),
        Value::Matrix(m) => m.len(),
        Value::Scalar { .. } | Value::String { .. } => 1,
    }
}

/// One measured query: median milliseconds, median peak heap bytes over the runs, result series.
struct Measurement {
    median_ms: f64,
    peak_bytes: usize,
    series: usize,
}

/// Runs `query` once to warm caches (sled's page cache would otherwise count as the first query's memory), then
/// `runs` times; a run's peak is the allocator's high-water mark during it minus the live bytes before it.
fn measure(runs: usize, query: impl Fn() -> QueryOutput) -> Measurement {
    drop(query());
    let mut times = Vec::with_capacity(runs);
    let mut peaks = Vec::with_capacity(runs);
    let mut series = 0;
    for _ in 0..runs {
        let before = HEAP.current_usage();
        HEAP.reset_peak_usage();
        let started = Instant::now();
        let out = query();
        times.push(started.elapsed().as_secs_f64() * 1e3);
        peaks.push(HEAP.peak_usage().saturating_sub(before));
        series = result_series(&out);
        drop(out);
    }
    times.sort_by(f64::total_cmp);
    peaks.sort_unstable();
    Measurement {
        median_ms: times[times.len() / 2],
        peak_bytes: peaks[peaks.len() / 2],
        series,
    }
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn arg_value(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dataset = PathBuf::from(
        args.get(1)
            .expect("usage: query_bench DATASET.om [--workdir DIR] [--runs N] [--only TEXT]"),
    );
    let runs: usize = arg_value(&args, "--runs").map_or(5, |r| r.parse().expect("--runs N"));
    let workdir = arg_value(&args, "--workdir").map_or_else(std::env::temp_dir, PathBuf::from);
    let tmp = tempfile::tempdir_in(&workdir).expect("temp dir in the work dir");

    let started = Instant::now();
    let data = load(&dataset);
    let samples: usize = data.iter().map(|s| s.samples.len()).sum();
    let steps = data.iter().map(|s| s.samples.len()).max().unwrap_or(0);
    let first_t = data
        .iter()
        .filter_map(|s| s.samples.first())
        .map(|s| s.0)
        .min();
    let last_t = data
        .iter()
        .filter_map(|s| s.samples.last())
        .map(|s| s.0)
        .max();
    let (Some(first_t), Some(last_t)) = (first_t, last_t) else {
        panic!("dataset {} has no samples", dataset.display());
    };
    eprintln!(
        "parsed {} series, {samples} samples in {:.1} s",
        data.len(),
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let db = Tsdb::open(tmp.path().join("data"), options()).expect("open tsdb");
    let mut refs: Vec<SeriesRef> = vec![0; data.len()];
    let persisted_steps = steps * 3 / 4;
    ingest_steps(&db, &data, &mut refs, 0, persisted_steps);
    db.persist_now().expect("persist");
    ingest_steps(&db, &data, &mut refs, persisted_steps, steps);
    let series = data.len();
    drop(data);
    eprintln!(
        "loaded in {:.1} s ({persisted_steps} of {steps} steps persisted to sled, the rest in the head)",
        started.elapsed().as_secs_f64()
    );

    let engine = Engine::new(EngineOptions::default());
    let ctx = QueryContext::default();
    let storage: &dyn Storage = &db;
    println!(
        "{series} series, {samples} samples; instant at the last sample, range over {:.1} h at {} s step; \
         one warm-up run, then median of {runs} runs; peak = heap high-water mark during the query minus live heap before (median run)",
        (last_t - first_t) as f64 / 3.6e6,
        STEP_MS / 1000
    );
    println!();
    println!(
        "| query | instant ms | instant peak MiB | range ms | range peak MiB | result series (instant / range) |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    // `--only TEXT`: just the queries whose name contains TEXT (to profile one).
    let only = arg_value(&args, "--only");
    for (name, query) in QUERIES
        .iter()
        .filter(|(name, _)| only.as_ref().is_none_or(|o| name.contains(o.as_str())))
    {
        let instant = measure(runs, || {
            engine
                .instant_query(storage, query, last_t, &ctx)
                .unwrap_or_else(|e| panic!("instant {query}: {e}"))
        });
        let range = measure(runs, || {
            engine
                .range_query(storage, query, first_t, last_t, STEP_MS, &ctx)
                .unwrap_or_else(|e| panic!("range {query}: {e}"))
        });
        assert!(
            instant.series > 0 && range.series > 0,
            "{query} found no data: the benchmark would time nothing"
        );
        println!(
            "| `{query}` | {:.1} | {:.1} | {:.1} | {:.1} | {} / {} |",
            instant.median_ms,
            mib(instant.peak_bytes),
            range.median_ms,
            mib(range.peak_bytes),
            instant.series,
            range.series
        );
        eprintln!("done: {name}");
    }
    db.close().expect("close");
}

fn load(path: &Path) -> Vec<DatasetSeries> {
    let f = std::fs::File::open(path)
        .unwrap_or_else(|e| panic!("cannot open dataset {}: {e}", path.display()));
    read_dataset(BufReader::with_capacity(1 << 20, f)).expect("dataset parses")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_peak_are_measured() {
        let m = measure(3, || {
            // A 4 MiB allocation that lives only during the "query".
            let buf = vec![1u8; 4 << 20];
            assert_eq!(buf.len(), 4 << 20);
            QueryOutput {
                value: Value::Vector(Vec::new()),
                annotations: Vec::new(),
                stats: Default::default(),
            }
        });
        assert!(
            m.peak_bytes >= 4 << 20,
            "peak {} misses the buffer",
            m.peak_bytes
        );
        assert!(m.median_ms >= 0.0);
        assert_eq!(m.series, 0);
    }

    #[test]
    fn queries_parse() {
        for (_, q) in QUERIES {
            lookout_promql::parse_query(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        }
    }
}
