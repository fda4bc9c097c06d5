//! The batched appender: samples are checked as they are added, then logged to the WAL as one record batch and
//! applied to the head on commit, all or nothing.

use lookout_model::{Labels, Sample};
use lookout_storage::{AppendError, Appender, CommitStats, SeriesRef, StorageError};
use rustc_hash::FxHashMap;

use crate::db::Inner;
use crate::head::{ApplyTotals, Lookup, Verdict, classify};
use crate::metrics::Counters;
use crate::wal::WalRecord;

/// Refs handed out for series that only exist once the batch commits carry this bit (valid inside the batch only).
/// Bits 32–62 hold the batch's tag and bits 0–31 the index in its new series: a caller that keeps such a ref
/// past the batch (a scrape cache does) gets `UnknownRef` from a later batch, never another batch's new series.
const NEW_REF_BIT: u64 = 1 << 63;

/// The index part of a new-series ref.
const NEW_INDEX_MASK: u64 = 0xffff_ffff;

/// Tags of batches, so that new-series refs of different batches differ (wrapping after 2^31 batches).
static BATCH_TAGS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// A series the batch will create (or bring back into the head) on commit.
struct NewSeries {
    labels: Labels,
    /// Set when the labels are already known to sled under this id.
    known_id: Option<u32>,
}

/// One batch of samples for [`crate::Tsdb`].
pub struct TsdbAppender<'a> {
    db: &'a Inner,
    samples: Vec<(u64, i64, f64)>,
    new_series: Vec<NewSeries>,
    new_index: FxHashMap<Labels, u64>,
    batch_last: FxHashMap<u64, (i64, u64)>,
    /// The latest timestamp accepted (clock at the batch's start plus `max_future`), `i64::MAX` without a check.
    max_t: i64,
    /// This batch's tag, shifted into place for its new-series refs.
    tag_bits: u64,
}

impl<'a> TsdbAppender<'a> {
    pub(crate) fn new(db: &'a Inner) -> Self {
        TsdbAppender {
            db,
            samples: Vec::new(),
            new_series: Vec::new(),
            new_index: FxHashMap::default(),
            batch_last: FxHashMap::default(),
            tag_bits: u64::from(
                BATCH_TAGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) & 0x7fff_ffff,
            ) << 32,
            max_t: db.opts.max_future.map_or(i64::MAX, |skew| {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as i64);
                now.saturating_add(skew.as_millis().min(i64::MAX as u128) as i64)
            }),
        }
    }

    fn count_refusal(&self, e: &AppendError) {
        let c = &self.db.counters;
        let counter = match e {
            AppendError::OutOfOrder { .. } => &c.out_of_order_rejected,
            AppendError::OutOfBounds { .. } => &c.out_of_bounds_rejected,
            AppendError::TooFarInFuture { .. } => &c.too_far_in_future_rejected,
            AppendError::DuplicateTimestamp { .. } => &c.duplicate_rejected,
            AppendError::SeriesLimit { .. } => &c.series_limit_rejected,
            AppendError::MemoryLimit { .. } => &c.memory_limit_rejected,
            _ => return,
        };
        Counters::add(counter, 1);
    }

    /// Checks a sample against the series' newest sample (in the batch, else in the head) and queues it.
    fn push(
        &mut self,
        r: u64,
        head_last: Option<(i64, u64)>,
        t: i64,
        v: f64,
    ) -> Result<(), AppendError> {
        if t > self.max_t {
            let e = AppendError::TooFarInFuture {
                t,
                max_t: self.max_t,
            };
            self.count_refusal(&e);
            return Err(e);
        }
        let last = self.batch_last.get(&r).copied().or(head_last);
        let head = &self.db.head;
        match classify(last, t, v, head.min_valid_t(), head.ooo_window_ms) {
            Ok(Verdict::DuplicateIgnored) => {
                Counters::add(&self.db.counters.duplicate_ignored, 1);
                Ok(())
            }
            Ok(verdict) => {
                if verdict == Verdict::InOrder {
                    self.batch_last.insert(r, (t, v.to_bits()));
                }
                self.samples.push((r, t, v));
                Ok(())
            }
            Err(e) => {
                self.count_refusal(&e);
                Err(e)
            }
        }
    }

    fn new_ref(&mut self, labels: &Labels, known_id: Option<u32>) -> Result<u64, AppendError> {
        if let Some(&r) = self.new_index.get(labels) {
            return Ok(r);
        }
        if known_id.is_none() {
            labels.validate()?;
        }
        let head = &self.db.head;
        let limit = self.db.opts.max_active_series;
        if head.series_count() + self.new_series.len() >= limit {
            let e = AppendError::SeriesLimit { limit };
            self.count_refusal(&e);
            return Err(e);
        }
        let budget = self.db.opts.head_budget_bytes() as usize;
        if head.budget_bytes() > budget {
            let e = AppendError::MemoryLimit {
                used: head.budget_bytes(),
                limit: budget,
            };
            self.count_refusal(&e);
            return Err(e);
        }
        let r = NEW_REF_BIT | self.tag_bits | self.new_series.len() as u64;
        self.new_series.push(NewSeries {
            labels: labels.clone(),
            known_id,
        });
        self.new_index.insert(labels.clone(), r);
        Ok(r)
    }

    /// Finds a persisted-only series with exactly these labels.
    fn find_persisted(&self, candidates: &[u32], labels: &Labels) -> Option<u32> {
        candidates.iter().copied().find(|&id| match self.db.store.labels(id) {
            Ok(Some(l)) => l == *labels,
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(error = %e, id, "could not read persisted labels; treating the series as new");
                false
            }
        })
    }
}

impl Appender for TsdbAppender<'_> {
    fn append(&mut self, labels: &Labels, t: i64, v: f64) -> Result<SeriesRef, AppendError> {
        if labels.is_empty() {
            return Err(AppendError::EmptyLabels);
        }
        if let Some(&r) = self.new_index.get(labels) {
            self.push(r, None, t, v)?;
            return Ok(r);
        }
        let r = match self.db.head.lookup(labels) {
            Lookup::Head(id) => {
                self.append_ref(u64::from(id), t, v)?;
                return Ok(u64::from(id));
            }
            Lookup::Persisted(candidates) => {
                let known = self.find_persisted(&candidates, labels);
                self.new_ref(labels, known)?
            }
            Lookup::Unknown => self.new_ref(labels, None)?,
        };
        self.push(r, None, t, v)?;
        Ok(r)
    }

    fn append_ref(&mut self, series: SeriesRef, t: i64, v: f64) -> Result<(), AppendError> {
        if series & NEW_REF_BIT != 0 {
            let this_batch = series & !NEW_REF_BIT & !NEW_INDEX_MASK == self.tag_bits;
            if !this_batch || (series & NEW_INDEX_MASK) as usize >= self.new_series.len() {
                return Err(AppendError::UnknownRef(series));
            }
            return self.push(series, None, t, v);
        }
        let id = u32::try_from(series).map_err(|_| AppendError::UnknownRef(series))?;
        let head_last = self
            .db
            .head
            .last(id)
            .ok_or(AppendError::UnknownRef(series))?;
        self.push(series, head_last, t, v)
    }

    fn append_refs(
        &mut self,
        items: &[(SeriesRef, &[Sample])],
    ) -> Result<(), (usize, AppendError)> {
        // Head series are looked up together; refs of this batch's new series and refs no id can have (beyond
        // 32 bits) take `append_ref`'s path.
        let head_id = |r: u64| {
            if r & NEW_REF_BIT == 0 {
                u32::try_from(r).ok()
            } else {
                None
            }
        };
        let ids: Vec<u32> = items
            .iter()
            .map(|&(r, _)| head_id(r).unwrap_or(0))
            .collect();
        let lasts = self.db.head.lasts(&ids);
        for (i, (&(r, samples), last)) in items.iter().zip(lasts).enumerate() {
            if head_id(r).is_none() {
                for s in samples {
                    self.append_ref(r, s.t, s.v).map_err(|e| (i, e))?;
                }
                continue;
            }
            let head_last = last.ok_or((i, AppendError::UnknownRef(r)))?;
            for s in samples {
                self.push(r, head_last, s.t, s.v).map_err(|e| (i, e))?;
            }
        }
        Ok(())
    }

    fn pending(&self) -> usize {
        self.samples.len()
    }

    fn reserve(&mut self, samples: usize) {
        self.samples.reserve(samples);
        self.batch_last.reserve(samples);
    }

    fn commit(self: Box<Self>) -> Result<CommitStats, StorageError> {
        let db = self.db;
        let _commit = db.commit_lock.lock();
        if db.is_closed() {
            return Err(StorageError::Closed);
        }
        let head = &db.head;
        let mut stats = CommitStats::default();
        // Resolve the batch's new series to ids; another batch may have created some meanwhile.
        let mut ids: Vec<Option<u32>> = Vec::with_capacity(self.new_series.len());
        let mut created: Vec<(u32, Labels, bool)> = Vec::new();
        let mut series_records: Vec<(u64, Labels)> = Vec::new();
        for ns in &self.new_series {
            let id = match (head.lookup(&ns.labels), ns.known_id) {
                (Lookup::Head(id), _) => Some(id),
                // Retention may have forgotten the series since `append` found it: check again under the lock.
                (_, Some(id)) if self.find_persisted(&[id], &ns.labels).is_some() => {
                    created.push((id, ns.labels.clone(), true));
                    Some(id)
                }
                (lookup, _) => {
                    let known = match lookup {
                        Lookup::Persisted(c) => self.find_persisted(&c, &ns.labels),
                        _ => None,
                    };
                    if known.is_none()
                        && head.series_count() + created.len() >= db.opts.max_active_series
                    {
                        Counters::add(&db.counters.series_limit_rejected, 1);
                        None
                    } else {
                        let id = known.unwrap_or_else(|| head.alloc_id());
                        created.push((id, ns.labels.clone(), known.is_some()));
                        Some(id)
                    }
                }
            };
            if let Some(id) = id
                && created.last().is_some_and(|c| c.0 == id)
            {
                series_records.push((u64::from(id), ns.labels.clone()));
            }
            ids.push(id);
        }
        let mut samples = self.samples;
        samples.retain_mut(|(r, _, _)| {
            if *r & NEW_REF_BIT == 0 {
                return true;
            }
            match ids[(*r & NEW_INDEX_MASK) as usize] {
                Some(id) => {
                    *r = u64::from(id);
                    true
                }
                None => false,
            }
        });
        let mut records = Vec::with_capacity(2);
        if !series_records.is_empty() {
            records.push(WalRecord::Series(series_records));
        }
        let n = samples.len();
        records.push(WalRecord::Samples(samples));
        if n > 0 || records.len() > 1 {
            db.wal.append(&records)?;
        }
        for (id, labels, in_sled) in &created {
            // A series coming back from sled is not new: only fresh ids count as created.
            if head.create(*id, labels, *in_sled) && !*in_sled {
                stats.series_created += 1;
            }
        }
        let Some(WalRecord::Samples(samples)) = records.pop() else {
            unreachable!("samples record pushed last")
        };
        let mut totals = ApplyTotals::default();
        head.apply_batch(&samples, &mut totals, |result| match result {
            Ok(Verdict::InOrder) => stats.samples += 1,
            Ok(Verdict::OutOfOrder) => {
                stats.samples += 1;
                Counters::add(&db.counters.out_of_order_accepted, 1);
            }
            Ok(Verdict::DuplicateIgnored) => Counters::add(&db.counters.duplicate_ignored, 1),
            Err(e) => self_count(db, &e),
        });
        head.finish_apply(totals);
        Counters::add(&db.counters.samples_appended, stats.samples as u64);
        Counters::add(&db.counters.series_created, stats.series_created as u64);
        Counters::add(&db.counters.commits, 1);
        Ok(stats)
    }

    fn rollback(self: Box<Self>) {
        Counters::add(&self.db.counters.rollbacks, 1);
    }
}

/// Counts a refusal found only at commit (a concurrent batch moved the series on).
fn self_count(db: &Inner, e: &AppendError) {
    let c = &db.counters;
    let counter = match e {
        AppendError::OutOfOrder { .. } => &c.out_of_order_rejected,
        AppendError::OutOfBounds { .. } => &c.out_of_bounds_rejected,
        AppendError::DuplicateTimestamp { .. } => &c.duplicate_rejected,
        _ => return,
    };
    Counters::add(counter, 1);
}

#[cfg(test)]
mod tests {
    use lookout_model::Labels;
    use lookout_storage::Storage;

    use crate::{Tsdb, TsdbOptions};

    #[test]
    fn the_head_gauge_and_the_memory_check_count_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let db = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
        let mut app = db.appender();
        for i in 0..500 {
            let l = Labels::from_pairs(&[("__name__", "m"), ("id", &format!("{i:040}"))]).unwrap();
            app.append(&l, 1_000, 1.0).unwrap();
        }
        app.commit().unwrap();
        let series_and_chunks = db.inner.head.bytes() as u64;
        let gauge = db.metrics().head_bytes;
        let index = db.inner.head.index_bytes() as u64;
        // 500 distinct 40-byte values: the symbol table alone holds 20 kB of them.
        assert!(index > 20_000, "index {index}");
        assert_eq!(gauge, series_and_chunks + index);
        assert_eq!(db.inner.head.budget_bytes() as u64, gauge);
    }
}
