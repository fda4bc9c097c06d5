//! Self-metrics of the remote_write queues, with Prometheus's names and `remote_name`/`url` labels.
//!
//! `prometheus_remote_storage_sent_batch_duration_seconds` is a histogram in Prometheus; here it is written as
//! its `_sum` and `_count` series (counter families; `MetricsWriter` has no histogram or summary type), enough for
//! `rate(_sum) / rate(_count)`. `prometheus_remote_storage_samples_pending` counts samples in memory waiting in the
//! shards *plus* samples in the disk queue not yet read.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};

use lookout_model::{MetricKind, MetricsWriter};

use crate::queue::DiskQueue;

/// Counters of one queue, updated by its tasks.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) samples_sent: AtomicU64,
    pub(crate) samples_failed: AtomicU64,
    pub(crate) samples_retried: AtomicU64,
    pub(crate) dropped_relabel: AtomicU64,
    pub(crate) dropped_too_old: AtomicU64,
    pub(crate) bytes_sent: AtomicU64,
    pub(crate) metadata_sent: AtomicU64,
    pub(crate) metadata_failed: AtomicU64,
    /// Milliseconds; 0 before the first success.
    pub(crate) highest_sent_ms: AtomicI64,
    pub(crate) in_flight: AtomicUsize,
    pub(crate) shards: AtomicUsize,
    pub(crate) shards_desired: AtomicUsize,
    pub(crate) batch_seconds_sum_us: AtomicU64,
    pub(crate) batch_count: AtomicU64,
}

impl Counters {
    pub(crate) fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }
}

/// One queue's identity and live numbers, for rendering.
#[derive(Debug, Clone)]
pub(crate) struct QueueMetrics {
    pub(crate) name: String,
    pub(crate) url: String,
    pub(crate) min_shards: usize,
    pub(crate) max_shards: usize,
    pub(crate) counters: Arc<Counters>,
    pub(crate) queue: Arc<DiskQueue>,
}

/// Renders every queue's families (each family once, one sample per queue).
pub(crate) fn write_metrics(queues: &[QueueMetrics], out: &mut MetricsWriter) {
    if queues.is_empty() {
        return;
    }
    let stats: Vec<_> = queues.iter().map(|q| q.queue.stats()).collect();
    let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
    type Getter<'a> = Box<dyn Fn(usize) -> lookout_model::self_metrics::MetricValue + 'a>;
    let families: Vec<(&str, MetricKind, &str, Getter)> = vec![
        (
            "prometheus_remote_storage_samples_pending",
            MetricKind::Gauge,
            "The number of samples pending in the queues shards to be sent to the remote storage (Lookout: plus the unread disk queue).",
            Box::new(|i| {
                (queues[i].counters.in_flight.load(Ordering::Relaxed) as u64
                    + stats[i].unread_items)
                    .into()
            }),
        ),
        (
            "prometheus_remote_storage_samples_total",
            MetricKind::Counter,
            "Total number of samples sent to remote storage.",
            Box::new(|i| load(&queues[i].counters.samples_sent).into()),
        ),
        (
            "prometheus_remote_storage_samples_failed_total",
            MetricKind::Counter,
            "Total number of samples which failed on send to remote storage, non-recoverable errors.",
            Box::new(|i| load(&queues[i].counters.samples_failed).into()),
        ),
        (
            "prometheus_remote_storage_samples_retried_total",
            MetricKind::Counter,
            "Total number of samples which failed on send to remote storage but were retried because the send error was recoverable.",
            Box::new(|i| load(&queues[i].counters.samples_retried).into()),
        ),
        (
            "prometheus_remote_storage_bytes_total",
            MetricKind::Counter,
            "The total number of bytes of data (not metadata) sent by the queue after compression.",
            Box::new(|i| load(&queues[i].counters.bytes_sent).into()),
        ),
        (
            "prometheus_remote_storage_metadata_total",
            MetricKind::Counter,
            "Total number of metadata entries sent to remote storage.",
            Box::new(|i| load(&queues[i].counters.metadata_sent).into()),
        ),
        (
            "prometheus_remote_storage_metadata_failed_total",
            MetricKind::Counter,
            "Total number of metadata entries which failed on send to remote storage, non-recoverable errors.",
            Box::new(|i| load(&queues[i].counters.metadata_failed).into()),
        ),
        (
            "prometheus_remote_storage_queue_highest_sent_timestamp_seconds",
            MetricKind::Gauge,
            "Timestamp from a sample, the highest timestamp successfully sent by this queue, in seconds since epoch.",
            Box::new(|i| {
                (queues[i].counters.highest_sent_ms.load(Ordering::Relaxed) as f64 / 1000.0).into()
            }),
        ),
        (
            "prometheus_remote_storage_shards",
            MetricKind::Gauge,
            "The number of shards used for parallel sending to the remote storage.",
            Box::new(|i| queues[i].counters.shards.load(Ordering::Relaxed).into()),
        ),
        (
            "prometheus_remote_storage_shards_min",
            MetricKind::Gauge,
            "The minimum number of shards that the queue is allowed to run.",
            Box::new(|i| queues[i].min_shards.into()),
        ),
        (
            "prometheus_remote_storage_shards_max",
            MetricKind::Gauge,
            "The maximum number of shards that the queue is allowed to run.",
            Box::new(|i| queues[i].max_shards.into()),
        ),
        (
            "prometheus_remote_storage_shards_desired",
            MetricKind::Gauge,
            "The number of shards that the queues shard calculation wants to run based on the rate of samples in vs. samples out.",
            Box::new(|i| {
                queues[i]
                    .counters
                    .shards_desired
                    .load(Ordering::Relaxed)
                    .into()
            }),
        ),
        (
            "prometheus_remote_storage_sent_batch_duration_seconds_sum",
            MetricKind::Counter,
            "Total seconds spent sending batches to the remote storage (the histogram's sum).",
            Box::new(|i| (load(&queues[i].counters.batch_seconds_sum_us) as f64 / 1e6).into()),
        ),
        (
            "prometheus_remote_storage_sent_batch_duration_seconds_count",
            MetricKind::Counter,
            "Batches sent to the remote storage (the histogram's count).",
            Box::new(|i| load(&queues[i].counters.batch_count).into()),
        ),
        (
            "lookout_forward_disk_queue_bytes",
            MetricKind::Gauge,
            "Bytes of the forwarding queue's files on disk.",
            Box::new(|i| stats[i].bytes.into()),
        ),
        (
            "lookout_forward_disk_queue_dropped_samples_total",
            MetricKind::Counter,
            "Samples dropped unsent because the forwarding disk queue reached disk_queue.max_size.",
            Box::new(|i| stats[i].dropped_items.into()),
        ),
    ];
    for (name, kind, help, get) in families {
        let mut f = out.family(name, kind, help);
        for (i, q) in queues.iter().enumerate() {
            f.sample(&[("remote_name", &q.name), ("url", &q.url)], get(i));
        }
    }
    let mut f = out.family(
        "prometheus_remote_storage_samples_dropped_total",
        MetricKind::Counter,
        "Total number of samples which were dropped after being read from the queue before being sent via remote write, either via relabelling or due to being too old.",
    );
    for q in queues {
        for (reason, c) in [
            ("dropped_series", &q.counters.dropped_relabel),
            ("too_old", &q.counters.dropped_too_old),
        ] {
            f.sample(
                &[
                    ("reason", reason),
                    ("remote_name", &q.name),
                    ("url", &q.url),
                ],
                load(c),
            );
        }
    }
}
