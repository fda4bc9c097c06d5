//! Ingestion rate limits: token buckets on line bytes, one overall and one per stream, refilled continuously. As
//! with Go's `rate.Limiter` (which Loki uses), a push needing more than the burst is never allowed, and a refused
//! push takes no tokens.

use std::collections::HashMap;
use std::time::Instant;

use lookout_model::Labels;

use crate::limits::{LogLimits, PushError};

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Limit {
    rate: f64,
    burst: f64,
}

impl Limit {
    /// `None` when the rate is 0 (no limit); the burst is at least one second of the rate.
    fn new(rate: u64, burst: u64) -> Option<Limit> {
        (rate > 0).then(|| Limit {
            rate: rate as f64,
            burst: burst.max(rate) as f64,
        })
    }
}

impl Bucket {
    fn full(l: Limit, now: Instant) -> Bucket {
        Bucket {
            tokens: l.burst,
            at: now,
        }
    }

    fn available(&self, l: Limit, now: Instant) -> f64 {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        (self.tokens + l.rate * dt).min(l.burst)
    }

    fn take(&mut self, l: Limit, now: Instant, n: f64) {
        self.tokens = self.available(l, now) - n;
        self.at = now;
    }
}

/// What one stream of a push asks for.
pub struct StreamDemand<'a> {
    /// Stream id.
    pub id: u64,
    /// Its labels (for the refusal).
    pub labels: &'a Labels,
    /// Lines.
    pub lines: usize,
    /// Line bytes.
    pub bytes: u64,
}

/// The buckets.
#[derive(Debug)]
pub struct RateLimiter {
    total: Option<(Limit, Bucket)>,
    stream: Option<Limit>,
    streams: HashMap<u64, Bucket>,
}

impl RateLimiter {
    /// Full buckets for `limits`.
    pub fn new(limits: &LogLimits, now: Instant) -> RateLimiter {
        let total = Limit::new(limits.ingestion_rate_bytes, limits.ingestion_burst_bytes);
        RateLimiter {
            total: total.map(|l| (l, Bucket::full(l, now))),
            stream: Limit::new(limits.per_stream_rate_bytes, limits.per_stream_burst_bytes),
            streams: HashMap::new(),
        }
    }

    /// Takes the push's bytes from every bucket, or refuses it whole (taking nothing): the overall limit first,
    /// then each stream's. `demand` holds each stream once.
    pub fn admit(&mut self, now: Instant, demand: &[StreamDemand<'_>]) -> Result<(), PushError> {
        let bytes: u64 = demand.iter().map(|d| d.bytes).sum();
        if let Some((l, b)) = &self.total
            && bytes as f64 > b.available(*l, now)
        {
            return Err(PushError::RateLimited {
                rate: l.rate as u64,
                burst: l.burst as u64,
                lines: demand.iter().map(|d| d.lines).sum(),
                bytes,
            });
        }
        if let Some(l) = self.stream {
            for d in demand {
                let available = self
                    .streams
                    .get(&d.id)
                    .map_or(l.burst, |b| b.available(l, now));
                if d.bytes as f64 > available {
                    return Err(PushError::StreamRateLimited {
                        stream: d.labels.to_string(),
                        rate: l.rate as u64,
                        burst: l.burst as u64,
                        lines: d.lines,
                        bytes: d.bytes,
                    });
                }
            }
            for d in demand {
                self.streams
                    .entry(d.id)
                    .or_insert_with(|| Bucket::full(l, now))
                    .take(l, now, d.bytes as f64);
            }
        }
        if let Some((l, b)) = &mut self.total {
            b.take(*l, now, bytes as f64);
        }
        Ok(())
    }

    /// Forgets the stream buckets that have refilled (a new full bucket is the same).
    pub fn prune(&mut self, now: Instant) {
        if let Some(l) = self.stream {
            self.streams.retain(|_, b| b.available(l, now) < l.burst);
        }
    }

    /// Forgets the buckets of `ids` (streams dropped by retention).
    pub fn forget(&mut self, ids: &[u64]) {
        for id in ids {
            self.streams.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn buckets_refill_at_the_rate_up_to_the_burst_and_refusals_take_nothing() {
        let limits = LogLimits {
            ingestion_rate_bytes: 1000,
            ingestion_burst_bytes: 3000,
            per_stream_rate_bytes: 100,
            per_stream_burst_bytes: 500,
            ..LogLimits::default()
        };
        let t0 = Instant::now();
        let mut r = RateLimiter::new(&limits, t0);
        let (a, b) = (
            Labels::from_pairs(&[("app", "a")]).unwrap(),
            Labels::from_pairs(&[("app", "b")]).unwrap(),
        );
        let d = |id, labels, bytes| StreamDemand {
            id,
            labels,
            lines: 1,
            bytes,
        };
        r.admit(t0, &[d(1, &a, 500)]).unwrap();
        let e = r.admit(t0, &[d(1, &a, 1)]).unwrap_err();
        assert_eq!(e.reason(), "per_stream_rate_limited");
        assert!(e.to_string().contains(r#"for stream {app="a"}"#), "{e}");
        // Another stream still has its burst; the overall bucket has 2500 left.
        r.admit(t0, &[d(2, &b, 500)]).unwrap();
        // After one second stream a has 100 bytes again.
        let t1 = t0 + Duration::from_secs(1);
        r.admit(t1, &[d(1, &a, 100)]).unwrap();
        assert!(r.admit(t1, &[d(1, &a, 1)]).is_err());
        // The overall limit: 3000 burst - 1100 taken + 1000 refilled = 2900 available; a push of two streams
        // above it is refused whole and takes nothing from either stream.
        let many: Vec<Labels> = (0..7)
            .map(|i| Labels::from_pairs(&[("app", &format!("s{i}"))]).unwrap())
            .collect();
        let demand: Vec<StreamDemand> = many
            .iter()
            .enumerate()
            .map(|(i, l)| d(10 + i as u64, l, 450))
            .collect();
        let e = r.admit(t1, &demand).unwrap_err();
        assert_eq!(e.reason(), "rate_limited");
        assert!(e.to_string().contains("7 lines totaling 3.1KB"), "{e}");
        r.admit(t1, &demand[..6]).unwrap();
        // Refilled buckets are forgotten.
        r.prune(t1 + Duration::from_secs(10));
        assert!(r.streams.is_empty());
    }
}
