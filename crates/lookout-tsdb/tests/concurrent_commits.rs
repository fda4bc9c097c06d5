//! Batches committed from several threads at once: each series gets its samples in WAL order, so the head that
//! replay rebuilds from the WAL is the head the live process had (samples refused live are refused in replay too).

use std::sync::atomic::{AtomicI64, Ordering};

use lookout_model::{Labels, MatchOp, Matcher, TimeRange};
use lookout_storage::{SelectHints, Storage};
use lookout_tsdb::{Tsdb, TsdbOptions};

const THREADS: usize = 4;
const BATCHES: usize = 150;
const SERIES: usize = 200;

fn labels(i: usize) -> Labels {
    Labels::from_pairs(&[("__name__", "m"), ("i", &i.to_string())]).unwrap()
}

/// Every series with its samples, bit for bit.
fn dump(db: &Tsdb) -> Vec<(String, Vec<(i64, u64)>)> {
    let q = db.querier(TimeRange::ALL).unwrap();
    let all = Matcher::new(MatchOp::Equal, "__name__", "m").unwrap();
    q.select(&[all], SelectHints::samples(TimeRange::ALL))
        .unwrap()
        .map(|s| {
            let mut s = s.unwrap();
            let mut v = Vec::new();
            s.samples.collect_into(&mut v);
            (
                s.labels.to_string(),
                v.iter().map(|p| (p.t, p.v.to_bits())).collect(),
            )
        })
        .collect()
}

#[test]
fn concurrent_batches_leave_the_head_replay_rebuilds() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
    // Timestamps from one clock: batches that take theirs in one order and commit in the other race on a series,
    // and the later-committed (older) sample is refused at commit. Replay must refuse the same ones.
    let clock = AtomicI64::new(1_000_000);
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            let (db, clock) = (&db, &clock);
            s.spawn(move || {
                for batch in 0..BATCHES {
                    let mut app = db.appender();
                    // Overlapping, shifting subsets of the series, so shards and series are shared between threads.
                    let first = (thread * 37 + batch * 11) % SERIES;
                    for k in 0..SERIES / 2 {
                        let t = clock.fetch_add(1, Ordering::Relaxed);
                        let i = (first + k) % SERIES;
                        // Refused samples (out of order by now) are the race this test is about: skip them here.
                        let _ = app.append(&labels(i), t, (thread * 1000 + batch) as f64);
                    }
                    app.commit().unwrap();
                }
            });
        }
    });
    let live = dump(&db);
    let stored: usize = live.iter().map(|s| s.1.len()).sum();
    assert_eq!(live.len(), SERIES);
    assert!(
        stored > THREADS * BATCHES * SERIES / 4,
        "{stored} samples stored"
    );
    db.close().unwrap();
    let reopened = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
    let replayed = dump(&reopened);
    assert_eq!(replayed.len(), live.len());
    for (l, r) in live.iter().zip(&replayed) {
        assert_eq!(l.0, r.0);
        assert!(
            l.1 == r.1,
            "{}: {} samples live, {} after replay",
            l.0,
            l.1.len(),
            r.1.len()
        );
    }
}
