//! Roles on an axum router served on 127.0.0.1 with `into_make_service_with_connect_info`: 401 (with
//! `WWW-Authenticate`), 403 and 200 per role per route group; bearer tokens from files; the proxy header trusted
//! only from its networks; per-address brute-force limits; users added to the web config at runtime.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Extension};
use axum::routing::{get, post};
use lookout_auth::{
    AuthConfig, Authenticator, Principal, RequireRole, Role, WebConfigWatcher, hash_password,
};
use tower::ServiceExt;

/// Answers with the caller's name.
async fn whoami(Extension(p): Extension<Principal>) -> String {
    format!("{}:{:?}", p.name, p.method)
}

/// Route groups as the binary would wrap them.
fn app(auth: &Authenticator) -> Router {
    let read = Router::new()
        .route("/api/v1/query", get(whoami))
        .layer(RequireRole::new(auth.clone(), Role::Read));
    let write = Router::new()
        .route("/api/v1/write", post(whoami))
        .layer(RequireRole::new(auth.clone(), Role::Write));
    let admin = Router::new()
        .route("/-/reload", post(whoami))
        .layer(RequireRole::new(auth.clone(), Role::Admin));
    read.merge(write).merge(admin)
}

/// Serves `router` on an ephemeral 127.0.0.1 port with peer addresses.
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
    format!("http://{addr}")
}

struct Setup {
    _dir: tempfile::TempDir,
    web: WebConfigWatcher,
    auth_yaml: String,
}

/// A web config with users alice (no role listed: admin by default) and bob, and an `auth:` section giving bob
/// `read`, adding wendy (`write`, own hash), and two tokens from files.
fn setup(extra_auth: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let h = |pw: &str| hash_password(pw, 4).unwrap();
    std::fs::write(
        dir.path().join("web.yml"),
        format!(
            "basic_auth_users:\n  alice: '{}'\n  bob: '{}'\n",
            h("alice-pw"),
            h("bob-pw")
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("reader.token"), "reader-secret-token\n").unwrap();
    std::fs::write(dir.path().join("writer.token"), "writer-secret-token").unwrap();
    let auth_yaml = format!(
        "users:\n  bob: {{roles: [read]}}\n  wendy: {{roles: [write], password_hash: '{}'}}\ntokens:\n  - {{name: reader, token_file: reader.token, roles: [read]}}\n  - {{name: writer, token_file: writer.token, roles: [write]}}\n{extra_auth}",
        h("wendy-pw")
    );
    let web = WebConfigWatcher::load(dir.path().join("web.yml")).unwrap();
    Setup {
        _dir: dir,
        web,
        auth_yaml,
    }
}

impl Setup {
    fn auth(&self) -> Authenticator {
        let cfg: AuthConfig = serde_yaml_ng::from_str(&self.auth_yaml).unwrap();
        Authenticator::new(&cfg.with_base_dir(self._dir.path()), Some(&self.web)).unwrap()
    }
}

enum Cred {
    None,
    Basic(&'static str, &'static str),
    Bearer(&'static str),
}

async fn call(
    c: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    cred: &Cred,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let url = format!("{base}{path}");
    let mut r = if method == "GET" {
        c.get(url)
    } else {
        c.post(url)
    };
    r = match cred {
        Cred::None => r,
        Cred::Basic(u, p) => r.basic_auth(u, Some(p)),
        Cred::Bearer(t) => r.bearer_auth(t),
    };
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_matrix() {
    // More failures than the default limit follow; the limit has its own test.
    let s = setup("brute_force: {max_failures: 100}\n");
    let auth = s.auth();
    let base = serve(app(&auth)).await;
    let c = reqwest::Client::new();
    let routes = [
        ("GET", "/api/v1/query"),
        ("POST", "/api/v1/write"),
        ("POST", "/-/reload"),
    ];
    // Expected status per route (read, write, admin).
    let cases: [(&str, Cred, [u16; 3]); 9] = [
        ("nothing", Cred::None, [401, 401, 401]),
        (
            "alice (web config, default admin)",
            Cred::Basic("alice", "alice-pw"),
            [200, 200, 200],
        ),
        ("bob (read)", Cred::Basic("bob", "bob-pw"), [200, 403, 403]),
        (
            "wendy (write, own hash)",
            Cred::Basic("wendy", "wendy-pw"),
            [403, 200, 403],
        ),
        (
            "bob, wrong password",
            Cred::Basic("bob", "alice-pw"),
            [401, 401, 401],
        ),
        ("unknown user", Cred::Basic("mallory", "x"), [401, 401, 401]),
        (
            "reader token",
            Cred::Bearer("reader-secret-token"),
            [200, 403, 403],
        ),
        (
            "writer token",
            Cred::Bearer("writer-secret-token"),
            [403, 200, 403],
        ),
        ("unknown token", Cred::Bearer("guess"), [401, 401, 401]),
    ];
    for (who, cred, want) in &cases {
        for ((method, path), want) in routes.iter().zip(want) {
            let resp = call(&c, &base, method, path, cred, &[]).await;
            assert_eq!(resp.status().as_u16(), *want, "{who} {method} {path}");
            match want {
                401 => {
                    let challenges: Vec<_> = resp
                        .headers()
                        .get_all("www-authenticate")
                        .iter()
                        .map(|v| v.to_str().unwrap().to_string())
                        .collect();
                    assert_eq!(
                        challenges,
                        vec!["Basic realm=\"Lookout\"", "Bearer realm=\"Lookout\""]
                    );
                    let body: serde_json::Value =
                        serde_json::from_str(&resp.text().await.unwrap()).unwrap();
                    assert_eq!(body["status"], "error");
                    assert_eq!(body["errorType"], "unauthorized");
                }
                403 => {
                    assert_eq!(resp.headers()["content-type"], "application/json");
                    let body: serde_json::Value =
                        serde_json::from_str(&resp.text().await.unwrap()).unwrap();
                    assert_eq!(body["errorType"], "forbidden");
                    assert!(body["error"].as_str().unwrap().contains("role"), "{body}");
                }
                _ => {
                    let text = resp.text().await.unwrap();
                    assert!(
                        text.ends_with(":Basic") || text.ends_with(":Bearer"),
                        "{text}"
                    );
                }
            }
        }
    }
    // Without tokens configured, only Basic is offered.
    let only_users = Authenticator::new(&AuthConfig::default(), Some(&s.web)).unwrap();
    let base2 = serve(app(&only_users)).await;
    let resp = call(&c, &base2, "GET", "/api/v1/query", &Cred::None, &[]).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers().get_all("www-authenticate").iter().count(), 1);
    let resp = call(
        &c,
        &base2,
        "POST",
        "/-/reload",
        &Cred::Basic("bob", "bob-pw"),
        &[],
    )
    .await;
    assert_eq!(
        resp.status(),
        200,
        "bob is an admin by default without the auth section"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_layer_by_route_with_a_prefix_and_public_paths() {
    let s = setup("public_paths: [/-/healthy]\n");
    let auth = s.auth();
    let routes = || {
        Router::new()
            .route("/api/v1/query", get(whoami))
            .route("/api/v1/write", post(whoami))
            .route("/-/reload", post(whoami))
            .route("/-/healthy", get(|| async { "healthy" }))
    };
    let app = routes()
        .merge(Router::new().nest("/prom", routes()))
        .layer(RequireRole::by_route(auth.clone()).with_route_prefix("/prom"));
    let base = serve(app).await;
    let c = reqwest::Client::new();
    let bob = Cred::Basic("bob", "bob-pw");
    let writer = Cred::Bearer("writer-secret-token");
    for prefix in ["", "/prom"] {
        let p = |path: &str| format!("{prefix}{path}");
        assert_eq!(
            call(&c, &base, "GET", &p("/api/v1/query"), &bob, &[])
                .await
                .status(),
            200
        );
        assert_eq!(
            call(&c, &base, "POST", &p("/api/v1/write"), &bob, &[])
                .await
                .status(),
            403
        );
        assert_eq!(
            call(&c, &base, "POST", &p("/api/v1/write"), &writer, &[])
                .await
                .status(),
            200
        );
        assert_eq!(
            call(&c, &base, "GET", &p("/api/v1/query"), &writer, &[])
                .await
                .status(),
            403
        );
        assert_eq!(
            call(&c, &base, "POST", &p("/-/reload"), &bob, &[])
                .await
                .status(),
            403
        );
        let alice = Cred::Basic("alice", "alice-pw");
        assert_eq!(
            call(&c, &base, "POST", &p("/-/reload"), &alice, &[])
                .await
                .status(),
            200
        );
        let h = call(&c, &base, "GET", &p("/-/healthy"), &Cred::None, &[]).await;
        assert_eq!(h.status(), 200, "public path {prefix}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_header_is_trusted_only_from_its_networks() {
    let c = reqwest::Client::new();
    let as_carol = [("X-Forwarded-User", "carol")];
    let as_bob = [("X-Forwarded-User", "bob")];
    // The test client connects from 127.0.0.1: trusted here...
    let s = setup(
        "proxy:\n  user_header: X-Forwarded-User\n  trusted_proxies: [127.0.0.0/8]\n  default_roles: [read]\n",
    );
    let base = serve(app(&s.auth())).await;
    let resp = call(&c, &base, "GET", "/api/v1/query", &Cred::None, &as_carol).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "carol:Proxy");
    assert_eq!(
        call(&c, &base, "POST", "/api/v1/write", &Cred::None, &as_carol)
            .await
            .status(),
        403
    );
    // A listed user keeps their roles (bob: read).
    assert_eq!(
        call(&c, &base, "GET", "/api/v1/query", &Cred::None, &as_bob)
            .await
            .status(),
        200
    );
    assert_eq!(
        call(&c, &base, "POST", "/-/reload", &Cred::None, &as_bob)
            .await
            .status(),
        403
    );

    // ...not here: the header is ignored and the request has no credentials.
    let s = setup(
        "proxy:\n  user_header: X-Forwarded-User\n  trusted_proxies: [10.0.0.0/8]\n  default_roles: [admin]\n",
    );
    let auth = s.auth();
    let base = serve(app(&auth)).await;
    assert_eq!(
        call(&c, &base, "GET", "/api/v1/query", &Cred::None, &as_carol)
            .await
            .status(),
        401
    );
    // Real credentials still work beside the untrusted header.
    let bob = Cred::Basic("bob", "bob-pw");
    let resp = call(&c, &base, "GET", "/api/v1/query", &bob, &as_carol).await;
    assert_eq!(resp.text().await.unwrap(), "bob:Basic");
    // From inside 10/8 (peer address injected as axum's ConnectInfo) the header is believed.
    let req = http::Request::get("/-/reload")
        .method("POST")
        .header("x-forwarded-user", "carol")
        .extension(ConnectInfo("10.2.3.4:5555".parse::<SocketAddr>().unwrap()))
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = app(&auth).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brute_force_blocks_the_address_only() {
    let s = setup("brute_force: {max_failures: 3, window: 1m, block_for: 1m}\n");
    let auth = s.auth();
    let base = serve(app(&auth)).await;
    let c = reqwest::Client::new();
    let wrong = Cred::Basic("bob", "guess");
    let right = Cred::Basic("bob", "bob-pw");
    for _ in 0..3 {
        assert_eq!(
            call(&c, &base, "GET", "/api/v1/query", &wrong, &[])
                .await
                .status(),
            401
        );
    }
    // Blocked now, even with the right password.
    let resp = call(&c, &base, "GET", "/api/v1/query", &right, &[]).await;
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(body["status"], "error");
    // Missing credentials do not count, so a browser's first request cannot lock anyone out.
    let s2 = setup("brute_force: {max_failures: 2}\n");
    let auth2 = s2.auth();
    let base2 = serve(app(&auth2)).await;
    for _ in 0..5 {
        assert_eq!(
            call(&c, &base2, "GET", "/api/v1/query", &Cred::None, &[])
                .await
                .status(),
            401
        );
    }
    assert_eq!(
        call(&c, &base2, "GET", "/api/v1/query", &right, &[])
            .await
            .status(),
        200
    );
    // Another address is unaffected.
    let req = http::Request::get("/api/v1/query")
        .header("authorization", "Basic Ym9iOmJvYi1wdw==") // bob:bob-pw
        .extension(ConnectInfo(
            "192.0.2.50:4000".parse::<SocketAddr>().unwrap(),
        ))
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(app(&auth).oneshot(req).await.unwrap().status(), 200);

    let mut out = lookout_model::MetricsWriter::new();
    auth.write_metrics(&mut out);
    let text = out.finish();
    for line in [
        "# TYPE lookout_auth_failures_total counter",
        "lookout_auth_failures_total{reason=\"wrong_password\"} 3",
        "lookout_auth_failures_total{reason=\"rate_limited\"} 1",
        "lookout_auth_failures_total{reason=\"unknown_user\"} 0",
        "lookout_auth_blocked_addresses 1",
        "lookout_auth_enabled 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing from\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_added_to_the_web_config_turn_authentication_on() {
    let dir = tempfile::tempdir().unwrap();
    let web_yml = dir.path().join("web.yml");
    std::fs::write(&web_yml, "").unwrap();
    let web = WebConfigWatcher::load(&web_yml).unwrap();
    let auth = Authenticator::new(&AuthConfig::default(), Some(&web)).unwrap();
    assert!(!auth.is_enabled());
    let base = serve(app(&auth)).await;
    let c = reqwest::Client::new();
    let resp = call(&c, &base, "POST", "/-/reload", &Cred::None, &[]).await;
    assert_eq!(resp.status(), 200, "no users: authentication off");
    assert_eq!(resp.text().await.unwrap(), ":Disabled");
    std::fs::write(
        &web_yml,
        format!(
            "basic_auth_users:\n  root: '{}'\n",
            hash_password("pw", 4).unwrap()
        ),
    )
    .unwrap();
    assert!(web.check_now().unwrap());
    assert!(auth.is_enabled());
    assert_eq!(
        call(&c, &base, "POST", "/-/reload", &Cred::None, &[])
            .await
            .status(),
        401
    );
    assert_eq!(
        call(
            &c,
            &base,
            "POST",
            "/-/reload",
            &Cred::Basic("root", "pw"),
            &[]
        )
        .await
        .status(),
        200
    );
    // Authenticator::disabled never checks.
    let base = serve(app(&Authenticator::disabled())).await;
    assert_eq!(
        call(&c, &base, "POST", "/-/reload", &Cred::None, &[])
            .await
            .status(),
        200
    );
    tokio::time::sleep(Duration::from_millis(1)).await;
}
