//! The HTTP side: `GET /` and `GET /{*path}` from the embedded files, with `ETag` / `If-None-Match` (304),
//! `Cache-Control` (index.html revalidates, hashed assets are immutable) and the precompressed gzip variant when
//! the client accepts it. The app's routes redirect to its hash route, so Prometheus- and Grafana-style deep links
//! (`/graph?g0.expr=…`, `/d/<uid>/<slug>?…`) keep working under any prefix. Other unknown paths are 404s.

use axum::Router;
use axum::body::Body;
use axum::extract::OriginalUri;
use axum::http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use axum::routing::get;

use crate::{Embedded, find, is_client_route, is_hashed};

/// The app's routes (`web/src/main.ts`); a request for one of them is redirected to its hash route.
const CLIENT_ROUTES: &[&str] = &[
    "graph",
    "query",
    "logs",
    "dashboards",
    "d",
    "targets",
    "service-discovery",
    "rules",
    "alerts",
    "tsdb-status",
    "status",
    "flags",
    "config",
];

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// The UI's routes, for merging into the API router (also under a route prefix via `nest`): `GET /` and
/// `GET /{*path}`. HEAD is answered by axum from the GET handlers.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(handle))
        .route("/{*path}", get(handle))
}

async fn handle(req: Request<Body>) -> Response<Body> {
    let path = req.uri().path().trim_start_matches('/').to_string();
    let original = req
        .extensions()
        .get::<OriginalUri>()
        .map(|o| o.0.clone())
        .unwrap_or_else(|| req.uri().clone());
    let query = req
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    if path.is_empty() {
        // Under a prefix, `/prefix` must become `/prefix/`: the app's URLs are relative to its directory.
        let full = original.path();
        if !full.ends_with('/') {
            let last = full.rsplit('/').next().unwrap_or("");
            return redirect(&format!("{last}/{query}"));
        }
        return serve(find("index.html"), req.headers());
    }
    if let Some(e) = find(&path) {
        return serve(Some(e), req.headers());
    }
    let first = path.split('/').next().unwrap_or("");
    if CLIENT_ROUTES.contains(&first) {
        // `/graph?x` → `./#/graph?x`; `/d/uid/slug` → `../../#/d/uid/slug`: back to the app's directory.
        let depth = path.matches('/').count();
        let up = if depth == 0 {
            "./".to_string()
        } else {
            "../".repeat(depth)
        };
        let route = path.trim_end_matches('/');
        return redirect(&format!("{up}#/{route}{query}"));
    }
    if path.ends_with('/') && is_client_route(path.trim_end_matches('/')) {
        // `/prefix/` under a route prefix: axum's `nest("/prefix", …)` routes `/prefix` and `/prefix/x` into the
        // nested router but not `/prefix/` itself, which lands here, at the root. Serving the app makes its relative
        // URLs resolve under the prefix, where the nested routes answer them.
        return serve(find("index.html"), req.headers());
    }
    not_found()
}

fn redirect(location: &str) -> Response<Body> {
    let mut res = Response::new(Body::empty());
    *res.status_mut() = StatusCode::FOUND;
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

fn not_found() -> Response<Body> {
    let mut res = Response::new(Body::from("404 page not found\n"));
    *res.status_mut() = StatusCode::NOT_FOUND;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

/// Whether the client takes gzip (`Accept-Encoding: gzip` or `*`, not with `q=0`).
pub(crate) fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// Whether `If-None-Match` lists one of `etags` (or `*`); weak comparison, as RFC 9110 asks for GET.
pub(crate) fn not_modified(headers: &HeaderMap, etags: &[&str]) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || etags.contains(&t))
}

fn serve(e: Option<&'static Embedded>, headers: &HeaderMap) -> Response<Body> {
    let Some(e) = e else {
        return not_found();
    };
    let gzip = e.gzip.filter(|_| accepts_gzip(headers));
    let etag = if gzip.is_some() { e.gzip_etag } else { e.etag };
    let cache = if is_hashed(e.path) {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let mut res = if not_modified(headers, &[e.etag, e.gzip_etag]) {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let mut r = Response::new(Body::from(gzip.unwrap_or(e.bytes)));
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(e.content_type),
        );
        if gzip.is_some() {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        r
    };
    let h = res.headers_mut();
    h.insert(header::ETAG, HeaderValue::from_static(etag));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if e.gzip.is_some() {
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    res
}
