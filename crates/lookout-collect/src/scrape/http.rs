//! Fetching one exposition over HTTP: Prometheus's request headers, authentication, TLS, a timeout and a body cap.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::{
    ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, USER_AGENT,
};

use std::sync::Arc;

use super::body_memory::{BodyMemory, BodyReservation};
use super::error::ScrapeError;
use crate::config::ScrapeConfig;

/// Header telling the target how long the scraper will wait, in seconds.
pub const SCRAPE_TIMEOUT_HEADER: &str = "X-Prometheus-Scrape-Timeout-Seconds";

/// The User-Agent sent with scrapes.
pub const SCRAPE_USER_AGENT: &str = concat!("Lookout/", env!("CARGO_PKG_VERSION"));

/// A fetched, decompressed body and its content type.
#[derive(Debug, Clone)]
pub struct FetchedBody {
    /// The uncompressed exposition.
    pub body: Vec<u8>,
    /// The response `Content-Type`, which picks the parser.
    pub content_type: Option<String>,
}

/// An HTTP client configured for one scrape job.
#[derive(Debug, Clone)]
pub struct JobClient {
    client: reqwest::Client,
    config: std::sync::Arc<ScrapeConfig>,
}

impl JobClient {
    /// Builds the client: TLS roots and identity are read now (at configuration time); credential files are read
    /// at each scrape so rotated secrets take effect, as in Prometheus.
    pub fn new(config: std::sync::Arc<ScrapeConfig>) -> Result<Self, ScrapeError> {
        let tls = super::tls::client_config(&config.tls_config)?;
        let builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(10))
            .pool_max_idle_per_host(2)
            .use_preconfigured_tls(tls);
        let client = builder
            .build()
            .map_err(|e| ScrapeError::Client(e.to_string()))?;
        Ok(JobClient { client, config })
    }

    fn authorization_header(&self) -> Result<Option<String>, ScrapeError> {
        let c = &self.config;
        let read_secret = |what: &'static str, path: &str| -> Result<String, ScrapeError> {
            let text = std::fs::read_to_string(path).map_err(|e| ScrapeError::Credentials {
                what,
                path: path.to_string(),
                reason: e.to_string(),
            })?;
            Ok(text.trim_end_matches(['\n', '\r']).to_string())
        };
        if let Some(basic) = &c.basic_auth {
            let password = match (&basic.password, &basic.password_file) {
                (_, Some(file)) => read_secret("basic_auth.password_file", file)?,
                (Some(p), None) => p.expose().to_string(),
                (None, None) => String::new(),
            };
            return Ok(Some(format!(
                "Basic {}",
                base64_encode(format!("{}:{password}", basic.username).as_bytes())
            )));
        }
        if let Some(auth) = &c.authorization {
            let credentials = match (&auth.credentials, &auth.credentials_file) {
                (_, Some(file)) => read_secret("authorization.credentials_file", file)?,
                (Some(cred), None) => cred.expose().to_string(),
                (None, None) => String::new(),
            };
            return Ok(Some(format!("{} {credentials}", auth.kind)));
        }
        if let Some(file) = &c.bearer_token_file {
            return Ok(Some(format!(
                "Bearer {}",
                read_secret("bearer_token_file", file)?
            )));
        }
        Ok(c.bearer_token
            .as_ref()
            .map(|t| format!("Bearer {}", t.expose())))
    }

    /// Scrapes `url`: fails on a non-200 status, on `timeout`, when the compressed or decompressed body exceeds
    /// `max_body_bytes`, or when it does not fit in what is left of `memory` (the bytes stay reserved until the
    /// returned reservation is dropped).
    pub async fn fetch(
        &self,
        url: &str,
        timeout: Duration,
        max_body_bytes: usize,
        memory: &Arc<BodyMemory>,
    ) -> Result<(FetchedBody, BodyReservation), ScrapeError> {
        let fetch = self.fetch_inner(url, timeout, max_body_bytes, memory.reservation());
        match tokio::time::timeout(timeout, fetch).await {
            Ok(result) => result,
            Err(_) => Err(ScrapeError::Timeout(timeout)),
        }
    }

    async fn fetch_inner(
        &self,
        url: &str,
        timeout: Duration,
        max_body_bytes: usize,
        mut reservation: BodyReservation,
    ) -> Result<(FetchedBody, BodyReservation), ScrapeError> {
        let request_error = |e: reqwest::Error| {
            if e.is_timeout() {
                ScrapeError::Timeout(timeout)
            } else {
                ScrapeError::Request {
                    // A target URL may carry user information; its password stays out of the error.
                    url: lookout_model::http_client::redact_url(url),
                    reason: error_chain(&e),
                }
            }
        };
        let mut request = self
            .client
            .get(url)
            .timeout(timeout)
            .header(ACCEPT, lookout_wire::exposition::SCRAPE_ACCEPT_HEADER)
            .header(ACCEPT_ENCODING, "gzip")
            .header(USER_AGENT, SCRAPE_USER_AGENT)
            .header(SCRAPE_TIMEOUT_HEADER, format_seconds(timeout));
        if let Some(auth) = self.authorization_header()? {
            request = request.header(AUTHORIZATION, auth);
        }
        let response = request.send().await.map_err(request_error)?;
        if response.status() != reqwest::StatusCode::OK {
            let s = response.status();
            return Err(ScrapeError::Status {
                status: format!("{} {}", s.as_u16(), s.canonical_reason().unwrap_or(""))
                    .trim_end()
                    .to_string(),
            });
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header(CONTENT_TYPE);
        let content_encoding = header(CONTENT_ENCODING);
        if response
            .content_length()
            .is_some_and(|n| n > max_body_bytes as u64)
        {
            return Err(ScrapeError::BodySizeLimit {
                limit: max_body_bytes,
            });
        }
        let memory_error = |r: &BodyReservation| ScrapeError::BodyMemory {
            share: r.capacity(),
        };
        let capacity = response
            .content_length()
            .unwrap_or(64 * 1024)
            .min(max_body_bytes as u64) as usize;
        if !reservation.grow(capacity) {
            return Err(memory_error(&reservation));
        }
        let mut raw = Vec::with_capacity(capacity);
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(request_error)?;
            if raw.len() + chunk.len() > max_body_bytes {
                return Err(ScrapeError::BodySizeLimit {
                    limit: max_body_bytes,
                });
            }
            // Reserve what the vector grows by, not what it holds: its capacity is the memory.
            let before = raw.capacity();
            raw.extend_from_slice(&chunk);
            if raw.capacity() > before && !reservation.grow(raw.capacity() - before) {
                return Err(memory_error(&reservation));
            }
        }
        let body = match content_encoding.as_deref() {
            None => raw,
            Some(enc) => {
                let decoded = lookout_wire::decode_body(&raw, Some(enc), max_body_bytes)
                    .map_err(|e| match e {
                        lookout_wire::BodyError::BodyTooLarge { limit } => {
                            ScrapeError::BodySizeLimit { limit }
                        }
                        other => ScrapeError::Body(other),
                    })?
                    .into_owned();
                if !reservation.grow(decoded.capacity()) {
                    return Err(memory_error(&reservation));
                }
                decoded
            }
        };
        Ok((FetchedBody { body, content_type }, reservation))
    }
}

/// The error and its causes, joined, since reqwest's top-level message alone rarely says what went wrong.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Seconds as Go's `strconv.FormatFloat(s, 'f', -1, 64)` prints them: `10`, `0.5`, `2.25`.
pub fn format_seconds(d: Duration) -> String {
    let secs = d.as_secs_f64();
    let text = format!("{secs}");
    text.strip_suffix(".0").map(str::to_string).unwrap_or(text)
}

/// Standard base64 with padding, for the basic-auth header.
fn base64_encode(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(base64_encode(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64_encode(b"a"), "YQ==");
        assert_eq!(base64_encode(b"ab"), "YWI=");
        assert_eq!(base64_encode(b""), "");
        assert_eq!(format_seconds(Duration::from_secs(10)), "10");
        assert_eq!(format_seconds(Duration::from_millis(2500)), "2.5");
    }

    fn client(extra: &str) -> JobClient {
        let yaml = format!("job_name: a\n{extra}");
        let mut c: ScrapeConfig = serde_yaml_ng::from_str(&yaml).unwrap();
        c.resolve(0, &crate::config::GlobalConfig::default())
            .unwrap();
        JobClient::new(std::sync::Arc::new(c)).unwrap()
    }

    #[test]
    fn authorization_headers() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "from-file\n").unwrap();
        let secret = secret.display().to_string();
        let cases = [
            (
                "basic_auth: {username: user, password: pass}".to_string(),
                Some("Basic dXNlcjpwYXNz".to_string()),
            ),
            (
                format!("basic_auth: {{username: u, password_file: '{secret}'}}"),
                Some(format!("Basic {}", base64_encode(b"u:from-file"))),
            ),
            (
                "authorization: {credentials: tok}".to_string(),
                Some("Bearer tok".to_string()),
            ),
            (
                format!("authorization: {{type: Token, credentials_file: '{secret}'}}"),
                Some("Token from-file".to_string()),
            ),
            (
                "bearer_token: abc".to_string(),
                Some("Bearer abc".to_string()),
            ),
            (
                format!("bearer_token_file: '{secret}'"),
                Some("Bearer from-file".to_string()),
            ),
            (String::new(), None),
        ];
        for (yaml, want) in cases {
            assert_eq!(
                client(&yaml).authorization_header().unwrap(),
                want,
                "{yaml}"
            );
        }
        let missing = client("bearer_token_file: /nonexistent/token")
            .authorization_header()
            .unwrap_err();
        assert!(
            missing.to_string().contains("/nonexistent/token"),
            "{missing}"
        );
    }

    /// Secrets of every kind, and where they must never show: the job's `Debug` output and a failed request's
    /// error (the target's last error, shown by `/api/v1/targets` and logged).
    #[tokio::test]
    async fn secrets_stay_out_of_debug_output_and_request_errors() {
        let secrets = ["pa55-basic", "t0ken-authz", "t0ken-bearer", "pw-in-url"];
        for auth in [
            "basic_auth: {username: user, password: pa55-basic}",
            "authorization: {credentials: t0ken-authz}",
            "bearer_token: t0ken-bearer",
        ] {
            let job = client(auth);
            let text = format!("{job:?} {:#?}", job.config);
            for s in secrets {
                assert!(!text.contains(s), "{s} in {text}");
            }
            // Nothing listens on port 1: the request fails, with the URL in the message but not its password.
            let pool = crate::scrape::body_memory::BodyMemory::new(1 << 20);
            let err = job
                .fetch(
                    "http://user:pw-in-url@127.0.0.1:1/metrics",
                    Duration::from_secs(5),
                    1 << 20,
                    &pool,
                )
                .await
                .unwrap_err()
                .to_string();
            assert!(err.contains("127.0.0.1:1"), "{err}");
            for s in secrets {
                assert!(!err.contains(s), "{s} in {err}");
            }
        }
    }
}
