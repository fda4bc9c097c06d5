//! Prometheus's web configuration file (`--web.config.file`), in the format of Prometheus's exporter-toolkit:
//! `tls_server_config`, `http_server_config`, `basic_auth_users` and `rate_limit`. Parsing is strict (unknown
//! keys are refused, with their YAML path), relative file names are relative to the file's directory, and the
//! checks Prometheus makes at load time (header names and values, bcrypt hashes, TLS settings) are made here too.

pub(crate) mod load;
mod names;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::error::WebConfigError;
use crate::password::validate_hash;
use crate::secret::Secret;

pub use load::{LoadedWebConfig, load};
pub use names::{CipherSuiteName, ClientAuthType, CurveName, TlsVersion};

/// The whole file. An empty file is valid: plain HTTP, no authentication.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// `tls_server_config`: HTTPS, when any certificate, key or client-auth setting is present.
    #[serde(deserialize_with = "nullable")]
    pub tls_server_config: TlsServerConfig,
    /// `http_server_config`: HTTP/2 and extra response headers.
    #[serde(deserialize_with = "nullable")]
    pub http_server_config: HttpServerConfig,
    /// `basic_auth_users`: user name → bcrypt hash. Empty: no basic authentication.
    #[serde(deserialize_with = "nullable")]
    pub basic_auth_users: BTreeMap<String, Secret>,
    /// `rate_limit`: one token bucket for all requests.
    #[serde(deserialize_with = "nullable")]
    pub rate_limit: RateLimitConfig,
}

/// `tls_server_config`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsServerConfig {
    /// `cert`: the server certificate chain as inline PEM (`cert_file` wins when both are set, as in Prometheus).
    #[serde(deserialize_with = "nullable")]
    pub cert: String,
    /// `key`: the server key as inline PEM.
    pub key: Secret,
    /// `client_ca`: client CA certificates as inline PEM.
    #[serde(deserialize_with = "nullable")]
    pub client_ca: String,
    /// `cert_file`: the server certificate chain (PEM).
    #[serde(deserialize_with = "nullable")]
    pub cert_file: String,
    /// `key_file`: the server private key (PEM: PKCS#8, PKCS#1 or SEC1).
    #[serde(deserialize_with = "nullable")]
    pub key_file: String,
    /// `client_auth_type` (unset: `NoClientCert`).
    #[serde(deserialize_with = "names::client_auth_type")]
    pub client_auth_type: Option<ClientAuthType>,
    /// `client_ca_file`: CA certificates client certificates are verified against.
    #[serde(deserialize_with = "nullable")]
    pub client_ca_file: String,
    /// `client_allowed_sans`: a client certificate must carry one of these SANs (DNS, IP, e-mail or URI).
    #[serde(deserialize_with = "nullable")]
    pub client_allowed_sans: Vec<String>,
    /// `min_version` (unset: TLS12).
    pub min_version: Option<TlsVersion>,
    /// `max_version` (unset: TLS13).
    pub max_version: Option<TlsVersion>,
    /// `cipher_suites`: TLS 1.2 suites in preference order (empty: rustls's defaults). TLS 1.3 suites listed here
    /// restrict TLS 1.3 as well; when none is listed every TLS 1.3 suite stays on (Go cannot restrict them).
    #[serde(deserialize_with = "nullable")]
    pub cipher_suites: Vec<CipherSuiteName>,
    /// `prefer_server_cipher_suites` (default true): pick by the server's order rather than the client's.
    #[serde(deserialize_with = "default_true")]
    pub prefer_server_cipher_suites: bool,
    /// `curve_preferences`: key-exchange groups in preference order (empty: rustls's defaults).
    #[serde(deserialize_with = "nullable")]
    pub curve_preferences: Vec<CurveName>,
}

/// `http_server_config`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpServerConfig {
    /// `http2` (default true): offer HTTP/2 through ALPN.
    #[serde(deserialize_with = "nullable")]
    pub http2: bool,
    /// `headers`: the security headers Prometheus allows, added to every response (blank values are unset).
    #[serde(deserialize_with = "nullable")]
    pub headers: BTreeMap<String, String>,
}

impl Default for HttpServerConfig {
    fn default() -> Self {
        HttpServerConfig {
            http2: true,
            headers: BTreeMap::new(),
        }
    }
}

/// `rate_limit`: a token bucket shared by all requests (`interval` between requests, `burst` at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// `interval`: time between two requests; zero disables the limiter.
    #[serde(deserialize_with = "go_duration")]
    pub interval: Duration,
    /// `burst`: requests allowed at once.
    #[serde(deserialize_with = "nullable")]
    pub burst: u32,
}

/// The response headers the file may set, and the values allowed for the enumerated ones (Prometheus's list).
const ALLOWED_HEADERS: [(&str, &[&str]); 5] = [
    ("Strict-Transport-Security", &[]),
    ("X-Content-Type-Options", &["nosniff"]),
    ("X-Frame-Options", &["deny", "sameorigin"]),
    ("X-XSS-Protection", &[]),
    ("Content-Security-Policy", &[]),
];

impl Default for TlsServerConfig {
    fn default() -> Self {
        TlsServerConfig {
            cert: String::new(),
            key: Secret::default(),
            client_ca: String::new(),
            cert_file: String::new(),
            key_file: String::new(),
            client_auth_type: None,
            client_ca_file: String::new(),
            client_allowed_sans: Vec::new(),
            min_version: None,
            max_version: None,
            cipher_suites: Vec::new(),
            prefer_server_cipher_suites: true,
            curve_preferences: Vec::new(),
        }
    }
}

impl TlsServerConfig {
    /// Whether the file asks for HTTPS: any certificate, key, client CA or client-auth setting present (other
    /// settings alone leave the server on plain HTTP, as in Prometheus).
    pub fn is_enabled(&self) -> bool {
        !self.cert.is_empty()
            || !self.key.is_empty()
            || !self.client_ca.is_empty()
            || !self.cert_file.is_empty()
            || !self.key_file.is_empty()
            || !self.client_ca_file.is_empty()
            || self.client_auth_type.is_some()
    }

    /// The effective minimum version.
    pub fn min_version(&self) -> TlsVersion {
        self.min_version.unwrap_or(TlsVersion::Tls12)
    }

    /// The effective maximum version.
    pub fn max_version(&self) -> TlsVersion {
        self.max_version.unwrap_or(TlsVersion::Tls13)
    }

    /// The effective client-auth policy.
    pub fn client_auth(&self) -> ClientAuthType {
        self.client_auth_type
            .unwrap_or(ClientAuthType::NoClientCert)
    }

    /// Joins relative file names with `dir` (the web config file's directory).
    fn resolve_paths(&mut self, dir: &Path) {
        for p in [
            &mut self.cert_file,
            &mut self.key_file,
            &mut self.client_ca_file,
        ] {
            if !p.is_empty() && Path::new(p.as_str()).is_relative() {
                *p = dir.join(p.as_str()).to_string_lossy().into_owned();
            }
        }
    }
}

impl WebConfig {
    /// Parses and checks the text of a web config file; `path` names it in errors and anchors relative paths.
    /// Files named inside are not read here (see [`load`]).
    pub fn parse(text: &str, path: &Path) -> Result<WebConfig, WebConfigError> {
        let de = serde_yaml_ng::Deserializer::from_str(text);
        let parsed: Option<WebConfig> = match serde_path_to_error::deserialize(de) {
            Ok(c) => c,
            // An empty file (or one of comments only) is a valid, empty configuration.
            Err(_) if is_blank_yaml(text) => None,
            Err(e) => {
                let at = e.path().to_string();
                let mut message = e.inner().to_string();
                // serde_yaml_ng prefixes its own (shorter) path; ours is the exact key, so drop the repeat.
                if let Some((head, rest)) = message.split_once(": ")
                    && !head.contains(' ')
                    && at.starts_with(head)
                {
                    message = rest.to_string();
                }
                let at = (at != ".").then_some(at);
                return Err(WebConfigError::new(path, at.as_deref(), message));
            }
        };
        let mut config = parsed.unwrap_or_default();
        config.validate(path)?;
        if let Some(dir) = path.parent() {
            config.tls_server_config.resolve_paths(dir);
        }
        Ok(config)
    }

    /// Whether the file turns basic authentication on.
    pub fn has_users(&self) -> bool {
        !self.basic_auth_users.is_empty()
    }

    /// The headers to add to every response (blank values left out).
    pub fn response_headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.http_server_config
            .headers
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// A copy with the key and password hashes replaced by `<secret>`.
    pub fn redacted(&self) -> WebConfig {
        let mut c = self.clone();
        c.tls_server_config.key = c.tls_server_config.key.redacted();
        for hash in c.basic_auth_users.values_mut() {
            *hash = hash.redacted();
        }
        c
    }

    fn validate(&self, path: &Path) -> Result<(), WebConfigError> {
        for (name, value) in &self.http_server_config.headers {
            let at = format!("http_server_config.headers.{name}");
            let Some((_, allowed)) = ALLOWED_HEADERS.iter().find(|(h, _)| h == name) else {
                return Err(WebConfigError::new(
                    path,
                    Some(&at),
                    format!(
                        "HTTP header {name:?} can not be configured; allowed: {}",
                        ALLOWED_HEADERS.map(|(h, _)| h).join(", ")
                    ),
                ));
            };
            if !allowed.is_empty() && !allowed.contains(&value.as_str()) {
                return Err(WebConfigError::new(
                    path,
                    Some(&at),
                    format!(
                        "invalid value for {name}. Expected one of: {allowed:?}, but got: {value:?}"
                    ),
                ));
            }
            if value.parse::<http::HeaderValue>().is_err() {
                return Err(WebConfigError::new(
                    path,
                    Some(&at),
                    "the value is not a valid HTTP header value (control characters?)",
                ));
            }
        }
        for (user, hash) in &self.basic_auth_users {
            validate_hash(hash.expose()).map_err(|e| {
                WebConfigError::new(
                    path,
                    Some(&format!("basic_auth_users.{user}")),
                    e.to_string(),
                )
            })?;
        }
        if !self.rate_limit.interval.is_zero() && self.rate_limit.burst == 0 {
            return Err(WebConfigError::new(
                path,
                Some("rate_limit.burst"),
                "must be at least 1 when rate_limit.interval is set (0 would refuse every request)",
            ));
        }
        Ok(())
    }
}

/// True when `text` holds no YAML value (empty, whitespace, comments, document markers).
fn is_blank_yaml(text: &str) -> bool {
    text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l == "---" || l == "..."
    })
}

/// A null value is the type's default, as in Go's YAML decoding (`basic_auth_users:` with nothing after it).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `prefer_server_cipher_suites`: a boolean; null keeps the default (true).
fn default_true<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(true))
}

/// A Go `time.Duration` in YAML: an integer of nanoseconds, or a duration string (`1s`, `500ms`, `1m30s`).
fn go_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Nanos(u64),
        Text(String),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(Duration::ZERO),
        Some(Raw::Nanos(n)) => Ok(Duration::from_nanos(n)),
        Some(Raw::Text(t)) => t
            .parse::<lookout_model::PromDuration>()
            .map(|p| p.as_duration())
            .map_err(serde::de::Error::custom),
    }
}
