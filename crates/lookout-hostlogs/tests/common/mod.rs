//! Shared test helpers: a sink that fails on demand, bounded polling, entry listing.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lookout_model::{Labels, MetricsWriter};
use lookout_storage::logs::mem::MemLogs;
use lookout_storage::logs::{
    Entry, LogPushError, LogQuery, LogSink, LogSource, PushStream, QueryDirection,
};
use parking_lot::Mutex;

/// A MemLogs that can refuse pushes: the next `rate_limit` pushes are rate-limited, and any push with a line
/// containing `poison` is refused as invalid.
#[derive(Default)]
pub struct TestSink {
    pub mem: MemLogs,
    pub rate_limit: AtomicUsize,
    pub poison: Mutex<Option<String>>,
    pub pushes: AtomicUsize,
    pub max_push_entries: AtomicUsize,
}

impl LogSink for TestSink {
    fn push(&self, push: Vec<PushStream>) -> Result<usize, LogPushError> {
        self.pushes.fetch_add(1, Ordering::SeqCst);
        let n: usize = push.iter().map(|p| p.entries.len()).sum();
        self.max_push_entries.fetch_max(n, Ordering::SeqCst);
        if self
            .rate_limit
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1))
            .is_ok()
        {
            return Err(LogPushError::RateLimited {
                reason: "rate_limited",
                message: "slow down".into(),
            });
        }
        if let Some(p) = self.poison.lock().as_deref()
            && push
                .iter()
                .any(|s| s.entries.iter().any(|e| e.line.contains(p)))
        {
            return Err(LogPushError::Invalid {
                reason: "line_too_long",
                message: "poisoned".into(),
            });
        }
        self.mem.push(push)
    }
}

impl TestSink {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Every stored (labels, entry), oldest first.
    pub fn all(&self) -> Vec<(Labels, Entry)> {
        let q = LogQuery {
            matchers: vec![],
            filters: vec![],
            start: i64::MIN,
            end: i64::MAX,
            limit: usize::MAX,
            direction: QueryDirection::Forward,
        };
        let mut out = Vec::new();
        self.mem
            .scan(&q, &mut |l, e| {
                out.push((l.clone(), e.clone()));
                true
            })
            .unwrap();
        out
    }

    /// Every stored line, oldest first (ties in push order are kept by the stable scan sort).
    pub fn lines(&self) -> Vec<String> {
        self.all().into_iter().map(|(_, e)| e.line).collect()
    }
}

/// Polls `f` every 20ms until it is true; panics with `what` after `secs` seconds.
pub async fn wait_for(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The value of the metric sample line starting with `prefix` (name and labels).
pub fn metric(h: &lookout_hostlogs::HostLogs, prefix: &str) -> u64 {
    let mut w = MetricsWriter::new();
    h.write_metrics(&mut w);
    let text = w.finish();
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no metric {prefix} in\n{text}"))
}
