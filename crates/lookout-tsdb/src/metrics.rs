//! Self-metrics: atomic counters and gauges, a plain snapshot, rendered through the shared `MetricsWriter`.

use lookout_model::self_metrics::{MetricKind, MetricValue, MetricsWriter};
use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! tsdb_metrics {
    ($( $field:ident : $kind:literal, $help:literal; )*) => {
        /// Live counters and gauges, updated by the engine with relaxed atomics.
        #[derive(Debug, Default)]
        pub(crate) struct Counters {
            $( pub(crate) $field: AtomicU64, )*
        }

        /// A point-in-time copy of the engine's counters and gauges (names as in `write_metrics`).
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct TsdbMetrics {
            $( #[doc = $help] pub $field: u64, )*
            /// WAL: bytes appended since start.
            pub wal_bytes_written: u64,
            /// WAL: fsync calls since start.
            pub wal_fsyncs: u64,
            /// WAL: sum of fsync latencies in microseconds.
            pub wal_fsync_micros_sum: u64,
            /// WAL: largest fsync latency in microseconds.
            pub wal_fsync_micros_max: u64,
            /// WAL: segment files on disk.
            pub wal_segments: u64,
            /// WAL: bytes on disk.
            pub wal_size_bytes: u64,
        }

        impl Counters {
            pub(crate) fn snapshot(&self) -> TsdbMetrics {
                TsdbMetrics { $( $field: self.$field.load(Ordering::Relaxed), )* ..TsdbMetrics::default() }
            }
        }

        impl TsdbMetrics {
            /// Renders the snapshot in Prometheus text format (HELP and TYPE lines, `lookout_tsdb_` names).
            pub fn write_prometheus(&self, out: &mut MetricsWriter) {
                $( write_one(out, stringify!($field), $kind, $help, self.$field); )*
                write_one(out, "wal_bytes_written_total", "counter", "Bytes appended to the WAL.", self.wal_bytes_written);
                write_one(out, "wal_fsyncs_total", "counter", "WAL fsync calls.", self.wal_fsyncs);
                write_one(out, "wal_fsync_seconds_sum", "counter", "Total time spent in WAL fsync.", self.wal_fsync_micros_sum as f64 / 1e6);
                write_one(out, "wal_fsync_seconds_max", "gauge", "Longest WAL fsync since start.", self.wal_fsync_micros_max as f64 / 1e6);
                write_one(out, "wal_segments", "gauge", "WAL segment files on disk.", self.wal_segments);
                write_one(out, "wal_size_bytes", "gauge", "WAL bytes on disk.", self.wal_size_bytes);
            }
        }
    };
}

fn write_one(
    out: &mut MetricsWriter,
    name: &str,
    kind: &str,
    help: &str,
    value: impl Into<MetricValue>,
) {
    let is_counter = kind == "counter";
    let suffix = if is_counter && !name.ends_with("_total") && !name.ends_with("_sum") {
        "_total"
    } else {
        ""
    };
    let full = format!("lookout_tsdb_{name}{suffix}");
    let kind = if is_counter {
        MetricKind::Counter
    } else {
        MetricKind::Gauge
    };
    out.family(&full, kind, help).sample(&[], value);
}

tsdb_metrics! {
    head_series: "gauge", "Series in the head.";
    head_chunks: "gauge", "Head chunks (open and closed).";
    head_bytes: "gauge", "Estimated heap bytes of the head (series, chunks, index).";
    head_max_time_ms: "gauge", "Newest sample timestamp in the head (ms).";
    samples_appended: "counter", "Samples committed.";
    series_created: "counter", "Series created.";
    commits: "counter", "Committed batches.";
    rollbacks: "counter", "Rolled-back batches.";
    out_of_order_rejected: "counter", "Samples refused as out of order.";
    out_of_bounds_rejected: "counter", "Samples refused as older than the persisted boundary.";
    too_far_in_future_rejected: "counter", "Samples refused as later than the clock plus storage.max_future.";
    duplicate_rejected: "counter", "Samples refused for a repeated timestamp with another value.";
    duplicate_ignored: "counter", "Samples ignored for a repeated timestamp with the same value.";
    series_limit_rejected: "counter", "New series refused by the active-series limit.";
    memory_limit_rejected: "counter", "New series refused by the head memory share.";
    out_of_order_accepted: "counter", "Samples accepted inside the out-of-order window.";
    persist_runs: "counter", "Persistence runs completed.";
    persisted_samples: "counter", "Samples moved from the head to persisted parts.";
    persisted_bytes: "counter", "Bytes of part files written (compressed sealed chunks and directories).";
    persisted_boundary_ms: "gauge", "Samples before this timestamp (ms) live in persisted parts.";
    persisted_parts: "gauge", "Persisted parts (one per block window and persistence run).";
    persisted_data_bytes: "gauge", "Bytes on disk of the persisted parts (part files, and chunk groups earlier versions kept in sled).";
    sled_size_bytes: "gauge", "sled's own size on disk (series table, postings, part headers, its overhead).";
    wal_truncations: "counter", "WAL truncations after persistence.";
    retention_deleted_parts: "counter", "Parts deleted by retention.";
    retention_deleted_samples: "counter", "Samples deleted by retention.";
    retention_deleted_bytes: "counter", "Compressed bytes deleted by retention.";
    retention_deleted_series: "counter", "Series forgotten after retention deleted all their data.";
    replayed_samples: "counter", "Samples restored from the WAL at start-up.";
    replay_skipped_samples: "counter", "WAL samples skipped at replay (already persisted or unknown series).";
    replay_chunk_log_samples: "counter", "Samples restored at start-up from the head chunk log instead of the WAL.";
    chunk_log_records_written: "counter", "Sealed head chunks written to the head chunk log.";
    chunk_log_records_dropped: "counter", "Sealed head chunks not written to the head chunk log (queue full or I/O error; the WAL still holds them).";
    chunk_log_write_errors: "counter", "I/O errors writing the head chunk log.";
    chunk_log_size_bytes: "gauge", "Bytes on disk of the head chunk log.";
}

impl Counters {
    pub(crate) fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn set(c: &AtomicU64, n: u64) {
        c.store(n, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_help_type_and_values() {
        let c = Counters::default();
        Counters::add(&c.samples_appended, 7);
        let mut m = c.snapshot();
        m.wal_fsync_micros_sum = 1_500_000;
        let mut w = MetricsWriter::new();
        m.write_prometheus(&mut w);
        let out = w.finish();
        assert!(out.contains("# TYPE lookout_tsdb_samples_appended_total counter\nlookout_tsdb_samples_appended_total 7\n"));
        assert!(
            out.contains("# TYPE lookout_tsdb_head_series gauge\nlookout_tsdb_head_series 0\n")
        );
        assert!(
            out.contains("lookout_tsdb_wal_fsync_seconds_sum 1.5\n"),
            "{out}"
        );
        assert!(
            out.lines()
                .all(|l| l.starts_with('#') || l.split(' ').count() == 2),
            "{out}"
        );
    }
}
