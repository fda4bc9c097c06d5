//! Store behaviour: push and query through the buffer and the index, filters narrowing exactly, limits refusing a
//! whole push, and the WAL bringing back acknowledged entries after a crash (the store dropped without commit).
//! The other modules: time partitions, retention, durability (crashes between partition commits, pushes during a
//! commit) and rate limits.

mod blocks;
mod durability;
mod partitions;
mod rate_limits;
mod retention;

use std::time::Duration;

use lookout_model::{Labels, Matcher};

use crate::*;

/// One day in ns.
const DAY: i64 = 86_400_000_000_000;

fn opts(dir: &std::path::Path) -> LogStoreOptions {
    LogStoreOptions {
        // Long enough that tests decide when the index commits and retention runs.
        commit_interval: Duration::from_secs(3600),
        maintenance_interval: Duration::from_secs(3600),
        commit_when_half_full: false,
        ..LogStoreOptions::new(dir)
    }
}

/// Every entry (stream labels, ts, line) of `[start, end)`, forward.
fn all(store: &LogStore, start: i64, end: i64) -> Vec<(String, i64, String)> {
    let mut q = query(vec![], vec![]);
    q.start = start;
    q.end = end;
    q.limit = usize::MAX;
    store
        .query(&q)
        .unwrap()
        .into_iter()
        .flat_map(|s| {
            let l = s.labels.to_string();
            s.entries
                .into_iter()
                .map(move |e| (l.clone(), e.ts, e.line))
        })
        .collect()
}

/// The partition directories under `dir/index`, sorted.
fn partition_dirs(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("index"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    v.sort();
    v
}

fn searched(store: &LogStore) -> u64 {
    store
        .counters()
        .partitions_searched
        .load(std::sync::atomic::Ordering::Relaxed)
}

fn stream(pairs: &[(&str, &str)], entries: &[(i64, &str)]) -> PushStream {
    PushStream {
        labels: Labels::from_pairs(pairs).unwrap(),
        entries: entries
            .iter()
            .map(|(ts, line)| Entry {
                ts: *ts,
                line: (*line).to_string(),
                metadata: Vec::new(),
            })
            .collect(),
    }
}

fn query(matchers: Vec<Matcher>, filters: Vec<LineFilter>) -> LogQuery {
    LogQuery {
        matchers,
        filters,
        start: 0,
        end: i64::MAX,
        limit: 100,
        direction: QueryDirection::Forward,
    }
}

fn lines(r: &[StreamEntries]) -> Vec<String> {
    r.iter()
        .flat_map(|s| s.entries.iter().map(|e| e.line.clone()))
        .collect()
}

fn sample(store: &LogStore) {
    store
        .push(vec![
            stream(
                &[("app", "api")],
                &[
                    (1, "GET /pods/pod-123 200"),
                    (2, "level=error msg=\"timeout talking to db\""),
                    (3, "GET /pods/pod-1234 404"),
                ],
            ),
            stream(
                &[("app", "web")],
                &[(2, "pod-123 served"), (4, "ERROR upstream")],
            ),
        ])
        .unwrap();
}

fn check_queries(store: &LogStore) {
    let app = |v: &str| Matcher::equal("app", v);
    let all = query(vec![], vec![]);
    assert_eq!(lines(&store.query(&all).unwrap()).len(), 5);
    let r = store
        .query(&query(
            vec![app("api")],
            vec![LineFilter::Contains("pod-123".into())],
        ))
        .unwrap();
    assert_eq!(
        lines(&r),
        ["GET /pods/pod-123 200", "GET /pods/pod-1234 404"]
    );
    // Substrings inside tokens still match (the index narrows by prefix/suffix, the line check decides).
    let r = store
        .query(&query(vec![], vec![LineFilter::Contains("od-12".into())]))
        .unwrap();
    assert_eq!(lines(&r).len(), 3);
    // Case-sensitive like Loki, although the index lower-cases tokens.
    let r = store
        .query(&query(vec![], vec![LineFilter::Contains("ERROR".into())]))
        .unwrap();
    assert_eq!(lines(&r), ["ERROR upstream"]);
    let r = store
        .query(&query(
            vec![app("api")],
            vec![
                LineFilter::NotContains("pod".into()),
                LineFilter::Matches(regex::Regex::new("time(out)?").unwrap()),
            ],
        ))
        .unwrap();
    assert_eq!(lines(&r), ["level=error msg=\"timeout talking to db\""]);
    // Backward with a limit keeps the newest.
    let mut q = query(vec![], vec![]);
    q.direction = QueryDirection::Backward;
    q.limit = 2;
    let r = store.query(&q).unwrap();
    let mut got: Vec<i64> = r
        .iter()
        .flat_map(|s| s.entries.iter().map(|e| e.ts))
        .collect();
    got.sort();
    assert_eq!(got, [3, 4]);
    // Time range is [start, end).
    let mut q = query(vec![], vec![]);
    q.start = 2;
    q.end = 4;
    assert_eq!(lines(&store.query(&q).unwrap()).len(), 3);
    assert_eq!(store.label_values("app", &[], 0, i64::MAX), ["api", "web"]);
    assert_eq!(store.label_names(&[app("web")], 0, i64::MAX), ["app"]);
}

#[test]
fn entries_are_found_before_and_after_the_index_commits() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(opts(dir.path())).unwrap();
    sample(&store);
    check_queries(&store);
    store.flush().unwrap();
    assert_eq!(store.stats().entries, 5, "all five committed");
    assert_eq!(store.stats().uncommitted, 0, "buffer emptied");
    check_queries(&store);
}

#[test]
fn acknowledged_entries_survive_a_crash_and_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = LogStore::open(opts(dir.path())).unwrap();
        store
            .push(vec![stream(&[("app", "api")], &[(1, "committed")])])
            .unwrap();
        store.flush().unwrap();
        store
            .push(vec![stream(&[("app", "api")], &[(2, "only in the wal")])])
            .unwrap();
        // Dropped without a commit, as kill -9 would leave it.
    }
    let store = LogStore::open(opts(dir.path())).unwrap();
    let r = store.query(&query(vec![], vec![])).unwrap();
    assert_eq!(
        lines(&r),
        ["committed", "only in the wal"],
        "each exactly once"
    );
    store.close().unwrap();
    drop(store);
    let store = LogStore::open(opts(dir.path())).unwrap();
    assert_eq!(
        lines(&store.query(&query(vec![], vec![])).unwrap()).len(),
        2
    );
}

#[test]
fn a_push_breaking_a_limit_stores_nothing_and_names_the_fault() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.limits.max_line_bytes = 10;
    let store = LogStore::open(o).unwrap();
    let err = store
        .push(vec![
            stream(&[("app", "a")], &[(1, "short")]),
            stream(&[("app", "b")], &[(1, "ok"), (2, "far too long a line")]),
        ])
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(r#"{app="b"}"#) && msg.contains("entry 1") && msg.contains("limit of 10"),
        "{msg}"
    );
    assert!(
        store.query(&query(vec![], vec![])).unwrap().is_empty(),
        "nothing stored"
    );
    assert_eq!(
        store.counters().refused.lock().get("line_too_long"),
        Some(&1)
    );
    // Out of order beyond the window.
    let mut o = opts(dir.path());
    o.out_of_order_window_ns = 10;
    drop(store);
    let store = LogStore::open(o).unwrap();
    store
        .push(vec![stream(&[("app", "a")], &[(100, "new")])])
        .unwrap();
    store
        .push(vec![stream(&[("app", "a")], &[(95, "late but in window")])])
        .unwrap();
    let err = store
        .push(vec![stream(&[("app", "a")], &[(50, "too old")])])
        .unwrap_err();
    assert!(
        err.to_string().contains("older than the accepted window"),
        "{err}"
    );
}

#[test]
fn regex_filters_narrow_through_the_index_by_their_literal_prefixes() {
    use lookout_storage::logs::LogSource;
    let dir = tempfile::tempdir().unwrap();
    // One entry per block, so the candidates count lines the index offered.
    let mut o = opts(dir.path());
    o.block.max_lines = 1;
    let store = LogStore::open(o).unwrap();
    let lines: Vec<(i64, String)> = (0..200)
        .map(|i| (i + 1, format!(r#"{{"user":"u{i}","level":"info"}}"#)))
        .collect();
    let entries: Vec<(i64, &str)> = lines.iter().map(|(t, l)| (*t, l.as_str())).collect();
    store
        .push(vec![stream(&[("app", "api")], &entries)])
        .unwrap();
    store.flush().unwrap();
    let scan = |re: &str| {
        let q = query(
            vec![Matcher::equal("app", "api")],
            vec![LineFilter::Matches(regex::Regex::new(re).unwrap())],
        );
        let mut got = Vec::new();
        let stats = store
            .scan(&q, &mut |_, e| {
                got.push(e.line.clone());
                true
            })
            .unwrap();
        (stats.candidates, got)
    };
    // `u1[0-9]` with a closing quote: u10…u19 only; the index offers just lines holding such a token.
    let (candidates, got) = scan(r#"user":"u1[0-9]""#);
    assert_eq!(got.len(), 10, "{got:?}");
    assert!(candidates <= 20, "{candidates} candidates for 10 matches");
    // Case-insensitive regexes narrow too (tokens are lower-cased), and stay exact.
    let (candidates, got) = scan(r#"(?i)"USER":"U7""#);
    assert_eq!(got.len(), 1);
    assert!(candidates <= 2, "{candidates}");
    // No literal prefix: every line is a candidate, the line check decides.
    let (candidates, got) = scan(r"[0-9]{3}");
    assert_eq!(got.len(), 100);
    assert_eq!(candidates, 200);
}
