//! The memory all scrape bodies in flight may hold together: the ingest share of the memory budget.
//!
//! A fetch reserves its bytes as they arrive (compressed, then decompressed) and gives them back when the body is
//! dropped, after the storage step. A fetch that would take the pool past its size fails at once with
//! [`ScrapeError::BodyMemory`](super::error::ScrapeError::BodyMemory) (`up` 0, the reason in the target's
//! health) rather than waiting: a scrape that waits past its interval is worth less than the next one. The per-body
//! `body_size_limit` still applies on top.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A pool of bytes shared by every scrape of one manager.
#[derive(Debug)]
pub struct BodyMemory {
    capacity: usize,
    used: AtomicUsize,
}

impl BodyMemory {
    /// A pool of `capacity` bytes; 0 means unbounded.
    pub fn new(capacity: usize) -> Arc<BodyMemory> {
        Arc::new(BodyMemory {
            capacity,
            used: AtomicUsize::new(0),
        })
    }

    /// The pool's size in bytes (0: unbounded).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes reserved now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// An empty reservation that grows with [`BodyReservation::grow`].
    pub fn reservation(self: &Arc<Self>) -> BodyReservation {
        BodyReservation {
            pool: Some(self.clone()),
            bytes: 0,
        }
    }

    fn try_take(&self, n: usize) -> bool {
        if self.capacity == 0 {
            self.used.fetch_add(n, Ordering::Relaxed);
            return true;
        }
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                u.checked_add(n).filter(|&t| t <= self.capacity)
            })
            .is_ok()
    }
}

/// Bytes held from a [`BodyMemory`] pool; given back on drop.
#[derive(Debug, Default)]
pub struct BodyReservation {
    pool: Option<Arc<BodyMemory>>,
    bytes: usize,
}

impl BodyReservation {
    /// A reservation tied to no pool (built-in exporters' text, tests).
    pub fn none() -> BodyReservation {
        BodyReservation::default()
    }

    /// Takes `n` more bytes; false (nothing taken) when the pool has not that much left.
    pub fn grow(&mut self, n: usize) -> bool {
        match &self.pool {
            None => true,
            Some(pool) if pool.try_take(n) => {
                self.bytes += n;
                true
            }
            Some(_) => false,
        }
    }

    /// The pool's size, for error messages (0 when unbounded or tied to none).
    pub fn capacity(&self) -> usize {
        self.pool.as_ref().map_or(0, |p| p.capacity)
    }
}

impl Drop for BodyReservation {
    fn drop(&mut self) {
        if let Some(pool) = &self.pool {
            pool.used.fetch_sub(self.bytes, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_share_the_pool_and_give_it_back_on_drop() {
        let pool = BodyMemory::new(100);
        let mut a = pool.reservation();
        let mut b = pool.reservation();
        assert!(a.grow(60));
        assert!(!b.grow(50), "60 + 50 is past 100");
        assert!(b.grow(40));
        assert_eq!(pool.used(), 100);
        assert!(!a.grow(1));
        drop(a);
        assert_eq!(pool.used(), 40);
        assert!(b.grow(60));
        drop(b);
        assert_eq!(pool.used(), 0);
    }

    #[test]
    fn an_unbounded_pool_counts_but_never_refuses() {
        let pool = BodyMemory::new(0);
        let mut a = pool.reservation();
        assert!(a.grow(usize::MAX / 2));
        assert_eq!(pool.used(), usize::MAX / 2);
        drop(a);
        assert_eq!(pool.used(), 0);
        assert!(BodyReservation::none().grow(usize::MAX));
    }
}
