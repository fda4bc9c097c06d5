//! Time partitions: entries land in their day's partition, a query searches only the partitions overlapping its
//! range, the writers share the heap budget, and a partition that stops receiving writes is merged.

use std::time::{Duration, Instant};

use lookout_model::Matcher;
use lookout_storage::logs::LogSource;

use super::*;

/// `n` entries of stream `app` on day `d` (one every minute from 01:00).
fn day_stream(app: &str, d: i64, n: i64) -> PushStream {
    let entries: Vec<(i64, String)> = (0..n)
        .map(|i| {
            (
                d * DAY + 3_600_000_000_000 + i * 60_000_000_000,
                format!("{app} day{d} line{i}"),
            )
        })
        .collect();
    let refs: Vec<(i64, &str)> = entries.iter().map(|(t, l)| (*t, l.as_str())).collect();
    stream(&[("app", app)], &refs)
}

#[test]
fn a_query_searches_only_the_partitions_overlapping_its_range() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(opts(dir.path())).unwrap();
    for d in [10, 11, 12] {
        store.push(vec![day_stream("api", d, 5)]).unwrap();
    }
    store.flush().unwrap();
    assert_eq!(
        partition_dirs(dir.path()),
        [
            "19700111T000000Z_19700112T000000Z",
            "19700112T000000Z_19700113T000000Z",
            "19700113T000000Z_19700114T000000Z"
        ]
    );
    assert_eq!(store.stats().partitions, 3);
    // Uncommitted entries of day 11 are merged in, each once.
    // (Another stream: api's newest is on day 12, so day 11 is outside its out-of-order window.)
    store
        .push(vec![stream(
            &[("app", "web")],
            &[(11 * DAY + 7_200_000_000_001, "late")],
        )])
        .unwrap();

    let before = searched(&store);
    let got = all(&store, 11 * DAY, 12 * DAY);
    assert_eq!(searched(&store) - before, 1, "only day 11 searched");
    assert_eq!(got.len(), 6);
    assert!(
        got.iter()
            .all(|(_, ts, _)| (11 * DAY..12 * DAY).contains(ts))
    );
    assert_eq!(got.iter().filter(|e| e.2 == "late").count(), 1);

    // A range straddling midnight searches both days.
    let before = searched(&store);
    assert_eq!(
        all(&store, 11 * DAY + 1, 12 * DAY + 2 * 3_600_000_000_000).len(),
        6 + 5
    );
    assert_eq!(searched(&store) - before, 2);

    // Backward with a limit met by the newest partition leaves the older ones unsearched.
    let before = searched(&store);
    let mut q = query(vec![], vec![]);
    q.direction = QueryDirection::Backward;
    q.limit = 3;
    let r = store.query(&q).unwrap();
    assert_eq!(searched(&store) - before, 1);
    let mut ts: Vec<i64> = r
        .iter()
        .flat_map(|s| s.entries.iter().map(|e| e.ts))
        .collect();
    ts.sort();
    assert!(ts.iter().all(|t| *t >= 12 * DAY), "{ts:?}");
    // A scan over everything sees the three days and the buffer in time order, both ways.
    for direction in [QueryDirection::Forward, QueryDirection::Backward] {
        let mut q = query(vec![], vec![]);
        q.direction = direction;
        let mut ts = Vec::new();
        store
            .scan(&q, &mut |_, e| {
                ts.push(e.ts);
                true
            })
            .unwrap();
        assert_eq!(ts.len(), 16);
        if direction == QueryDirection::Backward {
            ts.reverse();
        }
        assert!(ts.windows(2).all(|w| w[0] <= w[1]), "{direction:?}: {ts:?}");
    }
}

#[test]
fn volume_counts_every_partition_and_the_buffer_from_fast_fields() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(opts(dir.path())).unwrap();
    store.push(vec![day_stream("api", 3, 4)]).unwrap();
    store.push(vec![day_stream("api", 4, 2)]).unwrap();
    store.flush().unwrap();
    store.push(vec![day_stream("web", 4, 3)]).unwrap();
    let before = searched(&store);
    let v = store.volume(&[], 0, 10 * DAY, DAY).unwrap();
    assert_eq!(searched(&store) - before, 2);
    let api_len = |d: i64, n: i64| {
        (0..n)
            .map(|i| format!("api day{d} line{i}").len() as u64)
            .sum::<u64>()
    };
    assert_eq!(v.len(), 2);
    assert_eq!(v[0].labels.get("app"), Some("api"));
    assert_eq!(
        v[0].buckets,
        [(3 * DAY, 4, api_len(3, 4)), (4 * DAY, 2, api_len(4, 2))]
    );
    assert_eq!(v[1].buckets.len(), 1);
    assert_eq!((v[1].buckets[0].0, v[1].buckets[0].1), (4 * DAY, 3));
    // One day: one partition.
    let before = searched(&store);
    let v = store
        .volume(&[Matcher::equal("app", "api")], 4 * DAY, 5 * DAY, DAY)
        .unwrap();
    assert_eq!(searched(&store) - before, 1);
    assert_eq!(v[0].buckets, [(4 * DAY, 2, api_len(4, 2))]);
}

#[test]
fn writers_share_the_heap_budget_one_when_it_cannot_give_two_15_mb() {
    for (heap, writers) in [(20_000_000, 1), (40_000_000, 2)] {
        let dir = tempfile::tempdir().unwrap();
        let mut o = opts(dir.path());
        o.writer_heap_bytes = heap;
        let store = LogStore::open(o).unwrap();
        // Three partitions in one commit: the least recently written writer is committed and closed first.
        store
            .push(vec![
                day_stream("a", 20, 3),
                day_stream("b", 21, 3),
                day_stream("c", 22, 3),
            ])
            .unwrap();
        store.flush().unwrap();
        let s = store.stats();
        assert_eq!(
            (s.partitions, s.writers, s.entries),
            (3, writers, 9),
            "heap {heap}"
        );
        assert_eq!(all(&store, 0, i64::MAX).len(), 9);
        // Again across the oldest and the newest day, twice: the writer already open goes first, nothing is left
        // waiting for a partition still closing.
        for round in 0..2 {
            store
                .push(vec![
                    day_stream(&format!("d{round}"), 20, 2),
                    day_stream(&format!("e{round}"), 22, 2),
                ])
                .unwrap();
            store.flush().unwrap();
            assert_eq!(store.stats().uncommitted, 0, "heap {heap} round {round}");
        }
        assert_eq!(store.stats().entries, 17);
        store.close().unwrap();
        drop(store);
        let store = LogStore::open(opts(dir.path())).unwrap();
        assert_eq!(
            store.stats().uncommitted,
            0,
            "every partition recorded the batch"
        );
        assert_eq!(all(&store, 0, i64::MAX).len(), 17);
    }
}

#[test]
fn a_partition_that_stops_receiving_writes_is_merged_into_one_segment() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.writer_idle = Duration::ZERO;
    let store = LogStore::open(o).unwrap();
    // Five commits to day 30: five segments (fewer than the merge policy's eight).
    for i in 0..5 {
        store
            .push(vec![stream(&[("app", "a")], &[(30 * DAY + i, "x")])])
            .unwrap();
        store.flush().unwrap();
    }
    let segments = |store: &LogStore| store.stats().segments;
    assert_eq!(segments(&store), 5);
    // The newest partition is closed when idle but not merged; once day 31 exists, day 30 is.
    crate::commit::tick(&store.inner);
    assert_eq!(store.stats().writers, 0);
    store
        .push(vec![stream(&[("app", "a")], &[(31 * DAY, "y")])])
        .unwrap();
    store.flush().unwrap();
    // Day 30 has no writer now: the maintenance run merges it on a background thread.
    crate::commit::maintenance(&store.inner, 0);
    let deadline = Instant::now() + Duration::from_secs(30);
    while segments(&store) != 2 {
        assert!(
            Instant::now() < deadline,
            "merge did not finish: {:?}",
            store.stats()
        );
        std::thread::sleep(Duration::from_millis(20));
        // Joins finished background closes and publishes their searchers; starts the merge once day 30 is free.
        crate::commit::tick(&store.inner);
        crate::commit::maintenance(&store.inner, 0);
    }
    assert_eq!(all(&store, 0, i64::MAX).len(), 6, "each entry once");
    store.close().unwrap();
}
