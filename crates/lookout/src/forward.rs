//! Wiring of `remote_write` and `loki_write`: the forwarders' self-metrics in `/metrics`.

use std::sync::Arc;

use lookout_api::SelfMetrics;
use lookout_model::MetricsWriter;

/// `prometheus_remote_storage_*`, `lookout_forward_*` and `lookout_loki_forward_*`.
pub struct ForwardMetrics(pub Arc<lookout_forward::Forwarders>);

impl SelfMetrics for ForwardMetrics {
    fn write_metrics(&self, out: &mut MetricsWriter) {
        self.0.write_metrics(out);
    }
}
