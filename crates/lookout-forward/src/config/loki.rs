//! A Loki push-out entry. Defaults follow Alloy's `loki.write` endpoint block (batch 1MiB or 1s, backoff 500ms to
//! 5m, timeout 10s); unlike Alloy there is no retry limit, because the disk queue holds what waits.

use std::collections::BTreeMap;

use lookout_model::http_client::{Authorization, BasicAuth, TlsConfig};
use lookout_model::{ByteSize, PromDuration};
use serde::{Deserialize, Serialize};

use super::{ConfigError, DiskQueueConfig, HttpSettings, check_disk, check_name, check_url};

fn default_timeout() -> PromDuration {
    PromDuration::from_secs(10)
}
fn default_batch_size() -> ByteSize {
    ByteSize(1 << 20)
}
fn default_batch_wait() -> PromDuration {
    PromDuration::from_secs(1)
}
fn default_min_backoff() -> PromDuration {
    PromDuration::from_millis(500)
}
fn default_max_backoff() -> PromDuration {
    PromDuration::from_secs(300)
}
fn default_true() -> bool {
    true
}

/// One Loki push-out endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LokiPushConfig {
    /// The push URL, e.g. `http://loki:3100/loki/api/v1/push`.
    pub url: lookout_model::http_client::ConfigUrl,
    /// Names the queue in metrics and its directory; default: a hash of the URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Extra request headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// HTTP basic authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    /// `Authorization` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    /// TLS settings.
    #[serde(default)]
    pub tls_config: TlsConfig,
    /// Timeout of one request. Default 10s.
    #[serde(default = "default_timeout")]
    pub timeout: PromDuration,
    /// Most line bytes per request. Default 1MiB.
    #[serde(default = "default_batch_size")]
    pub batch_size: ByteSize,
    /// Longest an entry waits for its batch to fill. Default 1s.
    #[serde(default = "default_batch_wait")]
    pub batch_wait: PromDuration,
    /// First retry delay. Default 500ms.
    #[serde(default = "default_min_backoff")]
    pub min_backoff: PromDuration,
    /// Longest retry delay. Default 5m.
    #[serde(default = "default_max_backoff")]
    pub max_backoff: PromDuration,
    /// Sent as `X-Scope-OrgID` when set.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tenant_id: String,
    /// Follow HTTP redirects. Default true.
    #[serde(default = "default_true")]
    pub follow_redirects: bool,
    /// The on-disk buffer.
    #[serde(default)]
    pub disk_queue: DiskQueueConfig,
}

impl LokiPushConfig {
    /// A config for `url` with every default.
    pub fn new(url: impl Into<String>) -> Self {
        serde_json::from_value(serde_json::json!({ "url": url.into() }))
            .expect("a URL alone is a valid Loki entry")
    }

    /// The name used for metrics and the queue directory: `name`, or a hash of the URL.
    pub fn effective_name(&self) -> String {
        if self.name.is_empty() {
            format!("loki-{:08x}", crc32fast::hash(self.url.as_bytes()))
        } else {
            self.name.clone()
        }
    }

    /// The HTTP settings, for the client builder.
    pub fn http(&self) -> HttpSettings {
        let mut headers = self.headers.clone();
        if !self.tenant_id.is_empty() {
            headers.insert("X-Scope-OrgID".into(), self.tenant_id.clone());
        }
        HttpSettings {
            headers,
            basic_auth: self.basic_auth.clone(),
            authorization: self.authorization.clone(),
            tls_config: self.tls_config.clone(),
            follow_redirects: self.follow_redirects,
            ..HttpSettings::default()
        }
    }

    /// Checks the entry; `path` is where it sits, e.g. `loki_push[0]`.
    pub fn validate(&self, path: &str) -> Result<(), ConfigError> {
        let err =
            |field: &str, reason: &str| Err(ConfigError::new(format!("{path}.{field}"), reason));
        check_url(&self.url).or_else(|r| err("url", &r))?;
        check_name(&self.name).or_else(|r| err("name", &r))?;
        if self.timeout.is_zero() {
            return err("timeout", "must be greater than 0");
        }
        if self.batch_size.0 == 0 {
            return err("batch_size", "must be greater than 0");
        }
        if self.batch_wait.is_zero() {
            return err("batch_wait", "must be greater than 0");
        }
        if self.max_backoff < self.min_backoff {
            return err("max_backoff", "must not be less than min_backoff");
        }
        if self
            .headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("x-scope-orgid"))
        {
            return err("headers", "set X-Scope-OrgID with tenant_id");
        }
        check_disk(&self.disk_queue).or_else(|r| err("disk_queue.max_size", &r))?;
        self.http().validate(path)
    }
}
