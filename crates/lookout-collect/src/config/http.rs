//! HTTP client settings of a scrape job: authentication and TLS, with Prometheus's field names.

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// `basic_auth`: a username and a password given inline or read from a file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// The user name.
    pub username: String,
    /// The password, inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// A file whose contents (trailing newline trimmed) are the password, read at each scrape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<String>,
}

fn default_auth_type() -> String {
    "Bearer".to_string()
}

/// `authorization`: an `Authorization: <type> <credentials>` header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    /// The scheme; default `Bearer`.
    #[serde(default = "default_auth_type", rename = "type")]
    pub kind: String,
    /// The credentials, inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    /// A file holding the credentials, read at each scrape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<String>,
}

/// `tls_config`: trust and client identity for `https` targets.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM CA bundle used instead of the built-in roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// PEM client certificate (with `key_file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<String>,
    /// PEM client key (with `cert_file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<String>,
    /// Name the server certificate must carry, instead of the target host. Lookout verifies against it; the SNI
    /// sent is still the target host (none for an IP address), unlike Prometheus, which also sends it as SNI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// Accept any server certificate.
    #[serde(default)]
    pub insecure_skip_verify: bool,
}

/// Checks the authentication settings of one job; `path` is the job's field path.
pub(crate) fn validate_auth(
    path: &str,
    basic_auth: Option<&BasicAuth>,
    authorization: Option<&Authorization>,
    bearer_token: Option<&str>,
    bearer_token_file: Option<&str>,
) -> Result<(), ConfigError> {
    let set = [
        basic_auth.is_some(),
        authorization.is_some(),
        bearer_token.is_some() || bearer_token_file.is_some(),
    ];
    if set.iter().filter(|&&b| b).count() > 1 {
        return Err(ConfigError::field(
            path,
            "authorization",
            "at most one of basic_auth, authorization and bearer_token/bearer_token_file may be set",
        ));
    }
    if bearer_token.is_some() && bearer_token_file.is_some() {
        return Err(ConfigError::field(
            path,
            "bearer_token_file",
            "bearer_token and bearer_token_file are mutually exclusive",
        ));
    }
    if let Some(b) = basic_auth {
        if b.username.is_empty() {
            return Err(ConfigError::field(
                path,
                "basic_auth.username",
                "must not be empty",
            ));
        }
        if b.password.is_some() && b.password_file.is_some() {
            return Err(ConfigError::field(
                path,
                "basic_auth.password_file",
                "password and password_file are mutually exclusive",
            ));
        }
    }
    if let Some(a) = authorization {
        if a.kind.eq_ignore_ascii_case("basic") {
            return Err(ConfigError::field(
                path,
                "authorization.type",
                "can not be \"Basic\", use basic_auth instead",
            ));
        }
        if a.kind.is_empty() || a.kind.contains(char::is_whitespace) {
            return Err(ConfigError::field(
                path,
                "authorization.type",
                "must be a single word such as Bearer",
            ));
        }
        if a.credentials.is_some() && a.credentials_file.is_some() {
            return Err(ConfigError::field(
                path,
                "authorization.credentials_file",
                "credentials and credentials_file are mutually exclusive",
            ));
        }
    }
    Ok(())
}

impl TlsConfig {
    pub(crate) fn validate(&self, path: &str) -> Result<(), ConfigError> {
        if self.cert_file.is_some() != self.key_file.is_some() {
            return Err(ConfigError::field(
                path,
                "tls_config.key_file",
                "cert_file and key_file must be set together",
            ));
        }
        if self.server_name.as_ref().is_some_and(String::is_empty) {
            return Err(ConfigError::field(
                path,
                "tls_config.server_name",
                "must not be empty when set",
            ));
        }
        Ok(())
    }
}
