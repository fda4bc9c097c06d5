//! The write-ahead log: every batch the head accepts is written here before it is acknowledged, and replayed into
//! a fresh head at start-up.
//!
//! Acknowledgement: when [`Wal::append`] returns `Ok`, the batch has been handed to the kernel with one `write(2)`
//! (`pwrite`), so it survives the process being killed (`kill -9`, OOM killer, panic). It survives a power cut or
//! kernel crash once fsynced: the background thread fsyncs every [`WalOptions::fsync_interval`] (default 1 s), so a
//! power cut loses at most that much acknowledged data; `fsync_interval: None` fsyncs inside every append.
//!
//! Layout: a directory of segment files named by zero-padded sequence number, each a header followed by framed
//! records (length, type, CRC32C, payload). The byte format is specified in `docs/format/wal.md`.
//!
//! Architecture invariant: the WAL knows records, not the head: it never interprets series refs or timestamps.

mod record;
mod replay;
mod segment;
mod writer;

#[cfg(test)]
mod process_tests;
#[cfg(test)]
mod recovery_tests;
#[cfg(test)]
mod tests;

use std::fs::{File, TryLockError};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::Duration;

use lookout_storage::StorageError;
use parking_lot::Mutex;

pub use record::WalRecord;
pub use replay::{CutReason, REPAIR_HINT, ReplayStats, WalCut};
pub use segment::SegmentInfo;

use segment::{io_err, list_segments};
use writer::{Shared, spawn_syncer};

/// Smallest accepted `segment_bytes`; below it rotation would dominate the append path.
pub const MIN_SEGMENT_BYTES: u64 = 64 * 1024;

/// How the WAL writes and recovers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalOptions {
    /// A segment is closed and a new one started once the next batch would take it past this size (a single larger
    /// batch gets a segment of its own). Default 64 MiB.
    pub segment_bytes: u64,
    /// How often the background thread fsyncs; `None` fsyncs inside every append. Default 1 s.
    pub fsync_interval: Option<Duration>,
    /// On corruption before the end of the log, cut the log there (losing what follows) instead of refusing.
    pub repair: bool,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            segment_bytes: 64 << 20,
            fsync_interval: Some(Duration::from_secs(1)),
            repair: false,
        }
    }
}

/// A snapshot of the WAL's self-metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WalMetrics {
    /// Bytes written by appends since open (frames only).
    pub bytes_written: u64,
    /// Records written since open.
    pub records_written: u64,
    /// Batches (appends) written since open.
    pub batches_written: u64,
    /// fsyncs performed (background, explicit, rotation and per-append), failed ones included.
    pub fsyncs: u64,
    /// Total fsync latency, in seconds.
    pub fsync_seconds_sum: f64,
    /// Slowest fsync, in seconds.
    pub fsync_seconds_max: f64,
    /// fsyncs that failed; after one, the WAL refuses writes.
    pub fsync_errors: u64,
    /// Segment files on disk.
    pub segments: usize,
    /// Torn tails cut since open.
    pub tail_truncations: u64,
    /// Corruption cuts made because repair was on.
    pub repairs: u64,
    /// Bytes of all segment files on disk.
    pub size_on_disk_bytes: u64,
}

/// The write-ahead log of one TSDB directory. `Send + Sync`; share it behind an `Arc`.
pub struct Wal {
    shared: Arc<Shared>,
    syncer: Mutex<Option<JoinHandle<()>>>,
    /// Held for the life of the handle: an exclusive lock on `<dir>/LOCK`, so two processes never write one log.
    _lock: File,
}

impl std::fmt::Debug for Wal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wal")
            .field("dir", &self.shared.dir)
            .field("opts", &self.shared.opts)
            .finish()
    }
}

impl Wal {
    /// Opens (creating if needed) the WAL in `dir` and starts the fsync thread. Nothing is read yet: call
    /// [`Wal::replay`] before the first append to recover what is on disk.
    pub fn open(dir: &Path, opts: WalOptions) -> Result<Wal, StorageError> {
        if opts.segment_bytes < MIN_SEGMENT_BYTES {
            return Err(StorageError::Other(format!(
                "wal segment_bytes = {} is below the minimum of {MIN_SEGMENT_BYTES}",
                opts.segment_bytes
            )));
        }
        if opts.fsync_interval.is_some_and(|d| d.is_zero()) {
            return Err(StorageError::Other(
                "wal fsync_interval must be positive; use none to fsync on every append".into(),
            ));
        }
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        let lock_path = dir.join("LOCK");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io_err(&lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(StorageError::Other(format!(
                    "wal directory {} is in use by another lookout process (or another handle in this one)",
                    dir.display()
                )));
            }
            Err(TryLockError::Error(e)) => return Err(io_err(&lock_path, e)),
        }
        let sealed = list_segments(dir)?;
        let shared = Arc::new(Shared::new(dir.to_path_buf(), opts, sealed));
        let syncer = match shared.opts.fsync_interval {
            Some(interval) => Some(spawn_syncer(shared.clone(), interval)?),
            None => None,
        };
        Ok(Wal {
            shared,
            syncer: Mutex::new(syncer),
            _lock: lock,
        })
    }

    /// Reads the segments that were on disk at open, in order, calling `visit` per record. Call it before the
    /// first append or rotate; afterwards it is refused, since cutting the log under a live writer is unsafe.
    ///
    /// A torn or damaged tail of the last segment is cut at the last good record, with a warning naming file and
    /// offset. Damage anywhere else returns [`StorageError::Corruption`] naming the file, the offset of the first
    /// bad record and the repair flag; with [`WalOptions::repair`] the log is cut there instead (later segments
    /// deleted) with a warning. Records before the damage have been visited either way.
    pub fn replay(&self, visit: &mut dyn FnMut(WalRecord)) -> Result<ReplayStats, StorageError> {
        replay::replay(&self.shared, visit)
    }

    /// Encodes `records` as one batch and writes it to the current segment with one syscall. On `Ok` the batch is
    /// in the page cache (survives `kill -9`); it is on disk after the next fsync (at once with
    /// `fsync_interval: None`). Rotates to a new segment first when the batch would overflow the current one.
    pub fn append(&self, records: &[WalRecord]) -> Result<(), StorageError> {
        self.shared.append(records)
    }

    /// Fsyncs the current segment now, if anything was written since the last fsync.
    pub fn sync(&self) -> Result<(), StorageError> {
        self.shared.sync()
    }

    /// Seals the current segment (fsynced) and starts a new one; returns the new segment's number. Everything
    /// appended before this call is in segments with lower numbers.
    pub fn rotate(&self) -> Result<u64, StorageError> {
        let mut st = self.shared.state.lock();
        self.shared.rotate_locked(&mut st)
    }

    /// The segment files on disk, by number; the one being written is last.
    pub fn segments(&self) -> Vec<SegmentInfo> {
        self.shared.segments()
    }

    /// Deletes every whole segment numbered below `segment`. Refuses to delete the segment being written.
    pub fn truncate_before(&self, segment: u64) -> Result<(), StorageError> {
        self.shared.truncate_before(segment)
    }

    /// A snapshot of the self-metrics.
    pub fn metrics(&self) -> WalMetrics {
        let c = &self.shared.counters;
        let (segments, size_on_disk_bytes) = self.shared.size_on_disk();
        WalMetrics {
            bytes_written: c.bytes_written.load(Ordering::Relaxed),
            records_written: c.records_written.load(Ordering::Relaxed),
            batches_written: c.batches_written.load(Ordering::Relaxed),
            fsyncs: c.fsyncs.load(Ordering::Relaxed),
            fsync_seconds_sum: c.fsync_nanos_sum.load(Ordering::Relaxed) as f64 / 1e9,
            fsync_seconds_max: c.fsync_nanos_max.load(Ordering::Relaxed) as f64 / 1e9,
            fsync_errors: c.fsync_errors.load(Ordering::Relaxed),
            segments,
            tail_truncations: c.tail_truncations.load(Ordering::Relaxed),
            repairs: c.repairs.load(Ordering::Relaxed),
            size_on_disk_bytes,
        }
    }

    /// Stops the fsync thread and makes everything appended durable.
    pub fn close(self) -> Result<(), StorageError> {
        self.stop_syncer();
        self.shared.sync()
    }

    fn stop_syncer(&self) {
        self.shared.request_stop();
        if let Some(handle) = self.syncer.lock().take()
            && handle.join().is_err()
        {
            tracing::error!(dir = %self.shared.dir.display(), "wal fsync thread panicked");
        }
    }

    /// The shared state, to check from tests that the fsync thread let go of it.
    #[cfg(test)]
    fn shared_weak(&self) -> std::sync::Weak<Shared> {
        Arc::downgrade(&self.shared)
    }
}

impl Drop for Wal {
    /// Stops the fsync thread and fsyncs once more, best effort (use [`Wal::close`] to see errors).
    fn drop(&mut self) {
        self.stop_syncer();
        if let Err(e) = self.shared.sync() {
            tracing::warn!(dir = %self.shared.dir.display(), "final wal fsync on drop failed: {e}");
        }
    }
}
