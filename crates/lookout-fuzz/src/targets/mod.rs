//! The targets: one per parser a client, a scrape target or a configuration author can reach.

pub mod config_files;
pub mod exposition;
pub mod logql;
pub mod loki_push;
pub mod promql;
pub mod remote_write;

use crate::target::Target;

/// Every target, in a fixed order.
pub const ALL: [Target; 10] = [
    exposition::TARGET,
    remote_write::TARGET_V1,
    remote_write::TARGET_V2,
    loki_push::TARGET_PROTOBUF,
    loki_push::TARGET_JSON,
    promql::TARGET,
    logql::TARGET,
    config_files::CONFIG,
    config_files::RULES,
    config_files::WEB_CONFIG,
];

/// The target named `name`.
pub fn by_name(name: &str) -> Option<Target> {
    ALL.iter().find(|t| t.name == name).copied()
}
