//! Lookout's HTTP surface: the Prometheus HTTP API v1 (what Grafana and promtool call), remote_write, import,
//! federation and the lifecycle endpoints.
//!
//! Architecture invariant: this is the only crate that knows HTTP status codes and the Prometheus JSON shapes.
//! Handlers parse parameters, call one engine or storage function on a bounded pool, and format the answer; the
//! rest of the appliance is reached through the role traits in [`services`], implemented by the binary.

mod dashboards;
pub mod error;
mod federate;
pub mod format;
mod lifecycle;
pub mod loki;
mod meta;
pub mod params;
pub mod pool;
mod query;
mod respond;
pub mod rules;
pub mod services;
mod status;
mod write;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use lookout_model::{MetricKind, MetricsWriter};
use lookout_promql::Engine;
use lookout_storage::Storage;

pub use error::ApiError;
pub use pool::BlockingPool;
pub use services::{ConfigControl, NoServices, RuntimeStatus, ScrapeStatus, SelfMetrics, Services};
pub use status::PROMETHEUS_COMPAT_VERSION;
pub use write::WriteMetrics;

/// Limits on what clients control, each configurable (`limits.*` in the config file).
#[derive(Debug, Clone)]
pub struct ApiLimits {
    /// Largest request body accepted for queries and forms (bytes).
    pub max_form_body_bytes: usize,
    /// Largest compressed remote_write / import body (bytes).
    pub max_write_body_bytes: usize,
    /// Largest decompressed remote_write / import body (bytes).
    pub max_write_decoded_bytes: usize,
    /// Default result limit for series/labels listings when the client sends none (0 = off).
    pub max_listing_results: usize,
    /// Queries running at once.
    pub query_concurrency: usize,
    /// Appends running at once (remote_write, import).
    pub ingest_concurrency: usize,
    /// How long a request waits for a pool slot.
    pub queue_timeout: Duration,
    /// Longest time range of one log query, ns (Loki's `max_query_length`, default 721h).
    pub max_log_query_range_ns: i64,
    /// LogQL limits (entries per query, series, lines read, time, points).
    pub logql: lookout_logql::LogqlLimits,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            max_form_body_bytes: 1 << 20,
            max_write_body_bytes: 32 << 20,
            max_write_decoded_bytes: 128 << 20,
            max_listing_results: 0,
            query_concurrency: 4,
            ingest_concurrency: 2,
            queue_timeout: Duration::from_secs(30),
            max_log_query_range_ns: 721 * 3_600_000_000_000,
            logql: lookout_logql::LogqlLimits::default(),
        }
    }
}

/// Counters the API exposes about itself (`lookout_api_*`).
#[derive(Debug, Default)]
pub struct ApiMetrics {
    /// Queries that succeeded.
    pub queries: AtomicU64,
    /// Failed queries by Prometheus error type.
    query_errors: std::sync::Mutex<std::collections::BTreeMap<&'static str, u64>>,
    /// Requests refused by a client limit, by the limit's configuration name.
    limit_hits: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
    /// Live tails open now.
    pub tails: std::sync::atomic::AtomicUsize,
}

impl ApiMetrics {
    /// Counts a failed query by its error type.
    pub fn query_error(&self, error_type: &'static str) {
        if let Ok(mut m) = self.query_errors.lock() {
            *m.entry(error_type).or_default() += 1;
        }
    }

    /// Counts a request refused by the limit `name`.
    pub fn limit_hit(&self, name: &str) {
        if let Ok(mut m) = self.limit_hits.lock() {
            *m.entry(name.to_string()).or_default() += 1;
        }
    }

    /// Renders the counters through the shared self-metrics writer.
    pub fn write_metrics(
        &self,
        out: &mut MetricsWriter,
        query_pool: &BlockingPool,
        ingest_pool: &BlockingPool,
    ) {
        out.counter(
            "lookout_api_queries_total",
            "Queries answered successfully.",
            self.queries.load(Ordering::Relaxed),
        );
        let mut errors = out.family(
            "lookout_api_query_errors_total",
            MetricKind::Counter,
            "Queries answered with an error, by Prometheus error type.",
        );
        if let Ok(m) = self.query_errors.lock() {
            for (t, n) in m.iter() {
                errors.sample(&[("type", t)], *n);
            }
        }
        let mut limits = out.family(
            "lookout_api_limit_hits_total",
            MetricKind::Counter,
            "Requests refused by a client limit, by limit name.",
        );
        if let Ok(m) = self.limit_hits.lock() {
            for (l, n) in m.iter() {
                limits.sample(&[("limit", l)], *n);
            }
        }
        out.family(
            "lookout_api_pool_rejected_total",
            MetricKind::Counter,
            "Requests refused because their pool stayed full.",
        )
        .sample(&[("pool", "query")], query_pool.rejected())
        .sample(&[("pool", "ingest")], ingest_pool.rejected());
    }
}

/// Everything a handler needs.
#[derive(Clone)]
pub struct ApiState {
    /// The sample store.
    pub storage: Arc<dyn Storage>,
    /// The PromQL engine.
    pub engine: Arc<Engine>,
    /// The rest of the appliance.
    pub services: Services,
    /// Client limits.
    pub limits: ApiLimits,
    /// Pool for queries.
    pub query_pool: BlockingPool,
    /// Pool for appends.
    pub ingest_pool: BlockingPool,
    /// Self-metrics.
    pub metrics: Arc<ApiMetrics>,
    /// Write-path self-metrics.
    pub write_metrics: Arc<WriteMetrics>,
    /// The log store behind the Loki API (None: the Loki routes answer 404).
    pub logs: Option<Arc<dyn lookout_storage::logs::LogStorage>>,
}

impl ApiState {
    /// State with pools sized from `limits`.
    pub fn new(
        storage: Arc<dyn Storage>,
        engine: Arc<Engine>,
        services: Services,
        limits: ApiLimits,
    ) -> Self {
        let query_pool = BlockingPool::new("query", limits.query_concurrency, limits.queue_timeout);
        let ingest_pool =
            BlockingPool::new("ingest", limits.ingest_concurrency, limits.queue_timeout);
        ApiState {
            storage,
            engine,
            services,
            limits,
            query_pool,
            ingest_pool,
            metrics: Arc::new(ApiMetrics::default()),
            write_metrics: Arc::new(WriteMetrics::default()),
            logs: None,
        }
    }
}

/// The routes both modes serve: targets, status, lifecycle, `/metrics` and the built-in exporters.
fn appliance_routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/targets", get(status::targets))
        .route("/api/v1/scrape_pools", get(status::scrape_pools))
        .route("/api/v1/status/buildinfo", get(status::buildinfo))
        .route("/api/v1/status/config", get(status::config))
        .route("/api/v1/status/flags", get(status::flags))
        .route("/api/v1/status/runtimeinfo", get(status::runtimeinfo))
        .route(
            "/-/healthy",
            get(lifecycle::healthy).head(lifecycle::healthy),
        )
        .route("/-/ready", get(lifecycle::ready).head(lifecycle::ready))
        .route(
            "/-/reload",
            post(lifecycle::reload)
                .put(lifecycle::reload)
                .get(lifecycle::reload_wrong_method),
        )
        .route("/metrics", get(lifecycle::metrics))
        .route("/exporters/{name}/metrics", get(lifecycle::exporter))
}

/// The routes of agent mode: no query API and no long-term storage, as Prometheus's agent mode — lifecycle,
/// `/metrics`, built-in exporters, targets and status. Every other `/api/v1/…` and `/loki/…` path answers 422
/// ("unavailable in agent mode"), so a data source pointed at an agent says why instead of showing nothing.
pub fn agent_router(state: ApiState) -> Router {
    async fn unavailable() -> error::ApiError {
        error::ApiError::execution(
            "unavailable in agent mode: this Lookout forwards what it collects and answers no queries",
        )
    }
    appliance_routes()
        .route("/api/v1/{*rest}", axum::routing::any(unavailable))
        .route("/loki/{*rest}", axum::routing::any(unavailable))
        .route("/federate", axum::routing::any(unavailable))
        .with_state(state)
}

/// The Prometheus-compatible routes (also served under an optional path prefix by the caller).
pub fn router(state: ApiState) -> Router {
    appliance_routes()
        .route("/api/lookout/v1/dashboards", get(dashboards::list))
        .route("/api/lookout/v1/dashboards/{uid}", get(dashboards::get_one))
        .route("/api/v1/query", get(query::instant).post(query::instant))
        .route("/api/v1/query_range", get(query::range).post(query::range))
        .route(
            "/api/v1/query_exemplars",
            get(query::exemplars).post(query::exemplars),
        )
        .route(
            "/api/v1/format_query",
            get(query::format_query).post(query::format_query),
        )
        .route("/api/v1/series", get(meta::series).post(meta::series))
        .route("/api/v1/labels", get(meta::labels).post(meta::labels))
        .route("/api/v1/label/{name}/values", get(meta::label_values))
        .route("/api/v1/metadata", get(meta::metadata))
        .route("/api/v1/rules", get(rules::rules))
        .route("/api/v1/alerts", get(rules::alerts))
        .route("/api/v1/alertmanagers", get(rules::alertmanagers))
        .route("/api/v1/status/tsdb", get(status::tsdb))
        .route("/federate", get(federate::federate))
        .route("/api/v1/write", post(write::remote_write))
        .route("/api/v1/import/prometheus", post(write::import))
        .route("/loki/api/v1/push", post(loki::push))
        .route(
            "/loki/api/v1/query_range",
            get(loki::query_range).post(loki::query_range),
        )
        .route(
            "/loki/api/v1/query",
            get(loki::query_instant).post(loki::query_instant),
        )
        .route("/loki/api/v1/labels", get(loki::labels).post(loki::labels))
        .route(
            "/loki/api/v1/label/{name}/values",
            get(loki::label_values).post(loki::label_values),
        )
        .route("/loki/api/v1/series", get(loki::series).post(loki::series))
        .route("/loki/api/v1/status/buildinfo", get(loki::buildinfo))
        .route(
            "/loki/api/v1/index/stats",
            get(loki::index_stats).post(loki::index_stats),
        )
        .route(
            "/loki/api/v1/index/volume",
            get(loki::index_volume).post(loki::index_volume),
        )
        .route(
            "/loki/api/v1/index/volume_range",
            get(loki::index_volume_range).post(loki::index_volume_range),
        )
        .route(
            "/loki/api/v1/detected_labels",
            get(loki::detected_labels).post(loki::detected_labels),
        )
        .route(
            "/loki/api/v1/detected_fields",
            get(loki::detected_fields).post(loki::detected_fields),
        )
        .route(
            "/loki/api/v1/detected_field/{name}/values",
            get(loki::detected_field_values).post(loki::detected_field_values),
        )
        .route(
            "/loki/api/v1/patterns",
            get(loki::patterns).post(loki::patterns),
        )
        .route(
            "/loki/api/v1/format_query",
            get(loki::format_query).post(loki::format_query),
        )
        .route("/loki/api/v1/tail", get(loki::tail))
        .route("/ready", get(lifecycle::ready))
        .with_state(state)
}
