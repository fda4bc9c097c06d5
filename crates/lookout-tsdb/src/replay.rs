//! Start-up: the WAL replayed into the head. Records are read in order on the calling thread; samples are handed
//! to worker threads by series shard, so every series still sees its samples in WAL order (which is commit order,
//! so the head comes back exactly as it was, refusals included).
//!
//! Replay holds no more than normal running does: the head it rebuilds is the head that was running (series the
//! limits refused then are not in the WAL), and what is in flight between the reader and the workers is bounded in
//! samples, not in records, since a record is as large as the commit that wrote it (one scrape of a 100,000-series
//! target is one record).
//!
//! The WAL is time-major: consecutive samples belong to different series, and with 100,000 series every sample
//! touched a series (and its chunk) no longer in the CPU cache. So each worker receives large batches (sized from
//! the replay buffer, a share of the head budget) and regroups a batch by series before applying it, keeping each
//! series' samples in order (a counting sort by id): a series is then looked up, locked and brought into the cache
//! once per batch instead of once per sample.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender};

use lookout_storage::StorageError;
use roaring::RoaringBitmap;
use rustc_hash::FxHashMap;

use crate::chunk_log::Chain;
use crate::head::{ApplyTotals, Head, SHARDS};
use crate::store::Store;
use crate::wal::{ReplayStats, Wal, WalRecord};

/// Fewest samples in one message to a worker.
pub(crate) const REPLAY_CHUNK: usize = 4096;
/// Messages queued per worker before the reader waits.
pub(crate) const REPLAY_QUEUE: usize = 1;
/// Sample buffers per worker: the queued ones, the one being applied, its regrouped copy, the one being filled.
const BUFFERS_PER_WORKER: usize = REPLAY_QUEUE + 3;

/// Bytes replay may hold in flight: an eighth of the head's share (which the rebuilt head has not filled yet
/// while replay runs), between 4 and 64 MiB.
pub(crate) fn replay_buffer_bytes(opts: &crate::TsdbOptions) -> u64 {
    (opts.head_budget_bytes() / 8).clamp(4 << 20, 64 << 20)
}

/// Samples per message so that everything in flight (`workers` × [`BUFFERS_PER_WORKER`] buffers) stays within
/// `buffer_bytes`; at least [`REPLAY_CHUNK`].
pub(crate) fn batch_samples(buffer_bytes: u64, workers: usize) -> usize {
    let per_sample = std::mem::size_of::<(u32, i64, f64)>() as u64;
    ((buffer_bytes / (workers.max(1) * BUFFERS_PER_WORKER) as u64 / per_sample) as usize)
        .max(REPLAY_CHUNK)
}

/// Reorders `batch` into `out` so each series' samples are contiguous, in their original order: a counting sort
/// by id over the batch's id span (ids are dense), or a stable sort when the span is much wider than the batch.
pub(crate) fn group_by_series(
    batch: &[(u32, i64, f64)],
    out: &mut Vec<(u32, i64, f64)>,
    counts: &mut Vec<u32>,
) {
    out.clear();
    if batch.is_empty() {
        return;
    }
    let (min, max) = batch
        .iter()
        .fold((u32::MAX, 0), |(lo, hi), s| (lo.min(s.0), hi.max(s.0)));
    let span = (max - min) as usize + 1;
    if span > 4 * batch.len() {
        out.extend_from_slice(batch);
        out.sort_by_key(|s| s.0);
        return;
    }
    counts.clear();
    counts.resize(span + 1, 0);
    for s in batch {
        counts[(s.0 - min) as usize + 1] += 1;
    }
    for i in 1..counts.len() {
        counts[i] += counts[i - 1];
    }
    out.resize(batch.len(), (0, 0, 0.0));
    for s in batch {
        let slot = &mut counts[(s.0 - min) as usize];
        out[*slot as usize] = *s;
        *slot += 1;
    }
}

/// What replay did.
#[derive(Debug)]
pub(crate) struct ReplayOutcome {
    /// Samples restored: applied from the WAL or loaded from the head chunk log.
    pub(crate) replayed: u64,
    pub(crate) skipped: u64,
    /// Of `replayed`, the samples of chunks loaded from the head chunk log.
    pub(crate) from_chunk_log: u64,
    /// Series whose loaded chunks end in a sample the WAL does not hold (the head is then not to be trusted).
    pub(crate) unconfirmed: usize,
    pub(crate) stats: ReplayStats,
}

/// The head chunk log's chains attached during replay, and what the WAL must confirm.
struct Restored<'a> {
    chains: &'a mut FxHashMap<u32, Chain>,
    /// Per series id: WAL samples up to this time are in the loaded chunks (`i64::MIN`: none loaded).
    covered_until: Vec<i64>,
    /// Series whose chain's last sample (at `covered_until`; its value bits here) the WAL has not shown yet.
    unconfirmed: FxHashMap<u32, u64>,
    samples: u64,
}

impl Restored<'_> {
    /// Gives a series just created in the head its chain, if the log has one.
    fn attach(&mut self, head: &Head, id: u32) {
        let Some(chain) = self.chains.remove(&id) else {
            return;
        };
        let (max_t, last_v, samples) = (chain.max_t(), chain.last_v, chain.samples());
        if head.restore_chain(id, chain) {
            let i = id as usize;
            if self.covered_until.len() <= i {
                self.covered_until.resize(i + 1, i64::MIN);
            }
            self.covered_until[i] = max_t;
            self.unconfirmed.insert(id, last_v);
            self.samples += samples;
        }
    }

    /// True when the sample is in a loaded chunk (then the WAL confirms the chain if it is its last sample).
    #[inline]
    fn covers(&mut self, id: u32, t: i64, v: f64) -> bool {
        match self.covered_until.get(id as usize) {
            Some(&until) if until != i64::MIN && t <= until => {
                if t == until && self.unconfirmed.get(&id) == Some(&v.to_bits()) {
                    self.unconfirmed.remove(&id);
                }
                true
            }
            _ => false,
        }
    }
}

/// Per-worker buffers of samples, each sent once it holds [`REPLAY_CHUNK`] samples (the send waits while the
/// worker's queue is full), the rest on [`Dispatch::flush`].
pub(crate) struct Dispatch {
    senders: Vec<SyncSender<Vec<(u32, i64, f64)>>>,
    buffers: Vec<Vec<(u32, i64, f64)>>,
    chunk: usize,
}

impl Dispatch {
    /// Sends batches of `chunk` samples.
    pub(crate) fn new(senders: Vec<SyncSender<Vec<(u32, i64, f64)>>>, chunk: usize) -> Self {
        let buffers = senders.iter().map(|_| Vec::new()).collect();
        Dispatch {
            senders,
            buffers,
            chunk,
        }
    }

    /// Queues a sample for the worker of its series' shard.
    pub(crate) fn push(&mut self, id: u32, t: i64, v: f64) {
        let w = (id as usize % SHARDS) % self.senders.len();
        let buffer = &mut self.buffers[w];
        if buffer.capacity() == 0 {
            buffer.reserve_exact(self.chunk);
        }
        buffer.push((id, t, v));
        if buffer.len() == self.chunk {
            // A send fails only if the worker panicked; the scope re-raises that panic.
            let _ = self.senders[w].send(std::mem::take(buffer));
        }
    }

    /// Sends what the buffers hold and closes the channels (the workers finish once they drained them).
    pub(crate) fn flush(self) {
        for (tx, buffer) in self.senders.into_iter().zip(self.buffers) {
            if !buffer.is_empty() {
                let _ = tx.send(buffer);
            }
        }
    }
}

/// Replays `wal` into `head`. Samples before `boundary` are in sled already and skipped. A series is put in the
/// head when its first sample at or after `boundary` comes, not at its `Series` record when it is in sled (ids in
/// `persisted`): the running head dropped such series once persistence left them empty, so creating every one the
/// WAL names would bring them back, beyond the head the limits allowed. Ids the WAL no longer creates (their
/// `Series` record was truncated) are looked up in sled's series table the same way. Samples in flight between
/// the reader and the workers take at most `buffer_bytes`. A series created from the WAL gets its chain from
/// `chains` (the head chunk log) and the WAL's samples the chain holds are passed over.
pub(crate) fn replay_wal(
    wal: &Wal,
    head: &Head,
    store: &Store,
    persisted: &RoaringBitmap,
    boundary: i64,
    buffer_bytes: u64,
    chains: &mut FxHashMap<u32, Chain>,
) -> Result<ReplayOutcome, StorageError> {
    let mut restored = Restored {
        chains,
        covered_until: Vec::new(),
        unconfirmed: FxHashMap::default(),
        samples: 0,
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4);
    let chunk = batch_samples(buffer_bytes, workers);
    let replayed = AtomicU64::new(0);
    let skipped = AtomicU64::new(0);
    let mut lookup_error = None;
    let stats = std::thread::scope(|scope| {
        let mut senders = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (tx, rx) = mpsc::sync_channel::<Vec<(u32, i64, f64)>>(REPLAY_QUEUE);
            senders.push(tx);
            let (replayed, skipped) = (&replayed, &skipped);
            scope.spawn(move || {
                let (mut grouped, mut counts) = (Vec::new(), Vec::new());
                for batch in rx {
                    group_by_series(&batch, &mut grouped, &mut counts);
                    drop(batch);
                    let mut totals = ApplyTotals::default();
                    let (mut ok, mut refused) = (0u64, 0u64);
                    for run in grouped.chunk_by(|a, b| a.0 == b.0) {
                        let (a, r) = head.apply_run(run[0].0, run, &mut totals);
                        ok += a;
                        refused += r;
                    }
                    head.finish_apply(totals);
                    replayed.fetch_add(ok, Ordering::Relaxed);
                    skipped.fetch_add(refused, Ordering::Relaxed);
                }
            });
        }
        let mut dispatch = Dispatch::new(senders, chunk);
        let mut not_applied = 0u64;
        // Ids known to be in the head, so the reader checks membership without taking shard locks.
        let mut in_head = RoaringBitmap::new();
        let result = wal.replay(&mut |rec| match rec {
            WalRecord::Series(series) => {
                for (id, labels) in series {
                    let id = id as u32;
                    if !persisted.contains(id) {
                        if head.create(id, &labels, false) {
                            restored.attach(head, id);
                        }
                        in_head.insert(id);
                    }
                }
            }
            WalRecord::Samples(samples) => {
                for (id, t, v) in samples {
                    let id = id as u32;
                    if t < boundary {
                        not_applied += 1;
                        continue;
                    }
                    if !in_head.contains(id) {
                        match store.labels(id) {
                            Ok(Some(labels)) => {
                                if head.create(id, &labels, true) {
                                    restored.attach(head, id);
                                }
                                in_head.insert(id);
                            }
                            Ok(None) => {
                                not_applied += 1;
                                continue;
                            }
                            Err(e) => {
                                lookup_error.get_or_insert(e);
                                not_applied += 1;
                                continue;
                            }
                        }
                    }
                    if restored.covers(id, t, v) {
                        continue;
                    }
                    dispatch.push(id, t, v);
                }
            }
        });
        dispatch.flush();
        skipped.fetch_add(not_applied, Ordering::Relaxed);
        result
    })?;
    if let Some(e) = lookup_error {
        return Err(e);
    }
    Ok(ReplayOutcome {
        replayed: replayed.into_inner() + restored.samples,
        skipped: skipped.into_inner(),
        from_chunk_log: restored.samples,
        unconfirmed: restored.unconfirmed.len(),
        stats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatch_sends_bounded_chunks_per_shard_worker_in_order() {
        let (tx0, rx0) = mpsc::sync_channel(1_000);
        let (tx1, rx1) = mpsc::sync_channel(1_000);
        let mut d = Dispatch::new(vec![tx0, tx1], REPLAY_CHUNK);
        let n = REPLAY_CHUNK * 5 + 17;
        for i in 0..n {
            // Ids 0..SHARDS: even shards go to worker 0, odd ones to worker 1.
            d.push((i % SHARDS) as u32, i as i64, i as f64);
        }
        let mut chunks: [Vec<Vec<(u32, i64, f64)>>; 2] =
            [rx0.try_iter().collect(), rx1.try_iter().collect()];
        assert!(
            chunks.iter().flatten().all(|c| c.len() == REPLAY_CHUNK),
            "before the flush only full chunks are sent"
        );
        d.flush();
        chunks[0].extend(rx0.try_iter());
        chunks[1].extend(rx1.try_iter());
        for (w, chunks) in chunks.into_iter().enumerate() {
            assert!(
                chunks
                    .iter()
                    .all(|c| !c.is_empty() && c.len() <= REPLAY_CHUNK)
            );
            let samples: Vec<_> = chunks.into_iter().flatten().collect();
            assert!(samples.iter().all(|s| (s.0 as usize % SHARDS) % 2 == w));
            assert!(
                samples.windows(2).all(|p| p[0].1 < p[1].1),
                "WAL order kept"
            );
            assert_eq!(samples.len(), n / 2 + (n % 2) * (1 - w));
        }
    }

    #[test]
    fn batches_are_regrouped_by_series_keeping_each_series_order() {
        let check = |batch: Vec<(u32, i64, f64)>| {
            let (mut out, mut counts) = (Vec::new(), Vec::new());
            group_by_series(&batch, &mut out, &mut counts);
            let mut expected = batch.clone();
            expected.sort_by_key(|s| s.0);
            assert_eq!(out, expected);
        };
        // Time-major, as the WAL is: every step visits the series in some order.
        let mut time_major = Vec::new();
        for t in 0..50i64 {
            for id in [7u32, 3, 9, 4, 8, 5] {
                time_major.push((id, t, (t * 10 + i64::from(id)) as f64));
            }
        }
        check(time_major);
        // Ids far apart (the stable-sort path) and a single series.
        check(vec![
            (1_000_000, 1, 0.0),
            (2, 1, 0.0),
            (1_000_000, 2, 1.0),
            (2, 2, 1.0),
        ]);
        check(vec![(5, 1, 0.0), (5, 2, 0.0)]);
        check(Vec::new());
    }

    #[test]
    fn batch_size_follows_the_replay_buffer() {
        let per_sample = std::mem::size_of::<(u32, i64, f64)>();
        let n = batch_samples(64 << 20, 2);
        assert!(2 * BUFFERS_PER_WORKER * n * per_sample <= 64 << 20);
        assert!(n > 300_000, "{n}");
        assert_eq!(batch_samples(0, 4), REPLAY_CHUNK);
    }

    #[test]
    fn a_full_queue_makes_the_reader_wait_instead_of_buffering() {
        let (tx, rx) = mpsc::sync_channel(REPLAY_QUEUE);
        let sent = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut d = Dispatch::new(vec![tx], REPLAY_CHUNK);
                for i in 0..REPLAY_CHUNK * (REPLAY_QUEUE + 3) {
                    d.push(0, i as i64, 0.0);
                    sent.store(i + 1, Ordering::SeqCst);
                }
                d.flush();
            });
            // Nobody drains the queue yet: the reader stops once it is full and its buffer is too.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            // The push of the sample completing the chunk that finds the queue full is the one that waits.
            let stalled = REPLAY_CHUNK * (REPLAY_QUEUE + 1) - 1;
            while sent.load(Ordering::SeqCst) < stalled {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the reader never filled the queue"
                );
                std::thread::yield_now();
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            assert_eq!(
                sent.load(Ordering::SeqCst),
                stalled,
                "the reader waits at a full queue plus one full chunk"
            );
            let drained: usize = rx.iter().map(|c| c.len()).sum();
            assert_eq!(drained, REPLAY_CHUNK * (REPLAY_QUEUE + 3));
        });
    }
}
