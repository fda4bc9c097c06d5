//! The head: recent samples of active series in memory, sharded so appenders and queriers rarely contend.
//!
//! Series live in shard `id % SHARDS`; the labels → id index lives in shard `hash % SHARDS` and also remembers
//! series that left the head after persistence, so a returning series gets its old id back.

pub(crate) mod postings;
pub(crate) mod series;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicI64, AtomicIsize, AtomicU32, AtomicUsize, Ordering};

use lookout_model::Labels;
use lookout_storage::AppendError;
use lookout_storage::shards::ShardOrder;
use parking_lot::{Mutex, MutexGuard, RwLock};
use rustc_hash::FxHashMap;

use crate::chunk_log::{Chain, ChunkLog};
use crate::symbols::Symbols;
use postings::HeadPostings;
pub(crate) use series::{HeadSnapshot, MemSeries, SnapChunk, Verdict, classify};

/// Number of lock shards.
pub(crate) const SHARDS: usize = 64;

/// One lock's worth of the head.
#[derive(Default)]
pub(crate) struct Shard {
    /// Head series whose `id % SHARDS` is this shard.
    pub(crate) series: FxHashMap<u32, MemSeries>,
    /// Labels hash → id for every known series (head or persisted) whose hash lands in this shard.
    by_hash: FxHashMap<u64, u32>,
    /// Further ids for hashes shared by several label sets.
    collisions: FxHashMap<u64, Vec<u32>>,
}

/// Gauge changes accumulated while applying a batch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ApplyTotals {
    bytes: isize,
    chunks: isize,
    max_t: i64,
}

impl Default for ApplyTotals {
    fn default() -> Self {
        ApplyTotals {
            bytes: 0,
            chunks: 0,
            max_t: i64::MIN,
        }
    }
}

/// Result of looking a label set up.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// A head series with exactly these labels.
    Head(u32),
    /// Not in the head; these persisted ids share the hash (the caller compares their stored labels).
    Persisted(Vec<u32>),
    /// Never seen.
    Unknown,
}

/// Series, chunks, postings and the time bounds of the in-memory part of the database.
pub(crate) struct Head {
    shards: Box<[Mutex<Shard>]>,
    pub(crate) postings: RwLock<HeadPostings>,
    pub(crate) symbols: Symbols,
    next_id: AtomicU32,
    series_count: AtomicUsize,
    bytes: AtomicIsize,
    index_bytes: AtomicUsize,
    chunks: AtomicIsize,
    max_t: AtomicI64,
    min_valid_t: AtomicI64,
    truncated_before: AtomicI64,
    pub(crate) block_ms: i64,
    pub(crate) ooo_window_ms: i64,
    /// Where sealed chunks are also written, once start-up has replayed the WAL (none with an out-of-order
    /// window).
    pub(crate) chunk_log: OnceLock<ChunkLog>,
}

fn shard_of_id(id: u32) -> usize {
    id as usize % SHARDS
}

fn shard_of_hash(h: u64) -> usize {
    (h >> 7) as usize % SHARDS
}

impl Head {
    pub(crate) fn new(block_ms: i64, ooo_window_ms: i64) -> Self {
        Head {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            postings: RwLock::new(HeadPostings::default()),
            symbols: Symbols::default(),
            next_id: AtomicU32::new(1),
            series_count: AtomicUsize::new(0),
            bytes: AtomicIsize::new(0),
            index_bytes: AtomicUsize::new(0),
            chunks: AtomicIsize::new(0),
            max_t: AtomicI64::new(i64::MIN),
            min_valid_t: AtomicI64::new(i64::MIN),
            truncated_before: AtomicI64::new(i64::MIN),
            block_ms,
            ooo_window_ms,
            chunk_log: OnceLock::new(),
        }
    }

    /// The shard holding series `id`.
    pub(crate) fn shard(&self, id: u32) -> MutexGuard<'_, Shard> {
        self.shards[shard_of_id(id)].lock()
    }

    /// Shards in order, for scans.
    pub(crate) fn shard_at(&self, i: usize) -> MutexGuard<'_, Shard> {
        self.shards[i].lock()
    }

    pub(crate) fn series_count(&self) -> usize {
        self.series_count.load(Ordering::Relaxed)
    }

    /// Heap bytes of the series and their chunks (kept as they change).
    pub(crate) fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed).max(0) as usize
    }

    /// Heap bytes of the postings and the symbol table at their last measurement (they are walked to be measured,
    /// so the maintenance round does it, not every append).
    pub(crate) fn index_bytes(&self) -> usize {
        self.index_bytes.load(Ordering::Relaxed)
    }

    /// Walks the postings and the symbol table, keeps their size for [`Head::budget_bytes`] and answers it.
    pub(crate) fn measure_index_bytes(&self) -> usize {
        let bytes = self.postings.read().heap_bytes() + self.symbols.heap_bytes();
        self.index_bytes.store(bytes, Ordering::Relaxed);
        bytes
    }

    /// What the head holds as far as the memory budget is concerned: series, chunks and the last measured index.
    pub(crate) fn budget_bytes(&self) -> usize {
        self.bytes() + self.index_bytes()
    }

    pub(crate) fn chunk_count(&self) -> usize {
        self.chunks.load(Ordering::Relaxed).max(0) as usize
    }

    pub(crate) fn max_t(&self) -> i64 {
        self.max_t.load(Ordering::SeqCst)
    }

    pub(crate) fn min_valid_t(&self) -> i64 {
        self.min_valid_t.load(Ordering::SeqCst)
    }

    pub(crate) fn set_min_valid_t(&self, t: i64) {
        self.min_valid_t.fetch_max(t, Ordering::SeqCst);
    }

    pub(crate) fn truncated_before(&self) -> i64 {
        self.truncated_before.load(Ordering::SeqCst)
    }

    /// A fresh series id.
    pub(crate) fn alloc_id(&self) -> u32 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Makes sure future ids are above `id` (ids seen in the WAL or sled).
    pub(crate) fn observe_id(&self, id: u32) {
        self.next_id
            .fetch_max(id.saturating_add(1), Ordering::Relaxed);
    }

    fn candidates(&self, hash: u64) -> Vec<u32> {
        let shard = self.shards[shard_of_hash(hash)].lock();
        let mut ids: Vec<u32> = shard.by_hash.get(&hash).copied().into_iter().collect();
        if let Some(more) = shard.collisions.get(&hash) {
            ids.extend_from_slice(more);
        }
        ids
    }

    /// Finds the series with exactly these labels.
    pub(crate) fn lookup(&self, labels: &Labels) -> Lookup {
        let hash = labels.hash64();
        // The common case, a hash with one series, allocates nothing (this runs once per sample written by labels).
        let (first, shared) = {
            let shard = self.shards[shard_of_hash(hash)].lock();
            (
                shard.by_hash.get(&hash).copied(),
                shard.collisions.contains_key(&hash),
            )
        };
        let Some(first) = first else {
            return Lookup::Unknown;
        };
        if !shared {
            return match self.shard(first).series.get(&first) {
                Some(s) if s.labels == *labels => Lookup::Head(first),
                Some(_) => Lookup::Unknown,
                None => Lookup::Persisted(vec![first]),
            };
        }
        let ids = self.candidates(hash);
        if ids.is_empty() {
            return Lookup::Unknown;
        }
        let mut persisted = Vec::new();
        for id in ids {
            match self.shard(id).series.get(&id) {
                Some(s) if s.labels == *labels => return Lookup::Head(id),
                Some(_) => {}
                None => persisted.push(id),
            }
        }
        if persisted.is_empty() {
            Lookup::Unknown
        } else {
            Lookup::Persisted(persisted)
        }
    }

    /// Remembers that `labels` (hash) belong to series `id`, without putting the series in the head.
    pub(crate) fn register_known(&self, hash: u64, id: u32) {
        let mut shard = self.shards[shard_of_hash(hash)].lock();
        let Shard {
            by_hash,
            collisions,
            ..
        } = &mut *shard;
        match by_hash.get(&hash) {
            None => {
                by_hash.insert(hash, id);
            }
            Some(&existing) if existing == id => {}
            Some(_) => {
                let more = collisions.entry(hash).or_default();
                if !more.contains(&id) {
                    more.push(id);
                }
            }
        }
        drop(shard);
        self.observe_id(id);
    }

    /// Forgets that `labels` belong to `id` (the series is gone from sled); returns true when `id` is in the head.
    pub(crate) fn forget_known(&self, labels: &Labels, id: u32) -> bool {
        let hash = labels.hash64();
        let mut shard = self.shards[shard_of_hash(hash)].lock();
        let Shard {
            by_hash,
            collisions,
            ..
        } = &mut *shard;
        if let Some(more) = collisions.get_mut(&hash) {
            more.retain(|&i| i != id);
            if more.is_empty() {
                collisions.remove(&hash);
            }
        }
        if by_hash.get(&hash) == Some(&id) {
            by_hash.remove(&hash);
            if let Some(mut more) = collisions.remove(&hash) {
                let next = more.remove(0);
                by_hash.insert(hash, next);
                if !more.is_empty() {
                    collisions.insert(hash, more);
                }
            }
        }
        drop(shard);
        self.shard(id).series.contains_key(&id)
    }

    /// Puts series `id` in the head (no-op when it is already there). Returns false when it already existed.
    pub(crate) fn create(&self, id: u32, labels: &Labels, in_sled: bool) -> bool {
        let labels = self.symbols.intern_labels(labels);
        self.register_known(labels.hash64(), id);
        let mut shard = self.shard(id);
        if shard.series.contains_key(&id) {
            return false;
        }
        let mut s = MemSeries::new(labels.clone());
        s.in_sled = in_sled;
        self.bytes
            .fetch_add(s.heap_bytes() as isize + 48, Ordering::Relaxed);
        shard.series.insert(id, s);
        drop(shard);
        self.postings.write().add(id, &labels);
        self.series_count.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Gives head series `id`, still empty, the chunks the head chunk log vouches for; false when it is not in
    /// the head or not empty.
    pub(crate) fn restore_chain(&self, id: u32, chain: Chain) -> bool {
        let mut shard = self.shard(id);
        let Some(series) = shard.series.get_mut(&id) else {
            return false;
        };
        if !series.is_empty() {
            return false;
        }
        let max_t = chain.max_t();
        let (bytes, chunks) = series.restore(chain);
        drop(shard);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.chunks.fetch_add(chunks, Ordering::Relaxed);
        self.max_t.fetch_max(max_t, Ordering::SeqCst);
        true
    }

    /// The last in-order sample of a head series (`None` when `id` is not in the head).
    pub(crate) fn last(&self, id: u32) -> Option<Option<(i64, u64)>> {
        self.shard(id).series.get(&id).map(MemSeries::last)
    }

    /// The newest in-order sample of each of `ids` (`None`: not in the head), looked up one shard at a time under
    /// one lock each: a lock per series bounced its cache line between the ingesting threads.
    pub(crate) fn lasts(&self, ids: &[u32]) -> Vec<Option<Option<(i64, u64)>>> {
        let mut out = vec![None; ids.len()];
        for (s, run) in ShardOrder::new(SHARDS, ids.len(), |i| shard_of_id(ids[i])).runs() {
            let shard = self.shard_at(s);
            for &i in run {
                out[i as usize] = shard.series.get(&ids[i as usize]).map(|s| {
                    // The commit appends to this chunk soon: start loading its tail now.
                    crate::prefetch::prefetch(s.open.tail_ptr());
                    s.last()
                });
            }
        }
        out
    }

    /// The labels of a head series.
    pub(crate) fn labels(&self, id: u32) -> Option<Labels> {
        self.shard(id).series.get(&id).map(|s| s.labels.clone())
    }

    /// The one step every apply path shares: classify the sample against the series, apply it, count its effect.
    fn check_and_apply(
        &self,
        id: u32,
        series: &mut MemSeries,
        t: i64,
        v: f64,
        min_valid_t: i64,
        totals: &mut ApplyTotals,
    ) -> Result<Verdict, AppendError> {
        let verdict = classify(series.last(), t, v, min_valid_t, self.ooo_window_ms)?;
        let applied = series.apply(t, v, verdict, self.block_ms);
        totals.bytes += applied.bytes;
        totals.chunks += applied.chunks;
        // Checked in this order: a seal is one sample in 120, the log lookup would be on every one.
        if let Some(last_v) = applied.sealed_last_v
            && let Some(log) = self.chunk_log.get()
            && let Some(rec) = series.sealed_record(id, last_v)
        {
            log.send(rec);
        }
        totals.max_t = totals.max_t.max(t);
        Ok(verdict)
    }

    /// Checks and applies a commit's samples (`(id, t, v)`, each series' in order) one shard at a time, taking each
    /// shard's lock once; `on_result` sees every sample's verdict (in shard order, not batch order).
    pub(crate) fn apply_batch(
        &self,
        samples: &[(u64, i64, f64)],
        totals: &mut ApplyTotals,
        mut on_result: impl FnMut(Result<Verdict, AppendError>),
    ) {
        let min_valid_t = self.min_valid_t();
        let order = ShardOrder::new(SHARDS, samples.len(), |i| shard_of_id(samples[i].0 as u32));
        for (s, run) in order.runs() {
            let mut shard = self.shard_at(s);
            for &i in run {
                let (r, t, v) = samples[i as usize];
                let id = r as u32;
                on_result(match shard.series.get_mut(&id) {
                    Some(series) => self.check_and_apply(id, series, t, v, min_valid_t, totals),
                    None => Err(AppendError::UnknownRef(id as u64)),
                });
            }
        }
    }

    /// Checks and applies consecutive samples of one series (in order) under one lock and one lookup; returns how
    /// many were applied and how many refused (all of them when `id` is not in the head).
    pub(crate) fn apply_run(
        &self,
        id: u32,
        run: &[(u32, i64, f64)],
        totals: &mut ApplyTotals,
    ) -> (u64, u64) {
        let mut shard = self.shard(id);
        let Some(series) = shard.series.get_mut(&id) else {
            return (0, run.len() as u64);
        };
        let min_valid_t = self.min_valid_t();
        let (mut applied, mut refused) = (0u64, 0u64);
        for &(_, t, v) in run {
            match self.check_and_apply(id, series, t, v, min_valid_t, totals) {
                Ok(_) => applied += 1,
                Err(_) => refused += 1,
            }
        }
        (applied, refused)
    }

    /// Publishes what [`Head::apply_batch`] and [`Head::apply_run`] changed (one atomic update per batch, not per sample).
    pub(crate) fn finish_apply(&self, totals: ApplyTotals) {
        if totals.bytes != 0 {
            self.bytes.fetch_add(totals.bytes, Ordering::Relaxed);
        }
        if totals.chunks != 0 {
            self.chunks.fetch_add(totals.chunks, Ordering::Relaxed);
        }
        self.max_t.fetch_max(totals.max_t, Ordering::SeqCst);
    }

    /// Checks and applies one sample.
    #[cfg(test)]
    pub(crate) fn apply(&self, id: u32, t: i64, v: f64) -> Result<Verdict, AppendError> {
        let mut totals = ApplyTotals::default();
        let mut verdict = None;
        self.apply_batch(&[(u64::from(id), t, v)], &mut totals, |r| verdict = Some(r));
        self.finish_apply(totals);
        verdict.expect("one sample, one verdict")
    }

    /// Copies the labels and data of a head series overlapping `[mint, maxt]`.
    pub(crate) fn snapshot(&self, id: u32, mint: i64, maxt: i64) -> Option<(Labels, HeadSnapshot)> {
        let shard = self.shard(id);
        shard
            .series
            .get(&id)
            .map(|s| (s.labels.clone(), s.snapshot(mint, maxt)))
    }

    /// Drops samples before `boundary` from every series and removes series left empty; returns removed ids.
    pub(crate) fn truncate_before(&self, boundary: i64) -> usize {
        self.truncated_before.fetch_max(boundary, Ordering::SeqCst);
        let mut removed = 0;
        for i in 0..SHARDS {
            let mut gone = Vec::new();
            let mut shard = self.shards[i].lock();
            let mut bytes = 0isize;
            let mut chunks = 0isize;
            shard.series.retain(|&id, s| {
                let (db, dc) = s.truncate_before(boundary);
                bytes += db;
                chunks += dc;
                let keep =
                    !(s.is_empty() && s.last().is_none_or(|(t, _)| t < boundary) && s.in_sled);
                if !keep {
                    bytes -= s.heap_bytes() as isize + 48;
                    chunks -= s.chunk_count() as isize;
                    gone.push((id, s.labels.clone()));
                }
                keep
            });
            drop(shard);
            self.bytes.fetch_add(bytes, Ordering::Relaxed);
            self.chunks.fetch_add(chunks, Ordering::Relaxed);
            if !gone.is_empty() {
                removed += gone.len();
                self.series_count.fetch_sub(gone.len(), Ordering::Relaxed);
                let mut p = self.postings.write();
                for (id, labels) in &gone {
                    p.remove(*id, labels);
                }
            }
        }
        if removed > 0 {
            self.symbols.gc();
        }
        removed
    }
}

#[cfg(test)]
#[path = "head_tests.rs"]
mod tests;
