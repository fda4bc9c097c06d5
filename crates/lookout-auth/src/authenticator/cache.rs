//! Successful password checks, remembered briefly: Grafana sends many requests with the same credentials and
//! each bcrypt check costs tens of milliseconds. The key is a SHA-256 of user, stored hash and password, so the
//! password is not kept and a changed hash invalidates the entry. Failures are never cached.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::file_stamp::digest;

/// Cache key of one (user, stored hash, password) triple.
pub(crate) type CacheKey = [u8; 32];

/// The key for a check of `password` by `user` against `hash`.
pub(crate) fn key(user: &str, hash: &str, password: &str) -> CacheKey {
    // Length prefixes keep ("ab","c") and ("a","bc") apart.
    let mut buf = Vec::with_capacity(user.len() + hash.len() + password.len() + 24);
    for part in [user, hash, password] {
        buf.extend_from_slice(&(part.len() as u64).to_be_bytes());
        buf.extend_from_slice(part.as_bytes());
    }
    digest(&buf)
}

/// Bounded map of successes to their expiry.
#[derive(Debug, Default)]
pub(crate) struct CredentialCache {
    entries: HashMap<CacheKey, Instant>,
    ttl: Duration,
    max_entries: usize,
}

impl CredentialCache {
    /// A cache keeping at most `max_entries` for `ttl` each (zero `ttl` or size: no caching).
    pub(crate) fn new(ttl: Duration, max_entries: usize) -> Self {
        CredentialCache {
            entries: HashMap::new(),
            ttl,
            max_entries,
        }
    }

    /// Changes the limits, keeping entries that still fit.
    pub(crate) fn reconfigure(&mut self, ttl: Duration, max_entries: usize) {
        self.ttl = ttl;
        self.max_entries = max_entries;
        if ttl.is_zero() || max_entries == 0 {
            self.entries.clear();
        }
    }

    /// Whether `key` succeeded within the TTL.
    pub(crate) fn hit(&mut self, key: &CacheKey, now: Instant) -> bool {
        match self.entries.get(key) {
            Some(expiry) if *expiry > now => true,
            Some(_) => {
                self.entries.remove(key);
                false
            }
            None => false,
        }
    }

    /// Remembers a success.
    pub(crate) fn insert(&mut self, key: CacheKey, now: Instant) {
        if self.ttl.is_zero() || self.max_entries == 0 {
            return;
        }
        if self.entries.len() >= self.max_entries && !self.entries.contains_key(&key) {
            self.entries.retain(|_, expiry| *expiry > now);
            if self.entries.len() >= self.max_entries
                && let Some(oldest) = self
                    .entries
                    .iter()
                    .min_by_key(|(_, e)| **e)
                    .map(|(k, _)| *k)
            {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(key, now + self.ttl);
    }

    /// Entries held (self-metric).
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_and_stays_bounded() {
        let t0 = Instant::now();
        let mut c = CredentialCache::new(Duration::from_secs(10), 2);
        let (a, b, d) = (key("a", "h", "p"), key("b", "h", "p"), key("d", "h", "p"));
        assert_ne!(key("ab", "c", ""), key("a", "bc", ""));
        assert!(!c.hit(&a, t0));
        c.insert(a, t0);
        assert!(c.hit(&a, t0 + Duration::from_secs(9)));
        assert!(!c.hit(&a, t0 + Duration::from_secs(10)));
        c.insert(a, t0);
        c.insert(b, t0 + Duration::from_secs(1));
        c.insert(d, t0 + Duration::from_secs(2));
        assert_eq!(c.len(), 2);
        assert!(
            !c.hit(&a, t0 + Duration::from_secs(2)),
            "the oldest entry was evicted"
        );
        assert!(c.hit(&d, t0 + Duration::from_secs(2)));
        let mut off = CredentialCache::new(Duration::ZERO, 10);
        off.insert(a, t0);
        assert!(!off.hit(&a, t0));
    }
}
