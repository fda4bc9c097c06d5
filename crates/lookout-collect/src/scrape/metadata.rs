//! Metric metadata (`# TYPE`, `# HELP`, `# UNIT`) of the scraped targets, for `/api/v1/metadata`.
//!
//! Each target loop owns a slot in the manager's [`MetadataStore`]: the loop publishes its last successful
//! scrape's metadata there only when it changed (the scrape cache compares it with the previous scrape's), and the
//! slot is emptied when the loop ends. The store is bounded in entries (one per family per target); families that
//! do not fit are left out and counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use lookout_wire::MetricMetadata;
use parking_lot::Mutex;
use rustc_hash::{FxHashMap, FxHashSet};

/// Most family entries kept across all targets.
pub const MAX_METADATA_ENTRIES: usize = 100_000;

#[derive(Debug, Default)]
struct Slots {
    /// Loop id → its families (unique by family, in exposition order).
    by_loop: FxHashMap<u64, Arc<[MetricMetadata]>>,
    /// Sum of the slots' lengths.
    total: usize,
}

/// The metadata of all target loops of a manager, bounded in entries.
#[derive(Debug)]
pub(crate) struct MetadataStore {
    slots: Mutex<Slots>,
    max_entries: usize,
    next_id: AtomicU64,
    dropped: AtomicU64,
}

impl MetadataStore {
    /// A store keeping at most `max_entries` family entries.
    pub(crate) fn new(max_entries: usize) -> Self {
        MetadataStore {
            slots: Mutex::new(Slots::default()),
            max_entries,
            next_id: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }
    }

    /// A slot for one loop; its metadata goes when the slot is dropped.
    pub(crate) fn slot(self: &Arc<Self>) -> MetadataSlot {
        MetadataSlot {
            store: self.clone(),
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Replaces the metadata of loop `id`, keeping only what fits under the cap; returns whether all of it was
    /// kept (families left out are counted).
    fn set(&self, id: u64, metadata: &Arc<[MetricMetadata]>) -> bool {
        let mut slots = self.slots.lock();
        let old = slots.by_loop.remove(&id).map_or(0, |m| m.len());
        slots.total -= old;
        let room = self.max_entries.saturating_sub(slots.total);
        let kept: Arc<[MetricMetadata]> = if metadata.len() <= room {
            metadata.clone()
        } else {
            self.dropped
                .fetch_add((metadata.len() - room) as u64, Ordering::Relaxed);
            metadata[..room].into()
        };
        let complete = kept.len() == metadata.len();
        if !kept.is_empty() {
            slots.total += kept.len();
            slots.by_loop.insert(id, kept);
        }
        complete
    }

    fn remove(&self, id: u64) {
        let mut slots = self.slots.lock();
        if let Some(m) = slots.by_loop.remove(&id) {
            slots.total -= m.len();
        }
    }

    /// Every (family, type, help, unit) held by some target, deduplicated and sorted; the type is spelled as the
    /// Prometheus API does (`counter`, `gauge`, `histogram`, `gaugehistogram`, `summary`, `info`, `stateset`,
    /// `unknown`).
    pub(crate) fn snapshot(&self) -> Vec<(String, String, String, String)> {
        let all: Vec<Arc<[MetricMetadata]>> = self.slots.lock().by_loop.values().cloned().collect();
        let mut seen: FxHashSet<(&str, &'static str, &str, &str)> = FxHashSet::default();
        for m in all.iter().flat_map(|s| s.iter()) {
            seen.insert((&m.family, m.kind.openmetrics_word(), &m.help, &m.unit));
        }
        let mut out: Vec<(String, String, String, String)> = seen
            .into_iter()
            .map(|(f, k, h, u)| (f.to_owned(), k.to_owned(), h.to_owned(), u.to_owned()))
            .collect();
        out.sort_unstable();
        out
    }

    /// Appends the store's self-metrics in the Prometheus text format.
    pub(crate) fn write_metrics(&self, out: &mut lookout_model::MetricsWriter) {
        let entries = self.slots.lock().total;
        let dropped = self.dropped.load(Ordering::Relaxed);
        out.gauge(
            "lookout_scrape_metadata_entries",
            "Metric family metadata entries kept for scraped targets.",
            entries,
        );
        out.counter(
            "lookout_scrape_metadata_dropped_total",
            "Metric family metadata entries left out because the metadata store was full, counted at each attempt to store them.",
            dropped,
        );
    }
}

/// One loop's place in the [`MetadataStore`]; dropping it removes the loop's metadata.
#[derive(Debug)]
pub(crate) struct MetadataSlot {
    store: Arc<MetadataStore>,
    id: u64,
}

impl MetadataSlot {
    /// Publishes the loop's current metadata; returns whether all of it fitted under the store's cap.
    pub(crate) fn set(&self, metadata: &Arc<[MetricMetadata]>) -> bool {
        self.store.set(self.id, metadata)
    }
}

impl Drop for MetadataSlot {
    fn drop(&mut self) {
        self.store.remove(self.id);
    }
}

#[cfg(test)]
mod tests {
    use lookout_wire::MetricKind;

    use super::*;

    fn meta(families: &[(&str, MetricKind, &str)]) -> Arc<[MetricMetadata]> {
        families
            .iter()
            .map(|(f, k, h)| MetricMetadata {
                family: (*f).into(),
                kind: *k,
                help: (*h).into(),
                unit: String::new(),
            })
            .collect()
    }

    fn metric(store: &MetadataStore, name: &str) -> String {
        let mut w = lookout_model::MetricsWriter::new();
        store.write_metrics(&mut w);
        let out = w.finish();
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")).map(str::to_owned))
            .unwrap_or_else(|| panic!("no {name} in\n{out}"))
    }

    #[test]
    fn dedups_across_slots_caps_entries_and_forgets_dropped_slots() {
        let store = Arc::new(MetadataStore::new(3));
        let a = store.slot();
        let b = store.slot();
        assert!(a.set(&meta(&[
            ("x_total", MetricKind::Counter, "X."),
            ("y", MetricKind::Gauge, "Y."),
        ])));
        // The same x from another target is listed once; z does not fit.
        assert!(!b.set(&meta(&[
            ("x_total", MetricKind::Counter, "X."),
            ("z", MetricKind::StateSet, "Z."),
        ])));
        assert_eq!(metric(&store, "lookout_scrape_metadata_dropped_total"), "1");
        assert_eq!(metric(&store, "lookout_scrape_metadata_entries"), "3");
        let names = |s: &MetadataStore| {
            s.snapshot()
                .into_iter()
                .map(|(f, k, h, _)| format!("{f}/{k}/{h}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&store), ["x_total/counter/X.", "y/gauge/Y."]);

        // Replacing a slot frees its old entries first.
        assert!(a.set(&meta(&[("y", MetricKind::Unknown, "Y2.")])));
        assert!(b.set(&meta(&[
            ("x_total", MetricKind::Counter, "X."),
            ("z", MetricKind::StateSet, "Z."),
        ])));
        assert_eq!(
            names(&store),
            ["x_total/counter/X.", "y/unknown/Y2.", "z/stateset/Z."]
        );
        drop(a);
        assert_eq!(names(&store), ["x_total/counter/X.", "z/stateset/Z."]);
        drop(b);
        assert!(store.snapshot().is_empty());
        assert_eq!(metric(&store, "lookout_scrape_metadata_entries"), "0");
    }
}
