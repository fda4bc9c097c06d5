//! Authentication (token, password ticket, secrets from files), TLS trust, and the failures that must fail the whole
//! collection with a clear message: 401, 403, a slow reply, a closed port, an untrusted certificate, an oversized
//! reply; plus request errors (unknown module, target selection) and per-module isolation.

mod common;

use std::time::{Duration, Instant};

use common::{FakePve, PASSWORD, TOKEN_VALUE, USER, exporter, params, parse, token_module};
use lookout_model::{ByteSize, ExportError, Exporter, MetricsWriter, PromDuration};
use lookout_proxmox::ModuleConfig;

fn failed(result: Result<String, ExportError>) -> String {
    match result {
        Err(ExportError::Failed(message)) => {
            eprintln!("collection failed as expected: {message}");
            message
        }
        other => panic!("expected a failed collection, got {other:?}"),
    }
}

fn password_module(addr: &str, ca: &str) -> ModuleConfig {
    let mut m = token_module("default", addr, ca);
    m.token_name = None;
    m.token_value = None;
    m.password = Some(PASSWORD.into());
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_ticket_auth() {
    let fake = FakePve::start().await;
    fake.behaviour.lock().token_auth = false;
    let dir = tempfile::tempdir().unwrap();
    let ca = fake.write_ca(&dir);
    let text = exporter(vec![password_module(&fake.addr, &ca)])
        .collect(&params(&[]))
        .await
        .unwrap();
    assert_eq!(parse(&text).samples.len(), 235);
    let log = fake.log();
    assert_eq!(log[0], "POST /api2/json/access/ticket");
    assert_eq!(log.iter().filter(|l| l.starts_with("POST")).count(), 1);

    // From a file with a trailing newline, as a mounted Secret has.
    let pw_file = dir.path().join("password");
    std::fs::write(&pw_file, format!("{PASSWORD}\n")).unwrap();
    let mut m = password_module(&fake.addr, &ca);
    m.password = None;
    m.password_file = Some(pw_file.display().to_string());
    assert!(exporter(vec![m]).collect(&params(&[])).await.is_ok());

    // A wrong password: the login is refused and the message names the user, never the password.
    let mut m = password_module(&fake.addr, &ca);
    m.password = Some("wrong-password".into());
    let message = failed(exporter(vec![m]).collect(&params(&[])).await);
    assert!(
        message.contains("couldn't authenticate user prometheus@pve"),
        "{message}"
    );
    assert!(
        message.contains("HTTP 401") && message.contains("/api2/json/access/ticket"),
        "{message}"
    );
    assert!(!message.contains("wrong-password"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_from_file_and_bad_token() {
    let fake = FakePve::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = fake.write_ca(&dir);
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{TOKEN_VALUE}\r\n")).unwrap();
    let mut m = token_module("default", &fake.addr, &ca);
    m.token_value = None;
    m.token_value_file = Some(token_file.display().to_string());
    assert!(exporter(vec![m]).collect(&params(&[])).await.is_ok());

    let mut m = token_module("default", &fake.addr, &ca);
    m.token_value = Some("00000000-bad".into());
    let message = failed(exporter(vec![m]).collect(&params(&[])).await);
    assert!(message.contains("HTTP 401"), "{message}");
    assert!(message.contains("invalid token value!"), "{message}");
    assert!(message.contains("/api2/json/cluster/status"), "{message}");
    assert!(!message.contains("00000000-bad"), "{message}");

    let mut m = token_module("default", &fake.addr, &ca);
    m.token_value = None;
    m.token_value_file = Some(dir.path().join("absent").display().to_string());
    let message = failed(exporter(vec![m]).collect(&params(&[])).await);
    assert!(message.contains("token_value_file"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permission_denied_fails_the_collection() {
    let fake = FakePve::start().await;
    fake.behaviour.lock().forbid_status = true;
    let dir = tempfile::tempdir().unwrap();
    let exporter = exporter(vec![token_module(
        "default",
        &fake.addr,
        &fake.write_ca(&dir),
    )]);
    let message = failed(exporter.collect(&params(&[])).await);
    assert!(message.contains("HTTP 403"), "{message}");
    assert!(
        message.contains("Permission check failed (/, Sys.Audit)"),
        "{message}"
    );
    assert!(message.contains("/api2/json/cluster/status"), "{message}");
    assert!(!message.contains(TOKEN_VALUE));

    // Self-metrics count it.
    let mut w = MetricsWriter::new();
    exporter.write_metrics(&mut w);
    let text = w.finish();
    assert!(
        text.contains("lookout_pve_collection_errors_total{module=\"default\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("lookout_pve_collections_total{module=\"default\"} 1"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_reply_times_out() {
    let fake = FakePve::start().await;
    fake.behaviour.lock().delay = Some(Duration::from_secs(5));
    let dir = tempfile::tempdir().unwrap();
    let mut m = token_module("default", &fake.addr, &fake.write_ca(&dir));
    m.timeout = PromDuration::from_millis(400);
    let started = Instant::now();
    let message = failed(exporter(vec![m]).collect(&params(&[])).await);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(400), "{took:?}");
    assert!(took < Duration::from_millis(400 + 1500), "{took:?}");
    assert!(message.contains("timed out after 400ms"), "{message}");
    assert!(message.contains("/api2/json/cluster/status"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_port_fails() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    // Any valid CA will do: nothing listens.
    let fake = FakePve::start().await;
    std::fs::write(&ca, &fake.ca_pem).unwrap();
    let mut m = token_module("default", &addr, &ca.display().to_string());
    m.timeout = PromDuration::from_secs(3);
    let started = Instant::now();
    let message = failed(exporter(vec![m]).collect(&params(&[])).await);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(message.contains(&addr), "{message}");
    assert!(message.to_lowercase().contains("connect"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_trust() {
    let fake = FakePve::start().await;
    // Verification is on by default and the test CA is in no root store.
    let untrusted =
        ModuleConfig::with_token("default", &fake.addr, USER, "monitoring", TOKEN_VALUE);
    let message = failed(
        exporter(vec![untrusted.clone()])
            .collect(&params(&[]))
            .await,
    );
    assert!(message.to_lowercase().contains("certificate"), "{message}");

    // Another CA's file does not help either.
    let other = FakePve::start().await;
    let dir = tempfile::tempdir().unwrap();
    let wrong = token_module("default", &fake.addr, &other.write_ca(&dir));
    let message = failed(exporter(vec![wrong]).collect(&params(&[])).await);
    assert!(message.to_lowercase().contains("certificate"), "{message}");

    let dir = tempfile::tempdir().unwrap();
    let trusted = token_module("default", &fake.addr, &fake.write_ca(&dir));
    assert!(exporter(vec![trusted]).collect(&params(&[])).await.is_ok());

    let mut insecure = untrusted;
    insecure.tls_config.insecure_skip_verify = true;
    assert!(exporter(vec![insecure]).collect(&params(&[])).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_reply_is_refused() {
    let fake = FakePve::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut m = token_module("default", &fake.addr, &fake.write_ca(&dir));
    m.body_size_limit = ByteSize(2048);
    let message = failed(exporter(vec![m]).collect(&params(&[])).await);
    assert!(
        message.contains("body size limit of 2048 bytes"),
        "{message}"
    );
    assert!(
        message.contains("/api2/json/cluster/resources"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modules_and_targets() {
    let fake = FakePve::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = fake.write_ca(&dir);
    let mut several = token_module("lab", "pve9.invalid", &ca);
    several.targets.push(fake.addr.clone());
    let exporter = exporter(vec![token_module("default", &fake.addr, &ca), several]);

    assert_eq!(
        exporter.collect(&params(&[("module", "nope")])).await,
        Err(ExportError::BadRequest(
            "Module 'nope' not found in config".into()
        ))
    );
    // Several targets: target= is required and must be one of them.
    assert!(matches!(
        exporter.collect(&params(&[("module", "lab")])).await,
        Err(ExportError::BadRequest(m)) if m.contains("target")
    ));
    assert!(matches!(
        exporter.collect(&params(&[("module", "lab"), ("target", "evil.example:8006")])).await,
        Err(ExportError::BadRequest(m)) if m.contains("not one of")
    ));
    assert!(matches!(
        exporter.collect(&params(&[("target", &format!("https://{}", fake.addr))])).await,
        Err(ExportError::BadRequest(m)) if m.contains("scheme")
    ));
    let ok = exporter
        .collect(&params(&[("module", "lab"), ("target", &fake.addr)]))
        .await
        .unwrap();
    assert_eq!(parse(&ok).samples.len(), 235);
    // The default module with its single target needs no parameters.
    assert!(exporter.collect(&params(&[])).await.is_ok());
    assert_eq!(exporter.name(), "pve");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_cluster_delays_only_itself() {
    let slow = FakePve::start().await;
    slow.behaviour.lock().delay = Some(Duration::from_secs(3));
    let fast = FakePve::start().await;
    let dir = tempfile::tempdir().unwrap();
    let slow_ca = dir.path().join("slow.pem");
    std::fs::write(&slow_ca, &slow.ca_pem).unwrap();
    let fast_dir = tempfile::tempdir().unwrap();
    let exporter = exporter(vec![
        token_module("slow", &slow.addr, &slow_ca.display().to_string()),
        token_module("fast", &fast.addr, &fast.write_ca(&fast_dir)),
    ]);
    let slow_params = params(&[("module", "slow")]);
    let fast_params = params(&[("module", "fast")]);
    let started = Instant::now();
    let slow_collect = exporter.collect(&slow_params);
    tokio::pin!(slow_collect);
    let fast_result = tokio::select! {
        r = exporter.collect(&fast_params) => r,
        r = &mut slow_collect => panic!("the slow module finished first: {r:?}"),
    };
    let fast_took = started.elapsed();
    assert_eq!(parse(&fast_result.unwrap()).samples.len(), 235);
    assert!(fast_took < Duration::from_secs(2), "{fast_took:?}");
    // The slow collection is still waiting on its first reply; dropping it cancels it.
    assert_eq!(slow.log().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_show_in_debug_output_or_failures() {
    let fake = FakePve::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = fake.write_ca(&dir);
    let token = token_module("default", &fake.addr, &ca);
    let mut password = password_module(&fake.addr, &ca);
    password.name = "by-password".into();
    let config = lookout_proxmox::ProxmoxConfig {
        modules: vec![token.clone(), password.clone()],
    };
    let text = format!(
        "{config:?} {config:#?} {:?} {:?}",
        token.auth().unwrap(),
        exporter(config.modules.clone())
    );
    assert!(
        !text.contains(TOKEN_VALUE) && !text.contains(PASSWORD),
        "{text}"
    );
    assert!(text.contains("<secret>"), "{text}");
    // Failures with each kind of credential: an untrusted certificate, then a closed port.
    for mut m in [token, password] {
        m.tls_config.ca_file = None;
        let module = params(&[("module", m.name.as_str())]);
        let message = failed(exporter(vec![m.clone()]).collect(&module).await);
        assert!(message.contains("UnknownIssuer"), "{message}");
        m.targets = vec!["127.0.0.1:1".into()];
        let closed = failed(exporter(vec![m]).collect(&module).await);
        for text in [message, closed] {
            assert!(
                !text.contains(TOKEN_VALUE) && !text.contains(PASSWORD),
                "{text}"
            );
        }
    }
}
