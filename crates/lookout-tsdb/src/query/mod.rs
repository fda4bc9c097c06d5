//! The read side: `Querier` over head and persisted parts. Series are chosen through postings, sorted by labels,
//! and their samples (persisted pieces, then head chunks) are decoded lazily as the caller iterates.

pub(crate) mod iter;
pub(crate) mod postings;

use std::collections::BTreeSet;
use std::sync::Arc;

use lookout_model::{Labels, Matcher, TimeRange};
use lookout_storage::{
    MergeSampleIter, Querier, SampleIter, SelectHints, Series, SeriesSet, StorageError,
    VecSampleIter,
};
use roaring::RoaringBitmap;

use crate::db::Inner;
use crate::store::codec::PartDir;
use crate::store::{PartInfo, PartsView};
use iter::{HeadIter, PersistedIter, Piece};

/// A read view over `[range.min, range.max]`.
pub(crate) struct TsdbQuerier<'a> {
    inner: &'a Inner,
    range: TimeRange,
}

/// Parts overlapping the query with their directories, re-read if persistence moves data out of the head.
struct PartsSnapshot {
    view: Arc<PartsView>,
    dirs: Vec<(PartInfo, Arc<PartDir>)>,
}

impl PartsSnapshot {
    fn take(inner: &Inner, range: TimeRange) -> Result<Self, StorageError> {
        let view = inner.store.view();
        let mut dirs = Vec::new();
        for p in view.overlapping(range.min, range.max) {
            dirs.push((*p, inner.store.dir(p)?));
        }
        Ok(PartsSnapshot { view, dirs })
    }

    fn contains(&self, id: u32) -> bool {
        self.dirs
            .iter()
            .any(|(_, d)| d.binary_search_by_key(&id, |e| e.id).is_ok())
    }

    fn pieces(&self, id: u32, range: TimeRange) -> (Vec<Piece>, usize) {
        let mut pieces = Vec::new();
        let mut estimated = 0;
        for (p, d) in &self.dirs {
            if let Ok(i) = d.binary_search_by_key(&id, |e| e.id) {
                let e = d[i];
                if range.overlaps(e.mint, e.maxt) {
                    estimated += e.count as usize;
                    pieces.push(Piece {
                        part: p.key,
                        dir: d.clone(),
                        group: e.group,
                        index: e.index,
                    });
                }
            }
        }
        (pieces, estimated)
    }
}

impl<'a> TsdbQuerier<'a> {
    pub(crate) fn new(inner: &'a Inner, range: TimeRange) -> Self {
        TsdbQuerier { inner, range }
    }

    fn clip(&self, r: TimeRange) -> TimeRange {
        TimeRange::new(r.min.max(self.range.min), r.max.min(self.range.max))
    }

    /// Ids and labels of the matching series that may have data in `range`, sorted by labels.
    fn matching(
        &self,
        matchers: &[Matcher],
        range: TimeRange,
    ) -> Result<(Vec<(Labels, u32)>, PartsSnapshot), StorageError> {
        let head_ids = postings::select(&*self.inner.head.postings.read(), matchers);
        let parts = PartsSnapshot::take(self.inner, range)?;
        let mut out = Vec::with_capacity(head_ids.len() as usize);
        let mut not_in_head = RoaringBitmap::new();
        for id in &head_ids {
            match self.inner.head.labels(id) {
                Some(l) => out.push((l, id)),
                None => {
                    not_in_head.insert(id);
                }
            }
        }
        if !parts.dirs.is_empty() {
            let sp = self.inner.store.postings();
            let mut ids = postings::select(&sp, matchers);
            sp.finish()?;
            ids -= &head_ids;
            ids |= not_in_head;
            for id in &ids {
                if !parts.contains(id) {
                    continue;
                }
                if let Some(l) = self.inner.store.labels(id)? {
                    out.push((l, id));
                }
            }
        }
        out.sort();
        out.dedup_by(|a, b| a.1 == b.1);
        Ok((out, parts))
    }
}

impl TsdbQuerier<'_> {
    /// Ids with persisted samples in the querier's range (`None` when no part overlaps it). Lets label listings
    /// skip series whose data retention deleted, whose postings stay behind.
    fn persisted_live(&self) -> Result<Option<RoaringBitmap>, StorageError> {
        let parts = PartsSnapshot::take(self.inner, self.range)?;
        if parts.dirs.is_empty() {
            return Ok(None);
        }
        let mut live = RoaringBitmap::new();
        for (_, dir) in &parts.dirs {
            live |= RoaringBitmap::from_sorted_iter(dir.iter().map(|e| e.id)).unwrap_or_default();
        }
        Ok(Some(live))
    }
}

impl Querier for TsdbQuerier<'_> {
    fn select(
        &self,
        matchers: &[Matcher],
        hints: SelectHints,
    ) -> Result<SeriesSet<'_>, StorageError> {
        let range = self.clip(hints.range);
        if range.is_empty() {
            return Ok(Box::new(std::iter::empty()));
        }
        let (series, mut parts) = self.matching(matchers, range)?;
        let inner = self.inner;
        let mut series = series.into_iter();
        Ok(Box::new(std::iter::from_fn(move || {
            for (labels, id) in series.by_ref() {
                let snap = inner.head.snapshot(id, range.min, range.max);
                // Persistence may have moved samples out of the head after our parts snapshot: take a new one.
                if inner.head.truncated_before() > parts.view.boundary {
                    match PartsSnapshot::take(inner, range) {
                        Ok(p) => parts = p,
                        Err(e) => return Some(Err(e)),
                    }
                }
                let (pieces, persisted_estimate) = parts.pieces(id, range);
                let head = snap.map(|(_, s)| s).unwrap_or_default();
                let estimated_samples = persisted_estimate + head.estimated;
                if estimated_samples == 0 {
                    continue;
                }
                if !hints.with_samples {
                    let samples: Box<dyn SampleIter> = Box::new(VecSampleIter::default());
                    return Some(Ok(Series {
                        labels,
                        samples,
                        estimated_samples,
                    }));
                }
                let mut samples: Box<dyn SampleIter + '_> =
                    match (pieces.is_empty(), head.chunks.is_empty()) {
                        (false, true) => Box::new(PersistedIter::new(&inner.store, pieces, range)),
                        (true, _) => Box::new(HeadIter::new(head.chunks, range)),
                        // Both: a merge also hides the brief overlap while persistence truncates the head.
                        (false, false) => Box::new(MergeSampleIter::new(
                            Box::new(PersistedIter::new(&inner.store, pieces, range)),
                            Box::new(HeadIter::new(head.chunks, range)),
                        )),
                    };
                if !head.ooo.is_empty() {
                    samples = Box::new(MergeSampleIter::new(
                        samples,
                        Box::new(VecSampleIter::new(head.ooo)),
                    ));
                }
                return Some(Ok(Series {
                    labels,
                    samples,
                    estimated_samples,
                }));
            }
            None
        })))
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let mut names = BTreeSet::new();
        if matchers.is_empty() {
            names.extend(postings::PostingsIndex::names(
                &*self.inner.head.postings.read(),
            ));
            if let Some(live) = self.persisted_live()? {
                let sp = self.inner.store.postings();
                for name in postings::PostingsIndex::names(&sp) {
                    let mut used = false;
                    postings::PostingsIndex::for_each_value(&sp, &name, "", &mut |_, bm| {
                        used |= !bm.is_disjoint(&live);
                    });
                    if used {
                        names.insert(name);
                    }
                }
                sp.finish()?;
            }
            return Ok(names.into_iter().collect());
        }
        for s in self.select(matchers, SelectHints::series_only(self.range))? {
            names.extend(s?.labels.iter().map(|l| l.name.to_string()));
        }
        Ok(names.into_iter().collect())
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let mut values = BTreeSet::new();
        if matchers.is_empty() {
            let live = self.persisted_live()?;
            let mut add = |v: &str| {
                values.insert(v.to_string());
            };
            postings::PostingsIndex::for_each_value(
                &*self.inner.head.postings.read(),
                name,
                "",
                &mut |v, bm| {
                    if !bm.is_empty() {
                        add(v);
                    }
                },
            );
            if let Some(live) = live {
                let sp = self.inner.store.postings();
                postings::PostingsIndex::for_each_value(&sp, name, "", &mut |v, bm| {
                    if !bm.is_disjoint(&live) {
                        add(v);
                    }
                });
                sp.finish()?;
            }
            return Ok(values.into_iter().collect());
        }
        for s in self.select(matchers, SelectHints::series_only(self.range))? {
            if let Some(v) = s?.labels.get(name) {
                values.insert(v.to_string());
            }
        }
        Ok(values.into_iter().collect())
    }
}
