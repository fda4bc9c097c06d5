//! A snapshot of the webhook dispatcher's counters and its rendering as self-metrics.

use lookout_model::{MetricKind, MetricsWriter};

/// Counters of one webhook of one receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationStats {
    /// The receiver's name.
    pub receiver: String,
    /// `webhook[<index>]`, as Alertmanager names integrations.
    pub integration: String,
    /// Notifications attempted.
    pub notifications: u64,
    /// Notifications the webhook accepted.
    pub delivered: u64,
    /// Notifications given up on (after retries, or at once for a non-retryable status).
    pub failed: u64,
    /// HTTP requests made, retries included.
    pub requests: u64,
    /// HTTP requests that failed.
    pub requests_failed: u64,
}

/// Everything the webhook dispatcher reports about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookStats {
    /// Alerts accepted into the input queue.
    pub alerts_received: u64,
    /// Alerts dropped because the input queue was full (or closed).
    pub alerts_dropped: u64,
    /// Aggregation groups alive.
    pub aggregation_groups: usize,
    /// One entry per webhook.
    pub integrations: Vec<IntegrationStats>,
}

impl WebhookStats {
    /// Writes the families under `lookout_webhook_*` names (not Alertmanager's, so a scraped real Alertmanager
    /// and Lookout's built-in one do not collide).
    pub fn render(&self, w: &mut MetricsWriter) {
        w.counter(
            "lookout_webhook_alerts_received_total",
            "Alerts accepted by the built-in webhook notifier.",
            self.alerts_received,
        );
        w.counter(
            "lookout_webhook_alerts_dropped_total",
            "Alerts dropped because the webhook notifier's input queue was full.",
            self.alerts_dropped,
        );
        w.gauge(
            "lookout_webhook_aggregation_groups",
            "Aggregation groups currently held by the webhook notifier.",
            self.aggregation_groups,
        );
        type Field = fn(&IntegrationStats) -> u64;
        let families: [(&str, &str, Field); 5] = [
            (
                "lookout_webhook_notifications_total",
                "Notifications attempted per webhook.",
                |s| s.notifications,
            ),
            (
                "lookout_webhook_notifications_delivered_total",
                "Notifications accepted by the webhook.",
                |s| s.delivered,
            ),
            (
                "lookout_webhook_notifications_failed_total",
                "Notifications given up on.",
                |s| s.failed,
            ),
            (
                "lookout_webhook_notification_requests_total",
                "HTTP requests made to webhooks, retries included.",
                |s| s.requests,
            ),
            (
                "lookout_webhook_notification_requests_failed_total",
                "HTTP requests to webhooks that failed.",
                |s| s.requests_failed,
            ),
        ];
        for (name, help, value) in families {
            let mut family = w.family(name, MetricKind::Counter, help);
            for s in &self.integrations {
                family.sample(
                    &[("receiver", &s.receiver), ("integration", &s.integration)],
                    value(s),
                );
            }
        }
    }
}
