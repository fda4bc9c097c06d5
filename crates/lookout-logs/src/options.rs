//! How the store is opened, what its operations fail with, and what it counts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use parking_lot::Mutex;

use crate::index::BlockShape;
use crate::limits::{LogLimits, PushError};

/// How the store is opened.
#[derive(Debug, Clone)]
pub struct LogStoreOptions {
    /// Data directory (holds the WAL files, `streams.jsonl` and `index/<partition>/`).
    pub dir: PathBuf,
    /// tantivy writer heap, shared by the open writers (the log store's share of the memory budget, halved:
    /// tantivy may reach 2×). Below 30 MB only one writer is open at a time.
    pub writer_heap_bytes: usize,
    /// Ingest limits.
    pub limits: LogLimits,
    /// Entries older than a stream's newest minus this are refused (ns).
    pub out_of_order_window_ns: i64,
    /// How often the index commits (queries see uncommitted entries through the store's buffer).
    pub commit_interval: Duration,
    /// Time span of one index partition (whole seconds, aligned to the Unix epoch, so a day is a UTC day).
    ///
    /// A day by default: retention works in days, a month is ~31 partitions (one reader each, a handful of
    /// segments once merged), a one-day query opens one or two, and with the 1 h out-of-order window at most two
    /// partitions (today's and, just after midnight, yesterday's) receive entries, which is what two writers on
    /// the heap budget allow. Hours would mean ~750 partitions and readers for a month; weeks would make
    /// retention coarse and a one-day query search a week.
    pub partition_period: Duration,
    /// Partitions whose whole range is older than now minus this are deleted; zero keeps everything.
    pub retention_period: Duration,
    /// When everything on disk (partitions, WAL, streams file) exceeds this many bytes the oldest partitions are
    /// deleted until it does not (never the newest); zero for no limit.
    pub retention_size: u64,
    /// How often retention runs (and merges of closed partitions start), on the commit thread.
    pub maintenance_interval: Duration,
    /// Pushes are refused (as a rate limit: retry later) while the entries awaiting a commit hold this many bytes
    /// (lines, metadata and ~160 bytes each): pushes only append to the WAL and a buffer, so this is what makes a
    /// client faster than indexing back off instead of growing memory.
    pub max_uncommitted_bytes: u64,
    /// Commit as soon as half of `max_uncommitted_bytes` waits, not only every `commit_interval`, so the backlog
    /// rather than the interval bounds ingest speed (tests turn it off to decide when commits happen).
    pub commit_when_half_full: bool,
    /// A writer receiving no entries for this long is committed and closed (and its partition merged into one
    /// segment when a newer partition exists).
    pub writer_idle: Duration,
    /// How many entries one block document of the index holds at most.
    pub block: BlockShape,
}

impl LogStoreOptions {
    /// Defaults for `dir`: 30 MB writer heap, Loki's limits, a 1 h out-of-order window, commits every second,
    /// daily partitions kept 31 days, retention every minute, writers closed after 5 idle minutes, 64 MiB of
    /// uncommitted entries at most.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        LogStoreOptions {
            dir: dir.into(),
            writer_heap_bytes: 30_000_000,
            limits: LogLimits::default(),
            out_of_order_window_ns: 3_600_000_000_000,
            commit_interval: Duration::from_secs(1),
            partition_period: Duration::from_secs(86_400),
            retention_period: Duration::from_secs(744 * 3600),
            retention_size: 0,
            maintenance_interval: Duration::from_secs(60),
            writer_idle: Duration::from_secs(300),
            max_uncommitted_bytes: 64 << 20,
            commit_when_half_full: true,
            block: BlockShape::default(),
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
    /// A commit or partition operation failed (entries stay in the buffer and the WAL, retried).
    #[error("log index: {0}")]
    Partition(String),
    /// A read failed.
    #[error("{0}")]
    Read(String),
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
    /// Index commits (one per commit cycle that committed something).
    pub commits: AtomicU64,
    /// Partitions searched by reads (a query searches only the partitions overlapping its range).
    pub partitions_searched: AtomicU64,
    /// Block documents decompressed by scans (the cost of a line query: the index narrows to these).
    pub blocks_read: AtomicU64,
    /// Partitions deleted by retention.
    pub retention_deleted_partitions: AtomicU64,
}

/// Gauges of the store (see [`LogStore::stats`](crate::LogStore::stats)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogStats {
    /// Streams held.
    pub streams: usize,
    /// Committed block documents, all partitions.
    pub documents: u64,
    /// Committed entries (in those documents), all partitions.
    pub entries: u64,
    /// Segments, all partitions.
    pub segments: usize,
    /// Index partitions.
    pub partitions: usize,
    /// Open index writers.
    pub writers: usize,
    /// Bytes of the WAL files.
    pub wal_bytes: u64,
    /// Bytes of everything under the data directory (partitions, WAL, streams file).
    pub disk_bytes: u64,
    /// Entries not yet in a committed partition (served from memory).
    pub uncommitted: usize,
    /// Their bytes, as counted against `max_uncommitted_bytes`.
    pub uncommitted_bytes: u64,
}
