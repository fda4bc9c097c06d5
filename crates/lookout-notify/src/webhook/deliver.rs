//! Posting one webhook message, retried with exponential backoff until a deadline: connection errors, 5xx and
//! 429 are retried, any other non-2xx status is final.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::config::WebhookConfig;
use crate::config::ConfigError;
use crate::http::error_chain;

/// Counters of one webhook, for self-metrics.
#[derive(Debug, Default)]
pub(crate) struct IntegrationCounters {
    /// Notifications attempted (each may take several requests).
    pub notifications: AtomicU64,
    /// Notifications accepted by the webhook.
    pub notifications_delivered: AtomicU64,
    /// Notifications that failed after their last attempt.
    pub notifications_failed: AtomicU64,
    /// HTTP requests made.
    pub requests: AtomicU64,
    /// HTTP requests that failed.
    pub requests_failed: AtomicU64,
}

/// One webhook of one receiver, ready to post.
#[derive(Debug)]
pub(crate) struct Integration {
    pub receiver: String,
    /// Position among the receiver's webhooks; Alertmanager names the integration `webhook[<index>]`.
    pub index: usize,
    pub config: WebhookConfig,
    client: reqwest::Client,
    pub counters: IntegrationCounters,
}

/// The outcome of one request.
enum Attempt {
    Delivered,
    Retry(String),
    Final(String),
}

/// Alertmanager's backoff grows by half each time; a shorter start than its 500 ms lets short group intervals
/// (as in tests and impatient homelabs) still fit a few retries.
const BACKOFF_FACTOR: f64 = 1.5;
const MAX_INITIAL_BACKOFF: Duration = Duration::from_millis(500);
const MIN_INITIAL_BACKOFF: Duration = Duration::from_millis(10);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The first retry wait for a flush that may last `budget`: an eighth of it, between 10 ms and 500 ms.
pub(crate) fn initial_backoff(budget: Duration) -> Duration {
    (budget / 8).clamp(MIN_INITIAL_BACKOFF, MAX_INITIAL_BACKOFF)
}

impl Integration {
    /// Builds the HTTP client; `path` names the webhook in configuration errors.
    pub fn new(
        receiver: &str,
        index: usize,
        config: WebhookConfig,
        path: &str,
    ) -> Result<Self, ConfigError> {
        let client = config
            .http_config
            .build_client(&format!("{path}.http_config"))?;
        Ok(Integration {
            receiver: receiver.to_string(),
            index,
            config,
            client,
            counters: IntegrationCounters::default(),
        })
    }

    /// `webhook[<index>]`, Alertmanager's integration name.
    pub fn name(&self) -> String {
        format!("webhook[{}]", self.index)
    }

    async fn attempt(&self, body: &[u8], timeout: Duration) -> Attempt {
        let request = self
            .client
            .post(&self.config.url)
            .timeout(timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        let request = match self.config.http_config.authorize(request) {
            Ok(r) => r,
            Err(e) => return Attempt::Retry(e),
        };
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return Attempt::Retry(format!("timed out after {timeout:?}"));
            }
            // Without the URL: a webhook URL often carries a token (Alertmanager redacts it the same way).
            Err(e) => return Attempt::Retry(error_chain(&e.without_url())),
        };
        let status = response.status();
        if status.is_success() {
            return Attempt::Delivered;
        }
        let detail = response.text().await.unwrap_or_default();
        let detail = detail.trim();
        let reason = if detail.is_empty() {
            format!("unexpected status code {}", status.as_u16())
        } else {
            format!("unexpected status code {}: {detail}", status.as_u16())
        };
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            Attempt::Retry(reason)
        } else {
            Attempt::Final(reason)
        }
    }

    /// Posts `body` until it is accepted, a final error occurs, or `deadline` passes.
    pub async fn deliver(&self, body: &[u8], deadline: Instant) -> Result<(), String> {
        let budget = deadline.saturating_duration_since(Instant::now());
        let mut backoff = initial_backoff(budget);
        let mut attempts = 0u32;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!(
                    "gave up after {attempts} attempts: deadline reached"
                ));
            }
            let timeout = match self.config.timeout {
                Some(t) if !t.is_zero() => t.as_duration().min(left),
                _ => left,
            };
            attempts += 1;
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            let reason = match self.attempt(body, timeout).await {
                Attempt::Delivered => return Ok(()),
                Attempt::Final(reason) => {
                    self.counters
                        .requests_failed
                        .fetch_add(1, Ordering::Relaxed);
                    return Err(format!("not retried after {attempts} attempts: {reason}"));
                }
                Attempt::Retry(reason) => {
                    self.counters
                        .requests_failed
                        .fetch_add(1, Ordering::Relaxed);
                    reason
                }
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if left <= backoff {
                return Err(format!("gave up after {attempts} attempts: {reason}"));
            }
            tracing::debug!(receiver = %self.receiver, integration = %self.name(), attempts, %reason, "webhook attempt failed, retrying");
            tokio::time::sleep(backoff).await;
            backoff = backoff.mul_f64(BACKOFF_FACTOR).min(MAX_BACKOFF);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_backoff_is_bounded() {
        assert_eq!(
            initial_backoff(Duration::from_secs(300)),
            MAX_INITIAL_BACKOFF
        );
        assert_eq!(
            initial_backoff(Duration::from_millis(40)),
            MIN_INITIAL_BACKOFF
        );
        assert_eq!(
            initial_backoff(Duration::from_millis(800)),
            Duration::from_millis(100)
        );
    }
}
