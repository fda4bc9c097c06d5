//! Ingestion rate limits through the store: a push over the per-stream or the overall bucket, or arriving while
//! too much awaits indexing, is refused whole with a rate-limit error (429 at the HTTP layer), counted by reason,
//! and leaves nothing behind.

use lookout_storage::logs::{LogPushError, LogSink};

use super::*;

fn bytes_line(n: usize) -> String {
    "x".repeat(n)
}

fn refused(store: &LogStore, reason: &str) -> u64 {
    store
        .counters()
        .refused
        .lock()
        .get(reason)
        .copied()
        .unwrap_or(0)
}

#[test]
fn pushes_over_a_rate_limit_are_refused_whole_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    // Slow refills (1 KB/s per stream, 4 KB/s overall) against bursts of 2 KB and 5 KB: the test's own run time
    // refills a few bytes at most, far below the margins used.
    o.limits.per_stream_rate_bytes = 1000;
    o.limits.per_stream_burst_bytes = 2000;
    o.limits.ingestion_rate_bytes = 4000;
    o.limits.ingestion_burst_bytes = 5000;
    let store = LogStore::open(o).unwrap();
    let big = bytes_line(1500);
    store
        .push(vec![stream(&[("app", "a")], &[(1, &big)])])
        .unwrap();

    // Stream a has ~500 bytes left: 1000 more is refused, as a rate limit naming the stream.
    let line = bytes_line(500);
    let err = LogSink::push(
        &store,
        vec![stream(&[("app", "a")], &[(2, &line), (3, &line)])],
    )
    .unwrap_err();
    let LogPushError::RateLimited { reason, message } = &err else {
        panic!("not a rate limit: {err:?}");
    };
    assert_eq!(*reason, "per_stream_rate_limited");
    assert!(
        message.starts_with("Per stream rate limit exceeded (limit: 1000B/sec")
            && message.contains(r#"2 lines totaling 1000B for stream {app="a"}"#),
        "{message}"
    );
    assert_eq!(refused(&store, "per_stream_rate_limited"), 1);

    // Streams b and c are each within their burst, but together above what is left overall (3500 of 5000).
    let two_k = bytes_line(1900);
    let err = LogSink::push(
        &store,
        vec![
            stream(&[("app", "b")], &[(1, &two_k)]),
            stream(&[("app", "c")], &[(1, &two_k)]),
        ],
    )
    .unwrap_err();
    let LogPushError::RateLimited { reason, message } = &err else {
        panic!("not a rate limit: {err:?}");
    };
    assert_eq!(*reason, "rate_limited");
    assert!(
        message.starts_with("Ingestion rate limit exceeded (limit: 3.9KB/sec")
            && message.contains("2 lines totaling 3.7KB"),
        "{message}"
    );
    assert_eq!(refused(&store, "rate_limited"), 1);

    // Nothing of the refused pushes is stored or known, and they took no tokens: b alone now fits.
    assert_eq!(all(&store, 0, i64::MAX).len(), 1);
    assert_eq!(store.label_values("app", &[], 0, i64::MAX), ["a"]);
    store
        .push(vec![stream(&[("app", "b")], &[(1, &two_k)])])
        .unwrap();
    assert_eq!(store.label_values("app", &[], 0, i64::MAX), ["a", "b"]);
    // The refusals reached no WAL record: a reopen replays two entries.
    drop(store);
    let store = LogStore::open(opts(dir.path())).unwrap();
    assert_eq!(store.stats().uncommitted, 2);
}

#[test]
fn zero_rates_do_not_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.limits.per_stream_rate_bytes = 0;
    o.limits.ingestion_rate_bytes = 0;
    o.limits.max_line_bytes = 64 << 20;
    let store = LogStore::open(o).unwrap();
    let huge = bytes_line(20 << 20);
    store
        .push(vec![stream(&[("app", "a")], &[(1, &huge)])])
        .unwrap();
}

#[test]
fn pushes_back_off_while_too_much_awaits_indexing() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.max_uncommitted_bytes = 1000;
    let store = LogStore::open(o).unwrap();
    let line = bytes_line(600);
    // Below the limit before it, so this push is taken (and goes over).
    store
        .push(vec![stream(&[("app", "a")], &[(1, &line), (2, &line)])])
        .unwrap();
    assert_eq!(store.stats().uncommitted_bytes, 2 * (600 + 32));
    let err = LogSink::push(&store, vec![stream(&[("app", "a")], &[(3, "x")])]).unwrap_err();
    let LogPushError::RateLimited { reason, message } = &err else {
        panic!("not a rate limit: {err:?}");
    };
    assert_eq!(*reason, "index_backlog");
    assert!(
        message.contains("1.2KB of entries await indexing (limit 1000B)"),
        "{message}"
    );
    assert_eq!(refused(&store, "index_backlog"), 1);
    // The same refusal is given before a body is decoded, and counted.
    let Some(LogPushError::RateLimited { reason, .. }) = LogSink::refuses_now(&store) else {
        panic!("the full backlog refuses now");
    };
    assert_eq!(reason, "index_backlog");
    assert_eq!(refused(&store, "index_backlog"), 2);
    store.flush().unwrap();
    assert!(LogSink::refuses_now(&store).is_none());
    assert_eq!(store.stats().uncommitted_bytes, 0);
    store
        .push(vec![stream(&[("app", "a")], &[(3, "x")])])
        .unwrap();
    assert_eq!(all(&store, 0, i64::MAX).len(), 3);
}
