//! Lookout's built-in host collector, a node_exporter replacement: reads `/proc` and `/sys` (roots configurable
//! for containers) and renders an exposition with node_exporter 1.5's metric names, help texts, types and labels,
//! so node_exporter dashboards and alerts work unchanged.
//!
//! [`HostCollector::render`] runs every collector in turn, as node_exporter does on a scrape; a failing collector
//! sets `node_scrape_collector_success{collector="…"}` to 0 and the rest still render. Nothing is kept between
//! renders except the last CPU counters, which node_exporter also keeps to hide counters that jump backwards.

mod collectors;
mod exposition;
mod options;
mod procfile;

use std::sync::Arc;

pub use options::{DeviceFilterOptions, FieldsOptions, FilesystemOptions, HostOptions};

use collectors::Context;
use lookout_model::{ExportError, ExportFuture, Exporter};

/// Why a [`HostCollector`] cannot be built from its options.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// One of the regular expressions does not compile.
    #[error("invalid regular expression for {key}: {source}")]
    Regex {
        /// The option key, e.g. `diskstats.device_exclude`.
        key: &'static str,
        /// What the regex parser said.
        source: regex::Error,
    },
    /// The options contradict each other or name an unusable path.
    #[error("{0}")]
    Invalid(String),
}

/// The host exporter: holds compiled options and the CPU counter floor; cheap to share behind an `Arc`.
#[derive(Debug, Clone)]
pub struct HostCollector {
    ctx: Arc<Context>,
}

impl HostCollector {
    /// Validates `opts` and compiles its regular expressions.
    pub fn new(opts: HostOptions) -> Result<HostCollector, HostError> {
        Ok(HostCollector {
            ctx: Arc::new(Context::new(opts)?),
        })
    }

    /// node_exporter's names of the collectors this renders (`cpu`, `diskstats`, …), in render order.
    pub fn collector_names() -> impl Iterator<Item = &'static str> {
        collectors::names()
    }

    /// Reads the files and returns the whole exposition (text format 0.0.4). Blocking: call it from a blocking
    /// thread in async code (the [`Exporter`] impl does).
    pub fn render(&self) -> String {
        collectors::render(&self.ctx)
    }
}

impl Exporter for HostCollector {
    fn name(&self) -> &str {
        "node"
    }

    fn collect<'a>(&'a self, _params: &'a [(String, String)]) -> ExportFuture<'a> {
        let this = self.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || this.render())
                .await
                .map_err(|e| ExportError::Failed(format!("host collector panicked: {e}")))
        })
    }
}
