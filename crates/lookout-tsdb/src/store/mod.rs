//! Persisted data: parts of sealed chunks (zstd groups and a directory) in immutable part files, and in sled the
//! part headers, the series table and postings.
//!
//! Trees: the default tree holds meta keys and part headers (so a persistence run commits atomically with one
//! batch), `series_groups` holds `id / 16,384 → 16 zstd series segments` (see `series_groups`), `postings` holds
//! `name ‖ 0xff ‖ low → a block of that name's values from low, each with its ids` (`postings_blocks`, ids as in
//! `id_runs`) and `0xff 0xff` → every persisted id. Parts written before part files existed keep their groups in
//! the `chunks` tree (`part key ‖ group → zstd(group)`) and their directory in the header; they are read and
//! deleted as they are, never written.

pub(crate) mod cache;
pub(crate) mod codec;
mod id_runs;
pub(crate) mod part_file;
mod postings;
mod postings_blocks;
mod read;
mod series_groups;
mod series_table;
pub(crate) mod stamps;

pub(crate) use postings::SledPostings;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lookout_model::Labels;
use lookout_storage::StorageError;
use parking_lot::{Mutex, RwLock};

use cache::BoundedCache;
use codec::{Group, PartKey, Reader};
use part_file::PartFile;

const BOUNDARY_KEY: &[u8] = b"m:boundary";
const NEXT_SEQ_KEY: &[u8] = b"m:next_seq";
const IN_PROGRESS_KEY: &[u8] = b"m:persist_in_progress";
const PART_PREFIX: &[u8] = b"p:";
const ALL_POSTINGS_KEY: &[u8] = b"\xff\xff";
/// Series per series-table segment.
pub(crate) const SERIES_SEGMENT: u32 = 1024;
/// Decompressed size limit for any sled value we wrote (guards against a corrupt length).
const MAX_VALUE: usize = 256 << 20;
/// Bytes of a part header before its compressed directory (in-sled parts) or [`FILE_TAG`].
const PART_HEADER_LEN: usize = 40;
/// The byte after a header whose part lives in a part file (an in-sled directory starts with zstd's magic, 0x28).
const FILE_TAG: u8 = b'F';

/// What sled holds, by tree, next to its size on disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SledUsage {
    /// Keys and values of the zstd chunk groups of parts written before part files (none for newer data).
    pub chunk_groups: u64,
    /// Part headers with their compressed directories, and meta keys.
    pub parts_and_meta: u64,
    /// The series table (compressed segments of labels).
    pub series_table: u64,
    /// Postings (roaring bitmaps per label pair).
    pub postings: u64,
    /// `Db::size_on_disk()`: sled's files, overhead included.
    pub size_on_disk: u64,
    /// Bytes of the part files, outside sled.
    pub part_files: u64,
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
    /// Bytes on disk: the part file, or the groups and directory of an in-sled part.
    pub(crate) bytes: u64,
    /// Whether the groups and directory are in a part file (else in sled).
    pub(crate) in_file: bool,
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
            in_file: r.rest().first() == Some(&FILE_TAG),
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

/// A finished part ready to commit: its file is written and fsynced.
pub(crate) struct PendingPart {
    pub(crate) info: PartInfo,
}

/// The sled database, the part files and caches of decoded values.
pub(crate) struct Store {
    path: PathBuf,
    parts_dir: PathBuf,
    files: Mutex<HashMap<PartKey, Arc<PartFile>>>,
    db: sled::Db,
    chunks: sled::Tree,
    series: sled::Tree,
    postings: sled::Tree,
    view: RwLock<Arc<PartsView>>,
    dirs: Mutex<BoundedCache<PartKey, Arc<codec::PartDir>>>,
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

/// sled's segment size for a new database. sled's files grow in whole segments and keep some free: with the chunk
/// data in part files, what sled holds (series table, postings, headers) is small, and its default of 512 KiB made
/// its files several times that. A tree node serialised larger than a quarter of a segment is written as a blob
/// file of its own (exactly its size); smaller segments put more of the nodes there and leave less slack in the log.
/// Measured (BENCHMARKS.md): at 109,000 nodegen series sled's files were 1.71–1.75× what they held with 64 KiB, 1.46×
/// with 16 KiB, 1.44× with 8 KiB; at 10,900 series 8 KiB was worse than 64 (more, smaller blobs).
const SLED_SEGMENT_SIZE: usize = 16 << 10;

/// The segment size to open `path` with: the one a database already there was created with (sled refuses to open
/// with another), else [`SLED_SEGMENT_SIZE`].
fn segment_size(path: &Path) -> usize {
    // The file ends in a binary checksum, so it is not UTF-8 as a whole.
    std::fs::read(path.join("conf"))
        .ok()
        .and_then(|conf| {
            String::from_utf8_lossy(&conf)
                .lines()
                .find_map(|l| l.strip_prefix("segment_size: "))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(SLED_SEGMENT_SIZE)
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

    /// Opens (or creates) the database and the part files' directory; a panic inside sled's recovery becomes
    /// `StorageError::Corruption`. The part files are opened by [`Store::open_part_files`] once the caller has
    /// checked that sled holds every persisted part (the boundary marker), so that a sled database that lost data
    /// never makes files it no longer names look like leftovers.
    pub(crate) fn open(
        path: &Path,
        parts_dir: &Path,
        cache_bytes: u64,
        flush_every_ms: u64,
        cache_budget: usize,
    ) -> Result<Self, StorageError> {
        let cfg = sled::Config::new()
            .path(path)
            .cache_capacity(cache_bytes)
            .flush_every_ms(Some(flush_every_ms.max(1)))
            .use_compression(false)
            .segment_size(segment_size(path));
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
        let (chunks, series, postings) =
            match (tree("chunks"), tree("series_groups"), tree("postings")) {
                (Ok(a), Ok(b), Ok(c)) => (a, b, c),
                (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => {
                    return Err(corrupt(path, "sled trees", e));
                }
            };
        series_groups::move_legacy_series(&db, &series, path)?;
        std::fs::create_dir_all(parts_dir).map_err(|source| StorageError::Io {
            path: parts_dir.display().to_string(),
            source,
        })?;
        let store = Store {
            path: path.to_path_buf(),
            parts_dir: parts_dir.to_path_buf(),
            files: Mutex::new(HashMap::new()),
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

    fn parts_io(&self, source: std::io::Error) -> StorageError {
        StorageError::Io {
            path: self.parts_dir.display().to_string(),
            source,
        }
    }

    /// Removes part files no committed part names (a persistence run that did not commit, a deletion cut short),
    /// then opens every committed one (checking its footer), so a damaged file is named at start-up rather than at
    /// a query. A missing or damaged file is `StorageError::Corruption` naming it, unless `drop_damaged_parts`:
    /// then that part is forgotten, with an error in the log.
    pub(crate) fn open_part_files(&self, drop_damaged_parts: bool) -> Result<(), StorageError> {
        let view = self.view();
        let committed: HashSet<PartKey> = view
            .parts
            .iter()
            .filter(|p| p.in_file)
            .map(|p| p.key)
            .collect();
        let removed = part_file::remove_uncommitted(&self.parts_dir, &committed)
            .map_err(|e| self.parts_io(e))?;
        if removed > 0 {
            tracing::warn!(dir = %self.parts_dir.display(), removed, "removed part files of an unfinished persistence run");
        }
        for p in view.parts.iter().filter(|p| p.in_file) {
            let path = self.parts_dir.join(part_file::file_name(p.key));
            match PartFile::open(&path) {
                Ok(f) => {
                    self.files.lock().insert(p.key, Arc::new(f));
                }
                Err(why) if drop_damaged_parts => {
                    tracing::error!(file = %path.display(), why, samples = p.samples, "dropping a damaged part file's part (--drop-damaged-parts)");
                    self.delete_part(*p)?;
                }
                Err(why) => {
                    return Err(StorageError::Corruption {
                        path: path.display().to_string(),
                        offset: 0,
                        detail: format!(
                            "part file of {} samples ({}..{} ms) is damaged: {why}; restore it from a backup, or \
                             start once with --drop-damaged-parts (storage.drop_damaged_parts) to forget those samples",
                            p.samples, p.mint, p.maxt
                        ),
                    });
                }
            }
        }
        Ok(())
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

    /// Drops in-sled chunk groups left by a persistence run of an earlier version that did not commit (those runs
    /// set `IN_PROGRESS_KEY`; runs now write part files, whose leftovers `open_part_files` removes).
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

    /// Starts the part file of `key` (under a temporary name until it is finished).
    pub(crate) fn create_part_file(
        &self,
        key: PartKey,
    ) -> Result<part_file::PartFileWriter, StorageError> {
        part_file::PartFileWriter::create(&self.parts_dir, key).map_err(|e| self.parts_io(e))
    }

    /// Finishes a part file (directory, footer, fsync, rename); returns its length.
    pub(crate) fn finish_part_file(
        &self,
        w: part_file::PartFileWriter,
        dir_z: &[u8],
    ) -> Result<u64, StorageError> {
        w.finish(dir_z).map_err(|e| self.parts_io(e))
    }

    /// Commits parts (whose files are finished) and the new boundary atomically, then flushes sled to disk.
    pub(crate) fn commit_persist(
        &self,
        parts: Vec<PendingPart>,
        boundary: i64,
        next_seq: u32,
    ) -> Result<(), StorageError> {
        // The renames of the finished files are durable before sled names them.
        part_file::sync_dir(&self.parts_dir).map_err(|e| self.parts_io(e))?;
        let mut opened = Vec::with_capacity(parts.len());
        for p in &parts {
            let path = self.parts_dir.join(part_file::file_name(p.info.key));
            let f = PartFile::open(&path).map_err(|why| {
                StorageError::Other(format!("part file {} just written: {why}", path.display()))
            })?;
            opened.push((p.info.key, Arc::new(f)));
        }
        let mut batch = sled::Batch::default();
        for p in &parts {
            let mut v = Vec::with_capacity(PART_HEADER_LEN + 1);
            p.info.encode_header(&mut v);
            v.push(FILE_TAG);
            let mut k = PART_PREFIX.to_vec();
            k.extend_from_slice(&p.info.key.bytes());
            batch.insert(k, v);
        }
        batch.insert(BOUNDARY_KEY, &boundary.to_be_bytes()[..]);
        batch.insert(NEXT_SEQ_KEY, &next_seq.to_be_bytes()[..]);
        self.db.apply_batch(batch).map_err(|e| self.err(e))?;
        self.flush()?;
        self.files.lock().extend(opened);
        let mut view = (*self.view()).clone();
        view.parts.extend(parts.iter().map(|p| p.info));
        view.parts.sort_by_key(|p| p.key);
        view.boundary = view.boundary.max(boundary);
        *self.view.write() = Arc::new(view);
        Ok(())
    }

    /// Deletes a part: header first (so readers stop seeing it), then its file (once sled's removal is durable,
    /// so a crash never leaves a header naming no file) or its in-sled groups. Open readers keep reading an
    /// unlinked file.
    pub(crate) fn delete_part(&self, info: PartInfo) -> Result<(), StorageError> {
        let key = info.key;
        let mut k = PART_PREFIX.to_vec();
        k.extend_from_slice(&key.bytes());
        self.db.remove(k).map_err(|e| self.err(e))?;
        let mut view = (*self.view()).clone();
        view.parts.retain(|p| p.key != key);
        *self.view.write() = Arc::new(view);
        if info.in_file {
            self.flush()?;
            self.files.lock().remove(&key);
            let path = self.parts_dir.join(part_file::file_name(key));
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(self.parts_io(e)),
            }
        } else {
            for g in self.chunks.scan_prefix(key.bytes()).keys() {
                let g = g.map_err(|e| self.err(e))?;
                self.chunks.remove(g).map_err(|e| self.err(e))?;
            }
        }
        self.dirs.lock().remove(&key);
        Ok(())
    }

    /// Bytes of the part files on disk.
    pub(crate) fn part_files_bytes(&self) -> u64 {
        crate::db::dir_size(&self.parts_dir)
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
            part_files: self.part_files_bytes(),
        })
    }

    /// sled's size on disk.
    pub(crate) fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }
}

#[cfg(test)]
mod legacy_tests;
