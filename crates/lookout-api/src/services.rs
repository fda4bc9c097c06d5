//! What the API needs from the rest of the appliance, as one trait per role that the binary implements (the API
//! holds no logic).

use std::sync::Arc;

use lookout_model::{Labels, MetricsWriter};

/// One active scrape target as `/api/v1/targets` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveTarget {
    /// Labels before relabeling.
    pub discovered_labels: Labels,
    /// Labels after relabeling.
    pub labels: Labels,
    /// The job name.
    pub scrape_pool: String,
    /// The URL scraped.
    pub scrape_url: String,
    /// The last error, empty when the last scrape succeeded.
    pub last_error: String,
    /// Time of the last scrape in ms since epoch, None before the first.
    pub last_scrape_ms: Option<i64>,
    /// Duration of the last scrape in seconds.
    pub last_scrape_duration_s: f64,
    /// `up`, `down` or `unknown`.
    pub health: &'static str,
    /// Scrape interval as written (e.g. `15s`).
    pub scrape_interval: String,
    /// Scrape timeout as written.
    pub scrape_timeout: String,
}

/// A target dropped by relabeling.
#[derive(Debug, Clone, PartialEq)]
pub struct DroppedTarget {
    /// Labels before relabeling.
    pub discovered_labels: Labels,
    /// The job name.
    pub scrape_pool: String,
}

/// Active and dropped targets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetsSnapshot {
    /// Targets being scraped.
    pub active: Vec<ActiveTarget>,
    /// Targets dropped by relabeling.
    pub dropped: Vec<DroppedTarget>,
}

/// Metric metadata for `/api/v1/metadata`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricMetadata {
    /// Metric family name.
    pub metric: String,
    /// `counter`, `gauge`, `histogram`, `summary`, `unknown`…
    pub kind: String,
    /// Help text.
    pub help: String,
    /// Unit (OpenMetrics), often empty.
    pub unit: String,
}

/// Cardinality figures for `/api/v1/status/tsdb`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TsdbStatus {
    /// Series in the head.
    pub num_series: u64,
    /// Distinct label pairs in the head.
    pub num_label_pairs: u64,
    /// Chunks in the head.
    pub chunk_count: u64,
    /// Oldest head timestamp (ms).
    pub min_time: i64,
    /// Newest head timestamp (ms).
    pub max_time: i64,
    /// Top metric names by series count.
    pub series_count_by_metric_name: Vec<(String, u64)>,
    /// Top label names by number of values.
    pub label_value_count_by_label_name: Vec<(String, u64)>,
    /// Top label names by bytes of values.
    pub memory_in_bytes_by_label_name: Vec<(String, u64)>,
    /// Top `name=value` pairs by series count.
    pub series_count_by_label_value_pair: Vec<(String, u64)>,
}

/// Scrape targets and what they expose (`/api/v1/targets`, `/api/v1/scrape_pools`, `/api/v1/metadata`).
pub trait ScrapeStatus: Send + Sync + 'static {
    /// Scrape targets.
    fn targets(&self) -> TargetsSnapshot;
    /// Known metric metadata.
    fn metadata(&self) -> Vec<MetricMetadata>;
}

/// The configuration: shown, re-read, and the labels it adds (`/api/v1/status/config|flags`, `/-/reload`,
/// `/federate`). `reload` may block (it runs on a pool).
pub trait ConfigControl: Send + Sync + 'static {
    /// The loaded configuration as YAML.
    fn config_yaml(&self) -> String;
    /// Command-line flags and effective settings, name → value.
    fn flags(&self) -> Vec<(String, String)>;
    /// Re-reads the configuration; an error keeps the old one running.
    fn reload(&self) -> Result<(), String>;
    /// Labels added to federated series (from `global.external_labels`).
    fn external_labels(&self) -> Labels;
}

/// Runtime facts (`/-/ready`, `/api/v1/status/runtimeinfo`, `/api/v1/status/tsdb`).
pub trait RuntimeStatus: Send + Sync + 'static {
    /// True once storage is open and replayed.
    fn is_ready(&self) -> bool;
    /// Runtime facts for `/api/v1/status/runtimeinfo` (name → JSON value), incl. the memory budget split.
    fn runtime_info(&self) -> Vec<(String, serde_json::Value)>;
    /// Cardinality statistics, top `limit` per list.
    fn tsdb_status(&self, limit: usize) -> TsdbStatus;
}

/// A component that contributes to `/metrics`.
pub trait SelfMetrics: Send + Sync + 'static {
    /// Renders the component's self-metrics.
    fn write_metrics(&self, out: &mut MetricsWriter);
}

/// The appliance as the API sees it: one handle per role, implemented by the binary.
#[derive(Clone)]
pub struct Services {
    /// Targets and metadata.
    pub scrape: Arc<dyn ScrapeStatus>,
    /// Configuration and reload.
    pub config: Arc<dyn ConfigControl>,
    /// Readiness and runtime facts.
    pub runtime: Arc<dyn RuntimeStatus>,
    /// Every component's self-metrics, rendered in this order.
    pub self_metrics: Vec<Arc<dyn SelfMetrics>>,
    /// Exporters built into the binary, served at `/exporters/<name>/metrics` (the same `collect` the scraper
    /// calls for their jobs), so another Prometheus can scrape them like separate processes.
    pub exporters: Vec<Arc<dyn lookout_model::Exporter>>,
    /// Rules and alerts (`None`: `/api/v1/rules` and friends answer 503).
    pub rules: Option<Arc<dyn crate::rules::RuleStatus>>,
}

impl Services {
    /// Every role filled by one object, no exporters.
    pub fn from_one<T>(all: Arc<T>) -> Self
    where
        T: ScrapeStatus + ConfigControl + RuntimeStatus + SelfMetrics,
    {
        Services {
            scrape: all.clone(),
            config: all.clone(),
            runtime: all.clone(),
            self_metrics: vec![all],
            exporters: Vec::new(),
            rules: None,
        }
    }

    /// Nothing behind any role, for tests of the query endpoints.
    pub fn none() -> Self {
        Services::from_one(Arc::new(NoServices))
    }
}

/// Every role with nothing behind it, for tests of the query endpoints.
#[derive(Debug, Default)]
pub struct NoServices;

impl ScrapeStatus for NoServices {
    fn targets(&self) -> TargetsSnapshot {
        TargetsSnapshot::default()
    }
    fn metadata(&self) -> Vec<MetricMetadata> {
        Vec::new()
    }
}

impl ConfigControl for NoServices {
    fn config_yaml(&self) -> String {
        String::new()
    }
    fn flags(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    fn reload(&self) -> Result<(), String> {
        Ok(())
    }
    fn external_labels(&self) -> Labels {
        Labels::empty()
    }
}

impl RuntimeStatus for NoServices {
    fn is_ready(&self) -> bool {
        true
    }
    fn runtime_info(&self) -> Vec<(String, serde_json::Value)> {
        Vec::new()
    }
    fn tsdb_status(&self, _limit: usize) -> TsdbStatus {
        TsdbStatus::default()
    }
}

impl SelfMetrics for NoServices {
    fn write_metrics(&self, _out: &mut MetricsWriter) {}
}
