//! The rustls client settings of a module's `tls_config`. PVE serves a certificate signed by its cluster CA
//! (`/etc/pve/pve-root-ca.pem`), so users either add that CA with `ca_file` (trusted in addition to the system's
//! roots, see `lookout_model::http_client::tls_files`), use a publicly trusted (ACME) certificate, or turn
//! verification off with `insecure_skip_verify`, upstream's `verify_ssl: false`.

use std::sync::Arc;

use lookout_model::http_client::TlsConfig;
use lookout_model::http_client::tls_files::{self, TlsFileError};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

/// Why the TLS settings cannot be used: the field and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tls_config.{field}: {reason}")]
pub struct TlsError {
    /// `ca_file`, `cert_file`, `key_file` or `server_name`.
    pub field: &'static str,
    /// What went wrong (with the path where there is one).
    pub reason: String,
}

fn tls_error(field: &'static str, reason: impl std::fmt::Display) -> TlsError {
    TlsError {
        field,
        reason: reason.to_string(),
    }
}

fn file_error(e: TlsFileError) -> TlsError {
    tls_error(e.field, format!("{}: {}", e.path, e.reason))
}

/// Accepts any server certificate (`insecure_skip_verify`) but still checks handshake signatures against it.
#[derive(Debug)]
struct AnyServerCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AnyServerCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Verifies the chain normally, but against `server_name` instead of the host connected to.
#[derive(Debug)]
struct FixedServerName {
    inner: Arc<WebPkiServerVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for FixedServerName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The system's roots plus the certificates of `ca_file`, as every outgoing client of Lookout trusts them
/// (`lookout_http_tls::root_store`).
pub(crate) fn roots(tls: &TlsConfig) -> Result<RootCertStore, TlsError> {
    lookout_http_tls::root_store(tls).map_err(|(field, reason)| {
        tls_error(field.strip_prefix("tls_config.").unwrap_or(field), reason)
    })
}

fn verifier(
    tls: &TlsConfig,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, TlsError> {
    if tls.insecure_skip_verify {
        return Ok(Arc::new(AnyServerCertificate {
            algorithms: provider.signature_verification_algorithms,
        }));
    }
    let webpki =
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots(tls)?), provider.clone())
            .build()
            .map_err(|e| tls_error("ca_file", e))?;
    match &tls.server_name {
        Some(name) => Ok(Arc::new(FixedServerName {
            inner: webpki,
            name: ServerName::try_from(name.clone()).map_err(|e| tls_error("server_name", e))?,
        })),
        None => Ok(webpki),
    }
}

/// Builds the rustls client configuration; reads `ca_file`, `cert_file` and `key_file` (blocking file I/O: call
/// at configuration time, not on the async runtime).
pub fn client_config(tls: &TlsConfig) -> Result<rustls::ClientConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error("ca_file", e))?
        .dangerous()
        .with_custom_certificate_verifier(verifier(tls, &provider)?);
    let (Some(cert_path), Some(key_path)) = (&tls.cert_file, &tls.key_file) else {
        return Ok(builder.with_no_client_auth());
    };
    let (certs, key) = tls_files::read_client_identity(cert_path, key_path).map_err(file_error)?;
    builder
        .with_client_auth_cert(certs, key)
        .map_err(|e| tls_error("cert_file", format!("{cert_path}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Needs the system store (Debian's `ca-certificates`, installed on the CI image).
    #[test]
    #[ignore = "needs the system root store, Debian's ca-certificates (installed by .ci/run)"]
    fn modules_trust_the_system_roots_plus_their_ca_file() {
        let system = roots(&TlsConfig::default()).unwrap();
        assert!(system.len() > 10, "{} system roots", system.len());
        let dir = tempfile::tempdir().unwrap();
        let ca = rcgen::generate_simple_self_signed(vec!["pve.test".into()]).unwrap();
        let path = dir.path().join("pve-root-ca.pem");
        std::fs::write(&path, ca.cert.pem()).unwrap();
        let tls = TlsConfig {
            ca_file: Some(path.display().to_string()),
            ..TlsConfig::default()
        };
        assert_eq!(roots(&tls).unwrap().len(), system.len() + 1);
        let missing = TlsConfig {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..TlsConfig::default()
        };
        let e = client_config(&missing).unwrap_err();
        assert_eq!(e.field, "ca_file");
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
    }
}
