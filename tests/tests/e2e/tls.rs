//! HTTPS through the appliance: the web config file's `tls_server_config` (certificate, key, client CA with
//! `RequireAndVerifyClientCert`) turns the listener into TLS; a client trusting the CA with a client certificate
//! is served, one without the certificate, one trusting another CA and plain HTTP are refused, and failed
//! handshakes are counted.

use std::time::Duration;

use lookout_e2e::Lookout;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        Ca {
            issuer: Issuer::new(params, key),
            pem,
        }
    }

    /// (certificate PEM, key PEM) for `sans` with `usage`.
    fn issue(&self, sans: &[&str], usage: ExtendedKeyUsagePurpose) -> (String, String) {
        let mut params =
            CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        params.extended_key_usages = vec![usage];
        params.distinguished_name.push(DnType::CommonName, sans[0]);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

fn client(ca_pem: &str, identity: Option<(&str, &str)>) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .timeout(Duration::from_secs(10));
    if let Some((cert, key)) = identity {
        b = b.identity(reqwest::Identity::from_pem(format!("{cert}{key}").as_bytes()).unwrap());
    }
    b.build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_config_file_turns_on_https_with_client_certificates() {
    let ca = Ca::new("lookout-test-ca");
    let other = Ca::new("someone-else");
    let (server_cert, server_key) = ca.issue(
        &["127.0.0.1", "localhost"],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let (client_cert, client_key) = ca.issue(&["grafana"], ExtendedKeyUsagePurpose::ClientAuth);
    let web = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  min_version: TLS12\n";
    let config = "scrape_configs: []\nserver:\n  web_config_file: web.yml\n";
    let lo = Lookout::start_with_files(
        Some(config),
        &[
            ("web.yml", web),
            ("server.crt", &server_cert),
            ("server.key", &server_key),
            ("ca.crt", &ca.pem),
        ],
    )
    .await;
    let https = format!("https://{}", lo.server.addr);

    let good = client(&ca.pem, Some((&client_cert, &client_key)));
    let r = good.get(format!("{https}/-/healthy")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = good
        .get(format!("{https}/api/v1/query?query=vector(1)"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let no_cert = client(&ca.pem, None);
    assert!(
        no_cert
            .get(format!("{https}/-/healthy"))
            .send()
            .await
            .is_err(),
        "a client without a certificate must be refused"
    );
    let wrong_ca = client(&other.pem, Some((&client_cert, &client_key)));
    let e = wrong_ca
        .get(format!("{https}/-/healthy"))
        .send()
        .await
        .expect_err("a client trusting another CA must not accept the server");
    assert!(
        format!("{e:?}").to_lowercase().contains("certificate"),
        "{e:?}"
    );
    let plain = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let r = plain
        .get(format!("http://{}/-/healthy", lo.server.addr))
        .send()
        .await;
    assert!(
        r.map(|r| r.status() != 200).unwrap_or(true),
        "plain HTTP must not be served on the TLS port"
    );

    let metrics = good
        .get(format!("{https}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let failures: f64 = metrics
        .lines()
        .find(|l| l.starts_with("lookout_http_tls_handshake_failures_total "))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .expect("lookout_http_tls_handshake_failures_total");
    assert!(failures >= 2.0, "handshake failures counted: {failures}");
    lo.server.stop().await.unwrap();
}
