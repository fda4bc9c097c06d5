//! Part files: persisted chunks live in immutable files under `parts/`, named from sled; damage is named at start-up,
//! files of a run that never committed are removed, and retention unlinks what it deletes.

use std::path::{Path, PathBuf};

use lookout_model::{Labels, Matcher, Sample, TimeRange};
use lookout_storage::{SelectHints, Storage, StorageError};
use lookout_tsdb::{Tsdb, TsdbOptions};

const HOUR: i64 = 3_600_000;

fn ingest(db: &Tsdb, hours: i64) {
    for k in 0..hours * 240 {
        let mut a = db.appender();
        for s in 0..20 {
            let l = Labels::from_pairs(&[("__name__", "m"), ("s", &s.to_string())]).unwrap();
            a.append(&l, k * 15_000, (k * (s + 1)) as f64).unwrap();
        }
        a.commit().unwrap();
    }
}

fn samples(db: &Tsdb) -> Vec<Sample> {
    samples_of(db, Matcher::equal("__name__", "m"))
}

/// Every sample of the series `matcher` selects, series in label order.
fn samples_of(db: &Tsdb, matcher: Matcher) -> Vec<Sample> {
    let q = db.querier(TimeRange::ALL).unwrap();
    let mut out = Vec::new();
    for s in q
        .select(&[matcher], SelectHints::samples(TimeRange::ALL))
        .unwrap()
    {
        s.unwrap().samples.collect_into(&mut out);
    }
    out
}

fn part_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir.join("parts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// A data dir holding `hours` of persisted data, closed.
fn persisted(hours: i64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
    ingest(&db, hours);
    db.persist_now().unwrap();
    dir
}

/// The file and detail of the corruption a default open reports.
fn corruption_at_open(dir: &Path) -> (String, String) {
    match Tsdb::open(dir, TsdbOptions::for_test()) {
        Err(StorageError::Corruption { path, detail, .. }) => (path, detail),
        other => panic!("expected corruption, got {:?}", other.err()),
    }
}

#[test]
fn persisted_chunks_live_in_part_files_and_read_back_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
    ingest(&db, 3);
    let before = samples(&db);
    db.persist_now().unwrap();
    let m = db.metrics();
    assert_eq!(m.persisted_parts, 3, "one part per 1 h block");
    let files = part_files(dir.path());
    assert_eq!(files.len(), 3, "{files:?}");
    let on_disk: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    assert_eq!(m.persisted_data_bytes, on_disk);
    let usage = db.sled_usage().unwrap();
    assert_eq!(usage.chunk_groups, 0, "no chunk bytes in sled");
    assert_eq!(usage.part_files, on_disk);
    drop(db);
    let db = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
    assert_eq!(samples(&db), before);
}

#[test]
fn files_of_a_run_that_never_committed_are_removed_at_open() {
    let dir = persisted(2);
    let before = samples(&Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap());
    let files = part_files(dir.path());
    // A later run that crashed: one finished file sled never named, one still under its temporary name.
    let stray = dir.path().join("parts").join("7200000-0000000099.part");
    std::fs::copy(&files[0], &stray).unwrap();
    let tmp = dir.path().join("parts").join("7200000-0000000100.part.tmp");
    std::fs::write(&tmp, b"half written").unwrap();
    let db = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
    assert!(!stray.exists() && !tmp.exists());
    assert_eq!(part_files(dir.path()), files);
    assert_eq!(samples(&db), before);
}

#[test]
fn a_damaged_part_file_is_named_at_start_up_and_can_be_dropped() {
    let dir = persisted(2);
    let files = part_files(dir.path());
    let victim = &files[0];
    let len = std::fs::metadata(victim).unwrap().len();
    let bytes = std::fs::read(victim).unwrap();
    std::fs::write(victim, &bytes[..len as usize - 7]).unwrap();
    let (path, detail) = corruption_at_open(dir.path());
    assert_eq!(Path::new(&path), victim.as_path());
    assert!(detail.contains("--drop-damaged-parts"), "{detail}");
    let opts = TsdbOptions {
        drop_damaged_parts: true,
        ..TsdbOptions::for_test()
    };
    let db = Tsdb::open(dir.path(), opts).unwrap();
    assert_eq!(db.metrics().persisted_parts, 1);
    assert!(!victim.exists());
    let left = samples(&db);
    assert!(
        !left.is_empty() && left.iter().all(|s| s.t >= HOUR),
        "the second hour is still there"
    );
    drop(db);
    // Forgotten for good: a normal start works again.
    let db = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
    assert_eq!(samples(&db), left);
}

#[test]
fn a_missing_part_file_is_named_at_start_up() {
    let dir = persisted(1);
    let files = part_files(dir.path());
    std::fs::remove_file(&files[0]).unwrap();
    let (path, detail) = corruption_at_open(dir.path());
    assert_eq!(Path::new(&path), files[0].as_path());
    assert!(detail.contains("cannot open"), "{detail}");
}

#[test]
fn retention_unlinks_the_files_it_deletes() {
    let dir = persisted(4);
    let opts = TsdbOptions {
        retention_time: std::time::Duration::from_secs(3600),
        ..TsdbOptions::for_test()
    };
    let db = Tsdb::open(dir.path(), opts).unwrap();
    let deleted = db.apply_retention().unwrap();
    assert!(deleted >= 2, "{deleted}");
    assert_eq!(part_files(dir.path()).len(), 4 - deleted);
    assert_eq!(db.metrics().persisted_parts as usize, 4 - deleted);
}

#[test]
fn a_sled_database_that_lost_its_parts_leaves_their_files_alone() {
    let dir = persisted(2);
    let files = part_files(dir.path());
    assert_eq!(files.len(), 2);
    // sled can take a garbage file for an empty database: the boundary marker must stop start-up before the files
    // it no longer names are taken for leftovers of an unfinished run.
    let sled_db = dir.path().join("sled").join("db");
    let len = std::fs::metadata(&sled_db).unwrap().len() as usize;
    std::fs::write(&sled_db, vec![0xa5u8; len]).unwrap();
    assert!(matches!(
        Tsdb::open(dir.path(), TsdbOptions::for_test()),
        Err(StorageError::Corruption { .. })
    ));
    assert_eq!(
        part_files(dir.path()),
        files,
        "the only copy of those samples is kept"
    );
}

/// 300 scrape targets with two metrics each, every series of a target sampled at the target's jittered instants
/// (or, with `shared` false, each series at instants of its own). In label order a target's two series lie 300
/// series apart, in different chunk groups, where zstd cannot see that their timestamps repeat. One series is born
/// in the middle of the first hour and another ends early, as pods come and go.
fn ingest_jittered(db: &Tsdb, shared: bool) {
    let jitter = |who: i64, k: i64| {
        let mut x = ((who as u64) << 32 | k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        x ^= x >> 29;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x ^= x >> 32;
        (x % 37) as i64
    };
    let labels: Vec<Vec<Labels>> = ["a", "b"]
        .iter()
        .map(|m| {
            (0..300)
                .map(|i| {
                    Labels::from_pairs(&[("__name__", *m), ("instance", &format!("{i:03}"))])
                        .unwrap()
                })
                .collect()
        })
        .collect();
    for k in 0..2 * 240 {
        let mut a = db.appender();
        for (m, per_target) in labels.iter().enumerate() {
            for (i, l) in per_target.iter().enumerate() {
                let (m, i) = (m as i64, i as i64);
                if (m == 0 && i == 3 && k < 100) || (m == 1 && i == 25 && k > 300) {
                    continue;
                }
                let who = if shared { i } else { i + 1_000 * m };
                let t = k * 15_000 + i * 40 + jitter(who, k);
                a.append(l, t, ((k * (i + 1)) % 1_000) as f64).unwrap();
            }
        }
        a.commit().unwrap();
    }
}

fn all_samples(db: &Tsdb) -> Vec<Sample> {
    samples_of(db, Matcher::any_of("__name__", ["a", "b"]))
}

#[test]
fn series_sharing_jittered_timestamps_store_them_once_and_read_back_exactly() {
    let mut bytes = Vec::new();
    for shared in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let db = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
        ingest_jittered(&db, shared);
        let before = all_samples(&db);
        assert_eq!(before.len(), 600 * 480 - 100 - 179);
        db.persist_now().unwrap();
        assert_eq!(
            all_samples(&db),
            before,
            "shared {shared}: read back from the parts"
        );
        bytes.push(db.metrics().persisted_data_bytes);
        db.close().unwrap();
        let db = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
        assert_eq!(all_samples(&db), before, "shared {shared}: after a restart");
    }
    // Each target's timestamps once per part, against each series' own.
    assert!(
        bytes[0] * 3 < bytes[1] * 2,
        "shared timestamps take {} bytes, timestamps of their own {}",
        bytes[0],
        bytes[1]
    );
}
