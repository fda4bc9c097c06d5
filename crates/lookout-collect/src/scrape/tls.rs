//! The rustls client configuration of a job's `tls_config`: trust roots (the system's roots plus `ca_file`, see
//! `lookout_model::http_client::tls_files`), a client certificate, `insecure_skip_verify`, and `server_name`
//! (certificates are verified against that name instead of the target's host).

use super::error::ScrapeError;
use crate::config::TlsConfig;

/// The system's roots plus the certificates of `ca_file` (`lookout_http_tls::root_store`).
#[cfg(test)]
fn root_store(tls: &TlsConfig) -> Result<rustls::RootCertStore, ScrapeError> {
    lookout_http_tls::root_store(tls).map_err(fault)
}

/// Builds the client TLS configuration for a job (`lookout_http_tls::client_config`: the roots every outgoing
/// client trusts, `insecure_skip_verify`, `server_name`, the client certificate).
pub(crate) fn client_config(tls: &TlsConfig) -> Result<rustls::ClientConfig, ScrapeError> {
    lookout_http_tls::client_config(tls).map_err(fault)
}

fn fault((field, reason): lookout_http_tls::TlsFault) -> ScrapeError {
    ScrapeError::Client(format!("{field} {reason}"))
}

#[cfg(test)]
mod tests {
    use lookout_model::http_client::tls_files;

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
