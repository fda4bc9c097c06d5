//! Pure functions from one Kubernetes object (plus an [`ObjectLookup`](crate::cache::ObjectLookup) for the
//! related service, pods, node and namespace) to the target group Prometheus's `kubernetes_sd_configs` produces for
//! it: group-wide labels on the group, per-target labels (each with `__address__`) on the targets, exactly where
//! Prometheus puts them. A label with an empty value counts as absent, as in Prometheus.
//!
//! Not covered: `attach_metadata.deployment|job|cronjob` (`__meta_kubernetes_pod_deployment_name`, `_job_name`,
//! `_cronjob_name`), which [`RoleOptions`](crate::cache::RoleOptions) does not carry.

mod backing;
mod endpoints;
mod endpointslice;
mod ingress;
pub mod meta;
mod node;
mod pod;
mod service;
#[cfg(test)]
mod tests;

pub use endpoints::endpoints_group;
pub use endpointslice::endpointslice_group;
pub use ingress::ingress_group;
pub use node::node_group;
pub use pod::pod_group;
pub use service::service_group;
