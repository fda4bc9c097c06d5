//! Trust material for outgoing TLS, read the same way by every client: the system's root certificates (read once
//! per process with `rustls-native-certs`: `SSL_CERT_FILE`/`SSL_CERT_DIR` when set, else the distribution's bundle,
//! on Debian `/etc/ssl/certs/ca-certificates.crt` from the `ca-certificates` package) plus the certificates of
//! `tls_config.ca_file`, and the client certificate and key.
//!
//! Lookout trusts the system roots *plus* a configured CA, where Prometheus trusts only the CA file when one is
//! given: a CA file then adds a private CA (a Proxmox cluster's, an internal PKI) without cutting off targets that
//! present publicly trusted certificates. Only PEM parsing lives here; the crates that make requests turn these
//! certificates into a rustls root store, so this crate needs no TLS library.
//!
//! These functions read files: call them when a client is built (configuration time), not on the async runtime.

use std::sync::{Arc, OnceLock};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// A `tls_config` file could not be used: which field, which file and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tls_config.{field} {path}: {reason}")]
pub struct TlsFileError {
    /// `ca_file`, `cert_file` or `key_file`.
    pub field: &'static str,
    /// The file as configured.
    pub path: String,
    /// What is wrong with it.
    pub reason: String,
}

/// The system's root certificates, as read once for the process.
#[derive(Debug)]
pub struct SystemRoots {
    /// The certificates found (possibly none, e.g. in a container without `ca-certificates`).
    pub certs: Arc<[CertificateDer<'static>]>,
    /// Problems met while reading the store (unreadable files), for a log line.
    pub errors: Vec<String>,
}

/// The system's root certificates, read on first use and kept for the life of the process (as Go does).
pub fn system_roots() -> &'static SystemRoots {
    static ROOTS: OnceLock<SystemRoots> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        SystemRoots {
            certs: found.certs.into(),
            errors: found.errors.iter().map(|e| e.to_string()).collect(),
        }
    })
}

/// The certificates a client trusts for `ca_file`: the system's roots, and the configured CA's certificates (kept
/// apart so a bad CA file is an error while an odd certificate in the system store is merely skipped).
#[derive(Debug, Clone)]
pub struct TrustRoots {
    /// The system's roots.
    pub system: Arc<[CertificateDer<'static>]>,
    /// The certificates of `ca_file`, empty when it is not set.
    pub configured: Vec<CertificateDer<'static>>,
}

/// The system's roots plus the certificates of `ca_file` when it is set. A `ca_file` that cannot be read or
/// holds no PEM certificate is an error.
pub fn trust_roots(ca_file: Option<&str>) -> Result<TrustRoots, TlsFileError> {
    let configured = match ca_file {
        Some(path) => read_ca_file(path)?,
        None => Vec::new(),
    };
    Ok(TrustRoots {
        system: system_roots().certs.clone(),
        configured,
    })
}

/// The PEM certificates of a CA file; at least one.
pub fn read_ca_file(path: &str) -> Result<Vec<CertificateDer<'static>>, TlsFileError> {
    let pem = read("ca_file", path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error("ca_file", path, e))?;
    if certs.is_empty() {
        return Err(error("ca_file", path, "no PEM certificate found"));
    }
    Ok(certs)
}

/// The client certificate chain of `cert_file` and the private key of `key_file` (PKCS#8, PKCS#1 or SEC1 PEM).
pub fn read_client_identity(
    cert_file: &str,
    key_file: &str,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsFileError> {
    let cert_pem = read("cert_file", cert_file)?;
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error("cert_file", cert_file, e))?;
    if certs.is_empty() {
        return Err(error("cert_file", cert_file, "no PEM certificate found"));
    }
    let key_pem = read("key_file", key_file)?;
    // The error names the file only: a key parser's message could quote key material.
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|_| error("key_file", key_file, "no PEM private key found"))?;
    Ok((certs, key))
}

fn read(field: &'static str, path: &str) -> Result<Vec<u8>, TlsFileError> {
    std::fs::read(path).map_err(|e| error(field, path, e))
}

fn error(field: &'static str, path: &str, reason: impl std::fmt::Display) -> TlsFileError {
    TlsFileError {
        field,
        path: path.to_string(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    /// Needs the system store: Debian's `ca-certificates` package (installed on the CI image).
    #[test]
    #[ignore = "needs the system root store, Debian's ca-certificates (installed by .ci/run)"]
    fn the_system_roots_are_loaded() {
        let roots = system_roots();
        assert!(
            roots.certs.len() > 10,
            "no system roots found ({:?}); install the ca-certificates package",
            roots.errors
        );
        let trust = trust_roots(None).unwrap();
        assert_eq!(trust.system.len(), roots.certs.len());
        assert!(trust.configured.is_empty());
    }

    #[test]
    fn a_ca_file_is_added_to_the_system_roots() {
        let dir = tempfile::tempdir().unwrap();
        let ca = rcgen::generate_simple_self_signed(vec!["ca.test".into()]).unwrap();
        let other = rcgen::generate_simple_self_signed(vec!["other.test".into()]).unwrap();
        let bundle = format!("{}{}", ca.cert.pem(), other.cert.pem());
        let path = write(&dir, "ca.pem", &bundle);
        let trust = trust_roots(Some(&path)).unwrap();
        assert_eq!(trust.configured.len(), 2);
        assert_eq!(trust.configured[0].as_ref(), ca.cert.der().as_ref());
        assert_eq!(trust.system.len(), system_roots().certs.len());
    }

    #[test]
    fn bad_ca_files_name_the_field_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem").display().to_string();
        let e = trust_roots(Some(&missing)).unwrap_err();
        assert_eq!(e.field, "ca_file");
        assert!(
            e.to_string()
                .starts_with(&format!("tls_config.ca_file {missing}: ")),
            "{e}"
        );
        let empty = write(&dir, "empty.pem", "not a certificate\n");
        let e = read_ca_file(&empty).unwrap_err();
        assert_eq!(e.reason, "no PEM certificate found");
    }

    #[test]
    fn client_identity_is_read_and_key_errors_quote_no_key_material() {
        let dir = tempfile::tempdir().unwrap();
        let id = rcgen::generate_simple_self_signed(vec!["client.test".into()]).unwrap();
        let cert = write(&dir, "c.pem", &id.cert.pem());
        let key = write(&dir, "k.pem", &id.signing_key.serialize_pem());
        let (chain, _key) = read_client_identity(&cert, &key).unwrap();
        assert_eq!(chain.len(), 1);
        // A key file holding something else: the error names the file, never its contents.
        let wrong = write(
            &dir,
            "wrong.pem",
            "-----BEGIN SECRET-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END SECRET-----\n",
        );
        let e = read_client_identity(&cert, &wrong).unwrap_err();
        assert_eq!(e.field, "key_file");
        assert!(!e.to_string().contains("c2VjcmV0"), "{e}");
        let e = read_client_identity(&key, &key).unwrap_err();
        assert_eq!(e.field, "cert_file");
    }
}
