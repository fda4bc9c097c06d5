//! The rustls client configuration of a job's `tls_config`: trust roots (the system's roots plus `ca_file`, see
//! `lookout_model::http_client::tls_files`), a client certificate, `insecure_skip_verify`, and `server_name`
//! (certificates are verified against that name instead of the target's host).

use std::sync::{Arc, OnceLock};

use lookout_model::http_client::tls_files::{self, TlsFileError};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::error::ScrapeError;
use crate::config::TlsConfig;

fn client_error(field: &str, path: &str, reason: impl std::fmt::Display) -> ScrapeError {
    ScrapeError::Client(format!("tls_config.{field} {path}: {reason}"))
}

fn file_error(e: TlsFileError) -> ScrapeError {
    ScrapeError::Client(e.to_string())
}

/// The system's roots, shared by every job without a `ca_file`. When the system has none (a container without
/// `ca-certificates`), the bundled Mozilla roots stand in so `https` targets with public certificates still work.
fn system_store() -> Arc<RootCertStore> {
    static STORE: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    STORE
        .get_or_init(|| {
            let system = tls_files::system_roots();
            let mut store = RootCertStore::empty();
            // Odd certificates in a system store are skipped, as Go does.
            store.add_parsable_certificates(system.certs.iter().cloned());
            if store.is_empty() {
                tracing::warn!(
                    errors = ?system.errors,
                    "no system root certificates found (install ca-certificates); trusting the bundled Mozilla roots"
                );
                store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
            Arc::new(store)
        })
        .clone()
}

/// The system's roots plus the certificates of `ca_file`; a certificate of `ca_file` that rustls cannot use is an
/// error.
pub(crate) fn root_store(tls: &TlsConfig) -> Result<Arc<RootCertStore>, ScrapeError> {
    let Some(path) = &tls.ca_file else {
        return Ok(system_store());
    };
    let configured = tls_files::read_ca_file(path).map_err(file_error)?;
    let mut store = (*system_store()).clone();
    for cert in configured {
        store
            .add(cert)
            .map_err(|e| client_error("ca_file", path, e))?;
    }
    Ok(Arc::new(store))
}

/// Verifies the chain as usual but against a configured name rather than the one from the URL.
#[derive(Debug)]
struct ServerNameOverride {
    inner: Arc<WebPkiServerVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for ServerNameOverride {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _url_name: &ServerName<'_>,
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

/// `insecure_skip_verify`: any certificate is accepted, but handshake signatures are still checked so the
/// connection is at least consistent with the certificate presented.
#[derive(Debug)]
struct AcceptAnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyCertificate {
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

fn verifier(
    tls: &TlsConfig,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, ScrapeError> {
    if tls.insecure_skip_verify {
        return Ok(Arc::new(AcceptAnyCertificate {
            algorithms: provider.signature_verification_algorithms,
        }));
    }
    let webpki = WebPkiServerVerifier::builder_with_provider(root_store(tls)?, provider.clone())
        .build()
        .map_err(|e| ScrapeError::Client(format!("tls_config: {e}")))?;
    match &tls.server_name {
        Some(name) => {
            let name = ServerName::try_from(name.clone())
                .map_err(|e| client_error("server_name", name, e))?;
            Ok(Arc::new(ServerNameOverride {
                inner: webpki,
                name,
            }))
        }
        None => Ok(webpki),
    }
}

/// Builds the client TLS configuration for a job.
pub(crate) fn client_config(tls: &TlsConfig) -> Result<rustls::ClientConfig, ScrapeError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ScrapeError::Client(format!("tls: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier(tls, &provider)?);
    match (&tls.cert_file, &tls.key_file) {
        (Some(cert_path), Some(key_path)) => {
            let (certs, key) =
                tls_files::read_client_identity(cert_path, key_path).map_err(file_error)?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| client_error("cert_file", cert_path, e))
        }
        _ => Ok(builder.with_no_client_auth()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Needs the system store (Debian's `ca-certificates`, installed on the CI image).
    #[test]
    #[ignore = "needs the system root store, Debian's ca-certificates (installed by .ci/run)"]
    fn jobs_trust_the_system_roots_plus_their_ca_file() {
        let system = root_store(&TlsConfig::default()).unwrap();
        assert!(system.len() > 10, "{} system roots", system.len());
        // Only certificates rustls cannot parse are skipped.
        assert!(system.len() <= tls_files::system_roots().certs.len());
        let dir = tempfile::tempdir().unwrap();
        let ca = rcgen::generate_simple_self_signed(vec!["ca.test".into()]).unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, ca.cert.pem()).unwrap();
        let tls = TlsConfig {
            ca_file: Some(path.display().to_string()),
            ..TlsConfig::default()
        };
        assert_eq!(root_store(&tls).unwrap().len(), system.len() + 1);
        let missing = TlsConfig {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..TlsConfig::default()
        };
        let e = root_store(&missing).unwrap_err().to_string();
        assert!(e.contains("tls_config.ca_file /nonexistent/ca.pem"), "{e}");
    }
}
