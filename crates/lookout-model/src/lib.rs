//! Lookout's shared vocabulary: the types every other crate speaks, including the one parser for durations and
//! byte sizes used by every setting and flag, and the one writer for self-metrics.
//!
//! Architecture invariant: this crate does no I/O and knows nothing about storage, HTTP or PromQL, with one
//! exception: `http_client::tls_files` reads trust material (the system's roots, `ca_file`, client certificates)
//! when a client is built, so every client trusts the same roots. It depends only on `regex`, `thiserror`,
//! `serde`, `md-5` (relabel hashmod), a hasher and `hashbrown`'s table, and `rustls-pki-types`/`rustls-native-certs` (PEM and the system
//! store, no TLS library).

pub mod duration;
pub mod exporter;
pub mod http_client;
pub mod labels;
pub mod log_columns;
pub mod matcher;
pub mod regex_limits;
pub mod relabel;
pub mod sample;
pub mod self_metrics;
pub mod size;
pub mod target_group;
pub mod time;

pub use duration::{DurationError, PromDuration};
pub use exporter::{ExportError, ExportFuture, Exporter};
pub use labels::{Label, Labels, LabelsBuilder, LabelsError, METRIC_NAME};
pub use log_columns::EntryColumns;
pub use matcher::{MatchOp, Matcher, MatcherError};
pub use regex_limits::{RegexError, bounded_anchored_regex, bounded_regex};
pub use sample::{STALE_NAN_BITS, Sample, format_plain, is_stale_nan, stale_nan};
pub use self_metrics::{MetricKind, MetricsWriter};
pub use size::{ByteSize, SizeError};
pub use target_group::TargetGroup;
pub use time::TimeRange;
