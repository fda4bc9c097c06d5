//! The sealed (at-rest) chunk encoding: what goes to disk.
//!
//! Layout (varints are LEB128, signed ones zig-zagged):
//! - byte 0: bits 0–2 format version (1); bit 3 timestamps are evenly spaced; bits 4–7 the value kind: 0–6
//!   decimal with scale 10^k, 7–13 the same with an exceptions list (k + 7), 15 Gorilla XOR;
//! - varint sample count `n` (≤ [`MAX_SEALED_SAMPLES`]); when `n` > 0: min_t (signed), max_t − min_t;
//! - timestamps, unless evenly spaced or `n` ≤ 2: an [`intseq`](super::intseq) after min_t;
//! - values, decimal: [exceptions: count, then per entry the gap to the previous index, a tag byte (0 stale
//!   marker, 1 NaN, 2 +Inf, 3 −Inf, 4 −0.0, 5 other: 8 raw bytes follow)], the first integer (signed), an
//!   intseq of the rest; value `i` is `mᵢ / 10^k`, computed exactly so, which is how every encoded value was checked
//!   to round-trip bit for bit;
//! - values, XOR: the first value's 64 bits, then XOR codes, padded to a byte.

use lookout_model::{STALE_NAN_BITS, Sample};

use super::ChunkError;
use super::bits::{BitReader, BitWriter};
use super::intseq::{Way, decode_ints, encode_ints_as};
use super::varint::{ByteCursor, put_ivarint, put_uvarint};
use super::xor::{XorDecoder, XorEncoder};

/// The most samples one sealed chunk may hold; bounds what decoding garbage can allocate.
pub const MAX_SEALED_SAMPLES: usize = 1 << 20;

const VERSION: u8 = 1;
const TS_REGULAR: u8 = 1 << 3;
/// Largest decimal scale tried: values with more decimal places are exceptions or go to XOR.
const MAX_SCALE: u32 = 6;
const KIND_EXCEPTIONS: u8 = 7;
const KIND_XOR: u8 = 15;
const POW10: [f64; MAX_SCALE as usize + 1] = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6];

const TAG_STALE: u8 = 0;
const TAG_NAN: u8 = 1;
const TAG_POS_INF: u8 = 2;
const TAG_NEG_INF: u8 = 3;
const TAG_NEG_ZERO: u8 = 4;
const TAG_RAW: u8 = 5;

/// What a sealed chunk's header says, read without decoding the samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedInfo {
    /// Number of samples.
    pub samples: usize,
    /// First timestamp (0 when empty).
    pub min_t: i64,
    /// Last timestamp (0 when empty).
    pub max_t: i64,
}

/// What a series' last sealing chose (the timestamps' and the values' integer coding), so that sealing its next
/// chunk, usually alike, sizes one way instead of searching them all. Three hinted sealings are followed by a full
/// search, so a series whose data changed finds its better way again within four chunks. One byte: bits
/// 0–2 the timestamps' way, 3–5 the values' way (0: none), 6–7 hinted sealings left before the next search.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SealHint(u8);

/// Hinted sealings between two full searches.
const HINTED_SEALINGS: u8 = 3;

impl SealHint {
    /// A hint from its byte, to test that any hint decodes.
    #[cfg(test)]
    pub(crate) fn from_byte(byte: u8) -> SealHint {
        SealHint(byte)
    }

    /// The ways to take without a search, or `None` when a search is due.
    fn ways(self) -> Option<(Option<Way>, Option<Way>)> {
        (self.0 >> 6 != 0).then(|| {
            (
                Way::from_code(self.0 & 7),
                Way::from_code((self.0 >> 3) & 7),
            )
        })
    }

    /// The hint after a sealing that took `ts` and `values` (`None`: that part used no integer coding).
    fn after(self, searched: bool, ts: Option<Way>, values: Option<Way>) -> SealHint {
        let keep = |new: Option<Way>, old: u8| new.map_or(old, Way::code);
        let left = if searched {
            HINTED_SEALINGS
        } else {
            (self.0 >> 6).saturating_sub(1)
        };
        SealHint(keep(ts, self.0 & 7) | (keep(values, (self.0 >> 3) & 7) << 3) | (left << 6))
    }
}

/// Encodes samples (time-ordered) into the compact at-rest form, appending to `out`.
///
/// # Panics
/// When given more than [`MAX_SEALED_SAMPLES`] samples.
pub fn encode_sealed(samples: &[Sample], out: &mut Vec<u8>) {
    encode_sealed_hinted(samples, SealHint::default(), out);
}

/// [`encode_sealed`] taking the ways `hint` names instead of searching, when it names them; answers the hint for
/// the series' next chunk. The bytes decode the same either way; a hint only trades size for time.
///
/// # Panics
/// When given more than [`MAX_SEALED_SAMPLES`] samples.
pub fn encode_sealed_hinted(samples: &[Sample], hint: SealHint, out: &mut Vec<u8>) -> SealHint {
    let n = samples.len();
    assert!(
        n <= MAX_SEALED_SAMPLES,
        "sealed chunk of {n} samples exceeds {MAX_SEALED_SAMPLES}"
    );
    let head_at = out.len();
    out.push(VERSION);
    put_uvarint(out, n as u64);
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        return hint;
    };
    let ways = hint.ways();
    let (ts_hint, value_hint) = ways.unwrap_or((None, None));
    put_ivarint(out, first.t);
    let span = last.t.wrapping_sub(first.t);
    put_uvarint(out, span as u64);
    let mut flags = 0u8;
    let mut ts_way = None;
    if n >= 3 {
        let ts: Vec<i64> = samples.iter().map(|s| s.t).collect();
        if is_regular(&ts, span) {
            flags |= TS_REGULAR;
        } else {
            ts_way = encode_ints_as(&ts, ts_hint, out);
        }
    } else {
        flags |= TS_REGULAR;
    }
    let mut value_way = None;
    let kind = match decimal_plan(samples) {
        Some(plan) => {
            let (kind, way) = plan.write(value_hint, out);
            value_way = way;
            kind
        }
        None => {
            write_xor(samples, out);
            KIND_XOR
        }
    };
    out[head_at] = VERSION | flags | (kind << 4);
    hint.after(ways.is_none(), ts_way, value_way)
}

fn is_regular(ts: &[i64], span: i64) -> bool {
    let step = (span as u64 / (ts.len() as u64 - 1)) as i64;
    ts.iter()
        .enumerate()
        .all(|(i, &t)| t == ts[0].wrapping_add((i as i64).wrapping_mul(step)))
}

/// The value `m / 10^k` decodes to; encoding checks each value against exactly this.
#[inline]
fn descale(m: i64, k: u32) -> f64 {
    if k == 0 {
        m as f64
    } else {
        m as f64 / POW10[k as usize]
    }
}

/// `v` as an integer at scale 10^k, when that round-trips bit for bit.
#[inline]
fn scaled(v: f64, k: u32) -> Option<i64> {
    let s = v * POW10[k as usize];
    // Both bounds exclude NaN; ±2^63 itself does not fit an i64.
    if !(s > -9.2e18 && s < 9.2e18) {
        return None;
    }
    // Nearest integer without `f64::round` (a libm call on baseline x86-64); the check below catches any miss.
    let t = s as i64;
    let frac = s - t as f64;
    let m = if frac >= 0.5 {
        t + 1
    } else if frac <= -0.5 {
        t - 1
    } else {
        t
    };
    (descale(m, k).to_bits() == v.to_bits()).then_some(m)
}

/// Values as decimals: the scale, the integers, and the values that do not fit.
struct DecimalPlan {
    scale: u32,
    ints: Vec<i64>,
    /// (index, bits) of values stored verbatim.
    exceptions: Vec<(usize, u64)>,
}

/// Most exceptions a decimal chunk may carry before XOR is used instead.
fn exception_limit(n: usize) -> usize {
    n / 8 + 1
}

fn decimal_plan(samples: &[Sample]) -> Option<DecimalPlan> {
    let limit = exception_limit(samples.len());
    let mut scale = 0u32;
    let mut misfits = 0usize;
    for s in samples {
        if scaled(s.v, scale).is_some() {
            continue;
        }
        match (scale + 1..=MAX_SCALE).find(|&k| scaled(s.v, k).is_some()) {
            Some(k) => scale = k,
            None => {
                misfits += 1;
                if misfits > limit {
                    return None;
                }
            }
        }
    }
    let mut ints = Vec::with_capacity(samples.len());
    let mut exceptions = Vec::new();
    let mut last: Option<i64> = None;
    for (i, s) in samples.iter().enumerate() {
        match scaled(s.v, scale) {
            Some(m) => {
                if last.is_none() {
                    // Leading exceptions repeat the first integer, keeping the differences small.
                    ints.iter_mut().for_each(|x| *x = m);
                }
                ints.push(m);
                last = Some(m);
            }
            None => {
                exceptions.push((i, s.v.to_bits()));
                ints.push(last.unwrap_or(0));
            }
        }
    }
    (exceptions.len() <= limit).then_some(DecimalPlan {
        scale,
        ints,
        exceptions,
    })
}

impl DecimalPlan {
    /// Writes the values (the integers the way `hint` names, if any); answers the value kind for the header byte
    /// and the integers' way.
    fn write(&self, hint: Option<Way>, out: &mut Vec<u8>) -> (u8, Option<Way>) {
        let mut kind = self.scale as u8;
        if !self.exceptions.is_empty() {
            kind += KIND_EXCEPTIONS;
            put_uvarint(out, self.exceptions.len() as u64);
            let mut next = 0usize;
            for &(i, bits) in &self.exceptions {
                put_uvarint(out, (i - next) as u64);
                next = i + 1;
                match bits {
                    STALE_NAN_BITS => out.push(TAG_STALE),
                    b if b == f64::NAN.to_bits() => out.push(TAG_NAN),
                    b if b == f64::INFINITY.to_bits() => out.push(TAG_POS_INF),
                    b if b == f64::NEG_INFINITY.to_bits() => out.push(TAG_NEG_INF),
                    b if b == (-0.0f64).to_bits() => out.push(TAG_NEG_ZERO),
                    b => {
                        out.push(TAG_RAW);
                        out.extend_from_slice(&b.to_le_bytes());
                    }
                }
            }
        }
        put_ivarint(out, self.ints[0]);
        (kind, encode_ints_as(&self.ints, hint, out))
    }
}

fn write_xor(samples: &[Sample], out: &mut Vec<u8>) {
    let first = samples[0].v.to_bits();
    let mut w = BitWriter::new(out, 0);
    w.write(first, 64);
    let mut xor = XorEncoder::new(first);
    for s in &samples[1..] {
        xor.write(&mut w, s.v.to_bits());
    }
}

/// Header fields and where the body starts.
fn read_header(bytes: &[u8]) -> Result<(u8, SealedInfo, ByteCursor<'_>), ChunkError> {
    let mut cur = ByteCursor::new(bytes, 0);
    let head = cur.byte()?;
    if head & 7 != VERSION {
        return Err(ChunkError::Corrupt(format!(
            "sealed chunk version {} at byte 0, expected {VERSION}",
            head & 7
        )));
    }
    let n = cur.uvarint()?;
    if n > MAX_SEALED_SAMPLES as u64 {
        return Err(ChunkError::Corrupt(format!(
            "sealed chunk claims {n} samples, limit {MAX_SEALED_SAMPLES}"
        )));
    }
    let mut info = SealedInfo {
        samples: n as usize,
        min_t: 0,
        max_t: 0,
    };
    if n > 0 {
        info.min_t = cur.ivarint()?;
        info.max_t = info.min_t.wrapping_add(cur.uvarint()? as i64);
    }
    Ok((head, info, cur))
}

/// Sample count and time range of a sealed chunk, from its header alone.
pub fn sealed_info(bytes: &[u8]) -> Result<SealedInfo, ChunkError> {
    read_header(bytes).map(|(_, info, _)| info)
}

/// Decodes a sealed chunk into its samples, appending to `out`. Garbage yields an error, never a panic, and
/// leaves `out` as it was.
pub fn decode_sealed(bytes: &[u8], out: &mut Vec<Sample>) -> Result<(), ChunkError> {
    let before = out.len();
    let result = decode_into(bytes, out).map(|_| ());
    if result.is_err() {
        out.truncate(before);
    }
    result
}

/// Decodes sealed chunks written back to back (each [`encode_sealed`]'s output, in time order), appending their
/// samples to `out`. The head seals a series' chunks of one block this way, so that sealing the next one does not
/// re-encode those before it. Garbage, or parts out of time order, yield an error and leave `out` as it was.
pub fn decode_sealed_parts(bytes: &[u8], out: &mut Vec<Sample>) -> Result<(), ChunkError> {
    let before = out.len();
    let result = decode_parts_into(bytes, out);
    if result.is_err() {
        out.truncate(before);
    }
    result
}

fn decode_parts_into(bytes: &[u8], out: &mut Vec<Sample>) -> Result<(), ChunkError> {
    let mut pos = 0;
    let mut prev_max_t = None;
    while pos < bytes.len() {
        let first = out.len();
        let used = decode_into(&bytes[pos..], out).map_err(|e| match e {
            ChunkError::Truncated { offset } => ChunkError::Truncated {
                offset: pos + offset,
            },
            ChunkError::Corrupt(what) => {
                ChunkError::Corrupt(format!("{what} (part at byte {pos})"))
            }
        })?;
        if let (Some(prev), Some(next)) = (prev_max_t, out.get(first))
            && next.t <= prev
        {
            return Err(ChunkError::Corrupt(format!(
                "part at byte {pos} starts at {} after a part ending at {prev}",
                next.t
            )));
        }
        if out.len() > first {
            prev_max_t = out.last().map(|s| s.t);
        }
        pos += used;
    }
    Ok(())
}

/// Decodes one sealed chunk from the start of `bytes`; answers the bytes it took.
fn decode_into(bytes: &[u8], out: &mut Vec<Sample>) -> Result<usize, ChunkError> {
    let (head, info, mut cur) = read_header(bytes)?;
    let n = info.samples;
    if n == 0 {
        return Ok(cur.pos);
    }
    let mut ts = Vec::with_capacity(n);
    if head & TS_REGULAR != 0 {
        let step = if n > 1 {
            (info.max_t.wrapping_sub(info.min_t) as u64 / (n as u64 - 1)) as i64
        } else {
            0
        };
        ts.extend((0..n).map(|i| info.min_t.wrapping_add((i as i64).wrapping_mul(step))));
    } else {
        if n < 3 {
            return Err(ChunkError::Corrupt(format!(
                "irregular timestamps flagged for {n} samples"
            )));
        }
        decode_ints(&mut cur, info.min_t, n, &mut ts)?;
    }
    out.reserve(n);
    match head >> 4 {
        KIND_XOR => {
            let mut r = BitReader::at_byte(cur.buf, cur.pos);
            let truncated = |r: &BitReader<&[u8]>| ChunkError::Truncated {
                offset: r.position() / 8,
            };
            let first = r.read(64).ok_or_else(|| truncated(&r))?;
            let mut xor = XorDecoder::new(first);
            out.push(Sample::new(ts[0], f64::from_bits(first)));
            for &t in &ts[1..] {
                let bits = xor.read(&mut r).ok_or_else(|| truncated(&r))?;
                out.push(Sample::new(t, f64::from_bits(bits)));
            }
            cur.pos = r.next_byte();
        }
        kind @ 0..=13 => {
            let (scale, has_exceptions) = if kind >= KIND_EXCEPTIONS {
                ((kind - KIND_EXCEPTIONS) as u32, true)
            } else {
                (kind as u32, false)
            };
            if scale > MAX_SCALE {
                return Err(ChunkError::Corrupt(format!(
                    "decimal scale {scale} in header byte {head:#04x}"
                )));
            }
            let exceptions = if has_exceptions {
                read_exceptions(&mut cur, n)?
            } else {
                Vec::new()
            };
            let first = cur.ivarint()?;
            let mut ints = Vec::with_capacity(n);
            decode_ints(&mut cur, first, n, &mut ints)?;
            let start = out.len();
            out.extend(
                ts.iter()
                    .zip(&ints)
                    .map(|(&t, &m)| Sample::new(t, descale(m, scale))),
            );
            for (i, bits) in exceptions {
                out[start + i].v = f64::from_bits(bits);
            }
        }
        kind => {
            return Err(ChunkError::Corrupt(format!(
                "value kind {kind} in header byte {head:#04x}"
            )));
        }
    }
    Ok(cur.pos)
}

fn read_exceptions(cur: &mut ByteCursor<'_>, n: usize) -> Result<Vec<(usize, u64)>, ChunkError> {
    let count = cur.uvarint()?;
    if count == 0 || count > n as u64 {
        return Err(ChunkError::Corrupt(format!(
            "{count} exceptions for {n} samples at byte {}",
            cur.pos
        )));
    }
    let mut exceptions = Vec::with_capacity(count as usize);
    let mut next = 0u64;
    for _ in 0..count {
        let i = next.saturating_add(cur.uvarint()?);
        if i >= n as u64 {
            return Err(ChunkError::Corrupt(format!(
                "exception index {i} of {n} samples at byte {}",
                cur.pos
            )));
        }
        next = i + 1;
        let at = cur.pos;
        let bits = match cur.byte()? {
            TAG_STALE => STALE_NAN_BITS,
            TAG_NAN => f64::NAN.to_bits(),
            TAG_POS_INF => f64::INFINITY.to_bits(),
            TAG_NEG_INF => f64::NEG_INFINITY.to_bits(),
            TAG_NEG_ZERO => (-0.0f64).to_bits(),
            TAG_RAW => u64::from_le_bytes(cur.array()?),
            tag => {
                return Err(ChunkError::Corrupt(format!(
                    "exception tag {tag} at byte {at}"
                )));
            }
        };
        exceptions.push((i as usize, bits));
    }
    Ok(exceptions)
}

#[cfg(test)]
#[path = "sealed_tests.rs"]
mod tests;
