//! The forwarding storage's own series references: an interning map labels ↔ ref, each entry remembering the
//! inner store's ref (if any) and when it was last used.
//!
//! Bounded two ways: entries unused for `idle` are collected (their refs then answer `UnknownRef`, and the scraper
//! appends by labels again), and the estimated bytes of all entries stay under the memory share given at
//! construction. When the share is full (after a collection), a *new* series is refused with
//! [`AppendError::MemoryLimit`]; known series keep working.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use lookout_model::Labels;
use lookout_storage::{AppendError, SeriesRef};
use parking_lot::RwLock;
// Fx, as the scrape cache and the TSDB: SipHash was a fifth of an agent's CPU on label-set keys.
use rustc_hash::FxHashMap;

/// No inner ref known.
const NO_INNER: u64 = u64::MAX;
/// Estimated bytes of one entry besides its labels: two map slots, the entry, hashing overhead.
const ENTRY_OVERHEAD: usize = 112;

#[derive(Debug)]
struct Entry {
    labels: Labels,
    inner: AtomicU64,
    /// Seconds since `SeriesRefs::start` of the last use.
    last_used: AtomicU32,
    bytes: usize,
}

#[derive(Debug, Default)]
struct Maps {
    by_labels: FxHashMap<Labels, SeriesRef>,
    by_ref: FxHashMap<SeriesRef, Entry>,
    bytes: usize,
}

/// See the module docs.
#[derive(Debug)]
pub(crate) struct SeriesRefs {
    maps: RwLock<Maps>,
    next: AtomicU64,
    limit: usize,
    idle: Duration,
    /// Bytes added to every entry's estimate (see `ForwardingStorageOptions::series_overhead_bytes`).
    overhead: usize,
    start: Instant,
    last_gc: AtomicU32,
}

impl SeriesRefs {
    pub(crate) fn new(limit: usize, idle: Duration, overhead: usize) -> Self {
        SeriesRefs {
            maps: RwLock::new(Maps::default()),
            next: AtomicU64::new(1),
            limit,
            idle,
            overhead,
            start: Instant::now(),
            last_gc: AtomicU32::new(0),
        }
    }

    fn now(&self) -> u32 {
        self.start.elapsed().as_secs() as u32
    }

    /// The ref of `labels`, created if new; `created` tells which. Records `inner` as the inner store's ref.
    pub(crate) fn intern(
        &self,
        labels: &Labels,
        inner: Option<u64>,
    ) -> Result<(SeriesRef, bool), AppendError> {
        let now = self.now();
        {
            let maps = self.maps.read();
            if let Some(r) = maps.by_labels.get(labels) {
                let e = &maps.by_ref[r];
                e.last_used.store(now, Ordering::Relaxed);
                if let Some(i) = inner {
                    e.inner.store(i, Ordering::Relaxed);
                }
                return Ok((*r, false));
            }
        }
        let bytes = labels.approx_heap_bytes() + ENTRY_OVERHEAD + self.overhead;
        // A full map is collected at most once a second: collecting for every refused series would scan the whole
        // map per new series (quadratic in a large scrape).
        if self.maps.read().bytes + bytes > self.limit && now > self.last_gc.load(Ordering::Relaxed)
        {
            self.gc();
        }
        let mut maps = self.maps.write();
        if let Some(r) = maps.by_labels.get(labels) {
            return Ok((*r, false));
        }
        if maps.bytes + bytes > self.limit {
            return Err(AppendError::MemoryLimit {
                used: maps.bytes,
                limit: self.limit,
            });
        }
        let r = self.next.fetch_add(1, Ordering::Relaxed);
        maps.by_labels.insert(labels.clone(), r);
        maps.by_ref.insert(
            r,
            Entry {
                labels: labels.clone(),
                inner: AtomicU64::new(inner.unwrap_or(NO_INNER)),
                last_used: AtomicU32::new(now),
                bytes,
            },
        );
        maps.bytes += bytes;
        Ok((r, true))
    }

    /// The labels and inner ref of `r`, marking it used; `None` when unknown or collected.
    pub(crate) fn get(&self, r: SeriesRef) -> Option<(Labels, Option<u64>)> {
        let maps = self.maps.read();
        let e = maps.by_ref.get(&r)?;
        e.last_used.store(self.now(), Ordering::Relaxed);
        let inner = e.inner.load(Ordering::Relaxed);
        Some((e.labels.clone(), (inner != NO_INNER).then_some(inner)))
    }

    /// Records a new inner ref for `r`.
    pub(crate) fn set_inner(&self, r: SeriesRef, inner: u64) {
        if let Some(e) = self.maps.read().by_ref.get(&r) {
            e.inner.store(inner, Ordering::Relaxed);
        }
    }

    /// Collects when half the idle time passed since the last collection.
    pub(crate) fn maybe_gc(&self) {
        let now = self.now();
        let half = (self.idle.as_secs() / 2).max(1) as u32;
        if now.saturating_sub(self.last_gc.load(Ordering::Relaxed)) >= half {
            self.gc();
        }
    }

    /// Removes entries unused for `idle`.
    pub(crate) fn gc(&self) {
        let now = self.now();
        self.last_gc.store(now, Ordering::Relaxed);
        let idle = self.idle.as_secs() as u32;
        let mut maps = self.maps.write();
        let stale: Vec<SeriesRef> = maps
            .by_ref
            .iter()
            .filter(|(_, e)| now.saturating_sub(e.last_used.load(Ordering::Relaxed)) >= idle)
            .map(|(r, _)| *r)
            .collect();
        for r in stale {
            if let Some(e) = maps.by_ref.remove(&r) {
                maps.by_labels.remove(&e.labels);
                maps.bytes -= e.bytes;
            }
        }
    }

    /// (series, estimated bytes).
    pub(crate) fn usage(&self) -> (usize, usize) {
        let maps = self.maps.read();
        (maps.by_ref.len(), maps.bytes)
    }
}
