//! One sending shard: batches the samples routed to it (by series hash, so a series' samples stay in order) up to
//! `max_samples_per_send` or `batch_send_deadline`, encodes 1.0 or 2.0 with snappy, and sends with retries.
//! Each finished batch (sent or dropped) is reported per queue record so the reader can acknowledge.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use lookout_model::{Labels, Sample};
use lookout_wire::remote_write::{
    CONTENT_ENCODING_SNAPPY, CONTENT_TYPE_V1, CONTENT_TYPE_V2, VERSION_HEADER, VERSION_V1,
    VERSION_V2, WriteSeries, encode_write_request, encode_write_request_v2,
};
use tokio::sync::mpsc;

use super::metrics::Counters;
use super::{MetadataSnapshot, SendParams};
use crate::client::{Endpoint, Outcome};
use crate::config::ProtobufMessage;

/// Samples of one series from one queue record.
#[derive(Debug)]
pub(crate) struct ShardItem {
    pub(crate) labels: Labels,
    pub(crate) samples: Vec<Sample>,
    pub(crate) record: u64,
}

/// Samples finished (sent or dropped) per record id.
pub(crate) type Done = Vec<(u64, usize)>;

/// Runs until `rx` closes, then flushes what it holds and returns.
pub(crate) async fn run_shard(
    mut rx: mpsc::Receiver<ShardItem>,
    done: mpsc::Sender<Done>,
    endpoint: Arc<Endpoint>,
    params: Arc<SendParams>,
    counters: Arc<Counters>,
    metadata: MetadataSnapshot,
) {
    let mut pending: VecDeque<(Labels, Sample, u64)> = VecDeque::new();
    let mut deadline: Option<tokio::time::Instant> = None;
    let mut open = true;
    while open || !pending.is_empty() {
        let full = pending.len() >= params.max_samples_per_send;
        let due = deadline.is_some_and(|d| d <= tokio::time::Instant::now());
        if full || due || (!open && !pending.is_empty()) {
            let n = pending.len().min(params.max_samples_per_send);
            let batch: Vec<_> = pending.drain(..n).collect();
            deadline = (!pending.is_empty())
                .then(|| tokio::time::Instant::now() + params.batch_send_deadline);
            let finished = send_batch(batch, &endpoint, &params, &counters, &metadata).await;
            if done.send(finished).await.is_err() {
                return;
            }
            continue;
        }
        let sleep_until =
            deadline.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            item = rx.recv() => match item {
                Some(item) => {
                    if pending.is_empty() {
                        deadline = Some(tokio::time::Instant::now() + params.batch_send_deadline);
                    }
                    for s in item.samples {
                        pending.push_back((item.labels.clone(), s, item.record));
                    }
                }
                None => open = false,
            },
            _ = tokio::time::sleep_until(sleep_until) => {}
        }
    }
}

/// Groups a batch by series (keeping each series' order), encodes it and sends it until it is taken or dropped.
async fn send_batch(
    batch: Vec<(Labels, Sample, u64)>,
    endpoint: &Endpoint,
    params: &SendParams,
    counters: &Counters,
    metadata: &MetadataSnapshot,
) -> Done {
    let n = batch.len();
    let mut per_record: Vec<(u64, usize)> = Vec::new();
    for (_, _, r) in &batch {
        match per_record.last_mut() {
            Some((last, c)) if last == r => *c += 1,
            _ => per_record.push((*r, 1)),
        }
    }
    let highest = batch.iter().map(|(_, s, _)| s.t).max().unwrap_or(0);
    let version = params.protobuf_message;
    let meta = metadata.read().clone();
    let body = tokio::task::spawn_blocking(move || encode(batch, version, &meta))
        .await
        .expect("encoding does not panic");
    let (content_type, version_value) = match version {
        ProtobufMessage::V1 => (CONTENT_TYPE_V1, VERSION_V1),
        ProtobufMessage::V2 => (CONTENT_TYPE_V2, VERSION_V2),
    };
    let headers = [
        ("Content-Type", content_type),
        ("Content-Encoding", CONTENT_ENCODING_SNAPPY),
        (VERSION_HEADER, version_value),
    ];
    let bytes = body.len() as u64;
    let mut backoff = params.min_backoff;
    let mut attempt = 0u32;
    loop {
        let started = Instant::now();
        let outcome = endpoint
            .post(body.clone(), &headers, attempt, params.retry_on_http_429)
            .await;
        Counters::add(
            &counters.batch_seconds_sum_us,
            started.elapsed().as_micros() as u64,
        );
        Counters::add(&counters.batch_count, 1);
        match outcome {
            Outcome::Sent => {
                Counters::add(&counters.samples_sent, n as u64);
                Counters::add(&counters.bytes_sent, bytes);
                counters
                    .highest_sent_ms
                    .fetch_max(highest, Ordering::Relaxed);
                params.last_send_ok.store(true, Ordering::Relaxed);
                return per_record;
            }
            Outcome::Drop { reason } => {
                tracing::error!(url = %endpoint.url(), samples = n, %reason, "non-recoverable error; dropping the batch");
                Counters::add(&counters.samples_failed, n as u64);
                return per_record;
            }
            Outcome::Retry { after, reason } => {
                params.last_send_ok.store(false, Ordering::Relaxed);
                let sleep = after.unwrap_or(backoff);
                tracing::warn!(url = %endpoint.url(), samples = n, attempt, ?sleep, %reason, "failed to send batch, retrying");
                Counters::add(&counters.samples_retried, n as u64);
                tokio::time::sleep(sleep).await;
                backoff = (sleep * 2).min(params.max_backoff).max(params.min_backoff);
                attempt += 1;
            }
        }
    }
}

/// Protobuf + snappy for a batch.
fn encode(
    batch: Vec<(Labels, Sample, u64)>,
    version: ProtobufMessage,
    metadata: &HashMap<String, lookout_wire::MetricMetadata>,
) -> Vec<u8> {
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut series: Vec<WriteSeries> = Vec::new();
    for (labels, s, _) in batch {
        let i = *index.entry(labels.clone()).or_insert_with(|| {
            series.push(WriteSeries {
                labels,
                samples: Vec::new(),
                exemplars: 0,
                histograms: 0,
            });
            series.len() - 1
        });
        series[i].samples.push(s);
    }
    match version {
        ProtobufMessage::V1 => encode_write_request(&series, &[]),
        ProtobufMessage::V2 => {
            let mut seen = std::collections::HashSet::new();
            let meta: Vec<_> = series
                .iter()
                .filter_map(|s| s.labels.metric_name())
                .filter(|n| seen.insert(*n))
                .filter_map(|n| metadata.get(n).cloned())
                .collect();
            encode_write_request_v2(&series, &meta)
        }
    }
}
