//! Loki push out: [`ForwardingLogSink`] writes through to an optional inner log store and appends every push to
//! the Loki disk queues; a sender per endpoint posts the queued entries as snappy-compressed protobuf
//! `PushRequest`s (`Content-Type: application/x-protobuf`, no `Content-Encoding`, as Alloy's `loki.write` sends).
//!
//! Retries: 5xx, 429 (Loki's rate limit) and connection errors are retried with exponential backoff
//! (`min_backoff`..`max_backoff`, honouring `Retry-After`) without a retry limit, since the disk queue holds what
//! waits; other 4xx (400: bad entries, too old, line too long) drop the batch and count its entries as failed.
//! One batch is in flight per endpoint, so entries of a stream arrive in order.

mod sender;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use lookout_model::{MetricKind, MetricsWriter};
use lookout_storage::logs::{ColumnPush, LogPushError, LogSink, PushStream};

use crate::queue::DiskQueue;
use crate::record::encode_push;

pub(crate) use sender::{LokiParams, run_loki};

/// See the module docs.
pub struct ForwardingLogSink {
    inner: Option<Arc<dyn LogSink>>,
    queues: Vec<Arc<DiskQueue>>,
}

impl std::fmt::Debug for ForwardingLogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForwardingLogSink")
            .field("inner", &self.inner.is_some())
            .field("queues", &self.queues.len())
            .finish()
    }
}

impl ForwardingLogSink {
    /// Wraps `inner` (or nothing, in agent mode) and forwards every accepted push to `queues`.
    pub fn new(inner: Option<Arc<dyn LogSink>>, queues: Vec<Arc<DiskQueue>>) -> Self {
        ForwardingLogSink { inner, queues }
    }
}

impl LogSink for ForwardingLogSink {
    /// Stores in the inner sink first (its refusal refuses the push), then appends one record per queue before
    /// answering; a queue write failure answers [`LogPushError::Store`] (the client retries).
    fn push(&self, push: Vec<PushStream>) -> Result<usize, LogPushError> {
        let entries: usize = push.iter().map(|s| s.entries.len()).sum();
        let payload = (!self.queues.is_empty() && entries > 0).then(|| encode_push(&push));
        let stored = match &self.inner {
            Some(sink) => sink.push(push)?,
            None => entries,
        };
        if let Some(payload) = payload {
            let items = u32::try_from(entries).unwrap_or(u32::MAX);
            for q in &self.queues {
                q.append(items, &payload)
                    .map_err(|e| LogPushError::Store(e.to_string()))?;
            }
        }
        Ok(stored)
    }

    /// As [`push`](LogSink::push); the inner store takes the columns as they are, and only a push that is
    /// forwarded is made into entries for the queues' records.
    fn push_columns(&self, push: ColumnPush) -> Result<usize, LogPushError> {
        if !self.queues.is_empty() {
            return self.push(push.to_push_streams());
        }
        match &self.inner {
            Some(sink) => sink.push_columns(push),
            None => Ok(push.entries.len()),
        }
    }
}

/// Counters of one Loki endpoint.
#[derive(Debug, Default)]
pub(crate) struct LokiCounters {
    pub(crate) sent: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) retried: AtomicU64,
    pub(crate) in_batch: AtomicU64,
}

/// One endpoint's identity and numbers, for rendering.
#[derive(Debug, Clone)]
pub(crate) struct LokiMetrics {
    pub(crate) name: String,
    pub(crate) url: String,
    pub(crate) counters: Arc<LokiCounters>,
    pub(crate) queue: Arc<DiskQueue>,
}

/// Renders the Loki forwarding families.
pub(crate) fn write_loki_metrics(list: &[LokiMetrics], out: &mut MetricsWriter) {
    if list.is_empty() {
        return;
    }
    let stats: Vec<_> = list.iter().map(|m| m.queue.stats()).collect();
    let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
    type Row<'a> = (&'a str, MetricKind, &'a str, &'a dyn Fn(usize) -> u64);
    let rows: [Row; 6] = [
        (
            "lookout_loki_forward_entries_total",
            MetricKind::Counter,
            "Log entries accepted by the Loki endpoint.",
            &|i| load(&list[i].counters.sent),
        ),
        (
            "lookout_loki_forward_failed_total",
            MetricKind::Counter,
            "Log entries the Loki endpoint refused with a non-retryable error (dropped).",
            &|i| load(&list[i].counters.failed),
        ),
        (
            "lookout_loki_forward_retried_total",
            MetricKind::Counter,
            "Log entries whose send failed with a retryable error and was retried.",
            &|i| load(&list[i].counters.retried),
        ),
        (
            "lookout_loki_forward_dropped_total",
            MetricKind::Counter,
            "Log entries dropped unsent because the disk queue reached disk_queue.max_size.",
            &|i| stats[i].dropped_items,
        ),
        (
            "lookout_loki_forward_pending",
            MetricKind::Gauge,
            "Log entries waiting: in the batch being sent plus unread in the disk queue.",
            &|i| load(&list[i].counters.in_batch) + stats[i].unread_items,
        ),
        (
            "lookout_loki_forward_disk_queue_bytes",
            MetricKind::Gauge,
            "Bytes of the Loki forwarding queue's files on disk.",
            &|i| stats[i].bytes,
        ),
    ];
    for (name, kind, help, get) in rows {
        let mut f = out.family(name, kind, help);
        for (i, m) in list.iter().enumerate() {
            f.sample(&[("remote_name", &m.name), ("url", &m.url)], get(i));
        }
    }
}
