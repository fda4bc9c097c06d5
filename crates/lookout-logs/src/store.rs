//! The store: validation, the WAL, the stream index, the tantivy index and the buffer of entries not yet
//! committed to it, behind one lock; a background thread commits every second and syncs the WAL.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use lookout_model::{Labels, Matcher};
use parking_lot::Mutex;

use crate::entry::{Entry, LogQuery, PushStream, StreamEntries};
use crate::index::LineIndex;
use crate::limits::{LogLimits, PushError};
use crate::streams::Streams;
use crate::wal::{Wal, WalRecord};

/// How the store is opened.
#[derive(Debug, Clone)]
pub struct LogStoreOptions {
    /// Data directory (holds `wal.log`, `streams.jsonl` and `index/`).
    pub dir: PathBuf,
    /// tantivy writer heap (the log store's share of the memory budget, halved: tantivy may reach 2×).
    pub writer_heap_bytes: usize,
    /// Ingest limits.
    pub limits: LogLimits,
    /// Entries older than a stream's newest minus this are refused (ns).
    pub out_of_order_window_ns: i64,
    /// How often the index commits (queries see uncommitted entries through the store's buffer).
    pub commit_interval: Duration,
}

impl LogStoreOptions {
    /// Defaults for `dir`: 30 MB writer, Loki's limits, a 1 h out-of-order window, commits every second.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        LogStoreOptions {
            dir: dir.into(),
            writer_heap_bytes: 30_000_000,
            limits: LogLimits::default(),
            out_of_order_window_ns: 3_600_000_000_000,
            commit_interval: Duration::from_secs(1),
        }
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The push broke a limit or rule (a client error; nothing stored).
    #[error(transparent)]
    Push(#[from] PushError),
    /// The disk failed.
    #[error("log store I/O error in {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The index failed.
    #[error("log index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// A read failed.
    #[error("{0}")]
    Read(String),
}

/// A read's consistent view of the store (see [`LogStore::read_view`]).
pub(crate) struct ReadView {
    /// Selected streams by id.
    pub streams: HashMap<u64, Labels>,
    /// The committed index.
    pub index: crate::index::Snapshot,
    /// Buffered entries of the selected streams in range that pass the filters.
    pub pending: Vec<(u64, Entry)>,
}

/// Counters (`lookout_logs_*`).
#[derive(Debug, Default)]
pub struct LogCounters {
    /// Entries accepted.
    pub entries: AtomicU64,
    /// Line bytes accepted.
    pub bytes: AtomicU64,
    /// Pushes refused, by reason.
    pub refused: Mutex<BTreeMap<&'static str, u64>>,
    /// Index commits.
    pub commits: AtomicU64,
}

struct State {
    wal: Wal,
    streams: Streams,
    index: LineIndex,
    /// Entries added to the index writer but not yet committed, served to queries from here.
    pending: Vec<(u64, Entry)>,
    seq: u64,
    newest: HashMap<u64, i64>,
}

struct Inner {
    state: Mutex<State>,
    opts: LogStoreOptions,
    counters: LogCounters,
    stop: AtomicBool,
}

/// The log store (cheap to share; the commit thread stops when the last handle is dropped or on [`close`]).
///
/// [`close`]: LogStore::close
pub struct LogStore {
    inner: Arc<Inner>,
    committer: Mutex<Option<JoinHandle<()>>>,
    /// Dropping the sender wakes the commit thread at once to stop.
    wake: Mutex<Option<std::sync::mpsc::SyncSender<()>>>,
}

fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl LogStore {
    /// Opens the store, replaying the WAL records the index lacks.
    pub fn open(opts: LogStoreOptions) -> Result<LogStore, StoreError> {
        std::fs::create_dir_all(&opts.dir).map_err(io(&opts.dir))?;
        let wal_path = opts.dir.join("wal.log");
        let streams_path = opts.dir.join("streams.jsonl");
        let (wal, replay) = Wal::open(&wal_path).map_err(io(&wal_path))?;
        if replay.torn_bytes > 0 {
            tracing::warn!(path = %wal_path.display(), bytes = replay.torn_bytes, "log WAL: dropped a torn tail (a write cut by a crash, never acknowledged)");
        }
        let streams = Streams::open(&streams_path).map_err(io(&streams_path))?;
        let index = LineIndex::open(&opts.dir.join("index"), opts.writer_heap_bytes)?;
        let committed = index.committed_seq();
        let mut state = State {
            wal,
            streams,
            index,
            pending: Vec::new(),
            seq: committed,
            newest: HashMap::new(),
        };
        let mut replayed = 0usize;
        for rec in replay.records {
            state.seq = state.seq.max(rec.seq);
            if rec.seq <= committed {
                continue;
            }
            for (id, entries) in rec.streams {
                for e in entries {
                    state.index.add(id, &e)?;
                    state.pending.push((id, e));
                    replayed += 1;
                }
            }
        }
        for (id, e) in &state.pending {
            let n = state.newest.entry(*id).or_insert(i64::MIN);
            *n = (*n).max(e.ts);
        }
        tracing::info!(dir = %opts.dir.display(), streams = state.streams.len(), replayed, "log store opened");
        let inner = Arc::new(Inner {
            state: Mutex::new(state),
            opts,
            counters: LogCounters::default(),
            stop: AtomicBool::new(false),
        });
        let weak = Arc::downgrade(&inner);
        let interval = inner.opts.commit_interval;
        let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
        let committer = std::thread::Builder::new()
            .name("log-commit".into())
            .spawn(move || {
                loop {
                    if let Err(std::sync::mpsc::RecvTimeoutError::Disconnected) =
                        woken.recv_timeout(interval)
                    {
                        return;
                    }
                    let Some(inner) = weak.upgrade() else { return };
                    if inner.stop.load(Ordering::Relaxed) {
                        return;
                    }
                    if let Err(e) = commit(&inner) {
                        tracing::error!(error = %e, "log index commit failed; entries stay in the WAL and are retried");
                    }
                }
            })
            .map_err(io(std::path::Path::new("log-commit thread")))?;
        Ok(LogStore {
            inner,
            committer: Mutex::new(Some(committer)),
            wake: Mutex::new(Some(wake)),
        })
    }

    /// Stores every entry of `push` or none: validated first, then written to the WAL (page cache) and the index
    /// buffer. Returns the number of entries stored.
    pub fn push(&self, push: Vec<PushStream>) -> Result<usize, StoreError> {
        let limits = &self.inner.opts.limits;
        let window = self.inner.opts.out_of_order_window_ns;
        let mut st = self.inner.state.lock();
        let mut new_streams = 0usize;
        for p in &push {
            let name = || p.labels.to_string();
            if p.labels.is_empty() {
                return Err(self.refuse("no_labels", PushError::NoLabels));
            }
            if p.labels.len() > limits.max_labels_per_stream {
                return Err(self.refuse(
                    "labels_per_stream",
                    PushError::TooManyLabels {
                        stream: name(),
                        count: p.labels.len(),
                        limit: limits.max_labels_per_stream,
                    },
                ));
            }
            let id = p.labels.hash64();
            if st.streams.get(id).is_none() {
                new_streams += 1;
                if st.streams.len() + new_streams > limits.max_streams {
                    return Err(self.refuse(
                        "streams",
                        PushError::TooManyStreams {
                            stream: name(),
                            count: st.streams.len() + new_streams,
                            limit: limits.max_streams,
                        },
                    ));
                }
            }
            let newest = st
                .newest
                .get(&id)
                .copied()
                .or(st.streams.get(id).map(|s| s.last))
                .unwrap_or(i64::MIN);
            for (i, e) in p.entries.iter().enumerate() {
                if e.line.len() > limits.max_line_bytes {
                    return Err(self.refuse(
                        "line_too_long",
                        PushError::LineTooLong {
                            stream: name(),
                            entry: i,
                            bytes: e.line.len(),
                            limit: limits.max_line_bytes,
                        },
                    ));
                }
                if newest != i64::MIN && e.ts < newest.saturating_sub(window) {
                    return Err(self.refuse(
                        "too_old",
                        PushError::TooOld {
                            stream: name(),
                            entry: i,
                            ts: e.ts,
                            newest,
                            window_ns: window,
                        },
                    ));
                }
            }
        }
        st.seq += 1;
        let seq = st.seq;
        let mut rec = WalRecord {
            seq,
            streams: Vec::with_capacity(push.len()),
        };
        let mut count = 0usize;
        let mut bytes = 0usize;
        for p in push {
            if p.entries.is_empty() {
                continue;
            }
            let id = p.labels.hash64();
            let first = p.entries.iter().map(|e| e.ts).min().unwrap_or(0);
            let last = p.entries.iter().map(|e| e.ts).max().unwrap_or(0);
            let path = self.inner.opts.dir.join("streams.jsonl");
            st.streams
                .touch(id, &p.labels, first, last)
                .map_err(io(&path))?;
            let n = st.newest.entry(id).or_insert(i64::MIN);
            *n = (*n).max(last);
            count += p.entries.len();
            bytes += p.entries.iter().map(|e| e.line.len()).sum::<usize>();
            rec.streams.push((id, p.entries));
        }
        let wal_path = self.inner.opts.dir.join("wal.log");
        st.wal.append(&rec).map_err(io(&wal_path))?;
        for (id, entries) in rec.streams {
            for e in entries {
                st.index.add(id, &e)?;
                st.pending.push((id, e));
            }
        }
        let c = &self.inner.counters;
        c.entries.fetch_add(count as u64, Ordering::Relaxed);
        c.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        Ok(count)
    }

    fn refuse(&self, reason: &'static str, e: PushError) -> StoreError {
        *self
            .inner
            .counters
            .refused
            .lock()
            .entry(reason)
            .or_default() += 1;
        StoreError::Push(e)
    }

    /// Entries matching `q`, grouped by stream (streams in label order, entries in the query's direction).
    pub fn query(&self, q: &LogQuery) -> Result<Vec<StreamEntries>, StoreError> {
        lookout_storage::logs::collect_streams(self, q).map_err(|e| StoreError::Read(e.to_string()))
    }

    /// What a read needs, taken under the lock: the selected streams, a searcher over the committed index and the
    /// buffered entries that pass the selection (the lock is released before any line is read).
    pub(crate) fn read_view(
        &self,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        pending_filter: &dyn Fn(&Entry) -> bool,
    ) -> ReadView {
        let st = self.inner.state.lock();
        let streams: HashMap<u64, Labels> = st
            .streams
            .select(matchers, start, end)
            .into_iter()
            .collect();
        let pending = st
            .pending
            .iter()
            .filter(|(id, e)| {
                streams.contains_key(id) && e.ts >= start && e.ts < end && pending_filter(e)
            })
            .cloned()
            .collect();
        ReadView {
            streams,
            index: st.index.snapshot(),
            pending,
        }
    }

    /// Label names of the streams matching `matchers` with entries in `[start, end)`.
    pub fn label_names(&self, matchers: &[Matcher], start: i64, end: i64) -> Vec<String> {
        self.inner
            .state
            .lock()
            .streams
            .label_names(matchers, start, end)
    }

    /// Values of label `name` among those streams.
    pub fn label_values(
        &self,
        name: &str,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Vec<String> {
        self.inner
            .state
            .lock()
            .streams
            .label_values(name, matchers, start, end)
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
        commit(&self.inner)
    }

    /// Counters for self-metrics.
    pub fn counters(&self) -> &LogCounters {
        &self.inner.counters
    }

    /// (streams, committed documents, segments, WAL bytes, uncommitted entries).
    pub fn stats(&self) -> (usize, u64, usize, u64, usize) {
        let st = self.inner.state.lock();
        (
            st.streams.len(),
            st.index.num_docs(),
            st.index.segments(),
            st.wal.size(),
            st.pending.len(),
        )
    }

    /// Commits and stops the commit thread.
    pub fn close(&self) -> Result<(), StoreError> {
        self.inner.stop.store(true, Ordering::Relaxed);
        drop(self.wake.lock().take());
        if let Some(t) = self.committer.lock().take() {
            let _ = t.join();
        }
        commit(&self.inner)
    }
}

impl Drop for LogStore {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::Relaxed);
        drop(self.wake.lock().take());
    }
}

/// Commits the index if anything is pending, then empties the WAL and the buffer.
fn commit(inner: &Inner) -> Result<(), StoreError> {
    let mut st = inner.state.lock();
    if st.pending.is_empty() {
        return Ok(());
    }
    let started = Instant::now();
    let seq = st.seq;
    st.index.commit(seq)?;
    let wal_path = inner.opts.dir.join("wal.log");
    st.wal.truncate().map_err(io(&wal_path))?;
    st.pending.clear();
    inner.counters.commits.fetch_add(1, Ordering::Relaxed);
    tracing::debug!(
        seq,
        ms = started.elapsed().as_millis() as u64,
        "log index committed"
    );
    Ok(())
}
