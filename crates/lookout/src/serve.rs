//! `lookout serve`: resolve settings, open the TSDB, start scraping and the HTTP API, handle signals.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use clap::Args;
use lookout_api::{ApiLimits, ApiState};
use lookout_collect::scrape::{ScrapeManager, ScrapeOptions};
use lookout_promql::{Engine, EngineOptions};
use lookout_storage::Storage;
use lookout_tsdb::{Tsdb, TsdbOptions};
use parking_lot::RwLock;
use tokio::net::TcpListener;

use crate::budget::{AGENT_SCRAPE_CACHE_BYTES_PER_SERIES, MemoryBudget};
use crate::config::{self, Config};
use crate::kubernetes::KubernetesWiring;
use crate::services::{AppServices, LoadedConfig};

/// Flags of `lookout serve`; each wins over the config file.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Configuration file (Prometheus-compatible YAML); the embedded default when absent.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Data directory (default ./data, or storage.path).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Listen address, e.g. `:9090` or `127.0.0.1:0` (default :9090, or server.listen).
    #[arg(long)]
    pub listen: Option<String>,
    /// Memory budget, e.g. `512MiB` (default 80 % of the cgroup limit, else 1GiB).
    #[arg(long)]
    pub memory_limit: Option<String>,
    /// `text` or `json` logs (default text, or server.log_format).
    #[arg(long)]
    pub log_format: Option<String>,
    /// Prometheus's web config file: TLS, basic-auth users, response headers (default: server.web_config_file).
    #[arg(long = "web.config.file")]
    pub web_config_file: Option<PathBuf>,
    /// Cut a damaged WAL at the first bad record instead of refusing to start (loses what follows it).
    #[arg(long)]
    pub wal_repair: bool,
    /// Forget a persisted part whose file is missing or damaged instead of refusing to start (loses its samples).
    #[arg(long)]
    pub drop_damaged_parts: bool,
    /// Agent mode (`lookout agent`): forward everything, store and answer nothing.
    #[arg(skip)]
    pub agent: bool,
}

/// Turns `:9090` into `0.0.0.0:9090`.
fn listen_addr(s: &str) -> Result<SocketAddr> {
    let full = if s.starts_with(':') {
        format!("0.0.0.0{s}")
    } else {
        s.to_string()
    };
    full.parse()
        .with_context(|| format!("invalid listen address {s:?} (expected host:port or :port)"))
}

/// The address Lookout scrapes itself on: loopback when listening on all interfaces.
fn self_target(bound: SocketAddr) -> String {
    if bound.ip().is_unspecified() {
        format!("localhost:{}", bound.port())
    } else {
        bound.to_string()
    }
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sled=warn,tantivy=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

fn tsdb_options(cfg: &Config, budget: &MemoryBudget, args: &ServeArgs) -> TsdbOptions {
    let data_share = budget.head + budget.sled_cache;
    let max_active_series = if cfg.storage.max_active_series > 0 {
        cfg.storage.max_active_series as usize
    } else {
        // About 1 KiB per head series (measured in BENCHMARKS.md): the head share decides the default.
        (budget.head / 1024).max(1000) as usize
    };
    let mut wal = lookout_tsdb::wal::WalOptions::default();
    let fsync = cfg.storage.wal_fsync_interval.as_duration();
    wal.fsync_interval = (!fsync.is_zero()).then_some(fsync);
    wal.repair = args.wal_repair || cfg.storage.wal_repair;
    TsdbOptions {
        retention_time: cfg.storage.retention_time.as_duration(),
        retention_bytes: (cfg.storage.retention_size.0 > 0).then_some(cfg.storage.retention_size.0),
        out_of_order_window: cfg.storage.out_of_order_window.as_duration(),
        memory_budget_bytes: data_share,
        sled_cache_fraction: budget.sled_cache as f64 / data_share.max(1) as f64,
        max_active_series,
        wal,
        drop_damaged_parts: args.drop_damaged_parts || cfg.storage.drop_damaged_parts,
        max_future: {
            let skew = cfg.storage.max_future.as_duration();
            (!skew.is_zero()).then_some(skew)
        },
        ..TsdbOptions::default()
    }
}

/// A running appliance (used by `serve` and by the end-to-end tests).
pub struct Server {
    /// The bound HTTP address.
    pub addr: SocketAddr,
    services: Arc<AppServices>,
    logs: Option<Arc<lookout_logs::LogStore>>,
    host_logs: Option<Arc<crate::logs::HostLogsWiring>>,
    forwarders: Option<Arc<lookout_forward::Forwarders>>,
    shutdown: tokio::sync::watch::Sender<bool>,
    http: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Starts everything; returns once the HTTP listener is bound and the TSDB is open.
    pub async fn start(args: ServeArgs) -> Result<Server> {
        let started = SystemTime::now();
        // Load the file first (without the self address) to learn listen settings; reloaded below with it.
        let (probe_cfg, _) = config::load(args.config.as_deref(), "localhost:9090")?;
        let log_format = args
            .log_format
            .clone()
            .unwrap_or_else(|| probe_cfg.server.log_format.clone());
        init_logging(&log_format);
        let listen = args
            .listen
            .clone()
            .or(probe_cfg.server.listen.clone())
            .unwrap_or_else(|| ":9090".into());
        let listener = TcpListener::bind(listen_addr(&listen)?)
            .await
            .with_context(|| format!("binding {listen}"))?;
        let addr = listener.local_addr()?;
        let self_addr = self_target(addr);
        let (mut cfg, text) = config::load(args.config.as_deref(), &self_addr)?;
        if args.agent {
            config::apply_agent(&mut cfg, "configuration")?;
        }
        let web_config_file = args
            .web_config_file
            .clone()
            .or_else(|| cfg.server.web_config_file.clone().map(PathBuf::from));
        let web = Arc::new(
            crate::web::WebSecurity::start(
                web_config_file.as_deref(),
                cfg.auth.as_ref(),
                &cfg.server,
            )
            .await?,
        );
        let forwarding = !cfg.remote_write.is_empty() || !cfg.loki_write.is_empty();
        let forwards_logs = !cfg.loki_write.is_empty();

        let configured = match &args.memory_limit {
            Some(s) => Some(
                s.parse::<lookout_model::ByteSize>()
                    .context("--memory-limit")?
                    .0,
            ),
            None => cfg.server.memory_limit.map(|b| b.0),
        };
        let budget = if args.agent {
            MemoryBudget::resolve_agent(configured)
        } else if forwarding {
            MemoryBudget::resolve(configured).with_forwarding()
        } else {
            MemoryBudget::resolve(configured)
        };
        let data_dir = args
            .data_dir
            .clone()
            .or_else(|| cfg.storage.path.clone().map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("data"));
        tracing::info!(listen = %addr, data = %data_dir.display(), budget = budget.total, "starting lookout");

        // Agent mode stores nothing: no TSDB, no log store; everything goes to the forwarding queues.
        let tsdb = if args.agent {
            None
        } else {
            let opts = tsdb_options(&cfg, &budget, &args);
            let dir = data_dir.clone();
            let tsdb = tokio::task::spawn_blocking(move || Tsdb::open(&dir, opts))
                .await?
                .with_context(|| format!("opening the TSDB in {}", data_dir.display()))?;
            Some(Arc::new(tsdb))
        };
        // Forwarding wraps the stores: an acknowledged write is in every endpoint's disk queue too.
        let forwarders = if forwarding {
            let mut opts = lookout_forward::ForwardOptions::new(
                &data_dir,
                cfg.remote_write.clone(),
                cfg.loki_write.clone(),
            );
            opts.storage.memory_limit = budget.forward as usize;
            if args.agent {
                opts.storage.series_overhead_bytes = AGENT_SCRAPE_CACHE_BYTES_PER_SERIES;
            }
            Some(Arc::new(
                lookout_forward::Forwarders::start(opts, &tokio::runtime::Handle::current())
                    .map_err(|e| anyhow::anyhow!("forwarding: {e}"))?,
            ))
        } else {
            None
        };
        let inner_storage = tsdb.clone().map(|t| t as Arc<dyn Storage>);
        let storage: Arc<dyn Storage> = match (&forwarders, inner_storage) {
            (Some(f), inner) if !cfg.remote_write.is_empty() => f.wrap_storage(inner),
            (_, Some(inner)) => inner,
            // An agent that forwards logs only: samples go nowhere (nothing is scraped into them but up/scrape_*).
            (_, None) => Arc::new(lookout_storage::mem::MemStorage::new()),
        };

        let concurrency = cfg.limits.query_max_concurrency as usize;
        let query_max_samples =
            (cfg.limits.query_max_samples as usize).min(budget.query_samples(concurrency));
        let engine = Arc::new(Engine::new(EngineOptions {
            lookback_delta_ms: cfg.limits.lookback_delta.as_millis() as i64,
            max_samples: query_max_samples,
            timeout: cfg.limits.query_timeout.as_duration(),
            ..EngineOptions::default()
        }));

        let logs = if cfg.logs.enabled && !args.agent {
            let (section, dir, share) = (cfg.logs.clone(), data_dir.clone(), budget.logs);
            let store =
                tokio::task::spawn_blocking(move || crate::logs::open(&section, &dir, share))
                    .await?
                    .with_context(|| {
                        format!(
                            "opening the log store in {}",
                            data_dir.join("logs").display()
                        )
                    })?;
            Some(Arc::new(store))
        } else {
            None
        };

        let kubernetes = Arc::new(KubernetesWiring::start(
            &cfg.kubernetes,
            &data_dir,
            budget.discovery,
        ));
        // The journal, syslog, file and pod-log sources push into the log store (positions under
        // <data>/host-logs); pod logs get their pods' labels from a watch of this node's pods.
        let log_sink: Option<Arc<dyn lookout_storage::logs::LogSink>> = match (&forwarders, &logs) {
            (Some(f), store) if !cfg.loki_write.is_empty() => Some(
                f.wrap_log_sink(
                    store
                        .clone()
                        .map(|s| s as Arc<dyn lookout_storage::logs::LogSink>),
                ),
            ),
            (_, Some(store)) => Some(store.clone()),
            (_, None) => None,
        };
        let host_logs = match (&cfg.host_logs, &log_sink) {
            (Some(sources), Some(sink)) => {
                let pods = (sources.pods.is_some() && cfg.kubernetes.enabled).then(|| {
                    lookout_discovery::pod_labels::PodLabels::start(
                        kubernetes.discovery.clone(),
                        lookout_discovery::client::Connection::of_settings(&cfg.kubernetes),
                        &cfg.kubernetes.node_name,
                    )
                });
                Some(Arc::new(crate::logs::HostLogsWiring::start(
                    sources.clone(),
                    &data_dir.join("host-logs"),
                    sink.clone(),
                    pods,
                )?))
            }
            _ => None,
        };

        let collectors = Arc::new(crate::collectors::CollectorsWiring::new());
        let resolved_collectors = cfg.collectors.resolve()?;
        collectors.apply(&resolved_collectors)?;
        let mut exporters = kubernetes.exporters();
        exporters.extend(collectors.exporters());
        let scrape = ScrapeManager::new(
            storage.clone(),
            ScrapeOptions {
                max_concurrent_appends: 2,
                // One body may take the whole ingest share; all bodies in flight together may not.
                default_max_body_bytes: budget.ingest.max(1 << 20) as usize,
                body_memory_bytes: budget.ingest.max(1 << 20) as usize,
                kubernetes: Some(Arc::new(kubernetes.discovery.clone())),
                exporters: exporters.clone(),
            },
        );
        scrape
            .apply_config(crate::collectors::all_jobs(
                &cfg,
                &resolved_collectors,
                &kubernetes,
                &self_addr,
            )?)
            .map_err(|e| anyhow::anyhow!("{e}"))?;

        let flags = vec![
            (
                "config.file".to_string(),
                args.config
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            ),
            (
                "storage.tsdb.path".to_string(),
                data_dir.display().to_string(),
            ),
            ("web.listen-address".to_string(), addr.to_string()),
            (
                "web.config.file".to_string(),
                web_config_file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            ),
            ("memory-limit".to_string(), budget.total.to_string()),
            (
                "query.max-samples".to_string(),
                query_max_samples.to_string(),
            ),
            (
                "query.timeout".to_string(),
                cfg.limits.query_timeout.to_string(),
            ),
            (
                "query.lookback-delta".to_string(),
                cfg.limits.lookback_delta.to_string(),
            ),
            (
                "storage.tsdb.retention.time".to_string(),
                cfg.storage.retention_time.to_string(),
            ),
        ];
        let limits = ApiLimits {
            max_form_body_bytes: cfg.limits.max_form_body.0 as usize,
            max_write_body_bytes: cfg.limits.max_write_body.0 as usize,
            max_write_decoded_bytes: (cfg.limits.max_write_decoded.0)
                .min(budget.ingest.max(1 << 20)) as usize,
            query_concurrency: concurrency,
            max_log_query_range_ns: cfg.logs.max_query_range.as_millis() as i64 * 1_000_000,
            logql: lookout_logql::LogqlLimits {
                max_entries: cfg.logs.max_entries_limit_per_query,
                max_series: cfg.logs.max_query_series,
                max_lines_read: cfg.logs.max_lines_per_query,
                max_tail_sessions: cfg.logs.max_tail_sessions,
                timeout: cfg.limits.query_timeout.as_duration(),
                max_samples: query_max_samples,
                ..lookout_logql::LogqlLimits::default()
            },
            push_cache_bytes: budget.push_cache as usize,
            ..ApiLimits::default()
        };
        // Rules: one query pool shared with the API; a bad rule file stops the start, as in Prometheus.
        let query_pool = lookout_api::pool::BlockingPool::new(
            "query",
            limits.query_concurrency,
            limits.queue_timeout,
        );
        let external_url = cfg
            .rules
            .external_url
            .clone()
            .unwrap_or_else(|| format!("http://{self_addr}"));
        let notifiers = crate::notify::Notifiers::start(&cfg, kubernetes.discovery.clone())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let rules = Arc::new(crate::rules::RulesWiring::start(
            &cfg,
            args.config.as_deref(),
            storage.clone(),
            engine.clone(),
            query_pool.clone(),
            external_url,
            notifiers.sink(),
            notifiers.alertmanager_lister(),
            kubernetes.rule_objects(),
        ));
        let rule_files = rules.load(&cfg).map_err(|e| anyhow::anyhow!("{e}"))?;
        rules.apply(rule_files);
        let services = Arc::new(AppServices {
            tsdb: tsdb.clone(),
            agent: args.agent,
            scrape,
            config: RwLock::new(LoadedConfig { config: cfg, text }),
            config_path: args.config.clone(),
            self_addr,
            flags,
            budget,
            query_max_samples,
            started,
            last_reload_ok: RwLock::new((true, started)),
            kubernetes: kubernetes.clone(),
            rules: rules.clone(),
            notifiers: notifiers.clone(),
            collectors: collectors.clone(),
            web: web.clone(),
        });
        if let Some(mut changes) = kubernetes.monitor_changes() {
            let weak = Arc::downgrade(&services);
            tokio::spawn(async move {
                while changes.changed().await.is_ok() {
                    let Some(services) = weak.upgrade() else {
                        return;
                    };
                    services.apply_generated_jobs();
                }
            });
        }
        if let Some(mut changes) = kubernetes.rule_objects() {
            let weak = Arc::downgrade(&services);
            tokio::spawn(async move {
                while changes.changed().await.is_ok() {
                    let Some(services) = weak.upgrade() else {
                        return;
                    };
                    // Loading and applying may wait for a group's evaluation: off the async runtime.
                    let _ = tokio::task::spawn_blocking(move || {
                        let cfg = services.config.read().config.clone();
                        services.rules.reload_objects(&cfg);
                    })
                    .await;
                }
            });
        }
        let prefix = services.config.read().config.server.route_prefix.clone();
        let state = ApiState::new(
            storage.clone(),
            engine.clone(),
            {
                let mut roles = lookout_api::Services::from_one(services.clone());
                roles.self_metrics.push(kubernetes.clone());
                if let Some(l) = &logs {
                    roles
                        .self_metrics
                        .push(Arc::new(crate::logs::LogMetrics(l.clone())));
                }
                if let Some(h) = &host_logs {
                    roles.self_metrics.push(h.clone());
                }
                roles.self_metrics.push(collectors.clone());
                if let Some(f) = &forwarders {
                    roles
                        .self_metrics
                        .push(Arc::new(crate::forward::ForwardMetrics(f.clone())));
                }
                roles.exporters = exporters;
                roles.rules = Some(rules.clone());
                roles.self_metrics.push(rules.clone());
                roles.self_metrics.push(notifiers.clone());
                roles.self_metrics.push(web.clone());
                roles
            },
            limits,
        );
        let mut state = state;
        // Rule evaluations and API queries share one pool, so rules run under the same concurrency limit.
        state.query_pool = query_pool;
        state.auth = web.auth.clone();
        state.route_prefix = prefix.clone();
        state.logs = match (&logs, &log_sink) {
            (Some(store), Some(sink)) if forwards_logs => {
                Some(Arc::new(crate::logs::ForwardedLogs {
                    store: store.clone(),
                    sink: sink.clone(),
                })
                    as Arc<dyn lookout_storage::logs::LogStorage>)
            }
            (Some(store), _) => Some(store.clone() as Arc<dyn lookout_storage::logs::LogStorage>),
            _ => None,
        };
        // Pushed streams' label sets are remembered within a sixteenth of the log store's share.
        state.log_labels = Arc::new(
            lookout_logql::ingest::StreamLabelsCache::with_capacity_bytes(
                (budget.logs / 16) as usize,
            ),
        );
        let mut app = if args.agent {
            lookout_api::agent_router(state)
        } else {
            lookout_api::router(state)
        }
        .merge(web.ui(&prefix));
        if !prefix.is_empty() {
            app = app.clone().merge(axum::Router::new().nest(&prefix, app));
        }
        let app = web.wrap(app);
        let (shutdown, mut rx) = tokio::sync::watch::channel(false);
        let wait = async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        let serving = web.serve(listener, app, wait);
        tracing::info!(url = %web.url(addr), "serving");
        let http = tokio::spawn(async move {
            if let Err(e) = serving.await {
                tracing::error!(error = %e, "http server failed");
            }
        });
        Ok(Server {
            addr,
            services,
            logs,
            host_logs,
            forwarders,
            shutdown,
            http,
        })
    }

    /// Re-reads the configuration (SIGHUP).
    pub fn reload(&self) -> Result<(), String> {
        lookout_api::ConfigControl::reload(self.services.as_ref())
    }

    /// Stops HTTP and scraping, then closes the TSDB (final WAL fsync).
    pub async fn stop(self) -> Result<()> {
        let _ = self.shutdown.send(true);
        self.services.rules.stop();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.http).await;
        self.services
            .notifiers
            .shutdown(Duration::from_secs(5))
            .await;
        self.services.scrape.shutdown(Duration::from_secs(5)).await;
        if let Some(h) = self.host_logs {
            // Sources stop before the store closes, so their last pushes and positions are kept.
            h.shutdown().await;
        }
        if let Some(f) = self.forwarders.and_then(|f| Arc::try_unwrap(f).ok()) {
            // What the receivers have not acknowledged stays queued on disk for the next start.
            f.stop(Duration::from_secs(5)).await;
        }
        if let Some(logs) = self.logs.clone() {
            // Commits the index so the next start has nothing to replay.
            let closed = tokio::task::spawn_blocking(move || logs.close()).await?;
            if let Err(e) = closed {
                tracing::error!(error = %e, "closing the log store; its WAL is replayed at the next start");
            }
        }
        let tsdb = self.services.tsdb.clone();
        drop(self.services);
        tokio::task::spawn_blocking(move || match tsdb.map(Arc::try_unwrap) {
            Some(Ok(t)) => t
                .close()
                .map_err(|e| anyhow::anyhow!("closing the TSDB: {e}")),
            // No TSDB (agent mode), or something still holds it (e.g. a query finishing; its Drop closes it).
            _ => Ok(()),
        })
        .await?
    }
}

async fn run(args: ServeArgs) -> Result<()> {
    let server = Server::start(args).await?;
    tracing::info!(addr = %server.addr, "ready");
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hup = signal(SignalKind::hangup())?;
        let mut term = signal(SignalKind::terminate())?;
        loop {
            tokio::select! {
                _ = hup.recv() => { let _ = server.reload(); }
                _ = term.recv() => break,
                _ = tokio::signal::ctrl_c() => break,
            }
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await?;
    tracing::info!("shutting down");
    server.stop().await
}

/// Builds the runtime and serves until SIGTERM/SIGINT.
pub fn run_blocking(args: ServeArgs) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(64)
        // Parsers and evaluators recurse per syntax level (bounded by the query nesting limits); 8 MiB leaves
        // them a wide margin. Only touched pages cost memory.
        .thread_stack_size(8 << 20)
        .build()?;
    rt.block_on(run(args))
}
