//! The scrape loop: one task per target fetching on a fixed, hash-spread schedule, storage work on a bounded
//! blocking pool, and a manager that starts and stops loops as targets come and go.
//!
//! - [`http`]: fetching one exposition (headers, auth, timeout, body cap); TLS settings live in a private module.
//! - [`body_memory`]: the byte pool all bodies in flight share (the ingest share of the budget).
//! - [`fetch`]: a job's source of expositions, HTTP or a built-in exporter.
//! - [`append`]: the storage side of a scrape (parse, labels, limits, staleness, report series, commit).
//! - [`labels`]: `honor_labels`, metric relabeling and label limits for one series.
//! - [`target_loop`] and [`manager`]: the tasks and their lifecycle; [`metrics`]: `lookout_scrape_*`;
//!   `metadata`: the bounded store of the targets' metric metadata.

pub mod append;
pub mod body_memory;
pub(crate) mod cache;
pub mod error;
pub mod fetch;
pub mod http;
pub mod labels;
pub mod manager;
pub(crate) mod metadata;
pub mod metrics;
pub mod target_loop;
mod tls;

pub use append::{REPORT_SERIES, ScrapeContext, ScrapeReport, store_end_of_run, store_scrape};
pub use body_memory::{BodyMemory, BodyReservation};
pub use cache::ScrapeCache;
pub use error::ScrapeError;
pub use fetch::Fetcher;
pub use http::{FetchedBody, JobClient, SCRAPE_TIMEOUT_HEADER, SCRAPE_USER_AGENT};
pub use labels::{EXPORTED_LABEL_PREFIX, LabelLimits, check_series_labels, mutate_sample_labels};
pub use manager::{
    DroppedTargetStatus, STATIC_PROVIDER, ScrapeManager, ScrapeOptions, TargetStatus,
    TargetsSnapshot,
};
pub use metadata::MAX_METADATA_ENTRIES;
pub use metrics::ScrapeMetrics;
pub use target_loop::{Health, TargetHealth};
