//! Query errors, each mapping to one of Prometheus's `errorType` values.

/// Why a query failed.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The query text does not parse; `position` is the byte offset when known.
    #[error("parse error at char {position}: {message}")]
    Parse {
        /// What the parser said.
        message: String,
        /// Byte offset into the query, 0 when the parser gave none.
        position: usize,
    },
    /// The query parsed but is invalid for evaluation (bad argument, wrong type).
    #[error("{0}")]
    BadData(String),
    /// Evaluation failed (e.g. many-to-many matching, duplicate series).
    #[error("{0}")]
    Execution(String),
    /// A configured limit was exceeded.
    #[error(
        "query processing would load too many samples into memory in query execution (limit {name} = {value})"
    )]
    TooManySamples {
        /// The limit's configuration name.
        name: &'static str,
        /// Its value.
        value: u64,
    },
    /// Another limit (points per series, series count) was exceeded.
    #[error("{message} (limit {name} = {value})")]
    Limit {
        /// The limit's configuration name.
        name: &'static str,
        /// Its value.
        value: u64,
        /// What went over.
        message: String,
    },
    /// The deadline passed.
    #[error("query timed out in {phase} (limit query.timeout = {timeout_ms} ms)")]
    Timeout {
        /// Where evaluation was.
        phase: &'static str,
        /// The timeout that applied.
        timeout_ms: u64,
    },
    /// The caller cancelled.
    #[error("query was canceled in {phase}")]
    Canceled {
        /// Where evaluation was.
        phase: &'static str,
    },
    /// Storage failed.
    #[error("storage: {0}")]
    Storage(#[from] lookout_storage::StorageError),
}

impl QueryError {
    /// Prometheus's `errorType` for this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            QueryError::Parse { .. } | QueryError::BadData(_) => "bad_data",
            // Prometheus refuses too fine a resolution as a bad request, before evaluating.
            QueryError::Limit {
                name: "query.max_points_per_series",
                ..
            } => "bad_data",
            QueryError::Execution(_)
            | QueryError::TooManySamples { .. }
            | QueryError::Limit { .. } => "execution",
            QueryError::Timeout { .. } => "timeout",
            QueryError::Canceled { .. } => "canceled",
            QueryError::Storage(_) => "internal",
        }
    }
}
