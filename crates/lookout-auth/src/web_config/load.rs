//! Loading a web config file: the file itself, then the certificate, key and client CA files it names, into a
//! ready [`rustls::ServerConfig`]. Every file read is stamped, so the watcher knows exactly what to poll.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;

use super::WebConfig;
use crate::error::WebConfigError;
use crate::file_stamp::{Stamps, read_stamped, stamp};
use crate::tls::{BuiltTls, build_server_config};

/// A web config file with everything it names loaded.
#[derive(Debug, Clone)]
pub struct LoadedWebConfig {
    /// The parsed file.
    pub config: WebConfig,
    /// The TLS configuration, when the file turns HTTPS on.
    pub tls: Option<Arc<ServerConfig>>,
    /// The serving certificate's `notAfter` (Unix seconds), when TLS is on.
    pub certificate_not_after: Option<i64>,
    /// The serving certificate's serial number (big-endian bytes), when TLS is on.
    pub certificate_serial: Option<Vec<u8>>,
}

/// Reads and checks the web config file at `path` and every file it names; blocking (call it off the async
/// runtime, or at startup).
pub fn load(path: &Path) -> Result<LoadedWebConfig, WebConfigError> {
    load_stamped(path).0
}

/// [`load`], also returning the stamps of every file involved (also on failure, so that a fix is noticed).
pub(crate) fn load_stamped(path: &Path) -> (Result<LoadedWebConfig, WebConfigError>, Stamps) {
    let mut stamps: Stamps = Vec::new();
    let result = load_into(path, &mut stamps);
    (result, stamps)
}

fn load_into(path: &Path, stamps: &mut Stamps) -> Result<LoadedWebConfig, WebConfigError> {
    let bytes = match read_stamped(path) {
        Ok((bytes, s)) => {
            stamps.push((path.to_path_buf(), Some(s)));
            bytes
        }
        Err(e) => {
            stamps.push((path.to_path_buf(), None));
            return Err(WebConfigError::new(path, None, format!("cannot read: {e}")));
        }
    };
    let text =
        String::from_utf8(bytes).map_err(|_| WebConfigError::new(path, None, "not UTF-8 text"))?;
    let config = WebConfig::parse(&text, path)?;
    let tls_section = &config.tls_server_config;
    if !tls_section.is_enabled() {
        return Ok(LoadedWebConfig {
            config,
            tls: None,
            certificate_not_after: None,
            certificate_serial: None,
        });
    }
    // Stamp every named file up front, so a file that is missing now is watched for its appearance.
    for f in [
        &tls_section.cert_file,
        &tls_section.key_file,
        &tls_section.client_ca_file,
    ] {
        if !f.is_empty() {
            stamps.push((f.into(), stamp(Path::new(f))));
        }
    }
    let BuiltTls {
        config: server_config,
        not_after,
        serial,
    } = build_server_config(tls_section, config.http_server_config.http2, path)?;
    Ok(LoadedWebConfig {
        config,
        tls: Some(Arc::new(server_config)),
        certificate_not_after: not_after,
        certificate_serial: serial,
    })
}
