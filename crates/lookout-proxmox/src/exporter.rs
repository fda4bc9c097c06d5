//! [`ProxmoxExporter`]: the `pve` built-in exporter. `collect` takes upstream's `/pve` parameters (`target`,
//! `module`, `cluster`, `node`), runs one collection against that PVE host and renders it; any failure fails the
//! whole collection, as upstream answers 500. Collections are independent futures sharing only the per-module
//! HTTP client (a connection pool), so a slow cluster delays nobody else.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use lookout_model::exporter::param;
use lookout_model::self_metrics::{MetricKind, MetricsWriter};
use lookout_model::{ExportError, ExportFuture, Exporter};

use crate::api::{Credentials, PveApi};
use crate::collectors::{self, Gates};
use crate::config::{AuthMethod, ModuleConfig, ProxmoxConfig, Secret};
use crate::families::render;
use crate::target::ApiTarget;
use crate::tls::{TlsError, client_config};

/// Why the exporter cannot be built from a configuration.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The TLS settings of a module cannot be loaded.
    #[error("pve module {module:?}: {source}")]
    Tls {
        /// The module.
        module: String,
        /// The TLS problem.
        source: TlsError,
    },
    /// The HTTP client cannot be built.
    #[error("pve module {module:?}: HTTP client: {reason}")]
    Client {
        /// The module.
        module: String,
        /// Why.
        reason: String,
    },
}

/// Counters of one module's collections.
#[derive(Debug, Default)]
struct ModuleStats {
    collections: AtomicU64,
    errors: AtomicU64,
    /// Last collection's duration in microseconds.
    last_duration_us: AtomicU64,
}

struct Module {
    config: ModuleConfig,
    targets: Vec<ApiTarget>,
    auth: AuthMethod,
    client: reqwest::Client,
    stats: ModuleStats,
}

/// The Proxmox VE exporter: one module per configured cluster.
pub struct ProxmoxExporter {
    modules: Vec<Arc<Module>>,
}

impl std::fmt::Debug for ProxmoxExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self
            .modules
            .iter()
            .map(|m| m.config.name.as_str())
            .collect();
        f.debug_struct("ProxmoxExporter")
            .field("modules", &names)
            .finish()
    }
}

/// Upstream's boolean parameter: `0`, `false` or empty (any case) are false.
fn flag(value: &str) -> bool {
    !matches!(value.to_ascii_lowercase().as_str(), "0" | "false" | "")
}

async fn read_secret(secret: &Secret) -> Result<String, ExportError> {
    match secret {
        Secret::Inline(v) => Ok(v.clone()),
        Secret::File { field, path } => {
            let text = tokio::fs::read_to_string(path)
                .await
                .map_err(|e| ExportError::Failed(format!("{field} {path}: {e}")))?;
            let value = text.trim_end_matches(['\n', '\r']).to_string();
            if value.is_empty() {
                return Err(ExportError::Failed(format!(
                    "{field} {path}: file is empty"
                )));
            }
            Ok(value)
        }
    }
}

impl ProxmoxExporter {
    /// Validates the configuration and builds one HTTP client per module. Reads TLS files (blocking): call at
    /// configuration time. Logs a warning for each module that skips certificate verification.
    pub fn new(config: &ProxmoxConfig) -> Result<Self, BuildError> {
        config.validate()?;
        let mut modules = Vec::with_capacity(config.modules.len());
        for module in &config.modules {
            let tls = client_config(&module.tls_config).map_err(|source| BuildError::Tls {
                module: module.name.clone(),
                source,
            })?;
            if module.tls_config.insecure_skip_verify {
                tracing::warn!(
                    module = %module.name,
                    "pve module {:?}: TLS certificate verification is off (insecure_skip_verify); \
                     trust the cluster CA with tls_config.ca_file instead",
                    module.name
                );
            }
            let client = reqwest::Client::builder()
                .use_preconfigured_tls(tls)
                .connect_timeout(module.timeout.as_duration())
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("Lookout/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| BuildError::Client {
                    module: module.name.clone(),
                    reason: e.to_string(),
                })?;
            let targets = module
                .targets
                .iter()
                .filter_map(|t| ApiTarget::parse(t).ok())
                .collect();
            modules.push(Arc::new(Module {
                auth: module.auth()?,
                config: module.clone(),
                targets,
                client,
                stats: ModuleStats::default(),
            }));
        }
        Ok(ProxmoxExporter { modules })
    }

    /// The configured module names.
    pub fn module_names(&self) -> Vec<&str> {
        self.modules
            .iter()
            .map(|m| m.config.name.as_str())
            .collect()
    }

    /// Lookout's own series about collections: `lookout_pve_collections_total`,
    /// `lookout_pve_collection_errors_total` and `lookout_pve_last_collection_duration_seconds`, by module.
    pub fn write_metrics(&self, out: &mut MetricsWriter) {
        let mut family = out.family(
            "lookout_pve_collections_total",
            MetricKind::Counter,
            "Proxmox VE collections attempted, by module.",
        );
        for m in &self.modules {
            family.sample(
                &[("module", &m.config.name)],
                m.stats.collections.load(Ordering::Relaxed),
            );
        }
        let mut family = out.family(
            "lookout_pve_collection_errors_total",
            MetricKind::Counter,
            "Proxmox VE collections that failed, by module.",
        );
        for m in &self.modules {
            family.sample(
                &[("module", &m.config.name)],
                m.stats.errors.load(Ordering::Relaxed),
            );
        }
        let mut family = out.family(
            "lookout_pve_last_collection_duration_seconds",
            MetricKind::Gauge,
            "Duration of the last Proxmox VE collection, by module.",
        );
        for m in &self.modules {
            let us = m.stats.last_duration_us.load(Ordering::Relaxed);
            family.sample(&[("module", &m.config.name)], us as f64 / 1e6);
        }
    }

    fn module(&self, name: &str) -> Result<&Arc<Module>, ExportError> {
        self.modules
            .iter()
            .find(|m| m.config.name == name)
            .ok_or_else(|| ExportError::BadRequest(format!("Module '{name}' not found in config")))
    }

    async fn collect_module(
        &self,
        module: &Module,
        target: &ApiTarget,
        gates: Gates,
    ) -> Result<String, ExportError> {
        let credentials = match &module.auth {
            AuthMethod::Token {
                user,
                token_name,
                secret,
            } => Credentials::Token(format!(
                "PVEAPIToken={user}!{token_name}={}",
                read_secret(secret).await?
            )),
            AuthMethod::Ticket { user, secret } => Credentials::Password {
                user: user.clone(),
                password: read_secret(secret).await?,
            },
        };
        let failed = |e: &dyn std::fmt::Display| ExportError::Failed(e.to_string());
        let api = PveApi::connect(
            module.client.clone(),
            target,
            credentials,
            module.config.timeout.as_duration(),
            module.config.body_size_limit.0,
        )
        .await
        .map_err(|e| failed(&e))?;
        let families = collectors::collect(&api, gates, &module.config.collectors)
            .await
            .map_err(|e| failed(&e))?;
        // Rendering a large cluster is CPU work; keep it off the async workers.
        tokio::task::spawn_blocking(move || render(&families))
            .await
            .map_err(|e| ExportError::Failed(format!("rendering: {e}")))
    }
}

/// Resolves `target=`: absent → the module's first target (an error with several); present → it must be one of
/// the module's targets, so a request can never send the module's credentials to another host.
fn pick_target<'m>(
    module: &'m Module,
    requested: Option<&str>,
) -> Result<&'m ApiTarget, ExportError> {
    let Some(text) = requested else {
        return match module.targets.as_slice() {
            [only] => Ok(only),
            _ => Err(ExportError::BadRequest(format!(
                "module '{}' has several targets: give target=<host[:port]>",
                module.config.name
            ))),
        };
    };
    let wanted = ApiTarget::parse(text)
        .map_err(|reason| ExportError::BadRequest(format!("target: {reason}")))?;
    module
        .targets
        .iter()
        .find(|t| **t == wanted)
        .ok_or_else(|| {
            ExportError::BadRequest(format!(
                "target '{text}' is not one of module '{}''s targets",
                module.config.name
            ))
        })
}

impl Exporter for ProxmoxExporter {
    fn name(&self) -> &str {
        "pve"
    }

    fn collect<'a>(&'a self, params: &'a [(String, String)]) -> ExportFuture<'a> {
        Box::pin(async move {
            let module = self.module(param(params, "module").unwrap_or("default"))?;
            let target = pick_target(module, param(params, "target"))?;
            let gates = Gates {
                cluster: param(params, "cluster").map_or(module.config.cluster, flag),
                node: param(params, "node").map_or(module.config.node, flag),
            };
            let started = Instant::now();
            module.stats.collections.fetch_add(1, Ordering::Relaxed);
            let result = self.collect_module(module, target, gates).await;
            module
                .stats
                .last_duration_us
                .store(started.elapsed().as_micros() as u64, Ordering::Relaxed);
            if let Err(e) = &result {
                module.stats.errors.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(module = %module.config.name, target = %target, error = %e, "pve collection failed");
            }
            result
        })
    }
}
