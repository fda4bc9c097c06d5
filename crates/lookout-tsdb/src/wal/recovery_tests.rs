//! Recovery tests on damaged files: torn tails, flipped bytes, missing and torn segments, with and without repair.

use std::fs::File;
use std::path::Path;

use super::tests::{batch, fingerprint, opts, replay_all, with_warnings, write_batches};
use super::*;

#[test]
fn torn_tail_is_cut_at_the_last_complete_record_with_a_warning() {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for round in 0..12 {
        let dir = tempfile::tempdir().unwrap();
        let (written, starts) = write_batches(dir.path(), opts(MIN_SEGMENT_BYTES), 60);
        let segments = segment::list_segments(dir.path()).unwrap();
        let last = segments.last().unwrap();
        let (last_number, last_start) = *starts.last().unwrap();
        assert_eq!(last_number, last.number);
        // A pseudo-random cut strictly inside the last record: in its frame header or its payload.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let cut = last_start + 1 + seed % (last.bytes - last_start - 1);
        File::options()
            .write(true)
            .open(&last.path)
            .unwrap()
            .set_len(cut)
            .unwrap();

        let wal = Wal::open(dir.path(), opts(MIN_SEGMENT_BYTES)).unwrap();
        let (result, warnings) = with_warnings(|| replay_all(&wal));
        let (replayed, stats) = result.unwrap();
        assert_eq!(
            fingerprint(&replayed),
            fingerprint(&written[..written.len() - 1]),
            "round {round}, cut {cut}"
        );
        let cut_info = stats.cut.expect("a cut is reported");
        assert_eq!(
            (cut_info.reason, cut_info.offset),
            (CutReason::TornTail, last_start)
        );
        assert_eq!(cut_info.path, last.path);
        let file_name = last.path.display().to_string();
        assert!(
            warnings
                .iter()
                .any(|w| w.contains(&file_name) && w.contains(&format!("offset={last_start}"))),
            "no warning naming {file_name} and offset {last_start}: {warnings:?}"
        );
        assert_eq!(wal.metrics().tail_truncations, 1);
        assert_eq!(std::fs::metadata(&last.path).unwrap().len(), last_start);

        // The log goes on cleanly after the cut.
        wal.append(&batch(1000, 3)).unwrap();
        drop(wal);
        let wal = Wal::open(dir.path(), opts(MIN_SEGMENT_BYTES)).unwrap();
        let (replayed, stats) = replay_all(&wal).unwrap();
        assert_eq!(stats.cut, None);
        assert_eq!(replayed.len(), written.len() - 1 + 2);
    }
}

#[test]
fn torn_tail_is_cut_even_when_appending_without_replay() {
    let dir = tempfile::tempdir().unwrap();
    let (written, starts) = write_batches(dir.path(), opts(MIN_SEGMENT_BYTES), 10);
    let last = segment::list_segments(dir.path()).unwrap().pop().unwrap();
    let (_, last_start) = *starts.last().unwrap();
    File::options()
        .write(true)
        .open(&last.path)
        .unwrap()
        .set_len(last_start + 3)
        .unwrap();

    let wal = Wal::open(dir.path(), opts(MIN_SEGMENT_BYTES)).unwrap();
    wal.append(&batch(99, 2)).unwrap();
    assert_eq!(wal.metrics().tail_truncations, 1);
    drop(wal);
    // Without that cut the torn record would now sit in a non-last segment and refuse replay.
    let wal = Wal::open(dir.path(), opts(MIN_SEGMENT_BYTES)).unwrap();
    let (replayed, stats) = replay_all(&wal).unwrap();
    assert_eq!(stats.cut, None);
    let mut expected = written[..written.len() - 1].to_vec();
    expected.extend(batch(99, 2));
    assert_eq!(fingerprint(&replayed), fingerprint(&expected));
}

/// Flips one payload byte of record `index` and returns (segment path, record offset).
fn flip_payload_byte(dir: &Path, starts: &[(u64, u64)], index: usize) -> (std::path::PathBuf, u64) {
    let (number, offset) = starts[index];
    let path = segment::segment_path(dir, number);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[(offset + 9 + 5) as usize] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();
    (path, offset)
}

#[test]
fn corruption_in_an_older_segment_is_refused_then_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let (written, starts) = write_batches(dir.path(), opts(MIN_SEGMENT_BYTES), 700);
    let segments = segment::list_segments(dir.path()).unwrap();
    assert!(segments.len() >= 3);
    // A record in the middle of the first segment.
    let in_first: Vec<usize> = (0..starts.len())
        .filter(|&i| starts[i].0 == segments[0].number)
        .collect();
    let victim = in_first[in_first.len() / 2];
    let (path, offset) = flip_payload_byte(dir.path(), &starts, victim);

    let wal = Wal::open(dir.path(), opts(MIN_SEGMENT_BYTES)).unwrap();
    let mut seen = 0;
    match wal
        .replay(&mut |_| seen += 1)
        .map(|stats| (Vec::<WalRecord>::new(), stats))
    {
        Err(StorageError::Corruption {
            path: p,
            offset: o,
            detail,
        }) => {
            assert_eq!(p, path.display().to_string());
            assert_eq!(o, offset);
            assert!(detail.contains("checksum mismatch"), "{detail}");
            assert!(
                detail.contains("--wal-repair (storage.wal.repair: true)"),
                "{detail}"
            );
        }
        Err(other) => panic!("expected corruption, got {other:?}"),
        Ok((records, stats)) => panic!(
            "expected corruption, replayed {} records: {stats:?}",
            records.len()
        ),
    }
    assert_eq!(seen, victim, "records before the damage were visited");
    drop(wal);
    assert_eq!(
        segment::list_segments(dir.path()).unwrap().len(),
        segments.len(),
        "refusing deletes nothing"
    );

    let repair = WalOptions {
        repair: true,
        ..opts(MIN_SEGMENT_BYTES)
    };
    let wal = Wal::open(dir.path(), repair.clone()).unwrap();
    let (result, warnings) = with_warnings(|| replay_all(&wal));
    let (replayed, stats) = result.unwrap();
    assert_eq!(fingerprint(&replayed), fingerprint(&written[..victim]));
    let cut = stats.cut.unwrap();
    assert_eq!(
        (cut.reason, cut.offset, cut.segments_deleted),
        (CutReason::Repaired, offset, segments.len() - 1)
    );
    assert!(warnings.iter().any(
        |w| w.contains(&path.display().to_string()) && w.contains(&format!("offset={offset}"))
    ));
    assert_eq!(wal.metrics().repairs, 1);
    let left = segment::list_segments(dir.path()).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].bytes, offset);
    // New segments continue right after the cut one: no gap for the next start to trip over.
    wal.append(&batch(9_999, 2)).unwrap();
    assert_eq!(wal.segments().last().unwrap().number, left[0].number + 1);
    drop(wal);
    let wal = Wal::open(dir.path(), opts(MIN_SEGMENT_BYTES)).unwrap();
    assert_eq!(
        replay_all(&wal).unwrap().0.len(),
        victim + 2,
        "the repaired log replays cleanly"
    );
}

#[test]
fn corruption_mid_file_followed_by_valid_records_is_not_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let (written, starts) = write_batches(dir.path(), opts(64 << 20), 20);
    assert!(starts.iter().all(|s| s.0 == starts[0].0), "one segment");
    let victim = 17;
    let (path, offset) = flip_payload_byte(dir.path(), &starts, victim);
    let wal = Wal::open(dir.path(), opts(64 << 20)).unwrap();
    match replay_all(&wal) {
        Err(StorageError::Corruption {
            path: p, offset: o, ..
        }) => assert_eq!((p, o), (path.display().to_string(), offset)),
        Err(other) => panic!("expected corruption, got {other:?}"),
        Ok((records, stats)) => panic!(
            "expected corruption, replayed {} records: {stats:?}",
            records.len()
        ),
    }
    drop(wal);
    let wal = Wal::open(
        dir.path(),
        WalOptions {
            repair: true,
            ..opts(64 << 20)
        },
    )
    .unwrap();
    let (replayed, _) = replay_all(&wal).unwrap();
    assert_eq!(fingerprint(&replayed), fingerprint(&written[..victim]));
}

#[test]
fn a_missing_middle_segment_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    write_batches(dir.path(), opts(MIN_SEGMENT_BYTES), 700);
    let segments = segment::list_segments(dir.path()).unwrap();
    std::fs::remove_file(&segments[1].path).unwrap();
    let wal = Wal::open(dir.path(), opts(MIN_SEGMENT_BYTES)).unwrap();
    match replay_all(&wal) {
        Err(StorageError::Corruption {
            path,
            offset: 0,
            detail,
        }) => {
            assert_eq!(path, segments[1].path.display().to_string());
            assert!(detail.contains("missing"), "{detail}");
        }
        Err(other) => panic!("expected corruption, got {other:?}"),
        Ok((records, stats)) => panic!(
            "expected corruption, replayed {} records: {stats:?}",
            records.len()
        ),
    }
}

#[test]
fn a_torn_segment_header_keeps_its_number() {
    let dir = tempfile::tempdir().unwrap();
    let (written, _) = write_batches(dir.path(), opts(MIN_SEGMENT_BYTES), 5);
    // A crash right after creating the next segment, before its header was written.
    let torn = segment::segment_path(dir.path(), 1);
    std::fs::write(&torn, b"LKW").unwrap();
    let wal = Wal::open(dir.path(), opts(MIN_SEGMENT_BYTES)).unwrap();
    let (replayed, stats) = replay_all(&wal).unwrap();
    assert_eq!(fingerprint(&replayed), fingerprint(&written));
    let cut = stats.cut.unwrap();
    assert_eq!(
        (cut.reason, cut.offset, cut.path),
        (CutReason::TornTail, 0, torn.clone())
    );
    assert_eq!(std::fs::read(&torn).unwrap(), segment::SEGMENT_HEADER);
    wal.append(&batch(5, 1)).unwrap();
    assert_eq!(
        wal.segments().iter().map(|s| s.number).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    drop(wal);
    let wal = Wal::open(dir.path(), opts(MIN_SEGMENT_BYTES)).unwrap();
    let (replayed, stats) = replay_all(&wal).unwrap();
    assert_eq!((replayed.len(), stats.cut), (written.len() + 2, None));
}

#[test]
fn any_flipped_byte_is_caught_and_repair_keeps_an_exact_prefix() {
    let base = tempfile::tempdir().unwrap();
    let (written, _) = write_batches(base.path(), opts(MIN_SEGMENT_BYTES), 300);
    let segments = segment::list_segments(base.path()).unwrap();
    assert!(segments.len() >= 2);
    let total: u64 = segments.iter().map(|s| s.bytes).sum();
    let expected = fingerprint(&written);
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    for _ in 0..150 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // A byte position anywhere in the log, headers and frame headers included.
        let mut at = seed % total;
        let victim = segments.iter().find(|s| {
            let inside = at < s.bytes;
            if !inside {
                at -= s.bytes;
            }
            inside
        });
        let victim = victim.unwrap();
        let dir = tempfile::tempdir().unwrap();
        for s in &segments {
            std::fs::copy(&s.path, dir.path().join(s.path.file_name().unwrap())).unwrap();
        }
        let path = dir.path().join(victim.path.file_name().unwrap());
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[at as usize] ^= 1 << (seed >> 61);
        std::fs::write(&path, &bytes).unwrap();

        let repair = WalOptions {
            repair: true,
            ..opts(MIN_SEGMENT_BYTES)
        };
        let wal = Wal::open(dir.path(), repair).unwrap();
        let (replayed, stats) = replay_all(&wal).unwrap();
        let cut = stats
            .cut
            .unwrap_or_else(|| panic!("flip at {at} of {} went unnoticed", path.display()));
        assert!(
            replayed.len() < written.len(),
            "a damaged record was replayed"
        );
        assert_eq!(
            fingerprint(&replayed),
            expected[..replayed.len()],
            "replay is not a prefix"
        );
        assert!(
            cut.offset <= at || cut.path != path,
            "cut at {} after the damage at {at}",
            cut.offset
        );
    }
}
