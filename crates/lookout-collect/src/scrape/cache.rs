//! The per-target scrape cache: series text (by a seeded 128-bit hash) → labels and storage reference, plus the
//! series seen last time.
//!
//! A steady target exposes the same series text every scrape; looking it up here skips building labels, target
//! label merging, metric relabeling and the storage's label index. The staleness sets remember which series (by
//! label hash) the previous successful scrape wrote, so those that vanished get a staleness marker.

use std::sync::Arc;

use lookout_model::{Label, Labels};
use lookout_storage::SeriesRef;
use lookout_wire::MetricMetadata;
use rustc_hash::{FxHashMap, FxHashSet};

/// A series text's key: its 128-bit XXH3 under the cache's random seed. The text itself is not kept (it was the
/// cache's largest part after the labels, ~80 bytes a series). Two texts of one target sharing a key would need a
/// 128-bit collision of a seeded hash; and even one contrived by the target could only file one of its own series
/// under another of its own label sets, each already relabeled like any other of its series.
pub(crate) type TextKey = u128;

/// A random seed per cache, drawn when the cache is made.
#[derive(Debug)]
struct KeySeed(u64);

impl Default for KeySeed {
    fn default() -> Self {
        use std::hash::{BuildHasher, Hasher};
        KeySeed(
            std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish(),
        )
    }
}

/// What the cache knows about one exposed series.
#[derive(Debug, Clone)]
pub(crate) struct CacheEntry {
    /// Labels after target labels and metric relabeling: the storage's own label set (shared, not copied: one
    /// label vector per series in the process, not two) once the storage has the series or when it interned them.
    pub(crate) labels: Labels,
    /// Set once `labels` is the storage's copy (or the storage said it does not share).
    pub(crate) shared: bool,
    /// Created by the current scrape: forgotten again if the scrape fails.
    pub(crate) fresh: bool,
    /// `labels.hash64()`, the key of the staleness sets.
    pub(crate) hash: u64,
    /// The storage's reference, once an append returned one.
    pub(crate) series_ref: Option<SeriesRef>,
    /// The scrape iteration that last saw it.
    pub(crate) last_iter: u64,
}

/// Per-target cache; owned by the target's loop and moved into the blocking task for each scrape.
#[derive(Debug, Default)]
pub struct ScrapeCache {
    /// Entries by [`ScrapeCache::key`] of their series text.
    pub(crate) series: FxHashMap<TextKey, CacheEntry>,
    /// Keys of series text that metric relabeling dropped, with the iteration that last saw it.
    pub(crate) dropped: FxHashMap<TextKey, u64>,
    /// The seed of [`ScrapeCache::key`].
    seed: KeySeed,
    /// Entries the current scrape created (marked `fresh`; their keys are not copied a second time).
    pub(crate) fresh: usize,
    /// Label hashes of the series written (without explicit timestamps) by the previous successful scrape; their
    /// labels and references are those of the cache entries with that hash, which stay cached at least until
    /// the next successful scrape (eviction keeps what the last scrape saw). Hashes, not copies of the entries:
    /// the sets cost a word per series.
    pub(crate) previous: FxHashSet<u64>,
    /// Label hashes of the series written so far by the current scrape.
    pub(crate) current: FxHashSet<u64>,
    /// References of the synthetic report series, by position in `REPORT_SERIES`.
    pub(crate) report_refs: [Option<SeriesRef>; 5],
    /// Incremented at each scrape.
    pub(crate) iter: u64,
    /// Metadata of the last successful scrape (one entry per family, in exposition order).
    pub(crate) metadata: Arc<[MetricMetadata]>,
    /// Set when a successful scrape's metadata differed from the previous one; the loop publishes and clears it.
    pub(crate) metadata_changed: bool,
    /// Label strings shared by the cached label sets: a target's series repeat a few names and values
    /// (`job`, `mode="idle"`, …), and one copy of each instead of one per series is most of the cache's memory.
    strings: FxHashSet<Arc<str>>,
}

impl ScrapeCache {
    /// The key of a series text.
    pub(crate) fn key(&self, text: &[u8]) -> TextKey {
        twox_hash::XxHash3_128::oneshot_with_seed(self.seed.0, text)
    }

    /// Starts a scrape.
    pub(crate) fn begin(&mut self) {
        self.iter += 1;
        self.current.clear();
    }

    /// Ends a successful scrape: the current series become the previous ones; entries unseen for a while go.
    pub(crate) fn end_success(&mut self) {
        std::mem::swap(&mut self.previous, &mut self.current);
        self.current.clear();
        if self.fresh > 0 {
            self.series.values_mut().for_each(|e| e.fresh = false);
            self.fresh = 0;
        }
        self.evict_unseen();
    }

    /// Ends a failed scrape: entries created by it are forgotten (their references may never have been
    /// committed) and nothing counts as previously written any more (all got staleness markers).
    pub(crate) fn end_failure(&mut self) {
        if self.fresh > 0 {
            self.series.retain(|_, e| !e.fresh);
            self.fresh = 0;
        }
        self.current.clear();
        self.previous.clear();
    }

    /// Keeps a successful scrape's metadata, flagging a change; an unchanged list is compared, not copied.
    /// The same label set, its strings shared with the other cached series of this target.
    pub(crate) fn intern_labels(&mut self, labels: &Labels) -> Labels {
        // Bounded: with heavy churn the set is restarted; label sets already built keep their strings.
        if self.strings.len() > 4 * (self.series.len() + 1024) {
            self.strings.clear();
        }
        let mut out = Vec::with_capacity(labels.len());
        for l in labels.iter() {
            out.push(Label {
                name: self.intern(&l.name),
                value: self.intern(&l.value),
            });
        }
        Labels::from_sorted_unchecked(out)
    }

    fn intern(&mut self, s: &Arc<str>) -> Arc<str> {
        match self.strings.get(&**s) {
            Some(shared) => shared.clone(),
            None => {
                self.strings.insert(s.clone());
                s.clone()
            }
        }
    }

    pub(crate) fn set_metadata(&mut self, metadata: Vec<MetricMetadata>) {
        if *self.metadata != *metadata {
            self.metadata = metadata.into();
            self.metadata_changed = true;
        }
    }

    /// Drops entries not seen in the last scrape once they make up a third of the cache, so churn cannot grow
    /// it without bound while steady series stay cached.
    fn evict_unseen(&mut self) {
        let iter = self.iter;
        let stale = self.series.values().filter(|e| e.last_iter != iter).count()
            + self.dropped.values().filter(|&&i| i != iter).count();
        if stale * 3 > self.series.len() + self.dropped.len() {
            self.series.retain(|_, e| e.last_iter == iter);
            self.dropped.retain(|_, i| *i == iter);
        }
    }

    /// Number of cached series (kept and dropped).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.series.len() + self.dropped.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(iter: u64) -> CacheEntry {
        CacheEntry {
            labels: Labels::empty(),
            shared: false,
            fresh: false,
            hash: 0,
            series_ref: None,
            last_iter: iter,
        }
    }

    #[test]
    fn interned_label_sets_share_their_strings() {
        let mut c = ScrapeCache::default();
        let a = c.intern_labels(
            &Labels::from_pairs(&[("__name__", "m"), ("mode", "idle"), ("cpu", "0")]).unwrap(),
        );
        let b = c.intern_labels(
            &Labels::from_pairs(&[("__name__", "m"), ("mode", "idle"), ("cpu", "1")]).unwrap(),
        );
        assert_eq!(a.get("cpu"), Some("0"));
        assert_eq!(b.get("cpu"), Some("1"));
        let mode = |l: &Labels| l.iter().find(|l| &*l.name == "mode").unwrap().value.clone();
        assert!(Arc::ptr_eq(&mode(&a), &mode(&b)));
    }

    #[test]
    fn keys_tell_texts_apart_and_stay_the_same_per_cache() {
        let c = ScrapeCache::default();
        let a = c.key(b"m{a=\"1\"}");
        assert_eq!(a, c.key(b"m{a=\"1\"}"));
        assert_ne!(a, c.key(b"m{a=\"2\"}"));
        assert_ne!(c.key(b""), c.key(b"\0"));
    }

    #[test]
    fn failure_forgets_new_entries_and_success_evicts_churn() {
        let mut c = ScrapeCache::default();
        c.begin();
        let a = c.key(b"a");
        c.series.insert(a, entry(1));
        c.end_success();
        c.begin();
        let b = c.key(b"b");
        c.series.insert(
            b,
            CacheEntry {
                fresh: true,
                ..entry(2)
            },
        );
        c.fresh += 1;
        c.end_failure();
        assert!(c.series.contains_key(&a) && !c.series.contains_key(&b));

        c.begin();
        for i in 0..3 {
            let k = c.key(format!("n{i}").as_bytes());
            c.series.insert(k, entry(c.iter));
        }
        c.end_success();
        // "a" was not seen in the last scrape and is a quarter of the cache: kept.
        assert_eq!(c.len(), 4);
        c.begin();
        let n0 = c.key(b"n0");
        c.series.get_mut(&n0).unwrap().last_iter = c.iter;
        c.end_success();
        assert_eq!(c.len(), 1);
    }
}
