//! The time partitions of the line index, owned by the commit thread: which partitions exist (`index/<start>_<end>/`,
//! see [`crate::layout`]), the writers open on the partitions receiving entries, committing a batch to them, closing
//! idle writers and merging the segments of partitions that no longer receive writes, and deleting whole
//! partitions for retention.
//!
//! Writers share the writer heap: two writers (the current and the previous period) when the budget gives each
//! ≥ 15 MB, else one; a batch needing another partition first commits and closes the least recently written one.
//! A writer idle for `writer_idle` is closed on a background thread, which first merges the partition's segments
//! into one when a newer partition exists (so a week of history is a handful of segments, not thousands); until
//! that thread is done the partition is *busy* and its new entries wait in the store's buffer.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tantivy::IndexWriter;

use crate::buffer::Buffer;
use crate::index::{BlockBuilder, BlockShape, MIN_WRITER_HEAP, PartIndex, PartSearcher, commit};
use crate::layout::{Bounds, Layout};
use crate::schema::is_per_line_format;

mod merge;

use merge::Job;

/// One partition.
pub struct Part {
    /// Its time range.
    pub bounds: Bounds,
    dir: PathBuf,
    index: PartIndex,
    /// The WAL sequence its last commit recorded.
    pub committed_seq: u64,
    /// A background close (and merge) holding the partition's writer lock.
    job: Option<Job>,
    /// Its reader failed to reload after a commit: retried every tick (until then reads miss that commit).
    stale: bool,
}

struct Slot {
    start: i64,
    writer: IndexWriter,
    last_write: Instant,
    dirty: bool,
}

/// What committing a batch did.
#[derive(Default)]
pub struct Outcome {
    /// Fresh searchers of the partitions committed (and of those created).
    pub searchers: Vec<(Bounds, PartSearcher)>,
    /// The entries not committed: their partition was busy, or an error.
    pub leftover: Buffer,
    /// The first error met.
    pub error: Option<String>,
    /// Partition commits done.
    pub commits: usize,
    /// Stopped on the test hook's simulated crash.
    pub crashed: bool,
}

/// The partitions and their writers.
pub struct Parts {
    root: PathBuf,
    period_secs: i64,
    heap_per_writer: usize,
    max_writers: usize,
    writer_idle: Duration,
    shape: BlockShape,
    builder: BlockBuilder,
    layout: Layout,
    parts: BTreeMap<i64, Part>,
    /// Open writers, least recently written first.
    slots: Vec<Slot>,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl Parts {
    /// Opens every partition under `root` (creating it). An index from before partitioning (`root/meta.json`) is
    /// moved aside to `root.unpartitioned` with a warning.
    pub fn open(
        root: &Path,
        period: Duration,
        heap_bytes: usize,
        writer_idle: Duration,
        shape: BlockShape,
    ) -> Result<Parts, String> {
        if root.join("meta.json").exists() {
            let aside = root.with_extension("unpartitioned");
            tracing::warn!(from = %root.display(), to = %aside.display(), "log index from before time partitions moved aside and not served; delete it when no longer needed");
            std::fs::rename(root, &aside).map_err(err)?;
        }
        std::fs::create_dir_all(root).map_err(err)?;
        let max_writers = if heap_bytes >= 2 * MIN_WRITER_HEAP {
            2
        } else {
            1
        };
        let mut out = Parts {
            root: root.to_path_buf(),
            period_secs: period.as_secs().clamp(1, i64::MAX as u64) as i64,
            heap_per_writer: (heap_bytes / max_writers).max(MIN_WRITER_HEAP),
            max_writers,
            writer_idle,
            shape,
            builder: BlockBuilder::new().map_err(err)?,
            layout: Layout::default(),
            parts: BTreeMap::new(),
            slots: Vec::new(),
        };
        for e in std::fs::read_dir(root).map_err(err)? {
            let e = e.map_err(err)?;
            let name = e.file_name().to_string_lossy().to_string();
            let Some(bounds) = Bounds::parse(&name) else {
                tracing::warn!(path = %e.path().display(), "not a log partition; ignored");
                continue;
            };
            if is_per_line_format(&e.path()) {
                let aside = root.with_extension("per-line").join(&name);
                tracing::warn!(from = %e.path().display(), to = %aside.display(), "log partition of the per-line index format of earlier versions moved aside and not served; delete it when no longer needed");
                std::fs::create_dir_all(root.with_extension("per-line")).map_err(err)?;
                std::fs::rename(e.path(), &aside).map_err(err)?;
                continue;
            }
            if out.layout.find(bounds.start_ns()).is_some() {
                tracing::warn!(path = %e.path().display(), "log partition overlaps another; ignored");
                continue;
            }
            let index = PartIndex::open(&e.path())
                .map_err(|x| format!("log partition {}: {x}", e.path().display()))?;
            out.insert(bounds, e.path(), index);
        }
        Ok(out)
    }

    fn insert(&mut self, bounds: Bounds, dir: PathBuf, index: PartIndex) {
        self.layout.insert(bounds);
        let committed_seq = index.committed_seq();
        self.parts.insert(
            bounds.start,
            Part {
                bounds,
                dir,
                index,
                committed_seq,
                job: None,
                stale: false,
            },
        );
    }

    /// The WAL sequence the partition holding `ts` committed (0 when no partition holds it).
    pub fn committed_seq_at(&self, ts: i64) -> u64 {
        self.layout
            .find(ts)
            .and_then(|b| self.parts.get(&b.start))
            .map_or(0, |p| p.committed_seq)
    }

    /// The highest sequence any partition committed.
    pub fn max_committed_seq(&self) -> u64 {
        self.parts
            .values()
            .map(|p| p.committed_seq)
            .max()
            .unwrap_or(0)
    }

    /// A searcher of every partition, as last loaded.
    pub fn searchers(&self) -> Vec<(Bounds, PartSearcher)> {
        self.parts
            .values()
            .map(|p| (p.bounds, p.index.searcher()))
            .collect()
    }

    /// Open writers.
    pub fn writers(&self) -> usize {
        self.slots.len()
    }

    /// Every partition, oldest first.
    pub fn bounds(&self) -> Vec<Bounds> {
        self.parts.values().map(|p| p.bounds).collect()
    }

    /// Whether a background close or merge holds the partition.
    pub fn busy(&self, start: i64) -> bool {
        self.parts.get(&start).is_some_and(|p| p.job.is_some())
    }

    /// The partition for `ts`, created when missing.
    fn part_for(&mut self, ts: i64, out: &mut Outcome) -> Result<i64, String> {
        let (bounds, exists) = self.layout.locate(ts, self.period_secs);
        if !exists {
            let dir = self.root.join(bounds.name());
            let index =
                PartIndex::open(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
            out.searchers.push((bounds, index.searcher()));
            self.insert(bounds, dir, index);
        }
        Ok(bounds.start)
    }

    /// Adds `batch` to the partitions of its entries and commits each, recording `seq`. `crash_after` (tests)
    /// stops after that many partition commits, as a crash would.
    pub fn commit_batch(&mut self, batch: &Buffer, seq: u64, crash_after: usize) -> Outcome {
        let mut out = Outcome {
            searchers: self.reap(),
            ..Outcome::default()
        };
        // Per partition, per stream: the entries' indexes into the stream's buffer.
        let mut groups: BTreeMap<i64, Vec<(u64, Vec<u32>)>> = BTreeMap::new();
        let mut homeless: Vec<(u64, Vec<u32>)> = Vec::new();
        for (id, s) in batch.streams() {
            let mut by_part: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
            let mut lost: Vec<u32> = Vec::new();
            for i in 0..s.len() {
                match self.part_for(s.ts(i), &mut out) {
                    Ok(start) => by_part.entry(start).or_default().push(i as u32),
                    Err(e) => {
                        // Entries of a partition that cannot be created wait in the buffer.
                        out.error.get_or_insert(e);
                        lost.push(i as u32);
                    }
                }
            }
            for (start, idx) in by_part {
                groups.entry(start).or_default().push((id, idx));
            }
            if !lost.is_empty() {
                homeless.push((id, lost));
            }
        }
        let mut failed: HashSet<i64> = HashSet::new();
        // Partitions with a writer first (no needless closing), then the others oldest first.
        let mut order: Vec<i64> = groups.keys().copied().collect();
        order.sort_by_key(|s| (!self.slots.iter().any(|x| x.start == *s), *s));
        for start in order {
            if out.crashed || self.busy(start) {
                failed.insert(start);
                continue;
            }
            let slot = match self.slot(start, seq, crash_after, &mut out, &mut failed) {
                Ok(s) => s,
                Err(e) => {
                    out.error.get_or_insert(e);
                    failed.insert(start);
                    continue;
                }
            };
            let part = &self.parts[&start];
            let builder = &mut self.builder;
            let writer = &self.slots[slot].writer;
            // One stream's entries of this batch, in time order (push order among equal times), become its blocks.
            let added = groups[&start].iter().try_for_each(|(id, idx)| {
                let src = batch.stream(*id).expect("grouped from the batch");
                let order = src.time_order();
                let idx: Vec<u32> = if idx.len() == src.len() {
                    order
                } else {
                    let mine: HashSet<u32> = idx.iter().copied().collect();
                    order.into_iter().filter(|i| mine.contains(i)).collect()
                };
                part.index
                    .add_stream(writer, builder, *id, src, &idx, self.shape)
                    .map(|_| ())
            });
            if let Err(e) = added {
                out.error.get_or_insert(err(e));
                failed.insert(start);
                // Dropping the writer discards what it holds uncommitted.
                self.slots.remove(slot);
                continue;
            }
            let s = &mut self.slots[slot];
            s.dirty = true;
            s.last_write = Instant::now();
        }
        let dirty: Vec<i64> = self
            .slots
            .iter()
            .filter(|s| s.dirty)
            .map(|s| s.start)
            .collect();
        for start in dirty {
            if out.crashed || !self.commit_slot(start, seq, crash_after, &mut out) {
                failed.insert(start);
            }
        }
        let left = homeless.iter().chain(
            failed
                .iter()
                .filter_map(|start| groups.get(start))
                .flatten(),
        );
        for (id, idx) in left {
            let src = batch.stream(*id).expect("grouped from the batch");
            for &i in idx {
                out.leftover.push_from(*id, src, i as usize);
            }
        }
        out
    }

    /// Commits the writer of partition `start`; false on error (the writer is dropped, discarding its entries).
    fn commit_slot(&mut self, start: i64, seq: u64, crash_after: usize, out: &mut Outcome) -> bool {
        if out.commits >= crash_after {
            out.crashed = true;
            return false;
        }
        let Some(i) = self.slots.iter().position(|s| s.start == start) else {
            return false;
        };
        match commit(&mut self.slots[i].writer, seq) {
            Ok(()) => {
                out.commits += 1;
                self.slots[i].dirty = false;
                let part = self
                    .parts
                    .get_mut(&start)
                    .expect("slot of a known partition");
                part.committed_seq = seq;
                part.index.train_dictionary();
                match part.index.reload() {
                    Ok(s) => out.searchers.push((part.bounds, s)),
                    Err(e) => {
                        part.stale = true;
                        out.error.get_or_insert(err(e));
                    }
                }
                true
            }
            Err(e) => {
                out.error.get_or_insert(err(e));
                self.slots.remove(i);
                false
            }
        }
    }

    /// The slot of partition `start`, opening a writer (and closing the least recently written one when all
    /// slots are taken, committing it first if it holds entries of this batch).
    fn slot(
        &mut self,
        start: i64,
        seq: u64,
        crash_after: usize,
        out: &mut Outcome,
        failed: &mut HashSet<i64>,
    ) -> Result<usize, String> {
        if let Some(i) = self.slots.iter().position(|s| s.start == start) {
            let s = self.slots.remove(i);
            self.slots.push(s);
            return Ok(self.slots.len() - 1);
        }
        if self.slots.len() >= self.max_writers {
            let old = self.slots[0].start;
            if self.slots[0].dirty && !self.commit_slot(old, seq, crash_after, out) {
                failed.insert(old);
            }
            if let Some(i) = self.slots.iter().position(|s| s.start == old) {
                let s = self.slots.remove(i);
                self.close_in_background(s, false);
            }
            if out.crashed {
                return Err("simulated crash".into());
            }
        }
        let part = &self.parts[&start];
        let writer = part.index.writer(self.heap_per_writer).map_err(err)?;
        self.slots.push(Slot {
            start,
            writer,
            last_write: Instant::now(),
            dirty: false,
        });
        Ok(self.slots.len() - 1)
    }

    /// Frees partition `start` for deletion: closes its writer (waiting for tantivy's merges on it) and joins a
    /// finished or non-merging background close. False while a merge runs on it (deleted at a later run).
    pub fn release(&mut self, start: i64) -> bool {
        if let Some(i) = self.slots.iter().position(|s| s.start == start) {
            let s = self.slots.remove(i);
            if let Err(e) = s.writer.wait_merging_threads() {
                tracing::warn!(error = %e, "log index writer closed with an error");
            }
        }
        let Some(part) = self.parts.get_mut(&start) else {
            return false;
        };
        if let Some(job) = &part.job {
            if job.merging && !job.done.load(Ordering::Acquire) {
                return false;
            }
            let job = part.job.take().expect("checked");
            let _ = job.thread.join();
        }
        true
    }

    /// Deletes partition `start`'s directory (false when it is not [`release`](Parts::release)d).
    pub fn delete(&mut self, start: i64) -> Result<bool, String> {
        if self.busy(start) || self.slots.iter().any(|s| s.start == start) {
            return Ok(false);
        }
        let Some(part) = self.parts.remove(&start) else {
            return Ok(false);
        };
        self.layout.remove(&part.bounds);
        let dir = part.dir.clone();
        drop(part);
        std::fs::remove_dir_all(&dir).map_err(|e| format!("deleting {}: {e}", dir.display()))?;
        Ok(true)
    }

    /// Bytes of each partition, by start.
    pub fn sizes(&self) -> HashMap<i64, u64> {
        self.parts
            .values()
            .map(|p| (p.bounds.start, dir_bytes(&p.dir)))
            .collect()
    }

    /// Waits for the open writers' merges and the background closes (shutdown).
    pub fn shutdown(&mut self) {
        for s in self.slots.drain(..) {
            if let Err(e) = s.writer.wait_merging_threads() {
                tracing::warn!(error = %e, "log index writer closed with an error");
            }
        }
        for part in self.parts.values_mut() {
            if let Some(job) = part.job.take() {
                let _ = job.thread.join();
            }
        }
    }
}

/// Bytes of the files under `dir` (recursively).
pub fn dir_bytes(dir: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.filter_map(Result::ok)
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
