//! An in-memory [`Storage`] for tests of the engines and the HTTP layer: no WAL, no limits but the series limit.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use lookout_model::{Labels, Matcher, Sample, TimeRange};
use parking_lot::RwLock;

use crate::{
    AppendError, Appender, CommitStats, Querier, SelectHints, Series, SeriesRef, SeriesSet,
    Storage, StorageError, VecSampleIter,
};

#[derive(Default)]
struct Inner {
    by_labels: HashMap<Labels, SeriesRef>,
    labels: Vec<Labels>,
    samples: Vec<Vec<Sample>>,
}

/// Series and samples in plain vectors behind one lock. Out-of-order samples are refused as in the TSDB.
#[derive(Default)]
pub struct MemStorage {
    inner: RwLock<Inner>,
    max_series: Option<usize>,
}

impl MemStorage {
    /// An empty store without a series limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store refusing series beyond `max`.
    pub fn with_series_limit(max: usize) -> Self {
        MemStorage {
            max_series: Some(max),
            ..Self::default()
        }
    }

    /// Drops everything (the conformance files' `clear`).
    pub fn clear(&self) {
        *self.inner.write() = Inner::default();
    }

    /// Number of series stored.
    pub fn series_count(&self) -> usize {
        self.inner.read().labels.len()
    }
}

enum Target {
    Existing(SeriesRef),
    New(Labels),
}

struct MemAppender<'a> {
    store: &'a MemStorage,
    pending: Vec<(Target, i64, f64)>,
    new_series: HashMap<Labels, usize>,
}

impl MemAppender<'_> {
    fn check(&self, r: SeriesRef, t: i64, v: f64) -> Result<(), AppendError> {
        let inner = self.store.inner.read();
        if let Some(last) = inner.samples.get(r as usize).and_then(|s| s.last()) {
            if t < last.t {
                return Err(AppendError::OutOfOrder { t, last_t: last.t });
            }
            if t == last.t && v.to_bits() != last.v.to_bits() {
                return Err(AppendError::DuplicateTimestamp { t });
            }
        }
        Ok(())
    }
}

impl Appender for MemAppender<'_> {
    fn append(&mut self, labels: &Labels, t: i64, v: f64) -> Result<SeriesRef, AppendError> {
        if labels.is_empty() {
            return Err(AppendError::EmptyLabels);
        }
        let existing = self.store.inner.read().by_labels.get(labels).copied();
        if let Some(r) = existing {
            self.append_ref(r, t, v)?;
            return Ok(r);
        }
        if !self.new_series.contains_key(labels) {
            if let Some(limit) = self.store.max_series
                && self.store.series_count() + self.new_series.len() >= limit
            {
                return Err(AppendError::SeriesLimit { limit });
            }
            self.new_series
                .insert(labels.clone(), self.new_series.len());
        }
        self.pending.push((Target::New(labels.clone()), t, v));
        Ok(u64::MAX)
    }

    fn append_ref(&mut self, series: SeriesRef, t: i64, v: f64) -> Result<(), AppendError> {
        if series as usize >= self.store.series_count() {
            return Err(AppendError::UnknownRef(series));
        }
        self.check(series, t, v)?;
        self.pending.push((Target::Existing(series), t, v));
        Ok(())
    }

    fn pending(&self) -> usize {
        self.pending.len()
    }

    fn commit(self: Box<Self>) -> Result<CommitStats, StorageError> {
        let mut inner = self.store.inner.write();
        let mut stats = CommitStats::default();
        for (target, t, v) in self.pending {
            let r = match target {
                Target::Existing(r) => r,
                Target::New(labels) => match inner.by_labels.get(&labels) {
                    Some(&r) => r,
                    None => {
                        let r = inner.labels.len() as SeriesRef;
                        inner.by_labels.insert(labels.clone(), r);
                        inner.labels.push(labels);
                        inner.samples.push(Vec::new());
                        stats.series_created += 1;
                        r
                    }
                },
            };
            let samples = &mut inner.samples[r as usize];
            match samples.last() {
                Some(last) if t < last.t => continue,
                Some(last) if t == last.t => continue,
                _ => samples.push(Sample::new(t, v)),
            }
            stats.samples += 1;
        }
        Ok(stats)
    }

    fn rollback(self: Box<Self>) {}
}

struct MemQuerier<'a> {
    store: &'a MemStorage,
    range: TimeRange,
}

fn matches_all(labels: &Labels, matchers: &[Matcher]) -> bool {
    matchers
        .iter()
        .all(|m| m.matches(labels.get(&m.name).unwrap_or("")))
}

impl Querier for MemQuerier<'_> {
    fn select(
        &self,
        matchers: &[Matcher],
        hints: SelectHints,
    ) -> Result<SeriesSet<'_>, StorageError> {
        let inner = self.store.inner.read();
        let range = TimeRange::new(
            hints.range.min.max(self.range.min),
            hints.range.max.min(self.range.max),
        );
        let mut out: BTreeMap<Labels, Vec<Sample>> = BTreeMap::new();
        for (i, labels) in inner.labels.iter().enumerate() {
            if !matches_all(labels, matchers) {
                continue;
            }
            let all = &inner.samples[i];
            let lo = all.partition_point(|s| s.t < range.min);
            let hi = all.partition_point(|s| s.t <= range.max);
            if lo >= hi {
                continue;
            }
            let samples = if hints.with_samples {
                all[lo..hi].to_vec()
            } else {
                Vec::new()
            };
            out.insert(labels.clone(), samples);
        }
        Ok(Box::new(out.into_iter().map(|(labels, samples)| {
            Ok(Series {
                labels,
                estimated_samples: samples.len(),
                samples: Box::new(VecSampleIter::new(samples)),
            })
        })))
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let mut names = BTreeSet::new();
        for s in self.select(matchers, SelectHints::series_only(self.range))? {
            names.extend(s?.labels.iter().map(|l| l.name.to_string()));
        }
        Ok(names.into_iter().collect())
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let mut values = BTreeSet::new();
        for s in self.select(matchers, SelectHints::series_only(self.range))? {
            if let Some(v) = s?.labels.get(name) {
                values.insert(v.to_string());
            }
        }
        Ok(values.into_iter().collect())
    }
}

impl Storage for MemStorage {
    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(MemAppender {
            store: self,
            pending: Vec::new(),
            new_series: HashMap::new(),
        })
    }

    fn querier(&self, range: TimeRange) -> Result<Box<dyn Querier + '_>, StorageError> {
        Ok(Box::new(MemQuerier { store: self, range }))
    }

    fn series_labels(&self, series: SeriesRef) -> Option<Labels> {
        self.inner.read().labels.get(series as usize).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(name: &str, job: &str) -> Labels {
        Labels::from_pairs(&[("__name__", name), ("job", job)]).unwrap()
    }

    #[test]
    fn commit_makes_visible_and_rollback_discards() {
        let s = MemStorage::new();
        let mut a = s.appender();
        a.append(&labels("up", "a"), 10, 1.0).unwrap();
        a.rollback();
        assert_eq!(s.series_count(), 0);
        let mut a = s.appender();
        a.append(&labels("up", "a"), 10, 1.0).unwrap();
        a.append(&labels("up", "b"), 10, 0.0).unwrap();
        let st = a.commit().unwrap();
        assert_eq!(
            st,
            CommitStats {
                samples: 2,
                series_created: 2
            }
        );
        let q = s.querier(TimeRange::ALL).unwrap();
        let set: Vec<_> = q
            .select(
                &[Matcher::equal("__name__", "up")],
                SelectHints::samples(TimeRange::ALL),
            )
            .unwrap()
            .collect();
        assert_eq!(set.len(), 2);
        assert_eq!(q.label_values("job", &[]).unwrap(), vec!["a", "b"]);
        assert_eq!(q.label_names(&[]).unwrap(), vec!["__name__", "job"]);
    }

    #[test]
    fn refuses_out_of_order_and_series_over_limit() {
        let s = MemStorage::with_series_limit(1);
        let mut a = s.appender();
        let r = a.append(&labels("up", "a"), 10, 1.0).unwrap();
        assert!(r == u64::MAX);
        a.commit().unwrap();
        let mut a = s.appender();
        assert!(matches!(
            a.append(&labels("up", "a"), 5, 1.0),
            Err(AppendError::OutOfOrder { .. })
        ));
        assert!(matches!(
            a.append(&labels("up", "a"), 10, 2.0),
            Err(AppendError::DuplicateTimestamp { .. })
        ));
        assert!(matches!(
            a.append(&labels("up", "b"), 10, 2.0),
            Err(AppendError::SeriesLimit { limit: 1 })
        ));
        a.append(&labels("up", "a"), 20, 1.0).unwrap();
        assert_eq!(a.commit().unwrap().samples, 1);
    }
}
