//! The commit thread: every `commit_interval` it takes the buffer (under the lock, with a WAL rotation), commits it
//! to the partitions *outside* the lock (pushes and reads go on meanwhile; the taken entries stay readable from
//! `committing`), then publishes the partitions' new searchers and drops the taken entries in one step under the
//! lock. Every `maintenance_interval` it applies retention.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::buffer::Buffer;
use crate::index::PartSearcher;
use crate::layout::Bounds;
use crate::options::StoreError;
use crate::partitions::{Parts, dir_bytes};
use crate::store::{Inner, io};

/// Starts the commit thread; it stops when `woken`'s sender is dropped or the store is gone.
pub(crate) fn spawn(inner: Weak<Inner>, woken: Receiver<()>) -> std::io::Result<JoinHandle<()>> {
    let (interval, every) = match inner.upgrade() {
        Some(i) => (i.opts.commit_interval, i.opts.maintenance_interval),
        None => return std::thread::Builder::new().spawn(|| {}),
    };
    std::thread::Builder::new()
        .name("log-commit".into())
        .spawn(move || {
            let mut last_maintenance = Instant::now();
            loop {
                if let Err(RecvTimeoutError::Disconnected) = woken.recv_timeout(interval) {
                    return;
                }
                let Some(inner) = inner.upgrade() else { return };
                if inner.stop.load(Ordering::Relaxed) {
                    return;
                }
                tick(&inner);
                if last_maintenance.elapsed() >= every {
                    last_maintenance = Instant::now();
                    let now = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map_or(0, |d| d.as_nanos().min(i64::MAX as u128) as i64);
                    maintenance(&inner, now);
                }
            }
        })
}

/// What the commit thread does every `commit_interval`: a commit cycle, then closing idle writers.
pub(crate) fn tick(inner: &Inner) {
    let mut parts = inner.parts.lock();
    if let Err(e) = commit(inner, &mut parts) {
        tracing::error!(error = %e, "log index commit failed; entries stay in the WAL and the buffer and are retried");
    }
    let fresh = parts.close_idle(Instant::now());
    publish(inner, fresh, &[], None);
    inner.writers.store(parts.writers(), Ordering::Relaxed);
}

/// What the commit thread does every `maintenance_interval`: retention at `now_ns`, one merge of a closed
/// partition, forgetting refilled rate buckets.
pub(crate) fn maintenance(inner: &Inner, now_ns: i64) {
    let mut parts = inner.parts.lock();
    if let Err(e) = retention(inner, &mut parts, now_ns) {
        tracing::error!(error = %e, "log retention failed; retried at the next run");
    }
    parts.merge_one();
    inner.state.lock().rate.prune(Instant::now());
    inner.writers.store(parts.writers(), Ordering::Relaxed);
}

/// Replaces the searchers of `fresh` partitions, drops `removed` ones and, when given, the taken entries, in one
/// step under the lock.
fn publish(
    inner: &Inner,
    fresh: Vec<(Bounds, PartSearcher)>,
    removed: &[i64],
    committing: Option<Buffer>,
) {
    if fresh.is_empty() && removed.is_empty() && committing.is_none() {
        return;
    }
    let committing = committing.map(Arc::new);
    let mut st = inner.state.lock();
    let old_view = if !fresh.is_empty() || !removed.is_empty() {
        let mut view = (*st.view).clone();
        for (b, s) in fresh {
            view.insert(b.start, (b, s));
        }
        for start in removed {
            view.remove(start);
        }
        Some(std::mem::replace(&mut st.view, Arc::new(view)))
    } else {
        None
    };
    let old_committing = committing.map(|c| std::mem::replace(&mut st.committing, c));
    drop(st);
    // The taken entries (maybe millions of strings) are freed after the lock is released.
    drop((old_view, old_committing));
}

/// One commit cycle: take the buffer, commit it to its partitions, publish; the WAL files older than the taken
/// entries are deleted once every partition holds them.
pub(crate) fn commit(inner: &Inner, parts: &mut Parts) -> Result<(), StoreError> {
    let (batch, seq) = {
        let mut st = inner.state.lock();
        if st.pending.is_empty() && st.committing.is_empty() {
            return Ok(());
        }
        // Entries left over from the last cycle come first (push order among equal timestamps).
        let batch = if st.committing.is_empty() {
            std::mem::take(&mut st.pending)
        } else {
            let mut b = (*st.committing).clone();
            b.absorb(&std::mem::take(&mut st.pending));
            b
        };
        let batch = Arc::new(batch);
        let leftovers = std::mem::replace(&mut st.committing, batch.clone());
        let seq = st.seq;
        // New pushes go to a new WAL file, so the files holding this batch can be deleted once it is committed.
        if let Err(e) = st.wal.rotate(seq + 1) {
            tracing::warn!(error = %e, "log WAL rotation failed; the current file is kept until a later commit");
        }
        drop(st);
        drop(leftovers);
        (batch, seq)
    };
    let started = Instant::now();
    #[cfg(test)]
    if let Some(hook) = inner.hooks.during_commit.lock().as_ref() {
        hook();
    }
    #[cfg(test)]
    let crash_after = inner.hooks.crash_after.load(Ordering::Relaxed);
    #[cfg(not(test))]
    let crash_after = usize::MAX;
    let out = parts.commit_batch(&batch, seq, crash_after);
    if out.crashed {
        return Err(StoreError::Partition("simulated crash".into()));
    }
    let complete = out.leftover.is_empty();
    let committed = batch.len() - out.leftover.len();
    publish(inner, out.searchers, &[], Some(out.leftover));
    if complete {
        let mut st = inner.state.lock();
        st.wal.remove_older().map_err(io(&inner.opts.dir))?;
    }
    inner.writers.store(parts.writers(), Ordering::Relaxed);
    if out.commits > 0 {
        inner.counters.commits.fetch_add(1, Ordering::Relaxed);
    }
    tracing::debug!(
        seq,
        entries = committed,
        partitions = out.commits,
        ms = started.elapsed().as_millis() as u64,
        "log index committed"
    );
    match out.error {
        Some(e) => Err(StoreError::Partition(e)),
        None => Ok(()),
    }
}

/// Deletes whole partitions: those entirely older than `now_ns` minus the retention period, then the oldest
/// (never the newest) while everything under the data directory exceeds the retention size; then forgets the
/// streams whose newest entry is older than all data kept. Returns the partitions deleted.
pub(crate) fn retention(
    inner: &Inner,
    parts: &mut Parts,
    now_ns: i64,
) -> Result<usize, StoreError> {
    let opts = &inner.opts;
    let mut doomed: Vec<Bounds> = Vec::new();
    if !opts.retention_period.is_zero() {
        let cutoff =
            now_ns.saturating_sub(opts.retention_period.as_nanos().min(i64::MAX as u128) as i64);
        doomed.extend(parts.bounds().into_iter().filter(|b| b.end_ns() <= cutoff));
    }
    if opts.retention_size > 0 {
        let mut total = dir_bytes(&opts.dir);
        if total > opts.retention_size {
            let sizes = parts.sizes();
            for b in doomed.iter() {
                total = total.saturating_sub(sizes.get(&b.start).copied().unwrap_or(0));
            }
            let all = parts.bounds();
            for b in all.iter().take(all.len().saturating_sub(1)) {
                if total <= opts.retention_size {
                    break;
                }
                if !doomed.contains(b) {
                    total = total.saturating_sub(sizes.get(&b.start).copied().unwrap_or(0));
                    doomed.push(*b);
                }
            }
            if total > opts.retention_size {
                tracing::warn!(
                    bytes = total,
                    limit = opts.retention_size,
                    "log data stays above retention_size: only the newest partition is left"
                );
            }
        }
    }
    // Busy partitions (a writer closing, a merge) are deleted at a later run.
    let doomed: Vec<Bounds> = doomed
        .into_iter()
        .filter(|b| parts.release(b.start))
        .collect();
    let removed: Vec<i64> = doomed.iter().map(|b| b.start).collect();
    // Out of the reads' view first, then off the disk.
    publish(inner, Vec::new(), &removed, None);
    let mut deleted = 0;
    let mut error = None;
    for b in &doomed {
        match parts.delete(b.start) {
            Ok(true) => {
                deleted += 1;
                tracing::info!(partition = %b.name(), "log partition deleted by retention");
            }
            Ok(false) => {}
            Err(e) => error = Some(e),
        }
    }
    inner
        .counters
        .retention_deleted_partitions
        .fetch_add(deleted as u64, Ordering::Relaxed);
    let oldest_kept = parts.bounds().first().map_or(i64::MAX, |b| b.start_ns());
    forget_streams(inner, (deleted > 0).then_some(oldest_kept))?;
    match error {
        Some(e) => Err(StoreError::Partition(e)),
        None => Ok(deleted),
    }
}

/// Drops the streams whose newest entry is older than both `oldest_kept` (ns) and every buffered entry, when
/// given, and compacts the streams file when it grew. One critical section: a push cannot slip an entry in between.
fn forget_streams(inner: &Inner, oldest_kept: Option<i64>) -> Result<(), StoreError> {
    let mut st = inner.state.lock();
    let horizon = match oldest_kept {
        Some(kept) => [st.pending.min_ts(), st.committing.min_ts()]
            .into_iter()
            .flatten()
            .fold(kept, i64::min),
        None => i64::MIN,
    };
    let path = inner.opts.dir.join("streams.jsonl");
    let gone = st.streams.retain_newer(horizon).map_err(io(&path))?;
    if !gone.is_empty() {
        for id in &gone {
            st.newest.remove(id);
        }
        st.rate.forget(&gone);
        tracing::info!(
            streams = gone.len(),
            "log streams with no data left forgotten"
        );
    }
    Ok(())
}
