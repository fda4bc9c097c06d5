//! Outgoing HTTP settings shared by remote_write and Loki push: authentication (basic, authorization, bearer
//! token, OAuth 2.0 client credentials), TLS, redirects, extra headers, and their checks.

use std::collections::BTreeMap;

use lookout_model::http_client::{
    Authorization, BasicAuth, Secret, TlsConfig, check_auth, check_tls,
};
use serde::{Deserialize, Serialize};

use super::ConfigError;

/// `oauth2`: the client-credentials flow; the token is cached until shortly before it expires.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Config {
    /// The client id.
    pub client_id: String,
    /// The client secret, inline (`Debug` prints `<secret>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    /// A file holding the client secret, read at each token request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_file: Option<String>,
    /// Scopes requested (joined with spaces).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// The token endpoint.
    pub token_url: String,
    /// Extra form parameters of the token request.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub endpoint_params: BTreeMap<String, String>,
}

/// Headers a configuration may not set (Prometheus's reserved list); `Authorization` has its own settings.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-encoding",
    "content-length",
    "content-type",
    "user-agent",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "www-authenticate",
    "accept-encoding",
    "x-prometheus-remote-write-version",
    "x-prometheus-remote-read-version",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

/// The HTTP settings of one endpoint, gathered from its config for the client builder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpSettings {
    /// Extra request headers.
    pub headers: BTreeMap<String, String>,
    /// `basic_auth`.
    pub basic_auth: Option<BasicAuth>,
    /// `authorization`.
    pub authorization: Option<Authorization>,
    /// `bearer_token` (deprecated in Prometheus, still accepted).
    pub bearer_token: Option<Secret>,
    /// `bearer_token_file`.
    pub bearer_token_file: Option<String>,
    /// `oauth2`.
    pub oauth2: Option<OAuth2Config>,
    /// `tls_config`.
    pub tls_config: TlsConfig,
    /// `follow_redirects`.
    pub follow_redirects: bool,
}

impl HttpSettings {
    /// Prometheus's checks, with errors named under `path`.
    pub fn validate(&self, path: &str) -> Result<(), ConfigError> {
        let err =
            |field: &str, reason: &str| Err(ConfigError::new(format!("{path}.{field}"), reason));
        check_auth(
            self.basic_auth.as_ref(),
            self.authorization.as_ref(),
            self.bearer_token.as_ref().map(Secret::expose),
            self.bearer_token_file.as_deref(),
        )
        .and_then(|()| check_tls(&self.tls_config))
        .or_else(|f| err(f.field, f.reason))?;
        if let Some(o) = &self.oauth2 {
            if self.basic_auth.is_some()
                || self.authorization.is_some()
                || self.bearer_token.is_some()
                || self.bearer_token_file.is_some()
            {
                return err(
                    "oauth2",
                    "at most one of basic_auth, authorization, bearer_token and oauth2 may be configured",
                );
            }
            if o.client_id.is_empty() {
                return err("oauth2.client_id", "must not be empty");
            }
            if o.client_secret.is_some() && o.client_secret_file.is_some() {
                return err(
                    "oauth2.client_secret_file",
                    "client_secret and client_secret_file are mutually exclusive",
                );
            }
            check_url(&o.token_url).or_else(|r| err("oauth2.token_url", &r))?;
        }
        if self.tls_config.server_name.is_some() {
            return err(
                "tls_config.server_name",
                "not supported by Lookout's forwarder; the certificate must name the host connected to",
            );
        }
        for name in self.headers.keys() {
            let lower = name.to_ascii_lowercase();
            if lower == "authorization" {
                return err(
                    &format!("headers.{name}"),
                    "the authorization header must be set via basic_auth, authorization or oauth2",
                );
            }
            if RESERVED_HEADERS.contains(&lower.as_str()) {
                return err(
                    &format!("headers.{name}"),
                    "is a reserved header; it must not be changed",
                );
            }
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return err(&format!("headers.{name}"), "is not a valid header name");
            }
        }
        Ok(())
    }
}

/// Checks that `url` is an absolute http(s) URL.
pub(crate) fn check_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("invalid URL {url:?}: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!(
            "{url:?} must be an http:// or https:// URL with a host"
        ));
    }
    Ok(())
}
