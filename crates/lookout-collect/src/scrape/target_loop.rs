//! One target's scrape loop: a tokio task that fetches on a fixed schedule (offset by a hash of the target so
//! targets spread over the interval) and hands each body to the blocking pool for the storage work.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lookout_storage::Storage;
use parking_lot::RwLock;
use tokio::sync::{Semaphore, oneshot};
use tokio::time::{Instant, MissedTickBehavior};

use super::append::{ScrapeContext, store_end_of_run, store_scrape};
use super::body_memory::{BodyMemory, BodyReservation};
use super::cache::ScrapeCache;
use super::error::ScrapeError;
use super::fetch::Fetcher;
use super::metadata::MetadataStore;
use super::metrics::ScrapeMetrics;
use crate::target::Target;

/// Whether a target answered its last scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Health {
    /// Not scraped yet.
    #[default]
    Unknown,
    /// The last scrape succeeded.
    Up,
    /// The last scrape failed.
    Down,
}

impl Health {
    /// `up`, `down` or `unknown`, as the targets API spells them.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Up => "up",
            Health::Down => "down",
        }
    }
}

/// The outcome of a target's last scrape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetHealth {
    /// Up, down or unknown.
    pub health: Health,
    /// The last scrape's error, empty when it succeeded.
    pub last_error: String,
    /// When the last scrape started, in Unix milliseconds.
    pub last_scrape_ms: Option<i64>,
    /// How long the last scrape took (fetch and storage).
    pub last_scrape_duration: Duration,
    /// Samples in the last exposition.
    pub last_samples: u64,
}

/// What every loop of a manager shares.
pub(crate) struct LoopEnv {
    pub(crate) storage: Arc<dyn Storage>,
    /// Bounds the storage work running on the blocking pool at once.
    pub(crate) storage_slots: Arc<Semaphore>,
    pub(crate) metrics: Arc<ScrapeMetrics>,
    /// Metric metadata of every loop's last successful scrape.
    pub(crate) metadata: Arc<MetadataStore>,
    /// Body cap for jobs without `body_size_limit`.
    pub(crate) default_max_body_bytes: usize,
    /// The bytes all bodies in flight share.
    pub(crate) body_memory: Arc<BodyMemory>,
}

/// How a loop should end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopMode {
    /// The target is gone: mark its series stale.
    TargetGone,
    /// The target lives on in a new loop (configuration change) or the process is stopping.
    Quiet,
}

/// Everything one loop needs.
pub(crate) struct LoopSpec {
    pub(crate) target: Arc<Target>,
    pub(crate) client: Arc<Result<Fetcher, ScrapeError>>,
    pub(crate) ctx: Arc<ScrapeContext>,
    pub(crate) max_body_bytes: usize,
    pub(crate) health: Arc<RwLock<TargetHealth>>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// When a stopped target's end-of-run staleness markers are written: now, but always after the last scrape's
/// samples. A target stopped within the millisecond its last scrape started would otherwise get markers at that
/// scrape's own time, which the storage refuses as duplicates (a different value at the same timestamp), leaving
/// its series without markers.
fn end_of_run_ms(now: i64, last_scrape_ms: Option<i64>) -> i64 {
    match last_scrape_ms {
        Some(last) => now.max(last.saturating_add(1)),
        None => now,
    }
}

/// Delay before the first scrape: the target's hash picks its slot within the interval, so all targets of a job
/// do not hit at once and a target keeps its slot across restarts.
pub(crate) fn initial_delay(target_hash: u64, interval: Duration, now_unix_ms: i64) -> Duration {
    let interval_ms = interval.as_millis().max(1) as u64;
    let slot = target_hash % interval_ms;
    let phase = (now_unix_ms.max(0) as u64) % interval_ms;
    Duration::from_millis((slot + interval_ms - phase) % interval_ms)
}

/// Runs until `stop` fires (or its sender is dropped).
pub(crate) async fn run_target_loop(
    env: Arc<LoopEnv>,
    spec: LoopSpec,
    mut stop: oneshot::Receiver<StopMode>,
) {
    let interval = spec.target.interval.as_duration();
    let timeout = spec.target.timeout.as_duration();
    let delay = initial_delay(spec.target.key(), interval, now_ms());
    let mut ticker = tokio::time::interval_at(Instant::now() + delay, interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut cache = Some(ScrapeCache::default());
    // Dropped when the loop ends (or its task is dropped), taking the target's metadata with it.
    let metadata_slot = env.metadata.slot();
    // Whether the last publish was cut short by the store's cap (then retried after each successful scrape).
    let mut metadata_incomplete = false;
    let mode = loop {
        tokio::select! {
            biased;
            m = &mut stop => break m.unwrap_or(StopMode::Quiet),
            _ = ticker.tick() => {}
        }
        let started = Instant::now();
        let scrape_ms = now_ms();
        let fetched = match spec.client.as_ref() {
            Ok(client) => tokio::select! {
                biased;
                m = &mut stop => break m.unwrap_or(StopMode::Quiet),
                r = client.fetch(&spec.target.url, timeout, spec.max_body_bytes, &env.body_memory) => r,
            },
            Err(e) => Err(e.clone()),
        };
        // The body's bytes stay reserved until the storage step has parsed it.
        let (fetched, reservation) = match fetched {
            Ok((body, reservation)) => (Ok(body), reservation),
            Err(e) => (Err(e), BodyReservation::none()),
        };
        let fetch_duration = started.elapsed();
        let wait_started = Instant::now();
        let Ok(permit) = env.storage_slots.clone().acquire_owned().await else {
            break StopMode::Quiet;
        };
        let storage_wait = wait_started.elapsed();
        let (storage, ctx, mut owned_cache) = (
            env.storage.clone(),
            spec.ctx.clone(),
            cache.take().unwrap_or_default(),
        );
        let joined = tokio::task::spawn_blocking(move || {
            let report = store_scrape(
                &*storage,
                &ctx,
                &mut owned_cache,
                fetched,
                scrape_ms,
                fetch_duration,
            );
            drop(reservation);
            drop(permit);
            (owned_cache, report)
        })
        .await;
        let Ok((mut back, report)) = joined else {
            tracing::error!(target = %spec.target.url, "scrape storage task panicked");
            break StopMode::Quiet;
        };
        if back.metadata_changed || (metadata_incomplete && report.error.is_none()) {
            back.metadata_changed = false;
            metadata_incomplete = !metadata_slot.set(&back.metadata);
        }
        cache = Some(back);
        env.metrics.record(&report, fetch_duration, storage_wait);
        let mut h = spec.health.write();
        h.health = if report.error.is_none() {
            Health::Up
        } else {
            Health::Down
        };
        h.last_error = report
            .error
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        h.last_scrape_ms = Some(scrape_ms);
        h.last_scrape_duration = started.elapsed();
        h.last_samples = report.samples_scraped;
    };
    drop(metadata_slot);
    if mode == StopMode::TargetGone
        && let Some(mut cache) = cache.filter(|c| c.iter > 0)
    {
        let Ok(permit) = env.storage_slots.clone().acquire_owned().await else {
            return;
        };
        let (storage, ctx) = (env.storage.clone(), spec.ctx.clone());
        let last_scrape_ms = spec.health.read().last_scrape_ms;
        let written = tokio::task::spawn_blocking(move || {
            let t = end_of_run_ms(now_ms(), last_scrape_ms);
            let n = store_end_of_run(&*storage, &ctx, &mut cache, t);
            drop(permit);
            n
        })
        .await
        .unwrap_or(0);
        env.metrics.record_end_of_run(written);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_of_run_markers_come_after_the_last_scrape() {
        assert_eq!(end_of_run_ms(5_000, Some(5_000)), 5_001);
        assert_eq!(end_of_run_ms(5_000, Some(4_000)), 5_000);
        assert_eq!(end_of_run_ms(5_000, None), 5_000);
    }

    #[test]
    fn delay_is_stable_and_within_the_interval() {
        let interval = Duration::from_secs(15);
        for hash in [0u64, 1, 14_999, 15_000, u64::MAX] {
            for now in [0i64, 7_000, 1_700_000_000_123] {
                let d = initial_delay(hash, interval, now);
                assert!(d < interval);
                // The first scrape lands on the same phase of the interval whatever the start time.
                let phase = (now as u64 + d.as_millis() as u64) % 15_000;
                assert_eq!(phase, hash % 15_000);
            }
        }
    }
}
