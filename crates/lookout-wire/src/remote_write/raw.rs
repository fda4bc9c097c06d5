//! A borrowing reader of remote_write 1.0 requests for the ingest fast path.
//!
//! Series come out one at a time as slices of the decompressed body: the protobuf bytes of their labels (a cache
//! key; decoded only on a miss) and their samples, parsed into a reused buffer. No message tree is built. The
//! reader handles the shapes senders write; on anything else (a wire type prost would refuse, labels split by other
//! fields, exemplars or native histograms, a malformed varint or length) it answers [`NotSimple`], and the caller
//! decodes the request with prost instead, whose answer, error or not, is the authoritative one.

use lookout_model::{Labels, Sample};
use prost::Message;

use super::decode::{LabelInterner, build_labels};
use super::{WireError, WireLimits, proto};

/// The request is not in the simple shape this reader handles; decode it with prost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotSimple;

/// One series of a 1.0 request, borrowed from the body and the reader.
#[derive(Debug)]
pub struct RawSeries<'r, 'b> {
    /// Position of the series in the request.
    pub index: usize,
    /// The series' `labels` fields exactly as sent (tags included): equal bytes decode to equal label sets.
    pub label_bytes: &'b [u8],
    /// The series' float samples in request order.
    pub samples: &'r [Sample],
}

/// Reads the series of a decompressed 1.0 request in order.
pub struct RawReader<'b> {
    body: &'b [u8],
    pos: usize,
    index: usize,
    samples: Vec<Sample>,
}

impl<'b> RawReader<'b> {
    /// A reader at the start of `body` (the decompressed `WriteRequest`).
    pub fn new(body: &'b [u8]) -> Self {
        RawReader {
            body,
            pos: 0,
            index: 0,
            samples: Vec::new(),
        }
    }

    /// How many series the request holds (reading only its top level); the reader is left at the end.
    pub fn count_series(&mut self) -> Result<usize, NotSimple> {
        let body = self.body;
        let mut n = 0;
        while self.pos < body.len() {
            let (field, wire_type) = read_key(body, &mut self.pos)?;
            if field == 1 && wire_type == WT_LEN {
                n += 1;
            }
            skip(body, &mut self.pos, wire_type)?;
        }
        Ok(n)
    }

    /// The next series, `None` at the end of the request.
    pub fn next_series(&mut self) -> Result<Option<RawSeries<'_, 'b>>, NotSimple> {
        let body = self.body;
        while self.pos < body.len() {
            let (field, wire_type) = read_key(body, &mut self.pos)?;
            match (field, wire_type) {
                (1, WT_LEN) => {
                    let series = read_len(body, &mut self.pos)?;
                    let label_bytes = read_time_series(series, &mut self.samples)?;
                    let index = self.index;
                    self.index += 1;
                    return Ok(Some(RawSeries {
                        index,
                        label_bytes,
                        samples: &self.samples,
                    }));
                }
                (3, WT_LEN) => {
                    // Metadata is not stored, but a request prost would refuse must still be refused.
                    let m = read_len(body, &mut self.pos)?;
                    proto::MetricMetadata::decode(m).map_err(|_| NotSimple)?;
                }
                (1 | 3, _) => return Err(NotSimple),
                _ => skip(body, &mut self.pos, wire_type)?,
            }
        }
        Ok(None)
    }
}

const WT_VARINT: u8 = 0;
const WT_I64: u8 = 1;
const WT_LEN: u8 = 2;
const WT_I32: u8 = 5;

/// Parses one `TimeSeries`: returns its label bytes, leaves its samples in `samples`.
fn read_time_series<'b>(ts: &'b [u8], samples: &mut Vec<Sample>) -> Result<&'b [u8], NotSimple> {
    samples.clear();
    let mut pos = 0;
    let mut labels: Option<(usize, usize)> = None;
    let mut labels_closed = false;
    while pos < ts.len() {
        let start = pos;
        let (field, wire_type) = read_key(ts, &mut pos)?;
        match (field, wire_type) {
            (1, WT_LEN) => {
                read_len(ts, &mut pos)?;
                labels = match labels {
                    None => Some((start, pos)),
                    Some((s, e)) if e == start && !labels_closed => Some((s, pos)),
                    // Labels split by another field: not one slice.
                    Some(_) => return Err(NotSimple),
                };
            }
            (2, WT_LEN) => {
                labels_closed |= labels.is_some();
                samples.push(read_sample(read_len(ts, &mut pos)?)?);
            }
            // Exemplars and native histograms are only counted; prost's path counts (and checks) them.
            (1..=4, _) => return Err(NotSimple),
            _ => {
                labels_closed |= labels.is_some();
                skip(ts, &mut pos, wire_type)?;
            }
        }
    }
    Ok(labels.map_or(&ts[..0], |(s, e)| &ts[s..e]))
}

/// Parses one `Sample` as prost does: missing fields are zero, a repeated field's last value wins.
fn read_sample(m: &[u8]) -> Result<Sample, NotSimple> {
    let (mut t, mut v) = (0i64, 0f64);
    let mut pos = 0;
    while pos < m.len() {
        let (field, wire_type) = read_key(m, &mut pos)?;
        match (field, wire_type) {
            (1, WT_I64) => {
                let bytes = m.get(pos..pos + 8).ok_or(NotSimple)?;
                v = f64::from_le_bytes(bytes.try_into().map_err(|_| NotSimple)?);
                pos += 8;
            }
            (2, WT_VARINT) => t = read_varint(m, &mut pos)? as i64,
            (1 | 2, _) => return Err(NotSimple),
            _ => skip(m, &mut pos, wire_type)?,
        }
    }
    Ok(Sample::new(t, v))
}

/// Whether `label_bytes` (as [`RawSeries::label_bytes`]) spell exactly `labels`, in order, each label as a name
/// field then a value field with shortest varints (how senders write them). Any other spelling answers `false`
/// (the caller then decodes the bytes).
pub fn labels_match(label_bytes: &[u8], labels: &Labels) -> bool {
    let mut pos = 0;
    for l in labels.iter() {
        let (name, value) = (l.name.as_bytes(), l.value.as_bytes());
        let message =
            1 + varint_len(name.len()) + name.len() + 1 + varint_len(value.len()) + value.len();
        let ok = expect_byte(label_bytes, &mut pos, 0x0a)
            && expect_varint(label_bytes, &mut pos, message)
            && expect_byte(label_bytes, &mut pos, 0x0a)
            && expect_varint(label_bytes, &mut pos, name.len())
            && expect_bytes(label_bytes, &mut pos, name)
            && expect_byte(label_bytes, &mut pos, 0x12)
            && expect_varint(label_bytes, &mut pos, value.len())
            && expect_bytes(label_bytes, &mut pos, value);
        if !ok {
            return false;
        }
    }
    pos == label_bytes.len()
}

fn varint_len(n: usize) -> usize {
    (usize::BITS - (n | 1).leading_zeros()).div_ceil(7) as usize
}

fn expect_byte(buf: &[u8], pos: &mut usize, b: u8) -> bool {
    let ok = buf.get(*pos) == Some(&b);
    *pos += 1;
    ok
}

fn expect_varint(buf: &[u8], pos: &mut usize, mut n: usize) -> bool {
    loop {
        let byte = if n < 0x80 {
            n as u8
        } else {
            (n as u8 & 0x7f) | 0x80
        };
        if !expect_byte(buf, pos, byte) {
            return false;
        }
        n >>= 7;
        if n == 0 {
            return true;
        }
    }
}

fn expect_bytes(buf: &[u8], pos: &mut usize, want: &[u8]) -> bool {
    let ok = buf.get(*pos..*pos + want.len()) == Some(want);
    *pos += want.len();
    ok
}

/// Decodes and validates the label set of `series` (the authoritative path: prost for each label, then the same
/// checks as the full decoder).
pub fn decode_labels<'b>(
    series: &RawSeries<'_, 'b>,
    limits: &WireLimits,
    interner: &mut LabelInterner<'b>,
    pairs: &mut Vec<(&'b [u8], &'b [u8])>,
) -> Result<Labels, DecodeLabelsError> {
    pairs.clear();
    let mut pos = 0;
    let bytes = series.label_bytes;
    while pos < bytes.len() {
        read_key(bytes, &mut pos).map_err(|_| DecodeLabelsError::NotSimple)?;
        let m = read_len(bytes, &mut pos).map_err(|_| DecodeLabelsError::NotSimple)?;
        let (name, value) = label_fields(m).ok_or(DecodeLabelsError::NotSimple)?;
        pairs.push((name, value));
    }
    build_labels(series.index, pairs, limits, interner).map_err(DecodeLabelsError::Invalid)
}

/// Why [`decode_labels`] gave no label set.
#[derive(Debug)]
pub enum DecodeLabelsError {
    /// The label messages are not in the simple shape: decode the request with prost.
    NotSimple,
    /// The labels are invalid or over a limit.
    Invalid(WireError),
}

/// A `Label` message's name and value as prost reads them (last occurrence wins, unknown fields skipped), without
/// copying.
fn label_fields(m: &[u8]) -> Option<(&[u8], &[u8])> {
    let (mut name, mut value): (&[u8], &[u8]) = (&[], &[]);
    let mut pos = 0;
    while pos < m.len() {
        let (field, wire_type) = read_key(m, &mut pos).ok()?;
        match (field, wire_type) {
            (1, WT_LEN) => name = read_len(m, &mut pos).ok()?,
            (2, WT_LEN) => value = read_len(m, &mut pos).ok()?,
            (1 | 2, _) => return None,
            _ => skip(m, &mut pos, wire_type).ok()?,
        }
    }
    Some((name, value))
}

#[inline]
fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, NotSimple> {
    // Keys and label lengths are nearly all one byte: that case inline, the rest out of line.
    if let Some(&byte) = buf.get(*pos)
        && byte < 0x80
    {
        *pos += 1;
        return Ok(u64::from(byte));
    }
    read_varint_long(buf, pos)
}

#[inline(never)]
fn read_varint_long(buf: &[u8], pos: &mut usize) -> Result<u64, NotSimple> {
    let mut value = 0u64;
    for i in 0..10 {
        let byte = *buf.get(*pos).ok_or(NotSimple)?;
        *pos += 1;
        if i == 9 && byte > 1 {
            return Err(NotSimple);
        }
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Ok(value);
        }
    }
    Err(NotSimple)
}

/// A field key: (field number, wire type). Field 0 is invalid, as in prost.
fn read_key(buf: &[u8], pos: &mut usize) -> Result<(u64, u8), NotSimple> {
    let key = read_varint(buf, pos)?;
    let field = key >> 3;
    if field == 0 || key > u64::from(u32::MAX) {
        return Err(NotSimple);
    }
    Ok((field, (key & 7) as u8))
}

fn read_len<'b>(buf: &'b [u8], pos: &mut usize) -> Result<&'b [u8], NotSimple> {
    let len = usize::try_from(read_varint(buf, pos)?).map_err(|_| NotSimple)?;
    let end = pos.checked_add(len).ok_or(NotSimple)?;
    let out = buf.get(*pos..end).ok_or(NotSimple)?;
    *pos = end;
    Ok(out)
}

/// Skips an unknown field's value; groups (wire types 3 and 4) are left to prost.
fn skip(buf: &[u8], pos: &mut usize, wire_type: u8) -> Result<(), NotSimple> {
    match wire_type {
        WT_VARINT => read_varint(buf, pos).map(drop),
        WT_LEN => read_len(buf, pos).map(drop),
        WT_I64 | WT_I32 => {
            let n = if wire_type == WT_I64 { 8 } else { 4 };
            let end = pos
                .checked_add(n)
                .filter(|&e| e <= buf.len())
                .ok_or(NotSimple)?;
            *pos = end;
            Ok(())
        }
        _ => Err(NotSimple),
    }
}

#[cfg(test)]
mod tests;
