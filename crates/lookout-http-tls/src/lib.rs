//! The TLS side of Lookout's HTTP clients (remote_write, Loki push, Alertmanager, webhooks): servers are verified
//! against the system's roots plus `tls_config.ca_file` (read by `lookout_model::http_client::tls_files`, so every
//! Lookout client trusts the same roots), with an optional client certificate; `insecure_skip_verify` leaves
//! verification off (handshake signatures are still checked); `server_name` verifies certificates against that
//! name instead of the host connected to. rustls only, no OpenSSL. (`lookout-model` has no TLS library, so this
//! lives here.) Used by every outgoing client: scrapes, Proxmox, Alertmanager, webhooks, remote_write, Loki push.

use std::sync::Arc;

use lookout_model::http_client::TlsConfig;
use lookout_model::http_client::tls_files::{self, TlsFileError};
use rustls::RootCertStore;

mod verifier;

/// A bad TLS setting: the field under `tls_config` and why.
pub type TlsFault = (&'static str, String);

fn fault(e: TlsFileError) -> TlsFault {
    (field(e.field), format!("{}: {}", e.path, e.reason))
}

fn field(name: &str) -> &'static str {
    match name {
        "ca_file" => "tls_config.ca_file",
        "cert_file" => "tls_config.cert_file",
        _ => "tls_config.key_file",
    }
}

/// The system's roots plus the certificates of `ca_file`. Certificates of the system store that rustls cannot use
/// are skipped (as Go does), those of `ca_file` are an error; with no system roots at all (a container without
/// `ca-certificates`) the bundled Mozilla roots stand in.
pub fn root_store(tls: &TlsConfig) -> Result<RootCertStore, TlsFault> {
    let trust = tls_files::trust_roots(tls.ca_file.as_deref()).map_err(fault)?;
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(trust.system.iter().cloned());
    if roots.is_empty() {
        tracing::warn!(
            "no system root certificates found (install ca-certificates); trusting the bundled Mozilla roots"
        );
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    let path = tls.ca_file.as_deref().unwrap_or_default();
    for cert in trust.configured {
        roots
            .add(cert)
            .map_err(|e| ("tls_config.ca_file", format!("{path}: {e}")))?;
    }
    Ok(roots)
}

/// The rustls client configuration of `tls`: the verifier of [`verifier`] and the client certificate when one is
/// configured. Reads the files (blocking: call when the client is built).
pub fn client_config(tls: &TlsConfig) -> Result<rustls::ClientConfig, TlsFault> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ("tls_config", e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier::server_verifier(tls, &provider)?);
    match (&tls.cert_file, &tls.key_file) {
        (Some(cert), Some(key)) => {
            let (certs, key) = tls_files::read_client_identity(cert, key).map_err(fault)?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| (field("cert_file"), format!("{cert}: {e}")))
        }
        _ => Ok(builder.with_no_client_auth()),
    }
}

/// Sets up `builder`'s TLS from `tls` (reads the files: call when the client is built).
pub fn apply(
    builder: reqwest::ClientBuilder,
    tls: &TlsConfig,
) -> Result<reqwest::ClientBuilder, TlsFault> {
    Ok(builder.use_preconfigured_tls(client_config(tls)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_ca_is_added_and_a_bad_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, cert.cert.pem()).unwrap();
        let without = root_store(&TlsConfig::default()).unwrap().len();
        let tls = TlsConfig {
            ca_file: Some(ca.display().to_string()),
            ..TlsConfig::default()
        };
        assert_eq!(root_store(&tls).unwrap().len(), without + 1);
        assert!(
            apply(reqwest::Client::builder(), &tls)
                .unwrap()
                .build()
                .is_ok()
        );
        let missing = TlsConfig {
            ca_file: Some(dir.path().join("nope.pem").display().to_string()),
            ..TlsConfig::default()
        };
        let (field, reason) = root_store(&missing).unwrap_err();
        assert_eq!(field, "tls_config.ca_file");
        assert!(reason.contains("nope.pem"), "{reason}");
    }
}
