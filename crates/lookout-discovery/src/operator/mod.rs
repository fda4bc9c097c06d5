//! Prometheus Operator objects turned into Prometheus scrape jobs, named and relabeled as the Operator's
//! `promcfg.go` writes them, and kube-prometheus-stack's default jobs. The output is Prometheus scrape-config YAML as
//! `serde_json::Value`s, parsed by the scraper's configuration like any job from a file.

mod defaults;
mod http_fields;
mod monitor;
mod spec;
#[cfg(test)]
mod tests;

pub use defaults::default_jobs;
pub use monitor::{pod_monitor_jobs, service_monitor_jobs};

/// Reads Secret values referenced by monitors (always from the monitor's namespace).
pub trait SecretSource {
    /// The value of `key` in Secret `namespace/name`, as text.
    fn secret_value(&self, namespace: &str, name: &str, key: &str) -> Result<String, String>;
    /// Writes the value of `key` in Secret `namespace/name` to a file and returns its path (TLS material).
    fn write_tls_file(&self, namespace: &str, name: &str, key: &str) -> Result<String, String>;
}

/// A monitor could not be turned into jobs; names the object and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {namespace}/{name}: {field}: {reason}")]
pub struct MonitorError {
    /// `ServiceMonitor` or `PodMonitor`.
    pub kind: &'static str,
    /// The object's namespace.
    pub namespace: String,
    /// The object's name.
    pub name: String,
    /// The field path, e.g. `endpoints[1].basicAuth.password`.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}
