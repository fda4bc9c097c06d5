//! The storage side of scrapes against the in-memory store.

use lookout_model::{Matcher, Sample, TimeRange, is_stale_nan};
use lookout_storage::mem::MemStorage;
use lookout_storage::{SelectHints, Storage};

use super::*;

fn ctx() -> ScrapeContext {
    let target = Labels::from_pairs(&[("job", "j"), ("instance", "t:1")]).unwrap();
    ScrapeContext::new(target, false, true, Vec::new(), 0, LabelLimits::default())
}

fn body(text: &str) -> Result<FetchedBody, ScrapeError> {
    Ok(FetchedBody {
        body: text.as_bytes().to_vec(),
        content_type: Some("text/plain; version=0.0.4".into()),
    })
}

fn samples(storage: &MemStorage, name: &str) -> Vec<(Labels, Vec<Sample>)> {
    let q = storage.querier(TimeRange::ALL).unwrap();
    q.select(
        &[Matcher::equal("__name__", name)],
        SelectHints::samples(TimeRange::ALL),
    )
    .unwrap()
    .map(|s| {
        let mut s = s.unwrap();
        let mut out = Vec::new();
        s.samples.collect_into(&mut out);
        (s.labels, out)
    })
    .collect()
}

fn value(storage: &MemStorage, name: &str) -> Vec<(i64, f64)> {
    samples(storage, name)
        .into_iter()
        .flat_map(|(_, s)| s)
        .map(|s| (s.t, s.v))
        .collect()
}

fn run(
    storage: &MemStorage,
    ctx: &ScrapeContext,
    cache: &mut ScrapeCache,
    text: &str,
    t: i64,
) -> ScrapeReport {
    store_scrape(storage, ctx, cache, body(text), t, Duration::from_millis(5))
}

#[test]
fn stores_samples_and_report_series() {
    let storage = MemStorage::new();
    let mut cache = ScrapeCache::default();
    let r = run(
        &storage,
        &ctx(),
        &mut cache,
        "# TYPE a counter\na{x=\"1\"} 5\na{x=\"2\"} 6\nb 7 123\n",
        1000,
    );
    assert_eq!(r.error, None);
    assert_eq!(
        (
            r.samples_scraped,
            r.samples_post_relabel,
            r.series_added,
            r.samples_appended
        ),
        (3, 3, 3, 3)
    );
    let a = samples(&storage, "a");
    assert_eq!(a.len(), 2);
    assert_eq!(
        a[0].0,
        Labels::from_pairs(&[
            ("__name__", "a"),
            ("x", "1"),
            ("job", "j"),
            ("instance", "t:1")
        ])
        .unwrap()
    );
    assert_eq!(a[0].1, vec![Sample::new(1000, 5.0)]);
    // The explicit timestamp is honored.
    assert_eq!(value(&storage, "b"), vec![(123, 7.0)]);
    assert_eq!(value(&storage, "up"), vec![(1000, 1.0)]);
    assert_eq!(value(&storage, "scrape_samples_scraped"), vec![(1000, 3.0)]);
    assert_eq!(
        value(&storage, "scrape_samples_post_metric_relabeling"),
        vec![(1000, 3.0)]
    );
    assert_eq!(value(&storage, "scrape_series_added"), vec![(1000, 3.0)]);
    assert_eq!(
        value(&storage, "scrape_duration_seconds"),
        vec![(1000, 0.005)]
    );
    let up = &samples(&storage, "up")[0].0;
    assert_eq!(up.get("job"), Some("j"));
    assert_eq!(up.get("instance"), Some("t:1"));

    // Second scrape: cached series, nothing new.
    let r = run(
        &storage,
        &ctx(),
        &mut cache,
        "# TYPE a counter\na{x=\"1\"} 6\na{x=\"2\"} 7\nb 7 123\n",
        2000,
    );
    // An identical sample at the same timestamp is accepted again, as the TSDB does.
    assert_eq!(
        (r.series_added, r.samples_appended, r.duplicates),
        (0, 3, 0)
    );
    assert_eq!(
        value(&storage, "scrape_series_added"),
        vec![(1000, 3.0), (2000, 0.0)]
    );
    assert_eq!(samples(&storage, "a")[0].1.len(), 2);
}

#[test]
fn vanished_series_get_a_stale_marker_but_explicit_timestamps_do_not() {
    let storage = MemStorage::new();
    let mut cache = ScrapeCache::default();
    run(
        &storage,
        &ctx(),
        &mut cache,
        "a 1\ngone 2\nts_series 3 500\n",
        1000,
    );
    let r = run(&storage, &ctx(), &mut cache, "a 1\n", 2000);
    assert_eq!(r.stale_markers, 1);
    let gone = value(&storage, "gone");
    assert_eq!(gone.len(), 2);
    assert_eq!(gone[0], (1000, 2.0));
    assert_eq!(gone[1].0, 2000);
    assert!(is_stale_nan(gone[1].1));
    assert_eq!(value(&storage, "ts_series"), vec![(500, 3.0)]);
    // Only once.
    let r = run(&storage, &ctx(), &mut cache, "a 1\n", 3000);
    assert_eq!(r.stale_markers, 0);
}

/// Two exposed texts of one series (labels in another order): staleness goes by the series, not the text.
#[test]
fn texts_of_one_series_share_its_staleness() {
    let storage = MemStorage::new();
    let mut cache = ScrapeCache::default();
    run(&storage, &ctx(), &mut cache, "m{a=\"1\",b=\"2\"} 1\n", 1000);
    let r = run(&storage, &ctx(), &mut cache, "m{b=\"2\",a=\"1\"} 2\n", 2000);
    assert_eq!(
        (r.stale_markers, r.samples_appended),
        (0, 1),
        "the other text wrote the series"
    );
    let r = run(
        &storage,
        &ctx(),
        &mut cache,
        "m{a=\"1\",b=\"2\"} 3\nm{b=\"2\",a=\"1\"} 4\n",
        3000,
    );
    assert_eq!((r.stale_markers, r.duplicates), (0, 1));
    let r = run(&storage, &ctx(), &mut cache, "other 1\n", 4000);
    assert_eq!(r.stale_markers, 1, "one marker for the one series");
    let m = value(&storage, "m");
    assert_eq!(&m[..3], [(1000, 1.0), (2000, 2.0), (3000, 3.0)]);
    assert_eq!(m.len(), 4);
    assert!(m[3].0 == 4000 && is_stale_nan(m[3].1));
}

#[test]
fn malformed_body_stores_nothing_and_marks_previous_series_stale() {
    let storage = MemStorage::new();
    let mut cache = ScrapeCache::default();
    run(&storage, &ctx(), &mut cache, "a 1\n", 1000);
    let r = run(
        &storage,
        &ctx(),
        &mut cache,
        "a 2\nnew_series 3\nbroken{x=y} 1\n",
        2000,
    );
    let err = r.error.clone().expect("the scrape fails").to_string();
    assert!(err.contains("line 3"), "{err}");
    assert_eq!(value(&storage, "new_series"), vec![]);
    let a = value(&storage, "a");
    assert_eq!(a.len(), 2);
    assert!(is_stale_nan(a[1].1));
    assert_eq!(value(&storage, "up"), vec![(1000, 1.0), (2000, 0.0)]);
    // The failed scrape's new series is not cached: a later good scrape counts it as added.
    let r = run(&storage, &ctx(), &mut cache, "a 3\nnew_series 3\n", 3000);
    assert_eq!(r.error, None);
    assert_eq!(r.series_added, 1);
}

#[test]
fn sample_limit_fails_the_scrape() {
    let storage = MemStorage::new();
    let mut c = ctx();
    c.sample_limit = 2;
    let mut cache = ScrapeCache::default();
    let r = run(&storage, &c, &mut cache, "a 1\nb 2\nc 3\n", 1000);
    assert_eq!(r.error, Some(ScrapeError::SampleLimit { limit: 2 }));
    // The report still gives the whole exposition's size.
    assert_eq!((r.samples_scraped, r.samples_post_relabel), (3, 3));
    assert_eq!(value(&storage, "scrape_samples_scraped"), vec![(1000, 3.0)]);
    assert_eq!(value(&storage, "a"), vec![]);
    assert_eq!(value(&storage, "up"), vec![(1000, 0.0)]);
    // Dropped by metric relabeling does not count.
    c.metric_relabel =
        serde_yaml_ng::from_str("- {source_labels: [__name__], regex: c, action: drop}").unwrap();
    let r = run(
        &storage,
        &c,
        &mut ScrapeCache::default(),
        "a 1\nb 2\nc 3\n",
        2000,
    );
    assert_eq!(r.error, None);
    assert_eq!((r.samples_scraped, r.samples_post_relabel), (3, 2));
    assert_eq!(value(&storage, "c"), vec![]);
}

#[test]
fn label_limit_fails_the_scrape() {
    let storage = MemStorage::new();
    let mut c = ctx();
    c.label_limits.label_limit = 3;
    let r = run(
        &storage,
        &c,
        &mut ScrapeCache::default(),
        "ok 1\nwide{a=\"1\",b=\"2\"} 1\n",
        1000,
    );
    assert!(
        matches!(
            r.error,
            Some(ScrapeError::LabelLimit {
                count: 5,
                limit: 3,
                ..
            })
        ),
        "{:?}",
        r.error
    );
    assert_eq!(value(&storage, "ok"), vec![]);
}

#[test]
fn honor_labels_conflicts_and_honor_timestamps_off() {
    let storage = MemStorage::new();
    let mut c = ctx();
    c.honor_timestamps = false;
    run(
        &storage,
        &c,
        &mut ScrapeCache::default(),
        "m{job=\"inner\"} 1 5\n",
        1000,
    );
    let m = samples(&storage, "m");
    assert_eq!(m[0].0.get("job"), Some("j"));
    assert_eq!(m[0].0.get("exported_job"), Some("inner"));
    assert_eq!(m[0].1, vec![Sample::new(1000, 1.0)]);

    let storage = MemStorage::new();
    let mut c = ctx();
    c.honor_labels = true;
    run(
        &storage,
        &c,
        &mut ScrapeCache::default(),
        "m{job=\"inner\"} 1\n",
        1000,
    );
    let m = samples(&storage, "m");
    assert_eq!(m[0].0.get("job"), Some("inner"));
    assert_eq!(m[0].0.get("instance"), Some("t:1"));
}

#[test]
fn duplicates_and_out_of_order_are_skipped_and_counted() {
    let storage = MemStorage::new();
    let mut cache = ScrapeCache::default();
    let r = run(&storage, &ctx(), &mut cache, "a 1\na 2\nb 1 5000\n", 1000);
    assert_eq!(
        (r.duplicates, r.samples_appended, r.samples_post_relabel),
        (1, 2, 3)
    );
    assert_eq!(value(&storage, "a"), vec![(1000, 1.0)]);
    let r = run(&storage, &ctx(), &mut cache, "a 1\nb 1 4000\n", 2000);
    assert_eq!(r.out_of_order, 1);
    assert_eq!(r.error, None);
}

#[test]
fn fetch_errors_report_down_and_end_of_run_marks_everything_stale() {
    let storage = MemStorage::new();
    let mut cache = ScrapeCache::default();
    let c = ctx();
    run(&storage, &c, &mut cache, "a 1\n", 1000);
    let r = store_scrape(
        &storage,
        &c,
        &mut cache,
        Err(ScrapeError::Timeout(Duration::from_secs(1))),
        2000,
        Duration::from_secs(1),
    );
    assert_eq!(r.error, Some(ScrapeError::Timeout(Duration::from_secs(1))));
    assert_eq!(value(&storage, "up"), vec![(1000, 1.0), (2000, 0.0)]);
    assert!(is_stale_nan(value(&storage, "a")[1].1));

    run(&storage, &c, &mut cache, "a 1\nb 1\n", 3000);
    let n = store_end_of_run(&storage, &c, &mut cache, 4000);
    assert_eq!(n, 2 + REPORT_SERIES.len() as u64);
    for name in ["a", "b", "up", "scrape_series_added"] {
        let v = value(&storage, name);
        let last = v.last().unwrap();
        assert!(last.0 == 4000 && is_stale_nan(last.1), "{name}: {v:?}");
    }
}

#[test]
fn metadata_is_kept_from_successful_scrapes_and_flagged_only_when_it_changes() {
    let storage = MemStorage::new();
    let ctx = ctx();
    let mut cache = ScrapeCache::default();
    let text = "# HELP a_total Things.\n# TYPE a_total counter\na_total 1\n";
    let families = |c: &ScrapeCache| {
        c.metadata
            .iter()
            .map(|m| format!("{}/{}/{}", m.family, m.kind.openmetrics_word(), m.help))
            .collect::<Vec<_>>()
    };
    run(&storage, &ctx, &mut cache, text, 1000);
    assert!(cache.metadata_changed);
    assert_eq!(families(&cache), ["a_total/counter/Things."]);
    cache.metadata_changed = false;
    run(&storage, &ctx, &mut cache, text, 2000);
    assert!(!cache.metadata_changed, "same metadata, no change");
    // A failed scrape keeps the previous metadata.
    let r = run(&storage, &ctx, &mut cache, "# TYPE b gauge\nb{ 1\n", 3000);
    assert!(r.error.is_some());
    assert!(!cache.metadata_changed);
    assert_eq!(families(&cache), ["a_total/counter/Things."]);
    run(&storage, &ctx, &mut cache, "# TYPE b gauge\nb 1\n", 4000);
    assert!(cache.metadata_changed);
    assert_eq!(families(&cache), ["b/gauge/"]);
}

/// A store that keeps its own copy of each series' labels (as the TSDB's head does), handed out by
/// `series_labels`.
struct OwnLabelsStorage {
    inner: MemStorage,
    copies: std::sync::Mutex<std::collections::HashMap<u64, Labels>>,
}

impl Storage for OwnLabelsStorage {
    fn appender(&self) -> Box<dyn lookout_storage::Appender + '_> {
        self.inner.appender()
    }

    fn querier(
        &self,
        range: TimeRange,
    ) -> Result<Box<dyn lookout_storage::Querier + '_>, lookout_storage::StorageError> {
        self.inner.querier(range)
    }

    fn series_labels(&self, series: SeriesRef) -> Option<Labels> {
        let stored = self.inner.series_labels(series)?;
        let mut copies = self.copies.lock().unwrap();
        let copy = copies.entry(series).or_insert_with(|| {
            let pairs: Vec<(String, String)> = stored
                .iter()
                .map(|l| (l.name.to_string(), l.value.to_string()))
                .collect();
            let pairs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            Labels::from_pairs(&pairs).unwrap()
        });
        Some(copy.clone())
    }
}

#[test]
fn cached_series_share_the_storages_label_set_once_it_has_the_series() {
    let storage = OwnLabelsStorage {
        inner: MemStorage::new(),
        copies: Default::default(),
    };
    let c = ctx();
    let mut cache = ScrapeCache::default();
    let text = "a{x=\"1\"} 1\na{x=\"2\"} 2\n";
    for t in [1000, 2000, 3000] {
        let r = store_scrape(&storage, &c, &mut cache, body(text), t, Duration::ZERO);
        assert_eq!(r.error, None);
    }
    let same = |a: &Labels, b: &Labels| a.as_slice().as_ptr() == b.as_slice().as_ptr();
    let copies = storage.copies.lock().unwrap();
    assert_eq!(cache.series.len(), 2);
    for entry in cache.series.values() {
        let stored = &copies[&entry.series_ref.unwrap()];
        assert!(entry.shared);
        assert_eq!(entry.labels, *stored);
        assert!(same(&entry.labels, stored), "{} not shared", entry.labels);
        assert!(cache.previous.contains(&entry.hash));
    }
}

/// Why the end-of-run time is kept after the last scrape: a marker at that scrape's own time is a different value
/// at the same timestamp, which the storage refuses, and the series would keep no marker.
#[test]
fn end_of_run_markers_at_the_last_scrapes_time_are_refused() {
    let storage = MemStorage::new();
    let c = ctx();
    let mut cache = ScrapeCache::default();
    run(&storage, &c, &mut cache, "a 1\n", 1000);
    assert_eq!(store_end_of_run(&storage, &c, &mut cache, 1000), 0);
    assert!(!is_stale_nan(value(&storage, "a").last().unwrap().1));

    let mut cache = ScrapeCache::default();
    run(&storage, &c, &mut cache, "a 1\n", 2000);
    assert_eq!(
        store_end_of_run(&storage, &c, &mut cache, 2001),
        1 + REPORT_SERIES.len() as u64
    );
    assert!(is_stale_nan(value(&storage, "a").last().unwrap().1));
}
