//! Per-query budgets: samples held in memory, wall-clock deadline and caller cancellation.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use crate::QueryError;

/// Tracks the samples one query holds and checks the deadline and the cancel flag. Shared by the query's
/// threads (series are evaluated in parallel), so the counters are atomic; relaxed ordering suffices because
/// each is a counter on its own, read for a limit or a statistic.
#[derive(Debug)]
pub(crate) struct Budget {
    max_samples: usize,
    current: AtomicUsize,
    peak: AtomicUsize,
    loaded: AtomicU64,
    deadline: Instant,
    timeout_ms: u64,
    cancel: Option<Arc<AtomicBool>>,
    checks: AtomicU32,
}

impl Budget {
    /// A budget of `max_samples` held at once, ending at `deadline`.
    pub(crate) fn new(
        max_samples: usize,
        deadline: Instant,
        timeout_ms: u64,
        cancel: Option<Arc<AtomicBool>>,
    ) -> Self {
        Budget {
            max_samples,
            current: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            loaded: AtomicU64::new(0),
            deadline,
            timeout_ms,
            cancel,
            checks: AtomicU32::new(0),
        }
    }

    fn too_many(&self) -> QueryError {
        QueryError::TooManySamples {
            name: "query.max_samples",
            value: self.max_samples as u64,
        }
    }

    /// Records `n` more samples held; fails when the total goes over the limit.
    pub(crate) fn acquire(&self, n: usize) -> Result<(), QueryError> {
        let now = self.current.fetch_add(n, Ordering::Relaxed) + n;
        self.peak.fetch_max(now, Ordering::Relaxed);
        if now > self.max_samples {
            return Err(self.too_many());
        }
        Ok(())
    }

    /// Records `n` samples released.
    pub(crate) fn release(&self, n: usize) {
        // Saturating: a release never takes the count below zero, whatever the interleaving.
        let _ = self
            .current
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| {
                Some(c.saturating_sub(n))
            });
    }

    /// Counts samples read from storage.
    pub(crate) fn loaded(&self, n: usize) {
        self.loaded.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Samples read from storage so far.
    pub(crate) fn samples_loaded(&self) -> u64 {
        self.loaded.load(Ordering::Relaxed)
    }

    /// Highest number of samples held at once.
    pub(crate) fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed) as u64
    }

    /// Fails when the caller cancelled or the deadline passed; cheap enough to call per series or step.
    pub(crate) fn check(&self, phase: &'static str) -> Result<(), QueryError> {
        if self
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Err(QueryError::Canceled { phase });
        }
        // Reading the clock on every call would dominate tight loops; every 64th call is often enough.
        let n = self.checks.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        if n % 64 == 1 && Instant::now() > self.deadline {
            return Err(QueryError::Timeout {
                phase,
                timeout_ms: self.timeout_ms,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn samples_over_limit_fail_with_the_limit_name() {
        let b = Budget::new(10, Instant::now() + Duration::from_secs(60), 60_000, None);
        b.acquire(6).unwrap();
        b.release(2);
        b.acquire(6).unwrap();
        let err = b.acquire(1).unwrap_err();
        assert!(err.to_string().contains("query.max_samples = 10"), "{err}");
        assert_eq!(b.peak(), 11);
    }

    #[test]
    fn cancel_and_deadline_are_reported() {
        let flag = Arc::new(AtomicBool::new(false));
        let b = Budget::new(
            10,
            Instant::now() + Duration::from_secs(60),
            60_000,
            Some(flag.clone()),
        );
        b.check("x").unwrap();
        flag.store(true, Ordering::Relaxed);
        assert!(matches!(b.check("x"), Err(QueryError::Canceled { .. })));
        let late = Budget::new(10, Instant::now() - Duration::from_secs(1), 5, None);
        assert!(matches!(
            late.check("x"),
            Err(QueryError::Timeout { timeout_ms: 5, .. })
        ));
    }
}
