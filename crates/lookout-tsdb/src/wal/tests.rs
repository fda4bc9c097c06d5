//! End-to-end tests of the WAL on real files: round trip across segments, truncation, the fsync thread, locking,
//! options; plus the helpers the other test modules share.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lookout_model::Labels;

use super::*;

pub(super) fn opts(segment_bytes: u64) -> WalOptions {
    // An interval that never fires in a test: no fsync cost unless a test asks for it.
    WalOptions {
        segment_bytes,
        fsync_interval: Some(Duration::from_secs(3600)),
        repair: false,
    }
}

/// Deterministic bit patterns, NaN payloads and infinities included.
pub(super) fn value_bits(i: u64, j: u64) -> u64 {
    let x = (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ j.wrapping_mul(0xc2b2_ae3d_27d4_eb4f))
        .rotate_left(17);
    match j % 7 {
        0 => 0x7ff0_0000_0000_0001 | (x & 0x000f_ffff_ffff_fffe), // NaN with a payload
        1 => (j as f64).to_bits(),
        _ => x,
    }
}

/// Batch `i`: one new series and `n` samples spread over the series created so far.
pub(super) fn batch(i: u64, n: u64) -> Vec<WalRecord> {
    let labels =
        Labels::from_pairs(&[("__name__", "m"), ("i", &i.to_string()), ("job", "wal")]).unwrap();
    let samples = (0..n).map(|j| {
        (
            (i * 7 + j) % (i + 1),
            1_000 * i as i64 + j as i64,
            f64::from_bits(value_bits(i, j)),
        )
    });
    vec![
        WalRecord::Series(vec![(i, labels)]),
        WalRecord::Samples(samples.collect()),
    ]
}

/// Records compared bit-exactly (NaN != NaN under PartialEq).
pub(super) fn fingerprint(records: &[WalRecord]) -> Vec<String> {
    records
        .iter()
        .map(|r| match r {
            WalRecord::Series(s) => format!("series {s:?}"),
            WalRecord::Samples(s) => {
                let bits: Vec<_> = s.iter().map(|&(r, t, v)| (r, t, v.to_bits())).collect();
                format!("samples {bits:?}")
            }
        })
        .collect()
}

pub(super) fn replay_all(wal: &Wal) -> Result<(Vec<WalRecord>, ReplayStats), StorageError> {
    let mut out = Vec::new();
    let stats = wal.replay(&mut |r| out.push(r))?;
    Ok((out, stats))
}

/// Collects the text of WARN and ERROR events of the threads that asked for it ([`with_warnings`]).
///
/// Installed once as the global default: tracing's global level filter and callsite interest are shared by all
/// test threads, and a scoped subscriber races with other threads' scoped subscribers coming and going (an event
/// could be filtered out by a level computed without it). A global one never goes away.
struct Warnings;

thread_local! {
    static CAPTURED: std::cell::RefCell<Option<Vec<String>>> = const { std::cell::RefCell::new(None) };
}

struct EventText(String);

impl tracing::field::Visit for EventText {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write as _;
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

impl tracing::Subscriber for Warnings {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        *metadata.level() <= tracing::Level::WARN
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut text = EventText(String::new());
        event.record(&mut text);
        CAPTURED.with(|c| {
            if let Some(lines) = c.borrow_mut().as_mut() {
                lines.push(text.0);
            }
        });
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

pub(super) fn with_warnings<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        tracing::subscriber::set_global_default(Warnings)
            .expect("no other global subscriber in the tsdb unit tests");
    });
    CAPTURED.with(|c| *c.borrow_mut() = Some(Vec::new()));
    let out = f();
    let lines = CAPTURED.with(|c| c.borrow_mut().take()).unwrap_or_default();
    (out, lines)
}

/// Writes `batches` batches, noting the segment and offset each record starts at.
pub(super) fn write_batches(
    dir: &Path,
    opts: WalOptions,
    batches: u64,
) -> (Vec<WalRecord>, Vec<(u64, u64)>) {
    let wal = Wal::open(dir, opts).unwrap();
    let mut all = Vec::new();
    let mut starts = Vec::new();
    for i in 0..batches {
        let records = batch(i, 40);
        for r in &records {
            let before = wal.segments().last().map(|s| (s.number, s.bytes));
            wal.append(std::slice::from_ref(r)).unwrap();
            let after = wal.segments().last().map(|s| (s.number, s.bytes)).unwrap();
            // A record that started a new segment sits right after its header.
            let start = match before {
                Some((n, bytes)) if n == after.0 => bytes,
                _ => SEGMENT_HEADER_LEN,
            };
            starts.push((after.0, start));
        }
        all.extend(records);
    }
    wal.close().unwrap();
    (all, starts)
}

pub(super) const SEGMENT_HEADER_LEN: u64 = segment::SEGMENT_HEADER.len() as u64;

#[test]
fn round_trip_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path(), opts(MIN_SEGMENT_BYTES)).unwrap();
    assert_eq!(replay_all(&wal).unwrap().0.len(), 0, "a new wal is empty");
    let mut written = Vec::new();
    const BATCHES: u64 = 800;
    for i in 0..BATCHES {
        let records = batch(i, 1 + i % 90);
        wal.append(&records).unwrap();
        written.extend(records);
    }
    let segments = wal.segments();
    assert!(segments.len() >= 3, "only {} segments", segments.len());
    assert!(segments.iter().all(|s| s.bytes <= MIN_SEGMENT_BYTES));
    assert!(segments.windows(2).all(|w| w[1].number == w[0].number + 1));
    let metrics = wal.metrics();
    assert_eq!(metrics.records_written, 2 * BATCHES);
    assert_eq!(metrics.batches_written, BATCHES);
    assert_eq!(metrics.segments, segments.len());
    assert_eq!(
        metrics.size_on_disk_bytes,
        segments.iter().map(|s| s.bytes).sum::<u64>()
    );
    wal.close().unwrap();

    let wal = Wal::open(dir.path(), opts(MIN_SEGMENT_BYTES)).unwrap();
    let (replayed, stats) = replay_all(&wal).unwrap();
    assert_eq!(fingerprint(&replayed), fingerprint(&written));
    assert_eq!(stats.segments, segments.len());
    assert_eq!(stats.records, 2 * BATCHES);
    assert_eq!(stats.cut, None);
    assert_eq!(stats.bytes, segments.iter().map(|s| s.bytes).sum::<u64>());

    // Appends after a restart go to a new segment and replay after the old ones.
    wal.append(&batch(BATCHES, 5)).unwrap();
    assert_eq!(
        wal.segments().last().unwrap().number,
        segments.last().unwrap().number + 1
    );
    drop(wal);
    let wal = Wal::open(dir.path(), opts(MIN_SEGMENT_BYTES)).unwrap();
    written.extend(batch(BATCHES, 5));
    assert_eq!(
        fingerprint(&replay_all(&wal).unwrap().0),
        fingerprint(&written)
    );
}

#[test]
fn truncate_before_deletes_only_older_segments() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path(), opts(MIN_SEGMENT_BYTES)).unwrap();
    let mut numbers = Vec::new();
    for i in 0..5 {
        wal.append(&batch(i, 10)).unwrap();
        numbers.push(wal.rotate().unwrap());
    }
    assert_eq!(numbers, vec![1, 2, 3, 4, 5]);
    wal.append(&batch(5, 10)).unwrap();
    let err = wal.truncate_before(7).unwrap_err();
    assert!(err.to_string().contains("still being written"), "{err}");

    wal.truncate_before(3).unwrap();
    let left: Vec<u64> = wal.segments().iter().map(|s| s.number).collect();
    assert_eq!(left, vec![3, 4, 5]);
    let on_disk: Vec<u64> = segment::list_segments(dir.path())
        .unwrap()
        .iter()
        .map(|s| s.number)
        .collect();
    assert_eq!(on_disk, left);
    wal.truncate_before(3).unwrap();
    assert_eq!(
        segment::list_segments(dir.path()).unwrap().len(),
        3,
        "idempotent"
    );
    wal.truncate_before(5).unwrap();
    assert_eq!(
        segment::list_segments(dir.path()).unwrap().len(),
        1,
        "the active segment stays"
    );
    drop(wal);

    let wal = Wal::open(dir.path(), opts(MIN_SEGMENT_BYTES)).unwrap();
    assert_eq!(
        fingerprint(&replay_all(&wal).unwrap().0),
        fingerprint(&batch(5, 10))
    );
}

#[test]
fn fsync_thread_fsyncs_and_stops_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    let interval = WalOptions {
        fsync_interval: Some(Duration::from_millis(20)),
        ..opts(MIN_SEGMENT_BYTES)
    };
    let wal = Wal::open(dir.path(), interval).unwrap();
    wal.append(&batch(0, 10)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while wal.metrics().fsyncs == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let m = wal.metrics();
    assert!(m.fsyncs >= 1, "the background thread never fsynced");
    assert!(m.fsync_seconds_sum > 0.0 && m.fsync_seconds_max > 0.0);
    // Nothing new written: the thread does not fsync again.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(wal.metrics().fsyncs, m.fsyncs);

    let shared = wal.shared_weak();
    drop(wal);
    assert!(
        shared.upgrade().is_none(),
        "the fsync thread still holds the wal after drop"
    );
}

#[test]
fn appends_do_not_fsync_with_an_interval_and_close_wakes_the_thread() {
    let dir = tempfile::tempdir().unwrap();
    let hourly = WalOptions {
        fsync_interval: Some(Duration::from_secs(3600)),
        ..opts(MIN_SEGMENT_BYTES)
    };
    let wal = Wal::open(dir.path(), hourly).unwrap();
    for i in 0..5 {
        wal.append(&batch(i, 3)).unwrap();
    }
    assert_eq!(wal.metrics().fsyncs, 0);
    wal.sync().unwrap();
    assert_eq!(wal.metrics().fsyncs, 1);
    wal.append(&batch(5, 3)).unwrap();
    let shared = wal.shared_weak();
    wal.close().unwrap();
    let shared = shared
        .upgrade()
        .map(|s| s.counters.fsyncs.load(std::sync::atomic::Ordering::Relaxed));
    assert_eq!(
        shared, None,
        "close stopped the hour-long wait of the fsync thread"
    );
}

#[test]
fn fsync_on_every_append_without_an_interval() {
    let dir = tempfile::tempdir().unwrap();
    let every_append = WalOptions {
        fsync_interval: None,
        ..opts(MIN_SEGMENT_BYTES)
    };
    let wal = Wal::open(dir.path(), every_append).unwrap();
    for i in 0..5 {
        wal.append(&batch(i, 3)).unwrap();
    }
    assert_eq!(wal.metrics().fsyncs, 5);
    wal.sync().unwrap();
    assert_eq!(wal.metrics().fsyncs, 5, "nothing new to sync");
}

#[test]
fn replay_after_the_first_append_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path(), opts(MIN_SEGMENT_BYTES)).unwrap();
    wal.append(&batch(0, 1)).unwrap();
    let err = wal.replay(&mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("before the first append"), "{err}");
}

#[test]
fn wal_is_send_and_sync() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<Wal>();
    shareable::<WalRecord>();
}

#[test]
fn a_second_handle_on_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path(), opts(MIN_SEGMENT_BYTES)).unwrap();
    let err = Wal::open(dir.path(), opts(MIN_SEGMENT_BYTES)).unwrap_err();
    assert!(err.to_string().contains("in use"), "{err}");
    drop(wal);
    Wal::open(dir.path(), opts(MIN_SEGMENT_BYTES)).unwrap();
}

#[test]
fn bad_options_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    assert!(Wal::open(dir.path(), opts(1024)).is_err());
    let zero = WalOptions {
        fsync_interval: Some(Duration::ZERO),
        ..WalOptions::default()
    };
    assert!(Wal::open(dir.path(), zero).is_err());
}

#[test]
fn concurrent_appenders_each_keep_their_order() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Arc::new(Wal::open(dir.path(), opts(MIN_SEGMENT_BYTES)).unwrap());
    let threads: Vec<_> = (0..4u64)
        .map(|thread| {
            let wal = wal.clone();
            std::thread::spawn(move || {
                for i in 0..200u64 {
                    let record =
                        WalRecord::Samples(vec![
                            (thread, i as i64, (thread * 1000 + i) as f64);
                            10
                        ]);
                    wal.append(&[record]).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    drop(wal);
    let wal = Wal::open(dir.path(), opts(MIN_SEGMENT_BYTES)).unwrap();
    let mut next = [0i64; 4];
    let stats = wal
        .replay(&mut |record| {
            let WalRecord::Samples(samples) = record else {
                panic!("unexpected series record")
            };
            assert_eq!(samples.len(), 10);
            let (thread, t, v) = samples[0];
            assert_eq!(t, next[thread as usize], "thread {thread} out of order");
            assert_eq!(v, (thread * 1000 + t as u64) as f64);
            assert!(
                samples.iter().all(|s| *s == samples[0]),
                "a batch mixed with another"
            );
            next[thread as usize] += 1;
        })
        .unwrap();
    assert_eq!(next, [200; 4]);
    assert_eq!(stats.records, 800);
}
