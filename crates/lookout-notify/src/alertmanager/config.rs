//! Prometheus's `alerting:` section: alert relabeling and the Alertmanagers to send to, with Prometheus's field
//! names and defaults. `static_configs` are this crate's; `kubernetes_sd_configs` are kept as written for the
//! program to run, which hands the targets to [`Notifier::set_alertmanagers`](crate::Notifier::set_alertmanagers);
//! other `*_sd_configs` are refused by name.

use std::fmt;

use lookout_model::PromDuration;
use lookout_model::relabel::RelabelConfig;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::config::{ConfigError, from_yaml, join};
use crate::http::{HTTP_KEYS, HttpClientConfig};

/// `alerting:`: where alerts go and how their labels are rewritten first.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertingConfig {
    /// Applied to every alert (after external labels are added) before it is queued; a dropped alert is not sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alert_relabel_configs: Vec<RelabelConfig>,
    /// The Alertmanager groups; every alert goes to every Alertmanager of every group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alertmanagers: Vec<AlertmanagerConfig>,
}

impl AlertingConfig {
    /// Parses and validates the `alerting:` section on its own; error paths start with `alerting`.
    pub fn from_yaml(text: &str) -> Result<Self, ConfigError> {
        let config: AlertingConfig = from_yaml(text, "alerting")?;
        config.validate("alerting")?;
        Ok(config)
    }

    /// Checks everything serde could not; `path` is where the section sits (normally `alerting`).
    pub fn validate(&self, path: &str) -> Result<(), ConfigError> {
        validate_relabel(
            &self.alert_relabel_configs,
            &join(path, "alert_relabel_configs"),
        )?;
        for (i, am) in self.alertmanagers.iter().enumerate() {
            am.validate(&format!("{}[{i}]", join(path, "alertmanagers")))?;
        }
        Ok(())
    }
}

fn validate_relabel(configs: &[RelabelConfig], path: &str) -> Result<(), ConfigError> {
    for (i, c) in configs.iter().enumerate() {
        c.validate(i).map_err(|e| {
            let lookout_model::relabel::RelabelError::InvalidField { field, reason, .. } = e;
            ConfigError::new(format!("{path}[{i}].{field}"), reason)
        })?;
    }
    Ok(())
}

pub use lookout_model::target_group::StaticConfig;

/// The only Alertmanager API version left.
pub const API_VERSION_V2: &str = "v2";

/// One `alertmanagers[]` entry: how to reach a group of Alertmanagers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertmanagerConfig {
    /// `http` (default) or `https`.
    pub scheme: String,
    /// Prefix of the API path; default `/`.
    pub path_prefix: String,
    /// Per-request timeout; default 10s.
    pub timeout: PromDuration,
    /// Must be `v2`.
    pub api_version: String,
    /// Fixed targets.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub static_configs: Vec<StaticConfig>,
    /// Rewrites target labels (`__address__`, `__scheme__`, `__alerts_path__`); a dropped target is listed as dropped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub relabel_configs: Vec<RelabelConfig>,
    /// Alert relabeling for this group only, after the global one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alert_relabel_configs: Vec<RelabelConfig>,
    /// `kubernetes_sd_configs` as written: this crate knows no Kubernetes; the caller runs them and hands the
    /// discovered groups to [`Notifier::set_alertmanagers`](crate::Notifier::set_alertmanagers).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kubernetes_sd_configs: Vec<serde_json::Value>,
    /// Authentication, TLS and redirects, written inline as in Prometheus.
    #[serde(flatten)]
    pub http: HttpClientConfig,
}

impl Default for AlertmanagerConfig {
    fn default() -> Self {
        AlertmanagerConfig {
            scheme: "http".to_string(),
            path_prefix: "/".to_string(),
            timeout: PromDuration::from_secs(10),
            api_version: API_VERSION_V2.to_string(),
            static_configs: Vec::new(),
            relabel_configs: Vec::new(),
            alert_relabel_configs: Vec::new(),
            kubernetes_sd_configs: Vec::new(),
            http: HttpClientConfig::default(),
        }
    }
}

impl AlertmanagerConfig {
    /// Checks one entry; `path` is e.g. `alerting.alertmanagers[0]`.
    pub fn validate(&self, path: &str) -> Result<(), ConfigError> {
        match self.api_version.as_str() {
            API_VERSION_V2 => {}
            "v1" => {
                return Err(ConfigError::new(
                    join(path, "api_version"),
                    "v1 is no longer supported (Alertmanager removed API v1); use v2",
                ));
            }
            other => {
                return Err(ConfigError::new(
                    join(path, "api_version"),
                    format!("expected one of [v2], got {other:?}"),
                ));
            }
        }
        if !matches!(self.scheme.as_str(), "http" | "https") {
            return Err(ConfigError::new(
                join(path, "scheme"),
                format!("must be \"http\" or \"https\", got {:?}", self.scheme),
            ));
        }
        if self.timeout.is_zero() {
            return Err(ConfigError::new(
                join(path, "timeout"),
                "must be greater than zero",
            ));
        }
        for (i, sc) in self.static_configs.iter().enumerate() {
            for (j, target) in sc.targets.iter().enumerate() {
                if target.is_empty() || target.contains('/') {
                    return Err(ConfigError::new(
                        format!("{path}.static_configs[{i}].targets[{j}]"),
                        format!("{target:?} is not a host:port address"),
                    ));
                }
            }
        }
        validate_relabel(&self.relabel_configs, &join(path, "relabel_configs"))?;
        validate_relabel(
            &self.alert_relabel_configs,
            &join(path, "alert_relabel_configs"),
        )?;
        self.http.validate(path)
    }
}

const OWN_KEYS: &[&str] = &[
    "scheme",
    "path_prefix",
    "timeout",
    "api_version",
    "static_configs",
    "relabel_configs",
    "alert_relabel_configs",
];

struct AlertmanagerConfigVisitor;

impl<'de> Visitor<'de> for AlertmanagerConfigVisitor {
    type Value = AlertmanagerConfig;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an alertmanager configuration mapping")
    }

    // Written by hand rather than derived because the HTTP settings are inline (serde's `flatten` would lose the
    // field paths of nested errors) and because discovery keys need their own message.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AlertmanagerConfig, A::Error> {
        let mut c = AlertmanagerConfig::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "scheme" => c.scheme = map.next_value()?,
                "path_prefix" => c.path_prefix = map.next_value()?,
                "timeout" => c.timeout = map.next_value()?,
                "api_version" => c.api_version = map.next_value()?,
                "static_configs" => c.static_configs = map.next_value()?,
                "relabel_configs" => c.relabel_configs = map.next_value()?,
                "alert_relabel_configs" => c.alert_relabel_configs = map.next_value()?,
                "kubernetes_sd_configs" => c.kubernetes_sd_configs = map.next_value()?,
                k if k.ends_with("_sd_configs") => {
                    return Err(de::Error::custom(format!(
                        "{k}: discovering Alertmanagers with {k} is not supported; use static_configs or kubernetes_sd_configs"
                    )));
                }
                k => {
                    if !c.http.take_field(k, &mut map)? {
                        let all: Vec<&str> = OWN_KEYS.iter().chain(HTTP_KEYS).copied().collect();
                        return Err(de::Error::custom(format!(
                            "unknown field `{k}`, expected one of {}",
                            all.join(", ")
                        )));
                    }
                }
            }
        }
        Ok(c)
    }
}

impl<'de> Deserialize<'de> for AlertmanagerConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(AlertmanagerConfigVisitor)
    }
}
