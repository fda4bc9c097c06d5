//! Built-in kube-state metrics: kube-state-metrics v2's names, identity labels, units and value conventions for the
//! subset kubernetes-mixin's alerts and dashboards read, rendered from a [`Snapshot`] of the shared watches.
//!
//! Conventions (as KSM): no sample timestamps; every family gauge except the restart counters; `cond3` conditions
//! give three series (`true`/`false`/`unknown`); enums one series per value; timestamps are whole Unix seconds;
//! nil optional fields give no series.

mod batch;
mod common;
mod containers;
mod helpers;
mod hpa;
mod pod;
mod resources;
#[cfg(test)]
mod tests;
mod workloads;

use lookout_model::MetricsWriter;

use crate::cache::Snapshot;
use crate::settings::KubeStateSettings;

pub use helpers::parse_quantity;

/// Renders every family for the objects in `snapshot`, each family's samples together and sorted by object.
pub fn render(snapshot: &Snapshot, settings: &KubeStateSettings, out: &mut MetricsWriter) {
    let mut s = snapshot.clone();
    sort(&mut s);
    pod::render(&s, settings, out);
    resources::render_nodes(&s, settings, out);
    workloads::render(&s, out);
    batch::render(&s, out);
    resources::render_storage(&s, out);
    resources::render_namespaces(&s, settings, out);
    resources::render_services(&s, out);
    hpa::render(&s, out);
    common::render(&s, settings, out);
}

fn sort(s: &mut Snapshot) {
    fn key<K: kube::Resource>(k: &std::sync::Arc<K>) -> (String, String) {
        let m = k.meta();
        (
            m.namespace.clone().unwrap_or_default(),
            m.name.clone().unwrap_or_default(),
        )
    }
    s.pods.sort_by_key(key);
    s.nodes.sort_by_key(key);
    s.namespaces.sort_by_key(key);
    s.services.sort_by_key(key);
    s.deployments.sort_by_key(key);
    s.stateful_sets.sort_by_key(key);
    s.daemon_sets.sort_by_key(key);
    s.replica_sets.sort_by_key(key);
    s.jobs.sort_by_key(key);
    s.cron_jobs.sort_by_key(key);
    s.persistent_volume_claims.sort_by_key(key);
    s.persistent_volumes.sort_by_key(key);
    s.horizontal_pod_autoscalers.sort_by_key(key);
}
