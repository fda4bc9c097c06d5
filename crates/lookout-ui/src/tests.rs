//! Asset lookup, HTTP behaviour (content types, ETag/304, caching, gzip, redirects, prefix mounting), the bundle
//! size budget, and the web app's own unit tests (`npm test`).

use std::io::{Read, Write};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::*;

fn index_html() -> String {
    String::from_utf8(asset("").expect("index").bytes.to_vec()).expect("utf-8")
}

/// The `./assets/…` files index.html loads.
fn referenced_assets() -> Vec<String> {
    let html = index_html();
    html.split("\"./")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn index_and_client_routes_get_index_html() {
    let index = asset("").expect("index");
    assert_eq!(index.content_type, "text/html; charset=utf-8");
    assert!(index_html().contains("<div id=\"app\">"));
    for route in ["graph", "/graph", "d/abc/slug", "targets", "alerts/"] {
        let a = asset(route).unwrap_or_else(|| panic!("{route} should fall back to index.html"));
        assert_eq!(a.etag, index.etag, "{route}");
    }
}

#[test]
fn files_have_their_content_types() {
    let assets: Vec<String> = referenced_assets()
        .into_iter()
        .filter(|a| a != "favicon.svg")
        .collect();
    let js: Vec<_> = assets.iter().filter(|a| a.ends_with(".js")).collect();
    let css: Vec<_> = assets.iter().filter(|a| a.ends_with(".css")).collect();
    assert_eq!((js.len(), css.len()), (1, 1), "index.html loads {assets:?}");
    assert!(
        assets.iter().all(|a| a.starts_with("assets/")),
        "{assets:?}"
    );
    assert_eq!(
        asset(js[0]).expect("js").content_type,
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        asset(css[0]).expect("css").content_type,
        "text/css; charset=utf-8"
    );
    assert_eq!(
        asset("favicon.svg").expect("favicon").content_type,
        "image/svg+xml"
    );
}

#[test]
fn unknown_files_and_api_paths_are_not_the_app() {
    for p in [
        "assets/missing.js",
        "assets/x",
        "robots.txt",
        "api/v1/nope",
        "loki/api/v1/nope",
        "-/whatever",
        "metrics",
    ] {
        assert!(asset(p).is_none(), "{p} must not be served as the app");
    }
}

#[test]
fn etags_are_quoted_and_distinct() {
    let all = embedded();
    assert!(all.len() >= 4, "{} files", all.len());
    let mut tags: Vec<&str> = all.iter().map(|e| e.etag).collect();
    assert!(
        tags.iter()
            .all(|t| t.len() > 2 && t.starts_with('"') && t.ends_with('"'))
    );
    tags.sort();
    tags.dedup();
    assert_eq!(tags.len(), all.len());
    assert!(
        all.windows(2).all(|w| w[0].path < w[1].path),
        "sorted for lookup"
    );
}

#[test]
fn embedded_gzip_decodes_to_the_file() {
    let mut checked = 0;
    for e in embedded() {
        if let Some(gz) = e.gzip {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(gz)
                .read_to_end(&mut out)
                .expect("gunzip");
            assert_eq!(out, e.bytes, "{}", e.path);
            checked += 1;
        }
    }
    assert!(checked >= 2, "the JS and CSS bundles are precompressed");
}

/// The whole UI must stay small: at most 500 KB gzipped (each file compressed on its own, as served).
#[test]
fn bundle_is_at_most_500_kb_gzipped() {
    let mut total = 0usize;
    for e in embedded() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(e.bytes).expect("gzip");
        total += enc.finish().expect("gzip").len();
    }
    eprintln!("embedded UI: {total} bytes gzipped");
    assert!(total > 10_000, "suspiciously small bundle: {total} bytes");
    assert!(
        total <= 500 * 1024,
        "UI bundle is {total} bytes gzipped, over 500 KB"
    );
}

async fn get(app: Router, uri: &str, headers: &[(&str, &str)]) -> axum::http::Response<Body> {
    let mut req = Request::builder().uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    app.oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible")
}

async fn body(res: axum::http::Response<Body>) -> Vec<u8> {
    res.into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec()
}

fn hdr(res: &axum::http::Response<Body>, name: header::HeaderName) -> &str {
    res.headers()
        .get(&name)
        .map(|v| v.to_str().expect("ascii"))
        .unwrap_or("")
}

#[tokio::test]
async fn index_is_served_with_revalidation_and_304() {
    let res = get(router(), "/", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(hdr(&res, header::CONTENT_TYPE), "text/html; charset=utf-8");
    assert_eq!(hdr(&res, header::CACHE_CONTROL), "no-cache");
    let etag = hdr(&res, header::ETAG).to_string();
    assert_eq!(etag, asset("").expect("index").etag);
    assert_eq!(body(res).await, asset("").expect("index").bytes);

    let res = get(router(), "/", &[("if-none-match", &etag)]).await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(hdr(&res, header::ETAG), etag);
    assert!(body(res).await.is_empty());

    let res = get(router(), "/", &[("if-none-match", "\"other\", W/\"nope\"")]).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_gzipped_on_request() {
    let js = referenced_assets()
        .into_iter()
        .find(|a| a.ends_with(".js"))
        .expect("js");
    let plain = get(router(), &format!("/{js}"), &[]).await;
    assert_eq!(plain.status(), StatusCode::OK);
    assert_eq!(
        hdr(&plain, header::CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(hdr(&plain, header::CONTENT_ENCODING), "");
    assert_eq!(hdr(&plain, header::VARY), "Accept-Encoding");
    let plain_etag = hdr(&plain, header::ETAG).to_string();
    let plain_body = body(plain).await;
    assert_eq!(plain_body, asset(&js).expect("js").bytes);

    let gz = get(
        router(),
        &format!("/{js}"),
        &[("accept-encoding", "br;q=1.0, gzip;q=0.8")],
    )
    .await;
    assert_eq!(hdr(&gz, header::CONTENT_ENCODING), "gzip");
    assert_ne!(hdr(&gz, header::ETAG), plain_etag);
    let gz_etag = hdr(&gz, header::ETAG).to_string();
    let compressed = body(gz).await;
    assert!(compressed.len() < plain_body.len() / 2);
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut out)
        .expect("gunzip");
    assert_eq!(out, plain_body);

    let refused = get(
        router(),
        &format!("/{js}"),
        &[("accept-encoding", "gzip;q=0")],
    )
    .await;
    assert_eq!(hdr(&refused, header::CONTENT_ENCODING), "");

    let revalidate = get(
        router(),
        &format!("/{js}"),
        &[("accept-encoding", "gzip"), ("if-none-match", &gz_etag)],
    )
    .await;
    assert_eq!(revalidate.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn client_routes_redirect_to_the_hash_route() {
    let cases = [
        ("/graph?g0.expr=up", "./#/graph?g0.expr=up"),
        (
            "/d/abc/my-dash?from=now-1h",
            "../../#/d/abc/my-dash?from=now-1h",
        ),
        ("/alerts/", "../#/alerts"),
    ];
    for (uri, location) in cases {
        let res = get(router(), uri, &[]).await;
        assert_eq!(res.status(), StatusCode::FOUND, "{uri}");
        assert_eq!(hdr(&res, header::LOCATION), location, "{uri}");
    }
    for uri in [
        "/assets/nope.js",
        "/api/v1/nope",
        "/robots.txt",
        "/nope",
        "/api/",
    ] {
        assert_eq!(
            get(router(), uri, &[]).await.status(),
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
}

#[tokio::test]
async fn works_under_a_route_prefix_next_to_other_routes() {
    // As lookout-api's routers: static routes and, in agent mode, catch-alls under /api/v1 and /loki.
    let api: Router = Router::new()
        .route("/api/v1/query", axum::routing::get(|| async { "api" }))
        .route("/loki/{*rest}", axum::routing::any(|| async { "agent" }));
    let app = api.merge(router());
    let prefixed = app.clone().merge(Router::new().nest("/lookout", app));

    let res = get(prefixed.clone(), "/lookout", &[]).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(hdr(&res, header::LOCATION), "lookout/");
    let res = get(prefixed.clone(), "/lookout/", &[]).await;
    assert_eq!(res.status(), StatusCode::OK, "{:?}", res.headers());
    assert_eq!(body(res).await, asset("").expect("index").bytes);
    let res = get(prefixed.clone(), "/lookout/favicon.svg", &[]).await;
    assert_eq!(hdr(&res, header::CONTENT_TYPE), "image/svg+xml");
    let res = get(prefixed.clone(), "/lookout/api/v1/query", &[]).await;
    assert_eq!(body(res).await, b"api");
    let res = get(prefixed.clone(), "/lookout/loki/api/v1/labels", &[]).await;
    assert_eq!(body(res).await, b"agent");
    let res = get(prefixed.clone(), "/lookout/graph", &[]).await;
    assert_eq!(hdr(&res, header::LOCATION), "./#/graph");
    let res = get(prefixed, "/", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn works_as_the_fallback_service_of_another_router() {
    let app: Router = Router::new()
        .route("/api/v1/query", axum::routing::get(|| async { "api" }))
        .fallback_service(router::<()>());
    assert_eq!(get(app.clone(), "/", &[]).await.status(), StatusCode::OK);
    assert_eq!(
        body(get(app.clone(), "/api/v1/query", &[]).await).await,
        b"api"
    );
    let res = get(app.clone(), "/graph", &[]).await;
    assert_eq!(hdr(&res, header::LOCATION), "./#/graph");
    assert_eq!(
        get(app, "/api/v1/other", &[]).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn head_requests_get_headers_only() {
    let req = Request::builder()
        .method("HEAD")
        .uri("/")
        .body(Body::empty())
        .expect("request");
    let res = router::<()>().oneshot(req).await.expect("infallible");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().contains_key(header::ETAG));
    assert!(body(res).await.is_empty());
}

/// The web app's unit tests (variable interpolation, units, intervals, completion context, …) and its type
/// check, run by `npm test` in the build copy that build.rs installed.
#[test]
fn web_unit_tests_pass() {
    let dir = env!("LOOKOUT_UI_WEB_BUILD");
    let npm = std::env::var("LOOKOUT_UI_NPM").unwrap_or_else(|_| "npm".into());
    let out = std::process::Command::new(npm)
        .args(["test", "--silent"])
        .current_dir(dir)
        .output()
        .expect("npm must be installed (build.rs needed it too)");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "npm test failed:\n{text}");
    assert!(text.contains("# fail 0"), "no test summary:\n{text}");
}
