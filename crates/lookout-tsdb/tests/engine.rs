//! End-to-end behaviour of the engine through the `Storage` traits: restart persistence, retention, limits,
//! append policy, label queries and concurrency.

use std::collections::BTreeMap;
use std::time::Duration;

use lookout_model::{Labels, MatchOp, Matcher, Sample, TimeRange};
use lookout_storage::{AppendError, SelectHints, Storage};
use lookout_tsdb::{Tsdb, TsdbOptions};

const HOUR: i64 = 3_600_000;

fn labels(name: &str, host: usize, cpu: usize) -> Labels {
    Labels::from_pairs(&[
        ("__name__", name),
        ("instance", &format!("host{host}")),
        ("cpu", &cpu.to_string()),
    ])
    .unwrap()
}

/// Writes `steps` scrapes of `hosts × 4` series every 15 s starting at `start`.
fn ingest(db: &Tsdb, start: i64, steps: i64, hosts: usize) {
    for k in 0..steps {
        let t = start + k * 15_000;
        let mut a = db.appender();
        for h in 0..hosts {
            for cpu in 0..4 {
                let v = (k as f64) * 1.5 + (h * 10 + cpu) as f64;
                a.append(&labels("cpu_seconds", h, cpu), t, v).unwrap();
            }
        }
        a.commit().unwrap();
    }
}

type Dump = BTreeMap<String, Vec<(i64, u64)>>;

fn dump(db: &Tsdb, matchers: &[Matcher], range: TimeRange) -> Dump {
    let q = db.querier(range).unwrap();
    let mut out = BTreeMap::new();
    let mut last: Option<Labels> = None;
    for s in q.select(matchers, SelectHints::samples(range)).unwrap() {
        let mut s = s.unwrap();
        if let Some(l) = &last {
            assert!(*l < s.labels, "series must be sorted by labels");
        }
        last = Some(s.labels.clone());
        let mut v = Vec::new();
        s.samples.collect_into(&mut v);
        assert!(
            v.len() <= s.estimated_samples,
            "estimate {} below actual {}",
            s.estimated_samples,
            v.len()
        );
        assert!(v.windows(2).all(|w| w[0].t < w[1].t));
        out.insert(
            s.labels.to_string(),
            v.iter().map(|s: &Sample| (s.t, s.v.to_bits())).collect(),
        );
    }
    out
}

fn all_cpu() -> Vec<Matcher> {
    vec![Matcher::equal("__name__", "cpu_seconds")]
}

#[test]
fn restart_returns_identical_results_for_head_and_persisted_data() {
    let dir = tempfile::tempdir().unwrap();
    let (before, wide, narrow);
    {
        let db = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
        ingest(&db, 0, 400, 3); // 100 minutes of data: 1 h blocks → part of it persisted.
        db.compact().unwrap();
        let m = db.metrics();
        assert!(m.persisted_samples > 0, "{m:?}");
        assert!(m.head_series == 12);
        ingest(&db, 400 * 15_000, 20, 3);
        before = dump(&db, &all_cpu(), TimeRange::ALL);
        wide = dump(
            &db,
            &[Matcher::new(MatchOp::Regex, "instance", "host[12]").unwrap()],
            TimeRange::new(HOUR - 60_000, HOUR + 60_000),
        );
        narrow = dump(&db, &all_cpu(), TimeRange::new(30_000, 45_000));
        db.close().unwrap();
    }
    assert_eq!(before.len(), 12);
    assert!(before.values().all(|v| v.len() == 420));
    assert_eq!(wide.len(), 8);
    assert!(wide.values().all(|v| v.len() == 9), "{wide:?}");
    assert!(narrow.values().all(|v| v.len() == 2));
    let db = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
    assert_eq!(dump(&db, &all_cpu(), TimeRange::ALL), before);
    assert_eq!(
        dump(
            &db,
            &[Matcher::new(MatchOp::Regex, "instance", "host[12]").unwrap()],
            TimeRange::new(HOUR - 60_000, HOUR + 60_000)
        ),
        wide
    );
    assert_eq!(
        dump(&db, &all_cpu(), TimeRange::new(30_000, 45_000)),
        narrow
    );
    // Everything persisted, reopened again: still identical, and the series come back under their old ids.
    db.persist_now().unwrap();
    assert_eq!(dump(&db, &all_cpu(), TimeRange::ALL), before);
    drop(db);
    let db = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
    assert_eq!(db.metrics().head_series, 0);
    assert_eq!(dump(&db, &all_cpu(), TimeRange::ALL), before);
    ingest(&db, 500 * 15_000, 1, 3);
    assert_eq!(
        db.metrics().series_created,
        0,
        "returning series must reuse their ids"
    );
    let after = dump(&db, &all_cpu(), TimeRange::ALL);
    assert!(after.values().all(|v| v.len() == 421));
    let q = db.querier(TimeRange::ALL).unwrap();
    assert_eq!(
        q.label_values("instance", &[]).unwrap(),
        vec!["host0", "host1", "host2"]
    );
    assert_eq!(
        q.label_names(&[]).unwrap(),
        vec!["__name__", "cpu", "instance"]
    );
    assert_eq!(
        q.label_values("cpu", &[Matcher::equal("instance", "host1")])
            .unwrap(),
        vec!["0", "1", "2", "3"]
    );
}

#[test]
fn append_policy_counts_out_of_order_and_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let opts = TsdbOptions {
        out_of_order_window: Duration::from_secs(60),
        ..TsdbOptions::for_test()
    };
    let db = Tsdb::open(dir.path(), opts.clone()).unwrap();
    let l = labels("x", 0, 0);
    let mut a = db.appender();
    a.append(&l, 100_000, 1.0).unwrap();
    a.append(&l, 100_000, 1.0).unwrap(); // same value: ignored
    assert_eq!(
        a.append(&l, 100_000, 2.0),
        Err(AppendError::DuplicateTimestamp { t: 100_000 })
    );
    a.append(&l, 50_000, 3.0).unwrap(); // inside the window
    assert_eq!(
        a.append(&l, 10_000, 3.0),
        Err(AppendError::OutOfOrder {
            t: 10_000,
            last_t: 100_000
        })
    );
    assert_eq!(a.commit().unwrap().samples, 2);
    let m = db.metrics();
    assert_eq!(
        (
            m.duplicate_ignored,
            m.duplicate_rejected,
            m.out_of_order_rejected
        ),
        (1, 1, 1)
    );
    let got = dump(&db, &[Matcher::equal("__name__", "x")], TimeRange::ALL);
    assert_eq!(
        got.values().next().unwrap(),
        &vec![(50_000, 3f64.to_bits()), (100_000, 1f64.to_bits())]
    );
    // Rollback leaves nothing behind, not even the series.
    let mut a = db.appender();
    a.append(&labels("y", 0, 0), 1, 1.0).unwrap();
    a.rollback();
    assert!(dump(&db, &[Matcher::equal("__name__", "y")], TimeRange::ALL).is_empty());
    assert_eq!(
        db.querier(TimeRange::ALL)
            .unwrap()
            .label_values("__name__", &[])
            .unwrap(),
        vec!["x"]
    );
    // Out-of-order samples survive a restart and persistence.
    drop(db);
    let db = Tsdb::open(dir.path(), opts.clone()).unwrap();
    db.persist_now().unwrap();
    let again = dump(&db, &[Matcher::equal("__name__", "x")], TimeRange::ALL);
    assert_eq!(again, got);
    let mut a = db.appender();
    assert!(matches!(
        a.append(&l, 90_000, 1.0),
        Err(AppendError::OutOfBounds { .. })
    ));
}

#[test]
fn series_limit_refuses_new_series_but_old_ones_keep_ingesting() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(
        dir.path(),
        TsdbOptions {
            max_active_series: 3,
            ..TsdbOptions::for_test()
        },
    )
    .unwrap();
    let mut a = db.appender();
    for cpu in 0..3 {
        a.append(&labels("c", 0, cpu), 1_000, 1.0).unwrap();
    }
    assert_eq!(
        a.append(&labels("c", 0, 3), 1_000, 1.0),
        Err(AppendError::SeriesLimit { limit: 3 })
    );
    a.commit().unwrap();
    let mut a = db.appender();
    for cpu in 0..3 {
        a.append(&labels("c", 0, cpu), 2_000, 2.0).unwrap();
    }
    assert_eq!(
        a.append(&labels("c", 1, 0), 2_000, 1.0),
        Err(AppendError::SeriesLimit { limit: 3 })
    );
    assert_eq!(a.commit().unwrap().samples, 3);
    assert_eq!(db.metrics().series_limit_rejected, 2);
    let got = dump(&db, &[Matcher::equal("__name__", "c")], TimeRange::ALL);
    assert_eq!(got.len(), 3);
    assert!(got.values().all(|v| v.len() == 2));
}

#[test]
fn retention_by_time_deletes_whole_old_parts() {
    let dir = tempfile::tempdir().unwrap();
    let opts = TsdbOptions {
        retention_time: Duration::from_secs(2 * 3600),
        ..TsdbOptions::for_test()
    };
    let db = Tsdb::open(dir.path(), opts).unwrap();
    let mut a = db.appender();
    a.append(&labels("gone_soon", 0, 0), 1_000, 1.0).unwrap();
    a.commit().unwrap();
    ingest(&db, 0, 4 * 240, 1); // four hours, 1 h blocks
    db.persist_now().unwrap();
    assert_eq!(db.metrics().persisted_parts, 4);
    assert_eq!(
        db.apply_retention().unwrap(),
        1,
        "only the block ending before max - 2 h goes"
    );
    let got = dump(&db, &all_cpu(), TimeRange::ALL);
    let first = got.values().map(|v| v[0].0).min().unwrap();
    assert_eq!(first, HOUR, "the first hour is gone, the rest is whole");
    assert!(got.values().all(|v| v.len() == 3 * 240));
    let m = db.metrics();
    assert_eq!(
        (m.retention_deleted_parts, m.retention_deleted_samples),
        (1, 240 * 4 + 1)
    );
    // The series that only lived in the deleted block no longer shows up in label listings.
    let q = db.querier(TimeRange::ALL).unwrap();
    assert_eq!(
        q.label_values("__name__", &[]).unwrap(),
        vec!["cpu_seconds"]
    );
    drop(q);
    let q = db.querier(TimeRange::new(0, HOUR - 1)).unwrap();
    assert!(q.label_values("__name__", &[]).unwrap().is_empty());
    assert!(q.label_names(&[]).unwrap().is_empty());
    drop(q);
    // Its labels left sled and the index; the same labels coming back make a new series that persists normally.
    assert_eq!(db.metrics().retention_deleted_series, 1);
    let created_before = db.metrics().series_created;
    let mut a = db.appender();
    a.append(&labels("gone_soon", 0, 0), 5 * HOUR, 2.0).unwrap();
    a.commit().unwrap();
    assert_eq!(db.metrics().series_created, created_before + 1);
    db.persist_now().unwrap();
    let back = dump(
        &db,
        &[Matcher::equal("__name__", "gone_soon")],
        TimeRange::ALL,
    );
    assert_eq!(
        back.values().next().unwrap(),
        &vec![(5 * HOUR, 2f64.to_bits())]
    );
    drop(db);
    let db = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
    assert_eq!(
        dump(
            &db,
            &[Matcher::equal("__name__", "gone_soon")],
            TimeRange::ALL
        ),
        back
    );
}

#[test]
fn retention_by_size_keeps_data_under_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
    ingest(&db, 0, 6 * 240, 5);
    db.persist_now().unwrap();
    let m = db.metrics();
    let per_part = m.persisted_data_bytes / m.persisted_parts;
    drop(db);
    // The limit counts everything on disk: parts, WAL and sled's files (series table, postings, headers), as
    // sled measures itself once reopened.
    let on_disk = |m: &lookout_tsdb::TsdbMetrics| {
        m.persisted_data_bytes + m.wal_size_bytes + m.sled_size_bytes
    };
    let reopened = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
    let sled = reopened.metrics().sled_size_bytes;
    drop(reopened);
    let limit = m.persisted_data_bytes / 2 + m.wal_size_bytes + sled;
    let opts = TsdbOptions {
        retention_bytes: Some(limit),
        ..TsdbOptions::for_test()
    };
    let db = Tsdb::open(dir.path(), opts).unwrap();
    let deleted = db.apply_retention().unwrap();
    let m2 = db.metrics();
    assert!(
        deleted >= 2,
        "deleted {deleted} of {} parts ({per_part} bytes each)",
        m.persisted_parts
    );
    assert!(on_disk(&m2) <= limit, "{m2:?}");
    assert!(
        on_disk(&m2) + 2 * per_part > limit,
        "deleted more than needed"
    );
    let got = dump(&db, &all_cpu(), TimeRange::ALL);
    let first = got.values().map(|v| v[0].0).min().unwrap();
    assert_eq!(first, deleted as i64 * HOUR, "oldest parts go first");
}

#[test]
fn parallel_appenders_and_queriers_stay_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
    let writers = 4;
    let steps = 300;
    std::thread::scope(|s| {
        for w in 0..writers {
            let db = &db;
            s.spawn(move || ingest_host(db, w, steps));
        }
        for _ in 0..2 {
            let db = &db;
            s.spawn(move || {
                for round in 0..30 {
                    let got = dump(db, &all_cpu(), TimeRange::ALL);
                    for v in got.values() {
                        // Batches are whole: a series never shows a gap in its 15 s grid.
                        assert!(
                            v.windows(2).all(|w| w[1].0 - w[0].0 == 15_000),
                            "gap in {v:?}"
                        );
                    }
                    if round == 10 {
                        db.compact().unwrap();
                    }
                }
            });
        }
    });
    db.persist_now().unwrap();
    let got = dump(&db, &all_cpu(), TimeRange::ALL);
    assert_eq!(got.len(), writers * 4);
    assert!(got.values().all(|v| v.len() == steps as usize));
}

fn ingest_host(db: &Tsdb, host: usize, steps: i64) {
    for k in 0..steps {
        let mut a = db.appender();
        for cpu in 0..4 {
            a.append(&labels("cpu_seconds", host, cpu), k * 15_000, k as f64)
                .unwrap();
        }
        a.commit().unwrap();
    }
}

#[test]
fn metrics_render_in_prometheus_text() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
    ingest(&db, 0, 3, 1);
    let mut w = lookout_model::MetricsWriter::new();
    db.write_metrics(&mut w);
    let out = w.finish();
    assert!(
        out.contains("lookout_tsdb_samples_appended_total 12\n"),
        "{out}"
    );
    assert!(out.contains("lookout_tsdb_head_series 4\n"));
    assert!(out.contains("# TYPE lookout_tsdb_wal_fsyncs_total counter"));
    let st = db.stats(5);
    assert_eq!(st.head_series, 4);
    assert_eq!(st.top_label_names[0], ("cpu".to_string(), 4));
}

#[test]
fn background_thread_persists_blocks_and_truncates_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let opts = TsdbOptions {
        maintenance_interval: Some(Duration::from_millis(20)),
        ..TsdbOptions::for_test()
    };
    let db = Tsdb::open(dir.path(), opts.clone()).unwrap();
    // 3.5 hours in 1 h blocks; a block is persisted half a block after its end: [0,1h) and [1h,2h) here.
    for half_hour in 0..7 {
        ingest(&db, half_hour * 120 * 15_000, 120, 2);
        let last = (half_hour * 120 + 119) * 15_000;
        let due = (last - HOUR / 2).div_euclid(HOUR) * HOUR;
        // Give the thread a bounded chance to catch up.
        for _ in 0..200 {
            if due <= 0 || db.metrics().persisted_boundary_ms as i64 >= due {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let m = db.metrics();
    assert_eq!(m.persisted_boundary_ms as i64, 2 * HOUR, "{m:?}");
    assert!(m.wal_truncations >= 1, "{m:?}");
    assert!(
        m.head_chunks <= 8 * 3,
        "only the unpersisted 1.5 hours stay in the head: {m:?}"
    );
    let before = dump(&db, &all_cpu(), TimeRange::ALL);
    assert!(before.values().all(|v| v.len() == 840));
    drop(db);
    let db = Tsdb::open(dir.path(), opts).unwrap();
    assert_eq!(dump(&db, &all_cpu(), TimeRange::ALL), before);
}

#[test]
fn replay_rebuilds_the_running_head_not_the_series_persistence_emptied() {
    let dir = tempfile::tempdir().unwrap();
    let opts = TsdbOptions {
        max_active_series: 13,
        ..TsdbOptions::for_test()
    };
    let before;
    {
        let db = Tsdb::open(dir.path(), opts.clone()).unwrap();
        // 12 series for 40 minutes, then host0's 4 alone on to 100 minutes: persisting the first 1 h block leaves
        // host1's and host2's series empty, so the head drops them.
        ingest(&db, 0, 160, 3);
        ingest(&db, 160 * 15_000, 240, 1);
        db.compact().unwrap();
        let m = db.metrics();
        assert_eq!(m.persisted_boundary_ms as i64, HOUR, "{m:?}");
        assert_eq!(m.head_series, 4, "{m:?}");
        before = dump(&db, &all_cpu(), TimeRange::ALL);
        db.close().unwrap();
    }
    assert_eq!(before.len(), 12);
    // The WAL still holds the Series records of all 12 (truncation keeps the segment they are in).
    let db = Tsdb::open(dir.path(), opts).unwrap();
    let m = db.metrics();
    assert_eq!(
        m.head_series, 4,
        "only the series the running head held: {m:?}"
    );
    assert_eq!(dump(&db, &all_cpu(), TimeRange::ALL), before);
    // So the active-series limit has the same room as before the restart: 4 + 4 new series fit under 13.
    let mut a = db.appender();
    for cpu in 0..4 {
        a.append(&labels("cpu_seconds", 7, cpu), 100 * 60_000, 1.0)
            .unwrap();
    }
    a.commit().unwrap();
    assert_eq!(db.metrics().head_series, 8);
    assert_eq!(db.metrics().series_limit_rejected, 0);
}

#[test]
fn memory_share_refuses_new_series_when_full() {
    let dir = tempfile::tempdir().unwrap();
    let opts = TsdbOptions {
        memory_budget_bytes: 1 << 20,
        ..TsdbOptions::for_test()
    };
    let db = Tsdb::open(dir.path(), opts).unwrap();
    let mut refused = None;
    for i in 0..100_000 {
        let mut a = db.appender();
        match a.append(&labels("m", i, 0), 1_000, 1.0) {
            Ok(_) => {
                a.commit().unwrap();
            }
            Err(e) => {
                refused = Some((i, e));
                break;
            }
        }
    }
    let (created, e) = refused.expect("the head share must run out");
    assert!(
        matches!(e, AppendError::MemoryLimit { .. }),
        "{e:?} after {created} series"
    );
    assert!(created > 100, "only {created} series fit in ~900 KiB");
    let mut a = db.appender();
    a.append(&labels("m", 0, 0), 2_000, 2.0).unwrap();
    assert_eq!(
        a.commit().unwrap().samples,
        1,
        "existing series keep ingesting"
    );
    assert_eq!(db.metrics().memory_limit_rejected, 1);
}

#[test]
fn damaged_sled_database_is_reported_as_corruption() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
        ingest(&db, 0, 10, 1);
        db.persist_now().unwrap();
    }
    let sled_db = dir.path().join("sled").join("db");
    let len = std::fs::metadata(&sled_db).unwrap().len() as usize;
    std::fs::write(&sled_db, vec![0xa5u8; len]).unwrap();
    match Tsdb::open(dir.path(), TsdbOptions::for_test()) {
        Err(lookout_storage::StorageError::Corruption { path, detail, .. }) => {
            assert!(path.ends_with("sled"), "{path}");
            assert!(
                detail.contains("lost") || detail.contains("move the directory away"),
                "{detail}"
            );
        }
        other => panic!("expected corruption, got {other:?}"),
    }
}
