//! Scrape configuration: `global` defaults and `scrape_configs` jobs with Prometheus's field names and defaults.
//!
//! Loading is two-phase: serde reads the YAML (unknown fields are errors), then [`ScrapeConfig::resolve`] fills the
//! defaults inherited from [`GlobalConfig`] and validates, naming the field path of the first problem.

pub mod http;
pub mod sd;

use std::collections::{BTreeMap, HashSet};

use lookout_discovery::KubernetesSdConfig;
use lookout_model::relabel::{RelabelConfig, RelabelError};
use serde::{Deserialize, Serialize};

pub use http::{Authorization, BasicAuth, Secret, TlsConfig};
pub use lookout_model::{ByteSize, DurationError, PromDuration, SizeError};
pub use sd::{FileSdConfig, StaticConfig};

/// A configuration problem, with the dotted path of the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A field holds a value that is not allowed.
    #[error("{path}: {reason}")]
    Invalid {
        /// e.g. `scrape_configs[2].basic_auth.password_file`.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The YAML could not be read into the structure.
    #[error("parsing scrape configuration: {0}")]
    Parse(String),
}

impl ConfigError {
    pub(crate) fn field(prefix: &str, field: &str, reason: &str) -> Self {
        ConfigError::Invalid {
            path: format!("{prefix}.{field}"),
            reason: reason.to_string(),
        }
    }
}

fn default_global_interval() -> PromDuration {
    PromDuration::from_secs(60)
}

fn default_global_timeout() -> PromDuration {
    PromDuration::from_secs(10)
}

/// Defaults every job inherits; Prometheus's `global` section (only the scrape-related fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalConfig {
    /// Default time between scrapes; Prometheus uses 1m.
    #[serde(default = "default_global_interval")]
    pub scrape_interval: PromDuration,
    /// Default scrape timeout; Prometheus uses 10s.
    #[serde(default = "default_global_timeout")]
    pub scrape_timeout: PromDuration,
    /// Default `body_size_limit` (0 = none).
    #[serde(default)]
    pub body_size_limit: ByteSize,
    /// Default `sample_limit` (0 = none).
    #[serde(default)]
    pub sample_limit: u64,
}

impl Default for GlobalConfig {
    fn default() -> Self {
        GlobalConfig {
            scrape_interval: default_global_interval(),
            scrape_timeout: default_global_timeout(),
            body_size_limit: ByteSize(0),
            sample_limit: 0,
        }
    }
}

impl GlobalConfig {
    /// Checks the global section.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.scrape_interval.is_zero() {
            return Err(ConfigError::field(
                "global",
                "scrape_interval",
                "must be greater than zero",
            ));
        }
        if self.scrape_timeout > self.scrape_interval {
            return Err(ConfigError::field(
                "global",
                "scrape_timeout",
                "greater than global.scrape_interval",
            ));
        }
        Ok(())
    }
}

fn default_metrics_path() -> String {
    "/metrics".to_string()
}

fn default_scheme() -> String {
    "http".to_string()
}

fn default_true() -> bool {
    true
}

/// One `scrape_configs` job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrapeConfig {
    /// The `job` label of every target; unique among jobs.
    pub job_name: String,
    /// Time between scrapes; `global.scrape_interval` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrape_interval: Option<PromDuration>,
    /// Per-scrape timeout; `global.scrape_timeout` capped at the interval when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrape_timeout: Option<PromDuration>,
    /// HTTP path; default `/metrics`.
    #[serde(default = "default_metrics_path")]
    pub metrics_path: String,
    /// `http` (default) or `https`.
    #[serde(default = "default_scheme")]
    pub scheme: String,
    /// URL query parameters; the first value of each also becomes a `__param_<name>` label.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, Vec<String>>,
    /// Scraped labels win over target labels when true; otherwise clashing scraped labels become `exported_<name>`.
    #[serde(default)]
    pub honor_labels: bool,
    /// Use timestamps from the exposition (default true); otherwise the scrape time.
    #[serde(default = "default_true")]
    pub honor_timestamps: bool,
    /// Fixed target lists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub static_configs: Vec<StaticConfig>,
    /// Target lists read from files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub file_sd_configs: Vec<FileSdConfig>,
    /// Targets discovered from a Kubernetes API server.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kubernetes_sd_configs: Vec<KubernetesSdConfig>,
    /// Rules applied to discovered targets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relabel_configs: Vec<RelabelConfig>,
    /// Rules applied to every scraped series.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metric_relabel_configs: Vec<RelabelConfig>,
    /// Samples allowed per scrape after metric relabeling (0 = none; global default when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_limit: Option<u64>,
    /// Labels allowed per series (0 = no limit).
    #[serde(default)]
    pub label_limit: u64,
    /// Longest label name allowed (0 = no limit).
    #[serde(default)]
    pub label_name_length_limit: u64,
    /// Longest label value allowed (0 = no limit).
    #[serde(default)]
    pub label_value_length_limit: u64,
    /// Largest uncompressed body accepted (0 = none; global default when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_size_limit: Option<ByteSize>,
    /// HTTP basic authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    /// An `Authorization` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    /// A bearer token, inline (legacy form of `authorization`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<Secret>,
    /// A file holding a bearer token (legacy form of `authorization`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token_file: Option<String>,
    /// TLS settings for `https` targets.
    #[serde(default)]
    pub tls_config: TlsConfig,
    /// Set by the binary for its built-in jobs (never read from YAML): the name of the built-in exporter whose
    /// `collect` replaces the HTTP fetch; the target URL's query parameters become its parameters.
    #[serde(skip)]
    pub builtin_exporter: Option<String>,
}

/// Parses a YAML list of jobs (the value of `scrape_configs`), resolves defaults from `global` and validates them.
pub fn parse_scrape_configs(
    yaml: &str,
    global: &GlobalConfig,
) -> Result<Vec<ScrapeConfig>, ConfigError> {
    let mut configs: Vec<ScrapeConfig> =
        serde_yaml_ng::from_str(yaml).map_err(|e| ConfigError::Parse(e.to_string()))?;
    resolve_all(&mut configs, global)?;
    Ok(configs)
}

/// Resolves and validates a list of jobs, also checking that job names are unique.
pub fn resolve_all(configs: &mut [ScrapeConfig], global: &GlobalConfig) -> Result<(), ConfigError> {
    global.validate()?;
    let mut names = HashSet::new();
    for (i, c) in configs.iter_mut().enumerate() {
        c.resolve(i, global)?;
        if !names.insert(c.job_name.clone()) {
            return Err(ConfigError::field(
                &format!("scrape_configs[{i}]"),
                "job_name",
                &format!("{:?} is used by an earlier job", c.job_name),
            ));
        }
    }
    Ok(())
}

fn relabel_error(prefix: &str, list: &str, e: RelabelError) -> ConfigError {
    let RelabelError::InvalidField {
        index,
        field,
        reason,
    } = e;
    ConfigError::Invalid {
        path: format!("{prefix}.{list}[{index}].{field}"),
        reason,
    }
}

impl ScrapeConfig {
    /// A job with defaults and the given static targets; for tests and built-in jobs.
    pub fn for_targets(job_name: &str, targets: &[&str]) -> Self {
        let yaml = format!("job_name: {job_name:?}\nstatic_configs: [{{targets: {targets:?}}}]");
        let mut c: ScrapeConfig = serde_yaml_ng::from_str(&yaml).expect("a minimal job parses");
        c.resolve(0, &GlobalConfig::default())
            .expect("a minimal job is valid");
        c
    }

    /// The effective scrape interval (after [`resolve`](Self::resolve)).
    pub fn interval(&self) -> PromDuration {
        self.scrape_interval.unwrap_or_default()
    }

    /// The effective scrape timeout (after [`resolve`](Self::resolve)).
    pub fn timeout(&self) -> PromDuration {
        self.scrape_timeout.unwrap_or_default()
    }

    /// Fills interval, timeout, sample and body limits from `global` as Prometheus does, then validates.
    /// `index` is the job's position in `scrape_configs`, for error paths.
    pub fn resolve(&mut self, index: usize, global: &GlobalConfig) -> Result<(), ConfigError> {
        let prefix = format!("scrape_configs[{index}]");
        let interval = *self.scrape_interval.get_or_insert(global.scrape_interval);
        if self.scrape_timeout.is_some_and(|t| t > interval) {
            return Err(ConfigError::field(
                &prefix,
                "scrape_timeout",
                "greater than scrape_interval",
            ));
        }
        self.scrape_timeout
            .get_or_insert(global.scrape_timeout.min(interval));
        self.sample_limit.get_or_insert(global.sample_limit);
        self.body_size_limit.get_or_insert(global.body_size_limit);
        self.validate(&prefix)
    }

    /// Checks a resolved job; `prefix` is its field path (e.g. `scrape_configs[0]`).
    pub fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        if self.job_name.is_empty() {
            return Err(ConfigError::field(prefix, "job_name", "must not be empty"));
        }
        if self.interval().is_zero() {
            return Err(ConfigError::field(
                prefix,
                "scrape_interval",
                "must be greater than zero",
            ));
        }
        if self.timeout().is_zero() {
            return Err(ConfigError::field(
                prefix,
                "scrape_timeout",
                "must be greater than zero",
            ));
        }
        if self.timeout() > self.interval() {
            return Err(ConfigError::field(
                prefix,
                "scrape_timeout",
                "greater than scrape_interval",
            ));
        }
        if self.scheme != "http" && self.scheme != "https" {
            return Err(ConfigError::field(
                prefix,
                "scheme",
                &format!("{:?}: must be http or https", self.scheme),
            ));
        }
        if !self.metrics_path.starts_with('/') {
            return Err(ConfigError::field(
                prefix,
                "metrics_path",
                "must start with /",
            ));
        }
        for (i, sc) in self.static_configs.iter().enumerate() {
            let here = format!("{prefix}.static_configs[{i}]");
            for (j, t) in sc.targets.iter().enumerate() {
                if t.is_empty() || t.contains('/') {
                    return Err(ConfigError::field(
                        &here,
                        &format!("targets[{j}]"),
                        &format!("{t:?} is not a host:port address"),
                    ));
                }
            }
            for name in sc.labels.keys() {
                if !lookout_model::labels::is_valid_label_name(name) {
                    return Err(ConfigError::field(
                        &here,
                        "labels",
                        &format!("{name:?} is not a valid label name"),
                    ));
                }
            }
        }
        for (i, f) in self.file_sd_configs.iter().enumerate() {
            f.validate(&format!("{prefix}.file_sd_configs[{i}]"))?;
        }
        for (i, k) in self.kubernetes_sd_configs.iter().enumerate() {
            k.validate(&format!("{prefix}.kubernetes_sd_configs[{i}]"))
                .map_err(|e| ConfigError::Invalid {
                    path: e.path,
                    reason: e.reason,
                })?;
        }
        RelabelConfig::validate_all(&self.relabel_configs)
            .map_err(|e| relabel_error(prefix, "relabel_configs", e))?;
        RelabelConfig::validate_all(&self.metric_relabel_configs)
            .map_err(|e| relabel_error(prefix, "metric_relabel_configs", e))?;
        http::validate_auth(
            prefix,
            self.basic_auth.as_ref(),
            self.authorization.as_ref(),
            self.bearer_token.as_ref().map(Secret::expose),
            self.bearer_token_file.as_deref(),
        )?;
        http::validate_tls(&self.tls_config, prefix)
    }
}

#[cfg(test)]
mod tests;
