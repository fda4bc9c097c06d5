//! Start-up: the WAL replayed into the head. Records are read in order on the calling thread; samples are handed
//! to worker threads by series shard, so every series still sees its samples in WAL order (which is commit order,
//! so the head comes back exactly as it was, refusals included).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use lookout_storage::StorageError;
use roaring::RoaringBitmap;

use crate::head::{ApplyTotals, Head, SHARDS};
use crate::store::Store;
use crate::wal::{ReplayStats, Wal, WalRecord};

/// What replay did.
#[derive(Debug)]
pub(crate) struct ReplayOutcome {
    pub(crate) replayed: u64,
    pub(crate) skipped: u64,
    pub(crate) stats: ReplayStats,
}

/// Replays `wal` into `head`. Samples before `boundary` are in sled already and skipped; ids the WAL no longer
/// creates (their `Series` record was truncated) are looked up in sled's series table.
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
            // Bounded: the reader waits for slow workers instead of buffering the whole log.
            let (tx, rx) = mpsc::sync_channel::<Vec<(u32, i64, f64)>>(16);
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
        let mut not_applied = 0u64;
        // Ids known to be in the head, so the reader checks membership without taking shard locks.
        let mut in_head = RoaringBitmap::new();
        let result = wal.replay(&mut |rec| match rec {
            WalRecord::Series(series) => {
                for (id, labels) in series {
                    let id = id as u32;
                    head.create(id, &labels, persisted.contains(id));
                    in_head.insert(id);
                }
            }
            WalRecord::Samples(samples) => {
                let mut per_worker: Vec<Vec<(u32, i64, f64)>> = vec![Vec::new(); workers];
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
                    per_worker[(id as usize % SHARDS) % workers].push((id, t, v));
                }
                for (tx, batch) in senders.iter().zip(per_worker) {
                    if !batch.is_empty() {
                        // A send fails only if the worker panicked; the scope re-raises that panic.
                        let _ = tx.send(batch);
                    }
                }
            }
        });
        drop(senders);
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
