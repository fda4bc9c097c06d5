//! Chunk encoding throughput on nodegen-like data: head append, head iteration, sealed encode and decode.
//!
//! `cargo bench -p lookout-tsdb --bench chunkenc -- --warm-up-time 1 --measurement-time 3`

// criterion_group! and criterion_main! generate undocumented functions.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lookout_model::Sample;
use lookout_storage::SampleIter;
use lookout_tsdb::chunkenc::{HeadChunk, HeadChunkIter, decode_sealed, encode_sealed};
use std::hint::black_box;

const CHUNK: usize = 120;
const SERIES: usize = 100;

/// A tiny deterministic generator (SplitMix64) so the data is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One host's worth of series, mimicking nodegen's kinds: 2-decimal CPU counters, 4 KiB-multiple memory gauges,
/// byte counters, linear disk counters, 2-decimal load gauges, histogram buckets, constants, noisy counters.
fn nodegen_like() -> Vec<Vec<Sample>> {
    let mut rng = Rng(42);
    let t0 = 1_764_000_000_000i64;
    (0..SERIES)
        .map(|idx| {
            let base = rng.below(1 << 30) as i64;
            let kind = idx % 10;
            (0..CHUNK as i64)
                .map(|k| {
                    let t = t0 + k * 15_000;
                    let v = match kind {
                        0..=2 => (base * 100 + k * 1275 + rng.below(6) as i64) as f64 / 100.0,
                        3 => {
                            (4096 * (base + (200.0 * ((k as f64) / 5.0 + idx as f64).sin()) as i64))
                                as f64
                        }
                        4 => {
                            (base * 1000 + k * 90_000 + (60_000.0 * (k as f64 / 7.0).sin()) as i64)
                                as f64
                        }
                        5 => (base + k * 4096 * 3) as f64,
                        6 => ((50.0 + 200.0 * (k as f64 / 25.0).sin().abs()).round()) / 100.0,
                        7 => (k * 4 / 10) as f64,
                        8 => 1.0,
                        _ => (base * 100 + k * 20_000 + rng.below(5000) as i64) as f64,
                    };
                    Sample::new(t, v)
                })
                .collect()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let series = nodegen_like();
    let total = (SERIES * CHUNK) as u64;
    let mut g = c.benchmark_group("chunkenc");
    g.throughput(Throughput::Elements(total));

    g.bench_function("head_append", |b| {
        b.iter(|| {
            let mut bytes = 0;
            for s in &series {
                let mut h = HeadChunk::new();
                for x in s {
                    h.append(x.t, x.v);
                }
                bytes += h.bytes().len();
            }
            black_box(bytes)
        })
    });

    let heads: Vec<(Vec<u8>, u16)> = series
        .iter()
        .map(|s| {
            let mut h = HeadChunk::new();
            s.iter().for_each(|x| h.append(x.t, x.v));
            (h.bytes().to_vec(), h.len() as u16)
        })
        .collect();
    g.bench_function("head_iterate", |b| {
        b.iter(|| {
            let mut sum = 0.0;
            for (bytes, len) in &heads {
                let mut it = HeadChunkIter::new(&bytes[..], *len);
                while let Some(s) = it.next() {
                    sum += s.v;
                }
            }
            black_box(sum)
        })
    });

    g.bench_function("sealed_encode", |b| {
        let mut out = Vec::with_capacity(64 * 1024);
        b.iter(|| {
            out.clear();
            for s in &series {
                encode_sealed(s, &mut out);
            }
            black_box(out.len())
        })
    });

    let sealed: Vec<Vec<u8>> = series
        .iter()
        .map(|s| {
            let mut out = Vec::new();
            encode_sealed(s, &mut out);
            out
        })
        .collect();
    let sealed_bytes: usize = sealed.iter().map(Vec::len).sum();
    let head_bytes: usize = heads.iter().map(|h| h.0.len()).sum();
    eprintln!(
        "bench data: sealed {:.3} B/sample, head {:.3} B/sample",
        sealed_bytes as f64 / total as f64,
        head_bytes as f64 / total as f64
    );
    g.bench_function("sealed_decode", |b| {
        let mut out = Vec::with_capacity(CHUNK);
        b.iter(|| {
            let mut n = 0;
            for bytes in &sealed {
                out.clear();
                decode_sealed(bytes, &mut out).unwrap();
                n += out.len();
            }
            black_box(n)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
