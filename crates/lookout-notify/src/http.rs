//! HTTP client settings shared by Alertmanager targets and webhooks: Prometheus's `HTTPClientConfig` field names
//! (authentication, TLS, redirects), turned into a `reqwest` client that speaks rustls.

use std::fmt;

use reqwest::RequestBuilder;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::config::{ConfigError, join};

/// The User-Agent of every notification request.
pub const USER_AGENT: &str = concat!("Lookout/", env!("CARGO_PKG_VERSION"));

pub use lookout_model::http_client::{Authorization, BasicAuth, Secret, TlsConfig};

/// Prometheus's HTTP client settings; written inline in `alertmanagers[]` and under `http_config` in webhooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpClientConfig {
    /// Basic authentication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    /// A custom `Authorization` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    /// Legacy inline bearer token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<Secret>,
    /// Legacy bearer token file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer_token_file: Option<String>,
    /// TLS settings.
    pub tls_config: TlsConfig,
    /// Follow HTTP redirects (default true).
    pub follow_redirects: bool,
    /// Accepted for compatibility; requests use HTTP/1.1.
    pub enable_http2: bool,
}

impl Default for HttpClientConfig {
    fn default() -> Self {
        HttpClientConfig {
            basic_auth: None,
            authorization: None,
            bearer_token: None,
            bearer_token_file: None,
            tls_config: TlsConfig::default(),
            follow_redirects: true,
            enable_http2: true,
        }
    }
}

/// Prometheus HTTP client keys Lookout does not implement; refused by name instead of "unknown field".
const UNSUPPORTED_HTTP_KEYS: &[&str] = &[
    "oauth2",
    "proxy_url",
    "no_proxy",
    "proxy_from_environment",
    "proxy_connect_header",
    "http_headers",
    "sigv4",
];

/// The keys [`HttpClientConfig::take_field`] understands.
pub(crate) const HTTP_KEYS: &[&str] = &[
    "basic_auth",
    "authorization",
    "bearer_token",
    "bearer_token_file",
    "tls_config",
    "follow_redirects",
    "enable_http2",
];

impl HttpClientConfig {
    /// Reads the value of `key` from `map` into the matching field. Returns false when `key` is not an HTTP client
    /// key, so a struct that inlines these settings can go on with its own keys. Unsupported Prometheus keys are
    /// refused with their name.
    pub(crate) fn take_field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        match key {
            "basic_auth" => self.basic_auth = Some(map.next_value()?),
            "authorization" => self.authorization = Some(map.next_value()?),
            "bearer_token" => self.bearer_token = Some(map.next_value()?),
            "bearer_token_file" => self.bearer_token_file = Some(map.next_value()?),
            "tls_config" => self.tls_config = map.next_value()?,
            "follow_redirects" => self.follow_redirects = map.next_value()?,
            "enable_http2" => self.enable_http2 = map.next_value()?,
            k if UNSUPPORTED_HTTP_KEYS.contains(&k) => {
                return Err(de::Error::custom(format!(
                    "{k}: this HTTP client setting is not supported by Lookout"
                )));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Checks the settings as Prometheus does; `path` is where they sit in the file.
    pub fn validate(&self, path: &str) -> Result<(), ConfigError> {
        let err = |field: &str, reason: &str| Err(ConfigError::new(join(path, field), reason));
        use lookout_model::http_client::{check_auth, check_tls};
        check_auth(
            self.basic_auth.as_ref(),
            self.authorization.as_ref(),
            self.bearer_token.as_ref().map(Secret::expose),
            self.bearer_token_file.as_deref(),
        )
        .and_then(|()| check_tls(&self.tls_config))
        .or_else(|f| err(f.field, f.reason))?;
        if self.tls_config.server_name.is_some() {
            return err(
                "tls_config.server_name",
                "not supported for notifications; the certificate must name the host connected to",
            );
        }
        Ok(())
    }

    /// Builds the client. TLS files are read now, so a missing CA file is a configuration error; credential files
    /// are read at each request so rotated secrets take effect, as in Prometheus. Servers are verified against the
    /// system's roots plus `ca_file` (see [`crate::tls`]).
    pub(crate) fn build_client(&self, path: &str) -> Result<reqwest::Client, ConfigError> {
        let redirect = if self.follow_redirects {
            reqwest::redirect::Policy::limited(10)
        } else {
            reqwest::redirect::Policy::none()
        };
        let builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .redirect(redirect)
            .pool_max_idle_per_host(2);
        let builder = lookout_http_tls::apply(builder, &self.tls_config)
            .map_err(|(field, reason)| ConfigError::new(join(path, field), reason))?;
        builder
            .build()
            .map_err(|e| ConfigError::new(path.to_string(), format!("building HTTP client: {e}")))
    }

    /// Adds the configured credentials to a request.
    pub(crate) fn authorize(&self, request: RequestBuilder) -> Result<RequestBuilder, String> {
        let read_secret = |what: &str, file: &str| {
            std::fs::read_to_string(file)
                .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
                .map_err(|e| format!("reading {what} {file}: {e}"))
        };
        if let Some(b) = &self.basic_auth {
            let password = match (&b.password, &b.password_file) {
                (_, Some(file)) => read_secret("basic_auth.password_file", file)?,
                (Some(p), None) => p.expose().to_string(),
                (None, None) => String::new(),
            };
            return Ok(request.basic_auth(&b.username, Some(password)));
        }
        let header = if let Some(a) = &self.authorization {
            let credentials = match (&a.credentials, &a.credentials_file) {
                (_, Some(file)) => read_secret("authorization.credentials_file", file)?,
                (Some(c), None) => c.expose().to_string(),
                (None, None) => String::new(),
            };
            Some(format!("{} {credentials}", a.kind))
        } else if let Some(file) = &self.bearer_token_file {
            Some(format!(
                "Bearer {}",
                read_secret("bearer_token_file", file)?
            ))
        } else {
            self.bearer_token
                .as_ref()
                .map(|t| format!("Bearer {}", t.expose()))
        };
        Ok(match header {
            Some(h) => request.header(reqwest::header::AUTHORIZATION, h),
            None => request,
        })
    }
}

/// The error and its causes on one line (reqwest's top-level message alone hides the reason).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

struct HttpClientConfigVisitor;

impl<'de> Visitor<'de> for HttpClientConfigVisitor {
    type Value = HttpClientConfig;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an HTTP client configuration mapping")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HttpClientConfig, A::Error> {
        let mut config = HttpClientConfig::default();
        while let Some(key) = map.next_key::<String>()? {
            if !config.take_field(&key, &mut map)? {
                return Err(de::Error::unknown_field(&key, HTTP_KEYS));
            }
        }
        Ok(config)
    }
}

impl<'de> Deserialize<'de> for HttpClientConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(HttpClientConfigVisitor)
    }
}
