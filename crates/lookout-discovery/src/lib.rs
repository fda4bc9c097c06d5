//! Kubernetes discovery for Lookout: every `kubernetes_sd_configs` role with Prometheus's labels, Prometheus Operator
//! `ServiceMonitor`/`PodMonitor` objects turned into scrape jobs as the Operator generates them, `PrometheusRule`
//! objects turned into rule files, and built-in kube-state metrics, all served from one set of shared watches.
//!
//! - [`config`]: `kubernetes_sd_configs` entries (Prometheus's fields) and [`settings`]: Lookout's `kubernetes:`
//!   section (default jobs, monitors, rules, kube-state metrics).
//! - [`roles`]: pure functions from one Kubernetes object (plus an [`cache::ObjectLookup`] for related objects) to
//!   the [`lookout_model::TargetGroup`] Prometheus would produce.
//! - [`operator`]: ServiceMonitor/PodMonitor → Prometheus scrape-config YAML values.
//! - [`prometheus_rules`]: PrometheusRule objects → rule-file text, named as the Operator names its rule files.
//! - [`kube_state`]: kube-state-metrics' series from a [`cache::Snapshot`].
//! - [`watch`]: the shared watches (one per resource, namespace and selector, via `kube`'s runtime watcher).
//!
//! Architecture invariant: this is the only crate that names `kube` or `k8s-openapi`; it knows nothing of scraping,
//! rules or storage, and hands out target groups, scrape-config values, rule-file text and rendered metrics.

pub mod cache;
pub mod client;
pub mod config;
pub mod kube_state;
pub mod kube_state_watches;
pub mod monitors;
pub mod operator;
pub mod pod_labels;
pub mod prometheus_rules;
pub mod roles;
pub mod sd;
pub mod settings;
pub mod targets;
pub mod watch;

pub use config::{KubernetesSdConfig, Role};
pub use sd::KubernetesDiscovery;
pub use settings::KubernetesSettings;
pub use targets::KubernetesTargets;
