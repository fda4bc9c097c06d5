//! How much file space sled 0.34 takes for what it holds, by the shape of the data: the same ~100 KB (and ~1 MB)
//! written as many small values, fewer mid-sized ones or a few large ones, on the segment size the TSDB uses.
//!
//! `sled_amplification [--segment BYTES]` writes each shape into a fresh database in one batch, flushes, closes it
//! and prints sled's files (log, blob files) against the keys and values it holds. This is the floor under the
//! TSDB's "whole directory / bytes stored" at 10,900 nodegen series (BENCHMARKS.md, issue 19): there sled holds
//! ~147 KB of series table and postings.

use lookout_tsdb::dir_size;

/// A value of `len` bytes that does not compress (sled runs without compression here, as in the TSDB).
fn value(i: usize, len: usize) -> Vec<u8> {
    let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let segment = args
        .iter()
        .position(|a| a == "--segment")
        .and_then(|i| args.get(i + 1))
        .map_or(16 << 10, |v| v.parse().expect("--segment BYTES"));
    println!("sled 0.34.7, segment {segment} B, one batch per database, then flush and close");
    println!(
        "| values × bytes | held (keys+values) | sled's files | of which blob files | files / held |"
    );
    println!("|---|---:|---:|---:|---:|");
    let shapes = [
        (1_000, 90),
        (100, 1_000),
        (20, 5_000),
        (10, 10_000),
        (2, 50_000),
        (10_000, 90),
        (100, 10_000),
        (20, 50_000),
    ];
    for (n, len) in shapes {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("sled");
        let mut held = 0u64;
        {
            let db = sled::Config::new()
                .path(&dir)
                .segment_size(segment)
                .use_compression(false)
                .open()
                .expect("open sled");
            let tree = db.open_tree("t").expect("tree");
            let mut batch = sled::Batch::default();
            for i in 0..n {
                let key = format!("key{i:08}");
                held += (key.len() + len) as u64;
                batch.insert(key.as_bytes(), value(i, len));
            }
            tree.apply_batch(batch).expect("write");
            db.flush().expect("flush");
        }
        // sled's flusher thread finishes after the handle is dropped.
        std::thread::sleep(std::time::Duration::from_millis(300));
        let (all, blobs) = (dir_size(&dir), dir_size(&dir.join("blobs")));
        println!(
            "| {n} × {len} | {held} | {all} | {blobs} | {:.2} |",
            all as f64 / held as f64
        );
    }
}
