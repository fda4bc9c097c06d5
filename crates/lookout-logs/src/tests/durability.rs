//! Durability: a crash between two partition commits loses nothing and duplicates nothing after replay; a push
//! completes while the commit thread is inside a commit, and reads see every entry exactly once throughout.

use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::Duration;

use super::*;

fn wal_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            let n = e.as_ref().unwrap().file_name();
            n.to_string_lossy().starts_with("wal-")
        })
        .count()
}

fn lines_of(store: &LogStore) -> Vec<String> {
    let mut v: Vec<String> = all(store, 0, i64::MAX).into_iter().map(|e| e.2).collect();
    v.sort();
    v
}

#[test]
fn a_crash_between_two_partition_commits_loses_and_duplicates_nothing() {
    for crash_after in [0, 1] {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = LogStore::open(opts(dir.path())).unwrap();
            store
                .push(vec![
                    stream(&[("app", "a")], &[(10 * DAY, "a1")]),
                    stream(&[("app", "b")], &[(11 * DAY, "b1")]),
                ])
                .unwrap();
            store.flush().unwrap();
            // Both partitions recorded the first record; its WAL file is gone.
            store
                .push(vec![stream(&[("app", "a")], &[(10 * DAY + 1, "a2")])])
                .unwrap();
            store
                .push(vec![stream(&[("app", "b")], &[(11 * DAY + 1, "b2")])])
                .unwrap();
            store
                .push(vec![stream(&[("app", "a")], &[(10 * DAY + 2, "a3")])])
                .unwrap();
            // The next cycle commits day 10 (oldest first) and "crashes" before day 11 (or before both).
            store
                .inner
                .hooks
                .crash_after
                .store(crash_after, Ordering::Relaxed);
            let err = store.flush().unwrap_err();
            assert!(err.to_string().contains("simulated crash"), "{err}");
            assert!(
                wal_files(dir.path()) >= 1,
                "the WAL still holds the records"
            );
            // Dropped without a commit, as kill -9 would leave it.
        }
        let store = LogStore::open(opts(dir.path())).unwrap();
        // Replay re-added exactly what each partition lacks.
        let expected_replayed = if crash_after == 0 { 3 } else { 1 };
        assert_eq!(
            store.stats().uncommitted,
            expected_replayed,
            "crash_after {crash_after}"
        );
        assert_eq!(
            lines_of(&store),
            ["a1", "a2", "a3", "b1", "b2"],
            "each exactly once"
        );
        store.flush().unwrap();
        assert_eq!(lines_of(&store), ["a1", "a2", "a3", "b1", "b2"]);
        assert_eq!(store.stats().entries, 5);
        store.close().unwrap();
        drop(store);
        let store = LogStore::open(opts(dir.path())).unwrap();
        assert_eq!(store.stats().uncommitted, 0);
        assert_eq!(lines_of(&store), ["a1", "a2", "a3", "b1", "b2"]);
        assert_eq!(
            wal_files(dir.path()),
            1,
            "one (empty) WAL file once all is committed"
        );
    }
}

#[test]
fn a_push_completes_while_a_commit_is_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(LogStore::open(opts(dir.path())).unwrap());
    store
        .push(vec![stream(
            &[("app", "a")],
            &[(1, "before"), (2, "before too")],
        )])
        .unwrap();
    let (entered_tx, entered) = mpsc::channel::<()>();
    let (release, release_rx) = mpsc::channel::<()>();
    let release_rx = parking_lot::Mutex::new(release_rx);
    *store.inner.hooks.during_commit.lock() = Some(Box::new(move || {
        entered_tx.send(()).unwrap();
        // Held inside the commit (the buffer taken, nothing committed yet) until the test lets go.
        release_rx
            .lock()
            .recv_timeout(Duration::from_secs(30))
            .unwrap();
    }));
    let committer = {
        let store = store.clone();
        std::thread::spawn(move || store.flush())
    };
    entered.recv_timeout(Duration::from_secs(30)).unwrap();
    // The commit is in progress: a push and a read must not wait for it.
    let (done_tx, done) = mpsc::channel();
    {
        let store = store.clone();
        std::thread::spawn(move || {
            let pushed = store.push(vec![stream(&[("app", "a")], &[(3, "during")])]);
            let read = lines_of(&store);
            done_tx
                .send((pushed.map_err(|e| e.to_string()), read))
                .unwrap();
        });
    }
    let (pushed, read) = done
        .recv_timeout(Duration::from_secs(10))
        .expect("push and read completed while the commit was held");
    assert_eq!(pushed.unwrap(), 1);
    assert_eq!(
        read,
        ["before", "before too", "during"],
        "taken entries still readable, once"
    );
    release.send(()).unwrap();
    committer.join().unwrap().unwrap();
    assert_eq!(
        store.stats().entries,
        2,
        "the commit held the entries taken before it"
    );
    assert_eq!(
        store.stats().uncommitted,
        1,
        "the push during it waits for the next"
    );
    assert_eq!(lines_of(&store), ["before", "before too", "during"]);
    *store.inner.hooks.during_commit.lock() = None;
    store.flush().unwrap();
    assert_eq!(lines_of(&store), ["before", "before too", "during"]);
    assert_eq!(store.stats().entries, 3);
    // Reopen: the WAL records after the first commit (the push during it) are committed, nothing replayed twice.
    store.close().unwrap();
    drop(store);
    let store = LogStore::open(opts(dir.path())).unwrap();
    assert_eq!(store.stats().uncommitted, 0);
    assert_eq!(lines_of(&store), ["before", "before too", "during"]);
}
