//! Relabeling: Prometheus's `relabel_config` rules and their application to a label set.
//!
//! The same rules serve target relabeling, `metric_relabel_configs`, remote-write and alert relabeling, and the
//! Kubernetes discovery recipes. Field names, defaults and validation follow Prometheus's YAML; regexes are fully
//! anchored (`^(?s:…)$`). Known difference: Rust's `\d`, `\w` and `\s` are Unicode-aware where RE2's are ASCII-only.

mod apply;
mod config;
mod expand;

pub use apply::{relabel, relabel_builder};
pub use config::{RelabelAction, RelabelConfig, RelabelError, RelabelRegex};

#[cfg(test)]
mod tests;
