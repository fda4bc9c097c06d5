//! Prometheus's HTTP client settings vocabulary (`basic_auth`, `authorization`, `tls_config`), shared by every
//! outgoing client (scrape jobs, Alertmanagers, webhooks), with the checks Prometheus applies to them. How a client
//! is built from them belongs to the crate that makes the requests.

use serde::{Deserialize, Serialize};

/// `basic_auth`: a user name and a password given inline or read from a file at each request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// The user name.
    pub username: String,
    /// The password, inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// A file whose contents (trailing newline trimmed) are the password, read at each request.
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
    /// A file holding the credentials, read at each request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<String>,
}

/// `tls_config`: which servers to trust and which client certificate to present.
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
    /// Name the server certificate must carry, instead of the host connected to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// Accept any server certificate.
    #[serde(default)]
    pub insecure_skip_verify: bool,
}

/// A fault in HTTP client settings: the field (relative to where the settings sit) and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpClientFault {
    /// The field at fault, e.g. `basic_auth.password_file`.
    pub field: &'static str,
    /// What is wrong.
    pub reason: &'static str,
}

fn fault(field: &'static str, reason: &'static str) -> Result<(), HttpClientFault> {
    Err(HttpClientFault { field, reason })
}

/// Prometheus's checks of the authentication settings: at most one method, inline or file, a user name, no
/// `Basic` authorization type.
pub fn check_auth(
    basic_auth: Option<&BasicAuth>,
    authorization: Option<&Authorization>,
    bearer_token: Option<&str>,
    bearer_token_file: Option<&str>,
) -> Result<(), HttpClientFault> {
    let bearer = bearer_token.is_some() || bearer_token_file.is_some();
    let set = [basic_auth.is_some(), authorization.is_some(), bearer];
    if set.iter().filter(|&&b| b).count() > 1 {
        return fault(
            "authorization",
            "at most one of basic_auth, authorization and bearer_token/bearer_token_file may be set",
        );
    }
    if bearer_token.is_some() && bearer_token_file.is_some() {
        return fault(
            "bearer_token_file",
            "bearer_token and bearer_token_file are mutually exclusive",
        );
    }
    if let Some(b) = basic_auth {
        if b.username.is_empty() {
            return fault("basic_auth.username", "must not be empty");
        }
        if b.password.is_some() && b.password_file.is_some() {
            return fault(
                "basic_auth.password_file",
                "password and password_file are mutually exclusive",
            );
        }
    }
    if let Some(a) = authorization {
        if a.kind.eq_ignore_ascii_case("basic") {
            return fault(
                "authorization.type",
                "can not be \"Basic\", use basic_auth instead",
            );
        }
        if a.kind.is_empty() || a.kind.contains(char::is_whitespace) {
            return fault("authorization.type", "must be a single word such as Bearer");
        }
        if a.credentials.is_some() && a.credentials_file.is_some() {
            return fault(
                "authorization.credentials_file",
                "credentials and credentials_file are mutually exclusive",
            );
        }
    }
    Ok(())
}

/// Prometheus's checks of `tls_config`: certificate and key together, a non-empty server name when set.
pub fn check_tls(tls: &TlsConfig) -> Result<(), HttpClientFault> {
    if tls.cert_file.is_some() != tls.key_file.is_some() {
        return fault(
            "tls_config.key_file",
            "cert_file and key_file must be set together",
        );
    }
    if tls.server_name.as_ref().is_some_and(String::is_empty) {
        return fault("tls_config.server_name", "must not be empty when set");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_name_the_field_at_fault() {
        let basic = BasicAuth {
            username: "u".into(),
            password: Some("p".into()),
            password_file: Some("f".into()),
        };
        assert_eq!(
            check_auth(Some(&basic), None, None, None)
                .unwrap_err()
                .field,
            "basic_auth.password_file"
        );
        assert_eq!(
            check_auth(Some(&BasicAuth::default()), None, Some("t"), None)
                .unwrap_err()
                .field,
            "authorization"
        );
        let basic_type = Authorization {
            kind: "basic".into(),
            credentials: None,
            credentials_file: None,
        };
        assert_eq!(
            check_auth(None, Some(&basic_type), None, None)
                .unwrap_err()
                .field,
            "authorization.type"
        );
        assert_eq!(
            check_auth(None, None, Some("t"), Some("f"))
                .unwrap_err()
                .field,
            "bearer_token_file"
        );
        assert!(check_auth(None, None, Some("t"), None).is_ok());
        let tls = TlsConfig {
            cert_file: Some("c".into()),
            ..TlsConfig::default()
        };
        assert_eq!(check_tls(&tls).unwrap_err().field, "tls_config.key_file");
        let named = TlsConfig {
            server_name: Some(String::new()),
            ..TlsConfig::default()
        };
        assert_eq!(
            check_tls(&named).unwrap_err().field,
            "tls_config.server_name"
        );
        assert!(check_tls(&TlsConfig::default()).is_ok());
    }
}
