//! The rustls client configuration of a job's `tls_config`: trust roots (`ca_file` or the bundled Mozilla roots),
//! a client certificate, `insecure_skip_verify`, and `server_name` (certificates are verified against that name
//! instead of the target's host).

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::error::ScrapeError;
use crate::config::TlsConfig;

fn client_error(field: &str, path: &str, reason: impl std::fmt::Display) -> ScrapeError {
    ScrapeError::Client(format!("tls_config.{field} {path}: {reason}"))
}

fn read(field: &'static str, path: &str) -> Result<Vec<u8>, ScrapeError> {
    std::fs::read(path).map_err(|e| ScrapeError::Credentials {
        what: field,
        path: path.to_string(),
        reason: e.to_string(),
    })
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
    let mut roots = RootCertStore::empty();
    match &tls.ca_file {
        Some(path) => {
            let pem = read("tls_config.ca_file", path)?;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| client_error("ca_file", path, e))?;
                roots
                    .add(cert)
                    .map_err(|e| client_error("ca_file", path, e))?;
            }
            if roots.is_empty() {
                return Err(client_error("ca_file", path, "no PEM certificate found"));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
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
            let cert_pem = read("tls_config.cert_file", cert_path)?;
            let certs = CertificateDer::pem_slice_iter(&cert_pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| client_error("cert_file", cert_path, e))?;
            let key_pem = read("tls_config.key_file", key_path)?;
            let key = PrivateKeyDer::from_pem_slice(&key_pem)
                .map_err(|e| client_error("key_file", key_path, e))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| client_error("cert_file", cert_path, e))
        }
        _ => Ok(builder.with_no_client_auth()),
    }
}
