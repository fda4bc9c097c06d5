//! Pushed series the storage already holds, by the hash of their labels' wire bytes, so that a known series of a
//! remote_write request is appended by reference: no label decoding, validation, hashing or storage lookup.
//!
//! An entry holds a copy of the label bytes it was learned from and is trusted only when the request's bytes are
//! exactly those: a hash collision costs a miss, never a wrong series (equal bytes decode to equal labels, and a
//! series' reference always names the same label set). One `memcmp` over bytes held together replaced a walk of
//! the storage's label set, whose strings are interned apart and cost a cache miss each. The cache is bounded by
//! its share of the memory budget: each shard keeps two generations, and when the current one is full the older is
//! dropped; a series used since moves to the current one. Entries past the bound cost their series one slow
//! append, never a sample. An entry is counted with its bytes.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use lookout_model::{MetricKind, MetricsWriter};
use lookout_storage::SeriesRef;
use lookout_storage::shards::ShardOrder;
use parking_lot::Mutex;
use rustc_hash::{FxBuildHasher, FxHashMap};

/// What one entry costs beside its label bytes: the key, the reference, the bytes' pointer and length, the map's
/// slot with its headroom, and the allocator's header of the bytes.
pub const ENTRY_BYTES: usize = 64;

/// What an entry is counted as.
fn entry_bytes(series: &CachedSeries) -> usize {
    ENTRY_BYTES + series.label_bytes.len()
}

const SHARDS: usize = 16;

/// The shard of `key`: its high bits (the maps use the low ones).
fn shard_index(key: u64) -> usize {
    (key >> 60) as usize % SHARDS
}

/// A known series: the storage's reference and the wire bytes of its labels.
#[derive(Clone)]
pub struct CachedSeries {
    /// The storage's reference, valid across batches.
    pub series: SeriesRef,
    /// The label bytes of a request (a run of `Label` messages) that decoded to the series' labels.
    pub label_bytes: Box<[u8]>,
}

#[derive(Default)]
struct Generations {
    current: FxHashMap<u64, CachedSeries>,
    /// Bytes `current` is counted as.
    current_bytes: usize,
    previous: FxHashMap<u64, CachedSeries>,
}

/// The cache of pushed series; shared by every request (see the module documentation).
pub struct PushSeriesCache {
    shards: Box<[Mutex<Generations>]>,
    /// Bytes a shard's current generation holds before it becomes the previous one.
    per_generation: usize,
    hits: AtomicU64,
    misses: AtomicU64,
    rotations: AtomicU64,
}

impl PushSeriesCache {
    /// A cache within `budget_bytes` (two generations in every shard).
    pub fn new(budget_bytes: usize) -> Self {
        PushSeriesCache {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            per_generation: (budget_bytes / SHARDS / 2).max(ENTRY_BYTES),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            rotations: AtomicU64::new(0),
        }
    }

    /// The key of a series' label bytes.
    pub fn key(label_bytes: &[u8]) -> u64 {
        let mut h = FxBuildHasher.build_hasher();
        h.write(label_bytes);
        h.finish()
    }

    fn shard(&self, key: u64) -> &Mutex<Generations> {
        &self.shards[shard_index(key)]
    }

    /// The series cached under `key`, if any, with its label set (tests look entries up this way; ingest uses
    /// [`PushSeriesCache::get_many`]).
    #[cfg(test)]
    pub fn get(&self, key: u64) -> Option<CachedSeries> {
        let mut g = self.shard(key).lock();
        if let Some(s) = g.current.get(&key) {
            return Some(s.clone());
        }
        let s = g.previous.remove(&key)?;
        self.put(&mut g, key, s.clone());
        Some(s)
    }

    /// For each `(key, label_bytes)`, the reference cached under `key` when it was learned from exactly
    /// `label_bytes`; looked up one shard at a time under one lock each, answered in the order asked.
    pub fn get_many(&self, items: &[(u64, &[u8])]) -> Vec<Option<SeriesRef>> {
        let mut out = vec![None; items.len()];
        for (s, run) in ShardOrder::new(SHARDS, items.len(), |i| shard_index(items[i].0)).runs() {
            let mut g = self.shards[s].lock();
            for &i in run {
                let (key, label_bytes) = items[i as usize];
                out[i as usize] = self.lookup_locked(&mut g, key, label_bytes);
            }
        }
        out
    }

    fn lookup_locked(
        &self,
        g: &mut Generations,
        key: u64,
        label_bytes: &[u8],
    ) -> Option<SeriesRef> {
        if let Some(s) = g.current.get(&key) {
            return (*s.label_bytes == *label_bytes).then_some(s.series);
        }
        let s = g.previous.remove(&key)?;
        let found = (*s.label_bytes == *label_bytes).then_some(s.series);
        self.put(g, key, s);
        found
    }

    /// Remembers `series` under `key`.
    pub fn insert(&self, key: u64, series: CachedSeries) {
        let mut g = self.shard(key).lock();
        self.put(&mut g, key, series);
    }

    fn put(&self, g: &mut Generations, key: u64, series: CachedSeries) {
        let bytes = entry_bytes(&series);
        if g.current_bytes + bytes > self.per_generation && !g.current.contains_key(&key) {
            g.previous = std::mem::take(&mut g.current);
            g.current_bytes = 0;
            self.rotations.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(old) = g.current.insert(key, series) {
            g.current_bytes -= entry_bytes(&old);
        }
        g.current_bytes += bytes;
    }

    /// Counts lookups' outcomes.
    pub fn count(&self, hits: u64, misses: u64) {
        self.hits.fetch_add(hits, Ordering::Relaxed);
        self.misses.fetch_add(misses, Ordering::Relaxed);
    }

    /// Lookups so far: (hits, misses).
    pub fn lookups(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let g = s.lock();
                g.current.len() + g.previous.len()
            })
            .sum()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `lookout_push_series_cache_*`.
    pub fn write_metrics(&self, out: &mut MetricsWriter) {
        out.family(
            "lookout_push_series_cache_lookups_total",
            MetricKind::Counter,
            "Series of remote_write requests looked up in the pushed-series cache, by result.",
        )
        .sample(&[("result", "hit")], self.hits.load(Ordering::Relaxed))
        .sample(&[("result", "miss")], self.misses.load(Ordering::Relaxed));
        out.counter(
            "lookout_push_series_cache_rotations_total",
            "Times a shard of the pushed-series cache dropped its older generation to stay within its memory share.",
            self.rotations.load(Ordering::Relaxed),
        );
        out.gauge(
            "lookout_push_series_cache_entries",
            "Series held by the pushed-series cache.",
            self.len() as f64,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(r: SeriesRef) -> CachedSeries {
        CachedSeries {
            series: r,
            label_bytes: format!("s{r}").into_bytes().into_boxed_slice(),
        }
    }

    #[test]
    fn keeps_two_generations_per_shard_and_promotes_what_is_used() {
        // One entry per generation per shard.
        let cache = PushSeriesCache::new(entry_bytes(&series(0)) * SHARDS * 2);
        let shard_keys: Vec<u64> = (0..4u64).map(|i| i | (3 << 60)).collect();
        cache.insert(shard_keys[0], series(0));
        cache.insert(shard_keys[1], series(1));
        assert_eq!(cache.len(), 2, "the first moved to the previous generation");
        assert_eq!(cache.get(shard_keys[0]).map(|s| s.series), Some(0));
        // Using key 0 promoted it and pushed key 1 into the previous generation.
        cache.insert(shard_keys[2], series(2));
        assert!(
            cache.get(shard_keys[1]).is_none(),
            "dropped with the oldest generation"
        );
        assert_eq!(cache.get(shard_keys[0]).map(|s| s.series), Some(0));
        assert!(cache.len() <= 2);
    }

    #[test]
    fn stays_within_its_share() {
        let budget = 64 * 1024;
        let cache = PushSeriesCache::new(budget);
        for k in 0..100_000u64 {
            cache.insert(k.wrapping_mul(0x9e37_79b9_7f4a_7c15), series(k));
        }
        // Every entry is counted with its bytes (`s0` … `s99999`: at least this much each).
        let each = entry_bytes(&series(1));
        assert!(cache.len() * each <= budget, "{} entries", cache.len());
        assert!(cache.len() * each >= budget / 4, "{} entries", cache.len());
    }
}
