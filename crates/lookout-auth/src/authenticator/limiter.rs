//! Per-address limits on failed authentication: after `max_failures` failures within `window`, the address is
//! refused (429) for `block_for`, before any password is checked, so guessing costs the attacker time and the
//! server no bcrypt work. IPv6 clients are grouped by /64 (one host usually holds a whole /64). The map is
//! bounded; when full, addresses with nothing to remember go first, then the least recently seen.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

use crate::config::BruteForceConfig;

#[derive(Debug, Clone, Copy)]
struct Entry {
    window_start: Instant,
    failures: u32,
    blocked_until: Option<Instant>,
    last_seen: Instant,
}

/// Failure counts and blocks by client address.
#[derive(Debug)]
pub(crate) struct FailureLimiter {
    max_failures: u32,
    window: Duration,
    block_for: Duration,
    max_addresses: usize,
    entries: HashMap<IpAddr, Entry>,
}

/// The address failures are counted under.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl FailureLimiter {
    /// A limiter with `cfg`'s limits.
    pub(crate) fn new(cfg: &BruteForceConfig) -> Self {
        let mut l = FailureLimiter {
            max_failures: 0,
            window: Duration::ZERO,
            block_for: Duration::ZERO,
            max_addresses: 0,
            entries: HashMap::new(),
        };
        l.reconfigure(cfg);
        l
    }

    /// New limits; what is remembered stays.
    pub(crate) fn reconfigure(&mut self, cfg: &BruteForceConfig) {
        self.max_failures = cfg.max_failures;
        self.window = cfg.window.as_duration();
        self.block_for = cfg.block_for.as_duration();
        self.max_addresses = cfg.max_addresses;
    }

    /// How long `ip` is still refused, if it is.
    pub(crate) fn blocked(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        self.entries
            .get(&key(ip))
            .and_then(|e| e.blocked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    /// Counts a failure; returns true when it blocked the address.
    pub(crate) fn record_failure(&mut self, ip: IpAddr, now: Instant) -> bool {
        if self.max_failures == 0 || self.max_addresses == 0 {
            return false;
        }
        let k = key(ip);
        if !self.entries.contains_key(&k) && self.entries.len() >= self.max_addresses {
            self.make_room(now);
        }
        let e = self.entries.entry(k).or_insert(Entry {
            window_start: now,
            failures: 0,
            blocked_until: None,
            last_seen: now,
        });
        if now.saturating_duration_since(e.window_start) >= self.window {
            e.window_start = now;
            e.failures = 0;
        }
        e.failures += 1;
        e.last_seen = now;
        if e.failures >= self.max_failures {
            e.blocked_until = Some(now + self.block_for);
            e.failures = 0;
            e.window_start = now;
            return true;
        }
        false
    }

    /// Addresses refused now (self-metric).
    pub(crate) fn blocked_count(&self, now: Instant) -> usize {
        self.entries
            .values()
            .filter(|e| e.blocked_until.is_some_and(|u| u > now))
            .count()
    }

    /// Addresses remembered.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    fn make_room(&mut self, now: Instant) {
        let (window, max) = (self.window, self.max_addresses);
        self.entries.retain(|_, e| {
            e.blocked_until.is_some_and(|u| u > now)
                || now.saturating_duration_since(e.window_start) < window
        });
        if self.entries.len() < max {
            return;
        }
        // Drop the least recently seen tenth at once, so a flood of new addresses costs one sort per many
        // insertions rather than a scan per insertion.
        let mut by_age: Vec<(Instant, IpAddr)> = self
            .entries
            .iter()
            .map(|(k, e)| (e.last_seen, *k))
            .collect();
        by_age.sort_unstable();
        let drop = (max / 10).max(1).min(by_age.len());
        for (_, k) in &by_age[..drop] {
            self.entries.remove(k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lookout_model::PromDuration;

    fn cfg(max_failures: u32, max_addresses: usize) -> BruteForceConfig {
        BruteForceConfig {
            max_failures,
            window: PromDuration::from_secs(60),
            block_for: PromDuration::from_secs(30),
            max_addresses,
        }
    }

    #[test]
    fn blocks_after_n_failures_within_the_window_then_forgives() {
        let mut l = FailureLimiter::new(&cfg(3, 100));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let t0 = Instant::now();
        assert!(!l.record_failure(ip, t0));
        assert!(!l.record_failure(ip, t0 + Duration::from_secs(1)));
        assert_eq!(l.blocked(ip, t0), None);
        assert!(l.record_failure(ip, t0 + Duration::from_secs(2)));
        assert_eq!(
            l.blocked(ip, t0 + Duration::from_secs(12)),
            Some(Duration::from_secs(20))
        );
        assert_eq!(l.blocked_count(t0 + Duration::from_secs(3)), 1);
        assert_eq!(l.blocked(ip, t0 + Duration::from_secs(32)), None);
        // Failures spread wider than the window never block.
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        for i in 0..10 {
            assert!(!l.record_failure(other, t0 + Duration::from_secs(61 * i)));
        }
        assert_eq!(l.blocked(other, t0 + Duration::from_secs(61 * 9)), None);
    }

    #[test]
    fn ipv6_is_grouped_by_64_and_mapped_v4_is_v4() {
        let mut l = FailureLimiter::new(&cfg(2, 100));
        let t0 = Instant::now();
        l.record_failure("2001:db8::1".parse().unwrap(), t0);
        assert!(l.record_failure("2001:db8::ffff:2".parse().unwrap(), t0));
        assert!(l.blocked("2001:db8::3".parse().unwrap(), t0).is_some());
        assert!(l.blocked("2001:db8:0:1::3".parse().unwrap(), t0).is_none());
        l.record_failure("::ffff:192.0.2.9".parse().unwrap(), t0);
        assert!(l.record_failure("192.0.2.9".parse().unwrap(), t0));
    }

    #[test]
    fn bounded_and_zero_disables() {
        let mut l = FailureLimiter::new(&cfg(5, 20));
        let t0 = Instant::now();
        for i in 0..200u32 {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            l.record_failure(ip, t0 + Duration::from_millis(u64::from(i)));
            assert!(l.len() <= 20);
        }
        // The most recent address survived eviction.
        let last = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + 199));
        assert!(l.entries.contains_key(&last));
        let mut off = FailureLimiter::new(&cfg(0, 20));
        for _ in 0..10 {
            assert!(!off.record_failure(last, t0));
        }
        assert_eq!(off.blocked(last, t0), None);
    }
}
