//! Scraping `https` targets: a private CA via `tls_config.ca_file`, an untrusted certificate,
//! `insecure_skip_verify`, `server_name` and a client certificate. The servers are minimal TLS listeners on
//! 127.0.0.1 answering every request alike.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lookout_collect::config::{GlobalConfig, parse_scrape_configs};
use lookout_collect::scrape::{Health, ScrapeManager, ScrapeOptions, TargetHealth};
use lookout_storage::Storage;
use lookout_storage::mem::MemStorage;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What a job's health must show.
type Expectation = fn(&TargetHealth) -> bool;

/// Starts a TLS server whose self-signed certificate names `san`; returns its address and the certificate's PEM.
/// With `client_ca` (a DER certificate), clients must present a certificate it signed.
async fn serve_tls(san: &str, client_ca: Option<CertificateDer<'static>>) -> (String, String) {
    let certified = rcgen::generate_simple_self_signed(vec![san.to_string()]).unwrap();
    let cert_pem = certified.cert.pem();
    let cert = CertificateDer::from(certified.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(ca).unwrap();
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let config = builder.with_single_cert(vec![cert], key).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 64 * 1024 {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let body = "tls_metric 42\n";
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (addr, cert_pem)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_targets_honor_tls_config() {
    let (addr, cert_pem) = serve_tls("127.0.0.1", None).await;
    let (named_addr, named_pem) = serve_tls("metrics.internal", None).await;
    let client = rcgen::generate_simple_self_signed(vec!["lookout-client".to_string()]).unwrap();
    let client_der = CertificateDer::from(client.cert.der().to_vec());
    let (mtls_addr, mtls_pem) = serve_tls("127.0.0.1", Some(client_der)).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, cert_pem).unwrap();
    let named_ca = dir.path().join("named.pem");
    std::fs::write(&named_ca, named_pem).unwrap();
    let job_at = |name: &str, tls: &str, addr: &str| {
        format!(
            "- job_name: {name}\n  scheme: https\n  scrape_interval: 250ms\n  scrape_timeout: 250ms\n  tls_config: {tls}\n  static_configs: [{{targets: ['{addr}']}}]\n"
        )
    };
    let job = |name: &str, tls: &str| job_at(name, tls, &addr);
    let mtls_ca = dir.path().join("mtls.pem");
    std::fs::write(&mtls_ca, mtls_pem).unwrap();
    let (client_cert, client_key) = (dir.path().join("client.pem"), dir.path().join("client.key"));
    std::fs::write(&client_cert, client.cert.pem()).unwrap();
    std::fs::write(&client_key, client.signing_key.serialize_pem()).unwrap();
    let mtls = format!(
        "{{ca_file: '{}', cert_file: '{}', key_file: '{}'}}",
        mtls_ca.display(),
        client_cert.display(),
        client_key.display()
    );
    let mtls_without_cert = format!("{{ca_file: '{}'}}", mtls_ca.display());
    let named = format!(
        "{{ca_file: '{}', server_name: metrics.internal}}",
        named_ca.display()
    );
    let named_without_override = format!("{{ca_file: '{}'}}", named_ca.display());
    let yaml = [
        job("trusted", &format!("{{ca_file: '{}'}}", ca.display())),
        job("untrusted", "{}"),
        job("insecure", "{insecure_skip_verify: true}"),
        job("missing_ca", "{ca_file: /nonexistent/ca.pem}"),
        job_at("server_name", &named, &named_addr),
        job_at("wrong_name", &named_without_override, &named_addr),
        job_at("client_cert", &mtls, &mtls_addr),
        job_at("no_client_cert", &mtls_without_cert, &mtls_addr),
    ]
    .concat();
    let storage = Arc::new(MemStorage::new());
    let m = ScrapeManager::new(
        storage.clone() as Arc<dyn Storage>,
        ScrapeOptions::default(),
    );
    m.apply_config(parse_scrape_configs(&yaml, &GlobalConfig::default()).unwrap())
        .unwrap();

    // Each job is polled until its expected state shows, so a slow first scrape on a loaded machine cannot fail
    // the test; the deadline still bounds it.
    let health = |job: &str| {
        m.targets()
            .active
            .into_iter()
            .find(|t| t.target.job == job)
            .unwrap()
            .health
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let expectations: [(&str, Expectation); 7] = [
        ("trusted", |h| h.health == Health::Up),
        ("insecure", |h| h.health == Health::Up),
        ("server_name", |h| h.health == Health::Up),
        ("client_cert", |h| h.health == Health::Up),
        ("untrusted", |h| {
            h.health == Health::Down && h.last_error.to_lowercase().contains("certificate")
        }),
        ("wrong_name", |h| {
            h.health == Health::Down && h.last_error.to_lowercase().contains("certificate")
        }),
        ("missing_ca", |h| {
            h.health == Health::Down && h.last_error.contains("/nonexistent/ca.pem")
        }),
    ];
    for (job, expected) in expectations {
        while !expected(&health(job)) {
            assert!(Instant::now() < deadline, "job {job}: {:?}", health(job));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // Without the client certificate the server refuses the handshake.
    while health("no_client_cert").health != Health::Down {
        assert!(
            Instant::now() < deadline,
            "no_client_cert: {:?}",
            health("no_client_cert")
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    m.shutdown(Duration::from_secs(2)).await;
}
