//! The series table (`id / 1024 → zstd(labels of those ids)`) and the postings (`name=value → roaring bitmap`) in
//! sled: what a persisted series is called and which series a matcher selects, read through small caches.

use std::collections::BTreeMap;
use std::sync::Arc;

use lookout_model::Labels;
use lookout_storage::StorageError;
use roaring::RoaringBitmap;

use super::postings::pair_key;
use super::{
    ALL_POSTINGS_KEY, MAX_VALUE, SERIES_SEGMENT, SeriesSegment, SledPostings, Store, codec, corrupt,
};
use crate::query::postings::PostingsIndex;

impl Store {
    fn segment(&self, seg: u32) -> Result<Arc<SeriesSegment>, StorageError> {
        if let Some(s) = self.segments.lock().get(&seg) {
            return Ok(s);
        }
        let entries = match self
            .series
            .get(seg.to_be_bytes())
            .map_err(|e| self.err(e))?
        {
            None => Vec::new(),
            Some(z) => {
                let raw = codec::decompress(&z, MAX_VALUE)
                    .map_err(|d| corrupt(&self.path, "series segment", d))?;
                codec::decode_series(&raw).map_err(|d| corrupt(&self.path, "series segment", d))?
            }
        };
        let weight = entries
            .iter()
            .map(|(_, l)| l.approx_heap_bytes())
            .sum::<usize>()
            + 64;
        let s = Arc::new(entries);
        self.segments.lock().insert(seg, s.clone(), weight);
        Ok(s)
    }

    /// The stored labels of series `id`.
    pub(crate) fn labels(&self, id: u32) -> Result<Option<Labels>, StorageError> {
        let seg = self.segment(id / SERIES_SEGMENT)?;
        Ok(seg
            .binary_search_by_key(&id, |(i, _)| *i)
            .ok()
            .map(|i| seg[i].1.clone()))
    }

    /// Every stored series, segment by segment.
    pub(crate) fn for_each_series(
        &self,
        f: &mut dyn FnMut(u32, &Labels),
    ) -> Result<(), StorageError> {
        for kv in self.series.iter() {
            let (_, z) = kv.map_err(|e| self.err(e))?;
            let raw = codec::decompress(&z, MAX_VALUE)
                .map_err(|d| corrupt(&self.path, "series segment", d))?;
            for (id, labels) in
                codec::decode_series(&raw).map_err(|d| corrupt(&self.path, "series segment", d))?
            {
                f(id, &labels);
            }
        }
        Ok(())
    }

    /// Every id in the series table (the "all" postings).
    pub(crate) fn all_series_ids(&self) -> Result<RoaringBitmap, StorageError> {
        let sp = self.postings();
        let all = PostingsIndex::all(&sp);
        sp.finish()?;
        Ok(all)
    }

    /// Removes series from the series table and postings (after retention deleted all their data).
    pub(crate) fn remove_series(
        &self,
        entries: &[(u32, Labels)],
        level: i32,
    ) -> Result<(), StorageError> {
        let mut by_seg: BTreeMap<u32, RoaringBitmap> = BTreeMap::new();
        for (id, _) in entries {
            by_seg.entry(id / SERIES_SEGMENT).or_default().insert(*id);
        }
        let pairs = postings_by_pair(entries);
        for (seg, gone) in by_seg {
            let kept: Vec<(u32, Labels)> = self
                .segment(seg)?
                .iter()
                .filter(|(id, _)| !gone.contains(*id))
                .cloned()
                .collect();
            if kept.is_empty() {
                self.series
                    .remove(seg.to_be_bytes())
                    .map_err(|e| self.err(e))?;
            } else {
                let mut raw = Vec::new();
                codec::encode_series(&kept, &mut raw);
                self.series
                    .insert(seg.to_be_bytes(), codec::compress(&raw, level)?)
                    .map_err(|e| self.err(e))?;
            }
            self.segments.lock().remove(&seg);
        }
        for (k, gone) in pairs {
            let Some(b) = self.postings.get(&k).map_err(|e| self.err(e))? else {
                continue;
            };
            let mut bm = RoaringBitmap::deserialize_from(&b[..])
                .map_err(|e| corrupt(&self.path, "postings", e))?;
            bm -= gone;
            if bm.is_empty() {
                self.postings.remove(&k).map_err(|e| self.err(e))?;
            } else {
                let mut v = Vec::with_capacity(bm.serialized_size());
                bm.serialize_into(&mut v)
                    .map_err(|e| StorageError::Other(format!("postings serialisation: {e}")))?;
                self.postings.insert(k, v).map_err(|e| self.err(e))?;
            }
        }
        Ok(())
    }

    /// Adds series to the series table and postings (read-modify-write of the touched segments and pairs).
    pub(crate) fn put_series(
        &self,
        mut entries: Vec<(u32, Labels)>,
        level: i32,
    ) -> Result<(), StorageError> {
        if entries.is_empty() {
            return Ok(());
        }
        entries.sort_by_key(|(id, _)| *id);
        let mut by_seg: BTreeMap<u32, Vec<(u32, Labels)>> = BTreeMap::new();
        for (id, l) in &entries {
            by_seg
                .entry(id / SERIES_SEGMENT)
                .or_default()
                .push((*id, l.clone()));
        }
        for (seg, new) in by_seg {
            let mut all: Vec<(u32, Labels)> = (*self.segment(seg)?).clone();
            all.extend(new);
            all.sort_by_key(|(id, _)| *id);
            all.dedup_by_key(|(id, _)| *id);
            let mut raw = Vec::new();
            codec::encode_series(&all, &mut raw);
            self.series
                .insert(seg.to_be_bytes(), codec::compress(&raw, level)?)
                .map_err(|e| self.err(e))?;
            self.segments.lock().remove(&seg);
        }
        let pairs = postings_by_pair(&entries);
        for (k, add) in pairs {
            let mut bm = match self.postings.get(&k).map_err(|e| self.err(e))? {
                Some(b) => RoaringBitmap::deserialize_from(&b[..])
                    .map_err(|e| corrupt(&self.path, "postings", e))?,
                None => RoaringBitmap::new(),
            };
            bm |= add;
            let mut v = Vec::with_capacity(bm.serialized_size());
            bm.serialize_into(&mut v)
                .map_err(|e| StorageError::Other(format!("postings serialisation: {e}")))?;
            self.postings.insert(k, v).map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// A postings reader over sled that remembers the first error it met.
    pub(crate) fn postings(&self) -> SledPostings<'_> {
        SledPostings::new(self)
    }
}

/// The postings a set of series contributes: every `name=value` pair and the all-series key, each with its ids, in
/// key order (sled then rewrites each leaf once per run of inserts instead of once per scattered insert).
fn postings_by_pair(entries: &[(u32, Labels)]) -> BTreeMap<Vec<u8>, RoaringBitmap> {
    let mut pairs: BTreeMap<Vec<u8>, RoaringBitmap> = BTreeMap::new();
    for (id, labels) in entries {
        for l in labels {
            pairs
                .entry(pair_key(&l.name, &l.value))
                .or_default()
                .insert(*id);
        }
        pairs
            .entry(ALL_POSTINGS_KEY.to_vec())
            .or_default()
            .insert(*id);
    }
    pairs
}
