//! [`Forwarders`]: opens one disk queue per endpoint under `<data>/forward/<name>/`, starts the senders inside a
//! tokio runtime, hands out the wrapping [`ForwardingStorage`] and [`ForwardingLogSink`], renders self-metrics,
//! and stops everything within a deadline.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lookout_model::MetricsWriter;
use lookout_storage::Storage;
use lookout_storage::logs::LogSink;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::client::Endpoint;
use crate::config::{ConfigError, LokiPushConfig, RemoteWriteConfig, validate_all};
use crate::loki::{
    ForwardingLogSink, LokiCounters, LokiMetrics, LokiParams, run_loki, write_loki_metrics,
};
use crate::queue::{DiskQueue, QueueError, QueueOptions};
use crate::remote_write::{
    Counters, MetadataSnapshot, MetadataSource, QueueMetrics, ReaderCtx, SendParams, run_metadata,
    run_reader, write_metrics,
};
use crate::storage::{ForwardingStorage, ForwardingStorageOptions};

/// What [`Forwarders::start`] needs.
pub struct ForwardOptions {
    /// The data directory; queues live in `<data_dir>/forward/<name>/`.
    pub data_dir: PathBuf,
    /// `remote_write` entries.
    pub remote_write: Vec<RemoteWriteConfig>,
    /// Loki push-out entries.
    pub loki: Vec<LokiPushConfig>,
    /// Where metric metadata comes from; `None` sends none.
    pub metadata: Option<Arc<dyn MetadataSource>>,
    /// Bounds of the [`ForwardingStorage`] made by [`Forwarders::wrap_storage`].
    pub storage: ForwardingStorageOptions,
    /// How often queue files are fsynced (power-cut durability). Default 10 s.
    pub fsync_interval: Duration,
}

impl ForwardOptions {
    /// Options with defaults for everything but the data dir and the entries.
    pub fn new(
        data_dir: impl Into<PathBuf>,
        remote_write: Vec<RemoteWriteConfig>,
        loki: Vec<LokiPushConfig>,
    ) -> Self {
        ForwardOptions {
            data_dir: data_dir.into(),
            remote_write,
            loki,
            metadata: None,
            storage: ForwardingStorageOptions::default(),
            fsync_interval: Duration::from_secs(10),
        }
    }
}

/// Starting the forwarders failed.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// A configuration fault.
    #[error("invalid forwarding configuration: {0}")]
    Config(#[from] ConfigError),
    /// A queue could not be opened.
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// The running forwarders; see the module docs. Dropping it aborts the senders (nothing acknowledged is lost:
/// unsent records stay queued on disk).
pub struct Forwarders {
    rw_queues: Vec<Arc<DiskQueue>>,
    loki_queues: Vec<Arc<DiskQueue>>,
    rw_metrics: Vec<QueueMetrics>,
    loki_metrics: Vec<LokiMetrics>,
    storage_opts: ForwardingStorageOptions,
    stop_tx: watch::Sender<bool>,
    senders: Vec<JoinHandle<()>>,
    aux: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Forwarders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarders")
            .field("remote_write", &self.rw_metrics.len())
            .field("loki", &self.loki_metrics.len())
            .finish()
    }
}

impl Forwarders {
    /// Validates the entries, opens the queues (replaying what an earlier run left) and starts the senders on
    /// `runtime`.
    pub fn start(
        opts: ForwardOptions,
        runtime: &tokio::runtime::Handle,
    ) -> Result<Forwarders, ForwardError> {
        validate_all(&opts.remote_write, &opts.loki)?;
        let base = opts.data_dir.join("forward");
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut f = Forwarders {
            rw_queues: Vec::new(),
            loki_queues: Vec::new(),
            rw_metrics: Vec::new(),
            loki_metrics: Vec::new(),
            storage_opts: opts.storage,
            stop_tx,
            senders: Vec::new(),
            aux: Vec::new(),
        };
        for (i, c) in opts.remote_write.iter().enumerate() {
            let path = format!("remote_write[{i}]");
            let name = c.effective_name();
            let endpoint = Arc::new(Endpoint::new(
                &c.url,
                &c.http(),
                c.remote_timeout.as_duration(),
                &path,
            )?);
            let queue = Arc::new(DiskQueue::open(
                &base.join(&name),
                QueueOptions::for_max_size(c.disk_queue.max_size.0),
            )?);
            let params = Arc::new(SendParams::from_config(c));
            let counters = Arc::new(Counters::default());
            let metadata: MetadataSnapshot = Default::default();
            f.rw_metrics.push(QueueMetrics {
                name,
                url: c.url.redacted(),
                min_shards: params.min_shards,
                max_shards: params.max_shards,
                counters: counters.clone(),
                queue: queue.clone(),
            });
            if let (Some(src), true) = (&opts.metadata, params.metadata_send) {
                f.aux.push(runtime.spawn(run_metadata(
                    src.clone(),
                    endpoint.clone(),
                    params.clone(),
                    counters.clone(),
                    metadata.clone(),
                )));
            }
            let ctx = ReaderCtx {
                queue: queue.clone(),
                endpoint,
                params,
                counters,
                metadata,
            };
            f.senders
                .push(runtime.spawn(run_reader(ctx, stop_rx.clone())));
            f.rw_queues.push(queue);
        }
        for (i, c) in opts.loki.iter().enumerate() {
            let path = format!("loki_push[{i}]");
            let name = c.effective_name();
            let endpoint = Arc::new(Endpoint::new(
                &c.url,
                &c.http(),
                c.timeout.as_duration(),
                &path,
            )?);
            let queue = Arc::new(DiskQueue::open(
                &base.join(&name),
                QueueOptions::for_max_size(c.disk_queue.max_size.0),
            )?);
            let counters = Arc::new(LokiCounters::default());
            f.loki_metrics.push(LokiMetrics {
                name,
                url: c.url.redacted(),
                counters: counters.clone(),
                queue: queue.clone(),
            });
            let params = LokiParams {
                batch_size: c.batch_size.0,
                batch_wait: c.batch_wait.as_duration(),
                min_backoff: c.min_backoff.as_duration(),
                max_backoff: c.max_backoff.as_duration(),
            };
            f.senders.push(runtime.spawn(run_loki(
                queue.clone(),
                endpoint,
                params,
                counters,
                stop_rx.clone(),
            )));
            f.loki_queues.push(queue);
        }
        let all: Vec<Arc<DiskQueue>> = f.rw_queues.iter().chain(&f.loki_queues).cloned().collect();
        if !all.is_empty() {
            let interval = opts.fsync_interval.max(Duration::from_millis(10));
            f.aux.push(runtime.spawn(async move {
                let mut tick = tokio::time::interval(interval);
                loop {
                    tick.tick().await;
                    let qs = all.clone();
                    let _ = tokio::task::spawn_blocking(move || sync_all(&qs)).await;
                }
            }));
        }
        Ok(f)
    }

    /// The sample storage to hand to scrapers, rules and the remote_write receiver: writes through to `inner`
    /// (the TSDB; `None` in agent mode) and forwards every commit. Call once; all appends must go through it.
    pub fn wrap_storage(&self, inner: Option<Arc<dyn Storage>>) -> Arc<ForwardingStorage> {
        Arc::new(ForwardingStorage::new(
            inner,
            self.rw_queues.clone(),
            self.storage_opts,
        ))
    }

    /// The log sink to hand to the push API and log collectors: writes through to `inner` (the log store; `None`
    /// in agent mode) and forwards every push to the Loki endpoints.
    pub fn wrap_log_sink(&self, inner: Option<Arc<dyn LogSink>>) -> Arc<ForwardingLogSink> {
        Arc::new(ForwardingLogSink::new(inner, self.loki_queues.clone()))
    }

    /// The remote_write queues, in config order.
    pub fn remote_write_queues(&self) -> &[Arc<DiskQueue>] {
        &self.rw_queues
    }

    /// The Loki queues, in config order.
    pub fn loki_queues(&self) -> &[Arc<DiskQueue>] {
        &self.loki_queues
    }

    /// Renders every forwarding self-metric.
    pub fn write_metrics(&self, out: &mut MetricsWriter) {
        write_metrics(&self.rw_metrics, out);
        write_loki_metrics(&self.loki_metrics, out);
    }

    /// Stops reading the queues, lets the senders flush what they hold for at most `deadline`, aborts the rest
    /// (it stays queued on disk and is sent after the next start), and fsyncs the queues.
    pub async fn stop(mut self, deadline: Duration) {
        let _ = self.stop_tx.send(true);
        let senders = std::mem::take(&mut self.senders);
        let aborts: Vec<_> = senders.iter().map(|h| h.abort_handle()).collect();
        let all = async {
            for h in senders {
                let _ = h.await;
            }
        };
        if tokio::time::timeout(deadline, all).await.is_err() {
            tracing::warn!(
                "forwarders did not finish within the stop deadline; unsent data stays queued"
            );
            for a in aborts {
                a.abort();
            }
        }
        for h in self.aux.drain(..) {
            h.abort();
        }
        let qs: Vec<_> = self
            .rw_queues
            .iter()
            .chain(&self.loki_queues)
            .cloned()
            .collect();
        let _ = tokio::task::spawn_blocking(move || sync_all(&qs)).await;
    }
}

fn sync_all(queues: &[Arc<DiskQueue>]) {
    for q in queues {
        if let Err(e) = q.sync() {
            tracing::error!(error = %e, "fsync of a forwarding queue failed");
        }
    }
}

impl Drop for Forwarders {
    fn drop(&mut self) {
        for h in self.senders.iter().chain(&self.aux) {
            h.abort();
        }
    }
}
