//! The scraper's own metrics, kept in atomics and rendered through the shared `MetricsWriter` (`lookout_scrape_*`).

use lookout_model::MetricsWriter;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::append::ScrapeReport;
use super::error::ScrapeError;

/// Counters shared by all scrape loops of a manager.
#[derive(Debug, Default)]
pub struct ScrapeMetrics {
    scrapes: AtomicU64,
    failures: AtomicU64,
    sample_limit_exceeded: AtomicU64,
    body_size_limit_exceeded: AtomicU64,
    body_memory_exceeded: AtomicU64,
    parse_failures: AtomicU64,
    timeouts: AtomicU64,
    samples_appended: AtomicU64,
    series_added: AtomicU64,
    out_of_order: AtomicU64,
    duplicates: AtomicU64,
    out_of_bounds: AtomicU64,
    rejected: AtomicU64,
    stale_markers: AtomicU64,
    scrape_micros: AtomicU64,
    storage_wait_micros: AtomicU64,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl ScrapeMetrics {
    /// Accounts one finished scrape; `storage_wait` is the time spent waiting for a blocking-pool slot.
    pub fn record(&self, report: &ScrapeReport, duration: Duration, storage_wait: Duration) {
        add(&self.scrapes, 1);
        if let Some(e) = &report.error {
            add(&self.failures, 1);
            match e {
                ScrapeError::SampleLimit { .. } => add(&self.sample_limit_exceeded, 1),
                ScrapeError::BodySizeLimit { .. } => add(&self.body_size_limit_exceeded, 1),
                ScrapeError::BodyMemory { .. } => add(&self.body_memory_exceeded, 1),
                ScrapeError::Parse(_) => add(&self.parse_failures, 1),
                ScrapeError::Timeout(_) => add(&self.timeouts, 1),
                _ => {}
            }
        }
        add(&self.samples_appended, report.samples_appended);
        add(&self.series_added, report.series_added);
        add(&self.out_of_order, report.out_of_order);
        add(&self.duplicates, report.duplicates);
        add(&self.out_of_bounds, report.out_of_bounds);
        add(&self.rejected, report.rejected);
        add(&self.stale_markers, report.stale_markers);
        add(&self.scrape_micros, duration.as_micros() as u64);
        add(&self.storage_wait_micros, storage_wait.as_micros() as u64);
    }

    /// Accounts staleness markers written when a target went away.
    pub fn record_end_of_run(&self, stale_markers: u64) {
        add(&self.stale_markers, stale_markers);
    }

    /// Appends the metrics in the Prometheus text format; `active` and `dropped` are the current target counts.
    pub fn write(&self, out: &mut MetricsWriter, active: usize, dropped: usize) {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let gauges = [
            (
                "lookout_scrape_targets",
                "Targets being scraped.",
                active as f64,
            ),
            (
                "lookout_scrape_dropped_targets",
                "Discovered targets dropped by relabeling or invalid.",
                dropped as f64,
            ),
        ];
        for (name, help, v) in gauges {
            out.gauge(name, help, v);
        }
        let counters = [
            (
                "lookout_scrape_scrapes_total",
                "Scrapes attempted.",
                get(&self.scrapes) as f64,
            ),
            (
                "lookout_scrape_failures_total",
                "Scrapes that failed (up = 0).",
                get(&self.failures) as f64,
            ),
            (
                "lookout_scrape_timeouts_total",
                "Scrapes that timed out.",
                get(&self.timeouts) as f64,
            ),
            (
                "lookout_scrape_parse_failures_total",
                "Scrapes with a malformed exposition.",
                get(&self.parse_failures) as f64,
            ),
            (
                "lookout_scrape_sample_limit_exceeded_total",
                "Scrapes failed by sample_limit.",
                get(&self.sample_limit_exceeded) as f64,
            ),
            (
                "lookout_scrape_body_size_limit_exceeded_total",
                "Scrapes failed by body_size_limit.",
                get(&self.body_size_limit_exceeded) as f64,
            ),
            (
                "lookout_scrape_body_memory_exceeded_total",
                "Scrapes failed because the bodies in flight would exceed the ingest share of the memory budget.",
                get(&self.body_memory_exceeded) as f64,
            ),
            (
                "lookout_scrape_samples_appended_total",
                "Scraped samples accepted by storage.",
                get(&self.samples_appended) as f64,
            ),
            (
                "lookout_scrape_series_added_total",
                "Series new to a target's scrape cache.",
                get(&self.series_added) as f64,
            ),
            (
                "lookout_scrape_samples_out_of_order_total",
                "Scraped samples skipped as out of order.",
                get(&self.out_of_order) as f64,
            ),
            (
                "lookout_scrape_samples_duplicate_total",
                "Scraped samples skipped as duplicate timestamps.",
                get(&self.duplicates) as f64,
            ),
            (
                "lookout_scrape_samples_out_of_bounds_total",
                "Scraped samples skipped as too old for storage.",
                get(&self.out_of_bounds) as f64,
            ),
            (
                "lookout_scrape_samples_rejected_total",
                "Scraped samples refused by a storage series or memory limit.",
                get(&self.rejected) as f64,
            ),
            (
                "lookout_scrape_stale_markers_total",
                "Staleness markers written.",
                get(&self.stale_markers) as f64,
            ),
            (
                "lookout_scrape_duration_seconds_total",
                "Time spent fetching scrapes.",
                get(&self.scrape_micros) as f64 / 1e6,
            ),
            (
                "lookout_scrape_storage_wait_seconds_total",
                "Time scrapes waited for a storage slot.",
                get(&self.storage_wait_micros) as f64 / 1e6,
            ),
        ];
        for (name, help, v) in counters {
            out.counter(name, help, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts() {
        let m = ScrapeMetrics::default();
        let report = ScrapeReport {
            samples_appended: 7,
            out_of_order: 2,
            ..ScrapeReport::default()
        };
        m.record(&report, Duration::from_millis(1500), Duration::ZERO);
        m.record(
            &ScrapeReport {
                error: Some(ScrapeError::SampleLimit { limit: 1 }),
                ..ScrapeReport::default()
            },
            Duration::ZERO,
            Duration::ZERO,
        );
        let mut w = MetricsWriter::new();
        m.write(&mut w, 3, 1);
        let out = w.finish();
        for line in [
            "lookout_scrape_targets 3",
            "lookout_scrape_dropped_targets 1",
            "lookout_scrape_scrapes_total 2",
            "lookout_scrape_failures_total 1",
            "lookout_scrape_sample_limit_exceeded_total 1",
            "lookout_scrape_samples_appended_total 7",
            "lookout_scrape_samples_out_of_order_total 2",
            "lookout_scrape_duration_seconds_total 1.5",
        ] {
            assert!(out.lines().any(|l| l == line), "missing {line:?} in\n{out}");
        }
    }
}
