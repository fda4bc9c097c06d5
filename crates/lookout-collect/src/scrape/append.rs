//! One scrape's storage work, run on the blocking pool: parse, label, append as one batch, mark vanished series
//! stale, write the synthetic report series, commit.
//!
//! A scrape that fails (fetch, parse, limits) stores nothing from its body: the batch is rolled back and a new one
//! carries staleness markers for every series the previous scrape wrote, plus `up` = 0 — as Prometheus does by
//! appending an empty scrape.

use std::time::Duration;

use lookout_model::{Labels, LabelsBuilder, METRIC_NAME, stale_nan};
use lookout_storage::{AppendError, Appender, SeriesRef, Storage};
use lookout_wire::MetricMetadata;
use lookout_wire::exposition::{Format, ParseOptions, Parser};
use rustc_hash::FxHashSet;

use super::cache::{CacheEntry, ScrapeCache};
use super::error::ScrapeError;
use super::http::FetchedBody;
use super::labels::{LabelLimits, check_series_labels, mutate_sample_labels};
use lookout_model::relabel::RelabelConfig;

/// Names of the synthetic series written for every scrape (labels: the target's labels plus `__name__`).
pub const REPORT_SERIES: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

/// What one target's scrapes need besides the body: fixed for the life of its loop.
#[derive(Debug, Clone)]
pub struct ScrapeContext {
    /// Labels every series gets (the target's public labels).
    pub target_labels: Labels,
    /// Scraped labels win over target labels.
    pub honor_labels: bool,
    /// Use the exposition's timestamps.
    pub honor_timestamps: bool,
    /// `metric_relabel_configs`.
    pub metric_relabel: Vec<RelabelConfig>,
    /// `sample_limit` (0 = none).
    pub sample_limit: u64,
    /// Per-series label limits.
    pub label_limits: LabelLimits,
    /// Label sets of [`REPORT_SERIES`], built once.
    pub report_labels: [Labels; 5],
}

impl ScrapeContext {
    /// Builds the context for a target with these labels.
    pub fn new(
        target_labels: Labels,
        honor_labels: bool,
        honor_timestamps: bool,
        metric_relabel: Vec<RelabelConfig>,
        sample_limit: u64,
        label_limits: LabelLimits,
    ) -> Self {
        let report_labels = REPORT_SERIES.map(|name| {
            let mut b = LabelsBuilder::with_capacity(target_labels.len() + 1);
            for l in &target_labels {
                b.push(l.name.clone(), l.value.clone());
            }
            b.set(METRIC_NAME, name);
            b.build_unchecked()
        });
        ScrapeContext {
            target_labels,
            honor_labels,
            honor_timestamps,
            metric_relabel,
            sample_limit,
            label_limits,
            report_labels,
        }
    }
}

/// Counts from one scrape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScrapeReport {
    /// Why the scrape failed, if it did (`up` = 0).
    pub error: Option<ScrapeError>,
    /// Samples in the exposition (`scrape_samples_scraped`).
    pub samples_scraped: u64,
    /// Samples left after metric relabeling (`scrape_samples_post_metric_relabeling`).
    pub samples_post_relabel: u64,
    /// Samples the storage accepted.
    pub samples_appended: u64,
    /// Series new to the target's cache (`scrape_series_added`).
    pub series_added: u64,
    /// Samples older than the series' newest one, skipped.
    pub out_of_order: u64,
    /// Samples repeating a timestamp (or a series twice in one scrape), skipped.
    pub duplicates: u64,
    /// Samples before the oldest time the store accepts, skipped.
    pub out_of_bounds: u64,
    /// Samples refused because a series or memory limit of the store was reached.
    pub rejected: u64,
    /// Staleness markers written.
    pub stale_markers: u64,
}

/// Appends by reference when the caller has one, else by labels; refreshes the reference (also the push path's).
pub(crate) fn append_sample(
    app: &mut dyn Appender,
    labels: &Labels,
    series_ref: &mut Option<SeriesRef>,
    t: i64,
    v: f64,
) -> Result<(), AppendError> {
    if let Some(r) = *series_ref {
        match app.append_ref(r, t, v) {
            Err(AppendError::UnknownRef(_)) => {}
            other => return other,
        }
    }
    *series_ref = Some(app.append(labels, t, v)?);
    Ok(())
}

/// Replaces the entry's labels by the storage's copy of the same set once the storage has committed the series
/// (its reference from an earlier batch resolves), so the process keeps one label vector per series.
fn share_storage_labels(storage: &dyn Storage, entry: &mut CacheEntry) {
    let Some(r) = entry.series_ref else { return };
    if let Some(stored) = storage.series_labels(r) {
        if stored == entry.labels {
            entry.labels = stored;
        }
        entry.shared = true;
    }
}

/// Counts a per-sample refusal; all of them leave the batch usable.
fn count_refusal(report: &mut ScrapeReport, e: &AppendError) {
    match e {
        AppendError::OutOfOrder { .. } => report.out_of_order += 1,
        AppendError::DuplicateTimestamp { .. } => report.duplicates += 1,
        // Prometheus counts samples too far in the future as out of bounds too.
        AppendError::OutOfBounds { .. } | AppendError::TooFarInFuture { .. } => {
            report.out_of_bounds += 1
        }
        _ => report.rejected += 1,
    }
}

/// Parses `body` and appends its samples at `scrape_ms`; any error fails the whole scrape. Returns the
/// exposition's metadata (`# TYPE`/`# HELP`/`# UNIT`), one entry per family.
fn append_body(
    storage: &dyn Storage,
    app: &mut dyn Appender,
    ctx: &ScrapeContext,
    cache: &mut ScrapeCache,
    body: &FetchedBody,
    scrape_ms: i64,
    report: &mut ScrapeReport,
) -> Result<Vec<MetricMetadata>, ScrapeError> {
    let format = Format::from_content_type(body.content_type.as_deref());
    let mut parser = Parser::new(&body.body, format, ParseOptions::default())?;
    let iter = cache.iter;
    let mut append_attempts = 0u64;
    let mut over_limit = false;
    while let Some(sample) = parser.next_sample()? {
        report.samples_scraped += 1;
        let key = cache.key(sample.series_text);
        let explicit_ts = if ctx.honor_timestamps {
            sample.timestamp_ms
        } else {
            None
        };
        let t = explicit_ts.unwrap_or(scrape_ms);
        if let Some(last) = cache.dropped.get_mut(&key) {
            *last = iter;
            continue;
        }
        let is_new = !cache.series.contains_key(&key);
        if is_new {
            let scraped = sample.to_labels()?;
            let Some(labels) = mutate_sample_labels(
                &scraped,
                &ctx.target_labels,
                ctx.honor_labels,
                &ctx.metric_relabel,
            ) else {
                cache.dropped.insert(key, iter);
                continue;
            };
            check_series_labels(&labels, &ctx.label_limits)?;
            // The storage's strings when it interns (then the series it creates keeps this very set), else the
            // target's own.
            let labels = match storage.intern_labels(&labels) {
                Some(interned) => interned,
                None => cache.intern_labels(&labels),
            };
            let hash = labels.hash64();
            cache.series.insert(
                key,
                CacheEntry {
                    labels,
                    shared: false,
                    fresh: true,
                    hash,
                    series_ref: None,
                    last_iter: iter,
                },
            );
            cache.fresh += 1;
        }
        report.samples_post_relabel += 1;
        let entry = cache.series.get_mut(&key).expect("inserted above");
        entry.last_iter = iter;
        if explicit_ts.is_none() && cache.current.contains(&entry.hash) {
            // The same series twice in one exposition: Prometheus keeps the first.
            report.duplicates += 1;
            continue;
        }
        // Like Prometheus, count every append attempt against the limit and, once over it, keep parsing without
        // appending so the report still gives the exposition's full size.
        append_attempts += 1;
        if ctx.sample_limit > 0 && append_attempts > ctx.sample_limit {
            over_limit = true;
            continue;
        }
        match append_sample(app, &entry.labels, &mut entry.series_ref, t, sample.value) {
            Ok(()) => {
                report.samples_appended += 1;
                if is_new {
                    report.series_added += 1;
                }
                if !entry.shared {
                    share_storage_labels(storage, entry);
                }
                if explicit_ts.is_none() {
                    cache.current.insert(entry.hash);
                }
            }
            Err(e) => {
                count_refusal(report, &e);
                // A new series the storage has no room for is not cached either: the cache then holds only what
                // the storage holds, and the series is tried again (parsed and relabeled anew) next scrape.
                if is_new
                    && matches!(
                        e,
                        AppendError::SeriesLimit { .. } | AppendError::MemoryLimit { .. }
                    )
                {
                    cache.series.remove(&key);
                    cache.fresh -= 1;
                }
            }
        }
    }
    if over_limit {
        return Err(ScrapeError::SampleLimit {
            limit: ctx.sample_limit,
        });
    }
    Ok(parser.finish().metadata)
}

/// Writes staleness markers at `t` for every series in `previous` that is not in `current` (once per label set:
/// two exposed texts may relabel to the same series).
fn append_stale_markers(
    app: &mut dyn Appender,
    cache: &mut ScrapeCache,
    t: i64,
    report: &mut ScrapeReport,
) {
    let mut vanished: FxHashSet<u64> = cache.previous.difference(&cache.current).copied().collect();
    if vanished.is_empty() {
        return;
    }
    for entry in cache.series.values_mut() {
        if !vanished.remove(&entry.hash) {
            continue;
        }
        // Out-of-order refusals are expected here (the series may have been written later by someone else).
        if append_sample(app, &entry.labels, &mut entry.series_ref, t, stale_nan()).is_ok() {
            report.stale_markers += 1;
        }
    }
    debug_assert!(
        vanished.is_empty(),
        "a previously written series left the cache early"
    );
}

fn append_report(
    app: &mut dyn Appender,
    ctx: &ScrapeContext,
    cache: &mut ScrapeCache,
    t: i64,
    duration: Duration,
    report: &ScrapeReport,
) {
    let up = if report.error.is_none() { 1.0 } else { 0.0 };
    let values = [
        up,
        duration.as_secs_f64(),
        report.samples_scraped as f64,
        report.samples_post_relabel as f64,
        report.series_added as f64,
    ];
    for (i, v) in values.into_iter().enumerate() {
        if let Err(e) = append_sample(app, &ctx.report_labels[i], &mut cache.report_refs[i], t, v) {
            tracing::debug!(error = %e, series = REPORT_SERIES[i], "report sample refused");
        }
    }
}

/// Does the storage side of one scrape: `fetched` is the body or the fetch error; `scrape_ms` the scrape's start.
pub fn store_scrape(
    storage: &dyn Storage,
    ctx: &ScrapeContext,
    cache: &mut ScrapeCache,
    fetched: Result<FetchedBody, ScrapeError>,
    scrape_ms: i64,
    duration: Duration,
) -> ScrapeReport {
    let mut report = ScrapeReport::default();
    cache.begin();
    let mut app = storage.appender();
    // About the samples of the last scrape: the batch's buffers are sized once instead of doubling ~17 times.
    app.reserve(cache.series.len() + REPORT_SERIES.len());
    let result = match &fetched {
        Ok(body) => append_body(storage, &mut *app, ctx, cache, body, scrape_ms, &mut report),
        Err(e) => Err(e.clone()),
    };
    let metadata = match result {
        Ok(metadata) => Some(metadata),
        Err(e) => {
            app.rollback();
            app = storage.appender();
            report.error = Some(e);
            report.samples_appended = 0;
            report.series_added = 0;
            cache.current.clear();
            None
        }
    };
    append_stale_markers(&mut *app, cache, scrape_ms, &mut report);
    append_report(&mut *app, ctx, cache, scrape_ms, duration, &report);
    if report.error.is_some() {
        cache.end_failure();
    } else {
        cache.end_success();
    }
    if let Err(e) = app.commit() {
        // The batch is lost: forget references it may have introduced and report the scrape as failed.
        cache.series.values_mut().for_each(|e| e.series_ref = None);
        cache.report_refs = [None; 5];
        report
            .error
            .get_or_insert(ScrapeError::Commit(e.to_string()));
    }
    // A failed scrape keeps the previous metadata, as Prometheus's scrape cache does.
    if let Some(metadata) = metadata
        && report.error.is_none()
    {
        cache.set_metadata(metadata);
    }
    report
}

/// Writes staleness markers at `t` for every series the target's last scrape wrote and for its report series;
/// used when the target goes away.
pub fn store_end_of_run(
    storage: &dyn Storage,
    ctx: &ScrapeContext,
    cache: &mut ScrapeCache,
    t: i64,
) -> u64 {
    let mut report = ScrapeReport::default();
    cache.begin();
    let mut app = storage.appender();
    append_stale_markers(&mut *app, cache, t, &mut report);
    for i in 0..REPORT_SERIES.len() {
        if cache.report_refs[i].is_some()
            && append_sample(
                &mut *app,
                &ctx.report_labels[i],
                &mut cache.report_refs[i],
                t,
                stale_nan(),
            )
            .is_ok()
        {
            report.stale_markers += 1;
        }
    }
    cache.end_failure();
    match app.commit() {
        Ok(_) => report.stale_markers,
        Err(e) => {
            tracing::warn!(error = %e, "writing end-of-run staleness markers failed");
            0
        }
    }
}

#[cfg(test)]
#[path = "append_tests.rs"]
mod tests;
