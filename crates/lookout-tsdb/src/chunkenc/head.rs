//! The mutable head chunk: Gorilla-style delta-of-delta timestamps and XOR-compressed floats in one bit stream.
//!
//! Layout, most significant bit first: the first sample's timestamp and value bits raw (64 + 64 bits); then per
//! sample a timestamp code and a value code.
//! - Timestamp: `dod` = this delta − previous delta (the second sample's `dod` is its delta). `0` → 0;
//!   `10` + 14-bit, `110` + 17-bit, `1110` + 20-bit two's complement; `1111` + 64 raw bits.
//! - Value: the XOR code of [`super::xor`].
//!
//! All time arithmetic wraps, so any `i64` sequence round-trips; the bucket widths suit millisecond scrape jitter.

use lookout_model::Sample;
use lookout_storage::SampleIter;

use super::bits::{BitReader, BitWriter};
use super::sealed::SealHint;
use super::xor::{XorDecoder, XorEncoder};

/// Most bytes one appended sample can take: (4 + 64) + (2 + 5 + 6 + 64) bits, rounded up.
const MAX_SAMPLE_BYTES: usize = 19;
/// Timestamp delta-of-delta buckets: prefix length → payload bits.
const DOD_BITS: [u32; 5] = [0, 14, 17, 20, 64];

/// The mutable in-memory chunk of a head series: appends only, in time order.
#[derive(Debug, Clone)]
pub struct HeadChunk {
    buf: Vec<u8>,
    /// Unused low bits in the last byte of `buf`.
    free: u8,
    len: u16,
    /// Bytes the chunk is expected to reach (its series' last chunk's size; 0: unknown).
    size_hint: u16,
    /// How the series' last chunk was sealed, for sealing this one.
    seal_hint: SealHint,
    min_t: i64,
    max_t: i64,
    delta: i64,
    xor: XorEncoder,
}

impl Default for HeadChunk {
    fn default() -> Self {
        HeadChunk {
            buf: Vec::new(),
            free: 0,
            len: 0,
            size_hint: 0,
            seal_hint: SealHint::default(),
            min_t: 0,
            max_t: 0,
            delta: 0,
            xor: XorEncoder::new(0),
        }
    }
}

impl HeadChunk {
    /// An empty chunk.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty chunk expected to reach about `bytes` (the size of its series' last chunk): it grows to half of
    /// that, then to all of it, instead of in small steps (growth was a tenth of remote_write's CPU). `seal` is
    /// what sealing the last chunk answered, for [`HeadChunk::to_sealed`].
    pub fn with_hints(bytes: usize, seal: SealHint) -> Self {
        HeadChunk {
            size_hint: bytes.min(u16::MAX as usize) as u16,
            seal_hint: seal,
            ..Self::default()
        }
    }

    /// Appends a sample; `t` must be greater than the last appended timestamp.
    ///
    /// # Panics
    /// When the chunk already holds `u16::MAX` samples (callers cut chunks far earlier).
    #[inline]
    pub fn append(&mut self, t: i64, v: f64) {
        assert!(self.len < u16::MAX, "head chunk full");
        self.reserve_for_sample();
        let bits = v.to_bits();
        let mut w = BitWriter::new(&mut self.buf, self.free);
        if self.len == 0 {
            w.write(t as u64, 64);
            w.write(bits, 64);
            self.min_t = t;
            self.delta = 0;
            self.xor = XorEncoder::new(bits);
        } else {
            let delta = t.wrapping_sub(self.max_t);
            write_dod(&mut w, delta.wrapping_sub(self.delta));
            self.delta = delta;
            self.xor.write(&mut w, bits);
        }
        self.free = w.free_bits();
        self.max_t = t;
        self.len += 1;
    }

    /// Address of the byte the next append reads and writes (for a prefetch hint).
    #[inline]
    pub(crate) fn tail_ptr(&self) -> *const u8 {
        self.buf
            .as_ptr()
            .wrapping_add(self.buf.len().saturating_sub(1))
    }

    /// Grows the buffer to half of the size hint, then to all of it; past the hint (or without one) in small steps (a
    /// quarter of its size, 32 to 256 bytes), so a head series wastes little.
    #[inline]
    fn reserve_for_sample(&mut self) {
        let cap = self.buf.capacity();
        if cap - self.buf.len() < MAX_SAMPLE_BYTES {
            let hint = self.size_hint as usize;
            let target = if cap < hint / 2 { hint / 2 } else { hint } + MAX_SAMPLE_BYTES;
            let step = (cap / 4).clamp(32, 256);
            self.buf
                .reserve_exact(step.max(target.saturating_sub(self.buf.len())));
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// First timestamp (meaningless when empty).
    pub fn min_t(&self) -> i64 {
        self.min_t
    }

    /// Last timestamp (meaningless when empty).
    pub fn max_t(&self) -> i64 {
        self.max_t
    }

    /// Heap bytes held (buffer capacity), for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// Releases spare buffer capacity, e.g. once the chunk is full and will take no more appends.
    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
    }

    /// The encoded bytes; [`HeadChunkIter::new`] decodes them given [`HeadChunk::len`].
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Iterates over the samples.
    pub fn iter(&self) -> HeadChunkIter<&[u8]> {
        HeadChunkIter::new(&self.buf[..], self.len)
    }

    /// Appends the sealed encoding of this chunk's samples to `out` (see [`super::encode_sealed`]): a full head
    /// chunk kept in this form until it is persisted takes several times less memory (nodegen: 0.34 against 2.1
    /// bytes per sample); [`super::SealedIter`] reads it back. Sealed the way the hint this chunk was made with
    /// names ([`HeadChunk::with_hints`]); answers the hint for the series' next chunk.
    pub fn to_sealed(&self, out: &mut Vec<u8>) -> SealHint {
        let mut samples = Vec::with_capacity(self.len());
        self.iter().collect_into(&mut samples);
        super::encode_sealed_hinted(&samples, self.seal_hint, out)
    }
}

#[inline]
fn write_dod(w: &mut BitWriter<'_>, dod: i64) {
    if dod == 0 {
        w.write(0, 1);
    } else if fits_signed(dod, 14) {
        w.write((0b10 << 14) | (dod as u64 & 0x3fff), 16);
    } else if fits_signed(dod, 17) {
        w.write((0b110 << 17) | (dod as u64 & 0x1_ffff), 20);
    } else if fits_signed(dod, 20) {
        w.write((0b1110 << 20) | (dod as u64 & 0xf_ffff), 24);
    } else {
        w.write(0b1111, 4);
        w.write(dod as u64, 64);
    }
}

#[inline]
fn fits_signed(v: i64, bits: u32) -> bool {
    let half = 1i64 << (bits - 1);
    (-half..half).contains(&v)
}

#[inline]
fn sign_extend(v: u64, bits: u32) -> i64 {
    if bits == 64 {
        v as i64
    } else {
        ((v << (64 - bits)) as i64) >> (64 - bits)
    }
}

/// Decodes a head chunk's bytes (borrowed or owned, e.g. `Vec<u8>` or `Arc<[u8]>` copied out of a lock).
///
/// Garbage input never panics: the iterator ends early when the bytes run out or are inconsistent.
#[derive(Debug, Clone)]
pub struct HeadChunkIter<B> {
    r: BitReader<B>,
    len: u16,
    i: u16,
    t: i64,
    delta: i64,
    xor: XorDecoder,
}

impl<B: AsRef<[u8]>> HeadChunkIter<B> {
    /// Decodes `len` samples from `buf` (as produced by [`HeadChunk::bytes`]).
    pub fn new(buf: B, len: u16) -> Self {
        HeadChunkIter {
            r: BitReader::new(buf),
            len,
            i: 0,
            t: 0,
            delta: 0,
            xor: XorDecoder::new(0),
        }
    }

    #[inline]
    fn decode_next(&mut self) -> Option<Sample> {
        let bits = if self.i == 0 {
            self.t = self.r.read(64)? as i64;
            let bits = self.r.read(64)?;
            self.xor = XorDecoder::new(bits);
            bits
        } else {
            let prefix = self.r.read_ones(4)?;
            let dod = match prefix {
                0 => 0,
                p => {
                    let n = DOD_BITS[p as usize];
                    sign_extend(self.r.read(n)?, n)
                }
            };
            self.delta = self.delta.wrapping_add(dod);
            self.t = self.t.wrapping_add(self.delta);
            self.xor.read(&mut self.r)?
        };
        self.i += 1;
        Some(Sample::new(self.t, f64::from_bits(bits)))
    }
}

impl<B: AsRef<[u8]> + Send> SampleIter for HeadChunkIter<B> {
    #[inline]
    fn next(&mut self) -> Option<Sample> {
        if self.i >= self.len {
            return None;
        }
        let s = self.decode_next();
        if s.is_none() {
            // Inconsistent bytes: stop for good rather than yield garbage later.
            self.i = self.len;
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn collect<I: SampleIter>(mut it: I) -> Vec<Sample> {
        let mut out = Vec::new();
        it.collect_into(&mut out);
        out
    }

    #[test]
    fn round_trips_regular_and_irregular_samples() {
        let input = [
            (1_700_000_000_000, 1.0),
            (1_700_000_015_000, 1.0),
            (1_700_000_030_000, 2.5),
            (1_700_000_045_003, -0.0),
            (1_700_000_060_000, f64::NAN),
            (1_700_100_000_000, lookout_model::stale_nan()),
            (1_700_100_000_001, f64::INFINITY),
            (i64::MAX, f64::MIN_POSITIVE),
        ];
        let mut c = HeadChunk::new();
        for &(t, v) in &input {
            c.append(t, v);
        }
        assert_eq!(c.len(), input.len());
        assert_eq!((c.min_t(), c.max_t()), (1_700_000_000_000, i64::MAX));
        let got = collect(c.iter());
        assert_eq!(got.len(), input.len());
        for (g, &(t, v)) in got.iter().zip(&input) {
            assert!(g.bits_eq(&Sample::new(t, v)), "{g:?} != {t} {v}");
        }
    }

    #[test]
    fn owned_copies_decode_like_the_chunk() {
        let mut c = HeadChunk::new();
        for i in 0..120 {
            c.append(i * 15_000, (i * i) as f64 * 0.25);
        }
        let shared: Arc<[u8]> = Arc::from(c.bytes());
        let from_arc = collect(HeadChunkIter::new(shared, c.len() as u16));
        let owned: Vec<u8> = c.bytes().to_vec();
        let from_vec = collect(HeadChunkIter::new(owned, c.len() as u16));
        let direct = collect(c.iter());
        assert_eq!(direct.len(), 120);
        assert_eq!(from_arc, direct);
        assert_eq!(from_vec, direct);
    }

    #[test]
    fn regular_counter_is_compact_and_memory_is_capacity() {
        let mut c = HeadChunk::new();
        for i in 0..120i64 {
            c.append(1_700_000_000_000 + i * 15_000, 1000.0 + i as f64);
        }
        // 16 bytes raw start, then 1 bit per timestamp and ~10 bits per XOR'd integer.
        assert!(c.bytes().len() < 180, "{} bytes", c.bytes().len());
        assert!(c.heap_bytes() >= c.bytes().len());
        assert!(
            c.heap_bytes() <= c.bytes().len() + 64,
            "grows in small steps: {}",
            c.heap_bytes()
        );
        c.shrink_to_fit();
        assert_eq!(c.heap_bytes(), c.bytes().len());
        c.append(1_700_000_000_000 + 120 * 15_000, 1120.0);
        let last = collect(c.iter()).pop();
        assert_eq!(
            last,
            Some(Sample::new(1_700_000_000_000 + 120 * 15_000, 1120.0)),
            "appends work after shrinking"
        );
    }

    #[test]
    fn a_size_hint_grows_the_buffer_in_two_steps_and_changes_no_byte() {
        let fill = |c: &mut HeadChunk| {
            let mut growths = 0;
            for i in 0..120i64 {
                let cap = c.buf.capacity();
                c.append(
                    1_700_000_000_000 + i * 15_000 + (i * 7) % 13,
                    (i * i) as f64 * 1.7,
                );
                growths += usize::from(c.buf.capacity() != cap);
            }
            growths
        };
        let mut plain = HeadChunk::new();
        let plain_growths = fill(&mut plain);
        let mut hinted = HeadChunk::with_hints(plain.bytes().len(), SealHint::default());
        let hinted_growths = fill(&mut hinted);
        assert_eq!(hinted.bytes(), plain.bytes());
        assert!(hinted_growths <= 2, "{hinted_growths} growths");
        assert!(plain_growths > 4, "{plain_growths} growths without a hint");
        assert!(hinted.heap_bytes() <= plain.bytes().len() + MAX_SAMPLE_BYTES);
    }

    #[test]
    fn truncated_bytes_end_early_without_panic() {
        let mut c = HeadChunk::new();
        for i in 0..50i64 {
            c.append(i * 1000 + (i * 7919) % 13, (i as f64).sin());
        }
        for cut in 0..c.bytes().len() {
            let got = collect(HeadChunkIter::new(&c.bytes()[..cut], 50));
            assert!(got.len() < 50);
        }
    }
}
