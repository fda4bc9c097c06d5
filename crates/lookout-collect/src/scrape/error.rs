//! Why a scrape failed; the text becomes the target's last error and `up` is 0.

use std::time::Duration;

use lookout_wire::{BodyError, ParseError};

/// A failed scrape. Nothing from its body is stored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScrapeError {
    /// The HTTP client for the job could not be built (bad TLS or auth file).
    #[error("http client: {0}")]
    Client(String),
    /// Credentials could not be read.
    #[error("reading {what} from {path}: {reason}")]
    Credentials {
        /// Which setting (`basic_auth.password_file` …).
        what: &'static str,
        /// The file.
        path: String,
        /// The OS error.
        reason: String,
    },
    /// Connecting, sending or receiving failed.
    #[error("request to {url} failed: {reason}")]
    Request {
        /// The scrape URL.
        url: String,
        /// What the HTTP client said.
        reason: String,
    },
    /// A built-in exporter failed to collect.
    #[error("built-in exporter {exporter}: {reason}")]
    Exporter {
        /// The exporter's name.
        exporter: String,
        /// What it said.
        reason: String,
    },
    /// The target answered with a non-200 status.
    #[error("server returned HTTP status {status}")]
    Status {
        /// Status code and reason, e.g. `500 Internal Server Error`.
        status: String,
    },
    /// The scrape took longer than its timeout.
    #[error("scrape timed out after {0:?}")]
    Timeout(Duration),
    /// The body (compressed or not) exceeded `body_size_limit`.
    #[error("body size limit exceeded: the response is larger than {limit} bytes")]
    BodySizeLimit {
        /// The limit in bytes.
        limit: usize,
    },
    /// The bodies of the scrapes in flight would exceed the ingest share of the memory budget.
    #[error(
        "scrape bodies in flight would exceed their memory share ({share} bytes, the ingest share of the memory budget); raise the memory limit or spread the targets' scrapes"
    )]
    BodyMemory {
        /// The pool's size in bytes.
        share: usize,
    },
    /// The body could not be decompressed.
    #[error("decoding the response body: {0}")]
    Body(BodyError),
    /// The exposition is malformed.
    #[error("parsing the exposition: {0}")]
    Parse(#[from] ParseError),
    /// More samples than `sample_limit`.
    #[error("sample limit exceeded: more than {limit} samples after metric relabeling")]
    SampleLimit {
        /// The configured limit.
        limit: u64,
    },
    /// A series has more labels than `label_limit`.
    #[error("label_limit exceeded (metric: {metric}, number of labels: {count}, limit: {limit})")]
    LabelLimit {
        /// The metric name.
        metric: String,
        /// Labels on the series.
        count: usize,
        /// The configured limit.
        limit: u64,
    },
    /// A label name is longer than `label_name_length_limit`.
    #[error(
        "label_name_length_limit exceeded (metric: {metric}, label name: {name}, length: {length}, limit: {limit})"
    )]
    LabelNameLength {
        /// The metric name.
        metric: String,
        /// The long name.
        name: String,
        /// Its length in bytes.
        length: usize,
        /// The configured limit.
        limit: u64,
    },
    /// A label value is longer than `label_value_length_limit`.
    #[error(
        "label_value_length_limit exceeded (metric: {metric}, label name: {name}, value length: {length}, limit: {limit})"
    )]
    LabelValueLength {
        /// The metric name.
        metric: String,
        /// The label whose value is long.
        name: String,
        /// The value's length in bytes.
        length: usize,
        /// The configured limit.
        limit: u64,
    },
    /// Metric relabeling removed `__name__` from a series.
    #[error("series {series} has no metric name (__name__ label) after metric relabeling")]
    MissingMetricName {
        /// The series as relabeled.
        series: String,
    },
    /// The storage refused the batch as a whole.
    #[error("storage commit failed: {0}")]
    Commit(String),
}
