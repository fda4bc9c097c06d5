//! The web config's `http_server_config.headers` and `rate_limit` on every response, following reloads.

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use lookout_auth::WebConfigWatcher;

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    format!("http://{addr}/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_and_global_rate_limit() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("web.yml");
    std::fs::write(
        &file,
        "http_server_config:\n  headers:\n    X-Frame-Options: deny\n    Strict-Transport-Security: max-age=31536000\n    X-XSS-Protection: ''\nrate_limit:\n  interval: 1h\n  burst: 2\n",
    )
    .unwrap();
    let web = WebConfigWatcher::load(&file).unwrap();
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(web.layer());
    let url = serve(app).await;
    let c = reqwest::Client::new();
    for _ in 0..2 {
        let r = c.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-frame-options"], "deny");
        assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
        assert!(
            r.headers().get("x-xss-protection").is_none(),
            "blank is unset"
        );
    }
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["x-frame-options"], "deny");
    assert_eq!(r.text().await.unwrap(), "Too Many Requests\n");
    // A reload applies at once: no limit, another header value.
    std::fs::write(
        &file,
        "http_server_config:\n  headers:\n    X-Frame-Options: sameorigin\n",
    )
    .unwrap();
    assert!(web.check_now().unwrap());
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-frame-options"], "sameorigin");
}
