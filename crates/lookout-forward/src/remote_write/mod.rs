//! The remote_write sender of one endpoint: a reader task that reads the endpoint's disk queue, applies
//! `write_relabel_configs` and `sample_age_limit`, and routes each series to a shard by its hash; shard tasks that
//! batch, encode and send; acknowledgement of the queue once every sample of a record was sent or dropped; and
//! (1.0) a metadata task.
//!
//! Resharding (Prometheus's idea, simplified): every 10 s the reader computes the desired shards as
//! `time_per_sample × (in_rate + 5% of the backlog)` where `time_per_sample` is the send time spent per sample
//! sent in the last interval, clamps it to `min_shards..=max_shards`, and ignores changes within ±30 %. It does
//! not scale up while sends are failing. To change the count it stops reading, waits for the in-flight samples to
//! be acknowledged, then starts the new shards, so no series is ever split across two shards at once.

mod metrics;
mod sender;
mod shard;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use lookout_model::relabel::RelabelConfig;
use lookout_wire::MetricMetadata;

pub(crate) use metrics::{Counters, QueueMetrics, write_metrics};
pub(crate) use sender::{ReaderCtx, run_metadata, run_reader};

use crate::config::{ProtobufMessage, RemoteWriteConfig};

/// Where the forwarder finds metric metadata (family → type, help, unit) to send; the binary implements it over
/// what its scrapes saw.
pub trait MetadataSource: Send + Sync {
    /// The current metadata, one entry per metric family.
    fn metadata(&self) -> Vec<MetricMetadata>;
}

/// The latest metadata by family, shared with the shards (2.0 attaches it per series).
pub(crate) type MetadataSnapshot = Arc<parking_lot::RwLock<Arc<HashMap<String, MetricMetadata>>>>;

/// Sending settings derived from the config.
#[derive(Debug)]
pub(crate) struct SendParams {
    pub(crate) protobuf_message: ProtobufMessage,
    pub(crate) max_samples_per_send: usize,
    pub(crate) batch_send_deadline: Duration,
    pub(crate) min_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) retry_on_http_429: bool,
    pub(crate) capacity: usize,
    pub(crate) min_shards: usize,
    pub(crate) max_shards: usize,
    pub(crate) sample_age_limit: Option<Duration>,
    pub(crate) relabel: Vec<RelabelConfig>,
    pub(crate) metadata_send: bool,
    pub(crate) metadata_interval: Duration,
    pub(crate) metadata_max_per_send: usize,
    /// False after a retryable failure until the next success (no scaling up meanwhile).
    pub(crate) last_send_ok: AtomicBool,
}

impl SendParams {
    pub(crate) fn from_config(c: &RemoteWriteConfig) -> Self {
        let q = &c.queue_config;
        SendParams {
            protobuf_message: c.protobuf_message,
            max_samples_per_send: q.max_samples_per_send,
            batch_send_deadline: q.batch_send_deadline.as_duration(),
            min_backoff: q.min_backoff.as_duration(),
            max_backoff: q.max_backoff.as_duration(),
            retry_on_http_429: q.retry_on_http_429,
            capacity: q.capacity,
            min_shards: q.min_shards,
            max_shards: q.max_shards,
            sample_age_limit: (!q.sample_age_limit.is_zero())
                .then(|| q.sample_age_limit.as_duration()),
            relabel: c.write_relabel_configs.clone(),
            metadata_send: c.metadata_config.send,
            metadata_interval: c.metadata_config.send_interval.as_duration(),
            metadata_max_per_send: c.metadata_config.max_samples_per_send,
            last_send_ok: AtomicBool::new(true),
        }
    }
}
