//! A bounded pool for blocking work (queries, appends): a semaphore in front of tokio's blocking threads, so the
//! runtime never blocks and a burst of slow queries queues instead of spawning hundreds of threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::error::ApiError;

/// Runs closures on blocking threads, at most `size` at once.
#[derive(Debug, Clone)]
pub struct BlockingPool {
    name: &'static str,
    permits: Arc<Semaphore>,
    queue_timeout: Duration,
    rejected: Arc<AtomicU64>,
}

impl BlockingPool {
    /// A pool of `size` concurrent jobs; callers wait at most `queue_timeout` for a slot.
    pub fn new(name: &'static str, size: usize, queue_timeout: Duration) -> Self {
        BlockingPool {
            name,
            permits: Arc::new(Semaphore::new(size.max(1))),
            queue_timeout,
            rejected: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Jobs refused because no slot freed up within the queue timeout.
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    /// Runs `job` on a blocking thread once a slot is free.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = match tokio::time::timeout(
            self.queue_timeout,
            self.permits.clone().acquire_owned(),
        )
        .await
        {
            Ok(Ok(p)) => p,
            _ => {
                self.rejected.fetch_add(1, Ordering::Relaxed);
                return Err(ApiError::unavailable(format!(
                    "too many concurrent {} requests: no slot free within {:?} (limit {}.max_concurrency)",
                    self.name, self.queue_timeout, self.name
                )));
            }
        };
        tokio::task::spawn_blocking(move || {
            let out = job();
            drop(permit);
            out
        })
        .await
        .map_err(|e| ApiError::internal(format!("{} job failed: {e}", self.name)))
    }
}

/// Sets a cancel flag when dropped: held by a request handler so that a client going away (the handler future is
/// dropped) cancels the query running on the pool.
#[derive(Debug)]
pub struct CancelOnDrop(pub Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
