//! The series table (`id / 1024 / 16 → the zstd-compressed labels of those ids, 1,024 a frame`) and the postings
//! (blocks of a label name's values with their ids) in sled: what a persisted series is called and which series a matcher selects, read through small caches.

use std::collections::BTreeMap;
use std::sync::Arc;

use lookout_model::Labels;
use lookout_storage::StorageError;
use roaring::RoaringBitmap;

use super::postings::pair_key;
use super::postings_blocks::{self, NameChange};
use super::{
    ALL_POSTINGS_KEY, MAX_VALUE, SERIES_SEGMENT, SeriesSegment, SledPostings, Store, codec, corrupt,
};
use super::{id_runs, series_groups};
use crate::query::postings::PostingsIndex;

impl Store {
    fn segment(&self, seg: u32) -> Result<Arc<SeriesSegment>, StorageError> {
        if let Some(s) = self.segments.lock().get(&seg) {
            return Ok(s);
        }
        let (group, slot) = series_groups::locate(seg);
        let value = self
            .series
            .get(group.to_be_bytes())
            .map_err(|e| self.err(e))?;
        let frames = match &value {
            Some(v) => {
                series_groups::parse(v).map_err(|d| corrupt(&self.path, "series group", d))?
            }
            None => Vec::new(),
        };
        let entries = match frames.iter().find(|(s, _)| *s == slot) {
            None => Vec::new(),
            Some((_, z)) => {
                decode_segment(z).map_err(|d| corrupt(&self.path, "series segment", d))?
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
            let (_, v) = kv.map_err(|e| self.err(e))?;
            let frames =
                series_groups::parse(&v).map_err(|d| corrupt(&self.path, "series group", d))?;
            for (_, z) in frames {
                for (id, labels) in
                    decode_segment(z).map_err(|d| corrupt(&self.path, "series segment", d))?
                {
                    f(id, &labels);
                }
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
        let mut rewritten = BTreeMap::new();
        for (seg, gone) in by_seg {
            let kept: Vec<(u32, Labels)> = self
                .segment(seg)?
                .iter()
                .filter(|(id, _)| !gone.contains(*id))
                .cloned()
                .collect();
            rewritten.insert(seg, kept);
        }
        // Postings first: a crash between the two leaves series in the table that no postings name (found again
        // by nothing, harmless), never postings naming series the table has lost (which retention could not remove).
        self.change_postings(entries, false)?;
        self.write_segments(rewritten, level)?;
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
        let mut rewritten = BTreeMap::new();
        for (seg, new) in by_seg {
            let mut all: Vec<(u32, Labels)> = (*self.segment(seg)?).clone();
            all.extend(new);
            all.sort_by_key(|(id, _)| *id);
            all.dedup_by_key(|(id, _)| *id);
            rewritten.insert(seg, all);
        }
        // Postings first: a crash between the two leaves the series out of the table, so the next persistence run
        // writes them again (adding postings twice changes nothing).
        self.change_postings(&entries, true)?;
        self.write_segments(rewritten, level)?;
        Ok(())
    }

    /// Replaces segments (an empty one is removed), one read-modify-write of each touched group.
    fn write_segments(
        &self,
        segments: BTreeMap<u32, SeriesSegment>,
        level: i32,
    ) -> Result<(), StorageError> {
        let mut by_group: BTreeMap<u32, Vec<(u8, SeriesSegment)>> = BTreeMap::new();
        for (seg, entries) in segments {
            let (group, slot) = series_groups::locate(seg);
            by_group.entry(group).or_default().push((slot, entries));
            self.segments.lock().remove(&seg);
        }
        for (group, changed) in by_group {
            let key = group.to_be_bytes();
            let mut frames: Vec<(u8, Vec<u8>)> =
                match self.series.get(key).map_err(|e| self.err(e))? {
                    Some(v) => series_groups::parse(&v)
                        .map_err(|d| corrupt(&self.path, "series group", d))?
                        .into_iter()
                        .filter(|(slot, _)| !changed.iter().any(|(s, _)| s == slot))
                        .map(|(slot, z)| (slot, z.to_vec()))
                        .collect(),
                    None => Vec::new(),
                };
            for (slot, entries) in changed.into_iter().filter(|(_, e)| !e.is_empty()) {
                let mut raw = Vec::new();
                codec::encode_series(&entries, &mut raw);
                frames.push((slot, codec::compress(&raw, level)?));
            }
            if frames.is_empty() {
                self.series.remove(key).map_err(|e| self.err(e))?;
            } else {
                self.series
                    .insert(key, series_groups::build(&mut frames))
                    .map_err(|e| self.err(e))?;
            }
        }
        Ok(())
    }

    /// Adds (or removes) the postings of `entries`: per label name, its blocks (`postings_blocks`), in two
    /// batches; then the all-series key.
    fn change_postings(&self, entries: &[(u32, Labels)], add: bool) -> Result<(), StorageError> {
        let (names, all) = postings_by_name(entries);
        let bad = |d: String| corrupt(&self.path, "postings", d);
        for (name, ids) in names {
            let prefix = pair_key(&name, "");
            // One scan gives every block of the name; sled's values are shared buffers, not copies.
            let mut blocks = Vec::new();
            for kv in self.postings.scan_prefix(&prefix) {
                let (k, v) = kv.map_err(|e| self.err(e))?;
                blocks.push((k.subslice(prefix.len(), k.len() - prefix.len()), v));
            }
            let writes = postings_blocks::plan(&blocks, NameChange { ids, add }).map_err(bad)?;
            let mut first = sled::Batch::default();
            for (low, block) in writes.insert_first {
                first.insert(pair_key(&name, &low), block);
            }
            self.postings.apply_batch(first).map_err(|e| self.err(e))?;
            let mut then = sled::Batch::default();
            for (low, block) in writes.then {
                let key = [&prefix[..], &low[..]].concat();
                match block {
                    Some(b) => then.insert(key, b),
                    None => then.remove(key),
                }
            }
            self.postings.apply_batch(then).map_err(|e| self.err(e))?;
        }
        let mut have = match self
            .postings
            .get(ALL_POSTINGS_KEY)
            .map_err(|e| self.err(e))?
        {
            Some(b) => id_runs::decode(&b).map_err(bad)?,
            None => RoaringBitmap::new(),
        };
        if add {
            have |= all;
        } else {
            have -= all;
        }
        if have.is_empty() {
            self.postings
                .remove(ALL_POSTINGS_KEY)
                .map_err(|e| self.err(e))?;
        } else {
            self.postings
                .insert(ALL_POSTINGS_KEY, id_runs::encode(&have))
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// A postings reader over sled that remembers the first error it met.
    pub(crate) fn postings(&self) -> SledPostings<'_> {
        SledPostings::new(self)
    }
}

/// A segment's labels from its zstd frame.
fn decode_segment(z: &[u8]) -> Result<SeriesSegment, String> {
    codec::decode_series(&codec::decompress(z, MAX_VALUE)?)
}

/// The postings a set of series contributes: by label name, every value with its ids; and every id.
fn postings_by_name(
    entries: &[(u32, Labels)],
) -> (
    BTreeMap<String, BTreeMap<String, RoaringBitmap>>,
    RoaringBitmap,
) {
    let mut names: BTreeMap<String, BTreeMap<String, RoaringBitmap>> = BTreeMap::new();
    let mut all = RoaringBitmap::new();
    for (id, labels) in entries {
        for l in labels {
            names
                .entry(l.name.to_string())
                .or_default()
                .entry(l.value.to_string())
                .or_default()
                .insert(*id);
        }
        all.insert(*id);
    }
    (names, all)
}
