//! The built-in webhook notifier, an Alertmanager-lite for setups without Alertmanager: Alertmanager's routing
//! tree, aggregation groups, timers, dedup and webhook payload, with webhooks as the only integration.

pub mod config;
pub(crate) mod deliver;
mod dispatcher;
mod gofmt;
mod group;
pub mod matchers;
mod payload;
mod route;
mod stats;

pub use dispatcher::{WebhookNotifier, WebhookOptions};
pub use stats::{IntegrationStats, WebhookStats};
