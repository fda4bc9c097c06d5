//! Wiring of the `logs:` section: the log store under `<data>/logs`, sized from the budget's `logs` share, and
//! its self-metrics; and of the `host_logs:` section: the journal, syslog and file sources pushing into it.

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
    // tantivy may use up to twice its writer budget (style.md §5), so the writer gets a third of the share (never
    // below tantivy's minimum; the budget's floor for the log store covers that).
    opts.writer_heap_bytes = ((share / 3) as usize).max(lookout_logs::MIN_WRITER_HEAP);
    // Entries awaiting their commit: a quarter of the share (at least 8 MiB); past it pushes get 429 and retry.
    opts.max_uncommitted_bytes = (share / 4).max(8 << 20);
    opts.limits = LogLimits {
        max_line_bytes: section.max_line_size.0 as usize,
        max_labels_per_stream: section.max_labels_per_stream,
        max_streams: section.max_streams,
        ingestion_rate_bytes: section.ingestion_rate.0,
        ingestion_burst_bytes: section.ingestion_burst.0,
        per_stream_rate_bytes: section.per_stream_rate.0,
        per_stream_burst_bytes: section.per_stream_burst.0,
    };
    opts.out_of_order_window_ns = section.out_of_order_window.as_millis() as i64 * 1_000_000;
    opts.retention_period = section.retention_period.as_duration();
    opts.retention_size = section.retention_size.0;
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
        out.counter(
            "lookout_logs_retention_deleted_partitions_total",
            "Log index partitions (whole days) deleted by retention.",
            c.retention_deleted_partitions.load(Ordering::Relaxed),
        );
        out.counter(
            "lookout_logs_partitions_searched_total",
            "Log index partitions searched by queries (only those overlapping a query's range).",
            c.partitions_searched.load(Ordering::Relaxed),
        );
        out.counter(
            "lookout_logs_blocks_read_total",
            "Log block documents decompressed by queries (those the index and the time range left as candidates).",
            c.blocks_read.load(Ordering::Relaxed),
        );
        let s = self.0.stats();
        out.gauge(
            "lookout_logs_streams",
            "Log streams held.",
            s.streams as u64,
        );
        out.gauge(
            "lookout_logs_index_documents",
            "Block documents in the committed log index (each up to 512 entries or 64 KiB of lines of one stream).",
            s.documents,
        );
        out.gauge(
            "lookout_logs_index_entries",
            "Log entries in the committed index.",
            s.entries,
        );
        out.gauge(
            "lookout_logs_index_segments",
            "Segments of the log index, all partitions (a pile-up means merges fall behind).",
            s.segments as u64,
        );
        out.gauge(
            "lookout_logs_partitions",
            "Time partitions of the log index (one per day by default).",
            s.partitions as u64,
        );
        out.gauge(
            "lookout_logs_index_writers",
            "Open log index writers (partitions receiving entries).",
            s.writers as u64,
        );
        out.gauge(
            "lookout_logs_wal_bytes",
            "Bytes in the log WAL.",
            s.wal_bytes,
        );
        out.gauge(
            "lookout_logs_disk_bytes",
            "Bytes of the log store on disk: partitions, WAL and streams file (what retention_size counts).",
            s.disk_bytes,
        );
        out.gauge(
            "lookout_logs_uncommitted_entries",
            "Entries awaiting the next index commit (served from memory).",
            s.uncommitted as u64,
        );
        out.gauge(
            "lookout_logs_uncommitted_bytes",
            "Bytes of the entries awaiting an index commit (pushes get 429 past the limit).",
            s.uncommitted_bytes,
        );
    }
}

/// Pod log labels from the Kubernetes watch of this node's pods.
struct PodLabelsFromWatch(lookout_discovery::pod_labels::PodLabels);

impl lookout_hostlogs::PodMetadata for PodLabelsFromWatch {
    fn labels(
        &self,
        namespace: &str,
        pod: &str,
        _uid: &str,
    ) -> Option<std::collections::BTreeMap<String, String>> {
        // By namespace and name: a static pod's directory carries its config hash, not the API object's uid.
        self.0.labels(namespace, pod)
    }
}

/// The running host log sources (`host_logs:`); their settings take effect at start.
pub struct HostLogsWiring(tokio::sync::Mutex<Option<lookout_hostlogs::HostLogs>>);

impl HostLogsWiring {
    /// Starts the configured sources (inside the runtime): listeners bind now, so a taken port fails the start.
    pub fn start(
        config: lookout_hostlogs::HostLogsConfig,
        state_dir: &Path,
        sink: Arc<dyn lookout_storage::logs::LogSink>,
        pods: Option<lookout_discovery::pod_labels::PodLabels>,
    ) -> anyhow::Result<Self> {
        let pods =
            pods.map(|p| Arc::new(PodLabelsFromWatch(p)) as Arc<dyn lookout_hostlogs::PodMetadata>);
        let sink: Arc<dyn lookout_storage::logs::LogSink> = Arc::new(DerivedFields(sink));
        let running =
            lookout_hostlogs::HostLogs::start_with_pod_metadata(config, state_dir, sink, pods)
                .map_err(|e| anyhow::anyhow!("host_logs: {e}"))?;
        Ok(HostLogsWiring(tokio::sync::Mutex::new(Some(running))))
    }

    /// Stops every source after its last push.
    pub async fn shutdown(&self) {
        let running = self.0.lock().await.take();
        if let Some(r) = running {
            r.shutdown().await;
        }
    }
}

impl SelfMetrics for HostLogsWiring {
    fn write_metrics(&self, out: &mut MetricsWriter) {
        if let Ok(guard) = self.0.try_lock()
            && let Some(r) = guard.as_ref()
        {
            r.write_metrics(out);
        }
    }
}

/// The log store read as it is and written through another sink (the forwarding sink that stores, then queues
/// for Loki push out): what the Loki API serves when `loki_write` is configured.
pub struct ForwardedLogs {
    /// Reads.
    pub store: Arc<LogStore>,
    /// Writes (the store first, then the forwarding queues).
    pub sink: Arc<dyn lookout_storage::logs::LogSink>,
}

impl lookout_storage::logs::LogSource for ForwardedLogs {
    fn scan(
        &self,
        q: &lookout_storage::logs::LogQuery,
        visit: &mut dyn FnMut(&lookout_model::Labels, &lookout_storage::logs::Entry) -> bool,
    ) -> Result<lookout_storage::logs::ScanStats, lookout_storage::logs::LogSourceError> {
        self.store.scan(q, visit)
    }

    fn label_names(
        &self,
        matchers: &[lookout_model::Matcher],
        start: i64,
        end: i64,
    ) -> Vec<String> {
        self.store.label_names(matchers, start, end)
    }

    fn label_values(
        &self,
        name: &str,
        matchers: &[lookout_model::Matcher],
        start: i64,
        end: i64,
    ) -> Vec<String> {
        self.store.label_values(name, matchers, start, end)
    }

    fn series(
        &self,
        matchers: &[lookout_model::Matcher],
        start: i64,
        end: i64,
    ) -> Vec<lookout_model::Labels> {
        self.store.series(matchers, start, end)
    }

    fn volume(
        &self,
        matchers: &[lookout_model::Matcher],
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<lookout_storage::logs::StreamVolume>, lookout_storage::logs::LogSourceError>
    {
        self.store.volume(matchers, start, end, step)
    }
}

impl lookout_storage::logs::LogSink for ForwardedLogs {
    fn push(
        &self,
        push: Vec<lookout_storage::logs::PushStream>,
    ) -> Result<usize, lookout_storage::logs::LogPushError> {
        self.sink.push(push)
    }

    fn push_columns(
        &self,
        push: lookout_storage::logs::ColumnPush,
    ) -> Result<usize, lookout_storage::logs::LogPushError> {
        self.sink.push_columns(push)
    }
}

/// A sink that derives `service_name` (a stream label) and `detected_level` (structured metadata) the way Loki 3
/// derives them for every push, as the push API does, so host-log entries colour the volume by level and group by
/// service like pushed ones.
struct DerivedFields(Arc<dyn lookout_storage::logs::LogSink>);

impl lookout_storage::logs::LogSink for DerivedFields {
    fn push(
        &self,
        mut push: Vec<lookout_storage::logs::PushStream>,
    ) -> Result<usize, lookout_storage::logs::LogPushError> {
        lookout_logql::ingest::add_derived_fields(&mut push);
        self.0.push(push)
    }
}
