//! The database handle: opening (sled first, then WAL replay into a fresh head), the maintenance thread, metrics,
//! stats and shutdown.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Instant;

use lookout_model::{Labels, TimeRange};
use lookout_storage::{Appender, Querier, SeriesRef, Storage, StorageError};
use parking_lot::Mutex;
use roaring::RoaringBitmap;
use rustc_hash::FxHashMap;

use crate::appender::TsdbAppender;
use crate::chunk_log::{self, ChunkLog, LoadedChunks};
use crate::head::Head;
use crate::metrics::{Counters, TsdbMetrics};
use crate::options::TsdbOptions;
use crate::query::TsdbQuerier;
use crate::replay::{ReplayOutcome, replay_wal};
use crate::store::{SledUsage, Store};
use crate::wal::{CutReason, Wal};

/// Rotation points of the WAL: segments before `segment` hold only samples up to `max_t`.
#[derive(Debug, Default)]
pub(crate) struct PersistState {
    pub(crate) rotations: Vec<(u64, i64)>,
}

/// Everything the handle, appenders, queriers and the maintenance thread share.
pub(crate) struct Inner {
    pub(crate) dir: PathBuf,
    pub(crate) opts: TsdbOptions,
    pub(crate) head: Head,
    pub(crate) store: Store,
    pub(crate) wal: Wal,
    /// Serialises commits so WAL order equals head order (replay then rebuilds the same head).
    pub(crate) commit_lock: Mutex<()>,
    pub(crate) persist: Mutex<PersistState>,
    pub(crate) counters: Counters,
    closed: AtomicBool,
}

impl Inner {
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }
}

/// What `Tsdb::stats` reports (for the API's `/status/tsdb`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TsdbStats {
    /// Series in the head.
    pub head_series: u64,
    /// Newest head sample (ms), `i64::MIN` when empty.
    pub head_max_time: i64,
    /// Samples before this time are persisted.
    pub persisted_boundary: i64,
    /// Label names with the most distinct values: (name, values).
    pub top_label_names: Vec<(String, u64)>,
    /// Label pairs with the most head series: (`name=value`, series).
    pub top_label_pairs: Vec<(String, u64)>,
}

/// Lookout's time-series database. Implements [`Storage`]; see `docs/design.md`.
pub struct Tsdb {
    pub(crate) inner: Arc<Inner>,
    maintenance: Mutex<Option<(mpsc::Sender<()>, JoinHandle<()>)>>,
}

impl std::fmt::Debug for Tsdb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tsdb")
            .field("dir", &self.inner.dir)
            .finish()
    }
}

fn io(path: &Path, source: std::io::Error) -> StorageError {
    StorageError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl Tsdb {
    /// Opens the database in `dir` (created if missing): sled first, then the WAL is replayed into the head.
    pub fn open(dir: impl AsRef<Path>, opts: TsdbOptions) -> Result<Tsdb, StorageError> {
        let dir = dir.as_ref().to_path_buf();
        let started = Instant::now();
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        let cache_budget = (opts.head_budget_bytes() / 16) as usize;
        let store = Store::open(
            &dir.join("sled"),
            &dir.join("parts"),
            opts.sled_cache_bytes(),
            opts.sled_flush_every.as_millis() as u64,
            cache_budget.clamp(4 << 20, 256 << 20),
        )?;
        let mut persisted_ids = RoaringBitmap::new();
        let mut known = Vec::new();
        store.for_each_series(&mut |id, labels| {
            known.push((labels.hash64(), id));
            persisted_ids.insert(id);
        })?;
        let boundary = store.view().boundary;
        check_boundary_marker(&dir, boundary)?;
        store.open_part_files(opts.drop_damaged_parts)?;
        let wal = Wal::open(&dir.join("wal"), opts.wal.clone())?;
        let counters = Counters::default();
        let log_dir = dir.join(chunk_log::DIR);
        // With an out-of-order window the head holds samples outside its chunks, which only the WAL rebuilds.
        let use_log = opts.ooo_window_ms() == 0;
        let mut loaded = if use_log {
            chunk_log::load(&log_dir, boundary)
        } else {
            chunk_log::remove_all(&log_dir).map_err(|e| io(&log_dir, e))?;
            LoadedChunks::default()
        };
        let replay = |head: &Head, chains: &mut FxHashMap<u32, chunk_log::Chain>| {
            replay_wal(
                &wal,
                head,
                &store,
                &persisted_ids,
                boundary,
                crate::replay::replay_buffer_bytes(&opts),
                chains,
            )
        };
        let mut head = new_head(&opts, &known, boundary);
        let mut outcome = replay(&head, &mut loaded.chains)?;
        let repaired = matches!(&outcome.stats.cut, Some(c) if c.reason == CutReason::Repaired);
        if outcome.unconfirmed > 0 || repaired {
            // The log holds samples the WAL lost (a power cut took the WAL's unsynced tail, or repair cut it): it
            // no longer describes this WAL. Drop it; if the head took chunks from it, rebuild the head from the
            // WAL alone.
            tracing::warn!(
                dir = %log_dir.display(),
                unconfirmed_series = outcome.unconfirmed,
                repaired,
                "the head chunk log does not match the WAL; deleting it"
            );
            chunk_log::remove_all(&log_dir).map_err(|e| io(&log_dir, e))?;
            loaded.files.clear();
            if outcome.unconfirmed > 0 {
                head = new_head(&opts, &known, boundary);
                outcome = replay(&head, &mut Default::default())?;
            }
        }
        if use_log {
            let log = ChunkLog::start(&log_dir, loaded.files).map_err(|e| io(&log_dir, e))?;
            let _ = head.chunk_log.set(log);
        }
        drop(loaded.chains);
        let ReplayOutcome {
            replayed,
            skipped,
            from_chunk_log,
            stats,
            ..
        } = outcome;
        head.measure_index_bytes();
        let (series, head_bytes) = (head.series_count(), head.budget_bytes() as u64);
        if series > opts.max_active_series || head_bytes > opts.head_budget_bytes() {
            // Under the limits that wrote it the WAL cannot hold more (what they refused was never logged): they
            // were lowered. Every sample in it was acknowledged, so all of it stays; new series wait for room.
            tracing::warn!(
                series,
                max_active_series = opts.max_active_series,
                head_bytes,
                head_budget_bytes = opts.head_budget_bytes(),
                "the replayed head is larger than the limits allow (were they lowered?): new series are refused \
                 until persistence moves data out of it"
            );
        }
        Counters::set(&counters.replayed_samples, replayed);
        Counters::set(&counters.replay_skipped_samples, skipped);
        Counters::set(&counters.replay_chunk_log_samples, from_chunk_log);
        let rotation = wal.rotate()?;
        let inner = Arc::new(Inner {
            dir,
            persist: Mutex::new(PersistState {
                rotations: vec![(rotation, head.max_t())],
            }),
            opts,
            head,
            store,
            wal,
            commit_lock: Mutex::new(()),
            counters,
            closed: AtomicBool::new(false),
        });
        tracing::info!(
            dir = %inner.dir.display(),
            series = inner.head.series_count(),
            replayed,
            from_chunk_log,
            skipped,
            wal_segments = stats.segments,
            seconds = started.elapsed().as_secs_f64(),
            "tsdb opened"
        );
        let maintenance = inner.opts.maintenance_interval.map(|every| {
            let (tx, rx) = mpsc::channel::<()>();
            let weak = Arc::downgrade(&inner);
            let handle = std::thread::Builder::new()
                .name("tsdb-maintenance".into())
                .spawn(move || {
                    while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(every) {
                        let Some(inner) = weak.upgrade() else { break };
                        if let Err(e) = inner.maintain() {
                            tracing::error!(error = %e, "tsdb maintenance failed; retrying next round");
                        }
                    }
                })
                .expect("spawning the maintenance thread");
            (tx, handle)
        });
        Ok(Tsdb {
            inner,
            maintenance: Mutex::new(maintenance),
        })
    }

    /// Persists every head sample (block-aligned or not) to sled now, then truncates the WAL. For tests and benches:
    /// afterwards samples older than the newest one are refused as out of bounds.
    pub fn persist_now(&self) -> Result<(), StorageError> {
        let max = self.inner.head.max_t();
        if max == i64::MIN {
            return Ok(());
        }
        self.inner.persist_until(max.saturating_add(1)).map(|_| ())
    }

    /// Runs one maintenance round now: persistence of complete blocks, WAL truncation, retention, gauges.
    pub fn compact(&self) -> Result<(), StorageError> {
        self.inner.maintain()
    }

    /// Applies time and size retention now; returns the number of parts deleted.
    pub fn apply_retention(&self) -> Result<usize, StorageError> {
        self.inner.apply_retention()
    }

    /// A snapshot of the self-metrics.
    pub fn metrics(&self) -> TsdbMetrics {
        self.inner.refresh_gauges();
        let mut m = self.inner.counters.snapshot();
        let w = self.inner.wal.metrics();
        m.wal_bytes_written = w.bytes_written;
        m.wal_fsyncs = w.fsyncs;
        m.wal_fsync_micros_sum = (w.fsync_seconds_sum * 1e6) as u64;
        m.wal_fsync_micros_max = (w.fsync_seconds_max * 1e6) as u64;
        m.wal_segments = w.segments as u64;
        m.wal_size_bytes = w.size_on_disk_bytes;
        m
    }

    /// Renders the self-metrics in Prometheus text format (`lookout_tsdb_*`).
    pub fn write_metrics(&self, out: &mut lookout_model::MetricsWriter) {
        self.metrics().write_prometheus(out);
    }

    /// Head cardinality figures for `/api/v1/status/tsdb`.
    pub fn stats(&self, top: usize) -> TsdbStats {
        let (top_label_names, top_label_pairs) = self.inner.head.postings.read().top_pairs(top);
        TsdbStats {
            head_series: self.inner.head.series_count() as u64,
            head_max_time: self.inner.head.max_t(),
            persisted_boundary: self.inner.store.view().boundary,
            top_label_names,
            top_label_pairs,
        }
    }

    /// Estimated heap bytes of the head (series, chunks, postings, symbols).
    pub fn head_bytes(&self) -> usize {
        self.inner.head_bytes()
    }

    /// What sled holds, by tree, and its size on disk (scans every key: for benchmarks and diagnostics).
    pub fn sled_usage(&self) -> Result<SledUsage, StorageError> {
        self.inner.store.usage()
    }

    /// Bytes of everything in the data directory (sled files and WAL segments), measured on disk.
    pub fn disk_bytes(&self) -> u64 {
        dir_size(&self.inner.dir)
    }

    /// Stops the maintenance thread, fsyncs the WAL and flushes sled. Appends fail with `Closed` afterwards.
    pub fn close(self) -> Result<(), StorageError> {
        self.shutdown()
    }

    fn shutdown(&self) -> Result<(), StorageError> {
        if let Some((tx, handle)) = self.maintenance.lock().take() {
            drop(tx);
            let _ = handle.join();
        }
        {
            let _c = self.inner.commit_lock.lock();
            if self.inner.closed.swap(true, Ordering::SeqCst) {
                return Ok(());
            }
        }
        self.inner.wal.sync()?;
        if let Some(log) = self.inner.head.chunk_log.get() {
            log.close();
        }
        self.inner.store.flush()
    }
}

impl Drop for Tsdb {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::error!(error = %e, "closing the tsdb failed");
        }
    }
}

/// An empty head knowing the persisted series (label hash, id), refusing samples before `boundary`.
fn new_head(opts: &TsdbOptions, known: &[(u64, u32)], boundary: i64) -> Head {
    let head = Head::new(opts.block_ms(), opts.ooo_window_ms());
    for &(hash, id) in known {
        head.register_known(hash, id);
    }
    head.set_min_valid_t(boundary);
    head
}

/// File next to sled recording the last persisted boundary, so a sled database that silently lost data (sled
/// treats unreadable segments as empty) is caught instead of being taken for an empty one.
const BOUNDARY_MARKER: &str = "PERSISTED_BOUNDARY";

/// Records `boundary` after sled committed and flushed it (written to a temporary file, fsynced, renamed).
pub(crate) fn write_boundary_marker(dir: &Path, boundary: i64) -> Result<(), StorageError> {
    let tmp = dir.join(format!("{BOUNDARY_MARKER}.tmp"));
    let path = dir.join(BOUNDARY_MARKER);
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        std::io::Write::write_all(&mut f, boundary.to_string().as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        std::fs::File::open(dir)?.sync_all()
    };
    write().map_err(|e| io(&path, e))
}

fn check_boundary_marker(dir: &Path, boundary: i64) -> Result<(), StorageError> {
    let path = dir.join(BOUNDARY_MARKER);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let Ok(marked) = text.trim().parse::<i64>() else {
        return Ok(());
    };
    if boundary >= marked {
        return Ok(());
    }
    Err(StorageError::Corruption {
        path: dir.join("sled").display().to_string(),
        offset: 0,
        detail: format!(
            "sled holds data persisted up to {boundary} but {} records {marked}: persisted chunks were lost; \
             restore the directory from a backup, or delete {} to start with what is left",
            path.display(),
            path.display()
        ),
    })
}

/// Total size of the regular files under `dir`.
pub fn dir_size(dir: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.filter_map(Result::ok)
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

impl Storage for Tsdb {
    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(TsdbAppender::new(&self.inner))
    }

    fn querier(&self, range: TimeRange) -> Result<Box<dyn Querier + '_>, StorageError> {
        if self.inner.is_closed() {
            return Err(StorageError::Closed);
        }
        Ok(Box::new(TsdbQuerier::new(&self.inner, range)))
    }

    fn series_labels(&self, series: SeriesRef) -> Option<Labels> {
        // Refs of series a batch creates carry bit 63 until it commits: those are not head ids.
        self.inner.head.labels(u32::try_from(series).ok()?)
    }

    fn intern_labels(&self, labels: &Labels) -> Option<Labels> {
        // The head's symbol table: a series created from the result keeps this very set (see `Symbols`).
        Some(self.inner.head.symbols.intern_labels(labels))
    }
}
