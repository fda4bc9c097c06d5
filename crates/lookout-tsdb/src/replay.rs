//! Start-up: the WAL replayed into the head. Records are read in order on the calling thread; samples are handed
//! to worker threads by series shard, so every series still sees its samples in WAL order (which is commit order,
//! so the head comes back exactly as it was, refusals included).
//!
//! Replay holds no more than normal running does: the head it rebuilds is the head that was running (series the
//! limits refused then are not in the WAL), and what is in flight between the reader and the workers is bounded in
//! samples, not in records, since a record is as large as the commit that wrote it (one scrape of a 100,000-series
//! target is one record).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender};

use lookout_storage::StorageError;
use roaring::RoaringBitmap;

use crate::head::{ApplyTotals, Head, SHARDS};
use crate::store::Store;
use crate::wal::{ReplayStats, Wal, WalRecord};

/// Samples in one message to a worker.
pub(crate) const REPLAY_CHUNK: usize = 4096;
/// Messages queued per worker before the reader waits. In flight at most: workers × (queue + the one being
/// applied + the one being filled) × `REPLAY_CHUNK` × 24 bytes, ~2.4 MiB with 4 workers.
pub(crate) const REPLAY_QUEUE: usize = 4;

/// What replay did.
#[derive(Debug)]
pub(crate) struct ReplayOutcome {
    pub(crate) replayed: u64,
    pub(crate) skipped: u64,
    pub(crate) stats: ReplayStats,
}

/// Per-worker buffers of samples, each sent once it holds [`REPLAY_CHUNK`] samples (the send waits while the
/// worker's queue is full), the rest on [`Dispatch::flush`].
pub(crate) struct Dispatch {
    senders: Vec<SyncSender<Vec<(u32, i64, f64)>>>,
    buffers: Vec<Vec<(u32, i64, f64)>>,
}

impl Dispatch {
    pub(crate) fn new(senders: Vec<SyncSender<Vec<(u32, i64, f64)>>>) -> Self {
        let buffers = senders.iter().map(|_| Vec::new()).collect();
        Dispatch { senders, buffers }
    }

    /// Queues a sample for the worker of its series' shard.
    pub(crate) fn push(&mut self, id: u32, t: i64, v: f64) {
        let w = (id as usize % SHARDS) % self.senders.len();
        let buffer = &mut self.buffers[w];
        if buffer.capacity() == 0 {
            buffer.reserve_exact(REPLAY_CHUNK);
        }
        buffer.push((id, t, v));
        if buffer.len() == REPLAY_CHUNK {
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
/// `Series` record was truncated) are looked up in sled's series table the same way.
pub(crate) fn replay_wal(
    wal: &Wal,
    head: &Head,
    store: &Store,
    persisted: &RoaringBitmap,
    boundary: i64,
) -> Result<ReplayOutcome, StorageError> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4);
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
                for batch in rx {
                    let mut totals = ApplyTotals::default();
                    let (mut ok, mut refused) = (0u64, 0u64);
                    for (id, t, v) in batch {
                        match head.apply_into(id, t, v, &mut totals) {
                            Ok(_) => ok += 1,
                            Err(_) => refused += 1,
                        }
                    }
                    head.finish_apply(totals);
                    replayed.fetch_add(ok, Ordering::Relaxed);
                    skipped.fetch_add(refused, Ordering::Relaxed);
                }
            });
        }
        let mut dispatch = Dispatch::new(senders);
        let mut not_applied = 0u64;
        // Ids known to be in the head, so the reader checks membership without taking shard locks.
        let mut in_head = RoaringBitmap::new();
        let result = wal.replay(&mut |rec| match rec {
            WalRecord::Series(series) => {
                for (id, labels) in series {
                    let id = id as u32;
                    if !persisted.contains(id) {
                        head.create(id, &labels, false);
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
                                head.create(id, &labels, true);
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
        replayed: replayed.into_inner(),
        skipped: skipped.into_inner(),
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
        let mut d = Dispatch::new(vec![tx0, tx1]);
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
    fn a_full_queue_makes_the_reader_wait_instead_of_buffering() {
        let (tx, rx) = mpsc::sync_channel(REPLAY_QUEUE);
        let sent = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut d = Dispatch::new(vec![tx]);
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
