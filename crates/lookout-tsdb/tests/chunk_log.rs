//! The head chunk log at start-up: a head rebuilt with it is the head the WAL alone rebuilds (samples, chunks,
//! and the append decisions that follow), and a log that does not match the WAL is dropped.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use lookout_model::{Labels, Matcher, Sample, TimeRange};
use lookout_storage::{SelectHints, Storage};
use lookout_tsdb::{Tsdb, TsdbOptions};

const SERIES: usize = 24;
const STEP: i64 = 15_000;

fn labels(i: usize) -> Labels {
    Labels::from_pairs(&[("__name__", "chunk_log_test"), ("series", &i.to_string())]).unwrap()
}

/// A noisy value: a quantised random walk per series (xorshift, so both runs see the same numbers).
fn value(state: &mut u64, i: usize) -> f64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    ((*state % 1000) as f64) / 8.0 + i as f64
}

/// Writes steps `from..to` of every series (series `i` skips steps divisible by `i + 2`, so chunks cut at
/// different samples), and at every 7th step also re-sends the previous timestamp with another value (refused)
/// and with the same value (ignored). Returns each append's outcome, for comparing runs.
fn ingest(db: &Tsdb, from: i64, to: i64) -> Vec<String> {
    let mut outcomes = Vec::new();
    let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ from as u64;
    for k in from..to {
        let mut a = db.appender();
        for i in 0..SERIES {
            if k % (i as i64 + 2) == 0 {
                continue;
            }
            let t = k * STEP + (i as i64 * 37) % 500;
            let v = value(&mut state, i);
            outcomes.push(format!("{:?}", a.append(&labels(i), t, v)));
        }
        outcomes.push(format!("{:?}", a.commit()));
    }
    outcomes
}

/// Re-sends each series' newest sample with another value, then with its own value.
fn resend_newest(db: &Tsdb) -> Vec<String> {
    let mut outcomes = Vec::new();
    for (labels, samples) in dump(db) {
        let last = *samples.last().unwrap();
        let labels = Labels::from_pairs(
            &labels
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        )
        .unwrap();
        for v in [f64::from_bits(last.1) + 1.0, f64::from_bits(last.1)] {
            let mut a = db.appender();
            outcomes.push(format!("{:?}", a.append(&labels, last.0, v)));
            outcomes.push(format!("{:?}", a.commit()));
        }
    }
    outcomes
}

type Dump = BTreeMap<Vec<(String, String)>, Vec<(i64, u64)>>;

fn dump(db: &Tsdb) -> Dump {
    let q = db.querier(TimeRange::ALL).unwrap();
    let mut out = BTreeMap::new();
    for s in q
        .select(
            &[Matcher::equal("__name__", "chunk_log_test")],
            SelectHints::samples(TimeRange::ALL),
        )
        .unwrap()
    {
        let mut s = s.unwrap();
        let mut v = Vec::new();
        s.samples.collect_into(&mut v);
        let key = s
            .labels
            .iter()
            .map(|l| (l.name.to_string(), l.value.to_string()))
            .collect();
        out.insert(
            key,
            v.iter().map(|s: &Sample| (s.t, s.v.to_bits())).collect(),
        );
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn log_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("head_chunks"))
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn opts() -> TsdbOptions {
    TsdbOptions {
        block_duration: Duration::from_secs(3600),
        ..TsdbOptions::for_test()
    }
}

#[test]
fn the_log_rebuilds_the_head_the_wal_alone_rebuilds() {
    let base = tempfile::tempdir().unwrap();
    let with_log = base.path().join("with-log");
    let wal_only = base.path().join("wal-only");
    let db = Tsdb::open(&with_log, opts()).unwrap();
    // 2.5 hours at 15 s: two blocks and a half, the first persisted (half a block after its end) so replay
    // starts at a boundary.
    ingest(&db, 0, 370);
    db.compact().unwrap();
    assert!(
        db.metrics().persisted_boundary_ms > 0,
        "a block was persisted"
    );
    ingest(&db, 370, 600);
    let before = dump(&db);
    // The log's writer thread counts a record once it has written it, a moment after the seal queued it.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while db.metrics().chunk_log_records_written == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(db.metrics().chunk_log_records_written > 0);
    db.close().unwrap();
    assert!(!log_files(&with_log).is_empty());
    copy_dir(&with_log, &wal_only);
    std::fs::remove_dir_all(wal_only.join("head_chunks")).unwrap();

    let a = Tsdb::open(&with_log, opts()).unwrap();
    let b = Tsdb::open(&wal_only, opts()).unwrap();
    let (ma, mb) = (a.metrics(), b.metrics());
    assert!(
        ma.replay_chunk_log_samples > ma.replayed_samples / 2,
        "most samples came from the log: {} of {}",
        ma.replay_chunk_log_samples,
        ma.replayed_samples
    );
    assert_eq!(mb.replay_chunk_log_samples, 0);
    assert_eq!(ma.replayed_samples, mb.replayed_samples);
    assert_eq!(
        (ma.head_series, ma.head_chunks),
        (mb.head_series, mb.head_chunks)
    );
    assert_eq!(dump(&a), before);
    assert_eq!(dump(&b), before);
    // The restored series refuse and accept exactly as the rebuilt ones do: same newest sample, same chunk cuts.
    assert_eq!(resend_newest(&a), resend_newest(&b));
    assert_eq!(ingest(&a, 600, 700), ingest(&b, 600, 700));
    assert_eq!(dump(&a), dump(&b));
    assert_eq!(a.metrics().head_chunks, b.metrics().head_chunks);
}

#[test]
fn a_log_ahead_of_the_wal_is_dropped_and_the_head_rebuilt_from_the_wal() {
    let base = tempfile::tempdir().unwrap();
    let long = base.path().join("long");
    let short = base.path().join("short");
    // Same series, same ids, same values; one database got further. Its log then claims samples the other's WAL
    // does not hold, as a log surviving a power cut that took the WAL's unsynced tail would.
    let db = Tsdb::open(&long, opts()).unwrap();
    ingest(&db, 0, 200);
    db.close().unwrap();
    let db = Tsdb::open(&short, opts()).unwrap();
    ingest(&db, 0, 100);
    let expected = dump(&db);
    db.close().unwrap();
    std::fs::remove_dir_all(short.join("head_chunks")).unwrap();
    copy_dir(&long.join("head_chunks"), &short.join("head_chunks"));

    let db = Tsdb::open(&short, opts()).unwrap();
    let m = db.metrics();
    assert_eq!(m.replay_chunk_log_samples, 0, "the log was not used");
    assert_eq!(dump(&db), expected);
    assert!(
        log_files(&short).is_empty(),
        "the mismatched log was deleted: {:?}",
        log_files(&short)
    );
}

#[test]
fn with_an_out_of_order_window_no_log_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let opts = TsdbOptions {
        out_of_order_window: Duration::from_secs(600),
        ..opts()
    };
    let db = Tsdb::open(dir.path(), opts.clone()).unwrap();
    ingest(&db, 0, 300);
    let expected = dump(&db);
    assert_eq!(db.metrics().chunk_log_records_written, 0);
    db.close().unwrap();
    assert!(log_files(dir.path()).is_empty());
    let db = Tsdb::open(dir.path(), opts).unwrap();
    assert_eq!(dump(&db), expected);
}

#[test]
fn persistence_deletes_log_files_it_has_passed() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(dir.path(), opts()).unwrap();
    ingest(&db, 0, 480);
    db.persist_now().unwrap();
    db.close().unwrap();
    assert!(
        log_files(dir.path()).is_empty(),
        "everything is persisted, so no log file is needed: {:?}",
        log_files(dir.path())
    );
    let db = Tsdb::open(dir.path(), opts()).unwrap();
    assert_eq!(db.metrics().chunk_log_size_bytes, 0);
}
