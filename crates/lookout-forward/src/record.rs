//! The payloads the disk queues hold: one committed sample batch, or one log push, in a compact binary form.
//!
//! Samples are grouped by series inside a record (label set once, then its samples in append order), so each
//! series' order is kept. Strings are length-prefixed (u32 LE); numbers are little-endian.

use lookout_model::{Label, Labels, Sample};
use lookout_storage::logs::{Entry, PushStream};

/// A payload that does not decode: the queue's CRC passed, so this is a version mismatch or a bug.
#[derive(Debug, Clone, thiserror::Error)]
#[error("malformed queue record: {0}")]
pub struct RecordError(&'static str);

/// One series of a sample record.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSamples {
    /// The label set.
    pub labels: Labels,
    /// Samples in append order.
    pub samples: Vec<Sample>,
}

/// Groups `(key, labels, t, v)` in append order by series (`key` identifies the series: its ref, cheaper to hash
/// than its labels), keeping first-seen series order.
pub fn group_samples<K: std::hash::Hash + Eq + Copy>(
    batch: &[(K, Labels, i64, f64)],
) -> Vec<SeriesSamples> {
    let mut index: rustc_hash::FxHashMap<K, usize> = Default::default();
    let mut out: Vec<SeriesSamples> = Vec::new();
    for (key, labels, t, v) in batch {
        let i = *index.entry(*key).or_insert_with(|| {
            out.push(SeriesSamples {
                labels: labels.clone(),
                samples: Vec::new(),
            });
            out.len() - 1
        });
        out[i].samples.push(Sample::new(*t, *v));
    }
    out
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_labels(out: &mut Vec<u8>, labels: &Labels) {
    out.extend_from_slice(&(labels.len() as u32).to_le_bytes());
    for l in labels {
        put_str(out, &l.name);
        put_str(out, &l.value);
    }
}

/// Encodes a sample record.
pub fn encode_samples(series: &[SeriesSamples]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(series.len() as u32).to_le_bytes());
    for s in series {
        put_labels(&mut out, &s.labels);
        out.extend_from_slice(&(s.samples.len() as u32).to_le_bytes());
        for x in &s.samples {
            out.extend_from_slice(&x.t.to_le_bytes());
            out.extend_from_slice(&x.v.to_bits().to_le_bytes());
        }
    }
    out
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], RecordError> {
        if self.0.len() < n {
            return Err(RecordError("truncated"));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u32(&mut self) -> Result<u32, RecordError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64, RecordError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn count(&mut self, min_item: usize) -> Result<usize, RecordError> {
        let n = self.u32()? as usize;
        // Every item takes at least `min_item` bytes: refuse counts the rest cannot hold before allocating.
        if n.saturating_mul(min_item) > self.0.len() {
            return Err(RecordError("count exceeds the record"));
        }
        Ok(n)
    }
    fn str(&mut self) -> Result<&'a str, RecordError> {
        let n = self.u32()? as usize;
        std::str::from_utf8(self.take(n)?).map_err(|_| RecordError("invalid UTF-8"))
    }
    fn labels(&mut self, strings: &mut Strings<'a>) -> Result<Labels, RecordError> {
        let n = self.count(8)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            let name = strings.get(self.str()?);
            let value = strings.get(self.str()?);
            v.push(Label { name, value });
        }
        Ok(Labels::from_sorted_unchecked(v))
    }
}

/// The strings of one record, each allocated once: label names, metric names and most values repeat across a
/// record's series, so its decoded label sets share them.
#[derive(Default)]
struct Strings<'a>(rustc_hash::FxHashMap<&'a str, std::sync::Arc<str>>);

impl<'a> Strings<'a> {
    fn get(&mut self, s: &'a str) -> std::sync::Arc<str> {
        self.0.entry(s).or_insert_with(|| s.into()).clone()
    }
}

/// Decodes a sample record.
pub fn decode_samples(buf: &[u8]) -> Result<Vec<SeriesSamples>, RecordError> {
    let mut c = Cursor(buf);
    let mut strings = Strings::default();
    let n = c.count(8)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let labels = c.labels(&mut strings)?;
        let m = c.count(16)?;
        let mut samples = Vec::with_capacity(m);
        for _ in 0..m {
            let t = c.u64()? as i64;
            let v = f64::from_bits(c.u64()?);
            samples.push(Sample::new(t, v));
        }
        out.push(SeriesSamples { labels, samples });
    }
    Ok(out)
}

/// Encodes a log push record.
pub fn encode_push(push: &[PushStream]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(push.len() as u32).to_le_bytes());
    for s in push {
        put_labels(&mut out, &s.labels);
        out.extend_from_slice(&(s.entries.len() as u32).to_le_bytes());
        for e in &s.entries {
            out.extend_from_slice(&e.ts.to_le_bytes());
            put_str(&mut out, &e.line);
            out.extend_from_slice(&(e.metadata.len() as u32).to_le_bytes());
            for (k, v) in &e.metadata {
                put_str(&mut out, k);
                put_str(&mut out, v);
            }
        }
    }
    out
}

/// Decodes a log push record.
pub fn decode_push(buf: &[u8]) -> Result<Vec<PushStream>, RecordError> {
    let mut c = Cursor(buf);
    let mut strings = Strings::default();
    let n = c.count(8)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let labels = c.labels(&mut strings)?;
        let m = c.count(16)?;
        let mut entries = Vec::with_capacity(m);
        for _ in 0..m {
            let ts = c.u64()? as i64;
            let line = c.str()?.to_owned();
            let k = c.count(8)?;
            let mut metadata = Vec::with_capacity(k);
            for _ in 0..k {
                metadata.push((c.str()?.to_owned(), c.str()?.to_owned()));
            }
            entries.push(Entry { ts, line, metadata });
        }
        out.push(PushStream { labels, entries });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_round_trip_grouped_in_order() {
        let a = Labels::from_pairs(&[("__name__", "a"), ("job", "x")]).unwrap();
        let b = Labels::from_pairs(&[("__name__", "b")]).unwrap();
        let batch = vec![
            (1u64, a.clone(), 1, 1.0),
            (
                2,
                b.clone(),
                1,
                f64::from_bits(lookout_model::STALE_NAN_BITS),
            ),
            (1, a.clone(), 2, -0.0),
        ];
        let grouped = group_samples(&batch);
        assert_eq!(grouped.len(), 2);
        assert_eq!(grouped[0].samples.len(), 2);
        let back = decode_samples(&encode_samples(&grouped)).unwrap();
        assert_eq!(back[0].labels, a);
        assert_eq!(back[0].samples[1].v.to_bits(), (-0.0f64).to_bits());
        assert!(back[1].samples[0].is_stale());
        assert!(decode_samples(&[0xff, 0xff, 0xff, 0x7f]).is_err());
    }

    #[test]
    fn pushes_round_trip() {
        let push = vec![PushStream {
            labels: Labels::from_pairs(&[("job", "x")]).unwrap(),
            entries: vec![Entry {
                ts: 5,
                line: "hello".into(),
                metadata: vec![("trace_id".into(), "abc".into())],
            }],
        }];
        let back = decode_push(&encode_push(&push)).unwrap();
        assert_eq!(back[0].labels, push[0].labels);
        assert_eq!(back[0].entries, push[0].entries);
    }
}
