//! Wiring of the `logs:` section: the log store under `<data>/logs`, sized from the budget's `logs` share, and
//! its self-metrics.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use lookout_api::SelfMetrics;
use lookout_logs::{LogLimits, LogStore, LogStoreOptions};
use lookout_model::{MetricKind, MetricsWriter};

use crate::config::LogsSection;

/// Opens the log store (blocking: it replays its WAL).
pub fn open(
    section: &LogsSection,
    data_dir: &Path,
    share: u64,
) -> Result<LogStore, lookout_logs::StoreError> {
    let mut opts = LogStoreOptions::new(data_dir.join("logs"));
    // tantivy may use up to twice its writer budget (style.md §5), so the writer gets half the share.
    opts.writer_heap_bytes = (share / 2) as usize;
    opts.limits = LogLimits {
        max_line_bytes: section.max_line_size.0 as usize,
        max_labels_per_stream: section.max_labels_per_stream,
        max_streams: section.max_streams,
    };
    opts.out_of_order_window_ns = section.out_of_order_window.as_millis() as i64 * 1_000_000;
    LogStore::open(opts)
}

/// `lookout_logs_*` self-metrics.
pub struct LogMetrics(pub Arc<LogStore>);

impl SelfMetrics for LogMetrics {
    fn write_metrics(&self, out: &mut MetricsWriter) {
        let c = self.0.counters();
        out.counter(
            "lookout_logs_entries_total",
            "Log entries accepted.",
            c.entries.load(Ordering::Relaxed),
        );
        out.counter(
            "lookout_logs_bytes_total",
            "Log line bytes accepted.",
            c.bytes.load(Ordering::Relaxed),
        );
        let mut refused = out.family(
            "lookout_logs_refused_total",
            MetricKind::Counter,
            "Pushes refused by a limit, by limit.",
        );
        for (reason, n) in c.refused.lock().iter() {
            refused.sample(&[("limit", reason)], *n);
        }
        out.counter(
            "lookout_logs_index_commits_total",
            "Commits of the log index.",
            c.commits.load(Ordering::Relaxed),
        );
        let (streams, docs, segments, wal_bytes, pending) = self.0.stats();
        out.gauge("lookout_logs_streams", "Log streams held.", streams as u64);
        out.gauge(
            "lookout_logs_index_documents",
            "Log entries in the committed index.",
            docs,
        );
        out.gauge(
            "lookout_logs_index_segments",
            "Segments of the log index (a pile-up means merges fall behind).",
            segments as u64,
        );
        out.gauge("lookout_logs_wal_bytes", "Bytes in the log WAL.", wal_bytes);
        out.gauge(
            "lookout_logs_uncommitted_entries",
            "Entries awaiting the next index commit (served from memory).",
            pending as u64,
        );
    }
}
