//! The `auth:` section (parsing, validation, redaction) and the authenticator's decisions on hand-made requests.

use std::net::SocketAddr;

use base64::Engine as _;
use http::Request;

use super::*;
use crate::config::{ProxyConfig, TokenConfig, UserConfig};

const EXAMPLE: &str = r#"
default_roles: [read]
users:
  grafana: {roles: [read]}
  vector: {roles: [write], password_hash: HASH}
  ops: {roles: [admin]}
tokens:
  - {name: vmagent, token_file: TOKEN_FILE, roles: [write]}
  - {name: ci, token: " inline-token-value ", roles: [read, write]}
proxy:
  user_header: X-Forwarded-User
  trusted_proxies: [10.0.0.0/8, 192.0.2.7]
  default_roles: [read]
public_paths: [/-/healthy]
brute_force: {max_failures: 3, window: 1m, block_for: 30s, max_addresses: 100}
credential_cache: {ttl: 30s, max_entries: 16}
token_reload_interval: 1s
"#;

fn parse(yaml: &str) -> AuthConfig {
    serde_yaml_ng::from_str(yaml).unwrap()
}

/// The example with a real hash and token file; returns the config and the directory holding the file.
fn example() -> (AuthConfig, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("vmagent-token");
    std::fs::write(&token_file, "file-token-value\n").unwrap();
    let hash = hash_password("vector-pw", 4).unwrap();
    let yaml = EXAMPLE
        .replace("HASH", &format!("'{hash}'"))
        .replace("TOKEN_FILE", &token_file.display().to_string());
    (parse(&yaml), dir, hash)
}

fn request(peer: &str, auth: Option<String>, extra: &[(&str, &str)]) -> Parts {
    let mut b = Request::builder()
        .uri("/api/v1/query")
        .extension(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    for (k, v) in extra {
        b = b.header(*k, *v);
    }
    b.body(()).unwrap().into_parts().0
}

fn basic(user: &str, pw: &str) -> Option<String> {
    Some(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))
    ))
}

#[test]
fn example_parses_and_defaults_are_prometheus_like() {
    let (c, _dir, _) = example();
    c.validate().unwrap();
    assert_eq!(c.users["vector"].roles, vec![Role::Write]);
    assert_eq!(c.tokens.len(), 2);
    let p = c.proxy.as_ref().unwrap();
    assert!(p.trusted_proxies[0].contains("10.1.2.3".parse().unwrap()));
    assert!(p.trusted_proxies[1].contains("192.0.2.7".parse().unwrap()));
    assert!(!p.trusted_proxies[1].contains("192.0.2.8".parse().unwrap()));
    assert_eq!(
        c.brute_force.block_for.as_duration(),
        Duration::from_secs(30)
    );
    let d = AuthConfig::default();
    assert_eq!(d.default_roles, vec![Role::Admin]);
    assert!(!d.has_credentials());
    assert_eq!(d.brute_force.max_failures, 5);
    assert_eq!(parse("{}"), d);
    let e =
        serde_yaml_ng::from_str::<AuthConfig>("tokens: [{name: a, tokenfile: x, roles: [read]}]")
            .unwrap_err();
    assert!(e.to_string().contains("unknown field `tokenfile`"), "{e}");
    let e = serde_yaml_ng::from_str::<AuthConfig>(
        "proxy: {user_header: X, trusted_proxies: [10.0.0.0/33]}",
    )
    .unwrap_err();
    assert!(e.to_string().contains("neither a CIDR network"), "{e}");
    let e = serde_yaml_ng::from_str::<AuthConfig>("users: {a: {roles: [root]}}").unwrap_err();
    assert!(e.to_string().contains("unknown variant `root`"), "{e}");
}

#[test]
fn validation_errors_name_the_key() {
    let t = |yaml: &str| parse(yaml).validate().unwrap_err().to_string();
    let cases = [
        (
            "tokens: [{name: a, roles: [read]}]",
            "auth.tokens[0].token_file: set token_file",
        ),
        (
            "tokens: [{name: a, token: x, token_file: /f, roles: [read]}]",
            "auth.tokens[0].token: set only one",
        ),
        (
            "tokens: [{name: a, token: ' ', roles: [read]}]",
            "auth.tokens[0].token: the token is empty",
        ),
        (
            "tokens: [{name: a, token: x, roles: []}]",
            "auth.tokens[0].roles: a token needs at least one role",
        ),
        (
            "tokens: [{token: x, roles: [read]}]",
            "auth.tokens[0].name: every token needs a name",
        ),
        (
            "tokens: [{name: a, token: x, roles: [read]}, {name: a, token: y, roles: [read]}]",
            "auth.tokens[1].name: duplicate token name",
        ),
        (
            "users: {'a:b': {roles: [read]}}",
            "must be non-empty and contain no ':'",
        ),
        (
            "users: {a: {password_hash: nope}}",
            "auth.users.a.password_hash: not a bcrypt hash",
        ),
        (
            "proxy: {user_header: 'bad header', trusted_proxies: [10.0.0.0/8]}",
            "auth.proxy.user_header",
        ),
        (
            "proxy: {user_header: X-User, trusted_proxies: []}",
            "auth.proxy.trusted_proxies",
        ),
        ("public_paths: [healthy]", "auth.public_paths[0]"),
        ("brute_force: {window: 0s}", "auth.brute_force"),
        ("token_reload_interval: 0s", "auth.token_reload_interval"),
    ];
    for (yaml, want) in cases {
        let e = t(yaml);
        assert!(e.contains(want), "{yaml}: {e}");
    }
    parse("brute_force: {max_failures: 0, window: 0s}")
        .validate()
        .unwrap();
}

#[test]
fn debug_and_serialization_never_show_secrets() {
    let (c, _dir, hash) = example();
    let secrets = [hash.as_str(), "inline-token-value", "file-token-value"];
    let shown = [
        format!("{c:?}"),
        format!("{:?}", c.users["vector"]),
        format!("{:?}", c.tokens[1]),
        format!("{:?}", c.proxy),
        format!("{:?}", c.brute_force),
        format!("{:?}", c.credential_cache),
        format!("{:?}", c.redacted()),
        serde_yaml_ng::to_string(&c).unwrap(),
        serde_json::to_string(&c).unwrap(),
    ];
    for s in &shown {
        for secret in secrets {
            assert!(!s.contains(secret), "{secret} shown in {s}");
        }
    }
    assert!(shown[0].contains("<secret>"), "{}", shown[0]);
    let r = c.redacted();
    assert_eq!(
        r.users["vector"].password_hash.as_ref().unwrap().expose(),
        "<secret>"
    );
    assert_eq!(r.tokens[1].token.as_ref().unwrap().expose(), "<secret>");
    // The original keeps its values.
    assert_eq!(
        c.users["vector"].password_hash.as_ref().unwrap().expose(),
        hash
    );
    let yaml = serde_yaml_ng::to_string(&c).unwrap();
    assert!(yaml.contains("password_hash: <secret>"), "{yaml}");
    let a = Authenticator::new(&c, None).unwrap();
    assert!(!format!("{a:?}").contains("token-value"));
}

#[test]
fn with_base_dir_resolves_relative_token_files() {
    let c = AuthConfig {
        tokens: vec![
            TokenConfig {
                name: "a".into(),
                token_file: Some("secrets/a".into()),
                token: None,
                roles: vec![Role::Read],
            },
            TokenConfig {
                name: "b".into(),
                token_file: Some("/abs/b".into()),
                token: None,
                roles: vec![Role::Read],
            },
        ],
        ..AuthConfig::default()
    };
    let r = c.with_base_dir(std::path::Path::new("/etc/lookout"));
    assert_eq!(
        r.tokens[0].token_file.as_deref(),
        Some(std::path::Path::new("/etc/lookout/secrets/a"))
    );
    assert_eq!(
        r.tokens[1].token_file.as_deref(),
        Some(std::path::Path::new("/abs/b"))
    );
}

#[test]
fn token_file_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = |file: &str| AuthConfig {
        tokens: vec![TokenConfig {
            name: "t".into(),
            token_file: Some(dir.path().join(file)),
            token: None,
            roles: vec![Role::Read],
        }],
        ..AuthConfig::default()
    };
    let e = Authenticator::new(&cfg("missing"), None)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("auth.tokens[0].token_file: cannot read"),
        "{e}"
    );
    std::fs::write(dir.path().join("empty"), "\n").unwrap();
    let e = Authenticator::new(&cfg("empty"), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("is empty"), "{e}");
    let dup = AuthConfig {
        tokens: vec![
            TokenConfig {
                name: "a".into(),
                token: Some(Secret::new("same")),
                roles: vec![Role::Read],
                ..TokenConfig::default()
            },
            TokenConfig {
                name: "b".into(),
                token: Some(Secret::new("same ")),
                roles: vec![Role::Read],
                ..TokenConfig::default()
            },
        ],
        ..AuthConfig::default()
    };
    let e = Authenticator::new(&dup, None).unwrap_err().to_string();
    assert!(e.contains("same value as token \"a\""), "{e}");
}

#[tokio::test]
async fn decisions() {
    let (c, _dir, _) = example();
    let a = Authenticator::new(&c, None).unwrap();
    assert!(a.is_enabled());
    let check = |parts: Parts, role: Role| {
        let a = a.clone();
        async move { a.check(&parts, "/api/v1/query", role).await }
    };
    // Basic user with its own hash in the auth section.
    let p = check(
        request("198.51.100.1:1", basic("vector", "vector-pw"), &[]),
        Role::Write,
    )
    .await
    .unwrap();
    assert_eq!((p.name.as_str(), p.method), ("vector", AuthMethod::Basic));
    let d = check(
        request("198.51.100.1:1", basic("vector", "vector-pw"), &[]),
        Role::Read,
    )
    .await
    .unwrap_err();
    assert!(matches!(d, Denial::Forbidden { .. }), "{d:?}");
    // Tokens: from the file (trimmed) and inline (trimmed).
    let p = check(
        request(
            "198.51.100.1:1",
            Some("Bearer file-token-value".into()),
            &[],
        ),
        Role::Write,
    )
    .await
    .unwrap();
    assert_eq!((p.name.as_str(), p.method), ("vmagent", AuthMethod::Bearer));
    let p = check(
        request(
            "198.51.100.1:1",
            Some("Bearer inline-token-value".into()),
            &[],
        ),
        Role::Read,
    )
    .await
    .unwrap();
    assert_eq!(p.name, "ci");
    let d = check(
        request("198.51.100.1:1", Some("Bearer nope".into()), &[]),
        Role::Read,
    )
    .await
    .unwrap_err();
    assert_eq!(
        d,
        Denial::Unauthorized {
            message: "invalid credentials".into(),
            offer_bearer: true
        }
    );
    let d = check(request("198.51.100.1:1", None, &[]), Role::Read)
        .await
        .unwrap_err();
    assert_eq!(
        d,
        Denial::Unauthorized {
            message: "authentication required".into(),
            offer_bearer: true
        }
    );
    // Proxy header: trusted from 10/8, listed user keeps its roles, others get the proxy default.
    let ops = [("x-forwarded-user", "ops")];
    let p = check(request("10.9.9.9:1", None, &ops), Role::Admin)
        .await
        .unwrap();
    assert_eq!((p.name.as_str(), p.method), ("ops", AuthMethod::Proxy));
    let p = check(
        request("10.9.9.9:1", None, &[("x-forwarded-user", "carol")]),
        Role::Read,
    )
    .await
    .unwrap();
    assert_eq!(p.roles, RoleSet::of(&[Role::Read]));
    // The same header from elsewhere is ignored: no credentials.
    let d = check(request("198.51.100.1:1", None, &ops), Role::Read)
        .await
        .unwrap_err();
    assert!(matches!(d, Denial::Unauthorized { .. }));
    // Public paths skip authentication.
    let mut parts = request("198.51.100.1:1", None, &[]);
    parts.uri = "/-/healthy".parse().unwrap();
    assert_eq!(
        a.check(&parts, "/-/healthy", Role::Read)
            .await
            .unwrap()
            .method,
        AuthMethod::Public
    );
    let m = a.metrics().unwrap();
    use crate::metrics::FailureReason as R;
    assert_eq!(m.failures(R::Forbidden), 1);
    assert_eq!(m.failures(R::InvalidToken), 1);
    assert_eq!(m.failures(R::MissingCredentials), 2);
}

#[tokio::test]
async fn passwords_are_cached_and_unknown_users_cost_a_check() {
    let hash = hash_password("pw", 4).unwrap();
    let c = AuthConfig {
        users: [(
            "u".to_string(),
            UserConfig {
                roles: vec![Role::Read],
                password_hash: Some(Secret::new(hash)),
            },
        )]
        .into(),
        ..AuthConfig::default()
    };
    let a = Authenticator::new(&c, None).unwrap();
    let m = || a.metrics().unwrap();
    for _ in 0..5 {
        a.check(
            &request("198.51.100.2:1", basic("u", "pw"), &[]),
            "/",
            Role::Read,
        )
        .await
        .unwrap();
    }
    assert_eq!(
        m().bcrypt_checks(),
        1,
        "four of five answered from the cache"
    );
    a.check(
        &request("198.51.100.2:1", basic("u", "wrong"), &[]),
        "/",
        Role::Read,
    )
    .await
    .unwrap_err();
    a.check(
        &request("198.51.100.2:1", basic("nobody", "pw"), &[]),
        "/",
        Role::Read,
    )
    .await
    .unwrap_err();
    assert_eq!(m().bcrypt_checks(), 3);
    use crate::metrics::FailureReason as R;
    assert_eq!(
        (m().failures(R::WrongPassword), m().failures(R::UnknownUser)),
        (1, 1)
    );
}

#[tokio::test]
async fn token_files_reload_and_a_broken_one_keeps_the_old_token() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "first").unwrap();
    let c = AuthConfig {
        tokens: vec![TokenConfig {
            name: "t".into(),
            token_file: Some(file.clone()),
            token: None,
            roles: vec![Role::Read],
        }],
        ..AuthConfig::default()
    };
    let a = Authenticator::new(&c, None).unwrap();
    let ok = |t: &'static str| {
        let a = a.clone();
        async move {
            a.check(
                &request("198.51.100.3:1", Some(format!("Bearer {t}")), &[]),
                "/",
                Role::Read,
            )
            .await
            .is_ok()
        }
    };
    assert!(ok("first").await);
    assert!(!a.reload_tokens().unwrap(), "unchanged");
    // Replaced by rename, as a Secret volume update does.
    std::fs::write(dir.path().join("tmp"), "second\n").unwrap();
    std::fs::rename(dir.path().join("tmp"), &file).unwrap();
    assert!(a.reload_tokens().unwrap());
    assert!(ok("second").await && !ok("first").await);
    std::fs::write(&file, "").unwrap();
    let e = a.reload_tokens().unwrap_err();
    assert!(e.to_string().contains("is empty"), "{e}");
    assert_eq!(a.last_error(), Some(e));
    assert!(ok("second").await, "the previous tokens stay");
    assert!(
        !a.reload_tokens().unwrap(),
        "an unchanged broken file is not retried"
    );
    std::fs::write(&file, "third").unwrap();
    assert!(a.reload_tokens().unwrap());
    assert!(a.last_error().is_none());
    assert!(ok("third").await);
    // A configuration reload replaces the tokens too.
    let c2 = AuthConfig {
        tokens: vec![TokenConfig {
            name: "t".into(),
            token: Some(Secret::new("fourth")),
            token_file: None,
            roles: vec![Role::Read],
        }],
        ..AuthConfig::default()
    };
    a.apply_config(&c2).unwrap();
    assert!(ok("fourth").await && !ok("third").await);
    assert!(
        a.apply_config(&AuthConfig {
            token_reload_interval: lookout_model::PromDuration::from_secs(0),
            ..c2
        })
        .is_err()
    );
    assert!(ok("fourth").await);
}

#[tokio::test]
async fn nothing_configured_means_off_and_disabled_allows_everything() {
    let a = Authenticator::new(&AuthConfig::default(), None).unwrap();
    assert!(!a.is_enabled());
    let p = a
        .check(&request("198.51.100.4:1", None, &[]), "/", Role::Admin)
        .await
        .unwrap();
    assert_eq!(p.method, AuthMethod::Disabled);
    assert!(p.roles.allows(Role::Admin));
    let d = Authenticator::disabled();
    assert!(!d.is_enabled());
    assert!(
        d.check(&request("198.51.100.4:1", None, &[]), "/", Role::Admin)
            .await
            .is_ok()
    );
    assert!(d.spawn_token_watch().is_none());
    let mut out = MetricsWriter::new();
    d.write_metrics(&mut out);
    assert!(out.finish().contains("lookout_auth_enabled 0"));
    // Roles without any credential do not turn authentication on.
    let only_roles = AuthConfig {
        proxy: None,
        users: [(
            "x".to_string(),
            UserConfig {
                roles: vec![Role::Read],
                password_hash: None,
            },
        )]
        .into(),
        ..AuthConfig::default()
    };
    assert!(!Authenticator::new(&only_roles, None).unwrap().is_enabled());
    let proxy_only = AuthConfig {
        proxy: Some(ProxyConfig {
            user_header: "X-User".into(),
            trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
            default_roles: vec![],
        }),
        ..AuthConfig::default()
    };
    assert!(Authenticator::new(&proxy_only, None).unwrap().is_enabled());
}
