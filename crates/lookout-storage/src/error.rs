//! Storage errors: per-sample append refusals and whole-operation failures.

use lookout_model::LabelsError;

/// Why one sample was refused; the batch stays usable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AppendError {
    /// Older than the series' newest sample and outside the out-of-order window.
    #[error("out of order sample: timestamp {t} is older than the series' last sample at {last_t}")]
    OutOfOrder {
        /// The refused timestamp.
        t: i64,
        /// The series' newest timestamp.
        last_t: i64,
    },
    /// Older than anything the store still accepts (e.g. before the retention edge).
    #[error("out of bounds sample: timestamp {t} is older than the oldest accepted time {min_t}")]
    OutOfBounds {
        /// The refused timestamp.
        t: i64,
        /// The oldest timestamp accepted.
        min_t: i64,
    },
    /// Later than the store accepts: the clock plus the allowed skew (`storage.max_future`). A sample far in the
    /// future would otherwise move the retention edge and block the series' later samples as out of order.
    #[error(
        "sample too far in the future: timestamp {t} is after {max_t} (now + storage.max_future)"
    )]
    TooFarInFuture {
        /// The refused timestamp.
        t: i64,
        /// The latest timestamp accepted now.
        max_t: i64,
    },
    /// Same timestamp as an existing sample but another value.
    #[error("duplicate sample for timestamp {t} with a different value")]
    DuplicateTimestamp {
        /// The repeated timestamp.
        t: i64,
    },
    /// Creating the series would exceed the active-series limit.
    #[error(
        "series limit reached: {limit} active series (storage.max_active_series); new series are refused"
    )]
    SeriesLimit {
        /// The configured limit.
        limit: usize,
    },
    /// The memory share of the store is exhausted.
    #[error("memory limit reached: head uses {used} of {limit} bytes; new series are refused")]
    MemoryLimit {
        /// Bytes in use.
        used: usize,
        /// The share in bytes.
        limit: usize,
    },
    /// The label set is not valid.
    #[error("invalid labels: {0}")]
    InvalidLabels(#[from] LabelsError),
    /// The label set is empty.
    #[error("empty label set")]
    EmptyLabels,
    /// The reference is not (or no longer) known.
    #[error("unknown series reference {0}")]
    UnknownRef(u64),
}

/// A storage operation failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// An I/O error on a named file.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Damaged data found at a known place.
    #[error("corruption in {path} at offset {offset}: {detail}")]
    Corruption {
        /// The damaged file.
        path: String,
        /// Byte offset of the damage.
        offset: u64,
        /// What is wrong and how to repair it.
        detail: String,
    },
    /// A configured limit was hit while reading.
    #[error("limit {name} = {value} exceeded")]
    Limit {
        /// The limit's configuration name.
        name: &'static str,
        /// Its value.
        value: u64,
    },
    /// The store is closed or closing.
    #[error("storage is closed")]
    Closed,
    /// Anything else, described.
    #[error("{0}")]
    Other(String),
}
