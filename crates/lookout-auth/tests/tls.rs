//! TLS end to end: a web config file with rcgen-made certificates, served by `serve_tls` on 127.0.0.1 and
//! called by reqwest (rustls): mutual TLS, every client-auth policy, allowed SANs, TLS versions and ALPN.

mod common;

use std::sync::Arc;

use common::{Issued, Pki, Server, client, ok_router, served_serial};
use lookout_auth::WebConfigWatcher;

/// A directory with the CA, a server certificate (serial 7) and a web config with `tls_extra` appended to the
/// `tls_server_config` section; returns the watcher.
fn setup(pki: &Pki, tls_extra: &str, tail: &str) -> (tempfile::TempDir, WebConfigWatcher) {
    let dir = tempfile::tempdir().unwrap();
    pki.server(7).write(dir.path(), "server");
    std::fs::write(dir.path().join("ca.crt"), &pki.ca_pem).unwrap();
    let yaml = format!(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n{tls_extra}{tail}"
    );
    std::fs::write(dir.path().join("web.yml"), yaml).unwrap();
    let w = WebConfigWatcher::load(dir.path().join("web.yml")).unwrap();
    (dir, w)
}

async fn get(
    server: &Server,
    ca: &str,
    identity: Option<&Issued>,
) -> Result<reqwest::Response, reqwest::Error> {
    client(ca, identity.map(Issued::identity))
        .build()
        .unwrap()
        .get(server.url("/"))
        .send()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_require_and_verify() {
    let pki = Pki::new("lookout test CA");
    let (_dir, w) = setup(
        &pki,
        "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n",
        "",
    );
    let server = Server::start(ok_router(), w.tls().unwrap()).await;
    let good = pki.client(&["grafana"]);
    let resp = get(&server, &pki.ca_pem, Some(&good)).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(served_serial(&resp), 7);
    assert_eq!(resp.text().await.unwrap(), "ok");
    // No certificate: refused.
    assert!(get(&server, &pki.ca_pem, None).await.is_err());
    // A certificate from another CA: refused.
    let stranger = Pki::new("someone else").client(&["grafana"]);
    assert!(get(&server, &pki.ca_pem, Some(&stranger)).await.is_err());
    // The server counts a failed handshake on its own task, after the client has seen it fail: poll (5 s at most).
    let render = || {
        let mut out = lookout_model::MetricsWriter::new();
        w.write_metrics(&mut out);
        out.finish()
    };
    let failures_in = |text: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix("lookout_tls_handshake_failures_total "))
            .unwrap()
            .parse()
            .unwrap()
    };
    let mut text = render();
    for _ in 0..100 {
        if failures_in(&text) >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        text = render();
    }
    let failures = failures_in(&text);
    assert!(failures >= 2, "{text}");
    assert!(
        text.contains("lookout_web_config_last_reload_successful 1"),
        "{text}"
    );
    assert!(
        text.contains("lookout_tls_certificate_expiry_timestamp_seconds "),
        "{text}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unverified_and_optional_client_certificates() {
    let pki = Pki::new("ca");
    let self_signed = Pki::new("self").client(&["anyone"]);
    let trusted = pki.client(&["grafana"]);

    let (_d1, w) = setup(&pki, "  client_auth_type: RequireAnyClientCert\n", "");
    let s = Server::start(ok_router(), w.tls().unwrap()).await;
    assert_eq!(
        get(&s, &pki.ca_pem, Some(&self_signed))
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(get(&s, &pki.ca_pem, None).await.is_err());
    s.stop().await;

    let (_d2, w) = setup(&pki, "  client_auth_type: RequestClientCert\n", "");
    let s = Server::start(ok_router(), w.tls().unwrap()).await;
    assert_eq!(
        get(&s, &pki.ca_pem, Some(&self_signed))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(get(&s, &pki.ca_pem, None).await.unwrap().status(), 200);
    s.stop().await;

    let (_d3, w) = setup(
        &pki,
        "  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.crt\n",
        "",
    );
    let s = Server::start(ok_router(), w.tls().unwrap()).await;
    assert_eq!(get(&s, &pki.ca_pem, None).await.unwrap().status(), 200);
    assert_eq!(
        get(&s, &pki.ca_pem, Some(&trusted)).await.unwrap().status(),
        200
    );
    assert!(get(&s, &pki.ca_pem, Some(&self_signed)).await.is_err());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_allowed_sans() {
    let pki = Pki::new("ca");
    let (_dir, w) = setup(
        &pki,
        "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  client_allowed_sans: [one, grafana.example, two]\n",
        "",
    );
    let s = Server::start(ok_router(), w.tls().unwrap()).await;
    let good = pki.client(&["grafana.example"]);
    let bad = pki.client(&["bad"]);
    assert_eq!(
        get(&s, &pki.ca_pem, Some(&good)).await.unwrap().status(),
        200
    );
    assert!(get(&s, &pki.ca_pem, Some(&bad)).await.is_err());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_versions() {
    let pki = Pki::new("ca");
    let (_dir, w) = setup(&pki, "  min_version: TLS13\n", "");
    let s = Server::start(ok_router(), w.tls().unwrap()).await;
    let tls12_only = client(&pki.ca_pem, None)
        .max_tls_version(reqwest::tls::Version::TLS_1_2)
        .build()
        .unwrap();
    assert!(tls12_only.get(s.url("/")).send().await.is_err());
    assert_eq!(get(&s, &pki.ca_pem, None).await.unwrap().status(), 200);
    s.stop().await;

    let (_dir, w) = setup(&pki, "  max_version: TLS12\n", "");
    let s = Server::start(ok_router(), w.tls().unwrap()).await;
    let tls13_only = client(&pki.ca_pem, None)
        .min_tls_version(reqwest::tls::Version::TLS_1_3)
        .build()
        .unwrap();
    assert!(tls13_only.get(s.url("/")).send().await.is_err());
    assert_eq!(
        tls12_only.get(s.url("/")).send().await.unwrap().status(),
        200
    );
    s.stop().await;
}

/// The protocol the server picks when a client offers h2 and http/1.1.
async fn negotiated_alpn(s: &Server, ca_pem: &str) -> Option<Vec<u8>> {
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::pem::PemObject::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let mut cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let tcp = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(cfg))
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap();
    tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_is_offered_unless_turned_off() {
    let pki = Pki::new("ca");
    let (_d1, w) = setup(&pki, "", "");
    let s = Server::start(ok_router(), w.tls().unwrap()).await;
    assert_eq!(
        negotiated_alpn(&s, &pki.ca_pem).await.as_deref(),
        Some(&b"h2"[..])
    );
    s.stop().await;
    let (_d2, w) = setup(&pki, "", "http_server_config:\n  http2: false\n");
    let s = Server::start(ok_router(), w.tls().unwrap()).await;
    assert_eq!(
        negotiated_alpn(&s, &pki.ca_pem).await.as_deref(),
        Some(&b"http/1.1"[..])
    );
    assert_eq!(get(&s, &pki.ca_pem, None).await.unwrap().status(), 200);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_see_the_peer_address() {
    use axum::extract::ConnectInfo;
    let pki = Pki::new("ca");
    let (_d, w) = setup(&pki, "", "");
    let router =
        axum::Router::new().route(
            "/",
            axum::routing::get(
                |ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>| async move {
                    peer.ip().to_string()
                },
            ),
        );
    let s = Server::start(router, w.tls().unwrap()).await;
    let body = get(&s, &pki.ca_pem, None)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "127.0.0.1");
    s.stop().await;
}
