//! Ingest limits and the errors a push is refused with.

/// Limits on what a client may push (each refusal names the limit and is counted).
#[derive(Debug, Clone)]
pub struct LogLimits {
    /// Longest line in bytes (Loki's default 256 KiB).
    pub max_line_bytes: usize,
    /// Most labels per stream (Loki's default 15).
    pub max_labels_per_stream: usize,
    /// Most streams held.
    pub max_streams: usize,
}

impl Default for LogLimits {
    fn default() -> Self {
        LogLimits {
            max_line_bytes: 256 * 1024,
            max_labels_per_stream: 15,
            max_streams: 100_000,
        }
    }
}

/// Why a push was refused; nothing of a refused push is stored.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// A line above the size limit.
    #[error(
        "stream {stream}: entry {entry} has a line of {bytes} bytes, above the limit of {limit} bytes"
    )]
    LineTooLong {
        /// The stream's labels.
        stream: String,
        /// Index of the entry in its stream.
        entry: usize,
        /// The line's size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// Too many labels.
    #[error("stream {stream} has {count} labels, above the limit of {limit}")]
    TooManyLabels {
        /// The stream's labels.
        stream: String,
        /// How many it has.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A stream without labels.
    #[error("a stream must have at least one label")]
    NoLabels,
    /// The stream limit is reached.
    #[error("stream {stream} would be stream number {count}, above the limit of {limit} streams")]
    TooManyStreams {
        /// The new stream's labels.
        stream: String,
        /// How many streams there would be.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// An entry older than the out-of-order window allows.
    #[error(
        "stream {stream}: entry {entry} at {ts} ns is older than the accepted window (newest {newest} ns minus {window_ns} ns)"
    )]
    TooOld {
        /// The stream's labels.
        stream: String,
        /// Index of the entry in its stream.
        entry: usize,
        /// Its timestamp.
        ts: i64,
        /// The stream's newest timestamp.
        newest: i64,
        /// The window.
        window_ns: i64,
    },
}

impl PushError {
    /// The limit or rule's name, as counted in `lookout_logs_refused_total{reason}`.
    pub fn reason(&self) -> &'static str {
        match self {
            PushError::LineTooLong { .. } => "line_too_long",
            PushError::TooManyLabels { .. } => "labels_per_stream",
            PushError::NoLabels => "no_labels",
            PushError::TooManyStreams { .. } => "streams",
            PushError::TooOld { .. } => "too_old",
        }
    }
}
