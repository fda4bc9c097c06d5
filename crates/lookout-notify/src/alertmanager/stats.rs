//! A snapshot of the notifier's counters, and its rendering under Prometheus's metric names.

use lookout_model::{MetricKind, MetricsWriter};

/// Counters of one Alertmanager target.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertmanagerStats {
    /// The push URL (`http://am:9093/api/v2/alerts`).
    pub url: String,
    /// Alerts delivered.
    pub sent: u64,
    /// Alerts in failed requests.
    pub errors: u64,
    /// Alerts dropped for this target: queue overflow, failed batches and what a shutdown could not drain.
    pub dropped: u64,
    /// Alerts waiting.
    pub queue_length: usize,
    /// Seconds spent in successful requests.
    pub latency_seconds_sum: f64,
    /// Number of successful requests.
    pub latency_count: u64,
}

/// Everything the notifier reports about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifierStats {
    /// Capacity of each target's queue.
    pub queue_capacity: usize,
    /// Alerts dropped over the notifier's life, including targets since removed.
    pub dropped_total: u64,
    /// One entry per active Alertmanager.
    pub alertmanagers: Vec<AlertmanagerStats>,
}

impl NotifierStats {
    /// Writes the families under Prometheus's `prometheus_notifications_*` names. The latency summary is written as
    /// its `_sum` and `_count` series only, as counters, since the writer has no summary type.
    pub fn render(&self, w: &mut MetricsWriter) {
        w.gauge(
            "prometheus_notifications_queue_capacity",
            "The capacity of the alert notifications queue.",
            self.queue_capacity,
        );
        w.counter(
            "prometheus_notifications_dropped_total",
            "Total number of alerts dropped due to errors when sending to Alertmanager.",
            self.dropped_total,
        );
        w.gauge(
            "prometheus_notifications_alertmanagers_discovered",
            "The number of alertmanagers discovered and active.",
            self.alertmanagers.len(),
        );
        type Field = fn(&AlertmanagerStats) -> lookout_model::self_metrics::MetricValue;
        let families: [(&str, MetricKind, &str, Field); 5] = [
            (
                "prometheus_notifications_queue_length",
                MetricKind::Gauge,
                "The number of alert notifications in the queue.",
                |s| s.queue_length.into(),
            ),
            (
                "prometheus_notifications_sent_total",
                MetricKind::Counter,
                "Total number of alerts sent.",
                |s| s.sent.into(),
            ),
            (
                "prometheus_notifications_errors_total",
                MetricKind::Counter,
                "Total number of sent alerts affected by errors.",
                |s| s.errors.into(),
            ),
            (
                "prometheus_notifications_latency_seconds_sum",
                MetricKind::Counter,
                "Total seconds spent in successful requests to Alertmanager.",
                |s| s.latency_seconds_sum.into(),
            ),
            (
                "prometheus_notifications_latency_seconds_count",
                MetricKind::Counter,
                "Number of successful requests to Alertmanager.",
                |s| s.latency_count.into(),
            ),
        ];
        for (name, kind, help, value) in families {
            let mut family = w.family(name, kind, help);
            for s in &self.alertmanagers {
                family.sample(&[("alertmanager", &s.url)], value(s));
            }
        }
    }
}
