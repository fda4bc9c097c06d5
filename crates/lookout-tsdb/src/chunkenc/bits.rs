//! Bit-level writing and reading, most significant bit first, shared by the head and sealed encodings.

/// Appends bits to a byte vector whose last byte may be partly filled.
///
/// The writer state is only the number of unused low bits of the last byte, so a head chunk can keep its bit
/// stream as a plain `Vec<u8>` plus one small counter.
#[derive(Debug)]
pub(crate) struct BitWriter<'a> {
    buf: &'a mut Vec<u8>,
    /// Unused low bits in the last byte of `buf` (0..=7).
    free: u8,
}

impl<'a> BitWriter<'a> {
    /// Continues writing into `buf`, whose last byte has `free` unused low bits.
    #[inline]
    pub(crate) fn new(buf: &'a mut Vec<u8>, free: u8) -> Self {
        debug_assert!(free < 8);
        BitWriter { buf, free }
    }

    /// Unused low bits of the last byte, to resume writing later.
    #[inline]
    pub(crate) fn free_bits(&self) -> u8 {
        self.free
    }

    /// Writes the low `n` bits of `v` (`n` ≤ 64), most significant first.
    #[inline]
    pub(crate) fn write(&mut self, v: u64, n: u32) {
        debug_assert!(n <= 64);
        if n > 56 {
            self.write_word(v >> 32, n - 32);
            self.write_word(v, 32);
        } else {
            self.write_word(v, n);
        }
    }

    /// Writes the low `n` bits of `v`, `n` ≤ 57: with the at most 7 bits already in the last byte they fit one
    /// big-endian word, stored whole and cut to the bytes it fills (one 8-byte store instead of a push per byte).
    #[inline(always)]
    fn write_word(&mut self, v: u64, n: u32) {
        if n == 0 {
            return;
        }
        let v = v & ((1u64 << n) - 1);
        // Bits already in the last byte (0 when it is full, or there is none).
        let used = (8 - self.free as u32) & 7;
        let start = self.buf.len() - usize::from(self.free > 0);
        let mut word = v << (64 - used - n);
        if self.free > 0 {
            word |= u64::from(self.buf[start]) << 56;
        }
        let total = used + n;
        self.buf.truncate(start);
        self.buf.extend_from_slice(&word.to_be_bytes());
        self.buf.truncate(start + total.div_ceil(8) as usize);
        self.free = ((8 - total % 8) % 8) as u8;
    }
}

/// Writes a bit stream from a byte boundary to its end, most significant bit first, through a 64-bit register:
/// one 8-byte store per 64 bits instead of a store per byte. The sealed encoding's residual streams use it.
#[derive(Debug)]
pub(crate) struct BitPacker<'a> {
    out: &'a mut Vec<u8>,
    /// Bits waiting, from the top.
    acc: u64,
    /// How many bits of `acc` are taken (0..=63).
    n: u32,
}

impl<'a> BitPacker<'a> {
    /// Starts a stream at the end of `out`.
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        BitPacker { out, acc: 0, n: 0 }
    }

    /// Writes the low `n` bits of `v` (`n` ≤ 64), most significant first.
    #[inline]
    pub(crate) fn write(&mut self, v: u64, n: u32) {
        debug_assert!(n <= 64);
        if n == 0 {
            return;
        }
        let v = if n == 64 { v } else { v & ((1u64 << n) - 1) };
        let space = 64 - self.n;
        if n < space {
            self.acc |= v << (space - n);
            self.n += n;
        } else {
            // Fill the register, store it, and keep what did not fit.
            let rest = n - space;
            self.acc |= v >> rest;
            self.out.extend_from_slice(&self.acc.to_be_bytes());
            self.acc = if rest == 0 { 0 } else { v << (64 - rest) };
            self.n = rest;
        }
    }

    /// Writes `v` as an order-`k` exponential-Golomb code: the bit length of `(v >> k) + 1` in unary (as zeros),
    /// that number in binary, then the low `k` bits of `v`. Small values cost few bits, large ones at most ~2×.
    #[inline]
    pub(crate) fn write_exp_golomb(&mut self, v: u64, k: u32) {
        let q = (v >> k) as u128 + 1;
        let len = 128 - q.leading_zeros();
        let total = 2 * len - 1 + k;
        if total <= 64 {
            // The whole code in one write: `q` below its leading zeros, then the low `k` bits of `v`.
            let low = if k == 0 {
                0
            } else {
                v & (u64::MAX >> (64 - k))
            };
            self.write(((q as u64) << k) | low, total);
            return;
        }
        // `len - 1` zeros, then `q` in `len` bits (`len` ≤ 65), then the low `k` bits.
        let zeros = len - 1;
        self.write(0, zeros.min(64));
        if zeros > 64 {
            self.write(0, zeros - 64);
        }
        if len > 64 {
            self.write(1, len - 64);
            self.write(q as u64, 64);
        } else {
            self.write(q as u64, len);
        }
        if k > 0 {
            self.write(v, k);
        }
    }

    /// Stores the last bits, padded with zeros to a byte.
    pub(crate) fn finish(self) {
        let bytes = self.n.div_ceil(8) as usize;
        self.out.extend_from_slice(&self.acc.to_be_bytes()[..bytes]);
    }
}

/// Bits an order-`k` exponential-Golomb code of `v` takes.
#[inline]
#[cfg(test)]
pub(crate) fn exp_golomb_len(v: u64, k: u32) -> u64 {
    // (v >> k) + 1 overflows only for v = u64::MAX at k = 0: a 65-bit number.
    let q_len = match (v >> k).checked_add(1) {
        Some(q) => 64 - q.leading_zeros(),
        None => 65,
    };
    (2 * q_len - 1 + k) as u64
}

/// Reads bits written by [`BitWriter`]; every read checks the end and returns `None` past it.
#[derive(Debug, Clone)]
pub(crate) struct BitReader<B> {
    buf: B,
    /// Next bit to read, counted from the start of `buf`.
    pos: usize,
}

impl<B: AsRef<[u8]>> BitReader<B> {
    /// Reads `buf` from its first bit.
    #[inline]
    pub(crate) fn new(buf: B) -> Self {
        BitReader { buf, pos: 0 }
    }

    /// Reads `buf` from byte `byte`.
    #[inline]
    pub(crate) fn at_byte(buf: B, byte: usize) -> Self {
        BitReader { buf, pos: byte * 8 }
    }

    /// The next bit position.
    #[inline]
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// The byte after the last one touched, for data that follows a byte-aligned bit section.
    #[inline]
    pub(crate) fn next_byte(&self) -> usize {
        self.pos.div_ceil(8)
    }

    #[inline]
    fn total_bits(&self) -> usize {
        self.buf.as_ref().len() * 8
    }

    /// The next 57 or more bits left-aligned in a `u64` (zeros past the end), without consuming them.
    #[inline]
    fn peek_window(&self) -> u64 {
        let b = self.buf.as_ref();
        let byte = self.pos / 8;
        let word = match b.get(byte..byte + 8) {
            Some(s) => u64::from_be_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]),
            None => {
                let mut tmp = [0u8; 8];
                let rest = b.get(byte..).unwrap_or(&[]);
                tmp[..rest.len()].copy_from_slice(rest);
                u64::from_be_bytes(tmp)
            }
        };
        word << (self.pos % 8)
    }

    /// Reads `n` ≤ 57 bits.
    #[inline]
    pub(crate) fn read_short(&mut self, n: u32) -> Option<u64> {
        debug_assert!(n <= 57);
        if n == 0 {
            return Some(0);
        }
        if self.pos + n as usize > self.total_bits() {
            return None;
        }
        let v = self.peek_window() >> (64 - n);
        self.pos += n as usize;
        Some(v)
    }

    /// Reads `n` ≤ 64 bits.
    #[inline]
    pub(crate) fn read(&mut self, n: u32) -> Option<u64> {
        if n <= 57 {
            self.read_short(n)
        } else {
            let hi = self.read_short(n - 32)?;
            let lo = self.read_short(32)?;
            Some((hi << 32) | lo)
        }
    }

    /// Reads one bit.
    #[inline]
    pub(crate) fn read_bit(&mut self) -> Option<bool> {
        if self.pos >= self.total_bits() {
            return None;
        }
        let byte = self.buf.as_ref()[self.pos / 8];
        let bit = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(bit == 1)
    }

    /// Counts up to `max` ≤ 8 leading one bits and consumes them plus the terminating zero, if any: the prefix
    /// codes of the head chunk.
    #[inline]
    pub(crate) fn read_ones(&mut self, max: u32) -> Option<u32> {
        let window = self.peek_window();
        let ones = (!window).leading_zeros().min(max);
        let used = if ones < max { ones + 1 } else { ones };
        if self.pos + used as usize > self.total_bits() {
            return None;
        }
        self.pos += used as usize;
        Some(ones)
    }

    /// Reads an order-`k` (`k` ≤ 63) exponential-Golomb code written by [`BitWriter::write_exp_golomb`].
    #[inline]
    pub(crate) fn read_exp_golomb(&mut self, k: u32) -> Option<u64> {
        let window = self.peek_window();
        let zeros = window.leading_zeros();
        let high = if zeros <= 28 && self.pos + 2 * (zeros as usize) < self.total_bits() {
            // Fast path: the whole prefix and number lie inside the window.
            self.pos += 2 * zeros as usize + 1;
            (window >> (63 - 2 * zeros)) - 1
        } else {
            self.read_exp_golomb_high_slow()?
        };
        if k == 0 {
            return Some(high);
        }
        if k > 63 || high.leading_zeros() < k {
            return None;
        }
        let low = self.read(k)?;
        Some((high << k) | low)
    }

    /// The `(v >> k)` part of a long exponential-Golomb code, bit by bit.
    fn read_exp_golomb_high_slow(&mut self) -> Option<u64> {
        let mut zeros = 0u32;
        while !self.read_bit()? {
            zeros += 1;
            if zeros > 64 {
                return None;
            }
        }
        let rest = self.read(zeros)? as u128;
        let q = (1u128 << zeros) | rest;
        u64::try_from(q - 1).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip_across_byte_boundaries() {
        let items: Vec<(u64, u32)> = vec![
            (1, 1),
            (0x5, 3),
            (0xabcd, 16),
            (u64::MAX, 64),
            (0, 7),
            (0x1ff, 9),
            (1 << 56, 57),
            (3, 2),
        ];
        let mut buf = Vec::new();
        let mut w = BitWriter::new(&mut buf, 0);
        for &(v, n) in &items {
            w.write(v, n);
        }
        let total: u32 = items.iter().map(|x| x.1).sum();
        assert_eq!(buf.len(), total.div_ceil(8) as usize);
        let mut r = BitReader::new(&buf[..]);
        for &(v, n) in &items {
            assert_eq!(r.read(n), Some(v), "{n} bits");
        }
        assert_eq!(r.read(8), None, "reading past the end fails");
    }

    /// Pseudo-random (value, bit count) pairs, counts 0..=64.
    fn items(count: usize) -> Vec<(u64, u32)> {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        (0..count).map(|_| (next(), (next() % 65) as u32)).collect()
    }

    /// The bytes the items make, written bit by bit, zero-padded.
    fn reference(items: &[(u64, u32)]) -> (Vec<u8>, usize) {
        let bits: Vec<bool> = items
            .iter()
            .flat_map(|&(v, n)| (0..n).rev().map(move |i| v >> i & 1 == 1))
            .collect();
        let bytes = bits
            .chunks(8)
            .map(|b| {
                b.iter()
                    .enumerate()
                    .fold(0u8, |byte, (i, &bit)| byte | (u8::from(bit) << (7 - i)))
            })
            .collect();
        (bytes, bits.len())
    }

    #[test]
    fn writes_match_a_bit_by_bit_reference_when_resumed_anywhere() {
        let items = items(5_000);
        let mut buf = Vec::new();
        let mut free = 0u8;
        for &(v, n) in &items {
            // A writer made afresh for each value, as the head chunk resumes its stream.
            let mut w = BitWriter::new(&mut buf, free);
            w.write(v, n);
            free = w.free_bits();
        }
        let (want, bits) = reference(&items);
        assert_eq!(
            buf, want,
            "bytes, including the unused low bits of the last one"
        );
        assert_eq!(free as usize, (8 - bits % 8) % 8);
    }

    #[test]
    fn packer_matches_the_bit_by_bit_reference() {
        for count in [0, 1, 2, 7, 100, 5_000] {
            let items = items(count);
            let mut buf = vec![0xa5];
            let mut w = BitPacker::new(&mut buf);
            for &(v, n) in &items {
                w.write(v, n);
            }
            w.finish();
            let (want, _) = reference(&items);
            assert_eq!(buf[0], 0xa5, "bytes before the stream are kept");
            assert_eq!(&buf[1..], &want[..], "{count} items");
        }
    }

    #[test]
    fn exp_golomb_round_trips_extremes() {
        let vals = [0u64, 1, 2, 3, 7, 8, 1000, 1 << 40, u64::MAX - 1, u64::MAX];
        for k in [0u32, 1, 3, 13, 40, 63] {
            let mut buf = Vec::new();
            let mut w = BitPacker::new(&mut buf);
            let mut bits = 0;
            for &v in &vals {
                w.write_exp_golomb(v, k);
                bits += exp_golomb_len(v, k) as usize;
            }
            w.finish();
            assert_eq!(buf.len(), bits.div_ceil(8), "k={k}");
            let mut r = BitReader::new(&buf[..]);
            for &v in &vals {
                assert_eq!(r.read_exp_golomb(k), Some(v), "k={k}");
            }
            assert_eq!(r.position(), bits);
        }
    }

    #[test]
    fn prefix_ones_stop_at_max() {
        let mut buf = Vec::new();
        let mut w = BitWriter::new(&mut buf, 0);
        w.write(0b01_0110_1111, 10);
        let mut r = BitReader::new(&buf[..]);
        assert_eq!(r.read_ones(4), Some(0));
        assert_eq!(r.read_ones(4), Some(1));
        assert_eq!(r.read_ones(4), Some(2));
        assert_eq!(r.read_ones(4), Some(4));
        assert_eq!(r.position(), 10);
    }
}
