//! The Loki sender of one endpoint: reads records, fills a batch up to `batch_size` line bytes or `batch_wait`,
//! encodes a `PushRequest`, sends it until taken or refused, then acknowledges the queue.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use lookout_model::Labels;
use lookout_storage::logs::PushStream;
use lookout_wire::loki::{EntryAdapter, LabelPairAdapter, PushRequest, StreamAdapter, Timestamp};
use prost::Message;
use tokio::sync::watch;

use super::LokiCounters;
use crate::client::{Endpoint, Outcome};
use crate::queue::{DiskQueue, Position, QueueReader};
use crate::record::decode_push;

/// Sending settings of one Loki endpoint.
#[derive(Debug, Clone)]
pub(crate) struct LokiParams {
    pub(crate) batch_size: u64,
    pub(crate) batch_wait: Duration,
    pub(crate) min_backoff: Duration,
    pub(crate) max_backoff: Duration,
}

/// Loki's stream selector text, `{a="b", c="d"}`, with Go-style escapes for `\`, `"` and control characters.
pub(crate) fn stream_selector(labels: &Labels) -> String {
    let mut out = String::from("{");
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&l.name);
        out.push_str("=\"");
        for c in l.value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push('}');
    out
}

/// Protobuf + snappy for a batch; streams with the same labels are merged, entries keep their order.
pub(crate) fn encode_push_request(streams: Vec<PushStream>) -> Vec<u8> {
    let mut index: std::collections::HashMap<Labels, usize> = Default::default();
    let mut out: Vec<StreamAdapter> = Vec::new();
    for s in streams {
        let i = *index.entry(s.labels.clone()).or_insert_with(|| {
            out.push(StreamAdapter {
                labels: stream_selector(&s.labels),
                entries: Vec::new(),
                hash: 0,
            });
            out.len() - 1
        });
        out[i].entries.extend(s.entries.into_iter().map(|e| {
            EntryAdapter {
                timestamp: Some(Timestamp {
                    seconds: e.ts.div_euclid(1_000_000_000),
                    nanos: e.ts.rem_euclid(1_000_000_000) as i32,
                }),
                line: e.line,
                structured_metadata: e
                    .metadata
                    .into_iter()
                    .map(|(name, value)| LabelPairAdapter { name, value })
                    .collect(),
                parsed: Vec::new(),
            }
        }));
    }
    lookout_wire::remote_write::snappy_compress(&PushRequest { streams: out }.encode_to_vec())
}

/// The sender task; returns when `stop` fires after sending the batch at hand (or when aborted).
pub(crate) async fn run_loki(
    queue: Arc<DiskQueue>,
    endpoint: Arc<Endpoint>,
    params: LokiParams,
    counters: Arc<LokiCounters>,
    mut stop: watch::Receiver<bool>,
) {
    let mut reader: Option<QueueReader> = Some(queue.reader());
    let mut batch: Vec<PushStream> = Vec::new();
    let mut batch_bytes = 0u64;
    let mut batch_items = 0u64;
    let mut batch_end: Option<Position> = None;
    let mut deadline: Option<tokio::time::Instant> = None;
    let mut stopping = false;
    loop {
        // Read what is there (a few records at a time) until the batch is full.
        if !stopping && batch_bytes < params.batch_size {
            let q = queue.clone();
            let r = reader.take().expect("reader");
            let (r, records) = tokio::task::spawn_blocking(move || {
                let mut r = r;
                let recs = r.read(&q, 1000);
                (r, recs)
            })
            .await
            .expect("reading does not panic");
            reader = Some(r);
            let records = records.unwrap_or_else(|e| {
                tracing::error!(error = %e, "reading the Loki forwarding queue failed");
                Vec::new()
            });
            let got = !records.is_empty();
            for rec in records {
                match decode_push(&rec.payload) {
                    Ok(streams) => {
                        for s in streams {
                            batch_bytes +=
                                s.entries.iter().map(|e| e.line.len() as u64).sum::<u64>();
                            batch.push(s);
                        }
                        batch_items += u64::from(rec.items);
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "undecodable Loki forwarding record; dropping it");
                        counters
                            .failed
                            .fetch_add(u64::from(rec.items), Ordering::Relaxed);
                    }
                }
                batch_end = Some(rec.end);
                if deadline.is_none() {
                    deadline = Some(tokio::time::Instant::now() + params.batch_wait);
                }
            }
            counters.in_batch.store(batch_items, Ordering::Relaxed);
            if got && batch_bytes < params.batch_size {
                continue;
            }
        }
        let due = deadline.is_some_and(|d| d <= tokio::time::Instant::now());
        if batch_end.is_some() && (batch_bytes >= params.batch_size || due || stopping) {
            let items = batch_items;
            if items > 0 {
                let body = {
                    let b = std::mem::take(&mut batch);
                    tokio::task::spawn_blocking(move || encode_push_request(b))
                        .await
                        .expect("encoding does not panic")
                };
                send(&endpoint, body, items, &params, &counters).await;
            }
            batch.clear();
            let end = batch_end.take().expect("checked above");
            let q = queue.clone();
            if let Ok(Err(e)) = tokio::task::spawn_blocking(move || q.ack(end)).await {
                tracing::error!(error = %e, "persisting the Loki forwarding queue position failed");
            }
            batch_bytes = 0;
            batch_items = 0;
            deadline = None;
            counters.in_batch.store(0, Ordering::Relaxed);
            continue;
        }
        if stopping {
            return;
        }
        let wake =
            deadline.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            _ = queue.appended() => {}
            _ = tokio::time::sleep_until(wake) => {}
            r = stop.changed() => { let _ = r; stopping = true; }
        }
    }
}

async fn send(
    endpoint: &Endpoint,
    body: Vec<u8>,
    items: u64,
    params: &LokiParams,
    counters: &LokiCounters,
) {
    let headers = [("Content-Type", "application/x-protobuf")];
    let mut backoff = params.min_backoff;
    let mut attempt = 0;
    loop {
        match endpoint.post(body.clone(), &headers, attempt, true).await {
            Outcome::Sent => {
                counters.sent.fetch_add(items, Ordering::Relaxed);
                return;
            }
            Outcome::Drop { reason } => {
                tracing::error!(url = %endpoint.url(), entries = items, %reason, "Loki refused the batch; dropped");
                counters.failed.fetch_add(items, Ordering::Relaxed);
                return;
            }
            Outcome::Retry { after, reason } => {
                let sleep = after.unwrap_or(backoff);
                tracing::warn!(url = %endpoint.url(), entries = items, attempt, ?sleep, %reason, "failed to push to Loki, retrying");
                counters.retried.fetch_add(items, Ordering::Relaxed);
                tokio::time::sleep(sleep).await;
                backoff = (sleep * 2).min(params.max_backoff).max(params.min_backoff);
                attempt += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_escapes() {
        let l = Labels::from_pairs(&[("a", "x\"y\\z\n"), ("job", "j")]).unwrap();
        assert_eq!(stream_selector(&l), r#"{a="x\"y\\z\n", job="j"}"#);
    }
}
