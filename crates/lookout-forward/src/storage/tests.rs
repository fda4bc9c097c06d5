use super::*;
use crate::queue::QueueOptions;
use crate::record::decode_samples;
use lookout_storage::mem::MemStorage;

fn labels(name: &str, i: usize) -> Labels {
    Labels::from_pairs(&[("__name__", name.to_string()), ("i", i.to_string())]).unwrap()
}

fn queue(dir: &std::path::Path) -> Arc<DiskQueue> {
    Arc::new(DiskQueue::open(dir, QueueOptions::for_max_size(64 << 20)).unwrap())
}

#[test]
fn commits_go_to_the_inner_store_and_one_record_per_queue() {
    let tmp = tempfile::tempdir().unwrap();
    let (qa, qb) = (queue(&tmp.path().join("a")), queue(&tmp.path().join("b")));
    let inner: Arc<dyn Storage> = Arc::new(MemStorage::new());
    let fs = ForwardingStorage::new(
        Some(inner.clone()),
        vec![qa.clone(), qb.clone()],
        ForwardingStorageOptions::default(),
    );
    let mut app = fs.appender();
    let r0 = app.append(&labels("m", 0), 1000, 1.0).unwrap();
    app.append(&labels("m", 1), 1000, 2.0).unwrap();
    app.append_ref(r0, 2000, 3.0).unwrap();
    assert_eq!(app.pending(), 3);
    app.commit().unwrap();
    for q in [&qa, &qb] {
        let recs = q.reader().read(q, 100).unwrap();
        assert_eq!(recs.len(), 1, "one record per commit");
        assert_eq!(recs[0].items, 3);
        let series = decode_samples(&recs[0].payload).unwrap();
        assert_eq!(series[0].labels, labels("m", 0));
        let ts: Vec<i64> = series[0].samples.iter().map(|s| s.t).collect();
        assert_eq!(ts, vec![1000, 2000]);
    }
    // The querier is the inner store's.
    let q = fs.querier(TimeRange::new(0, 10_000)).unwrap();
    let m = Matcher::new(lookout_model::MatchOp::Equal, "__name__", "m").unwrap();
    assert_eq!(
        q.select(&[m], SelectHints::samples(TimeRange::new(0, 10_000)))
            .unwrap()
            .count(),
        2
    );
    // A rolled-back batch is forwarded nowhere.
    let mut app = fs.appender();
    app.append_ref(r0, 3000, 1.0).unwrap();
    app.rollback();
    assert_eq!(qa.stats().appended_items, 3);
}

#[test]
fn agent_mode_assigns_refs_and_queries_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let q = queue(tmp.path());
    let fs = ForwardingStorage::new(None, vec![q.clone()], ForwardingStorageOptions::default());
    let mut app = fs.appender();
    let r = app.append(&labels("m", 0), 1, 1.0).unwrap();
    assert_eq!(
        app.append(&labels("m", 0), 2, 1.0).unwrap(),
        r,
        "same labels, same ref"
    );
    let stats = app.commit().unwrap();
    assert_eq!((stats.samples, stats.series_created), (2, 1));
    assert_eq!(q.stats().appended_items, 2);
    let querier = fs.querier(TimeRange::new(0, 10)).unwrap();
    assert!(querier.label_names(&[]).unwrap().is_empty());
}

#[test]
fn idle_refs_are_collected_and_answer_unknown_ref() {
    let tmp = tempfile::tempdir().unwrap();
    let fs = ForwardingStorage::new(
        None,
        vec![queue(tmp.path())],
        ForwardingStorageOptions {
            memory_limit: 1 << 20,
            series_idle: Duration::ZERO,
            series_overhead_bytes: 0,
        },
    );
    let mut app = fs.appender();
    let r = app.append(&labels("m", 0), 1, 1.0).unwrap();
    app.commit().unwrap();
    fs.gc();
    assert_eq!(fs.series_usage().0, 0);
    let mut app = fs.appender();
    assert_eq!(app.append_ref(r, 2, 1.0), Err(AppendError::UnknownRef(r)));
    // The scraper's fallback: append by labels again.
    assert!(app.append(&labels("m", 0), 2, 1.0).is_ok());
}

#[test]
fn memory_share_refuses_new_series_only() {
    let tmp = tempfile::tempdir().unwrap();
    let fs = ForwardingStorage::new(
        None,
        vec![queue(tmp.path())],
        ForwardingStorageOptions {
            memory_limit: 2_000,
            series_idle: Duration::from_secs(3600),
            series_overhead_bytes: 100,
        },
    );
    let mut app = fs.appender();
    let mut accepted = Vec::new();
    let mut refused = 0;
    for i in 0..100 {
        match app.append(&labels("m", i), 1, 1.0) {
            Ok(r) => accepted.push(r),
            Err(AppendError::MemoryLimit { limit, used }) => {
                assert_eq!(limit, 2_000);
                assert!(used <= limit);
                refused += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(!accepted.is_empty() && refused > 0);
    assert!(fs.series_usage().1 <= 2_000);
    // Known series still work.
    app.append_ref(accepted[0], 2, 1.0).unwrap();
    app.commit().unwrap();
}

#[test]
fn a_large_commit_is_written_as_bounded_records_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let q = queue(tmp.path());
    let fs = ForwardingStorage::new(None, vec![q.clone()], ForwardingStorageOptions::default());
    let mut app = fs.appender();
    let n = 2 * RECORD_MAX_SAMPLES + 904;
    for i in 0..n {
        app.append(&labels("big", i), 1000, i as f64).unwrap();
    }
    app.commit().unwrap();
    let mut reader = q.reader();
    let records = reader.read(&q, usize::MAX).unwrap();
    let sizes: Vec<u32> = records.iter().map(|r| r.items).collect();
    assert_eq!(
        sizes,
        [RECORD_MAX_SAMPLES as u32, RECORD_MAX_SAMPLES as u32, 904]
    );
    let values: Vec<f64> = records
        .iter()
        .flat_map(|r| decode_samples(&r.payload).unwrap())
        .flat_map(|s| s.samples)
        .map(|s| s.v)
        .collect();
    assert_eq!(values, (0..n).map(|i| i as f64).collect::<Vec<_>>());
}

#[test]
fn record_chunks_never_split_a_series() {
    let s = |n: usize| crate::record::SeriesSamples {
        labels: labels("m", n),
        samples: vec![lookout_model::Sample::new(0, 0.0); n],
    };
    let series = [s(3), s(3), s(10), s(1), s(2)];
    let sizes: Vec<Vec<usize>> = record_chunks(&series, 6)
        .map(|c| c.iter().map(|x| x.samples.len()).collect())
        .collect();
    assert_eq!(sizes, [vec![3, 3], vec![10], vec![1, 2]]);
}
