//! Per-query budgets: samples held in memory, wall-clock deadline and caller cancellation.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::QueryError;

/// Tracks the samples one query holds and checks the deadline and the cancel flag.
#[derive(Debug)]
pub(crate) struct Budget {
    max_samples: usize,
    current: Cell<usize>,
    peak: Cell<usize>,
    loaded: Cell<u64>,
    deadline: Instant,
    timeout_ms: u64,
    cancel: Option<Arc<AtomicBool>>,
    checks: Cell<u32>,
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
            current: Cell::new(0),
            peak: Cell::new(0),
            loaded: Cell::new(0),
            deadline,
            timeout_ms,
            cancel,
            checks: Cell::new(0),
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
        let now = self.current.get() + n;
        self.current.set(now);
        if now > self.peak.get() {
            self.peak.set(now);
        }
        if now > self.max_samples {
            return Err(self.too_many());
        }
        Ok(())
    }

    /// Records `n` samples released.
    pub(crate) fn release(&self, n: usize) {
        self.current.set(self.current.get().saturating_sub(n));
    }

    /// Counts samples read from storage.
    pub(crate) fn loaded(&self, n: usize) {
        self.loaded.set(self.loaded.get() + n as u64);
    }

    /// Samples read from storage so far.
    pub(crate) fn samples_loaded(&self) -> u64 {
        self.loaded.get()
    }

    /// Highest number of samples held at once.
    pub(crate) fn peak(&self) -> u64 {
        self.peak.get() as u64
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
        let n = self.checks.get().wrapping_add(1);
        self.checks.set(n);
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
