//! Wiring of the `collectors:` section: the built-in host (node_exporter's names) and Proxmox VE
//! (prometheus-pve-exporter's names) exporters, each scraped by a job of its own whose fetch is the exporter's
//! `collect` (so relabeling, `up`, staleness and target health work as for any target), and served at
//! `/exporters/<name>/metrics` for another Prometheus.
//!
//! Each collector's YAML mixes the job's settings (`enabled`, `job_name`, `scrape_interval`, `scrape_timeout`, and
//! `instance` for the host) with the exporter's own options; both are checked when the configuration loads, so
//! `lookout check config` names a bad key under its path.

use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use lookout_collect::config::{GlobalConfig, PromDuration, ScrapeConfig, resolve_all};
use lookout_host::{HostCollector, HostOptions};
use lookout_model::{ExportFuture, Exporter};
use lookout_proxmox::{ProxmoxConfig, ProxmoxExporter};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use serde_yaml_ng::{Mapping, Value};

/// The exporter name (and `/exporters/<name>/metrics` segment) of the host collector.
pub const HOST_EXPORTER: &str = "node";
/// The exporter name of the Proxmox VE collector.
pub const PROXMOX_EXPORTER: &str = "pve";

/// `collectors:` as written in the file (each collector's options checked by [`CollectorsSection::resolve`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectorsSection {
    /// The host collector: job settings and `lookout_host::HostOptions` keys. Off when absent; on when present
    /// unless `enabled: false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<Value>,
    /// The Proxmox VE collector: job settings and `modules:` (one per cluster). Off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxmox: Option<Value>,
}

/// A built-in collector's scrape job settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobSettings {
    #[serde(default = "default_true")]
    enabled: bool,
    #[serde(default)]
    job_name: Option<String>,
    #[serde(default)]
    scrape_interval: Option<PromDuration>,
    #[serde(default)]
    scrape_timeout: Option<PromDuration>,
    /// The host's `instance` label (default: the host name). Host collector only.
    #[serde(default)]
    instance: Option<String>,
}

fn default_true() -> bool {
    true
}

const JOB_KEYS: &[&str] = &[
    "enabled",
    "job_name",
    "scrape_interval",
    "scrape_timeout",
    "instance",
];

/// Splits a collector's mapping into its job settings and the exporter's own options.
fn split(path: &str, value: Option<&Value>) -> Result<(JobSettings, Value)> {
    let map = match value {
        None | Some(Value::Null) => Mapping::new(),
        Some(Value::Mapping(m)) => m.clone(),
        Some(_) => return Err(anyhow!("{path}: must be a mapping")),
    };
    let (mut job, mut rest) = (Mapping::new(), Mapping::new());
    for (k, v) in map {
        if k.as_str().is_some_and(|k| JOB_KEYS.contains(&k)) {
            job.insert(k, v);
        } else {
            rest.insert(k, v);
        }
    }
    let job: JobSettings =
        serde_yaml_ng::from_value(Value::Mapping(job)).with_context(|| path.to_string())?;
    Ok((job, Value::Mapping(rest)))
}

/// The collectors a configuration asks for, checked.
#[derive(Debug, Clone)]
pub struct ResolvedCollectors {
    host: Option<(JobSettings, HostOptions)>,
    proxmox: Option<(JobSettings, ProxmoxConfig)>,
}

impl CollectorsSection {
    /// Checks every collector's settings and options; the errors name the key's path.
    pub fn resolve(&self) -> Result<ResolvedCollectors> {
        // The host collector runs when the file names it (the embedded default and the Debian package's file do);
        // a Prometheus configuration brought as it is gets no job it did not ask for.
        let (host_job, host_rest) = split("collectors.host", self.host.as_ref())?;
        let host = if self.host.is_some() && host_job.enabled {
            let opts: HostOptions =
                serde_yaml_ng::from_value(host_rest).context("collectors.host")?;
            HostCollector::new(opts.clone()).context("collectors.host")?;
            if host_job.instance.as_deref() == Some("") {
                return Err(anyhow!("collectors.host.instance: must not be empty"));
            }
            Some((host_job, opts))
        } else {
            None
        };
        let proxmox = match &self.proxmox {
            None => None,
            Some(v) => {
                let (job, rest) = split("collectors.proxmox", Some(v))?;
                if job.instance.is_some() {
                    return Err(anyhow!(
                        "collectors.proxmox.instance: not a setting here: each Proxmox API host is its own instance"
                    ));
                }
                let config: ProxmoxConfig =
                    serde_yaml_ng::from_value(rest).context("collectors.proxmox")?;
                config
                    .validate()
                    .map_err(|e| anyhow!("collectors.proxmox: {e}"))?;
                job.enabled.then_some((job, config))
            }
        };
        Ok(ResolvedCollectors { host, proxmox })
    }
}

/// An exporter whose settings a reload can replace while the scrape jobs and the API keep one handle.
pub struct Swappable<E: Exporter> {
    name: &'static str,
    current: RwLock<Option<Arc<E>>>,
}

impl<E: Exporter> Swappable<E> {
    fn new(name: &'static str) -> Arc<Self> {
        Arc::new(Swappable {
            name,
            current: RwLock::new(None),
        })
    }

    fn set(&self, exporter: Option<E>) {
        *self.current.write() = exporter.map(Arc::new);
    }
}

impl<E: Exporter> Exporter for Swappable<E> {
    fn name(&self) -> &str {
        self.name
    }

    fn collect<'a>(&'a self, params: &'a [(String, String)]) -> ExportFuture<'a> {
        let current = self.current.read().clone();
        Box::pin(async move {
            match current {
                Some(e) => e.collect(params).await,
                None => Err(lookout_model::ExportError::BadRequest(format!(
                    "the {} collector is not enabled in the configuration",
                    self.name
                ))),
            }
        })
    }
}

/// The running built-in collectors.
pub struct CollectorsWiring {
    host: Arc<Swappable<HostCollector>>,
    proxmox: Arc<Swappable<ProxmoxExporter>>,
}

impl CollectorsWiring {
    /// Collectors with nothing configured yet; [`apply`](Self::apply) sets them.
    pub fn new() -> Self {
        CollectorsWiring {
            host: Swappable::new(HOST_EXPORTER),
            proxmox: Swappable::new(PROXMOX_EXPORTER),
        }
    }

    /// The exporters for the scraper and the API (fixed handles; their settings follow [`apply`](Self::apply)).
    pub fn exporters(&self) -> Vec<Arc<dyn Exporter>> {
        vec![
            self.host.clone() as Arc<dyn Exporter>,
            self.proxmox.clone() as Arc<dyn Exporter>,
        ]
    }

    /// Rebuilds the exporters from `resolved` (at start and on every reload).
    pub fn apply(&self, resolved: &ResolvedCollectors) -> Result<()> {
        let host = match &resolved.host {
            Some((_, opts)) => Some(HostCollector::new(opts.clone()).context("collectors.host")?),
            None => None,
        };
        let proxmox = match &resolved.proxmox {
            Some((_, config)) => {
                Some(ProxmoxExporter::new(config).map_err(|e| anyhow!("collectors.proxmox: {e}"))?)
            }
            None => None,
        };
        self.host.set(host);
        self.proxmox.set(proxmox);
        Ok(())
    }
}

impl lookout_api::SelfMetrics for CollectorsWiring {
    /// `lookout_pve_*`: collections, errors and the last collection's duration per module.
    fn write_metrics(&self, out: &mut lookout_model::MetricsWriter) {
        let proxmox = self.proxmox.current.read().clone();
        if let Some(p) = proxmox {
            p.write_metrics(out);
        }
    }
}

impl Default for CollectorsWiring {
    fn default() -> Self {
        Self::new()
    }
}

/// This machine's host name, the host collector's default `instance` (node_exporter's targets are usually named
/// by host).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

impl ResolvedCollectors {
    /// The scrape jobs of the enabled collectors: their targets point at Lookout's own
    /// `/exporters/<name>/metrics` (what the targets page shows, and where another Prometheus would scrape), and
    /// their fetch is the exporter's `collect`.
    pub fn jobs(&self, global: &GlobalConfig, self_addr: &str) -> Result<Vec<ScrapeConfig>> {
        let mut jobs = Vec::new();
        if let Some((job, _)) = &self.host {
            let instance = job.instance.clone().unwrap_or_else(host_name);
            let value = serde_json::json!({
                "job_name": job.job_name.clone().unwrap_or_else(|| HOST_EXPORTER.to_string()),
                "metrics_path": format!("/exporters/{HOST_EXPORTER}/metrics"),
                "static_configs": [{"targets": [self_addr], "labels": {"instance": instance}}],
            });
            jobs.push(builtin_job(value, job, HOST_EXPORTER)?);
        }
        if let Some((job, config)) = &self.proxmox {
            // One target per cluster (module): its first API host, as prometheus-pve-exporter's README scrapes it
            // (`target` and `instance` = the PVE host, the address = the exporter).
            let groups: Vec<serde_json::Value> = config
                .modules
                .iter()
                .filter_map(|m| {
                    m.targets.first().map(|t| {
                        serde_json::json!({"targets": [t], "labels": {"__param_module": m.name}})
                    })
                })
                .collect();
            let value = serde_json::json!({
                "job_name": job.job_name.clone().unwrap_or_else(|| PROXMOX_EXPORTER.to_string()),
                "metrics_path": format!("/exporters/{PROXMOX_EXPORTER}/metrics"),
                "static_configs": groups,
                "relabel_configs": [
                    {"source_labels": ["__address__"], "target_label": "__param_target"},
                    {"source_labels": ["__param_target"], "target_label": "instance"},
                    {"target_label": "__address__", "replacement": self_addr},
                ],
            });
            jobs.push(builtin_job(value, job, PROXMOX_EXPORTER)?);
        }
        resolve_all(&mut jobs, global).map_err(|e| anyhow!("collectors: {e}"))?;
        Ok(jobs)
    }
}

fn builtin_job(
    mut value: serde_json::Value,
    job: &JobSettings,
    exporter: &str,
) -> Result<ScrapeConfig> {
    if let Some(i) = job.scrape_interval {
        value["scrape_interval"] = serde_json::Value::String(i.to_string());
    }
    if let Some(t) = job.scrape_timeout {
        value["scrape_timeout"] = serde_json::Value::String(t.to_string());
    }
    let mut config: ScrapeConfig = serde_json::from_value(value)
        .map_err(|e| anyhow!("collectors: the {exporter} job: {e}"))?;
    config.builtin_exporter = Some(exporter.to_string());
    Ok(config)
}

#[cfg(test)]
mod tests;

/// Every scrape job: the configured and Kubernetes-generated ones, then the built-in collectors' of `collectors`
/// (`cfg.collectors` resolved; a configured job of the same name wins, with a warning).
pub fn all_jobs(
    cfg: &crate::config::Config,
    collectors: &ResolvedCollectors,
    kubernetes: &crate::kubernetes::KubernetesWiring,
    self_addr: &str,
) -> Result<Vec<ScrapeConfig>> {
    let mut jobs = kubernetes.scrape_configs(cfg, self_addr);
    for job in collectors.jobs(&cfg.scrape_global(), self_addr)? {
        if jobs.iter().any(|j| j.job_name == job.job_name) {
            tracing::warn!(job = %job.job_name, "a built-in collector's job has the name of a configured job; the configured one is kept");
            continue;
        }
        jobs.push(job);
    }
    Ok(jobs)
}
