//! Retention: whole partitions deleted by age and by the size of everything on disk, and streams whose data is all
//! gone forgotten (also after a reopen).

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::*;

fn line(d: i64, i: i64) -> String {
    // Varied text so the index does not shrink it to nothing.
    format!(
        "day {d} entry {i} request id {:016x} took {}ms",
        (d * 7919 + i) * 104_729,
        i % 997
    )
}

fn day(store: &LogStore, app: &str, d: i64, n: i64) {
    let lines: Vec<(i64, String)> = (0..n)
        .map(|i| (d * DAY + i * 1_000_000, line(d, i)))
        .collect();
    let refs: Vec<(i64, &str)> = lines.iter().map(|(t, l)| (*t, l.as_str())).collect();
    store.push(vec![stream(&[("app", app)], &refs)]).unwrap();
}

#[test]
fn partitions_older_than_the_retention_period_are_deleted_whole_and_their_streams_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.retention_period = Duration::from_secs(31 * 86_400);
    let store = LogStore::open(o.clone()).unwrap();
    day(&store, "gone", 5, 10);
    day(&store, "kept", 8, 10);
    day(&store, "kept", 12, 10);
    store.flush().unwrap();
    assert_eq!(partition_dirs(dir.path()).len(), 3);
    // Now is day 40 + 1h: the cutoff is day 9 + 1h, so days 5 and 8 (ending at 6 and 9) go, day 12 stays.
    let deleted = store
        .enforce_retention(40 * DAY + 3_600_000_000_000)
        .unwrap();
    assert_eq!(deleted, 2);
    assert_eq!(
        partition_dirs(dir.path()),
        ["19700113T000000Z_19700114T000000Z"],
        "the directories are gone"
    );
    assert_eq!(
        store
            .counters()
            .retention_deleted_partitions
            .load(Ordering::Relaxed),
        2
    );
    let left = all(&store, 0, i64::MAX);
    assert_eq!(left.len(), 10);
    assert!(left.iter().all(|(_, ts, _)| *ts >= 12 * DAY));
    // "gone" had entries only in deleted partitions: label queries forget it; "kept" stays.
    assert_eq!(store.label_values("app", &[], 0, i64::MAX), ["kept"]);
    assert_eq!(store.stats().streams, 1);
    // Nothing to do the second time.
    assert_eq!(
        store
            .enforce_retention(40 * DAY + 3_600_000_000_000)
            .unwrap(),
        0
    );
    store.close().unwrap();
    drop(store);
    let streams_file = std::fs::read_to_string(dir.path().join("streams.jsonl")).unwrap();
    assert!(!streams_file.contains("gone"), "rewritten without it");
    let store = LogStore::open(o).unwrap();
    assert_eq!(store.label_values("app", &[], 0, i64::MAX), ["kept"]);
    assert_eq!(all(&store, 0, i64::MAX).len(), 10);
}

#[test]
fn the_oldest_partitions_go_while_everything_on_disk_exceeds_the_retention_size() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.retention_period = Duration::ZERO;
    let store = LogStore::open(o.clone()).unwrap();
    for d in 0..4 {
        day(&store, "a", d, 2000);
    }
    store.flush().unwrap();
    store.close().unwrap();
    drop(store);
    let total = crate::partitions::dir_bytes(dir.path());
    let sizes: Vec<u64> = partition_dirs(dir.path())
        .iter()
        .map(|p| crate::partitions::dir_bytes(&dir.path().join("index").join(p)))
        .collect();
    assert!(sizes.iter().all(|s| *s > 30_000), "{sizes:?}");
    // Room for everything but day 0 and half of day 1: days 0 and 1 go.
    o.retention_size = total - sizes[0] - sizes[1] / 2;
    let store = LogStore::open(o.clone()).unwrap();
    assert_eq!(store.enforce_retention(0).unwrap(), 2);
    assert_eq!(partition_dirs(dir.path()).len(), 2);
    let s = store.stats();
    assert!(s.disk_bytes <= o.retention_size, "{s:?}");
    assert_eq!(s.disk_bytes, crate::partitions::dir_bytes(dir.path()));
    let left = all(&store, 0, i64::MAX);
    assert_eq!(left.len(), 4000);
    assert!(left.iter().all(|(_, ts, _)| *ts >= 2 * DAY));
    store.close().unwrap();
    drop(store);
    // A limit below the newest partition alone deletes everything else but keeps the newest.
    o.retention_size = 1;
    let store = LogStore::open(o).unwrap();
    assert_eq!(store.enforce_retention(0).unwrap(), 1);
    assert_eq!(
        partition_dirs(dir.path()),
        ["19700104T000000Z_19700105T000000Z"]
    );
    assert_eq!(all(&store, 0, i64::MAX).len(), 2000);
}
