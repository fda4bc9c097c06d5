//! Engine options: retention, block cadence, out-of-order window, limits, memory budget split, WAL and sled knobs.

use std::time::Duration;

use crate::wal::WalOptions;

/// Everything [`crate::Tsdb::open`] can be told. `Default` gives the documented defaults.
#[derive(Debug, Clone)]
pub struct TsdbOptions {
    /// Persisted data older than the newest sample minus this is deleted (default 15 days).
    pub retention_time: Duration,
    /// When set, the oldest persisted parts are deleted while the data exceeds this many bytes.
    pub retention_bytes: Option<u64>,
    /// Head data is persisted in windows of this length, aligned to multiples of it (default 2 h).
    pub block_duration: Duration,
    /// Samples up to this much older than a series' newest sample are still accepted (default 0: none).
    pub out_of_order_window: Duration,
    /// New series beyond this many head series are refused with `AppendError::SeriesLimit`.
    pub max_active_series: usize,
    /// Total bytes the engine may use: head share plus sled's cache share.
    pub memory_budget_bytes: u64,
    /// Fraction of the budget given to sled's page cache (the rest is the head's share).
    pub sled_cache_fraction: f64,
    /// The write-ahead log's options (segment size, fsync interval, repair).
    pub wal: WalOptions,
    /// How often sled's background flusher runs (never disabled: it also reclaims space).
    pub sled_flush_every: Duration,
    /// How often the maintenance thread looks for work; `None` runs no thread (tests call the methods directly).
    pub maintenance_interval: Option<Duration>,
    /// zstd level for groups of sealed chunks.
    pub zstd_level: i32,
    /// Samples later than the clock plus this are refused with `AppendError::TooFarInFuture` (`None`: no
    /// check, the library default; the appliance sets `storage.max_future`).
    pub max_future: Option<Duration>,
    /// At open, forget a persisted part whose file is missing or damaged (logged) instead of refusing to start.
    pub drop_damaged_parts: bool,
}

impl Default for TsdbOptions {
    fn default() -> Self {
        TsdbOptions {
            retention_time: Duration::from_secs(15 * 24 * 3600),
            retention_bytes: None,
            block_duration: Duration::from_secs(2 * 3600),
            out_of_order_window: Duration::ZERO,
            max_active_series: 2_000_000,
            memory_budget_bytes: 1 << 30,
            sled_cache_fraction: 0.1,
            wal: WalOptions::default(),
            sled_flush_every: Duration::from_millis(1000),
            maintenance_interval: Some(Duration::from_secs(30)),
            zstd_level: 9,
            max_future: None,
            drop_damaged_parts: false,
        }
    }
}

impl TsdbOptions {
    /// Options for tests: no background thread, small budget, 1 h blocks.
    pub fn for_test() -> Self {
        TsdbOptions {
            memory_budget_bytes: 256 << 20,
            maintenance_interval: None,
            block_duration: Duration::from_secs(3600),
            zstd_level: 3,
            ..Self::default()
        }
    }

    /// Bytes of the budget the head may use.
    pub fn head_budget_bytes(&self) -> u64 {
        (self.memory_budget_bytes as f64 * (1.0 - self.sled_cache_fraction.clamp(0.0, 0.9))) as u64
    }

    /// Bytes of sled's page cache (at least 4 MiB).
    pub fn sled_cache_bytes(&self) -> u64 {
        ((self.memory_budget_bytes as f64 * self.sled_cache_fraction.clamp(0.0, 0.9)) as u64)
            .max(4 << 20)
    }

    pub(crate) fn block_ms(&self) -> i64 {
        (self.block_duration.as_millis() as i64).max(1)
    }

    pub(crate) fn ooo_window_ms(&self) -> i64 {
        self.out_of_order_window.as_millis() as i64
    }

    pub(crate) fn retention_ms(&self) -> i64 {
        self.retention_time.as_millis().min(i64::MAX as u128) as i64
    }
}
