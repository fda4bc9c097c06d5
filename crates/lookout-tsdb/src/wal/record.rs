//! Payload codec of WAL records: what the head logs, turned into compact bytes and back.
//!
//! Pure functions, no I/O. Framing (length, type, CRC) lives in [`super::segment`]; this module only knows payloads.
//! The byte layout is specified in `docs/format/wal.md`.

use std::collections::HashMap;
use std::sync::Arc;

use lookout_model::{Label, Labels};

/// One entry of the write-ahead log, as the head logs it.
#[derive(Debug, Clone, PartialEq)]
pub enum WalRecord {
    /// New series: reference → labels, logged once when a series is created.
    Series(Vec<(u64, Labels)>),
    /// Samples: series reference, timestamp in ms, value (bit-exact, NaN payloads included).
    Samples(Vec<(u64, i64, f64)>),
}

/// Record type byte of [`WalRecord::Series`]. Zero is never a valid type, so zero-filled space cannot pass as a record.
pub(crate) const TYPE_SERIES: u8 = 1;
/// Record type byte of [`WalRecord::Samples`].
pub(crate) const TYPE_SAMPLES: u8 = 2;

impl WalRecord {
    /// The type byte written in the frame header.
    pub(crate) fn type_byte(&self) -> u8 {
        match self {
            WalRecord::Series(_) => TYPE_SERIES,
            WalRecord::Samples(_) => TYPE_SAMPLES,
        }
    }

    /// Appends this record's payload to `out` (the frame header is written by the caller).
    pub(crate) fn encode_payload(&self, out: &mut Vec<u8>) {
        match self {
            WalRecord::Series(series) => encode_series(series, out),
            WalRecord::Samples(samples) => encode_samples(samples, out),
        }
    }
}

fn encode_series(series: &[(u64, Labels)], out: &mut Vec<u8>) {
    put_uvarint(out, series.len() as u64);
    for (series_ref, labels) in series {
        put_uvarint(out, *series_ref);
        put_uvarint(out, labels.len() as u64);
        for label in labels {
            put_uvarint(out, label.name.len() as u64);
            out.extend_from_slice(label.name.as_bytes());
            put_uvarint(out, label.value.len() as u64);
            out.extend_from_slice(label.value.as_bytes());
        }
    }
}

// Refs and timestamps are zigzag deltas against the previous sample of the batch: a scrape writes one timestamp
// and mostly ascending refs, so both shrink to one byte. The time field carries one more bit, the value's kind:
// a value that is exactly an integer (two thirds of node_exporter's: bytes, counts) is a zigzag varint of that
// integer, anything else its raw 8 bytes. "Exactly" means the integer converts back to the very same bit pattern,
// so -0.0, NaNs (any payload) and fractions take the raw path and every value survives bit for bit.
fn encode_samples(samples: &[(u64, i64, f64)], out: &mut Vec<u8>) {
    put_uvarint(out, samples.len() as u64);
    // Typical scrape samples take 3 to 11 bytes; the vector grows on its own for the rare worse batch.
    out.reserve(samples.len() * 11);
    let (mut prev_ref, mut prev_t) = (0u64, 0i64);
    for &(series_ref, t, v) in samples {
        put_uvarint(out, zigzag(series_ref.wrapping_sub(prev_ref) as i64));
        let int = v as i64;
        let is_int = (int as f64).to_bits() == v.to_bits();
        put_uvarint128(
            out,
            (u128::from(zigzag(t.wrapping_sub(prev_t))) << 1) | u128::from(is_int),
        );
        if is_int {
            put_uvarint(out, zigzag(int));
        } else {
            out.extend_from_slice(&v.to_bits().to_le_bytes());
        }
        (prev_ref, prev_t) = (series_ref, t);
    }
}

/// Why a payload whose CRC matched could not be decoded: a writer bug or a format this build does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DecodeError {
    /// The payload ended inside a field.
    #[error("payload ends inside {field} at payload byte {at}")]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Payload offset where it started.
        at: usize,
    },
    /// A varint ran longer than 10 bytes or overflowed 64 bits.
    #[error("malformed varint at payload byte {at}")]
    BadVarint {
        /// Payload offset of the varint.
        at: usize,
    },
    /// A label name or value is not UTF-8.
    #[error("label {field} at payload byte {at} is not valid utf-8")]
    NotUtf8 {
        /// "name" or "value".
        field: &'static str,
        /// Payload offset of the string.
        at: usize,
    },
    /// Label names are not strictly ascending, or a value is empty.
    #[error("labels of series {series_ref} are not sorted, unique and non-empty")]
    BadLabels {
        /// The series whose label set is malformed.
        series_ref: u64,
    },
    /// Bytes left over after the declared number of entries.
    #[error("{extra} unexpected bytes after the last entry")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// A type byte this build does not know.
    #[error("unknown record type {0}")]
    UnknownType(u8),
}

/// Decodes payloads, sharing label-name strings between series so that replaying millions of series does not
/// allocate the same `__name__`, `job`, `instance` over and over.
#[derive(Default)]
pub(crate) struct RecordDecoder {
    names: HashMap<Box<str>, Arc<str>>,
}

/// Interned label names kept at most; past this, new names are allocated per label (memory stays bounded).
const MAX_INTERNED_NAMES: usize = 16_384;

impl RecordDecoder {
    /// Decodes one payload of the given type.
    pub(crate) fn decode(
        &mut self,
        type_byte: u8,
        payload: &[u8],
    ) -> Result<WalRecord, DecodeError> {
        let mut r = Reader {
            buf: payload,
            pos: 0,
        };
        let record = match type_byte {
            TYPE_SERIES => WalRecord::Series(self.decode_series(&mut r)?),
            TYPE_SAMPLES => WalRecord::Samples(decode_samples(&mut r)?),
            other => return Err(DecodeError::UnknownType(other)),
        };
        if r.pos != payload.len() {
            return Err(DecodeError::TrailingBytes {
                extra: payload.len() - r.pos,
            });
        }
        Ok(record)
    }

    fn decode_series(&mut self, r: &mut Reader<'_>) -> Result<Vec<(u64, Labels)>, DecodeError> {
        let count = r.uvarint()?;
        // Each entry takes at least two bytes, so a count beyond that is a lie: do not let it size the allocation.
        let mut out = Vec::with_capacity((count as usize).min(r.remaining() / 2));
        for _ in 0..count {
            let series_ref = r.uvarint()?;
            let n = r.uvarint()?;
            let mut labels = Vec::with_capacity((n as usize).min(r.remaining() / 4));
            for _ in 0..n {
                let name = self.intern(r.str("name")?);
                let value: Arc<str> = Arc::from(r.str("value")?);
                labels.push(Label { name, value });
            }
            let sorted = labels.windows(2).all(|w| w[0].name < w[1].name);
            if !sorted || labels.iter().any(|l| l.value.is_empty()) {
                return Err(DecodeError::BadLabels { series_ref });
            }
            out.push((series_ref, Labels::from_sorted_unchecked(labels)));
        }
        Ok(out)
    }

    fn intern(&mut self, name: &str) -> Arc<str> {
        if let Some(shared) = self.names.get(name) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(name);
        if self.names.len() < MAX_INTERNED_NAMES {
            self.names.insert(Box::from(name), shared.clone());
        }
        shared
    }
}

fn decode_samples(r: &mut Reader<'_>) -> Result<Vec<(u64, i64, f64)>, DecodeError> {
    let count = r.uvarint()?;
    // Each sample takes at least three bytes.
    let mut out = Vec::with_capacity((count as usize).min(r.remaining() / 3));
    let (mut prev_ref, mut prev_t) = (0u64, 0i64);
    for _ in 0..count {
        let series_ref = prev_ref.wrapping_add(unzigzag(r.uvarint()?) as u64);
        let time_and_kind = r.varint(65)?;
        let t = prev_t.wrapping_add(unzigzag((time_and_kind >> 1) as u64));
        let v = if time_and_kind & 1 == 1 {
            unzigzag(r.uvarint()?) as f64
        } else {
            f64::from_bits(r.fixed_u64()?)
        };
        out.push((series_ref, t, v));
        (prev_ref, prev_t) = (series_ref, t);
    }
    Ok(out)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn uvarint(&mut self) -> Result<u64, DecodeError> {
        self.varint(64).map(|v| v as u64)
    }

    /// A varint of at most `max_bits` significant bits (at most 10 bytes).
    fn varint(&mut self, max_bits: u32) -> Result<u128, DecodeError> {
        let start = self.pos;
        let mut value = 0u128;
        for shift in (0..70).step_by(7) {
            let Some(&byte) = self.buf.get(self.pos) else {
                return Err(DecodeError::Truncated {
                    field: "varint",
                    at: start,
                });
            };
            self.pos += 1;
            value |= u128::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return if value >> max_bits == 0 {
                    Ok(value)
                } else {
                    Err(DecodeError::BadVarint { at: start })
                };
            }
        }
        Err(DecodeError::BadVarint { at: start })
    }

    fn fixed_u64(&mut self) -> Result<u64, DecodeError> {
        let Some(bytes) = self.buf.get(self.pos..self.pos + 8) else {
            return Err(DecodeError::Truncated {
                field: "value",
                at: self.pos,
            });
        };
        self.pos += 8;
        Ok(u64::from_le_bytes(bytes.try_into().expect("8 bytes")))
    }

    fn str(&mut self, field: &'static str) -> Result<&'a str, DecodeError> {
        let len = self.uvarint()?;
        let start = self.pos;
        if len > self.remaining() as u64 {
            return Err(DecodeError::Truncated { field, at: start });
        }
        let bytes = &self.buf[start..start + len as usize];
        self.pos += len as usize;
        std::str::from_utf8(bytes).map_err(|_| DecodeError::NotUtf8 { field, at: start })
    }
}

/// Appends `v` as an LEB128 varint (7 bits per byte, low bits first).
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// [`put_uvarint`] for the 65-bit time-and-kind field.
fn put_uvarint128(out: &mut Vec<u8>, mut v: u128) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(record: &WalRecord) -> WalRecord {
        let mut buf = Vec::new();
        record.encode_payload(&mut buf);
        RecordDecoder::default()
            .decode(record.type_byte(), &buf)
            .expect("decodes")
    }

    fn bits(record: &WalRecord) -> Vec<(u64, i64, u64)> {
        match record {
            WalRecord::Samples(s) => s.iter().map(|&(r, t, v)| (r, t, v.to_bits())).collect(),
            WalRecord::Series(_) => panic!("not samples"),
        }
    }

    #[test]
    fn samples_keep_every_bit_including_nan_payloads() {
        let odd_nan = f64::from_bits(0x7ff0_0000_dead_beef);
        let stale = lookout_model::stale_nan();
        let record = WalRecord::Samples(vec![
            (7, 1_700_000_000_000, 1.0),
            (3, 1_700_000_000_000, odd_nan),
            (u64::MAX, i64::MIN, -0.0),
            (0, i64::MAX, stale),
            (9, -5, f64::INFINITY),
            (9, -5, f64::NAN),
            (1, 0, 9_223_372_036_854_775_808.0), // 2^63: saturates to i64::MAX, which converts back to 2^63
            (2, 0, -9_223_372_036_854_775_808.0),
            (3, 0, 1e300),
            (4, 0, 0.1),
            (5, 0, -17.0),
            (6, 0, 0.0),
        ]);
        let back = round_trip(&record);
        assert_eq!(bits(&back), bits(&record));
    }

    #[test]
    fn scrape_shaped_batch_is_compact() {
        let samples: Vec<_> = (0..1000u64)
            .map(|i| (i, 1_700_000_000_000, (i % 3) as f64))
            .collect();
        let mut buf = Vec::new();
        WalRecord::Samples(samples).encode_payload(&mut buf);
        // One byte each of ref delta, time delta and small integer value, after the first sample.
        assert!(
            buf.len() < 1000 * 3 + 20,
            "{} bytes for 1000 samples",
            buf.len()
        );
    }

    #[test]
    fn series_round_trip_and_share_names() {
        let a = Labels::from_pairs(&[("__name__", "up"), ("job", "node"), ("instance", "a:9100")])
            .unwrap();
        let b = Labels::from_pairs(&[("__name__", "up"), ("job", "node"), ("instance", "ü:1")])
            .unwrap();
        let record = WalRecord::Series(vec![
            (1, a.clone()),
            (u64::MAX, b.clone()),
            (2, Labels::empty()),
        ]);
        let back = round_trip(&record);
        assert_eq!(back, record);
        let WalRecord::Series(s) = back else { panic!() };
        assert!(Arc::ptr_eq(
            &s[0].1.as_slice()[0].name,
            &s[1].1.as_slice()[0].name
        ));
    }

    #[test]
    fn unsorted_labels_are_refused() {
        let mut buf = Vec::new();
        put_uvarint(&mut buf, 1); // one series
        put_uvarint(&mut buf, 5); // ref
        put_uvarint(&mut buf, 2); // two labels, out of order
        for s in ["job", "x", "a", "y"] {
            put_uvarint(&mut buf, s.len() as u64);
            buf.extend_from_slice(s.as_bytes());
        }
        let err = RecordDecoder::default()
            .decode(TYPE_SERIES, &buf)
            .unwrap_err();
        assert_eq!(err, DecodeError::BadLabels { series_ref: 5 });
    }

    #[test]
    fn truncated_trailing_and_unknown_payloads_are_refused() {
        let mut buf = Vec::new();
        WalRecord::Samples(vec![(1, 2, 3.5), (2, 3, 4.5)]).encode_payload(&mut buf);
        let mut dec = RecordDecoder::default();
        for cut in 0..buf.len() {
            assert!(
                dec.decode(TYPE_SAMPLES, &buf[..cut]).is_err(),
                "cut at {cut} decoded"
            );
        }
        buf.push(0);
        assert_eq!(
            dec.decode(TYPE_SAMPLES, &buf),
            Err(DecodeError::TrailingBytes { extra: 1 })
        );
        assert_eq!(dec.decode(0, &[]), Err(DecodeError::UnknownType(0)));
        let overlong = [0xffu8; 11];
        assert!(matches!(
            dec.decode(TYPE_SAMPLES, &overlong),
            Err(DecodeError::BadVarint { at: 0 })
        ));
    }

    proptest! {
        #[test]
        fn any_samples_round_trip(samples in proptest::collection::vec((any::<u64>(), any::<i64>(), any::<u64>()), 0..200)) {
            let record = WalRecord::Samples(samples.iter().map(|&(r, t, b)| (r, t, f64::from_bits(b))).collect());
            prop_assert_eq!(bits(&round_trip(&record)), samples);
        }

        #[test]
        fn integer_values_round_trip(ints in proptest::collection::vec((any::<i64>(), -1_000i64..1_000), 0..200)) {
            let samples: Vec<_> = ints.iter().map(|&(big, small)| (1, small, (big >> (small & 63)) as f64)).collect();
            let record = WalRecord::Samples(samples.clone());
            let expected: Vec<_> = samples.iter().map(|&(r, t, v)| (r, t, v.to_bits())).collect();
            prop_assert_eq!(bits(&round_trip(&record)), expected);
        }

        #[test]
        fn varints_round_trip(v in any::<u64>(), s in any::<i64>()) {
            let mut buf = Vec::new();
            put_uvarint(&mut buf, v);
            put_uvarint(&mut buf, zigzag(s));
            put_uvarint128(&mut buf, (u128::from(v) << 1) | 1);
            let mut r = Reader { buf: &buf, pos: 0 };
            prop_assert_eq!(r.uvarint().unwrap(), v);
            prop_assert_eq!(unzigzag(r.uvarint().unwrap()), s);
            prop_assert_eq!(r.varint(65).unwrap(), (u128::from(v) << 1) | 1);
            prop_assert_eq!(r.remaining(), 0);
        }
    }
}
