//! The Kubernetes client's TLS and secrets: an API server on 127.0.0.1 with a certificate from a test CA is trusted
//! through `tls_config.ca_file` and refused without it, and the bearer token reaches the server but never the
//! `Debug` output or an error message.

use std::sync::Arc;

use lookout_discovery::client::Connection;
use lookout_discovery::config::{ApiAuthorization, ApiTlsConfig, KubernetesSdConfig};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

const TOKEN: &str = "t0ken-kube-secret";

/// An HTTPS server for 127.0.0.1 answering `ok` to every request; sends each request's head to the channel.
/// Returns its URL and its certificate's PEM.
async fn serve_tls(heads: mpsc::UnboundedSender<String>) -> (String, String) {
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
    let url = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, heads) = (acceptor.clone(), heads.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = heads.send(String::from_utf8_lossy(&head).into_owned());
                let reply = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
                let _ = tls.write_all(reply.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (url, pem)
}

fn connection(url: &str, ca_file: Option<String>) -> Connection {
    Connection {
        api_server: Some(url.to_string()),
        authorization: Some(ApiAuthorization {
            kind: None,
            credentials: Some(TOKEN.into()),
            credentials_file: None,
        }),
        tls_config: Some(ApiTlsConfig {
            ca_file,
            ..ApiTlsConfig::default()
        }),
        ..Connection::default()
    }
}

async fn healthz(c: &Connection) -> Result<String, String> {
    let client = c.connect().await.map_err(|e| e.to_string())?;
    let request = http::Request::get("/healthz").body(Vec::new()).unwrap();
    client
        .request_text(request)
        .await
        .map_err(|e| format!("{e} / {e:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_server_is_trusted_through_its_ca_file_only_and_the_token_stays_secret() {
    let (tx, mut heads) = mpsc::unbounded_channel();
    let (url, pem) = serve_tls(tx).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pem).unwrap();

    let trusted = connection(&url, Some(ca.display().to_string()));
    assert_eq!(healthz(&trusted).await.unwrap(), "ok");
    let head = heads.recv().await.unwrap().to_ascii_lowercase();
    assert!(
        head.contains(&format!("authorization: bearer {TOKEN}")),
        "{head}"
    );

    // The system roots do not know the test CA: the handshake fails, saying why, without the token.
    let err = healthz(&connection(&url, None)).await.unwrap_err();
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    assert!(!err.contains(TOKEN), "{err}");

    let missing = connection(&url, Some("/nonexistent/ca.pem".into()));
    let err = healthz(&missing).await.unwrap_err();
    assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    assert!(!err.contains(TOKEN), "{err}");
}

#[test]
fn debug_output_and_connect_errors_hold_no_secret() {
    let sd: KubernetesSdConfig = serde_yaml_ng::from_str(&format!(
        "role: pod\napi_server: https://user:pw-in-url@k8s.example:6443\nauthorization: {{credentials: {TOKEN}}}\n"
    ))
    .unwrap();
    let c = Connection::of(&sd);
    let text = format!("{sd:?} {c:#?}");
    assert!(!text.contains(TOKEN), "{text}");
    assert!(text.contains("<secret>"), "{text}");
    let bad = Connection {
        api_server: Some("https://user:pw-in-url@bad host:6443".into()),
        ..c
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let Err(err) = runtime.block_on(bad.connect()) else {
        panic!("a URL with a space must be refused")
    };
    let err = err.to_string();
    assert!(err.contains("user:xxxxx@bad host"), "{err}");
    assert!(!err.contains("pw-in-url") && !err.contains(TOKEN), "{err}");
}
