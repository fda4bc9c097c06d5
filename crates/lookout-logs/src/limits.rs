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
    /// Line bytes per second accepted overall (Loki's `ingestion_rate_mb`); 0 for no limit.
    pub ingestion_rate_bytes: u64,
    /// Line bytes one burst may carry overall (Loki's `ingestion_burst_size_mb`).
    pub ingestion_burst_bytes: u64,
    /// Line bytes per second accepted per stream (Loki's `per_stream_rate_limit`); 0 for no limit.
    pub per_stream_rate_bytes: u64,
    /// Line bytes one burst may carry per stream (Loki's `per_stream_rate_limit_burst`).
    pub per_stream_burst_bytes: u64,
}

impl Default for LogLimits {
    fn default() -> Self {
        LogLimits {
            max_line_bytes: 256 * 1024,
            max_labels_per_stream: 15,
            max_streams: 100_000,
            // Generous for a homelab; Loki's defaults are 4 MB/s and 6 MB.
            ingestion_rate_bytes: 64 << 20,
            ingestion_burst_bytes: 128 << 20,
            // Loki's defaults.
            per_stream_rate_bytes: 3 << 20,
            per_stream_burst_bytes: 15 << 20,
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
    /// The overall ingestion rate limit (retry later).
    #[error(
        "Ingestion rate limit exceeded (limit: {}/sec, burst {}) while attempting to ingest {lines} lines totaling {}; reduce the log volume or raise logs.ingestion_rate and logs.ingestion_burst",
        human(*.rate), human(*.burst), human(*.bytes)
    )]
    RateLimited {
        /// The limit (bytes per second).
        rate: u64,
        /// The burst (bytes).
        burst: u64,
        /// Lines in the push.
        lines: usize,
        /// Line bytes in the push.
        bytes: u64,
    },
    /// A stream's ingestion rate limit (retry later).
    #[error(
        "Per stream rate limit exceeded (limit: {}/sec, burst {}) while attempting to ingest {lines} lines totaling {} for stream {stream}; split the stream with more labels or raise logs.per_stream_rate and logs.per_stream_burst",
        human(*.rate), human(*.burst), human(*.bytes)
    )]
    StreamRateLimited {
        /// The stream's labels.
        stream: String,
        /// The limit (bytes per second).
        rate: u64,
        /// The burst (bytes).
        burst: u64,
        /// The stream's lines in the push.
        lines: usize,
        /// The stream's line bytes in the push.
        bytes: u64,
    },
    /// The index is behind: too many entries await their commit (retry later).
    #[error(
        "log index is behind: {} of entries await indexing (limit {}); retry later",
        human(*.buffered), human(*.limit)
    )]
    Backlog {
        /// Bytes of the entries awaiting a commit.
        buffered: u64,
        /// The limit.
        limit: u64,
    },
}

/// `3MB`, `4.2MB`, `512KB`, `17B` (binary multiples, as Loki's `_mb` settings).
pub(crate) fn human(bytes: u64) -> String {
    for (unit, size) in [("GB", 1u64 << 30), ("MB", 1 << 20), ("KB", 1 << 10)] {
        if bytes >= size {
            let tenths = (bytes as f64 / size as f64 * 10.0).round() as u64;
            return if tenths.is_multiple_of(10) {
                format!("{}{unit}", tenths / 10)
            } else {
                format!("{}.{}{unit}", tenths / 10, tenths % 10)
            };
        }
    }
    format!("{bytes}B")
}

impl PushError {
    /// Whether the sender should retry later (a rate limit) rather than fix the push.
    pub fn is_rate_limit(&self) -> bool {
        matches!(
            self,
            PushError::RateLimited { .. }
                | PushError::StreamRateLimited { .. }
                | PushError::Backlog { .. }
        )
    }

    /// The limit or rule's name, as counted in `lookout_logs_refused_total{reason}`.
    pub fn reason(&self) -> &'static str {
        match self {
            PushError::LineTooLong { .. } => "line_too_long",
            PushError::TooManyLabels { .. } => "labels_per_stream",
            PushError::NoLabels => "no_labels",
            PushError::TooManyStreams { .. } => "streams",
            PushError::TooOld { .. } => "too_old",
            PushError::RateLimited { .. } => "rate_limited",
            PushError::StreamRateLimited { .. } => "per_stream_rate_limited",
            PushError::Backlog { .. } => "index_backlog",
        }
    }
}
