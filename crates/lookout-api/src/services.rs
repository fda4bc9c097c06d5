//! What the API needs from the rest of the appliance, as traits the binary implements (the API holds no logic).

use lookout_model::Labels;

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

/// The appliance as the API sees it. Methods may block briefly; `reload` may block longer (it runs on a pool).
pub trait Services: Send + Sync + 'static {
    /// Scrape targets.
    fn targets(&self) -> TargetsSnapshot;
    /// Known metric metadata.
    fn metadata(&self) -> Vec<MetricMetadata>;
    /// The loaded configuration as YAML.
    fn config_yaml(&self) -> String;
    /// Command-line flags and effective settings, name → value.
    fn flags(&self) -> Vec<(String, String)>;
    /// Runtime facts for `/api/v1/status/runtimeinfo` (name → JSON value), incl. the memory budget split.
    fn runtime_info(&self) -> Vec<(String, serde_json::Value)>;
    /// Re-reads the configuration; an error keeps the old one running.
    fn reload(&self) -> Result<(), String>;
    /// True once storage is open and replayed.
    fn is_ready(&self) -> bool;
    /// Appends all self-metrics in Prometheus text format.
    fn write_metrics(&self, out: &mut String);
    /// Cardinality statistics, top `limit` per list.
    fn tsdb_status(&self, limit: usize) -> TsdbStatus;
    /// Labels added to federated series (from `global.external_labels`).
    fn external_labels(&self) -> Labels;
}

/// A [`Services`] with nothing behind it, for tests of the query endpoints.
#[derive(Debug, Default)]
pub struct NoServices;

impl Services for NoServices {
    fn targets(&self) -> TargetsSnapshot {
        TargetsSnapshot::default()
    }
    fn metadata(&self) -> Vec<MetricMetadata> {
        Vec::new()
    }
    fn config_yaml(&self) -> String {
        String::new()
    }
    fn flags(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    fn runtime_info(&self) -> Vec<(String, serde_json::Value)> {
        Vec::new()
    }
    fn reload(&self) -> Result<(), String> {
        Ok(())
    }
    fn is_ready(&self) -> bool {
        true
    }
    fn write_metrics(&self, _out: &mut String) {}
    fn tsdb_status(&self, _limit: usize) -> TsdbStatus {
        TsdbStatus::default()
    }
    fn external_labels(&self) -> Labels {
        Labels::empty()
    }
}
