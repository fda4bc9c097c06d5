//! A webhook over HTTPS with a test CA: trusted through `ca_file` in addition to the system's roots, refused
//! without it with a clear error; and no credential or webhook URL in `Debug` output or failure messages.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use lookout_model::http_client::TlsConfig;

use super::*;
use crate::webhook::config::WebhookConfig;
use crate::webhook::deliver::Integration;

const PASSWORD: &str = "pa55-webhook";
const URL_TOKEN: &str = "T0KEN-IN-PATH";

/// An HTTPS server for 127.0.0.1 answering 200 to every request; returns its address and certificate PEM.
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
                // Read the head and a body of up to a few kB (the test bodies are tiny).
                let deadline = Instant::now() + Duration::from_secs(2);
                while !request.windows(4).any(|w| w == b"\r\n\r\n") && Instant::now() < deadline {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
                let _ = tls.write_all(reply.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (addr, pem)
}

fn webhook(url: &str, ca_file: Option<&str>) -> WebhookConfig {
    let yaml = format!(
        "url: '{url}'\nhttp_config:\n  basic_auth: {{username: u, password: {PASSWORD}}}\n  tls_config: {{{}}}\n",
        ca_file
            .map(|f| format!("ca_file: '{f}'"))
            .unwrap_or_default()
    );
    serde_yaml_ng::from_str(&yaml).unwrap()
}

async fn deliver(config: WebhookConfig) -> Result<(), String> {
    let integration = Integration::new("r", 0, config, "receivers[0].webhook_configs[0]")
        .map_err(|e| e.to_string())?;
    let text = format!("{integration:?}");
    assert!(
        !text.contains(PASSWORD) && !text.contains(URL_TOKEN),
        "{text}"
    );
    integration
        .deliver(b"{}", Instant::now() + Duration::from_millis(300))
        .await
}

#[test]
#[ignore = "needs the system root store, Debian's ca-certificates (installed by .ci/run)"]
fn clients_trust_the_system_roots_plus_their_ca_file() {
    let system = root_store(&TlsConfig::default()).unwrap();
    assert!(system.len() > 10, "{} system roots", system.len());
    let dir = tempfile::tempdir().unwrap();
    let ca = rcgen::generate_simple_self_signed(vec!["am.test".into()]).unwrap();
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, ca.cert.pem()).unwrap();
    let tls = TlsConfig {
        ca_file: Some(path.display().to_string()),
        ..TlsConfig::default()
    };
    assert_eq!(root_store(&tls).unwrap().len(), system.len() + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_over_https_is_trusted_through_its_ca_file() {
    let (addr, pem) = serve_tls().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pem).unwrap();
    let url = format!("https://{addr}/hooks/{URL_TOKEN}");

    deliver(webhook(&url, Some(&ca.display().to_string())))
        .await
        .unwrap();

    let err = deliver(webhook(&url, None)).await.unwrap_err();
    assert!(err.contains("UnknownIssuer"), "{err}");
    assert!(!err.contains(URL_TOKEN) && !err.contains(PASSWORD), "{err}");

    // A closed port: the error says why, without the URL's token.
    let err = deliver(webhook(
        &format!("http://127.0.0.1:1/hooks/{URL_TOKEN}"),
        None,
    ))
    .await
    .unwrap_err();
    assert!(err.to_lowercase().contains("connect"), "{err}");
    assert!(!err.contains(URL_TOKEN) && !err.contains(PASSWORD), "{err}");

    let err = deliver(webhook(&url, Some("/nonexistent/ca.pem")))
        .await
        .unwrap_err();
    assert!(
        err.contains("http_config.tls_config.ca_file") && err.contains("/nonexistent/ca.pem"),
        "{err}"
    );
}

#[test]
fn configuration_errors_and_debug_output_hold_no_secret() {
    let bad: Result<crate::webhook::config::WebhookNotifierConfig, _> =
        crate::webhook::config::WebhookNotifierConfig::from_yaml(&format!(
            "route: {{receiver: r}}\nreceivers:\n  - name: r\n    webhook_configs: [{{url: 'hooks/{URL_TOKEN}'}}]\n"
        ));
    let err = bad.unwrap_err().to_string();
    assert!(err.contains("url") && !err.contains(URL_TOKEN), "{err}");
    let config = webhook(&format!("https://h/{URL_TOKEN}"), None);
    let text = format!("{config:?} {config:#?}");
    assert!(
        !text.contains(URL_TOKEN) && !text.contains(PASSWORD),
        "{text}"
    );
    let http: crate::HttpClientConfig =
        serde_yaml_ng::from_str(&format!("bearer_token: {PASSWORD}\n")).unwrap();
    assert!(!format!("{http:?}").contains(PASSWORD));
}
