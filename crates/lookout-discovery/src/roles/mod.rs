//! Pure functions from one Kubernetes object to the target group Prometheus's `kubernetes_sd_configs` produces for
//! it: group-wide labels on the group, per-target labels (each with `__address__`) on the targets.

mod endpoints;
mod ingress;
pub mod meta;
mod node;
mod pod;
mod service;
#[cfg(test)]
mod tests;

pub use endpoints::{endpoints_group, endpointslice_group};
pub use ingress::ingress_group;
pub use node::node_group;
pub use pod::pod_group;
pub use service::service_group;
