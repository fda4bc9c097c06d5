//! The configuration file: Prometheus's `global` and `scrape_configs`, plus Lookout's `storage`, `limits`,
//! `server` and `kubernetes` sections. Unknown keys are errors naming their path; Prometheus sections Lookout does not support yet
//! are refused by name rather than ignored.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use lookout_collect::config::{ByteSize, GlobalConfig, PromDuration, ScrapeConfig, resolve_all};
use lookout_discovery::KubernetesSettings;
use serde::{Deserialize, Serialize};

/// The embedded default: scrape Lookout's own `/metrics` and the built-in host collector every 15 s. `{{SELF}}`
/// becomes the listen address.
pub const DEFAULT_CONFIG: &str = r#"# Lookout's embedded default configuration.
global:
  scrape_interval: 15s
  scrape_timeout: 10s
scrape_configs:
  - job_name: lookout
    static_configs:
      - targets: ["{{SELF}}"]
# The machine's own metrics with node_exporter's names (job "node").
collectors:
  host:
    enabled: true
"#;

/// Prometheus's top-level keys that Lookout does not implement yet; named in the error instead of "unknown field".
const UNSUPPORTED_PROMETHEUS_KEYS: &[&str] = &[
    "remote_read",
    "storage.tsdb",
    "tracing",
    "scrape_config_files",
    "otlp",
];

/// `global:` as Prometheus has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalSection {
    /// Default scrape interval (Prometheus default 1m).
    #[serde(default = "default_interval")]
    pub scrape_interval: PromDuration,
    /// Default scrape timeout (10s).
    #[serde(default = "default_timeout")]
    pub scrape_timeout: PromDuration,
    /// Default rule group evaluation interval (1m).
    #[serde(default = "default_interval")]
    pub evaluation_interval: PromDuration,
    /// Default rule query offset: groups evaluate at `now − offset` (0).
    #[serde(default)]
    pub rule_query_offset: PromDuration,
    /// Labels added to federated and forwarded series.
    #[serde(default)]
    pub external_labels: BTreeMap<String, String>,
    /// Default scrape body size limit (0 = none).
    #[serde(default)]
    pub body_size_limit: ByteSize,
    /// Default per-scrape sample limit (0 = none).
    #[serde(default)]
    pub sample_limit: u64,
}

fn default_interval() -> PromDuration {
    PromDuration::from_secs(60)
}
fn default_timeout() -> PromDuration {
    PromDuration::from_secs(10)
}

impl Default for GlobalSection {
    fn default() -> Self {
        GlobalSection {
            scrape_interval: default_interval(),
            scrape_timeout: default_timeout(),
            evaluation_interval: default_interval(),
            rule_query_offset: PromDuration::default(),
            external_labels: BTreeMap::new(),
            body_size_limit: ByteSize(0),
            sample_limit: 0,
        }
    }
}

/// `storage:` (Lookout).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSection {
    /// Data directory (the `--data-dir` flag wins).
    pub path: Option<String>,
    /// Keep samples this long (default 15d).
    pub retention_time: PromDuration,
    /// Keep at most this many bytes on disk (0 = no size limit).
    pub retention_size: ByteSize,
    /// WAL fsync interval; `0s` = fsync every commit (default 1s).
    pub wal_fsync_interval: PromDuration,
    /// Cut a WAL at the first damaged record instead of refusing to start.
    pub wal_repair: bool,
    /// Forget a persisted part whose file is missing or damaged instead of refusing to start.
    pub drop_damaged_parts: bool,
    /// Refuse new series beyond this many active ones (0 = derived from the memory budget).
    pub max_active_series: u64,
    /// Accept samples up to this much older than a series' newest (default 0: none).
    pub out_of_order_window: PromDuration,
    /// Refuse samples later than the clock plus this (default 1d; 0s turns the check off). Retention counts from
    /// the newest sample, so one sample far in the future would otherwise delete everything older.
    pub max_future: PromDuration,
}

impl Default for StorageSection {
    fn default() -> Self {
        StorageSection {
            path: None,
            retention_time: PromDuration::from_secs(15 * 86400),
            retention_size: ByteSize(0),
            wal_fsync_interval: PromDuration::from_secs(1),
            wal_repair: false,
            drop_damaged_parts: false,
            max_active_series: 0,
            out_of_order_window: PromDuration::from_secs(0),
            max_future: PromDuration::from_secs(86_400),
        }
    }
}

/// `limits:` (Lookout): everything a client controls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsSection {
    /// Samples one query may load (default 50,000,000, lowered to the query memory share).
    pub query_max_samples: u64,
    /// Query timeout (default 2m).
    pub query_timeout: PromDuration,
    /// Queries evaluated at once (default 4).
    pub query_max_concurrency: u64,
    /// Instant-vector lookback (default 5m).
    pub lookback_delta: PromDuration,
    /// Form body limit for query endpoints (default 1MiB).
    pub max_form_body: ByteSize,
    /// Compressed remote_write/import body limit (default 32MiB).
    pub max_write_body: ByteSize,
    /// Decompressed remote_write/import body limit (default 128MiB).
    pub max_write_decoded: ByteSize,
}

impl Default for LimitsSection {
    fn default() -> Self {
        LimitsSection {
            query_max_samples: 50_000_000,
            query_timeout: PromDuration::from_secs(120),
            query_max_concurrency: 4,
            lookback_delta: PromDuration::from_secs(300),
            max_form_body: ByteSize(1 << 20),
            max_write_body: ByteSize(32 << 20),
            max_write_decoded: ByteSize(128 << 20),
        }
    }
}

/// `logs:` (Lookout): the log store behind the Loki API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogsSection {
    /// Serve the Loki push and query API from a log store under `<data>/logs` (default true).
    pub enabled: bool,
    /// Longest accepted line (default 256KiB, as Loki).
    pub max_line_size: ByteSize,
    /// Most labels per stream (default 15, as Loki).
    pub max_labels_per_stream: usize,
    /// Most streams held (default 100,000).
    pub max_streams: usize,
    /// Entries older than their stream's newest minus this are refused (default 1h).
    pub out_of_order_window: PromDuration,
    /// Longest time range of one log query (default 721h, Loki's `max_query_length`).
    pub max_query_range: PromDuration,
    /// Largest `limit` of a log query (default 5000, Loki's `max_entries_limit_per_query`).
    pub max_entries_limit_per_query: usize,
    /// Series a metric query may return (default 500, Loki's `max_query_series`).
    pub max_query_series: usize,
    /// Lines one query may read before it is refused (default 200,000,000).
    pub max_lines_per_query: u64,
    /// Live tails open at once (default 10, Loki's `max_concurrent_tail_requests`).
    pub max_tail_sessions: usize,
    /// Whole days of logs older than this are deleted (default 744h = 31d; 0s keeps everything).
    pub retention_period: PromDuration,
    /// Oldest days of logs are deleted while the log data directory exceeds this (default 0 = no size limit).
    pub retention_size: ByteSize,
    /// Line bytes per second accepted overall (default 64MiB, Loki's `ingestion_rate_mb`; 0 = no limit).
    pub ingestion_rate: ByteSize,
    /// Line bytes one burst may carry overall (default 128MiB, Loki's `ingestion_burst_size_mb`).
    pub ingestion_burst: ByteSize,
    /// Line bytes per second accepted per stream (default 3MiB, Loki's `per_stream_rate_limit`; 0 = no limit).
    pub per_stream_rate: ByteSize,
    /// Line bytes one burst may carry per stream (default 15MiB, Loki's `per_stream_rate_limit_burst`).
    pub per_stream_burst: ByteSize,
}

impl Default for LogsSection {
    fn default() -> Self {
        LogsSection {
            enabled: true,
            max_line_size: ByteSize(256 << 10),
            max_labels_per_stream: 15,
            max_streams: 100_000,
            out_of_order_window: PromDuration::from_secs(3600),
            max_query_range: PromDuration::from_secs(721 * 3600),
            max_entries_limit_per_query: 5000,
            max_query_series: 500,
            max_lines_per_query: 200_000_000,
            max_tail_sessions: 10,
            retention_period: PromDuration::from_secs(744 * 3600),
            retention_size: ByteSize(0),
            ingestion_rate: ByteSize(64 << 20),
            ingestion_burst: ByteSize(128 << 20),
            per_stream_rate: ByteSize(3 << 20),
            per_stream_burst: ByteSize(15 << 20),
        }
    }
}

/// `server:` (Lookout).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    /// Listen address (the `--listen` flag wins; default `:9090`).
    pub listen: Option<String>,
    /// Memory budget (the `--memory-limit` flag wins; default 80 % of the cgroup limit, else 1GiB).
    pub memory_limit: Option<ByteSize>,
    /// `text` or `json` logs.
    pub log_format: String,
    /// Also serve every route under this path prefix (e.g. `/prometheus`), for proxies and Grafana URLs with a path.
    pub route_prefix: String,
    /// Prometheus's web config file (TLS, basic-auth users, headers); the `--web.config.file` flag wins.
    pub web_config_file: Option<String>,
    /// Connections open at once (default 512, Prometheus's `--web.max-connections`).
    pub max_connections: usize,
    /// Longest time a client may take to send a request's headers (default 10s).
    pub header_read_timeout: PromDuration,
    /// Largest request head, request line and headers (default 64KiB).
    pub max_header_bytes: ByteSize,
    /// Longest time a client may take to send a request's body (default 2m).
    pub body_read_timeout: PromDuration,
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            listen: None,
            memory_limit: None,
            log_format: "text".into(),
            route_prefix: String::new(),
            web_config_file: None,
            max_connections: 512,
            header_read_timeout: PromDuration::from_secs(10),
            max_header_bytes: ByteSize(64 << 10),
            body_read_timeout: PromDuration::from_secs(120),
        }
    }
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Prometheus `global`.
    #[serde(default)]
    pub global: GlobalSection,
    /// Prometheus `scrape_configs`.
    #[serde(default)]
    pub scrape_configs: Vec<ScrapeConfig>,
    /// Lookout `storage`.
    #[serde(default)]
    pub storage: StorageSection,
    /// Lookout `limits`.
    #[serde(default)]
    pub limits: LimitsSection,
    /// Lookout `server`.
    #[serde(default)]
    pub server: ServerSection,
    /// Lookout `kubernetes`: the cluster connection, default jobs, Operator monitors, kube-state metrics.
    #[serde(default)]
    pub kubernetes: KubernetesSettings,
    /// Lookout `logs`: the log store and its limits.
    #[serde(default)]
    pub logs: LogsSection,
    /// Prometheus `rule_files`: globs of rule files (relative to the configuration file).
    #[serde(default)]
    pub rule_files: Vec<String>,
    /// Prometheus `alerting`: Alertmanagers and alert relabeling (checked by the notifier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerting: Option<serde_yaml_ng::Value>,
    /// Lookout `rules`: alert resend and restore settings (Prometheus's `--rules.*` flags).
    #[serde(default)]
    pub rules: RulesSection,
    /// Lookout `notifications`: the built-in webhook notifier (receivers and a route tree).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<serde_yaml_ng::Value>,
    /// Prometheus `remote_write`: forward every accepted sample (queued on disk per endpoint).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remote_write: Vec<lookout_forward::RemoteWriteConfig>,
    /// Lookout `loki_write`: forward every accepted log entry with the Loki push API.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub loki_write: Vec<lookout_forward::LokiPushConfig>,
    /// Lookout `collectors`: the built-in host and Proxmox VE exporters and their scrape jobs.
    #[serde(default)]
    pub collectors: crate::collectors::CollectorsSection,
    /// Lookout `host_logs`: the systemd journal, a syslog receiver and file tailing into the log store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_logs: Option<lookout_hostlogs::HostLogsConfig>,
    /// Lookout `auth`: roles of users (from the web config file or here), bearer tokens, a trusted proxy header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<lookout_auth::AuthConfig>,
}

/// `rules:` — Prometheus's `--rules.alert.*` flags as settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesSection {
    /// Minimum time between two sends of a still-active alert (1m).
    pub resend_delay: PromDuration,
    /// Longest outage after which `for` state is still restored (1h).
    pub for_outage_tolerance: PromDuration,
    /// Least time a restored alert waits before firing (10m).
    pub for_grace_period: PromDuration,
    /// The URL Lookout is reached at, for alerts' generator URLs (default `http://<listen address>`).
    pub external_url: Option<String>,
}

impl Default for RulesSection {
    fn default() -> Self {
        RulesSection {
            resend_delay: PromDuration::from_millis(60_000),
            for_outage_tolerance: PromDuration::from_millis(3_600_000),
            for_grace_period: PromDuration::from_millis(600_000),
            external_url: None,
        }
    }
}

impl Config {
    /// The scrape defaults handed to the collector.
    pub fn scrape_global(&self) -> GlobalConfig {
        GlobalConfig {
            scrape_interval: self.global.scrape_interval,
            scrape_timeout: self.global.scrape_timeout,
            body_size_limit: self.global.body_size_limit,
            sample_limit: self.global.sample_limit,
        }
    }
}

/// Parses and validates YAML text; `source` names it in errors.
pub fn parse(text: &str, source: &str) -> Result<Config> {
    let value: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(text).with_context(|| format!("{source}: not valid YAML"))?;
    if let serde_yaml_ng::Value::Mapping(m) = &value {
        for key in UNSUPPORTED_PROMETHEUS_KEYS {
            if m.contains_key(*key) {
                bail!(
                    "{source}: {key}: this Prometheus setting is not supported by Lookout yet; remove it to load"
                );
            }
        }
    }
    let mut cfg: Config = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        anyhow::anyhow!("{source}: {path}: {}", e.into_inner())
    })?;
    let global = cfg.scrape_global();
    resolve_all(&mut cfg.scrape_configs, &global).map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
    if !matches!(cfg.server.log_format.as_str(), "text" | "json") {
        bail!(
            "{source}: server.log_format: must be \"text\" or \"json\", got {:?}",
            cfg.server.log_format
        );
    }
    let prefix = &cfg.server.route_prefix;
    if !prefix.is_empty() && (!prefix.starts_with('/') || prefix.ends_with('/')) {
        bail!(
            "{source}: server.route_prefix: must start with '/' and not end with one, got {prefix:?}"
        );
    }
    if cfg.limits.query_max_concurrency == 0 {
        bail!("{source}: limits.query_max_concurrency: must be at least 1");
    }
    cfg.collectors
        .resolve()
        .map_err(|e| anyhow::anyhow!("{source}: {e:#}"))?;
    lookout_forward::config::validate_all(&cfg.remote_write, &cfg.loki_write)
        .map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
    cfg.kubernetes
        .check()
        .map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
    if let Some(auth) = &cfg.auth {
        auth.validate()
            .map_err(|e| anyhow::anyhow!("{source}: auth: {e}"))?;
    }
    if cfg.server.max_connections == 0 {
        bail!("{source}: server.max_connections: must be at least 1");
    }
    if cfg.server.max_header_bytes.0 < 1024 {
        bail!("{source}: server.max_header_bytes: must be at least 1KiB");
    }
    if cfg.host_logs.is_some() && !cfg.logs.enabled {
        bail!("{source}: host_logs: needs the log store (logs.enabled: true)");
    }
    Ok(cfg)
}

/// Agent mode's checks and defaults: no rules or alerting (an agent evaluates nothing; the server it forwards to
/// does), at least one place to forward to, and this node's name from `NODE_NAME` when the file leaves it empty.
pub fn apply_agent(cfg: &mut Config, source: &str) -> Result<()> {
    if !cfg.rule_files.is_empty() || cfg.alerting.is_some() || cfg.notifications.is_some() {
        bail!(
            "{source}: rule_files, alerting and notifications are not supported in agent mode: the server the agent \
             forwards to evaluates rules"
        );
    }
    if cfg.remote_write.is_empty() && cfg.loki_write.is_empty() {
        bail!(
            "{source}: agent mode forwards everything it collects: configure remote_write and/or loki_write"
        );
    }
    if cfg.kubernetes.node_name.is_empty()
        && let Ok(node) = std::env::var("NODE_NAME")
    {
        cfg.kubernetes.node_name = node;
    }
    Ok(())
}

/// Loads a file, or the embedded default with `self_addr` as its own scrape target.
pub fn load(path: Option<&Path>, self_addr: &str) -> Result<(Config, String)> {
    match path {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading config file {}", p.display()))?;
            let mut cfg = parse(&text, &p.display().to_string())?;
            // Token files and the web config file are named relative to the configuration file.
            let base = p.parent().unwrap_or(Path::new("."));
            cfg.auth = cfg.auth.map(|a| a.with_base_dir(base));
            cfg.server.web_config_file = cfg
                .server
                .web_config_file
                .map(|f| base.join(f).display().to_string());
            Ok((cfg, text))
        }
        None => {
            let text = DEFAULT_CONFIG.replace("{{SELF}}", self_addr);
            Ok((parse(&text, "embedded default config")?, text))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_loads() {
        let (cfg, _) = load(None, "localhost:9090").unwrap();
        assert_eq!(cfg.scrape_configs.len(), 1);
        assert_eq!(cfg.scrape_configs[0].job_name, "lookout");
        assert_eq!(cfg.global.scrape_interval, PromDuration::from_secs(15));
    }

    #[test]
    fn misspelled_key_names_its_path() {
        let err = parse("global:\n  scrape_intervl: 15s\n", "t.yml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("global") && err.contains("scrape_intervl"),
            "{err}"
        );
        let err = parse(
            "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targetz: []\n",
            "t.yml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("scrape_configs[0]") && err.contains("targetz"),
            "{err}"
        );
    }

    #[test]
    fn unsupported_prometheus_sections_are_named() {
        let err = parse("remote_read: []\n", "t.yml").unwrap_err().to_string();
        assert!(
            err.contains("remote_read") && err.contains("not supported"),
            "{err}"
        );
        let cfg = parse(
            "rule_files: [rules/*.yml]\nglobal: {rule_query_offset: 30s}\nrules: {resend_delay: 2m}\n",
            "t.yml",
        )
        .unwrap();
        assert_eq!(cfg.rule_files, ["rules/*.yml"]);
        assert_eq!(cfg.global.rule_query_offset.as_millis(), 30_000);
        assert_eq!(cfg.rules.resend_delay.as_millis(), 120_000);
    }

    #[test]
    fn prometheus_style_file_loads() {
        let text = r#"
global:
  scrape_interval: 30s
  external_labels: {cluster: home}
scrape_configs:
  - job_name: node
    scrape_interval: 10s
    static_configs:
      - targets: ["a:9100", "b:9100"]
        labels: {env: lab}
    relabel_configs:
      - source_labels: [__address__]
        regex: "(.*):9100"
        target_label: host
    metric_relabel_configs:
      - action: drop
        source_labels: [__name__]
        regex: go_.*
storage:
  retention_time: 7d
limits:
  query_timeout: 30s
"#;
        let cfg = parse(text, "t.yml").unwrap();
        assert_eq!(
            cfg.global
                .external_labels
                .get("cluster")
                .map(String::as_str),
            Some("home")
        );
        assert_eq!(
            cfg.storage.retention_time,
            PromDuration::from_secs(7 * 86400)
        );
        assert_eq!(cfg.limits.query_timeout, PromDuration::from_secs(30));
    }
}
