//! OAuth 2.0 client credentials (RFC 6749 §4.4), as Prometheus's `oauth2` block does it: the client id and secret
//! in an HTTP basic header, `grant_type=client_credentials`, `scope` joined with spaces, `endpoint_params` added to
//! the form. The token is cached until 10 s before its `expires_in` (forever without one).

use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::client::{error_chain, read_secret};
use crate::config::OAuth2Config;

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// See the module docs. `Debug` shows the settings (the client secret redacted), never the cached token.
pub(crate) struct TokenSource {
    cfg: OAuth2Config,
    client: reqwest::Client,
    cached: tokio::sync::Mutex<Option<(String, Option<Instant>)>>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

/// `application/x-www-form-urlencoded` escaping.
fn form_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl TokenSource {
    pub(crate) fn new(cfg: OAuth2Config, client: reqwest::Client) -> Self {
        TokenSource {
            cfg,
            client,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// A valid access token, fetched when none is cached or the cached one expires within 10 s.
    pub(crate) async fn token(&self) -> Result<String, String> {
        let mut cached = self.cached.lock().await;
        if let Some((t, exp)) = &*cached
            && exp.is_none_or(|e| e > Instant::now() + Duration::from_secs(10))
        {
            return Ok(t.clone());
        }
        let secret = match (&self.cfg.client_secret, &self.cfg.client_secret_file) {
            (_, Some(f)) => read_secret("oauth2.client_secret_file", f).await?,
            (Some(s), None) => s.expose().to_string(),
            (None, None) => String::new(),
        };
        let mut form = vec![("grant_type".to_string(), "client_credentials".to_string())];
        if !self.cfg.scopes.is_empty() {
            form.push(("scope".into(), self.cfg.scopes.join(" ")));
        }
        for (k, v) in &self.cfg.endpoint_params {
            form.push((k.clone(), v.clone()));
        }
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", form_escape(k), form_escape(v)))
            .collect::<Vec<_>>()
            .join("&");
        let resp = self
            .client
            .post(&self.cfg.token_url)
            .basic_auth(form_escape(&self.cfg.client_id), Some(form_escape(&secret)))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .timeout(Duration::from_secs(30))
            .body(body)
            .send()
            .await
            .map_err(|e| format!("oauth2 token request: {}", error_chain(&e)))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| format!("oauth2 token response: {e}"))?;
        if !status.is_success() {
            return Err(format!(
                "oauth2 token endpoint returned {status}: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(512)])
            ));
        }
        let t: TokenResponse = serde_json::from_slice(&bytes)
            .map_err(|e| format!("oauth2 token response is not a token: {e}"))?;
        let exp = t
            .expires_in
            .filter(|s| *s > 0)
            .map(|s| Instant::now() + Duration::from_secs(s));
        *cached = Some((t.access_token.clone(), exp));
        Ok(t.access_token)
    }
}
