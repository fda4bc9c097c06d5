//! Shared helpers of the integration tests: a private CA issuing server and client certificates (rcgen), HTTPS
//! servers on 127.0.0.1 ephemeral ports, clients that trust the CA, and reading certificate serials.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use axum::Router;
use lookout_auth::{TlsReloader, serve_tls};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use tokio::sync::oneshot;

/// A private CA.
pub struct Pki {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate (PEM).
    pub ca_pem: String,
}

/// A certificate issued by a [`Pki`].
pub struct Issued {
    /// Certificate (PEM).
    pub cert_pem: String,
    /// Private key (PKCS#8 PEM).
    pub key_pem: String,
}

impl Issued {
    /// Certificate and key in one PEM, as reqwest's `Identity::from_pem` wants.
    pub fn identity(&self) -> reqwest::Identity {
        reqwest::Identity::from_pem(format!("{}{}", self.cert_pem, self.key_pem).as_bytes())
            .unwrap()
    }

    /// Writes `<name>.crt` and `<name>.key` into `dir`.
    pub fn write(&self, dir: &Path, name: &str) {
        std::fs::write(dir.join(format!("{name}.crt")), &self.cert_pem).unwrap();
        std::fs::write(dir.join(format!("{name}.key")), &self.key_pem).unwrap();
    }
}

impl Pki {
    /// A new CA named `name`.
    pub fn new(name: &str) -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Pki {
            ca_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A server certificate for 127.0.0.1 and localhost with `serial`.
    pub fn server(&self, serial: u64) -> Issued {
        self.issue(
            &["127.0.0.1", "localhost"],
            serial,
            ExtendedKeyUsagePurpose::ServerAuth,
        )
    }

    /// A client certificate with `sans`.
    pub fn client(&self, sans: &[&str]) -> Issued {
        self.issue(sans, 1000, ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn issue(&self, sans: &[&str], serial: u64, eku: ExtendedKeyUsagePurpose) -> Issued {
        let mut params =
            CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        params.serial_number = Some(SerialNumber::from(serial));
        params.extended_key_usages = vec![eku];
        params
            .distinguished_name
            .push(DnType::CommonName, sans.first().copied().unwrap_or("x"));
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// A running HTTPS server; dropping the handle's sender stops it.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Serves `router` with `tls` on an ephemeral 127.0.0.1 port.
    pub async fn start(router: Router, tls: TlsReloader) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(serve_tls(listener, router, tls, async move {
            let _ = rx.await;
        }));
        Server {
            addr,
            stop: Some(stop),
            task,
        }
    }

    /// `https://127.0.0.1:port/path`.
    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// Stops it and waits (bounded) for the accept loop to return.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        tokio::time::timeout(Duration::from_secs(20), &mut self.task)
            .await
            .expect("serve_tls returned after shutdown")
            .unwrap()
            .unwrap();
    }
}

/// A reqwest client trusting `ca_pem` only, presenting `identity` if given.
pub fn client(ca_pem: &str, identity: Option<reqwest::Identity>) -> reqwest::ClientBuilder {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .tls_info(true)
        .timeout(Duration::from_secs(10));
    if let Some(i) = identity {
        b = b.identity(i);
    }
    b
}

/// The serial of a DER certificate, as big-endian bytes without leading zeros.
pub fn serial(der: &[u8]) -> u64 {
    let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
    cert.raw_serial()
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

/// The serial of the certificate the server presented for a response.
pub fn served_serial(resp: &reqwest::Response) -> u64 {
    let info = resp
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .expect("tls_info enabled");
    serial(info.peer_certificate().expect("a server certificate"))
}

/// A router answering `ok` on `/`.
pub fn ok_router() -> Router {
    Router::new().route("/", axum::routing::get(|| async { "ok" }))
}
