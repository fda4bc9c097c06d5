//! Lookout's shared vocabulary: the types every other crate speaks, including the one parser for durations and
//! byte sizes used by every setting and flag, and the one writer for self-metrics.
//!
//! Architecture invariant: this crate does no I/O and knows nothing about storage, HTTP or PromQL.
//! It depends only on `regex`, `thiserror`, `serde`, `md-5` (relabel hashmod) and a hasher.

pub mod duration;
pub mod exporter;
pub mod http_client;
pub mod labels;
pub mod matcher;
pub mod relabel;
pub mod sample;
pub mod self_metrics;
pub mod size;
pub mod target_group;
pub mod time;

pub use duration::{DurationError, PromDuration};
pub use exporter::{ExportError, ExportFuture, Exporter};
pub use labels::{Label, Labels, LabelsBuilder, LabelsError, METRIC_NAME};
pub use matcher::{MatchOp, Matcher, MatcherError};
pub use sample::{STALE_NAN_BITS, Sample, format_plain, is_stale_nan, stale_nan};
pub use self_metrics::{MetricKind, MetricsWriter};
pub use size::{ByteSize, SizeError};
pub use target_group::TargetGroup;
pub use time::TimeRange;
