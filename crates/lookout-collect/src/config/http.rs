//! HTTP client settings of a scrape job: authentication and TLS, with Prometheus's field names.

use super::ConfigError;

pub use lookout_model::http_client::{Authorization, BasicAuth, Secret, TlsConfig};

/// Checks the authentication settings of one job; `path` is the job's field path.
pub(crate) fn validate_auth(
    path: &str,
    basic_auth: Option<&BasicAuth>,
    authorization: Option<&Authorization>,
    bearer_token: Option<&str>,
    bearer_token_file: Option<&str>,
) -> Result<(), ConfigError> {
    lookout_model::http_client::check_auth(
        basic_auth,
        authorization,
        bearer_token,
        bearer_token_file,
    )
    .map_err(|f| ConfigError::field(path, f.field, f.reason))
}

/// Checks one job's `tls_config`.
pub(crate) fn validate_tls(tls: &TlsConfig, path: &str) -> Result<(), ConfigError> {
    lookout_model::http_client::check_tls(tls)
        .map_err(|f| ConfigError::field(path, f.field, f.reason))
}
