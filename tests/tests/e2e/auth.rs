//! Authentication and roles through the appliance: every route's declared role (a table kept here, compared with
//! the API's own registrations in both directions) enforced for anonymous, wrong, read, write, token and admin
//! callers; 401 with `WWW-Authenticate`, 403 for the wrong role; the password and token files rotated while
//! requests run; `/api/v1/status/config` redacted.

use std::collections::BTreeMap;
use std::time::Duration;

use lookout_auth::Role;
use lookout_e2e::{Lookout, wait_for};

/// Every route and the role it must need: the security review of the API surface. A route added to the API
/// without a line here, or a line without its route, fails `route_table_matches_the_reviewed_roles`.
const SERVER_ROUTES: &[(&str, Role)] = &[
    ("/api/v1/targets", Role::Read),
    ("/api/v1/scrape_pools", Role::Read),
    ("/api/v1/status/buildinfo", Role::Read),
    ("/api/v1/status/config", Role::Read),
    ("/api/v1/status/flags", Role::Read),
    ("/api/v1/status/runtimeinfo", Role::Read),
    ("/-/healthy", Role::Read),
    ("/-/ready", Role::Read),
    ("/-/reload", Role::Admin),
    ("/metrics", Role::Read),
    ("/exporters/{name}/metrics", Role::Read),
    ("/api/lookout/v1/dashboards", Role::Read),
    ("/api/lookout/v1/dashboards/{uid}", Role::Read),
    ("/api/v1/query", Role::Read),
    ("/api/v1/query_range", Role::Read),
    ("/api/v1/query_exemplars", Role::Read),
    ("/api/v1/format_query", Role::Read),
    ("/api/v1/series", Role::Read),
    ("/api/v1/labels", Role::Read),
    ("/api/v1/label/{name}/values", Role::Read),
    ("/api/v1/metadata", Role::Read),
    ("/api/v1/rules", Role::Read),
    ("/api/v1/alerts", Role::Read),
    ("/api/v1/alertmanagers", Role::Read),
    ("/api/v1/status/tsdb", Role::Read),
    ("/federate", Role::Read),
    ("/api/v1/write", Role::Write),
    ("/api/v1/import/prometheus", Role::Write),
    ("/loki/api/v1/push", Role::Write),
    ("/loki/api/v1/query_range", Role::Read),
    ("/loki/api/v1/query", Role::Read),
    ("/loki/api/v1/labels", Role::Read),
    ("/loki/api/v1/label/{name}/values", Role::Read),
    ("/loki/api/v1/series", Role::Read),
    ("/loki/api/v1/status/buildinfo", Role::Read),
    ("/loki/api/v1/index/stats", Role::Read),
    ("/loki/api/v1/index/volume", Role::Read),
    ("/loki/api/v1/index/volume_range", Role::Read),
    ("/loki/api/v1/detected_labels", Role::Read),
    ("/loki/api/v1/detected_fields", Role::Read),
    ("/loki/api/v1/detected_field/{name}/values", Role::Read),
    ("/loki/api/v1/patterns", Role::Read),
    ("/loki/api/v1/format_query", Role::Read),
    ("/loki/api/v1/tail", Role::Read),
    ("/ready", Role::Read),
];

/// Agent mode's routes beyond the shared ones.
const AGENT_ONLY_ROUTES: &[(&str, Role)] = &[
    ("/api/v1/{*rest}", Role::Read),
    ("/loki/{*rest}", Role::Read),
    ("/federate", Role::Read),
];

/// Routes both modes serve (the first eleven of the server's table).
const SHARED_ROUTES: usize = 11;

fn declared(agent: bool) -> BTreeMap<String, Role> {
    lookout_api::route_table(agent)
        .into_iter()
        .map(|r| (r.path.to_string(), r.role))
        .collect()
}

#[test]
fn route_table_matches_the_reviewed_roles() {
    let want: BTreeMap<String, Role> = SERVER_ROUTES
        .iter()
        .map(|(p, r)| (p.to_string(), *r))
        .collect();
    assert_eq!(
        want.len(),
        SERVER_ROUTES.len(),
        "duplicate paths in SERVER_ROUTES"
    );
    let got = declared(false);
    let missing: Vec<_> = got.keys().filter(|p| !want.contains_key(*p)).collect();
    let stale: Vec<_> = want.keys().filter(|p| !got.contains_key(*p)).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "routes without a reviewed role: {missing:?}; reviewed routes that no longer exist: {stale:?}"
    );
    assert_eq!(got, want, "a route's role differs from the reviewed one");

    let agent_want: BTreeMap<String, Role> = SERVER_ROUTES[..SHARED_ROUTES]
        .iter()
        .chain(AGENT_ONLY_ROUTES)
        .map(|(p, r)| (p.to_string(), *r))
        .collect();
    assert_eq!(declared(true), agent_want, "agent mode's routes or roles");
}

/// A concrete path for a route pattern.
fn concrete(pattern: &str) -> String {
    pattern
        .replace("{name}", "node")
        .replace("{uid}", "lookout-overview")
        .replace("{*rest}", "query")
}

const PASSWORDS: [(&str, &str); 3] = [
    ("reader", "r-pass"),
    ("writer", "w-pass"),
    ("boss", "b-pass"),
];

fn web_config(passwords: &[(&str, &str)]) -> String {
    let mut out = String::from("basic_auth_users:\n");
    for (user, password) in passwords {
        // Cost 4, the minimum: the test checks behaviour, not bcrypt's strength.
        let hash = lookout_auth::hash_password(password, 4).unwrap();
        out.push_str(&format!("  {user}: '{hash}'\n"));
    }
    out
}

const CONFIG: &str = r#"
scrape_configs: []
server:
  web_config_file: web.yml
auth:
  users:
    reader: {roles: [read]}
    writer: {roles: [write]}
  tokens:
    - {name: shipper, token_file: token.txt, roles: [write]}
  brute_force: {max_failures: 0}
  token_reload_interval: 200ms
remote_write: []
"#;

#[derive(Clone, Copy, Debug)]
enum Caller {
    Anonymous,
    WrongPassword,
    Basic(&'static str, &'static str),
    Token(&'static str),
}

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    who: Caller,
) -> reqwest::Response {
    let mut req = client.request(method, url);
    req = match who {
        Caller::Anonymous => req,
        Caller::WrongPassword => req.basic_auth("reader", Some("nope")),
        Caller::Basic(u, p) => req.basic_auth(u, Some(p)),
        Caller::Token(t) => req.bearer_auth(t),
    };
    req.send().await.expect("request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_enforces_its_role() {
    let web = web_config(&PASSWORDS);
    let lo =
        Lookout::start_with_files(Some(CONFIG), &[("web.yml", &web), ("token.txt", "tok-1\n")])
            .await;
    let client = reqwest::Client::new();
    let admin = Caller::Basic("boss", "b-pass");
    let mut checked = 0;
    for (pattern, role) in SERVER_ROUTES.iter().chain(&[("/", Role::Read)]) {
        let url = format!("{}{}", lo.url, concrete(pattern));
        // The method the route answers: GET, else POST.
        let mut method = reqwest::Method::GET;
        let r = call(&client, method.clone(), &url, admin).await;
        if r.status() == 405 {
            method = reqwest::Method::POST;
        }
        let r = call(&client, method.clone(), &url, admin).await;
        assert!(
            !matches!(r.status().as_u16(), 401 | 403 | 405),
            "admin {method} {pattern}: {}",
            r.status()
        );
        for who in [Caller::Anonymous, Caller::WrongPassword] {
            let r = call(&client, method.clone(), &url, who).await;
            assert_eq!(r.status(), 401, "{who:?} {method} {pattern}");
            let offers: Vec<_> = r
                .headers()
                .get_all("www-authenticate")
                .iter()
                .map(|v| v.to_str().unwrap().to_string())
                .collect();
            assert!(
                offers.iter().any(|v| v.starts_with("Basic"))
                    && offers.iter().any(|v| v.starts_with("Bearer")),
                "{who:?} {pattern}: WWW-Authenticate {offers:?}"
            );
        }
        for (who, has) in [
            (Caller::Basic("reader", "r-pass"), Role::Read),
            (Caller::Basic("writer", "w-pass"), Role::Write),
            (Caller::Token("tok-1"), Role::Write),
        ] {
            let r = call(&client, method.clone(), &url, who).await;
            let status = r.status().as_u16();
            if has == *role {
                assert!(
                    !matches!(status, 401 | 403),
                    "{who:?} {method} {pattern}: {status}"
                );
            } else {
                assert_eq!(status, 403, "{who:?} {method} {pattern} needs {role}");
            }
        }
        checked += 1;
    }
    assert_eq!(checked, SERVER_ROUTES.len() + 1);

    // Refusals are counted by reason.
    let metrics = call(
        &client,
        reqwest::Method::GET,
        &format!("{}/metrics", lo.url),
        admin,
    )
    .await
    .text()
    .await
    .unwrap();
    for reason in ["missing_credentials", "wrong_password", "forbidden"] {
        let line = metrics
            .lines()
            .find(|l| {
                l.starts_with(&format!(
                    "lookout_auth_failures_total{{reason=\"{reason}\"}}"
                ))
            })
            .unwrap_or_else(|| panic!("no {reason} counter"));
        let n: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(n >= 1.0, "{line}");
    }

    // The configuration is shown redacted: no password hash, the token file's name stays.
    let config = call(
        &client,
        reqwest::Method::GET,
        &format!("{}/api/v1/status/config", lo.url),
        admin,
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(config.contains("token.txt"), "{config}");
    assert!(!config.contains("tok-1"), "{config}");
    lo.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_and_token_files_rotate_while_requests_run() {
    let web = web_config(&PASSWORDS);
    let lo =
        Lookout::start_with_files(Some(CONFIG), &[("web.yml", &web), ("token.txt", "tok-1\n")])
            .await;
    let url = format!("{}/api/v1/labels", lo.url);
    // Requests keep running while the files change: none may fail for a reason other than the rotation.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let background = {
        let (url, stop) = (url.clone(), stop.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut ok = 0u32;
            for _ in 0..2000 {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let r = call(
                    &client,
                    reqwest::Method::GET,
                    &url,
                    Caller::Basic("boss", "b-pass"),
                )
                .await;
                assert_eq!(r.status(), 200, "the admin's requests during the rotation");
                ok += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            ok
        })
    };
    let client = reqwest::Client::new();
    let rotated = web_config(&[
        ("reader", "r-pass-2"),
        ("writer", "w-pass"),
        ("boss", "b-pass"),
    ]);
    std::fs::write(lo.dir().join("web.yml"), rotated).unwrap();
    std::fs::write(lo.dir().join("token.txt"), "tok-2\n").unwrap();
    wait_for(
        "the new reader password",
        Duration::from_secs(15),
        || async {
            let new = call(
                &client,
                reqwest::Method::GET,
                &url,
                Caller::Basic("reader", "r-pass-2"),
            )
            .await;
            (new.status() == 200).then_some(())
        },
    )
    .await;
    let old = call(
        &client,
        reqwest::Method::GET,
        &url,
        Caller::Basic("reader", "r-pass"),
    )
    .await;
    assert_eq!(old.status(), 401, "the old password after rotation");
    let push = format!("{}/api/v1/import/prometheus", lo.url);
    wait_for("the new token", Duration::from_secs(15), || async {
        let r = client
            .post(&push)
            .bearer_auth("tok-2")
            .body("rotated_metric 1\n")
            .send()
            .await
            .ok()?;
        (r.status() == 204).then_some(())
    })
    .await;
    let r = client
        .post(&push)
        .bearer_auth("tok-1")
        .body("x 1\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "the old token after rotation");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let ok = background.await.expect("background requests all succeeded");
    assert!(ok > 10, "only {ok} background requests ran");
    lo.server.stop().await.unwrap();
}
