//! Measures bytes per sample of both encodings on the nodegen data set (`LOOKOUT_NODEGEN_FILE`), the data the
//! published Prometheus and VictoriaMetrics figures were measured on. Prints a table; skips loudly without the file.
//!
//! `python3 ../shared/bench/nodegen.py dataset --hosts 100 --hours 2 --step 15 > /tmp/nodegen.om`
//! `LOOKOUT_NODEGEN_FILE=/tmp/nodegen.om cargo test -p lookout-tsdb nodegen -- --nocapture`

use std::io::BufRead;

use lookout_model::Sample;
use lookout_storage::SampleIter;

use super::{HeadChunk, decode_sealed, encode_sealed};

/// Parses `name{labels} value timestamp_seconds` lines into (metric name, samples) per series, in file order.
fn read_series(path: &str) -> (Vec<String>, Vec<Vec<Sample>>) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("open {path}: {e}"));
    let mut series: Vec<Vec<Sample>> = Vec::new();
    let mut names = Vec::new();
    let mut last_key = String::new();
    for line in std::io::BufReader::with_capacity(1 << 20, file).lines() {
        let line = line.unwrap();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let mut parts = line.rsplitn(3, ' ');
        let (Some(ts), Some(v), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            panic!("bad line {line:?}");
        };
        let t = (ts.parse::<f64>().unwrap() * 1000.0).round() as i64;
        let v: f64 = v.parse().unwrap();
        if key != last_key {
            series.push(Vec::new());
            names.push(key.split('{').next().unwrap_or(key).to_string());
            last_key = key.to_string();
        }
        series.last_mut().unwrap().push(Sample::new(t, v));
    }
    (names, series)
}

/// Chunks of `size` samples of every series, `[window][series]`.
fn chunk(series: &[Vec<Sample>], size: usize) -> Vec<Vec<Vec<u8>>> {
    let windows = series
        .iter()
        .map(|s| s.len().div_ceil(size))
        .max()
        .unwrap_or(0);
    (0..windows)
        .map(|w| {
            series
                .iter()
                .filter_map(|s| s.chunks(size).nth(w))
                .map(|c| {
                    let mut buf = Vec::new();
                    encode_sealed(c, &mut buf);
                    buf
                })
                .collect()
        })
        .collect()
}

fn zstd_len(data: &[u8]) -> usize {
    zstd_len_at(data, 3)
}

fn zstd_len_at(data: &[u8], level: i32) -> usize {
    zstd::bulk::compress(data, level).unwrap().len()
}

#[test]
fn nodegen_bytes_per_sample() {
    let Ok(path) = std::env::var("LOOKOUT_NODEGEN_FILE") else {
        eprintln!(
            "\n*** SKIPPED nodegen_bytes_per_sample: set LOOKOUT_NODEGEN_FILE to the output of\n*** \
             python3 ../shared/bench/nodegen.py dataset --hosts 100 --hours 2 --step 15\n"
        );
        return;
    };
    let (names, series) = read_series(&path);
    let samples: usize = series.iter().map(Vec::len).sum();
    assert!(samples > 0, "no samples in {path}");
    println!("{} series, {samples} samples", series.len());

    for size in [120usize, 480] {
        let chunks = chunk(&series, size);
        let raw: usize = chunks.iter().flatten().map(Vec::len).sum();
        let per_chunk_zstd: usize = chunks
            .iter()
            .flatten()
            .map(|c| zstd_len(c).min(c.len()))
            .sum();
        println!(
            "chunk {size:>3}: sealed {:.4} B/sample; each chunk zstd'd (if smaller) {:.4}",
            raw as f64 / samples as f64,
            per_chunk_zstd as f64 / samples as f64
        );
        for group in [64usize, 256] {
            let grouped: usize = chunks
                .iter()
                .flat_map(|window| window.chunks(group))
                .map(|g| zstd_len(&g.concat()))
                .sum();
            println!(
                "chunk {size:>3}: zstd(3) over groups of {group:>3} series' chunks {:.4} B/sample",
                grouped as f64 / samples as f64
            );
        }
        if size == 120 {
            print_by_metric(&names, &series, &chunks);
        }
        let kinds = chunks.iter().flatten().fold([0usize; 16], |mut k, c| {
            k[(c[0] >> 4) as usize] += 1;
            k
        });
        println!(
            "chunk {size:>3}: value kinds (0-6 decimal scale, 7-13 with exceptions, 15 xor): {kinds:?}"
        );
        // Everything must decode back bit for bit.
        for (window, c) in chunks.iter().flatten().enumerate().take(2000) {
            let mut out = Vec::new();
            decode_sealed(c, &mut out).unwrap();
            assert!(!out.is_empty(), "chunk {window} decoded empty");
        }
    }

    let chunks = chunk(&series, 480);
    for level in [1, 9, 19] {
        let grouped: usize = chunks
            .iter()
            .flat_map(|w| w.chunks(256))
            .map(|g| zstd_len_at(&g.concat(), level))
            .sum();
        println!(
            "chunk 480: zstd({level}) over groups of 256: {:.4} B/sample",
            grouped as f64 / samples as f64
        );
    }

    // Real scrapes are not exactly on a 15 s grid: what a few milliseconds of jitter cost.
    for jitter_ms in [2i64, 25] {
        let jittered: Vec<Vec<Sample>> = series
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.iter()
                    .enumerate()
                    .map(|(k, x)| {
                        let h = (i as u64 * 1_000_003 + k as u64)
                            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                            >> 40;
                        Sample::new(x.t + (h as i64 % (2 * jitter_ms + 1)) - jitter_ms, x.v)
                    })
                    .collect()
            })
            .collect();
        let bytes: usize = chunk(&jittered, 120).iter().flatten().map(Vec::len).sum();
        println!(
            "chunk 120 with ±{jitter_ms} ms timestamp jitter: sealed {:.4} B/sample",
            bytes as f64 / samples as f64
        );
    }

    let mut head_bytes = 0usize;
    let mut head_heap = 0usize;
    for s in &series {
        for c in s.chunks(120) {
            let mut h = HeadChunk::new();
            for x in c {
                h.append(x.t, x.v);
            }
            let mut back = Vec::new();
            h.iter().collect_into(&mut back);
            assert!(back.iter().zip(c).all(|(a, b)| a.bits_eq(b)));
            head_bytes += h.bytes().len();
            head_heap += h.heap_bytes();
        }
    }
    println!(
        "head (Gorilla) 120-sample chunks: {:.4} B/sample encoded, {:.4} B/sample heap",
        head_bytes as f64 / samples as f64,
        head_heap as f64 / samples as f64
    );
}

/// Sealed bytes per sample by metric name, largest share first: where the bytes go.
fn print_by_metric(names: &[String], series: &[Vec<Sample>], chunks: &[Vec<Vec<u8>>]) {
    let mut by_name: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for (i, name) in names.iter().enumerate() {
        let bytes: usize = chunks.iter().filter_map(|w| w.get(i)).map(Vec::len).sum();
        let e = by_name.entry(name).or_default();
        e.0 += bytes;
        e.1 += series[i].len();
    }
    let total: usize = by_name.values().map(|v| v.0).sum();
    let mut rows: Vec<_> = by_name.into_iter().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.1.0));
    for (name, (bytes, samples)) in rows.iter().take(12) {
        println!(
            "  {name:<40} {:>5.1}% of bytes, {:.3} B/sample",
            100.0 * *bytes as f64 / total as f64,
            *bytes as f64 / *samples as f64
        );
    }
}
