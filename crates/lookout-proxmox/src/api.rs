//! A minimal PVE API client (proxmoxer's https backend as the exporter uses it): GETs under
//! `https://<host>:<port>/api2/json`, token or ticket authentication, a timeout per request, a cap on reply
//! size, and `{"data": …}` unwrapping. Errors carry the method, the URL (never a secret), the HTTP status and
//! PVE's `message`.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, COOKIE, HeaderValue};
use reqwest::{Client, Method, Response, StatusCode, Url};
use serde_json::Value;

use crate::target::ApiTarget;

/// Why an API call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// PVE answered with HTTP ≥ 400.
    #[error("{method} {url}: HTTP {status}: {message}")]
    Status {
        /// `GET` or `POST`.
        method: &'static str,
        /// The URL requested (no credentials in it).
        url: String,
        /// The HTTP status code.
        status: u16,
        /// PVE's `message` (trimmed), else the status line's reason; `errors` appended for 400s.
        message: String,
    },
    /// The request timed out.
    #[error("{method} {url}: timed out after {timeout:?}")]
    Timeout {
        /// `GET` or `POST`.
        method: &'static str,
        /// The URL requested.
        url: String,
        /// The configured timeout.
        timeout: Duration,
    },
    /// Connecting, TLS, or reading the reply failed.
    #[error("{method} {url}: {reason}")]
    Transport {
        /// `GET` or `POST`.
        method: &'static str,
        /// The URL requested.
        url: String,
        /// The error chain.
        reason: String,
    },
    /// The reply is larger than `body_size_limit`.
    #[error("{method} {url}: reply larger than the body size limit of {limit} bytes")]
    TooLarge {
        /// `GET` or `POST`.
        method: &'static str,
        /// The URL requested.
        url: String,
        /// The limit.
        limit: u64,
    },
    /// The reply is not JSON or has no `data` key.
    #[error("{method} {url}: {reason}")]
    BadReply {
        /// `GET` or `POST`.
        method: &'static str,
        /// The URL requested.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The ticket login was refused or incomplete.
    #[error("couldn't authenticate user {user} at POST {url}: {reason}")]
    Login {
        /// `user@realm`.
        user: String,
        /// The ticket URL.
        url: String,
        /// Why.
        reason: String,
    },
}

impl ApiError {
    /// True when PVE answered with an HTTP error status (what proxmoxer raises as `ResourceException`).
    pub fn is_http_status(&self) -> bool {
        matches!(self, ApiError::Status { .. })
    }
}

/// Credentials for one collection.
#[derive(Clone)]
pub enum Credentials {
    /// The complete `Authorization` header value `PVEAPIToken=user@realm!name=secret`.
    Token(String),
    /// Log in with user and password first.
    Password {
        /// `user@realm`.
        user: String,
        /// The password.
        password: String,
    },
}

/// One PVE host's API for the span of one collection (a ticket is fetched per collection, as upstream does).
pub struct PveApi {
    client: Client,
    base: Url,
    timeout: Duration,
    body_limit: u64,
    auth: HeaderAuth,
}

enum HeaderAuth {
    Authorization(HeaderValue),
    Cookie(HeaderValue),
}

fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let s = e.to_string();
        if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
        source = e.source();
    }
    text
}

impl PveApi {
    /// Prepares calls to `target`; with a password, logs in (`POST /access/ticket`) first.
    pub async fn connect(
        client: Client,
        target: &ApiTarget,
        credentials: Credentials,
        timeout: Duration,
        body_limit: u64,
    ) -> Result<Self, ApiError> {
        let base = Url::parse(&format!("{}/api2/json", target.base_url())).map_err(|e| {
            ApiError::Transport {
                method: "GET",
                url: target.base_url(),
                reason: e.to_string(),
            }
        })?;
        let mut api = PveApi {
            client,
            base,
            timeout,
            body_limit,
            auth: HeaderAuth::Authorization(HeaderValue::from_static("")),
        };
        api.auth = match credentials {
            Credentials::Token(header) => {
                let mut value = HeaderValue::from_str(&header).map_err(|_| ApiError::Login {
                    user: String::new(),
                    url: api.base.to_string(),
                    reason: "the token contains characters not allowed in an HTTP header".into(),
                })?;
                value.set_sensitive(true);
                HeaderAuth::Authorization(value)
            }
            Credentials::Password { user, password } => api.login(&user, &password).await?,
        };
        Ok(api)
    }

    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    async fn login(&self, user: &str, password: &str) -> Result<HeaderAuth, ApiError> {
        let url = self.url(&["access", "ticket"], &[]);
        let url_text = url.to_string();
        let request = self
            .client
            .request(Method::POST, url)
            .form(&[("username", user), ("password", password)]);
        let login_error = |reason: String| ApiError::Login {
            user: user.to_string(),
            url: url_text.clone(),
            reason,
        };
        let reply = self.send("POST", &url_text, request).await?;
        let json: Value = serde_json::from_slice(&reply.body)
            .map_err(|e| login_error(format!("HTTP {}: reply is not JSON ({e})", reply.status)))?;
        let data = json.get("data").unwrap_or(&Value::Null);
        if data.is_null() {
            let message = pve_message(&json).unwrap_or_else(|| reply.reason.clone());
            return Err(login_error(format!("HTTP {}: {message}", reply.status)));
        }
        if data.get("NeedTFA").is_some_and(|v| !v.is_null()) {
            return Err(login_error(
                "missing Two Factor Authentication (TFA)".to_string(),
            ));
        }
        let ticket = data
            .get("ticket")
            .and_then(Value::as_str)
            .ok_or_else(|| login_error("reply has no ticket".to_string()))?;
        let mut cookie = HeaderValue::from_str(&format!("PVEAuthCookie={ticket}"))
            .map_err(|_| login_error("ticket is not a valid cookie value".to_string()))?;
        cookie.set_sensitive(true);
        Ok(HeaderAuth::Cookie(cookie))
    }

    /// `GET /api2/json/<segments…>?<query>` and the reply's `data`. Path segments are percent-encoded.
    pub async fn get(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<Value, ApiError> {
        let url = self.url(segments, query);
        let url_text = url.to_string();
        let request = self.client.request(Method::GET, url);
        let request = match &self.auth {
            HeaderAuth::Authorization(v) => request.header(AUTHORIZATION, v.clone()),
            HeaderAuth::Cookie(v) => request.header(COOKIE, v.clone()),
        };
        let reply = self.send("GET", &url_text, request).await?;
        let bad = |reason: String| ApiError::BadReply {
            method: "GET",
            url: url_text.clone(),
            reason,
        };
        if reply.status >= 400 {
            // PVE puts the reason both in the status line and in `message`; 400s add per-parameter `errors`.
            let json: Option<Value> = serde_json::from_slice(&reply.body).ok();
            let mut message = json
                .as_ref()
                .and_then(pve_message)
                .unwrap_or_else(|| reply.reason.clone());
            if let Some(errors) = json
                .as_ref()
                .and_then(|r| r.get("errors"))
                .filter(|e| !e.is_null())
            {
                message = format!("{message} - {errors}");
            }
            return Err(ApiError::Status {
                method: "GET",
                url: url_text,
                status: reply.status,
                message,
            });
        }
        let status = reply.status;
        let parsed = if reply.body.len() > BLOCKING_PARSE_THRESHOLD {
            // Parsing megabytes of JSON would hold an async worker too long.
            tokio::task::spawn_blocking(move || serde_json::from_slice::<Value>(&reply.body))
                .await
                .map_err(|e| bad(format!("parsing the reply: {e}")))?
        } else {
            serde_json::from_slice::<Value>(&reply.body)
        };
        let mut json =
            parsed.map_err(|e| bad(format!("HTTP {status}: reply is not JSON ({e})")))?;
        match json.get_mut("data") {
            Some(data) => Ok(data.take()),
            None => Err(bad("reply has no \"data\" key".to_string())),
        }
    }

    /// Sends with the timeout and reads the body up to the limit.
    async fn send(
        &self,
        method: &'static str,
        url: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Reply, ApiError> {
        let timeout = self.timeout;
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                ApiError::Timeout {
                    method,
                    url: url.to_string(),
                    timeout,
                }
            } else {
                ApiError::Transport {
                    method,
                    url: url.to_string(),
                    reason: error_chain(&e.without_url()),
                }
            }
        };
        let exchange = async {
            let mut response: Response = request
                .header(reqwest::header::ACCEPT, "application/json")
                .send()
                .await
                .map_err(transport)?;
            let status = response.status();
            let reason = response
                .extensions()
                .get::<hyper::ext::ReasonPhrase>()
                .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
                .unwrap_or_else(|| status_text(status));
            let too_large = || ApiError::TooLarge {
                method,
                url: url.to_string(),
                limit: self.body_limit,
            };
            if response
                .content_length()
                .is_some_and(|n| n > self.body_limit)
            {
                return Err(too_large());
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(transport)? {
                if (body.len() + chunk.len()) as u64 > self.body_limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Reply {
                status: status.as_u16(),
                reason,
                body,
            })
        };
        // The whole exchange, body included, must finish within the timeout.
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or_else(|_| {
                Err(ApiError::Timeout {
                    method,
                    url: url.to_string(),
                    timeout,
                })
            })
    }
}

/// Replies larger than this are parsed on the blocking pool.
const BLOCKING_PARSE_THRESHOLD: usize = 128 * 1024;

/// A reply read in full.
struct Reply {
    status: u16,
    /// The status line's reason phrase (PVE writes its error there), or the canonical one.
    reason: String,
    body: Vec<u8>,
}

/// PVE's error `message`, trimmed of its trailing newline.
fn pve_message(reply: &Value) -> Option<String> {
    reply
        .get("message")
        .and_then(Value::as_str)
        .map(|m| m.trim_end().to_string())
        .filter(|m| !m.is_empty())
}

fn status_text(status: StatusCode) -> String {
    status
        .canonical_reason()
        .unwrap_or("unknown status")
        .to_string()
}
