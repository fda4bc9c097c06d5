//! Lookout's built-in Proxmox VE collector. It reproduces the series of prometheus-pve-exporter's `/pve` endpoint
//! (families, labels, `id` forms, values, gates and error behaviour) by calling the PVE API directly, so existing
//! dashboards and alerts work unchanged. [`ProxmoxExporter`] implements [`lookout_model::Exporter`] under the
//! name `pve`.
//!
//! Wiring: parse a [`ProxmoxConfig`] (`modules: [...]`), build a [`ProxmoxExporter`] from it at configuration time,
//! and register it as a built-in exporter; collections take upstream's `/pve` query parameters.

pub mod api;
pub mod collectors;
pub mod config;
pub mod exporter;
pub mod families;
pub mod json;
pub mod target;
pub mod tls;

pub use config::{CollectorSwitches, ConfigError, ModuleConfig, ProxmoxConfig};
pub use exporter::{BuildError, ProxmoxExporter};
