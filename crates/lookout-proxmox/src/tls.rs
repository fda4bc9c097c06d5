//! The rustls client settings of a module's `tls_config`. PVE serves a certificate signed by its cluster CA
//! (`/etc/pve/pve-root-ca.pem`), so users either add that CA with `ca_file` (trusted in addition to the system's
//! roots, see `lookout_model::http_client::tls_files`), use a publicly trusted (ACME) certificate, or turn
//! verification off with `insecure_skip_verify`, upstream's `verify_ssl: false`.

use lookout_model::http_client::TlsConfig;

/// Why the TLS settings cannot be used: the field and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tls_config.{field}: {reason}")]
pub struct TlsError {
    /// `ca_file`, `cert_file`, `key_file` or `server_name`.
    pub field: &'static str,
    /// What went wrong (with the path where there is one).
    pub reason: String,
}

/// The system's roots plus the certificates of `ca_file`, as every outgoing client of Lookout trusts them
/// (`lookout_http_tls::root_store`).
#[cfg(test)]
fn roots(tls: &TlsConfig) -> Result<rustls::RootCertStore, TlsError> {
    lookout_http_tls::root_store(tls).map_err(fault)
}

/// Builds the rustls client configuration (`lookout_http_tls::client_config`: the shared roots, verifiers and
/// client certificate); reads `ca_file`, `cert_file` and `key_file` (blocking file I/O: call at configuration
/// time, not on the async runtime).
pub fn client_config(tls: &TlsConfig) -> Result<rustls::ClientConfig, TlsError> {
    lookout_http_tls::client_config(tls).map_err(fault)
}

/// A shared TLS fault as this crate's error (the field without its `tls_config.` prefix).
fn fault((field, reason): lookout_http_tls::TlsFault) -> TlsError {
    TlsError {
        field: field.strip_prefix("tls_config.").unwrap_or(field),
        reason,
    }
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
