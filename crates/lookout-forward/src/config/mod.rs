//! Forwarding configuration: Prometheus's `remote_write` entries (same field names and defaults) plus Lookout's
//! `disk_queue`, and the Loki push-out entries. Fields Prometheus has and Lookout does not implement are accepted
//! by the parser only to be refused by name in [`RemoteWriteConfig::validate`], never silently ignored.

mod http;
mod loki;

use std::collections::BTreeMap;

use lookout_model::http_client::{Authorization, BasicAuth, TlsConfig};
use lookout_model::relabel::{RelabelConfig, RelabelError};
use lookout_model::{ByteSize, PromDuration};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

pub(crate) use http::check_url;
pub use http::{HttpSettings, OAuth2Config};
pub use loki::LokiPushConfig;

/// A configuration fault: the field path (`remote_write[0].queue_config.max_shards`) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ConfigError {
    /// The full path of the field at fault.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

impl ConfigError {
    /// A fault of `field`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ConfigError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// `protobuf_message`: which remote_write message to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ProtobufMessage {
    /// Remote-Write 1.0.
    #[default]
    #[serde(rename = "prometheus.WriteRequest")]
    V1,
    /// Remote-Write 2.0.
    #[serde(rename = "io.prometheus.write.v2.Request")]
    V2,
}

/// `disk_queue` (Lookout extension): the endpoint's on-disk buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiskQueueConfig {
    /// Bound of the queue's files; beyond it the oldest data is dropped and counted. Default 1GiB.
    #[serde(default = "default_disk_max")]
    pub max_size: ByteSize,
}

fn default_disk_max() -> ByteSize {
    ByteSize(1 << 30)
}

impl Default for DiskQueueConfig {
    fn default() -> Self {
        DiskQueueConfig {
            max_size: default_disk_max(),
        }
    }
}

/// `queue_config`, with Prometheus's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    /// Samples buffered in memory per shard (the reader stops reading the disk queue beyond
    /// `capacity × shards` samples in flight). Default 10000.
    pub capacity: usize,
    /// Most concurrent senders. Default 50.
    pub max_shards: usize,
    /// Fewest concurrent senders. Default 1.
    pub min_shards: usize,
    /// Most samples per request. Default 2000.
    pub max_samples_per_send: usize,
    /// Longest a sample waits for its batch to fill. Default 5s.
    pub batch_send_deadline: PromDuration,
    /// First retry delay. Default 30ms.
    pub min_backoff: PromDuration,
    /// Longest retry delay. Default 5s.
    pub max_backoff: PromDuration,
    /// Retry on 429 instead of dropping the batch. Default false (as Prometheus).
    pub retry_on_http_429: bool,
    /// Samples older than this when read are dropped (0: never). Default 0.
    pub sample_age_limit: PromDuration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            capacity: 10_000,
            max_shards: 50,
            min_shards: 1,
            max_samples_per_send: 2000,
            batch_send_deadline: PromDuration::from_secs(5),
            min_backoff: PromDuration::from_millis(30),
            max_backoff: PromDuration::from_secs(5),
            retry_on_http_429: false,
            sample_age_limit: PromDuration::default(),
        }
    }
}

/// `metadata_config`, with Prometheus's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetadataConfig {
    /// Send metric metadata. Default true.
    pub send: bool,
    /// How often (1.0: a metadata-only request; 2.0: the per-series metadata is refreshed). Default 1m.
    pub send_interval: PromDuration,
    /// Most metadata entries per 1.0 request. Default 2000.
    pub max_samples_per_send: usize,
}

impl Default for MetadataConfig {
    fn default() -> Self {
        MetadataConfig {
            send: true,
            send_interval: PromDuration::from_secs(60),
            max_samples_per_send: 2000,
        }
    }
}

fn default_remote_timeout() -> PromDuration {
    PromDuration::from_secs(30)
}

fn default_true() -> bool {
    true
}

/// One `remote_write` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteWriteConfig {
    /// The receiver's URL.
    pub url: lookout_model::http_client::ConfigUrl,
    /// Names the queue in metrics (`remote_name`) and its directory; default: a hash of the URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Timeout of one request. Default 30s.
    #[serde(default = "default_remote_timeout")]
    pub remote_timeout: PromDuration,
    /// Extra request headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Relabeling applied to every series before sending.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub write_relabel_configs: Vec<RelabelConfig>,
    /// Which message to send. Default `prometheus.WriteRequest`.
    #[serde(default)]
    pub protobuf_message: ProtobufMessage,
    /// HTTP basic authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    /// `Authorization` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    /// Bearer token (deprecated in Prometheus; `Debug` prints `<secret>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<lookout_model::http_client::Secret>,
    /// File holding a bearer token (deprecated in Prometheus).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token_file: Option<String>,
    /// OAuth 2.0 client credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<OAuth2Config>,
    /// TLS settings.
    #[serde(default)]
    pub tls_config: TlsConfig,
    /// Follow HTTP redirects. Default true.
    #[serde(default = "default_true")]
    pub follow_redirects: bool,
    /// Queue and sending settings.
    #[serde(default)]
    pub queue_config: QueueConfig,
    /// Metadata settings.
    #[serde(default)]
    pub metadata_config: MetadataConfig,
    /// Lookout extension: the on-disk buffer.
    #[serde(default)]
    pub disk_queue: DiskQueueConfig,
    /// Exemplars are not stored by Lookout: `true` is refused.
    #[serde(default, skip_serializing)]
    pub send_exemplars: Option<bool>,
    /// Native histograms are not stored by Lookout: `true` is refused.
    #[serde(default, skip_serializing)]
    pub send_native_histograms: Option<bool>,
    /// HTTP/2 is not offered by the forwarder: `true` is refused.
    #[serde(default, skip_serializing)]
    pub enable_http2: Option<bool>,
    /// Refused when `true`.
    #[serde(default, skip_serializing)]
    pub proxy_from_environment: Option<bool>,
    /// Refused when `true`.
    #[serde(default, skip_serializing)]
    pub round_robin_dns: Option<bool>,
    /// Not implemented: refused.
    #[serde(default, skip_serializing)]
    pub sigv4: Option<IgnoredAny>,
    /// Not implemented: refused.
    #[serde(default, skip_serializing)]
    pub azuread: Option<IgnoredAny>,
    /// Not implemented: refused.
    #[serde(default, skip_serializing)]
    pub google_iam: Option<IgnoredAny>,
    /// Not implemented: refused.
    #[serde(default, skip_serializing)]
    pub proxy_url: Option<IgnoredAny>,
    /// Not implemented: refused.
    #[serde(default, skip_serializing)]
    pub no_proxy: Option<IgnoredAny>,
    /// Not implemented: refused.
    #[serde(default, skip_serializing)]
    pub proxy_connect_header: Option<IgnoredAny>,
    /// Not implemented: refused.
    #[serde(default, skip_serializing)]
    pub http_headers: Option<IgnoredAny>,
}

impl RemoteWriteConfig {
    /// A config for `url` with every default.
    pub fn new(url: impl Into<String>) -> Self {
        serde_json::from_value(serde_json::json!({ "url": url.into() }))
            .expect("a URL alone is a valid remote_write entry")
    }

    /// The name used for metrics and the queue directory: `name`, or a hash of the URL.
    pub fn effective_name(&self) -> String {
        if self.name.is_empty() {
            format!("{:08x}", crc32fast::hash(self.url.as_bytes()))
        } else {
            self.name.clone()
        }
    }

    /// The HTTP settings, for the client builder.
    pub fn http(&self) -> HttpSettings {
        HttpSettings {
            headers: self.headers.clone(),
            basic_auth: self.basic_auth.clone(),
            authorization: self.authorization.clone(),
            bearer_token: self.bearer_token.clone(),
            bearer_token_file: self.bearer_token_file.clone(),
            oauth2: self.oauth2.clone(),
            tls_config: self.tls_config.clone(),
            follow_redirects: self.follow_redirects,
        }
    }

    /// Checks the entry; `path` is where it sits, e.g. `remote_write[0]`.
    pub fn validate(&self, path: &str) -> Result<(), ConfigError> {
        let err =
            |field: &str, reason: &str| Err(ConfigError::new(format!("{path}.{field}"), reason));
        let refused_true = [
            (
                "send_exemplars",
                self.send_exemplars,
                "exemplars are not stored by Lookout, so there are none to send",
            ),
            (
                "send_native_histograms",
                self.send_native_histograms,
                "native histograms are not stored by Lookout, so there are none to send",
            ),
            (
                "enable_http2",
                self.enable_http2,
                "the forwarder speaks HTTP/1.1 only",
            ),
            (
                "proxy_from_environment",
                self.proxy_from_environment,
                "proxies are not supported by the forwarder",
            ),
            (
                "round_robin_dns",
                self.round_robin_dns,
                "not supported by the forwarder",
            ),
        ];
        for (field, value, why) in refused_true {
            if value == Some(true) {
                return err(field, &format!("not supported: {why}"));
            }
        }
        let refused = [
            ("sigv4", self.sigv4.is_some()),
            ("azuread", self.azuread.is_some()),
            ("google_iam", self.google_iam.is_some()),
            ("proxy_url", self.proxy_url.is_some()),
            ("no_proxy", self.no_proxy.is_some()),
            ("proxy_connect_header", self.proxy_connect_header.is_some()),
            ("http_headers", self.http_headers.is_some()),
        ];
        for (field, set) in refused {
            if set {
                return err(field, "not supported by Lookout's forwarder; remove it");
            }
        }
        check_url(&self.url).or_else(|r| err("url", &r))?;
        check_name(&self.name).or_else(|r| err("name", &r))?;
        if self.remote_timeout.is_zero() {
            return err("remote_timeout", "must be greater than 0");
        }
        RelabelConfig::validate_all(&self.write_relabel_configs).map_err(|e| match e {
            RelabelError::InvalidField {
                index,
                field,
                reason,
            } => ConfigError::new(
                format!("{path}.write_relabel_configs[{index}].{field}"),
                reason,
            ),
        })?;
        let q = &self.queue_config;
        let qerr = |field: &str, reason: &str| err(&format!("queue_config.{field}"), reason);
        if q.max_shards == 0 {
            return qerr("max_shards", "must be at least 1");
        }
        if q.min_shards == 0 {
            return qerr("min_shards", "must be at least 1");
        }
        if q.min_shards > q.max_shards {
            return qerr("min_shards", "must not exceed max_shards");
        }
        if q.max_samples_per_send == 0 {
            return qerr("max_samples_per_send", "must be at least 1");
        }
        if q.capacity == 0 {
            return qerr("capacity", "must be at least 1");
        }
        if q.batch_send_deadline.is_zero() {
            return qerr("batch_send_deadline", "must be greater than 0");
        }
        if q.max_backoff < q.min_backoff {
            return qerr("max_backoff", "must not be less than min_backoff");
        }
        if self.metadata_config.send && self.metadata_config.send_interval.is_zero() {
            return err("metadata_config.send_interval", "must be greater than 0");
        }
        if self.metadata_config.max_samples_per_send == 0 {
            return err("metadata_config.max_samples_per_send", "must be at least 1");
        }
        check_disk(&self.disk_queue).or_else(|r| err("disk_queue.max_size", &r))?;
        self.http().validate(path)
    }
}

pub(crate) fn check_disk(d: &DiskQueueConfig) -> Result<(), String> {
    if d.max_size.0 < 1 << 20 {
        return Err("must be at least 1MiB".into());
    }
    Ok(())
}

/// Queue names become directory names: letters, digits, `_`, `-`, `.`, not `.` or `..`.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    let ok = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if !ok || name == "." || name == ".." || name.len() > 128 {
        return Err(format!(
            "{name:?}: Lookout uses the name as a directory; use letters, digits, '_', '-' and '.' (at most 128)"
        ));
    }
    Ok(())
}

/// Checks a whole forwarding setup: every entry, and names unique across remote_write and Loki entries (they
/// share `<data>/forward/`).
pub fn validate_all(
    remote_write: &[RemoteWriteConfig],
    loki: &[LokiPushConfig],
) -> Result<(), ConfigError> {
    let mut names = std::collections::HashSet::new();
    for (i, c) in remote_write.iter().enumerate() {
        let path = format!("remote_write[{i}]");
        c.validate(&path)?;
        if !names.insert(c.effective_name()) {
            return Err(ConfigError::new(
                format!("{path}.name"),
                format!("duplicate name {:?}", c.effective_name()),
            ));
        }
    }
    for (i, c) in loki.iter().enumerate() {
        let path = format!("loki_push[{i}]");
        c.validate(&path)?;
        if !names.insert(c.effective_name()) {
            return Err(ConfigError::new(
                format!("{path}.name"),
                format!("duplicate name {:?}", c.effective_name()),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
