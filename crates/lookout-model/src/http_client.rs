//! Prometheus's HTTP client settings vocabulary (`basic_auth`, `authorization`, `tls_config`), shared by every
//! outgoing client (scrape jobs, Alertmanagers, webhooks, remote write, Proxmox), with the checks Prometheus applies
//! to them; [`Secret`], which keeps credentials out of `Debug` output and logs; [`redact_url`]; and, in
//! [`tls_files`], the one reading of trust material: the system's roots plus `ca_file`, and the client identity.
//! How a client is built from them (rustls verifiers, reqwest) belongs to the crate that makes the requests, so this
//! crate needs no TLS library.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub mod tls_files;

/// A credential from a configuration file (password, token, client secret). `Debug` prints `<secret>`, as
/// Prometheus redacts secrets, and there is no `Display`: the value is read only through [`Secret::expose`], so it
/// cannot slip into a log line or an error message by formatting the struct that holds it. Serialization writes
/// the value itself (configuration round trips); what is shown to users is redacted by the status endpoint.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Secret(String);

/// What `Debug` prints instead of a secret (Prometheus's marker).
pub const REDACTED: &str = "<secret>";

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the request that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_string())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// A URL from a configuration file that may carry user information (`https://user:password@host/`). It reads as
/// the text (`Deref<Target = str>`) for requests and checks, while `Debug` prints it with the password replaced
/// (see [`redact_url`]), so a struct holding one can be logged. Serialization writes the URL as configured.
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConfigUrl(String);

impl ConfigUrl {
    /// The URL as configured, password included (for the request itself).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL with its password replaced, for logs, metrics labels and messages.
    pub fn redacted(&self) -> String {
        redact_url(&self.0)
    }
}

impl std::ops::Deref for ConfigUrl {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<String> for ConfigUrl {
    fn from(s: String) -> Self {
        ConfigUrl(s)
    }
}

impl From<&str> for ConfigUrl {
    fn from(s: &str) -> Self {
        ConfigUrl(s.to_string())
    }
}

impl fmt::Debug for ConfigUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&redact_url(&self.0), f)
    }
}

/// `url` with the password of its user information replaced by `xxxxx`, as Go's `url.Redacted` prints it, for
/// logs, metrics labels and error messages. Text that is not a URL with user information is returned as is.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_string();
    };
    let userinfo = &rest[..at];
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{}{user}:xxxxx{}", &url[..scheme_end + 3], &rest[at..]),
        None => url.to_string(),
    }
}

/// `basic_auth`: a user name and a password given inline or read from a file at each request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// The user name.
    pub username: String,
    /// The password, inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
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
    pub credentials: Option<Secret>,
    /// A file holding the credentials, read at each request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<String>,
}

/// `tls_config`: which servers to trust and which client certificate to present. Servers are verified against
/// the system's roots plus `ca_file` (see [`tls_files::trust_roots`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM CA bundle trusted in addition to the system's roots.
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
    fn secrets_never_show_in_debug_output() {
        let yaml =
            "basic_auth: {username: u, password: pa55word}\nauthorization: {credentials: t0ken}\n";
        #[derive(Debug, Deserialize, Serialize)]
        struct Both {
            basic_auth: BasicAuth,
            authorization: Authorization,
        }
        let both: Both = serde_yaml_ng::from_str(yaml).unwrap();
        assert_eq!(
            both.basic_auth.password.as_ref().unwrap().expose(),
            "pa55word"
        );
        for text in [format!("{both:?}"), format!("{both:#?}")] {
            assert!(
                !text.contains("pa55word") && !text.contains("t0ken"),
                "{text}"
            );
            assert!(text.contains(REDACTED), "{text}");
        }
        // The configuration itself round-trips with its values.
        let back: Both =
            serde_yaml_ng::from_str(&serde_yaml_ng::to_string(&both).unwrap()).unwrap();
        assert_eq!(back.authorization.credentials, Some(Secret::new("t0ken")));
    }

    #[test]
    fn config_urls_hide_their_password_in_debug_only() {
        let u: ConfigUrl = serde_yaml_ng::from_str("'https://u:pa55@h/w'").unwrap();
        assert_eq!(&*u, "https://u:pa55@h/w");
        assert_eq!(format!("{u:?}"), "\"https://u:xxxxx@h/w\"");
        assert_eq!(u.redacted(), "https://u:xxxxx@h/w");
        assert_eq!(
            serde_yaml_ng::to_string(&u).unwrap().trim(),
            "https://u:pa55@h/w"
        );
    }

    #[test]
    fn urls_lose_their_password_only() {
        assert_eq!(
            redact_url("https://user:pa55@host:9090/api/v1/write?x=1"),
            "https://user:xxxxx@host:9090/api/v1/write?x=1"
        );
        assert_eq!(redact_url("http://user@host/"), "http://user@host/");
        assert_eq!(redact_url("http://host/p@th"), "http://host/p@th");
        assert_eq!(redact_url("not a url"), "not a url");
        assert_eq!(redact_url("http://a:b:c@h"), "http://a:xxxxx@h");
    }

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
