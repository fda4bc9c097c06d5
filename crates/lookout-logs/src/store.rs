//! The store: validation, rate limits, the WAL, the stream index and the buffer of entries not yet committed,
//! behind one lock that pushes and reads take briefly; the time partitions of the line index belong to the commit
//! thread (see `commit.rs`), which publishes a searcher per partition for reads.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Instant;

use lookout_model::{Labels, Matcher};
use lookout_storage::logs::ColumnPush;
use parking_lot::Mutex;

use crate::buffer::Buffer;
use crate::entry::{Entry, LogQuery, PushStream, StreamEntries};
use crate::index::PartSearcher;
use crate::layout::Bounds;
use crate::limits::PushError;
use crate::options::{LogCounters, LogStats, LogStoreOptions, StoreError};
use crate::partitions::{Parts, dir_bytes};
use crate::rate::{RateLimiter, StreamDemand};
use crate::streams::Streams;
use crate::wal::Wal;

/// Searchers of the partitions, by start: what reads see of the committed index.
pub(crate) type View = BTreeMap<i64, (Bounds, PartSearcher)>;

/// A read's consistent view of the store (see [`LogStore::read_view`]).
pub(crate) struct ReadView {
    /// Selected streams by id.
    pub streams: HashMap<u64, Labels>,
    /// Searchers of the partitions overlapping the range, oldest first.
    pub parts: Vec<(Bounds, PartSearcher)>,
    /// Uncommitted entries of the selected streams in range that pass the filters.
    pub pending: Vec<(u64, Entry)>,
}

pub(crate) struct State {
    pub wal: Wal,
    pub streams: Streams,
    /// Entries pushed since the commit thread last took the buffer.
    pub pending: Buffer,
    /// Entries the commit thread took and has not published yet (and those it could not commit).
    pub committing: Arc<Buffer>,
    pub view: Arc<View>,
    pub seq: u64,
    pub newest: HashMap<u64, i64>,
    pub rate: RateLimiter,
}

/// Test hooks into the commit cycle.
#[cfg(test)]
pub(crate) struct Hooks {
    /// Runs on the commit thread after the buffer was taken, outside the lock, before any tantivy work.
    pub during_commit: Mutex<Option<Box<dyn Fn() + Send + Sync>>>,
    /// Stops a commit cycle after this many partition commits, as a crash would.
    pub crash_after: AtomicUsize,
}

pub(crate) struct Inner {
    pub state: Mutex<State>,
    pub parts: Mutex<Parts>,
    pub opts: LogStoreOptions,
    pub counters: LogCounters,
    pub writers: AtomicUsize,
    pub stop: AtomicBool,
    #[cfg(test)]
    pub hooks: Hooks,
}

/// The log store (cheap to share; the commit thread stops when the last handle is dropped or on [`close`]).
///
/// [`close`]: LogStore::close
pub struct LogStore {
    pub(crate) inner: Arc<Inner>,
    committer: Mutex<Option<JoinHandle<()>>>,
    /// Dropping the sender wakes the commit thread at once to stop.
    wake: Mutex<Option<std::sync::mpsc::SyncSender<()>>>,
}

pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Appends the entries of `streams` in `buf` within `[start, end)` that pass `keep` (checked on the borrowed line).
fn collect_buffered(
    buf: &Buffer,
    streams: &HashMap<u64, Labels>,
    start: i64,
    end: i64,
    keep: &dyn Fn(&str) -> bool,
    out: &mut Vec<(u64, Entry)>,
) {
    for id in streams.keys() {
        let Some(s) = buf.stream(*id) else { continue };
        for i in 0..s.len() {
            let ts = s.ts(i);
            if ts >= start && ts < end && keep(s.line(i)) {
                out.push((*id, s.entry(i)));
            }
        }
    }
}

impl LogStore {
    /// Opens the store: every partition, then the WAL, re-adding the records each partition lacks.
    pub fn open(opts: LogStoreOptions) -> Result<LogStore, StoreError> {
        std::fs::create_dir_all(&opts.dir).map_err(io(&opts.dir))?;
        let parts = Parts::open(
            &opts.dir.join("index"),
            opts.partition_period,
            opts.writer_heap_bytes,
            opts.writer_idle,
            opts.block,
        )
        .map_err(StoreError::Partition)?;
        // Records are filtered as they are read: replay holds what the partitions lack (at most the backlog the
        // running store held, `max_uncommitted_bytes` and one push), never the whole log.
        let mut pending = Buffer::default();
        let mut newest: HashMap<u64, i64> = HashMap::new();
        let (wal, replay) = Wal::open(&opts.dir, parts.max_committed_seq(), &mut |rec| {
            for (id, entries) in rec.streams {
                for e in entries {
                    // Exactly what the entry's partition lacks: its last commit recorded an older sequence.
                    if rec.seq > parts.committed_seq_at(e.ts) {
                        let n = newest.entry(id).or_insert(i64::MIN);
                        *n = (*n).max(e.ts);
                        pending.push(id, &e);
                    }
                }
            }
        })
        .map_err(io(&opts.dir))?;
        if replay.torn_bytes > 0 {
            tracing::warn!(dir = %opts.dir.display(), bytes = replay.torn_bytes, "log WAL: dropped a torn tail (a write cut by a crash, never acknowledged)");
        }
        let streams_path = opts.dir.join("streams.jsonl");
        let streams = Streams::open(&streams_path).map_err(io(&streams_path))?;
        let seq = replay.last_seq;
        let view: View = parts
            .searchers()
            .into_iter()
            .map(|(b, s)| (b.start, (b, s)))
            .collect();
        tracing::info!(dir = %opts.dir.display(), streams = streams.len(), partitions = view.len(), wal_records = replay.records, wal_bytes = replay.bytes, replayed = pending.len(), "log store opened");
        let state = State {
            wal,
            streams,
            pending,
            committing: Arc::new(Buffer::default()),
            view: Arc::new(view),
            seq,
            newest,
            rate: RateLimiter::new(&opts.limits, Instant::now()),
        };
        let inner = Arc::new(Inner {
            state: Mutex::new(state),
            parts: Mutex::new(parts),
            opts,
            counters: LogCounters::default(),
            writers: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            #[cfg(test)]
            hooks: Hooks {
                during_commit: Mutex::new(None),
                crash_after: AtomicUsize::new(usize::MAX),
            },
        });
        let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
        let committer = crate::commit::spawn(Arc::downgrade(&inner), woken)
            .map_err(io(std::path::Path::new("log-commit thread")))?;
        Ok(LogStore {
            inner,
            committer: Mutex::new(Some(committer)),
            wake: Mutex::new(Some(wake)),
        })
    }

    /// Stores every entry of `push` or none: validated and rate-limited first, then written to the WAL (page
    /// cache) and the buffer. Returns the number of entries stored.
    pub fn push(&self, push: Vec<PushStream>) -> Result<usize, StoreError> {
        self.push_columns(ColumnPush::from_push_streams(&push))
    }

    /// [`push`](LogStore::push) for streams in columns, as the push API decodes them: the lines go to the WAL and
    /// the buffer as they are, without an `Entry` per line.
    pub fn push_columns(&self, push: ColumnPush) -> Result<usize, StoreError> {
        let limits = &self.inner.opts.limits;
        let window = self.inner.opts.out_of_order_window_ns;
        let cols = &push.entries;
        let ids: Vec<u64> = push.streams.iter().map(|p| p.labels.hash64()).collect();
        let mut st = self.inner.state.lock();
        let mut new_streams = 0usize;
        // Per stream id: (index of its first stream in the push, lines, bytes).
        let mut demand: Vec<(u64, usize, usize, u64)> = Vec::with_capacity(push.streams.len());
        let mut seen: HashMap<u64, usize> = HashMap::with_capacity(push.streams.len());
        for (k, p) in push.streams.iter().enumerate() {
            let name = || p.labels.to_string();
            if p.labels.is_empty() {
                return Err(self.refuse(PushError::NoLabels));
            }
            if p.labels.len() > limits.max_labels_per_stream {
                return Err(self.refuse(PushError::TooManyLabels {
                    stream: name(),
                    count: p.labels.len(),
                    limit: limits.max_labels_per_stream,
                }));
            }
            let id = ids[k];
            if st.streams.get(id).is_none() && !seen.contains_key(&id) {
                new_streams += 1;
                if st.streams.len() + new_streams > limits.max_streams {
                    return Err(self.refuse(PushError::TooManyStreams {
                        stream: name(),
                        count: st.streams.len() + new_streams,
                        limit: limits.max_streams,
                    }));
                }
            }
            let newest = st
                .newest
                .get(&id)
                .copied()
                .or(st.streams.get(id).map(|s| s.last))
                .unwrap_or(i64::MIN);
            let mut bytes = 0u64;
            for (entry, i) in p.range.clone().enumerate() {
                let len = cols.line_len(i);
                bytes += len as u64;
                if len > limits.max_line_bytes {
                    return Err(self.refuse(PushError::LineTooLong {
                        stream: name(),
                        entry,
                        bytes: len,
                        limit: limits.max_line_bytes,
                    }));
                }
                let ts = cols.ts(i);
                if newest != i64::MIN && ts < newest.saturating_sub(window) {
                    return Err(self.refuse(PushError::TooOld {
                        stream: name(),
                        entry,
                        ts,
                        newest,
                        window_ns: window,
                    }));
                }
            }
            let slot = *seen.entry(id).or_insert_with(|| {
                demand.push((id, k, 0, 0));
                demand.len() - 1
            });
            demand[slot].2 += p.range.len();
            demand[slot].3 += bytes;
        }
        // The backlog and the rate limits last, so a push refused for another reason takes no tokens; before the
        // WAL, so a refused push leaves nothing behind.
        let demand: Vec<StreamDemand> = demand
            .iter()
            .filter(|d| d.2 > 0)
            .map(|&(id, k, lines, bytes)| StreamDemand {
                id,
                labels: &push.streams[k].labels,
                lines,
                bytes,
            })
            .collect();
        let buffered = st.pending.bytes() + st.committing.bytes();
        let limit = self.inner.opts.max_uncommitted_bytes;
        if buffered >= limit {
            return Err(self.refuse(PushError::Backlog { buffered, limit }));
        }
        if let Err(e) = st.rate.admit(Instant::now(), &demand) {
            return Err(self.refuse(e));
        }
        drop(demand);
        st.seq += 1;
        let seq = st.seq;
        let mut rec: Vec<(u64, std::ops::Range<usize>)> = Vec::with_capacity(push.streams.len());
        let mut count = 0usize;
        let streams_path = self.inner.opts.dir.join("streams.jsonl");
        for (p, &id) in push.streams.iter().zip(&ids) {
            let ts = &cols.timestamps()[p.range.clone()];
            let (Some(&first), Some(&last)) = (ts.iter().min(), ts.iter().max()) else {
                continue;
            };
            st.streams
                .touch(id, &p.labels, first, last)
                .map_err(io(&streams_path))?;
            let n = st.newest.entry(id).or_insert(i64::MIN);
            *n = (*n).max(last);
            count += p.range.len();
            rec.push((id, p.range.clone()));
        }
        let bytes = cols.text_len();
        st.wal
            .append_columns(seq, cols, &rec)
            .map_err(io(&self.inner.opts.dir))?;
        let mut remap = Vec::new();
        for (id, range) in rec {
            st.pending.append(id, cols, range, &mut remap);
        }
        let half_full = self.inner.opts.commit_when_half_full && st.pending.bytes() >= limit / 2;
        drop(st);
        // The pushed columns are freed outside the lock.
        drop(push);
        if half_full {
            // Commit now rather than at the next tick: the backlog, not the interval, bounds ingest speed.
            if let Some(w) = self.wake.lock().as_ref() {
                let _ = w.try_send(());
            }
        }
        let c = &self.inner.counters;
        c.entries.fetch_add(count as u64, Ordering::Relaxed);
        c.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        Ok(count)
    }

    /// The refusal any push gets while the backlog awaiting a commit is full (counted like one).
    pub fn backlog_refusal(&self) -> Option<StoreError> {
        let buffered = {
            let st = self.inner.state.lock();
            st.pending.bytes() + st.committing.bytes()
        };
        let limit = self.inner.opts.max_uncommitted_bytes;
        (buffered >= limit).then(|| self.refuse(PushError::Backlog { buffered, limit }))
    }

    fn refuse(&self, e: PushError) -> StoreError {
        *self
            .inner
            .counters
            .refused
            .lock()
            .entry(e.reason())
            .or_default() += 1;
        StoreError::Push(e)
    }

    /// Entries matching `q`, grouped by stream (streams in label order, entries in the query's direction).
    pub fn query(&self, q: &LogQuery) -> Result<Vec<StreamEntries>, StoreError> {
        lookout_storage::logs::collect_streams(self, q).map_err(|e| StoreError::Read(e.to_string()))
    }

    /// What a read needs: the selected streams, the searchers of the partitions overlapping `[start, end)` and the
    /// uncommitted entries that pass the selection. Taken under the lock in one go, so an entry is either in the
    /// buffer or in a published searcher, never both, never neither; lines are read after the lock is released.
    pub(crate) fn read_view(
        &self,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        pending_filter: &dyn Fn(&str) -> bool,
    ) -> ReadView {
        let (streams, mut pending, committing, view) = {
            let st = self.inner.state.lock();
            let streams: HashMap<u64, Labels> = st
                .streams
                .select(matchers, start, end)
                .into_iter()
                .collect();
            let mut pending = Vec::new();
            collect_buffered(
                &st.pending,
                &streams,
                start,
                end,
                pending_filter,
                &mut pending,
            );
            (streams, pending, st.committing.clone(), st.view.clone())
        };
        collect_buffered(
            &committing,
            &streams,
            start,
            end,
            pending_filter,
            &mut pending,
        );
        let parts = view
            .values()
            .filter(|(b, _)| b.overlaps(start, end))
            .cloned()
            .collect();
        ReadView {
            streams,
            parts,
            pending,
        }
    }

    /// Label names of the streams matching `matchers` with entries in `[start, end)`.
    pub fn label_names(&self, matchers: &[Matcher], start: i64, end: i64) -> Vec<String> {
        let st = self.inner.state.lock();
        st.streams.label_names(matchers, start, end)
    }

    /// Values of label `name` among those streams.
    pub fn label_values(
        &self,
        name: &str,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Vec<String> {
        let st = self.inner.state.lock();
        st.streams.label_values(name, matchers, start, end)
    }

    /// Label sets of those streams.
    pub fn series(&self, matchers: &[Matcher], start: i64, end: i64) -> Vec<Labels> {
        let st = self.inner.state.lock();
        st.streams
            .select(matchers, start, end)
            .into_iter()
            .map(|(_, l)| l)
            .collect()
    }

    /// Commits now (tests, shutdown).
    pub fn flush(&self) -> Result<(), StoreError> {
        let mut parts = self.inner.parts.lock();
        crate::commit::commit(&self.inner, &mut parts)
    }

    /// Runs retention now as if the time were `now_ns` (Unix ns); the commit thread runs it every
    /// `maintenance_interval`. Returns the partitions deleted.
    pub fn enforce_retention(&self, now_ns: i64) -> Result<usize, StoreError> {
        let mut parts = self.inner.parts.lock();
        crate::commit::retention(&self.inner, &mut parts, now_ns)
    }

    /// The partitions' time ranges `[start, end)` in Unix ns, oldest first.
    pub fn partitions(&self) -> Vec<(i64, i64)> {
        let view = self.inner.state.lock().view.clone();
        view.values()
            .map(|(b, _)| (b.start_ns(), b.end_ns()))
            .collect()
    }

    /// Counters for self-metrics.
    pub fn counters(&self) -> &LogCounters {
        &self.inner.counters
    }

    /// Gauges for self-metrics (walks the data directory for its size).
    pub fn stats(&self) -> LogStats {
        let (streams, view, wal_bytes, uncommitted, uncommitted_bytes) = {
            let st = self.inner.state.lock();
            (
                st.streams.len(),
                st.view.clone(),
                st.wal.size(),
                st.pending.len() + st.committing.len(),
                st.pending.bytes() + st.committing.bytes(),
            )
        };
        LogStats {
            streams,
            documents: view.values().map(|(_, s)| s.num_docs()).sum(),
            entries: view.values().map(|(_, s)| s.num_entries()).sum(),
            segments: view.values().map(|(_, s)| s.segments()).sum(),
            partitions: view.len(),
            writers: self.inner.writers.load(Ordering::Relaxed),
            wal_bytes,
            disk_bytes: dir_bytes(&self.inner.opts.dir),
            uncommitted,
            uncommitted_bytes,
        }
    }

    /// Commits, stops the commit thread and closes the writers (waiting for their merges).
    pub fn close(&self) -> Result<(), StoreError> {
        self.inner.stop.store(true, Ordering::Relaxed);
        drop(self.wake.lock().take());
        if let Some(t) = self.committer.lock().take() {
            let _ = t.join();
        }
        let mut parts = self.inner.parts.lock();
        let committed = crate::commit::commit(&self.inner, &mut parts);
        parts.shutdown();
        self.inner.writers.store(0, Ordering::Relaxed);
        committed
    }
}

impl Drop for LogStore {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::Relaxed);
        drop(self.wake.lock().take());
    }
}
