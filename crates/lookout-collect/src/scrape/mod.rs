//! The scrape loop: one task per target fetching on a fixed, hash-spread schedule, storage work on a bounded
//! blocking pool, and a manager that starts and stops loops as targets come and go.

pub mod append;
pub(crate) mod cache;
pub mod error;
pub mod http;
pub mod labels;
mod tls;

pub use append::{REPORT_SERIES, ScrapeContext, ScrapeReport, store_end_of_run, store_scrape};
pub use cache::ScrapeCache;
pub use error::ScrapeError;
pub use http::{FetchedBody, JobClient, SCRAPE_TIMEOUT_HEADER, SCRAPE_USER_AGENT};
pub use labels::{EXPORTED_LABEL_PREFIX, LabelLimits, check_series_labels, mutate_sample_labels};
pub mod manager;
pub mod metrics;
pub mod target_loop;

pub use manager::{
    DroppedTargetStatus, STATIC_PROVIDER, ScrapeManager, ScrapeOptions, TargetStatus,
    TargetsSnapshot,
};
pub use metrics::ScrapeMetrics;
pub use target_loop::{Health, TargetHealth};
