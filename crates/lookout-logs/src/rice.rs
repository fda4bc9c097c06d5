//! Golomb–Rice codes for a block's timestamp deltas. Gaps between one stream's entries are roughly geometric, for
//! which a Rice code (quotient in unary, remainder in `k` bits, `k` chosen per block) is within a few percent of the
//! entropy: about 1.2 bytes per entry on loggen data, where zigzag varints cost 2.1 after zstd (zstd's byte-wise
//! models do poorly on varint columns). A quotient of [`ESCAPE`] or more is written as [`ESCAPE`] ones and the
//! value's 64 bits, so an outlier costs 12 bytes, never a run of millions of bits.

use crate::codec::{DecodeError, Reader, put_u64};

/// Quotients from this on are escaped.
const ESCAPE: u64 = 48;

struct Bits<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits<'_> {
    fn put(&mut self, v: u64, bits: u32) {
        // Up to 64 bits, in pieces that fit the accumulator.
        let mut left = bits;
        while left > 0 {
            let take = left.min(32);
            let piece = (v >> (left - take)) & ((1u64 << take) - 1);
            self.acc = (self.acc << take) | piece;
            self.n += take;
            left -= take;
            while self.n >= 8 {
                self.n -= 8;
                self.out.push((self.acc >> self.n) as u8);
            }
        }
    }

    fn finish(mut self) {
        if self.n > 0 {
            let pad = 8 - self.n;
            self.put(0, pad);
        }
    }
}

fn cost(values: &[u64], k: u32) -> u64 {
    values
        .iter()
        .map(|&v| {
            let q = v >> k;
            if q >= ESCAPE {
                ESCAPE + 64
            } else {
                q + 1 + u64::from(k)
            }
        })
        .sum()
}

/// Appends `values`: the parameter `k` (one byte), the bitstream's length in bytes, then the bitstream.
pub fn put_rice(out: &mut Vec<u8>, values: &[u64]) {
    let mean = values.iter().map(|&v| v as u128).sum::<u128>() / values.len().max(1) as u128;
    let guess = (128 - mean.leading_zeros()).saturating_sub(1).min(63);
    let k = (guess.saturating_sub(2)..=(guess + 1).min(63))
        .min_by_key(|&k| cost(values, k))
        .unwrap_or(0);
    out.push(k as u8);
    let mut bits = Vec::with_capacity((cost(values, k) / 8 + 1) as usize);
    let mut w = Bits {
        out: &mut bits,
        acc: 0,
        n: 0,
    };
    for &v in values {
        let q = v >> k;
        if q >= ESCAPE {
            w.put(u64::MAX, ESCAPE as u32);
            w.put(v, 64);
        } else {
            // q ones and a zero, then the remainder.
            if q > 0 {
                w.put(u64::MAX, q as u32);
            }
            w.put(0, 1);
            w.put(v & ((1u64 << k) - 1), k);
        }
    }
    w.finish();
    put_u64(out, bits.len() as u64);
    out.extend_from_slice(&bits);
}

/// Reads `n` values written by [`put_rice`].
pub fn read_rice(r: &mut Reader<'_>, n: usize) -> Result<Vec<u64>, DecodeError> {
    let k = r.byte()? as u32;
    if k > 63 {
        return Err(r.fail_at("Rice parameter out of range"));
    }
    let len = r.count_of(1)?;
    let bytes = r.take(len)?;
    let mut out = Vec::with_capacity(n);
    let mut bits = BitReader {
        bytes,
        pos: 0,
        total: bytes.len() * 8,
    };
    let short = |_| DecodeError {
        at: r.position(),
        what: "Rice bitstream cut short",
    };
    for _ in 0..n {
        let q = bits.ones(ESCAPE).map_err(short)?;
        let v = if q == ESCAPE {
            bits.read(64).map_err(short)?
        } else {
            (q << k) | bits.read(k).map_err(short)?
        };
        out.push(v);
    }
    Ok(out)
}

/// Reads a big-endian bitstream a word at a time.
struct BitReader<'a> {
    bytes: &'a [u8],
    /// In bits.
    pos: usize,
    total: usize,
}

impl BitReader<'_> {
    /// The next (up to) 64 bits from `pos`, left-aligned, zero past the end.
    fn peek(&self) -> u64 {
        let byte = self.pos / 8;
        let mut word = [0u8; 8];
        let avail = self.bytes.len().saturating_sub(byte).min(8);
        word[..avail].copy_from_slice(&self.bytes[byte..byte + avail]);
        u64::from_be_bytes(word) << (self.pos % 8)
    }

    /// `bits` (≤ 64) bits as a number.
    fn read(&mut self, bits: u32) -> Result<u64, ()> {
        if bits == 0 {
            return Ok(0);
        }
        if self.pos + bits as usize > self.total {
            return Err(());
        }
        let v = if bits <= 56 {
            self.peek() >> (64 - bits)
        } else {
            let hi = self.peek() >> 32;
            self.pos += 32;
            let lo = self.peek() >> (64 - (bits - 32));
            self.pos -= 32;
            (hi << (bits - 32)) | lo
        };
        self.pos += bits as usize;
        Ok(v)
    }

    /// Counts ones up to `max` (consuming the terminating zero when fewer).
    fn ones(&mut self, max: u64) -> Result<u64, ()> {
        let mut q = 0u64;
        loop {
            if self.pos >= self.total {
                return Err(());
            }
            // Ones in the next (up to) 56 available bits.
            let avail = (self.total - self.pos).min(56) as u32;
            let run = (self.peek() | (u64::MAX >> avail))
                .leading_ones()
                .min(avail);
            let take = u64::from(run).min(max - q);
            q += take;
            self.pos += take as usize;
            if q == max {
                return Ok(q);
            }
            if run < avail {
                // The zero that ends the run.
                self.pos += 1;
                return Ok(q);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_any_values_and_refuses_cut_streams() {
        let cases: Vec<Vec<u64>> = vec![
            vec![],
            vec![0],
            vec![0, 0, 0, 1],
            (0..500).map(|i| (i * 7919) % 600).collect(),
            vec![u64::MAX, 0, 1 << 63, 300, 299],
            (0..64).map(|i| 1u64 << i).collect(),
        ];
        for values in cases {
            let mut out = Vec::new();
            put_rice(&mut out, &values);
            let mut r = Reader::new(&out);
            assert_eq!(read_rice(&mut r, values.len()).unwrap(), values);
            assert!(r.is_empty());
            for cut in 0..out.len() {
                assert!(
                    read_rice(&mut Reader::new(&out[..cut]), values.len()).is_err(),
                    "cut at {cut} of {values:?}"
                );
            }
        }
    }

    #[test]
    fn geometric_gaps_cost_near_their_entropy() {
        // Gaps of mean ~250 (a stream among a few hundred, stamped in ms).
        let mut x = 12345u64;
        let values: Vec<u64> = (0..10_000)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let u = ((x >> 11) as f64 / (1u64 << 53) as f64).max(1e-12);
                (-u.ln() * 250.0) as u64
            })
            .collect();
        let mut out = Vec::new();
        put_rice(&mut out, &values);
        let per_value = out.len() as f64 / values.len() as f64;
        // Entropy of that geometric distribution: ~9.4 bits.
        assert!(per_value < 1.25, "{per_value} bytes per value");
    }
}
