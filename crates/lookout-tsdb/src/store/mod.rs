//! Persisted data in sled: parts of sealed chunks (zstd groups), their directories, the series table and postings.
//!
//! Trees: the default tree holds meta keys and part headers (so a persistence run commits atomically with one
//! batch), `chunks` holds `part key ‖ group → zstd(group)`, `series` holds `id / 1024 → zstd(series segment)`,
//! `postings` holds `name ‖ 0xff ‖ value → roaring bitmap` (and `0xff 0xff` → every persisted id).

pub(crate) mod cache;
pub(crate) mod codec;
mod postings;

pub(crate) use postings::SledPostings;
use postings::pair_key;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lookout_model::Labels;
use lookout_storage::StorageError;
use parking_lot::{Mutex, RwLock};
use roaring::RoaringBitmap;

use crate::query::postings::PostingsIndex;
use cache::BoundedCache;
use codec::{DirEntry, Group, PartKey, Reader};

const BOUNDARY_KEY: &[u8] = b"m:boundary";
const NEXT_SEQ_KEY: &[u8] = b"m:next_seq";
const IN_PROGRESS_KEY: &[u8] = b"m:persist_in_progress";
const PART_PREFIX: &[u8] = b"p:";
const ALL_POSTINGS_KEY: &[u8] = b"\xff\xff";
/// Series per series-table segment.
pub(crate) const SERIES_SEGMENT: u32 = 1024;
/// Decompressed size limit for any sled value we wrote (guards against a corrupt length).
const MAX_VALUE: usize = 256 << 20;
/// Bytes of a part header before its compressed directory.
const PART_HEADER_LEN: usize = 40;

/// What sled holds, by tree, next to its size on disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SledUsage {
    /// Keys and values of the zstd chunk groups.
    pub chunk_groups: u64,
    /// Part headers with their compressed directories, and meta keys.
    pub parts_and_meta: u64,
    /// The series table (compressed segments of labels).
    pub series_table: u64,
    /// Postings (roaring bitmaps per label pair).
    pub postings: u64,
    /// `Db::size_on_disk()`: sled's files, overhead included.
    pub size_on_disk: u64,
}

/// Decoded series-table segment: (id, labels) sorted by id.
type SeriesSegment = Vec<(u32, Labels)>;

/// Summary of one persisted part, kept in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartInfo {
    pub(crate) key: PartKey,
    pub(crate) mint: i64,
    pub(crate) maxt: i64,
    pub(crate) series: u32,
    pub(crate) samples: u64,
    pub(crate) groups: u32,
    pub(crate) bytes: u64,
}

impl PartInfo {
    fn encode_header(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.mint.to_be_bytes());
        out.extend_from_slice(&self.maxt.to_be_bytes());
        out.extend_from_slice(&self.series.to_be_bytes());
        out.extend_from_slice(&self.samples.to_be_bytes());
        out.extend_from_slice(&self.groups.to_be_bytes());
        out.extend_from_slice(&self.bytes.to_be_bytes());
    }

    fn decode_header(key: PartKey, r: &mut Reader<'_>) -> Result<PartInfo, String> {
        let mint = r.i64()?;
        let maxt = r.i64()?;
        let series = u32::from_be_bytes(r.bytes(4)?.try_into().expect("4"));
        let samples = u64::from_be_bytes(r.bytes(8)?.try_into().expect("8"));
        let groups = u32::from_be_bytes(r.bytes(4)?.try_into().expect("4"));
        let bytes = u64::from_be_bytes(r.bytes(8)?.try_into().expect("8"));
        Ok(PartInfo {
            key,
            mint,
            maxt,
            series,
            samples,
            groups,
            bytes,
        })
    }
}

/// The committed parts and the persisted boundary, swapped as a whole.
#[derive(Debug, Clone, Default)]
pub(crate) struct PartsView {
    pub(crate) parts: Vec<PartInfo>,
    /// Every sample before this time is persisted (i64::MIN: nothing yet).
    pub(crate) boundary: i64,
}

impl PartsView {
    pub(crate) fn overlapping(&self, mint: i64, maxt: i64) -> impl Iterator<Item = &PartInfo> {
        self.parts
            .iter()
            .filter(move |p| p.mint <= maxt && p.maxt >= mint)
    }

    pub(crate) fn data_bytes(&self) -> u64 {
        self.parts.iter().map(|p| p.bytes).sum()
    }
}

/// A finished part ready to commit: header plus compressed directory.
pub(crate) struct PendingPart {
    pub(crate) info: PartInfo,
    pub(crate) dir_z: Vec<u8>,
}

/// The sled database and caches of decoded values.
pub(crate) struct Store {
    path: PathBuf,
    db: sled::Db,
    chunks: sled::Tree,
    series: sled::Tree,
    postings: sled::Tree,
    view: RwLock<Arc<PartsView>>,
    dirs: Mutex<BoundedCache<PartKey, Arc<Vec<DirEntry>>>>,
    groups: Mutex<BoundedCache<(PartKey, u32), Arc<Group>>>,
    segments: Mutex<BoundedCache<u32, Arc<SeriesSegment>>>,
}

fn corrupt(path: &Path, what: &str, detail: impl std::fmt::Display) -> StorageError {
    StorageError::Corruption {
        path: path.display().to_string(),
        offset: 0,
        detail: format!(
            "{what}: {detail}; the sled database is damaged: move the directory away and restart to rebuild \
             from the WAL (persisted history is lost), or restore it from a backup"
        ),
    }
}

impl Store {
    fn err(&self, e: sled::Error) -> StorageError {
        match e {
            sled::Error::Io(source) => StorageError::Io {
                path: self.path.display().to_string(),
                source,
            },
            sled::Error::Corruption { .. } => corrupt(&self.path, "sled reports corruption", e),
            other => StorageError::Other(format!("sled error in {}: {other}", self.path.display())),
        }
    }

    /// Opens (or creates) the database; a panic inside sled's recovery becomes `StorageError::Corruption`.
    pub(crate) fn open(
        path: &Path,
        cache_bytes: u64,
        flush_every_ms: u64,
        cache_budget: usize,
    ) -> Result<Self, StorageError> {
        let cfg = sled::Config::new()
            .path(path)
            .cache_capacity(cache_bytes)
            .flush_every_ms(Some(flush_every_ms.max(1)))
            .use_compression(false);
        let open_once = || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cfg.open()))
                .map_err(|_| corrupt(path, "sled panicked while opening", "recovery failed"))
        };
        let mut opened = open_once()?;
        // A sled database closed a moment ago in this process (a test, an in-process restart) keeps its file lock
        // until its flusher thread has exited: wait for it, boundedly, instead of failing.
        for _ in 0..100 {
            match &opened {
                Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    opened = open_once()?;
                }
                _ => break,
            }
        }
        let db = opened.map_err(|e| match e {
            sled::Error::Io(source) => StorageError::Io {
                path: path.display().to_string(),
                source,
            },
            other => corrupt(path, "sled could not open", other),
        })?;
        let tree = |name: &str| db.open_tree(name);
        let (chunks, series, postings) = match (tree("chunks"), tree("series"), tree("postings")) {
            (Ok(a), Ok(b), Ok(c)) => (a, b, c),
            (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => {
                return Err(corrupt(path, "sled trees", e));
            }
        };
        let store = Store {
            path: path.to_path_buf(),
            db,
            chunks,
            series,
            postings,
            view: RwLock::new(Arc::new(PartsView {
                parts: Vec::new(),
                boundary: i64::MIN,
            })),
            dirs: Mutex::new(BoundedCache::new(cache_budget / 2)),
            groups: Mutex::new(BoundedCache::new(cache_budget / 4)),
            segments: Mutex::new(BoundedCache::new(cache_budget / 4)),
        };
        store.load_view()?;
        store.remove_orphans()?;
        Ok(store)
    }

    fn load_view(&self) -> Result<(), StorageError> {
        let boundary = match self.db.get(BOUNDARY_KEY).map_err(|e| self.err(e))? {
            Some(b) => Reader::new(&b)
                .i64()
                .map_err(|d| corrupt(&self.path, "boundary key", d))?,
            None => i64::MIN,
        };
        let mut parts = Vec::new();
        for kv in self.db.scan_prefix(PART_PREFIX) {
            let (k, v) = kv.map_err(|e| self.err(e))?;
            let key = PartKey::from_bytes(&k[PART_PREFIX.len()..])
                .ok_or_else(|| corrupt(&self.path, "part key", format!("{} bytes", k.len())))?;
            let info = PartInfo::decode_header(key, &mut Reader::new(&v))
                .map_err(|d| corrupt(&self.path, "part header", d))?;
            parts.push(info);
        }
        parts.sort_by_key(|p| p.key);
        *self.view.write() = Arc::new(PartsView { parts, boundary });
        Ok(())
    }

    /// Drops chunk groups left by a persistence run that did not commit.
    fn remove_orphans(&self) -> Result<(), StorageError> {
        if self
            .db
            .get(IN_PROGRESS_KEY)
            .map_err(|e| self.err(e))?
            .is_none()
        {
            return Ok(());
        }
        let view = self.view();
        let committed: std::collections::HashSet<PartKey> =
            view.parts.iter().map(|p| p.key).collect();
        let mut removed = 0;
        for k in self.chunks.iter().keys() {
            let k = k.map_err(|e| self.err(e))?;
            if PartKey::from_bytes(&k).is_some_and(|pk| !committed.contains(&pk)) {
                self.chunks.remove(&k).map_err(|e| self.err(e))?;
                removed += 1;
            }
        }
        self.db.remove(IN_PROGRESS_KEY).map_err(|e| self.err(e))?;
        tracing::warn!(path = %self.path.display(), removed, "removed chunk groups of an unfinished persistence run");
        Ok(())
    }

    /// The committed parts and boundary.
    pub(crate) fn view(&self) -> Arc<PartsView> {
        self.view.read().clone()
    }

    /// Sequence number for the next persistence run's parts.
    pub(crate) fn next_seq(&self) -> Result<u32, StorageError> {
        Ok(match self.db.get(NEXT_SEQ_KEY).map_err(|e| self.err(e))? {
            Some(b) if b.len() == 4 => u32::from_be_bytes(b[..4].try_into().expect("4")),
            _ => 0,
        })
    }

    /// Marks a persistence run as started (orphans are cleaned at the next open if it never commits).
    pub(crate) fn begin_persist(&self) -> Result<(), StorageError> {
        self.db
            .insert(IN_PROGRESS_KEY, &[1u8][..])
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Writes one compressed chunk group.
    pub(crate) fn put_group(&self, key: PartKey, group: u32, z: &[u8]) -> Result<(), StorageError> {
        self.chunks
            .insert(key.group_key(group), z)
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Commits parts and the new boundary atomically, then flushes sled to disk.
    pub(crate) fn commit_persist(
        &self,
        parts: Vec<PendingPart>,
        boundary: i64,
        next_seq: u32,
    ) -> Result<(), StorageError> {
        let mut batch = sled::Batch::default();
        for p in &parts {
            let mut v = Vec::with_capacity(PART_HEADER_LEN + p.dir_z.len());
            p.info.encode_header(&mut v);
            v.extend_from_slice(&p.dir_z);
            let mut k = PART_PREFIX.to_vec();
            k.extend_from_slice(&p.info.key.bytes());
            batch.insert(k, v);
        }
        batch.insert(BOUNDARY_KEY, &boundary.to_be_bytes()[..]);
        batch.insert(NEXT_SEQ_KEY, &next_seq.to_be_bytes()[..]);
        batch.remove(IN_PROGRESS_KEY);
        self.db.apply_batch(batch).map_err(|e| self.err(e))?;
        self.flush()?;
        let mut view = (*self.view()).clone();
        view.parts.extend(parts.iter().map(|p| p.info));
        view.parts.sort_by_key(|p| p.key);
        view.boundary = view.boundary.max(boundary);
        *self.view.write() = Arc::new(view);
        Ok(())
    }

    /// Deletes a part: header first (so readers stop seeing it), then its groups.
    pub(crate) fn delete_part(&self, key: PartKey) -> Result<(), StorageError> {
        let mut k = PART_PREFIX.to_vec();
        k.extend_from_slice(&key.bytes());
        self.db.remove(k).map_err(|e| self.err(e))?;
        let mut view = (*self.view()).clone();
        view.parts.retain(|p| p.key != key);
        *self.view.write() = Arc::new(view);
        for g in self.chunks.scan_prefix(key.bytes()).keys() {
            let g = g.map_err(|e| self.err(e))?;
            self.chunks.remove(g).map_err(|e| self.err(e))?;
        }
        self.dirs.lock().remove(&key);
        Ok(())
    }

    /// Makes everything written so far durable.
    pub(crate) fn flush(&self) -> Result<(), StorageError> {
        self.db.flush().map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Bytes of keys and values we keep in each tree, and sled's size on disk (to tell its overhead apart).
    pub(crate) fn usage(&self) -> Result<SledUsage, StorageError> {
        let sum = |t: &sled::Tree| -> Result<u64, StorageError> {
            let mut n = 0u64;
            for kv in t.iter() {
                let (k, v) = kv.map_err(|e| self.err(e))?;
                n += (k.len() + v.len()) as u64;
            }
            Ok(n)
        };
        Ok(SledUsage {
            chunk_groups: sum(&self.chunks)?,
            parts_and_meta: sum(&self.db)?,
            series_table: sum(&self.series)?,
            postings: sum(&self.postings)?,
            size_on_disk: self.size_on_disk(),
        })
    }

    /// sled's size on disk.
    pub(crate) fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }

    /// The directory of a part (decoded once, then cached).
    pub(crate) fn dir(&self, info: &PartInfo) -> Result<Arc<Vec<DirEntry>>, StorageError> {
        if let Some(d) = self.dirs.lock().get(&info.key) {
            return Ok(d);
        }
        let mut k = PART_PREFIX.to_vec();
        k.extend_from_slice(&info.key.bytes());
        let v = self
            .db
            .get(&k)
            .map_err(|e| self.err(e))?
            .ok_or(StorageError::Other(format!(
                "part {:?} disappeared while being read (deleted by retention)",
                info.key
            )))?;
        let raw = codec::decompress(&v[PART_HEADER_LEN..], MAX_VALUE)
            .map_err(|d| corrupt(&self.path, "part directory", d))?;
        let dir = Arc::new(
            codec::decode_dir(&raw, info.mint)
                .map_err(|d| corrupt(&self.path, "part directory", d))?,
        );
        self.dirs.lock().insert(
            info.key,
            dir.clone(),
            dir.len() * std::mem::size_of::<DirEntry>() + 64,
        );
        Ok(dir)
    }

    /// A decompressed chunk group (cached).
    pub(crate) fn group(&self, key: PartKey, group: u32) -> Result<Arc<Group>, StorageError> {
        if let Some(g) = self.groups.lock().get(&(key, group)) {
            return Ok(g);
        }
        let z = self.chunks.get(key.group_key(group)).map_err(|e| self.err(e))?.ok_or(StorageError::Other(format!(
            "chunk group {group} of part {key:?} is missing (deleted by retention while being read)"
        )))?;
        let raw =
            codec::decompress(&z, MAX_VALUE).map_err(|d| corrupt(&self.path, "chunk group", d))?;
        let g = Arc::new(Group::decode(raw).map_err(|d| corrupt(&self.path, "chunk group", d))?);
        self.groups
            .lock()
            .insert((key, group), g.clone(), g.heap_bytes());
        Ok(g)
    }

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

/// The postings a set of series contributes: every `name=value` pair and the all-series key, each with its ids.
fn postings_by_pair(entries: &[(u32, Labels)]) -> HashMap<Vec<u8>, RoaringBitmap> {
    let mut pairs: HashMap<Vec<u8>, RoaringBitmap> = HashMap::new();
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
