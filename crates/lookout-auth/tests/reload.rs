//! Certificate rotation while serving: the certificate directory is swapped by renaming a symlink, as
//! Kubernetes Secret volumes and cert-manager do. New connections get the new certificate, an open connection
//! keeps working, and a broken replacement keeps the old certificate and reports the error.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::{Pki, Server, client, ok_router, serial, served_serial};
use lookout_auth::WebConfigWatcher;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Points `dir/live` at `dir/<target>` atomically (a new symlink renamed over the old one).
fn swap_live(dir: &Path, target: &str) {
    let tmp = dir.join("live.tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp).unwrap();
    std::fs::rename(&tmp, dir.join("live")).unwrap();
}

/// A TLS connection kept open across requests.
struct Connection {
    tls: tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
}

impl Connection {
    async fn open(addr: std::net::SocketAddr, ca_pem: &str) -> Connection {
        let mut roots = rustls::RootCertStore::empty();
        for c in rustls::pki_types::pem::PemObject::pem_slice_iter(ca_pem.as_bytes()) {
            roots.add(c.unwrap()).unwrap();
        }
        let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let tls = tokio_rustls::TlsConnector::from(Arc::new(cfg))
            .connect("localhost".try_into().unwrap(), tcp)
            .await
            .unwrap();
        Connection { tls }
    }

    fn serial(&self) -> u64 {
        serial(&self.tls.get_ref().1.peer_certificates().unwrap()[0])
    }

    /// `GET /` over HTTP/1.1 keep-alive; returns the body.
    async fn get(&mut self) -> String {
        self.tls
            .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        let read = async {
            loop {
                let n = self.tls.read(&mut chunk).await.unwrap();
                assert!(n > 0, "connection closed");
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap();
                    if body.len() >= len {
                        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
                        return body[..len].to_string();
                    }
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .unwrap()
    }
}

/// Polls a fresh connection until it presents `want` (bounded).
async fn wait_for_serial(addr: std::net::SocketAddr, ca: &str, want: u64) {
    for _ in 0..100 {
        if Connection::open(addr, ca).await.serial() == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("new connections never presented serial {want}");
}

fn metrics(w: &WebConfigWatcher) -> String {
    let mut out = lookout_model::MetricsWriter::new();
    w.write_metrics(&mut out);
    out.finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_rotate_without_dropping_connections() {
    let pki = Pki::new("rotation CA");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (v, serial) in [("v1", 1), ("v2", 2), ("v4", 4)] {
        std::fs::create_dir(d.join(v)).unwrap();
        pki.server(serial).write(&d.join(v), "tls");
    }
    // v3: a broken rotation (the certificate is cut short).
    std::fs::create_dir(d.join("v3")).unwrap();
    let half = pki.server(3);
    std::fs::write(
        d.join("v3/tls.crt"),
        &half.cert_pem[..half.cert_pem.len() / 2],
    )
    .unwrap();
    std::fs::write(d.join("v3/tls.key"), &half.key_pem).unwrap();
    swap_live(d, "v1");
    let web_yml = "tls_server_config:\n  cert_file: live/tls.crt\n  key_file: live/tls.key\n";
    std::fs::write(d.join("web.yml"), web_yml).unwrap();

    let watcher = WebConfigWatcher::load(d.join("web.yml")).unwrap();
    let poller = watcher.spawn_polling(Duration::from_millis(50));
    let server = Server::start(ok_router(), watcher.tls().unwrap()).await;

    let mut open = Connection::open(server.addr, &pki.ca_pem).await;
    assert_eq!(open.serial(), 1);
    assert_eq!(open.get().await, "ok");
    let reqwest_client = client(&pki.ca_pem, None).build().unwrap();

    // Rotation: new connections see serial 2, the open one still works with serial 1.
    swap_live(d, "v2");
    wait_for_serial(server.addr, &pki.ca_pem, 2).await;
    assert_eq!(open.get().await, "ok");
    assert_eq!(open.serial(), 1);
    assert!(watcher.last_error().is_none());
    assert!(metrics(&watcher).contains("lookout_web_config_reloads_total 1"));

    // A broken rotation: the error is recorded, serial 2 stays.
    swap_live(d, "v3");
    let mut recorded = None;
    for _ in 0..100 {
        recorded = watcher.last_error();
        if recorded.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let e = recorded.expect("the broken certificate is reported");
    assert_eq!(e.at.as_deref(), Some("tls_server_config.cert_file"), "{e}");
    assert!(
        e.to_string().contains("invalid PEM") || e.to_string().contains("no PEM certificate"),
        "{e}"
    );
    assert_eq!(Connection::open(server.addr, &pki.ca_pem).await.serial(), 2);
    let resp = reqwest_client.get(server.url("/")).send().await.unwrap();
    assert_eq!(served_serial(&resp), 2);
    let m = metrics(&watcher);
    assert!(
        m.contains("lookout_web_config_last_reload_successful 0"),
        "{m}"
    );
    assert!(
        m.contains("lookout_web_config_reload_failures_total 1"),
        "{m}"
    );
    assert_eq!(open.get().await, "ok");

    // The fix is picked up and clears the error.
    swap_live(d, "v4");
    wait_for_serial(server.addr, &pki.ca_pem, 4).await;
    assert!(watcher.last_error().is_none());

    // A broken web config file keeps everything as it was, too.
    std::fs::write(d.join("web.yml"), "tls_server_config:\n  cert_flie: x\n").unwrap();
    for _ in 0..100 {
        if watcher.last_error().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let e = watcher.last_error().expect("the broken file is reported");
    assert!(e.to_string().contains("unknown field `cert_flie`"), "{e}");
    assert_eq!(Connection::open(server.addr, &pki.ca_pem).await.serial(), 4);
    // Turning TLS off needs a restart: refused, TLS stays.
    std::fs::write(d.join("web.yml"), "basic_auth_users: {}\n").unwrap();
    assert!(
        watcher
            .check_now()
            .unwrap_err()
            .to_string()
            .contains("needs a restart")
    );
    assert_eq!(Connection::open(server.addr, &pki.ca_pem).await.serial(), 4);
    std::fs::write(d.join("web.yml"), web_yml).unwrap();
    // The poller may get there first; either way the file is loaded and the error cleared.
    let _ = watcher.check_now();
    assert!(watcher.last_error().is_none());

    assert_eq!(open.get().await, "ok");
    drop(open);
    poller.abort();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_waits_for_nothing_idle_and_returns() {
    let pki = Pki::new("ca");
    let dir = tempfile::tempdir().unwrap();
    pki.server(9).write(dir.path(), "s");
    std::fs::write(
        dir.path().join("web.yml"),
        "tls_server_config: {cert_file: s.crt, key_file: s.key}\n",
    )
    .unwrap();
    let watcher = WebConfigWatcher::load(dir.path().join("web.yml")).unwrap();
    let server = Server::start(ok_router(), watcher.tls().unwrap()).await;
    // An idle keep-alive connection must not hold shutdown.
    let mut idle = Connection::open(server.addr, &pki.ca_pem).await;
    assert_eq!(idle.get().await, "ok");
    let started = std::time::Instant::now();
    server.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
