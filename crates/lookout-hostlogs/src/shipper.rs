//! Pushing entries to the store: batches bounded in entries and bytes, rate limits and store failures retried with
//! a bounded backoff (never dropped), and a permanently refused push split in halves until the offending entries
//! are found, dropped and counted while the rest is stored. A source records its progress only after
//! [`Shipper::ship`] returned `Ok`.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lookout_model::Labels;
use lookout_storage::logs::{Entry, LogPushError, LogSink, PushStream};
use tokio::sync::watch;

use crate::config::BatchConfig;
use crate::metrics::{DropReason, SourceMetrics, add, inc};

/// The shutdown signal every source task watches.
#[derive(Debug, Clone)]
pub(crate) struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// A signal and its trigger.
    pub fn new() -> (watch::Sender<bool>, Shutdown) {
        let (tx, rx) = watch::channel(false);
        (tx, Shutdown(rx))
    }

    /// Whether shutdown was asked for.
    pub fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once shutdown is asked for (or its sender is gone).
    pub async fn wait(&self) {
        let mut rx = self.0.clone();
        let _ = rx.wait_for(|v| *v).await;
    }
}

/// One entry with its stream.
pub(crate) type Item = (Labels, Entry);

/// Entries waiting to be pushed.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// The entries, in read order.
    pub items: Vec<Item>,
    bytes: usize,
    first_at: Option<Instant>,
}

impl Batch {
    /// Adds an entry.
    pub fn add(&mut self, item: Item) {
        self.bytes += item.1.line.len();
        self.first_at.get_or_insert_with(Instant::now);
        self.items.push(item);
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether it should be pushed now: full, or its oldest entry waited `cfg.batch_wait`.
    pub fn ready(&self, cfg: &BatchConfig) -> bool {
        self.items.len() >= cfg.batch_entries.max(1)
            || self.bytes as u64 >= cfg.batch_size.0.max(1)
            || self
                .first_at
                .is_some_and(|t| t.elapsed() >= cfg.batch_wait.as_duration())
    }

    /// When it becomes due by age, if it holds anything.
    pub fn due_at(&self, cfg: &BatchConfig) -> Option<Instant> {
        self.first_at.map(|t| t + cfg.batch_wait.as_duration())
    }

    /// Takes the entries out, leaving it empty.
    pub fn take(&mut self) -> Vec<Item> {
        self.bytes = 0;
        self.first_at = None;
        std::mem::take(&mut self.items)
    }
}

/// Shipping stopped because the source is shutting down; `unshipped` entries (at most) were not stored.
#[derive(Debug)]
pub(crate) struct Stopped {
    /// Entries not known to be stored.
    pub unshipped: u64,
}

/// Pushes one source's entries.
pub(crate) struct Shipper {
    sink: Arc<dyn LogSink>,
    metrics: Arc<SourceMetrics>,
    cfg: BatchConfig,
    shutdown: Shutdown,
    source: &'static str,
}

/// How long a final flush at shutdown keeps retrying.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

impl Shipper {
    /// A shipper for `source` (the metrics label and log field).
    pub fn new(
        sink: Arc<dyn LogSink>,
        metrics: Arc<SourceMetrics>,
        cfg: BatchConfig,
        shutdown: Shutdown,
        source: &'static str,
    ) -> Self {
        Shipper {
            sink,
            metrics,
            cfg,
            shutdown,
            source,
        }
    }

    /// The batching settings.
    pub fn cfg(&self) -> &BatchConfig {
        &self.cfg
    }

    /// Stores every entry of `items` (in pushes of at most `batch_entries` entries and `batch_size` bytes) or
    /// drops the ones the store refuses for good. Retries rate limits and store failures with backoff until
    /// shutdown; then (or after a grace period when `final_flush`) gives up with [`Stopped`].
    pub async fn ship(&self, items: Vec<Item>, final_flush: bool) -> Result<(), Stopped> {
        let deadline = final_flush.then(|| Instant::now() + SHUTDOWN_GRACE);
        let mut queue: VecDeque<Vec<Item>> = self.chunks(items).into();
        let mut backoff = self.cfg.min_backoff.as_duration();
        while let Some(chunk) = queue.pop_front() {
            let streams = group(&chunk);
            let bytes: usize = chunk.iter().map(|(_, e)| e.line.len()).sum();
            inc(&self.metrics.pushes);
            let sink = self.sink.clone();
            let result = tokio::task::spawn_blocking(move || sink.push(streams))
                .await
                .unwrap_or_else(|e| Err(LogPushError::Store(format!("push task failed: {e}"))));
            match result {
                Ok(_) => {
                    add(&self.metrics.pushed, chunk.len() as u64);
                    add(&self.metrics.pushed_bytes, bytes as u64);
                    backoff = self.cfg.min_backoff.as_duration();
                }
                Err(LogPushError::Invalid { reason, message }) => {
                    inc(&self.metrics.push_invalid);
                    if chunk.len() == 1 {
                        tracing::warn!(source = self.source, reason, %message, "log store refused an entry; dropped");
                        self.metrics.dropped(DropReason::Invalid, 1);
                    } else {
                        // Nothing of the push was stored: split it to find the offending entries.
                        let mut chunk = chunk;
                        let second = chunk.split_off(chunk.len() / 2);
                        queue.push_front(second);
                        queue.push_front(chunk);
                    }
                }
                Err(e) => {
                    if matches!(e, LogPushError::RateLimited { .. }) {
                        inc(&self.metrics.push_rate_limited);
                    } else {
                        inc(&self.metrics.push_store_errors);
                    }
                    tracing::debug!(source = self.source, error = %e, ?backoff, "push refused; retrying");
                    queue.push_front(chunk);
                    if !self.wait(backoff, deadline).await {
                        let unshipped = queue.iter().map(|c| c.len() as u64).sum();
                        return Err(Stopped { unshipped });
                    }
                    backoff = (backoff * 2).min(self.cfg.max_backoff.as_duration().max(backoff));
                }
            }
        }
        Ok(())
    }

    /// Sleeps `d`; false when shipping should stop instead (shutdown, or past the final flush's deadline).
    async fn wait(&self, d: Duration, deadline: Option<Instant>) -> bool {
        match deadline {
            Some(deadline) => {
                if Instant::now() + d > deadline {
                    return false;
                }
                tokio::time::sleep(d).await;
                true
            }
            None => {
                tokio::select! {
                    _ = tokio::time::sleep(d) => true,
                    _ = self.shutdown.wait() => false,
                }
            }
        }
    }

    fn chunks(&self, items: Vec<Item>) -> Vec<Vec<Item>> {
        let max_entries = self.cfg.batch_entries.max(1);
        let max_bytes = self.cfg.batch_size.0.max(1) as usize;
        let mut out = Vec::new();
        let mut cur = Vec::new();
        let mut bytes = 0;
        for item in items {
            let len = item.1.line.len();
            if !cur.is_empty() && (cur.len() >= max_entries || bytes + len > max_bytes) {
                out.push(std::mem::take(&mut cur));
                bytes = 0;
            }
            bytes += len;
            cur.push(item);
        }
        if !cur.is_empty() {
            out.push(cur);
        }
        out
    }
}

/// Groups entries by stream, keeping each stream's entries in order.
fn group(items: &[Item]) -> Vec<PushStream> {
    let mut index: HashMap<&Labels, usize> = HashMap::new();
    let mut out: Vec<PushStream> = Vec::new();
    for (labels, entry) in items {
        let i = *index.entry(labels).or_insert_with(|| {
            out.push(PushStream {
                labels: labels.clone(),
                entries: Vec::new(),
            });
            out.len() - 1
        });
        out[i].entries.push(entry.clone());
    }
    out
}

/// Unix nanoseconds now.
pub(crate) fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// Writes `data` to `path` through a temporary file and a rename, so a crash leaves the old or the new content.
pub(crate) fn write_atomic(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(data)?;
    f.sync_data()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests;
