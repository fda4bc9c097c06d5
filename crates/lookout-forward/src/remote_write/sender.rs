//! The reader task (queue → relabel → shards → acknowledgement, plus resharding) and the metadata task.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lookout_model::Labels;
use lookout_model::relabel::relabel;
use lookout_wire::remote_write::{
    CONTENT_ENCODING_SNAPPY, CONTENT_TYPE_V1, VERSION_HEADER, VERSION_V1, encode_write_request,
};
use tokio::sync::{mpsc, watch};

use super::shard::{Done, ShardItem, run_shard};
use super::{Counters, MetadataSnapshot, MetadataSource, SendParams};
use crate::client::{Endpoint, Outcome};
use crate::config::ProtobufMessage;
use crate::queue::{DiskQueue, Position, QueueReader};
use crate::record::{SeriesSamples, decode_samples};

/// How often the desired shard count is computed.
const SHARD_UPDATE_INTERVAL: Duration = Duration::from_secs(10);
/// Relabel results cached per label set, cleared beyond this many.
const RELABEL_CACHE_MAX: usize = 100_000;

/// Everything a reader task works with.
pub(crate) struct ReaderCtx {
    pub(crate) queue: Arc<DiskQueue>,
    pub(crate) endpoint: Arc<Endpoint>,
    pub(crate) params: Arc<SendParams>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) metadata: MetadataSnapshot,
}

/// The running shards; dropping this aborts their tasks (the reader being aborted takes them along).
struct Shards {
    senders: Vec<mpsc::Sender<ShardItem>>,
    _tasks: tokio::task::JoinSet<()>,
}

impl Shards {
    fn start(n: usize, ctx: &ReaderCtx, done: &mpsc::Sender<Done>) -> Shards {
        let mut tasks = tokio::task::JoinSet::new();
        let slots = channel_slots(&ctx.params);
        let senders = (0..n)
            .map(|_| {
                let (tx, rx) = mpsc::channel(slots);
                tasks.spawn(run_shard(
                    rx,
                    done.clone(),
                    ctx.endpoint.clone(),
                    ctx.params.clone(),
                    ctx.counters.clone(),
                    ctx.metadata.clone(),
                ));
                tx
            })
            .collect();
        ctx.counters.shards.store(n, Ordering::Relaxed);
        Shards {
            senders,
            _tasks: tasks,
        }
    }
}

/// Slots of the shard and completion channels: the reader reads only while fewer than `capacity` samples per shard
/// are in flight, every item carries at least one sample and every completion at least one, so no channel ever
/// holds more than the largest in-flight budget. The bound makes that a guarantee rather than an accounting.
fn channel_slots(params: &SendParams) -> usize {
    params
        .capacity
        .saturating_mul(params.max_shards.max(params.min_shards).max(1))
        .max(1)
}

/// What the shard calculation looks at, over the last interval.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShardInputs {
    /// Samples appended to the queue per second.
    pub(crate) in_rate: f64,
    /// Samples sent (or dropped by the receiver).
    pub(crate) out_samples: u64,
    /// Seconds spent sending, summed over shards.
    pub(crate) busy_seconds: f64,
    /// Samples waiting (in memory and unread on disk).
    pub(crate) pending: u64,
    /// The last send succeeded.
    pub(crate) sending_ok: bool,
}

/// Prometheus's shard calculation, simplified (see the module docs): the shards needed to send `in_rate`
/// samples/s plus 5 % of the backlog per second, given the send time per sample; `current` when within ±30 %.
pub(crate) fn desired_shards(current: usize, min: usize, max: usize, x: ShardInputs) -> usize {
    if x.out_samples == 0 {
        return current.clamp(min, max);
    }
    let time_per_sample = x.busy_seconds / x.out_samples as f64;
    let want = time_per_sample * (x.in_rate + 0.05 * x.pending as f64);
    let lo = current as f64 * 0.7;
    let hi = current as f64 * 1.3;
    let mut desired = if want > lo && want < hi {
        current
    } else {
        want.ceil() as usize
    };
    if !x.sending_ok && desired > current {
        desired = current;
    }
    desired.clamp(min, max)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

type ReadBatch = Vec<(Position, u32, Option<Vec<SeriesSamples>>)>;

/// Reads up to `max` items and decodes them, off the async threads.
async fn read_some(
    queue: &Arc<DiskQueue>,
    reader: QueueReader,
    max: usize,
) -> (QueueReader, ReadBatch) {
    let q = queue.clone();
    tokio::task::spawn_blocking(move || {
        let mut reader = reader;
        let records = match reader.read(&q, max) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "reading the forwarding queue failed");
                Vec::new()
            }
        };
        let out = records
            .into_iter()
            .map(|r| {
                let series = match decode_samples(&r.payload) {
                    Ok(s) => Some(s),
                    Err(e) => {
                        tracing::error!(error = %e, "undecodable forwarding record; dropping it");
                        None
                    }
                };
                (r.end, r.items, series)
            })
            .collect();
        (reader, out)
    })
    .await
    .expect("reading does not panic")
}

/// The reader task; returns when `stop` fires and the in-flight samples were sent (or the task is aborted).
pub(crate) async fn run_reader(ctx: ReaderCtx, mut stop: watch::Receiver<bool>) {
    let params = ctx.params.clone();
    let counters = ctx.counters.clone();
    let (done_tx, mut done_rx) = mpsc::channel::<Done>(channel_slots(&params));
    let mut shards = Shards::start(params.min_shards, &ctx, &done_tx);
    counters
        .shards_desired
        .store(params.min_shards, Ordering::Relaxed);
    let mut reader = Some(ctx.queue.reader());
    let mut tracker: BTreeMap<u64, (Position, usize)> = BTreeMap::new();
    let mut next_record = 0u64;
    let mut in_flight = 0usize;
    let mut relabel_cache: rustc_hash::FxHashMap<Labels, Option<Labels>> = Default::default();
    let mut resharding: Option<usize> = None;
    let mut stopping = false;
    let mut tick = tokio::time::interval(SHARD_UPDATE_INTERVAL);
    tick.tick().await;
    let mut last = (
        ctx.queue.stats().appended_items,
        0u64,
        0u64,
        tokio::time::Instant::now(),
    );
    loop {
        while let Ok(d) = done_rx.try_recv() {
            finish(&mut tracker, &mut in_flight, d);
        }
        let mut acked = None;
        while let Some(e) = tracker.first_entry() {
            if e.get().1 > 0 {
                break;
            }
            acked = Some(e.remove().0);
        }
        if let Some(pos) = acked {
            let q = ctx.queue.clone();
            let res = tokio::task::spawn_blocking(move || q.ack(pos)).await;
            if let Ok(Err(e)) = res {
                tracing::error!(error = %e, "persisting the forwarding queue position failed");
            }
        }
        counters.in_flight.store(in_flight, Ordering::Relaxed);
        if in_flight == 0 && tracker.is_empty() {
            if stopping {
                return;
            }
            if let Some(n) = resharding.take() {
                tracing::info!(url = %ctx.endpoint.url(), from = shards.senders.len(), to = n, "resharding");
                shards = Shards::start(n, &ctx, &done_tx);
            }
        }
        let budget = (params.capacity * shards.senders.len().max(1)).saturating_sub(in_flight);
        let can_read = !stopping && resharding.is_none() && budget > 0;
        if can_read {
            let (r, batch) = read_some(&ctx.queue, reader.take().expect("reader"), budget).await;
            reader = Some(r);
            if !batch.is_empty() {
                for (end, items, series) in batch {
                    let id = next_record;
                    next_record += 1;
                    let count = match series {
                        Some(series) => {
                            dispatch(series, id, &shards, &params, &counters, &mut relabel_cache)
                        }
                        None => {
                            Counters::add(&counters.samples_failed, u64::from(items));
                            0
                        }
                    };
                    in_flight += count;
                    tracker.insert(id, (end, count));
                }
                continue;
            }
        }
        tokio::select! {
            d = done_rx.recv() => {
                if let Some(d) = d {
                    finish(&mut tracker, &mut in_flight, d);
                }
            }
            _ = ctx.queue.appended(), if can_read => {}
            r = stop.changed(), if !stopping => {
                let _ = r;
                stopping = true;
                // Closing the channels makes every shard flush what it holds and exit.
                shards.senders.clear();
            }
            _ = tick.tick() => {
                let now = tokio::time::Instant::now();
                let secs = now.duration_since(last.3).as_secs_f64().max(0.001);
                let appended = ctx.queue.stats().appended_items;
                let out = counters.samples_sent.load(Ordering::Relaxed)
                    + counters.samples_failed.load(Ordering::Relaxed);
                let busy = counters.batch_seconds_sum_us.load(Ordering::Relaxed);
                let pending = in_flight as u64 + ctx.queue.stats().unread_items;
                let desired = desired_shards(
                    shards.senders.len(),
                    params.min_shards,
                    params.max_shards,
                    ShardInputs {
                        in_rate: appended.saturating_sub(last.0) as f64 / secs,
                        out_samples: out.saturating_sub(last.1),
                        busy_seconds: busy.saturating_sub(last.2) as f64 / 1e6,
                        pending,
                        sending_ok: params.last_send_ok.load(Ordering::Relaxed),
                    },
                );
                last = (appended, out, busy, now);
                counters.shards_desired.store(desired, Ordering::Relaxed);
                if desired != shards.senders.len() && !stopping {
                    resharding = Some(desired);
                }
            }
        }
    }
}

fn finish(tracker: &mut BTreeMap<u64, (Position, usize)>, in_flight: &mut usize, done: Done) {
    for (id, n) in done {
        if let Some(e) = tracker.get_mut(&id) {
            e.1 = e.1.saturating_sub(n);
        }
        *in_flight = in_flight.saturating_sub(n);
    }
}

/// Relabels, age-filters and routes one record's series; returns the samples dispatched.
fn dispatch(
    series: Vec<SeriesSamples>,
    record: u64,
    shards: &Shards,
    params: &SendParams,
    counters: &Counters,
    cache: &mut rustc_hash::FxHashMap<Labels, Option<Labels>>,
) -> usize {
    let min_t = params
        .sample_age_limit
        .map(|l| now_ms() - l.as_millis() as i64);
    let mut count = 0;
    for s in series {
        let labels = if params.relabel.is_empty() {
            Some(s.labels)
        } else {
            if cache.len() >= RELABEL_CACHE_MAX {
                cache.clear();
            }
            cache
                .entry(s.labels)
                .or_insert_with_key(|l| relabel(l, &params.relabel).filter(|r| !r.is_empty()))
                .clone()
        };
        let Some(labels) = labels else {
            Counters::add(&counters.dropped_relabel, s.samples.len() as u64);
            continue;
        };
        let mut samples = s.samples;
        if let Some(min_t) = min_t {
            let before = samples.len();
            samples.retain(|x| x.t >= min_t);
            Counters::add(&counters.dropped_too_old, (before - samples.len()) as u64);
        }
        if samples.is_empty() {
            continue;
        }
        let i = (labels.hash64() % shards.senders.len() as u64) as usize;
        let n = samples.len();
        match shards.senders[i].try_send(ShardItem {
            labels,
            samples,
            record,
        }) {
            Ok(()) => count += n,
            Err(mpsc::error::TrySendError::Full(_)) => {
                // Cannot happen while the in-flight budget holds (see `channel_slots`); never wait on it here.
                tracing::error!(
                    shard = i,
                    samples = n,
                    "forwarding shard channel full; dropping samples"
                );
                Counters::add(&counters.samples_failed, n as u64);
            }
            // The shards are being replaced; the item would never complete.
            Err(mpsc::error::TrySendError::Closed(_)) => {
                Counters::add(&counters.samples_failed, n as u64);
            }
        }
    }
    count
}

/// The metadata task: refreshes the snapshot the 2.0 encoder attaches, and (1.0) sends metadata-only requests,
/// every `metadata_config.send_interval`.
pub(crate) async fn run_metadata(
    source: Arc<dyn MetadataSource>,
    endpoint: Arc<Endpoint>,
    params: Arc<SendParams>,
    counters: Arc<Counters>,
    snapshot: MetadataSnapshot,
) {
    let mut tick = tokio::time::interval(params.metadata_interval);
    loop {
        tick.tick().await;
        let src = source.clone();
        let Ok(list) = tokio::task::spawn_blocking(move || src.metadata()).await else {
            continue;
        };
        let map: HashMap<_, _> = list.iter().map(|m| (m.family.clone(), m.clone())).collect();
        *snapshot.write() = Arc::new(map);
        if params.protobuf_message != ProtobufMessage::V1 {
            continue;
        }
        for chunk in list.chunks(params.metadata_max_per_send) {
            let n = chunk.len() as u64;
            let body = encode_write_request(&[], chunk);
            let headers = [
                ("Content-Type", CONTENT_TYPE_V1),
                ("Content-Encoding", CONTENT_ENCODING_SNAPPY),
                (VERSION_HEADER, VERSION_V1),
            ];
            let mut backoff = params.min_backoff;
            let mut attempt = 0;
            loop {
                match endpoint
                    .post(body.clone(), &headers, attempt, params.retry_on_http_429)
                    .await
                {
                    Outcome::Sent => {
                        Counters::add(&counters.metadata_sent, n);
                        break;
                    }
                    Outcome::Drop { reason } => {
                        tracing::error!(url = %endpoint.url(), %reason, "non-recoverable error sending metadata; dropped");
                        Counters::add(&counters.metadata_failed, n);
                        break;
                    }
                    Outcome::Retry { after, reason } => {
                        let sleep = after.unwrap_or(backoff);
                        tracing::warn!(url = %endpoint.url(), %reason, "failed to send metadata, retrying");
                        tokio::time::sleep(sleep).await;
                        backoff = (sleep * 2).min(params.max_backoff).max(params.min_backoff);
                        attempt += 1;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ShardInputs, desired_shards};

    fn inputs(
        in_rate: f64,
        out_samples: u64,
        busy_seconds: f64,
        pending: u64,
        sending_ok: bool,
    ) -> ShardInputs {
        ShardInputs {
            in_rate,
            out_samples,
            busy_seconds,
            pending,
            sending_ok,
        }
    }

    #[test]
    fn shard_calculation() {
        // 1000 samples/s in, 10 ms per 1000 samples sent: one shard is plenty.
        assert_eq!(
            desired_shards(4, 1, 10, inputs(1000.0, 10_000, 0.1, 0, true)),
            1
        );
        // 100k/s in at 1 ms per 10 samples: 10 shards (clamped).
        assert_eq!(
            desired_shards(1, 1, 50, inputs(100_000.0, 10_000, 1.0, 0, true)),
            10
        );
        assert_eq!(
            desired_shards(1, 1, 4, inputs(100_000.0, 10_000, 1.0, 0, true)),
            4
        );
        // Within ±30 %: unchanged.
        assert_eq!(
            desired_shards(10, 1, 50, inputs(110_000.0, 10_000, 1.0, 0, true)),
            10
        );
        // Failing sends: no scale-up.
        assert_eq!(
            desired_shards(2, 1, 50, inputs(100_000.0, 10_000, 1.0, 0, false)),
            2
        );
        // Nothing sent: unchanged.
        assert_eq!(desired_shards(3, 1, 50, inputs(100.0, 0, 0.0, 10, true)), 3);
    }
}
