//! Forwarding what Lookout accepts to a distributed engine: Prometheus remote_write out (Mimir, Thanos Receive,
//! VictoriaMetrics, Prometheus) and Loki push out.
//!
//! Data path: [`ForwardingStorage`] / [`ForwardingLogSink`] write through to the local store (if any), then append
//! one record per commit/push to each endpoint's [`DiskQueue`] before acknowledging; per-endpoint sender tasks read
//! the queues, send with Prometheus's retry rules, and advance each queue's persisted position once delivered.
//! [`Forwarders`] opens the queues under `<data>/forward/<name>/`, starts the senders and renders self-metrics.
//!
//! Wiring: `let fw = Forwarders::start(ForwardOptions::new(data, remote_write, loki), &handle)?;` then hand
//! `fw.wrap_storage(Some(tsdb))` (or `None` in agent mode) to every writer of samples, and
//! `fw.wrap_log_sink(Some(log_store))` to every writer of logs; `fw.write_metrics(&mut w)` on `/metrics`;
//! `fw.stop(deadline).await` on shutdown.

mod client;
pub mod config;
pub mod forwarders;
pub mod loki;
mod oauth2;
pub mod queue;
pub mod record;
pub mod remote_write;
mod series_refs;
pub mod storage;
mod tls;

pub use config::{
    ConfigError, DiskQueueConfig, LokiPushConfig, MetadataConfig, OAuth2Config, ProtobufMessage,
    QueueConfig, RemoteWriteConfig,
};
pub use forwarders::{ForwardError, ForwardOptions, Forwarders};
pub use loki::ForwardingLogSink;
pub use queue::{DiskQueue, QueueOptions};
pub use remote_write::MetadataSource;
pub use storage::{ForwardingStorage, ForwardingStorageOptions};
