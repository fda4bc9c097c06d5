//! Lookout's HTTP surface: the Prometheus HTTP API v1 (what Grafana and promtool call), remote_write, import,
//! federation and the lifecycle endpoints.
//!
//! Architecture invariant: this is the only crate that knows HTTP status codes and the Prometheus JSON shapes.
//! Handlers parse parameters, call one engine or storage function on a bounded pool, and format the answer; the
//! rest of the appliance is reached through the role traits in [`services`], implemented by the binary.

mod dashboards;
pub mod error;
mod federate;
mod float_text;
pub mod format;
mod lifecycle;
pub mod loki;
mod meta;
pub mod params;
pub mod pool;
mod query;
mod respond;
mod routes;
pub mod rules;
pub mod services;
mod status;
mod write;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::{any, get, post};
use lookout_auth::{Authenticator, Role};
use lookout_model::{MetricKind, MetricsWriter};
use lookout_promql::Engine;
use lookout_storage::Storage;
use routes::Routes;

pub use error::ApiError;
pub use pool::BlockingPool;
pub use routes::{DeclaredRoute, route_table};
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
    /// Memory share of the pushed-series cache (remote_write series appended by reference), bytes.
    pub push_cache_bytes: usize,
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
            push_cache_bytes: 16 << 20,
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
    /// remote_write series the storage holds, by their labels' wire bytes.
    pub push_cache: Arc<lookout_collect::push::PushSeriesCache>,
    /// The log store behind the Loki API (None: the Loki routes answer 404).
    pub logs: Option<Arc<dyn lookout_storage::logs::LogStorage>>,
    /// Pushed streams' label sets, as the push handler built them.
    pub log_labels: Arc<lookout_logql::ingest::StreamLabelsCache>,
    /// Who may call which route (disabled: everyone may call everything).
    pub auth: Authenticator,
    /// The route prefix the router is also served under (for matching public paths), empty for none.
    pub route_prefix: String,
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
        let push_cache = Arc::new(lookout_collect::push::PushSeriesCache::new(
            limits.push_cache_bytes,
        ));
        ApiState {
            storage,
            engine,
            services,
            limits,
            query_pool,
            ingest_pool,
            metrics: Arc::new(ApiMetrics::default()),
            write_metrics: Arc::new(WriteMetrics::default()),
            push_cache,
            logs: None,
            log_labels: Default::default(),
            auth: Authenticator::disabled(),
            route_prefix: String::new(),
        }
    }
}

/// The routes both modes serve: targets, status, lifecycle, `/metrics` and the built-in exporters.
fn appliance_routes(r: Routes) -> Routes {
    use Role::{Admin, Read};
    r.add("/api/v1/targets", Read, get(status::targets))
        .add("/api/v1/scrape_pools", Read, get(status::scrape_pools))
        .add("/api/v1/status/buildinfo", Read, get(status::buildinfo))
        .add("/api/v1/status/config", Read, get(status::config))
        .add("/api/v1/status/flags", Read, get(status::flags))
        .add("/api/v1/status/runtimeinfo", Read, get(status::runtimeinfo))
        .add(
            "/-/healthy",
            Read,
            get(lifecycle::healthy).head(lifecycle::healthy),
        )
        .add(
            "/-/ready",
            Read,
            get(lifecycle::ready).head(lifecycle::ready),
        )
        .add(
            "/-/reload",
            Admin,
            post(lifecycle::reload)
                .put(lifecycle::reload)
                .get(lifecycle::reload_wrong_method),
        )
        .add("/metrics", Read, get(lifecycle::metrics))
        .add("/exporters/{name}/metrics", Read, get(lifecycle::exporter))
}

/// Agent mode's routes (see [`agent_router`]).
fn agent_routes(r: Routes) -> Routes {
    async fn unavailable() -> error::ApiError {
        error::ApiError::execution(
            "unavailable in agent mode: this Lookout forwards what it collects and answers no queries",
        )
    }
    appliance_routes(r)
        .add("/api/v1/{*rest}", Role::Read, any(unavailable))
        .add("/loki/{*rest}", Role::Read, any(unavailable))
        .add("/federate", Role::Read, any(unavailable))
}

/// The routes of agent mode: no query API and no long-term storage, as Prometheus's agent mode — lifecycle,
/// `/metrics`, built-in exporters, targets and status. Every other `/api/v1/…` and `/loki/…` path answers 422
/// ("unavailable in agent mode"), so a data source pointed at an agent says why instead of showing nothing.
pub fn agent_router(state: ApiState) -> Router {
    let guard = Some((state.auth.clone(), state.route_prefix.clone()));
    agent_routes(Routes::new(guard))
        .into_router()
        .with_state(state)
}

/// The server's routes (see [`router`]).
fn server_routes(r: Routes) -> Routes {
    use Role::{Read, Write};
    appliance_routes(r)
        .add("/api/lookout/v1/dashboards", Read, get(dashboards::list))
        .add(
            "/api/lookout/v1/dashboards/{uid}",
            Read,
            get(dashboards::get_one),
        )
        .add(
            "/api/v1/query",
            Read,
            get(query::instant).post(query::instant),
        )
        .add(
            "/api/v1/query_range",
            Read,
            get(query::range).post(query::range),
        )
        .add(
            "/api/v1/query_exemplars",
            Read,
            get(query::exemplars).post(query::exemplars),
        )
        .add(
            "/api/v1/format_query",
            Read,
            get(query::format_query).post(query::format_query),
        )
        .add("/api/v1/series", Read, get(meta::series).post(meta::series))
        .add("/api/v1/labels", Read, get(meta::labels).post(meta::labels))
        .add("/api/v1/label/{name}/values", Read, get(meta::label_values))
        .add("/api/v1/metadata", Read, get(meta::metadata))
        .add("/api/v1/rules", Read, get(rules::rules))
        .add("/api/v1/alerts", Read, get(rules::alerts))
        .add("/api/v1/alertmanagers", Read, get(rules::alertmanagers))
        .add("/api/v1/status/tsdb", Read, get(status::tsdb))
        .add("/federate", Read, get(federate::federate))
        .add("/api/v1/write", Write, post(write::remote_write))
        .add("/api/v1/import/prometheus", Write, post(write::import))
        .add("/loki/api/v1/push", Write, post(loki::push))
        .add(
            "/loki/api/v1/query_range",
            Read,
            get(loki::query_range).post(loki::query_range),
        )
        .add(
            "/loki/api/v1/query",
            Read,
            get(loki::query_instant).post(loki::query_instant),
        )
        .add(
            "/loki/api/v1/labels",
            Read,
            get(loki::labels).post(loki::labels),
        )
        .add(
            "/loki/api/v1/label/{name}/values",
            Read,
            get(loki::label_values).post(loki::label_values),
        )
        .add(
            "/loki/api/v1/series",
            Read,
            get(loki::series).post(loki::series),
        )
        .add("/loki/api/v1/status/buildinfo", Read, get(loki::buildinfo))
        .add(
            "/loki/api/v1/index/stats",
            Read,
            get(loki::index_stats).post(loki::index_stats),
        )
        .add(
            "/loki/api/v1/index/volume",
            Read,
            get(loki::index_volume).post(loki::index_volume),
        )
        .add(
            "/loki/api/v1/index/volume_range",
            Read,
            get(loki::index_volume_range).post(loki::index_volume_range),
        )
        .add(
            "/loki/api/v1/detected_labels",
            Read,
            get(loki::detected_labels).post(loki::detected_labels),
        )
        .add(
            "/loki/api/v1/detected_fields",
            Read,
            get(loki::detected_fields).post(loki::detected_fields),
        )
        .add(
            "/loki/api/v1/detected_field/{name}/values",
            Read,
            get(loki::detected_field_values).post(loki::detected_field_values),
        )
        .add(
            "/loki/api/v1/patterns",
            Read,
            get(loki::patterns).post(loki::patterns),
        )
        .add(
            "/loki/api/v1/format_query",
            Read,
            get(loki::format_query).post(loki::format_query),
        )
        .add("/loki/api/v1/tail", Read, get(loki::tail))
        .add("/ready", Read, get(lifecycle::ready))
}

/// The Prometheus-compatible routes (also served under an optional path prefix by the caller), each behind the
/// role it declares (checked by `state.auth`).
pub fn router(state: ApiState) -> Router {
    let guard = Some((state.auth.clone(), state.route_prefix.clone()));
    server_routes(Routes::new(guard))
        .into_router()
        .with_state(state)
}
