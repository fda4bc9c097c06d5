//! A remote_write endpoint over HTTPS with a test CA: trusted through `ca_file` in addition to the system's roots,
//! refused without it with a clear error; and no credential or URL password in `Debug` output, logs' URL or
//! failure reasons.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use lookout_model::http_client::TlsConfig;

use super::*;
use crate::client::{Endpoint, Outcome};
use crate::config::{LokiPushConfig, RemoteWriteConfig};

const SECRETS: [&str; 5] = [
    "pa55-basic",
    "t0ken-authz",
    "t0ken-bearer",
    "s3cret-oauth",
    "pw-in-url",
];

/// An HTTPS server for 127.0.0.1 answering 204 to every request; returns its address and certificate PEM.
async fn serve_tls() -> (String, String) {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let pem = certified.cert.pem();
    let cert = CertificateDer::from(certified.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .unwrap();
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
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 64 * 1024 {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let reply = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
                let _ = tls.write_all(reply.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (addr, pem)
}

fn remote_write(url: &str, auth: &str, ca_file: Option<&str>) -> RemoteWriteConfig {
    let tls = ca_file
        .map(|f| format!("tls_config: {{ca_file: '{f}'}}\n"))
        .unwrap_or_default();
    serde_yaml_ng::from_str(&format!("url: '{url}'\n{auth}\n{tls}")).unwrap()
}

/// One of each credential form, as configured.
const AUTHS: [&str; 4] = [
    "basic_auth: {username: u, password: pa55-basic}",
    "authorization: {credentials: t0ken-authz}",
    "bearer_token: t0ken-bearer",
    "oauth2: {client_id: c, client_secret: s3cret-oauth, token_url: 'http://127.0.0.1:1/token'}",
];

fn assert_no_secret(text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{s} in {text}");
    }
}

#[test]
#[ignore = "needs the system root store, Debian's ca-certificates (installed by .ci/run)"]
fn clients_trust_the_system_roots_plus_their_ca_file() {
    let system = root_store(&TlsConfig::default()).unwrap();
    assert!(system.len() > 10, "{} system roots", system.len());
    let dir = tempfile::tempdir().unwrap();
    let ca = rcgen::generate_simple_self_signed(vec!["rw.test".into()]).unwrap();
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, ca.cert.pem()).unwrap();
    let tls = TlsConfig {
        ca_file: Some(path.display().to_string()),
        ..TlsConfig::default()
    };
    assert_eq!(root_store(&tls).unwrap().len(), system.len() + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_endpoint_is_trusted_through_its_ca_file_and_secrets_stay_out_of_errors() {
    let (addr, pem) = serve_tls().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pem).unwrap();
    let ca = ca.display().to_string();
    let url = format!("https://{addr}/api/v1/write");
    let with_password = format!("https://user:pw-in-url@{addr}/api/v1/write");
    let timeout = Duration::from_secs(5);

    let trusted = remote_write(&url, AUTHS[0], Some(&ca));
    let endpoint = Endpoint::new(&url, &trusted.http(), timeout, "remote_write[0]").unwrap();
    assert_eq!(
        endpoint.post(vec![1, 2, 3], &[], 0, true).await,
        Outcome::Sent
    );

    for auth in AUTHS {
        let config = remote_write(&with_password, auth, None);
        assert_no_secret(&format!("{config:?} {:?}", config.http()));
        let endpoint =
            Endpoint::new(&with_password, &config.http(), timeout, "remote_write[0]").unwrap();
        assert_eq!(
            endpoint.url(),
            format!("https://user:xxxxx@{addr}/api/v1/write")
        );
        assert_no_secret(&format!("{endpoint:?}"));
        let Outcome::Retry { reason, .. } = endpoint.post(vec![1], &[], 0, true).await else {
            panic!("an untrusted server must fail the attempt")
        };
        if !auth.starts_with("oauth2") {
            assert!(reason.contains("UnknownIssuer"), "{reason}");
        }
        assert_no_secret(&reason);
    }

    let missing = remote_write(&url, "", Some("/nonexistent/ca.pem"));
    let err = Endpoint::new(&url, &missing.http(), timeout, "remote_write[0]").unwrap_err();
    let err = err.to_string();
    assert!(
        err.contains("remote_write[0].tls_config.ca_file") && err.contains("/nonexistent/ca.pem"),
        "{err}"
    );

    let loki: LokiPushConfig = serde_yaml_ng::from_str(&format!(
        "url: 'https://{addr}/loki/api/v1/push'\nbasic_auth: {{username: u, password: pa55-basic}}\ntls_config: {{ca_file: '{ca}'}}\n"
    ))
    .unwrap();
    assert_no_secret(&format!("{loki:?}"));
    let endpoint = Endpoint::new(&loki.url, &loki.http(), timeout, "loki_push[0]").unwrap();
    assert_eq!(endpoint.post(vec![1], &[], 0, true).await, Outcome::Sent);
}
