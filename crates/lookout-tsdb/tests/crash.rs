//! Crash recovery: a writer process killed with SIGKILL loses no acknowledged batch; a torn WAL tail is cut and
//! the rest recovered; corruption before the tail stops start-up naming the file and offset.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use lookout_model::{Labels, Matcher, Sample, TimeRange};
use lookout_storage::{SelectHints, Storage, StorageError};
use lookout_tsdb::wal::WalOptions;
use lookout_tsdb::{Tsdb, TsdbOptions};

const SERIES: usize = 50;
const WRITER_ENV: &str = "LOOKOUT_TSDB_CRASH_WRITER_DIR";

fn labels(i: usize) -> Labels {
    Labels::from_pairs(&[("__name__", "crash_test"), ("series", &i.to_string())]).unwrap()
}

fn value(batch: i64, series: usize) -> f64 {
    batch as f64 * 1000.0 + series as f64
}

fn write_batch(db: &Tsdb, batch: i64) {
    let mut a = db.appender();
    for s in 0..SERIES {
        a.append(&labels(s), batch * 1_000, value(batch, s))
            .unwrap();
    }
    a.commit().unwrap();
}

/// Samples per series, read back through the querier.
fn read_all(db: &Tsdb) -> Vec<Vec<Sample>> {
    let q = db.querier(TimeRange::ALL).unwrap();
    let mut out = Vec::new();
    for s in q
        .select(
            &[Matcher::equal("__name__", "crash_test")],
            SelectHints::samples(TimeRange::ALL),
        )
        .unwrap()
    {
        let mut s = s.unwrap();
        let mut v = Vec::new();
        s.samples.collect_into(&mut v);
        out.push(v);
    }
    out
}

/// The child: commits batches forever (bounded), printing each acknowledged batch number.
#[test]
fn crash_writer_child() {
    let Ok(dir) = std::env::var(WRITER_ENV) else {
        return;
    };
    let db = Tsdb::open(&dir, TsdbOptions::for_test()).unwrap();
    for batch in 0..200_000 {
        write_batch(&db, batch);
        if batch == 100 {
            // Half the data goes to sled and the WAL is truncated, so recovery exercises both.
            db.persist_now().unwrap();
        }
        println!("ack {batch}");
    }
}

#[test]
fn sigkill_loses_no_acknowledged_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_writer_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(WRITER_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked = -1i64;
    while acked < 400 {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(n) = line.strip_prefix("ack ") {
            acked = n.trim().parse().unwrap();
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(acked >= 400, "writer stopped early at batch {acked}");
    eprintln!("killed the writer after batch {acked}");

    let db = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
    let got = read_all(&db);
    assert_eq!(got.len(), SERIES);
    for (s, samples) in got.iter().enumerate() {
        // Series sort by label text: "0", "1", "10", ...; recover the number from the values instead.
        let series = (samples[0].v as i64 % 1000) as usize;
        assert!(
            samples.len() as i64 > acked,
            "series {s}: {} samples, {acked} batches acknowledged",
            samples.len()
        );
        for (batch, sample) in samples.iter().enumerate() {
            assert_eq!(
                *sample,
                Sample::new(batch as i64 * 1_000, value(batch as i64, series))
            );
        }
    }
    let m = db.metrics();
    assert!(
        m.persisted_boundary_ms > 0 && m.replayed_samples > 0,
        "{m:?}"
    );
}

fn wal_segments(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .collect();
    v.sort();
    v
}

fn small_segments() -> TsdbOptions {
    TsdbOptions {
        wal: WalOptions {
            segment_bytes: 64 * 1024,
            ..WalOptions::default()
        },
        ..TsdbOptions::for_test()
    }
}

#[test]
fn torn_wal_tail_is_cut_and_the_rest_recovered() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Tsdb::open(dir.path(), small_segments()).unwrap();
        for batch in 0..20 {
            write_batch(&db, batch);
        }
    }
    let last = wal_segments(dir.path())
        .into_iter()
        .rfind(|p| std::fs::metadata(p).unwrap().len() > 8)
        .unwrap();
    let len = std::fs::metadata(&last).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&last)
        .unwrap()
        .set_len(len - 3)
        .unwrap();
    let db = Tsdb::open(dir.path(), small_segments()).unwrap();
    let got = read_all(&db);
    assert_eq!(got.len(), SERIES);
    assert!(
        got.iter().all(|s| s.len() == 19),
        "the torn last batch goes, the 19 before it stay"
    );
}

#[test]
fn corrupt_wal_middle_stops_startup_with_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let mut written = 0;
    {
        let db = Tsdb::open(dir.path(), small_segments()).unwrap();
        // Enough batches for several 64 KiB segments, however compact the WAL encoding is.
        while written < 20_000 {
            write_batch(&db, written);
            written += 1;
            if written % 100 == 0 && wal_segments(dir.path()).len() >= 4 {
                break;
            }
        }
    }
    let segs: Vec<PathBuf> = wal_segments(dir.path())
        .into_iter()
        .filter(|p| std::fs::metadata(p).unwrap().len() > 8)
        .collect();
    assert!(segs.len() >= 3, "need several segments, got {segs:?}");
    let victim = &segs[0];
    let mut bytes = std::fs::read(victim).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x5a;
    std::fs::write(victim, &bytes).unwrap();
    match Tsdb::open(dir.path(), small_segments()) {
        Err(StorageError::Corruption {
            path,
            offset,
            detail,
        }) => {
            assert_eq!(Path::new(&path), victim.as_path());
            assert!(
                offset > 0 && offset <= at as u64,
                "offset {offset}, flipped byte at {at}"
            );
            assert!(detail.contains("wal-repair"), "{detail}");
        }
        other => panic!("expected corruption, got {other:?}"),
    }
    let repair = TsdbOptions {
        wal: WalOptions {
            repair: true,
            ..small_segments().wal
        },
        ..small_segments()
    };
    let db = Tsdb::open(dir.path(), repair).unwrap();
    let got = read_all(&db);
    assert!(
        !got.is_empty() && (got[0].len() as i64) < written,
        "repair keeps the records before the damage only"
    );
}
