//! Lookout's built-in notification section: Alertmanager's `route` tree and `receivers` with `webhook_configs`,
//! same field names, defaults and validation, nothing else.

use std::collections::BTreeMap;

use lookout_model::PromDuration;
use serde::{Deserialize, Serialize};

use super::route::RouteTree;
use crate::config::{ConfigError, from_yaml, join};
use crate::http::HttpClientConfig;

/// The whole section: a routing tree and the receivers it names.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookNotifierConfig {
    /// The root route; it must name a receiver and may not have matchers.
    pub route: RouteConfig,
    /// Named receivers.
    #[serde(default)]
    pub receivers: Vec<ReceiverConfig>,
}

impl WebhookNotifierConfig {
    /// Parses and validates the section on its own; error paths are relative to it (`route.routes[1]…`).
    pub fn from_yaml(text: &str) -> Result<Self, ConfigError> {
        let config: WebhookNotifierConfig = from_yaml(text, "")?;
        config.validate("")?;
        Ok(config)
    }

    /// Checks receivers and routes; `path` is where the section sits in the file (empty for its own file).
    pub fn validate(&self, path: &str) -> Result<(), ConfigError> {
        self.validate_receivers(path)?;
        RouteTree::compile(self, path).map(|_| ())
    }

    fn validate_receivers(&self, path: &str) -> Result<(), ConfigError> {
        for (i, r) in self.receivers.iter().enumerate() {
            let at = format!("{}[{i}]", join(path, "receivers"));
            if r.name.is_empty() {
                return Err(ConfigError::new(join(&at, "name"), "must not be empty"));
            }
            if self.receivers[..i].iter().any(|o| o.name == r.name) {
                return Err(ConfigError::new(
                    join(&at, "name"),
                    format!("duplicate receiver name {:?}", r.name),
                ));
            }
            for (j, w) in r.webhook_configs.iter().enumerate() {
                w.validate(&format!("{at}.webhook_configs[{j}]"))?;
            }
        }
        Ok(())
    }
}

/// One receiver: a name and the webhooks that get its notifications.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverConfig {
    /// Unique name that routes refer to.
    pub name: String,
    /// Webhooks notified in parallel; none makes a receiver that discards.
    #[serde(default)]
    pub webhook_configs: Vec<WebhookConfig>,
}

fn default_true() -> bool {
    true
}

/// One webhook: Alertmanager's `webhook_config`. Its `Debug` output hides the URL, which Alertmanager treats as a
/// secret.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where the JSON is POSTed.
    pub url: String,
    /// Also notify about resolved alerts (default true).
    #[serde(default = "default_true")]
    pub send_resolved: bool,
    /// Most alerts in one message, the rest counted in `truncatedAlerts`; 0 = all.
    #[serde(default)]
    pub max_alerts: u64,
    /// Per-request timeout; absent or 0 = bounded only by the group interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<PromDuration>,
    /// Authentication and TLS.
    #[serde(default)]
    pub http_config: HttpClientConfig,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field(
                "url",
                &format_args!("{}", lookout_model::http_client::REDACTED),
            )
            .field("send_resolved", &self.send_resolved)
            .field("max_alerts", &self.max_alerts)
            .field("timeout", &self.timeout)
            .field("http_config", &self.http_config)
            .finish()
    }
}

impl WebhookConfig {
    /// A webhook to `url` with the defaults.
    pub fn new(url: impl Into<String>) -> Self {
        WebhookConfig {
            url: url.into(),
            send_resolved: true,
            max_alerts: 0,
            timeout: None,
            http_config: HttpClientConfig::default(),
        }
    }

    fn validate(&self, path: &str) -> Result<(), ConfigError> {
        match reqwest::Url::parse(&self.url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            // The URL is not repeated: Alertmanager treats a webhook URL as a secret (it often carries a token).
            Ok(_) => {
                return Err(ConfigError::new(
                    join(path, "url"),
                    "must be an http or https URL with a host",
                ));
            }
            Err(e) => {
                return Err(ConfigError::new(
                    join(path, "url"),
                    format!("not a URL: {e}"),
                ));
            }
        }
        self.http_config.validate(&join(path, "http_config"))
    }
}

/// One node of the routing tree; unset fields are inherited from the parent (the root from Alertmanager's
/// defaults: group_wait 30s, group_interval 5m, repeat_interval 4h, no grouping).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Receiver for alerts that end at this node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<String>,
    /// Labels to group by; `...` alone groups by all labels; `[]` means one group for everything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<Vec<String>>,
    /// Wait before the first notification of a new group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_wait: Option<PromDuration>,
    /// Wait between notifications of a group about changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_interval: Option<PromDuration>,
    /// Re-send an unchanged group after this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_interval: Option<PromDuration>,
    /// Alertmanager matchers (`severity="critical"`, `job=~"a|b"`); all must match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matchers: Vec<String>,
    /// Deprecated equality matchers.
    #[serde(default, rename = "match", skip_serializing_if = "BTreeMap::is_empty")]
    pub match_equal: BTreeMap<String, String>,
    /// Deprecated regex matchers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_re: BTreeMap<String, String>,
    /// Keep looking at later siblings after this route matched.
    #[serde(default, rename = "continue")]
    pub continue_matching: bool,
    /// Child routes, tried in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RouteConfig>,
}
