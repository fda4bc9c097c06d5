use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::load::{LogFile, read_file};
use super::*;

fn rec(id: u32, min_t: i64, max_t: i64, prev_max_t: i64, len: u32) -> ChunkRecord {
    ChunkRecord {
        id,
        min_t,
        max_t,
        prev_max_t,
        last_v: (max_t as f64).to_bits(),
        len,
        bytes: Arc::from(vec![id as u8; len as usize]),
    }
}

/// Writes the records through a running log and closes it.
fn write_log(dir: &Path, records: &[ChunkRecord]) {
    let log = ChunkLog::start(dir, Vec::new()).unwrap();
    for r in records {
        log.send(r.clone());
    }
    log.sync();
    assert_eq!(
        log.stats.written.load(Ordering::Relaxed),
        records.len() as u64
    );
    log.close();
}

fn chain_bounds(loaded: &LoadedChunks, id: u32) -> Option<Vec<(i64, i64, u32)>> {
    loaded
        .chains
        .get(&id)
        .map(|c| c.chunks.iter().map(|s| (s.min_t, s.max_t, s.len)).collect())
}

#[test]
fn records_round_trip_and_the_last_version_of_a_chunk_wins() {
    let dir = tempfile::tempdir().unwrap();
    write_log(
        dir.path(),
        &[
            rec(1, 100, 200, i64::MIN, 10),
            rec(2, 100, 150, i64::MIN, 5),
            rec(1, 100, 300, i64::MIN, 20),
            rec(1, 400, 500, 300, 10),
        ],
    );
    let loaded = load(dir.path(), i64::MIN);
    assert_eq!(loaded.records, 4);
    assert_eq!(loaded.damaged_files, 0);
    assert_eq!(
        chain_bounds(&loaded, 1),
        Some(vec![(100, 300, 20), (400, 500, 10)])
    );
    let c = &loaded.chains[&1];
    assert_eq!(
        (c.max_t(), c.last_v, c.samples()),
        (500, 500f64.to_bits(), 30)
    );
    assert_eq!(&c.chunks[0].bytes[..], &[1u8; 20][..]);
    assert_eq!(chain_bounds(&loaded, 2), Some(vec![(100, 150, 5)]));
}

#[test]
fn a_chain_stops_at_a_gap_and_starts_only_after_the_persisted_boundary() {
    let dir = tempfile::tempdir().unwrap();
    write_log(
        dir.path(),
        &[
            // Series 1: its second chunk is missing (the queue dropped it), so the third does not link.
            rec(1, 100, 200, i64::MIN, 10),
            rec(1, 500, 600, 400, 10),
            // Series 2: the first chunk is before the boundary (persisted), the second follows it.
            rec(2, 0, 90, i64::MIN, 10),
            rec(2, 100, 200, 90, 10),
            // Series 3: its only chunk straddles the boundary (an unaligned persistence trimmed it).
            rec(3, 50, 150, i64::MIN, 10),
            // Series 4: its first chunk claims a predecessor after the boundary, which the log lacks.
            rec(4, 300, 400, 200, 10),
        ],
    );
    let loaded = load(dir.path(), 100);
    assert_eq!(chain_bounds(&loaded, 1), Some(vec![(100, 200, 10)]));
    assert_eq!(chain_bounds(&loaded, 2), Some(vec![(100, 200, 10)]));
    assert_eq!(chain_bounds(&loaded, 3), None);
    assert_eq!(chain_bounds(&loaded, 4), None);
}

#[test]
fn a_torn_or_damaged_record_ends_its_file_and_later_files_are_still_read() {
    let dir = tempfile::tempdir().unwrap();
    write_log(
        dir.path(),
        &[
            rec(1, 100, 200, i64::MIN, 10),
            rec(2, 100, 200, i64::MIN, 10),
        ],
    );
    let first = file_path(dir.path(), 1);
    // A torn tail: half of a third record.
    let mut torn = Vec::new();
    rec(3, 100, 200, i64::MIN, 10).encode(&mut torn);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&first)
        .unwrap();
    f.write_all(&torn[..torn.len() / 2]).unwrap();
    drop(f);
    // A second file whose first record has a flipped byte, then a good one.
    let mut bytes = MAGIC.to_vec();
    let start = bytes.len();
    rec(4, 100, 200, i64::MIN, 10).encode(&mut bytes);
    bytes[start + 12] ^= 0xff;
    rec(5, 100, 200, i64::MIN, 10).encode(&mut bytes);
    std::fs::write(file_path(dir.path(), 2), &bytes).unwrap();
    // A third, good file.
    let mut good = MAGIC.to_vec();
    rec(6, 100, 200, i64::MIN, 10).encode(&mut good);
    std::fs::write(file_path(dir.path(), 3), &good).unwrap();

    let mut seen = Vec::new();
    let err = read_file(&first, &mut |r| seen.push(r.id)).unwrap_err();
    assert!(err.contains("torn"), "{err}");
    assert_eq!(seen, [1, 2]);
    let loaded = load(dir.path(), i64::MIN);
    assert_eq!(loaded.damaged_files, 2);
    let mut ids: Vec<u32> = loaded.chains.keys().copied().collect();
    ids.sort();
    assert_eq!(
        ids,
        [1, 2, 6],
        "records after damage in the same file are not trusted"
    );
    assert_eq!(
        loaded.files.iter().map(|f| f.number).collect::<Vec<_>>(),
        [1, 2, 3]
    );
}

#[test]
fn truncation_deletes_files_whose_chunks_all_end_before_the_boundary() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), &[rec(1, 0, 90, i64::MIN, 10)]);
    write_log(dir.path(), &[rec(1, 100, 190, 90, 10)]);
    let loaded = load(dir.path(), i64::MIN);
    assert_eq!(
        loaded.files,
        [
            LogFile {
                number: 1,
                max_t: 90,
                bytes: std::fs::metadata(file_path(dir.path(), 1)).unwrap().len(),
            },
            LogFile {
                number: 2,
                max_t: 190,
                bytes: std::fs::metadata(file_path(dir.path(), 2)).unwrap().len(),
            },
        ]
    );
    let total: u64 = loaded.files.iter().map(|f| f.bytes).sum();
    let log = ChunkLog::start(dir.path(), loaded.files).unwrap();
    assert_eq!(log.stats.size_bytes.load(Ordering::Relaxed), total);
    log.send(rec(1, 200, 290, 190, 10));
    log.truncate_before(100);
    log.sync();
    let numbers: Vec<u64> = list_files(dir.path())
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(numbers, [2, 3], "file 1 held only chunks before 100");
    let on_disk: u64 = numbers
        .iter()
        .map(|&n| std::fs::metadata(file_path(dir.path(), n)).unwrap().len())
        .sum();
    assert_eq!(log.stats.size_bytes.load(Ordering::Relaxed), on_disk);
    log.truncate_before(1_000);
    log.close();
    assert!(list_files(dir.path()).unwrap().is_empty());
}

#[test]
fn files_of_the_first_version_are_read_and_other_magics_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut v1 = MAGIC_V1.to_vec();
    rec(7, 100, 200, i64::MIN, 10).encode(&mut v1);
    std::fs::write(file_path(dir.path(), 1), &v1).unwrap();
    let mut other = b"LKHCHNK9".to_vec();
    rec(8, 100, 200, i64::MIN, 10).encode(&mut other);
    std::fs::write(file_path(dir.path(), 2), &other).unwrap();
    let loaded = load(dir.path(), i64::MIN);
    assert_eq!(chain_bounds(&loaded, 7), Some(vec![(100, 200, 10)]));
    assert_eq!(chain_bounds(&loaded, 8), None);
    assert_eq!(loaded.damaged_files, 1);
}
