//! Lookout's alert delivery. Alerts from the rules engine go to
//!
//! - [`Notifier`]: Alertmanager API v2, with Prometheus's notifier semantics (external labels, alert relabeling,
//!   a bounded drop-oldest queue and send loop per Alertmanager, batches, no retries, drain on shutdown);
//! - [`WebhookNotifier`]: a built-in Alertmanager-lite (routing tree, aggregation groups, group_wait /
//!   group_interval / repeat_interval, send_resolved, retries) that posts Alertmanager's webhook JSON.
//!
//! Neither ever blocks its caller: `send` only queues. All work runs on tokio tasks spawned on the runtime handle
//! the caller passes in, and each has an async `shutdown`.

pub mod alert;
pub mod alertmanager;
pub mod config;
pub mod http;
pub mod time;
mod tls;
pub mod webhook;

pub use alert::{Alert, Fingerprint, fingerprint};
pub use alertmanager::config::{AlertingConfig, AlertmanagerConfig, StaticConfig};
pub use alertmanager::{
    AlertmanagerStats, AlertmanagerUrls, Notifier, NotifierOptions, NotifierStats,
};
pub use config::ConfigError;
pub use http::{Authorization, BasicAuth, HttpClientConfig, TlsConfig};
pub use webhook::config::{ReceiverConfig, RouteConfig, WebhookConfig, WebhookNotifierConfig};
pub use webhook::{IntegrationStats, WebhookNotifier, WebhookOptions, WebhookStats};
