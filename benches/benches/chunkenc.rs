//! Criterion benches of the chunk encodings on noisy scrape-like samples: appending to a head chunk, and sealing a
//! full one with a full search and with the series' hint (what the head does on three sealings of four).

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lookout_model::Sample;
use lookout_tsdb::chunkenc::{HeadChunk, SealHint, encode_sealed_hinted};

const CHUNKS: usize = 100;
const SAMPLES: usize = 120;

/// Chunks of 120 samples: millisecond jitter around a 15 s grid; counters, 4 KiB gauges and two-decimal values.
fn chunks() -> Vec<Vec<Sample>> {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    (0..CHUNKS)
        .map(|c| {
            let mut v = 1e6 + c as f64;
            (0..SAMPLES as i64)
                .map(|i| {
                    let jitter = (next() % 9) as i64 - 4;
                    v += match c % 3 {
                        0 => (next() % 5_000) as f64,
                        1 => ((next() % 200) as f64 - 100.0) * 4096.0,
                        _ => (next() % 1_000) as f64 / 100.0,
                    };
                    Sample::new(1_795_600_000_000 + i * 15_000 + jitter, v)
                })
                .collect()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let data = chunks();
    let mut g = c.benchmark_group("chunkenc");
    g.throughput(Throughput::Elements((CHUNKS * SAMPLES) as u64));
    g.bench_function("head_append_100_chunks_x_120", |b| {
        b.iter(|| {
            data.iter()
                .map(|samples| {
                    let mut chunk = HeadChunk::with_hints(300, SealHint::default());
                    for s in samples {
                        chunk.append(s.t, s.v);
                    }
                    chunk.bytes().len()
                })
                .sum::<usize>()
        })
    });
    let hints: Vec<SealHint> = data
        .iter()
        .map(|s| encode_sealed_hinted(s, SealHint::default(), &mut Vec::new()))
        .collect();
    for (name, hinted) in [
        ("seal_searched_100_x_120", false),
        ("seal_hinted_100_x_120", true),
    ] {
        g.bench_function(name, |b| {
            let mut out = Vec::with_capacity(1 << 16);
            b.iter(|| {
                out.clear();
                for (samples, &hint) in data.iter().zip(&hints) {
                    let hint = if hinted { hint } else { SealHint::default() };
                    encode_sealed_hinted(samples, hint, &mut out);
                }
                out.len()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
