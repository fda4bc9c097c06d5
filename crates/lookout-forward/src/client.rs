//! The outgoing HTTP client of one endpoint: built from [`HttpSettings`], it posts a body with the configured
//! credentials and classifies the answer as Prometheus's sender does (`storage/remote/client.go`): 2xx done; 5xx,
//! connection errors and (when enabled) 429 retried, honouring `Retry-After`; other answers dropped.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::config::{ConfigError, HttpSettings};
use crate::oauth2::TokenSource;

/// `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("Lookout/", env!("CARGO_PKG_VERSION"));

/// How much of an error body is kept for logs (as Prometheus: 1 KiB).
const MAX_ERR_BODY: usize = 1024;

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The receiver took it.
    Sent,
    /// Worth retrying, after `after` if the receiver said so.
    Retry {
        /// `Retry-After`, when given and in the future.
        after: Option<Duration>,
        /// For logs.
        reason: String,
    },
    /// Never going to succeed: drop and count.
    Drop {
        /// For logs.
        reason: String,
    },
}

/// See the module docs. `Debug` shows the URL without its password and the settings with their secrets redacted.
pub(crate) struct Endpoint {
    client: reqwest::Client,
    url: reqwest::Url,
    /// `url` with the password of its user information replaced, for logs, metrics and `Debug`.
    shown_url: String,
    settings: HttpSettings,
    headers: HeaderMap,
    timeout: Duration,
    oauth2: Option<TokenSource>,
}

impl Endpoint {
    /// Builds the client; TLS files are read now (a missing CA file is a configuration error), credential files
    /// at each request so rotated secrets take effect.
    pub(crate) fn new(
        url: &str,
        settings: &HttpSettings,
        timeout: Duration,
        path: &str,
    ) -> Result<Endpoint, ConfigError> {
        let cfg_err =
            |field: &str, reason: String| ConfigError::new(format!("{path}.{field}"), reason);
        let url = reqwest::Url::parse(url).map_err(|e| cfg_err("url", e.to_string()))?;
        let client = build_client(settings, path)?;
        let mut headers = HeaderMap::new();
        for (k, v) in &settings.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|e| cfg_err(&format!("headers.{k}"), e.to_string()))?;
            let value = HeaderValue::from_str(v)
                .map_err(|e| cfg_err(&format!("headers.{k}"), e.to_string()))?;
            headers.insert(name, value);
        }
        let oauth2 = settings
            .oauth2
            .clone()
            .map(|o| TokenSource::new(o, client.clone()));
        Ok(Endpoint {
            client,
            shown_url: lookout_model::http_client::redact_url(url.as_str()),
            url,
            settings: settings.clone(),
            headers,
            timeout,
            oauth2,
        })
    }

    /// The URL without its password, for metrics and logs.
    pub(crate) fn url(&self) -> &str {
        &self.shown_url
    }

    /// Posts `body` with the endpoint's headers plus `extra`; `attempt` > 0 adds `Retry-Attempt`.
    pub(crate) async fn post(
        &self,
        body: Vec<u8>,
        extra: &[(&'static str, &str)],
        attempt: u32,
        retry_on_429: bool,
    ) -> Outcome {
        let mut req = self
            .client
            .post(self.url.clone())
            .timeout(self.timeout)
            .headers(self.headers.clone())
            .header(reqwest::header::USER_AGENT, USER_AGENT);
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        if attempt > 0 {
            req = req.header("Retry-Attempt", attempt.to_string());
        }
        req = match self.authorize(req).await {
            Ok(r) => r,
            Err(reason) => {
                return Outcome::Retry {
                    after: None,
                    reason,
                };
            }
        };
        let resp = match req.body(body).send().await {
            Ok(r) => r,
            Err(e) => {
                return Outcome::Retry {
                    after: None,
                    reason: error_chain(&e),
                };
            }
        };
        let status = resp.status();
        if status.is_success() {
            return Outcome::Sent;
        }
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let mut text = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        text.truncate(MAX_ERR_BODY);
        let reason = format!(
            "server returned HTTP status {status}: {}",
            String::from_utf8_lossy(&text).trim()
        );
        if status.is_server_error() || (status.as_u16() == 429 && retry_on_429) {
            Outcome::Retry {
                after: retry_after,
                reason,
            }
        } else {
            Outcome::Drop { reason }
        }
    }

    async fn authorize(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, String> {
        let s = &self.settings;
        if let Some(o) = &self.oauth2 {
            let token = o.token().await?;
            return Ok(req.header(reqwest::header::AUTHORIZATION, format!("Bearer {token}")));
        }
        if let Some(b) = &s.basic_auth {
            let password = match (&b.password, &b.password_file) {
                (_, Some(file)) => read_secret("basic_auth.password_file", file).await?,
                (Some(p), None) => p.expose().to_string(),
                (None, None) => String::new(),
            };
            return Ok(req.basic_auth(&b.username, Some(password)));
        }
        let header = if let Some(a) = &s.authorization {
            let credentials = match (&a.credentials, &a.credentials_file) {
                (_, Some(file)) => read_secret("authorization.credentials_file", file).await?,
                (Some(c), None) => c.expose().to_string(),
                (None, None) => String::new(),
            };
            Some(format!("{} {credentials}", a.kind))
        } else if let Some(file) = &s.bearer_token_file {
            Some(format!(
                "Bearer {}",
                read_secret("bearer_token_file", file).await?
            ))
        } else {
            s.bearer_token
                .as_ref()
                .map(|t| format!("Bearer {}", t.expose()))
        };
        Ok(match header {
            Some(h) => req.header(reqwest::header::AUTHORIZATION, h),
            None => req,
        })
    }
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &self.shown_url)
            .field("settings", &self.settings)
            .field("timeout", &self.timeout)
            .field("oauth2", &self.oauth2)
            .finish_non_exhaustive()
    }
}

/// Reads a secret file (trailing newline trimmed) off the async threads.
pub(crate) async fn read_secret(what: &str, file: &str) -> Result<String, String> {
    let path = file.to_string();
    let read = tokio::task::spawn_blocking(move || std::fs::read_to_string(path))
        .await
        .map_err(|e| e.to_string())?;
    read.map(|s| s.trim_end_matches(['\n', '\r']).to_string())
        .map_err(|e| format!("reading {what} {file}: {e}"))
}

fn build_client(s: &HttpSettings, path: &str) -> Result<reqwest::Client, ConfigError> {
    let redirect = if s.follow_redirects {
        reqwest::redirect::Policy::limited(10)
    } else {
        reqwest::redirect::Policy::none()
    };
    let builder = reqwest::Client::builder()
        .redirect(redirect)
        .pool_idle_timeout(Duration::from_secs(90));
    let builder = lookout_http_tls::apply(builder, &s.tls_config)
        .map_err(|(field, reason)| ConfigError::new(format!("{path}.{field}"), reason))?;
    builder
        .build()
        .map_err(|e| ConfigError::new(path.to_string(), format!("building HTTP client: {e}")))
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

/// `Retry-After` as seconds or an HTTP date; `None` when unparsable or not in the future.
pub(crate) fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return (secs > 0).then(|| Duration::from_secs(secs));
    }
    let at = parse_http_date(v)?;
    at.duration_since(SystemTime::now()).ok()
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form RFC 9110 requires senders to use.
fn parse_http_date(v: &str) -> Option<SystemTime> {
    let rest = v.split_once(", ")?.1;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts[..] else {
        return None;
    };
    let day: i64 = day.parse().ok()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == month)? as i64
        + 1;
    let year: i64 = year.parse().ok()?;
    let hms: Vec<i64> = time
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms[..] else { return None };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + m * 60 + s;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("0"), None);
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(UNIX_EPOCH + Duration::from_secs(784_111_777))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            None,
            "in the past"
        );
    }
}
