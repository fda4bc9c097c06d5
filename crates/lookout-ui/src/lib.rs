//! Lookout's built-in web UI, embedded in the binary: a query explorer, status pages, a logs explorer and a
//! Grafana dashboard viewer, built from `web/` by `build.rs` (npm + esbuild) and served by [`router`].
//!
//! The app uses relative URLs and hash routing (`#/graph?…`), so it works under any route prefix: the server only
//! ever serves `index.html`, `favicon.svg` and the content-hashed files under `assets/`.

mod serve;

pub use serve::router;

/// One embedded file as served.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// The file's bytes (uncompressed).
    pub bytes: &'static [u8],
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// A strong ETag (quoted content hash) of the uncompressed bytes.
    pub etag: &'static str,
}

/// A built file as `build.rs` embeds it (see `OUT_DIR/assets.rs`).
pub(crate) struct Embedded {
    pub(crate) path: &'static str,
    pub(crate) bytes: &'static [u8],
    pub(crate) gzip: Option<&'static [u8]>,
    pub(crate) content_type: &'static str,
    pub(crate) etag: &'static str,
    pub(crate) gzip_etag: &'static str,
}

mod generated {
    use super::Embedded;
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

pub(crate) fn embedded() -> &'static [Embedded] {
    generated::EMBEDDED
}

pub(crate) fn find(path: &str) -> Option<&'static Embedded> {
    let all = embedded();
    all.binary_search_by(|e| e.path.cmp(path))
        .ok()
        .map(|i| &all[i])
}

/// First path segments that belong to the HTTP API, never to the UI: an unknown path under them is a 404, not
/// the app (the API router answers the known ones before the UI sees them).
const API_SEGMENTS: &[&str] = &[
    "api",
    "loki",
    "-",
    "federate",
    "metrics",
    "exporters",
    "ready",
    "assets",
];

/// Whether `path` (no leading slash) is one of the app's client routes rather than a file or an API path: those
/// get `index.html`.
pub(crate) fn is_client_route(path: &str) -> bool {
    let first = path.split('/').next().unwrap_or("");
    let last = path.rsplit('/').next().unwrap_or("");
    !API_SEGMENTS.contains(&first) && !last.contains('.')
}

/// Whether `path` names a content-hashed file (cacheable forever).
pub(crate) fn is_hashed(path: &str) -> bool {
    path.starts_with("assets/")
}

impl From<&'static Embedded> for Asset {
    fn from(e: &'static Embedded) -> Self {
        Asset {
            bytes: e.bytes,
            content_type: e.content_type,
            etag: e.etag,
        }
    }
}

/// The file for a request path (without leading slash; one is tolerated): an embedded file, else `index.html` for
/// `""` and client routes (paths whose last segment has no `.` outside `assets/` and the API), else `None`.
pub fn asset(path: &str) -> Option<Asset> {
    let path = path.trim_start_matches('/');
    if let Some(e) = find(path) {
        return Some(e.into());
    }
    if path.is_empty() || is_client_route(path) {
        return find("index.html").map(Asset::from);
    }
    None
}

#[cfg(test)]
mod tests;
