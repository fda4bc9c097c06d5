//! Exporters built into Lookout (host, Proxmox VE, kube-state metrics): each renders one exposition on request.
//! The scraper calls [`Exporter::collect`] in place of an HTTP fetch, so a built-in exporter's samples reach the
//! TSDB through the normal scrape path (relabeling, `up`, staleness, target health); the API serves the same call at
//! `/exporters/<name>/metrics` so another Prometheus can scrape it like a separate process.

use std::future::Future;
use std::pin::Pin;

/// The future [`Exporter::collect`] returns: the exposition text, or why there is none.
pub type ExportFuture<'a> = Pin<Box<dyn Future<Output = Result<String, ExportError>> + Send + 'a>>;

/// Why an exporter has no exposition to give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// The request itself is wrong (an unknown module, a missing `target`): HTTP 400, a failed scrape.
    #[error("{0}")]
    BadRequest(String),
    /// Collecting failed (an unreachable API, a refused credential, a timeout): HTTP 500, a failed scrape with
    /// this text as the target's last error.
    #[error("{0}")]
    Failed(String),
}

/// An exporter built into the binary.
pub trait Exporter: Send + Sync + 'static {
    /// The path segment and default job name, e.g. `node` or `pve`.
    fn name(&self) -> &str;

    /// Collects one exposition in the text format 0.0.4. `params` are the request's query parameters in order
    /// (`target`, `module`, … for multi-target exporters); the future must not block the runtime: file or CPU
    /// work goes to a blocking pool.
    fn collect<'a>(&'a self, params: &'a [(String, String)]) -> ExportFuture<'a>;
}

/// The first value of `name` in `params`, as exporters read repeated parameters.
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
