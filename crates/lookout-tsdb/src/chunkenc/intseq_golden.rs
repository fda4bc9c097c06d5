//! The integer-sequence encoder's output pinned over a fixed corpus: a change of speed must not change a byte (the
//! bytes on disk, and what zstd makes of them, stay as measured). The corpus covers every plan the encoder weighs:
//! each differencing order, the line through jitter, offsets, common factors, all four residual codes, wrapping.

use super::intseq::{decode_ints, encode_ints};
use super::varint::ByteCursor;

/// A small deterministic generator (xorshift64*), so the corpus is the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> i64 {
        (self.next() % n) as i64
    }
}

fn sequence(rng: &mut Rng, shape: u64, n: usize) -> Vec<i64> {
    let mut xs = Vec::with_capacity(n);
    let mut x: i64 = rng.below(1 << 40) - (1 << 39);
    let mut v: i64 = rng.below(1000);
    for i in 0..n {
        match shape {
            0 => {}                                                            // constant
            1 => x = x.wrapping_add(15_000),                                   // a regular grid
            2 => x = 1_795_600_000_000 + i as i64 * 15_000 + rng.below(9) - 4, // jitter around a grid
            3 => x += rng.below(2_000),                                        // a noisy counter
            4 => {
                v += rng.below(21) - 10; // a smooth gauge (delta of delta small)
                x += v;
            }
            5 => x = rng.below(1 << 20) - (1 << 19), // noise
            6 => {
                x += if rng.below(10) == 0 {
                    rng.below(500)
                } else {
                    0
                }
            } // changes now and then
            7 => x += (rng.below(64) - 32) * 4096,   // a random walk in pages
            8 => x = x.wrapping_add(rng.next() as i64), // anything, wrapping
            9 => x = [i64::MIN, i64::MAX, 0, -1, 1][rng.below(5) as usize],
            10 => {
                x += 1_000
                    + if rng.below(50) == 0 {
                        1 << 30
                    } else {
                        rng.below(3)
                    }
            } // steady with rare jumps
            _ => x += rng.below(3) * 1_000_000, // a common factor with zeros
        }
        xs.push(x);
    }
    xs
}

fn fnv(hash: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *hash ^= b as u64;
        *hash = hash.wrapping_mul(0x100_0000_01b3);
    }
}

#[test]
fn the_encoding_of_a_fixed_corpus_is_unchanged() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut total = 0usize;
    // Mode bytes seen: the corpus must reach every order, every code, offsets and factors.
    let mut orders = [false; 4];
    let mut codes = [false; 4];
    let (mut offset, mut factor) = (false, false);
    for round in 0..40u64 {
        for shape in 0..12u64 {
            let n = [2, 3, 4, 5, 17, 120, 240, 480, 1000][(round % 9) as usize];
            let xs = sequence(&mut rng, shape, n);
            let mut out = Vec::new();
            encode_ints(&xs, &mut out);
            // Each output decodes back, so the pinned bytes are also right ones.
            let mut back = Vec::new();
            decode_ints(&mut ByteCursor::new(&out, 0), xs[0], xs.len(), &mut back).unwrap();
            assert_eq!(back, xs, "shape {shape}, round {round}");
            let mode = out[0];
            orders[(mode & 3) as usize] = true;
            codes[((mode >> 2) & 3) as usize] = true;
            offset |= mode & (1 << 4) != 0;
            factor |= mode & (1 << 5) != 0;
            fnv(&mut hash, &(out.len() as u32).to_le_bytes());
            fnv(&mut hash, &out);
            total += out.len();
        }
    }
    assert_eq!(
        (orders, codes, offset, factor),
        ([true; 4], [true; 4], true, true),
        "the corpus misses a plan"
    );
    assert_eq!(
        (total, hash),
        (165_481, 11_216_407_372_676_568_308),
        "the encoder's output changed"
    );
}
