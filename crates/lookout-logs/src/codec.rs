//! The binary form of entries, shared by WAL records and the index's block documents: LEB128 varints, timestamps
//! as zig-zag deltas from the previous entry (so a block of one stream's entries in time order costs a byte or two
//! per timestamp), lines and structured metadata as length-prefixed UTF-8. Decoding checks every length and every
//! string, so a damaged record is refused, never misread.

use lookout_model::EntryColumns;
use rustc_hash::FxHashMap;

use crate::entry::Entry;
use crate::rice::put_rice;

/// Why bytes are not a valid encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed entry encoding at byte {at}: {what}")]
pub struct DecodeError {
    /// Offset of the fault.
    pub at: usize,
    /// What was wrong.
    pub what: &'static str,
}

/// Appends `v` as an unsigned LEB128 varint.
pub fn put_u64(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` zig-zag encoded.
pub fn put_i64(out: &mut Vec<u8>, v: i64) {
    put_u64(out, ((v << 1) ^ (v >> 63)) as u64);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u64(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Appends `entries`: their count, then each entry's timestamp (a delta from the previous one, the first from
/// `base_ts`), line and metadata. The reference form in tests; the store writes [`put_column_entries`].
#[cfg(test)]
pub fn put_entries<'a>(
    out: &mut Vec<u8>,
    base_ts: i64,
    entries: impl ExactSizeIterator<Item = &'a Entry>,
) {
    put_u64(out, entries.len() as u64);
    let mut prev = base_ts;
    for e in entries {
        put_entry(
            out,
            &mut prev,
            e.ts,
            &e.line,
            e.metadata.len(),
            e.metadata.iter().map(|(a, b)| (a.as_str(), b.as_str())),
        );
    }
}

/// [`put_entries`] for entries `range` of `cols`: the same bytes.
pub fn put_column_entries(
    out: &mut Vec<u8>,
    base_ts: i64,
    cols: &EntryColumns,
    range: std::ops::Range<usize>,
) {
    put_u64(out, range.len() as u64);
    let mut prev = base_ts;
    for i in range {
        let meta = cols.metadata(i);
        put_entry(out, &mut prev, cols.ts(i), cols.line(i), meta.len(), meta);
    }
}

fn put_entry<'a>(
    out: &mut Vec<u8>,
    prev: &mut i64,
    ts: i64,
    line: &str,
    pairs: usize,
    metadata: impl Iterator<Item = (&'a str, &'a str)>,
) {
    put_i64(out, ts.wrapping_sub(*prev));
    *prev = ts;
    put_str(out, line);
    put_u64(out, pairs as u64);
    for (k, v) in metadata {
        put_str(out, k);
        put_str(out, v);
    }
}

/// Entries a block is built from, by position.
pub trait EntrySource {
    /// Entry `i`'s timestamp.
    fn ts(&self, i: usize) -> i64;
    /// Entry `i`'s line.
    fn line(&self, i: usize) -> &str;
    /// Appends entry `i`'s metadata pairs to `out`.
    fn metadata_into<'s>(&'s self, i: usize, out: &mut Vec<(&'s str, &'s str)>);
}

impl EntrySource for [Entry] {
    fn ts(&self, i: usize) -> i64 {
        self[i].ts
    }
    fn line(&self, i: usize) -> &str {
        &self[i].line
    }
    fn metadata_into<'s>(&'s self, i: usize, out: &mut Vec<(&'s str, &'s str)>) {
        out.extend(
            self[i]
                .metadata
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str())),
        );
    }
}

impl EntrySource for crate::buffer::StreamBuf {
    fn ts(&self, i: usize) -> i64 {
        crate::buffer::StreamBuf::ts(self, i)
    }
    fn line(&self, i: usize) -> &str {
        crate::buffer::StreamBuf::line(self, i)
    }
    fn metadata_into<'s>(&'s self, i: usize, out: &mut Vec<(&'s str, &'s str)>) {
        out.extend(crate::buffer::StreamBuf::metadata(self, i));
    }
}

/// Appends one block of entries (`idx` of `src`, in that order) in columns, for the index's doc store, where zstd
/// compresses like with like: the count; the first timestamp, the greatest common divisor of the later deltas
/// (shippers stamp in ms or µs, so the deltas shrink by 10⁶ or 10³) and the deltas divided by it; every line
/// length; every line; then the metadata as `layout` says. Returns where the text begins: what comes before it
/// (count and timestamps) is numbers a compressor cannot shrink.
pub fn put_block<S: EntrySource + ?Sized>(
    out: &mut Vec<u8>,
    src: &S,
    idx: &[u32],
    layout: BlockFormat,
) -> usize {
    let start = out.len();
    put_u64(out, idx.len() as u64);
    let Some(&first) = idx.first() else {
        return out.len() - start;
    };
    let mut text_at = 0;
    put_i64(out, src.ts(first as usize));
    let deltas = idx
        .windows(2)
        .map(|w| src.ts(w[1] as usize).wrapping_sub(src.ts(w[0] as usize)));
    let unit = match deltas.clone().fold(0u64, |g, d| gcd(g, d.unsigned_abs())) {
        // No deltas, all zero, or only i64::MIN (whose divisor 2⁶³ is no i64).
        0 => 1,
        g if g > i64::MAX as u64 => 1,
        g => g,
    };
    put_u64(out, unit);
    // `unit` divides every delta, so the division is exact (and `unit` ≥ 2 excludes i64::MIN / -1).
    let scaled = deltas.map(|d| if unit == 1 { d } else { d / unit as i64 });
    match layout {
        BlockFormat::Earlier => {
            for d in scaled {
                put_i64(out, d);
            }
            for &i in idx {
                put_u64(out, src.line(i as usize).len() as u64);
            }
            for &i in idx {
                out.extend_from_slice(src.line(i as usize).as_bytes());
            }
        }
        BlockFormat::Current => {
            let zigzag: Vec<u64> = scaled.map(|d| ((d << 1) ^ (d >> 63)) as u64).collect();
            put_rice(out, &zigzag);
            text_at = out.len() - start;
            let joined = !idx.iter().any(|&i| src.line(i as usize).contains('\n'));
            out.push(u8::from(!joined));
            if joined {
                let text: usize = idx
                    .iter()
                    .map(|&i| src.line(i as usize).len())
                    .sum::<usize>()
                    + idx.len()
                    - 1;
                put_u64(out, text as u64);
                for (k, &i) in idx.iter().enumerate() {
                    if k > 0 {
                        out.push(b'\n');
                    }
                    out.extend_from_slice(src.line(i as usize).as_bytes());
                }
            } else {
                for &i in idx {
                    put_u64(out, src.line(i as usize).len() as u64);
                }
                for &i in idx {
                    out.extend_from_slice(src.line(i as usize).as_bytes());
                }
            }
        }
    }
    // Every entry's pairs in one list (`ends[k]`: where entry k's end).
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let mut ends: Vec<usize> = Vec::with_capacity(idx.len());
    for &i in idx {
        src.metadata_into(i as usize, &mut pairs);
        ends.push(pairs.len());
    }
    let per_entry = ends.iter().scan(0, |from, &to| {
        let m = &pairs[*from..to];
        *from = to;
        Some(m)
    });
    match layout {
        BlockFormat::Earlier => {
            for m in per_entry {
                put_u64(out, m.len() as u64);
                for (k, v) in m {
                    put_str(out, k);
                    put_str(out, v);
                }
            }
        }
        BlockFormat::Current => {
            let mut index: FxHashMap<(&str, &str), u64> = FxHashMap::default();
            let mut table: Vec<(&str, &str)> = Vec::new();
            for &kv in &pairs {
                index.entry(kv).or_insert_with(|| {
                    table.push(kv);
                    table.len() as u64 - 1
                });
            }
            put_u64(out, table.len() as u64);
            for (k, v) in &table {
                put_str(out, k);
                put_str(out, v);
            }
            for m in per_entry {
                put_u64(out, m.len() as u64);
                for kv in m {
                    put_u64(out, index[kv]);
                }
            }
        }
    }
    text_at
}

/// How a block lays out its columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockFormat {
    /// Earlier versions' (compressed by tantivy's doc store): timestamp deltas as zigzag varints, line lengths,
    /// lines, each entry's metadata pairs in full.
    Earlier,
    /// Compressed on its own: timestamp deltas Rice-coded ([`crate::rice`]); the lines joined by newlines when none
    /// holds one (zstd predicts a newline from the text around it almost for free, where a length column added 5 %
    /// to the compressed block on loggen data), else length-prefixed; the block's distinct metadata pairs once, then
    /// each entry's pairs as indexes into them.
    Current,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// A cursor over encoded bytes.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Reads `buf` from its start.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn fail(&self, what: &'static str) -> DecodeError {
        DecodeError { at: self.pos, what }
    }

    /// The next byte.
    pub fn byte(&mut self) -> Result<u8, DecodeError> {
        let Some(&b) = self.buf.get(self.pos) else {
            return Err(self.fail("byte cut short"));
        };
        self.pos += 1;
        Ok(b)
    }

    /// The next `len` bytes.
    pub fn take(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        let Some(b) = self.buf.get(self.pos..self.pos.saturating_add(len)) else {
            return Err(self.fail("bytes cut short"));
        };
        self.pos += len;
        Ok(b)
    }

    /// An error at the current position.
    pub fn fail_at(&self, what: &'static str) -> DecodeError {
        self.fail(what)
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Whether every byte was read.
    pub fn is_empty(&self) -> bool {
        self.pos == self.buf.len()
    }

    /// The next unsigned varint.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(self.fail("varint cut short"));
            };
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.fail("varint longer than 10 bytes"))
    }

    /// The next 8 bytes, little-endian.
    pub fn fixed_u64(&mut self) -> Result<u64, DecodeError> {
        let Some(b) = self.buf.get(self.pos..self.pos + 8) else {
            return Err(self.fail("u64 cut short"));
        };
        self.pos += 8;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    /// The next zig-zag varint.
    pub fn i64(&mut self) -> Result<i64, DecodeError> {
        let v = self.u64()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    /// A count of items each at least `min_bytes` long: refused when the rest cannot hold them (so a damaged
    /// count never allocates).
    fn count(&mut self, min_bytes: usize) -> Result<usize, DecodeError> {
        let n = self.u64()?;
        let left = (self.buf.len() - self.pos) as u64;
        if n.saturating_mul(min_bytes as u64) > left {
            return Err(self.fail("count larger than the bytes left"));
        }
        Ok(n as usize)
    }

    /// A count of items each at least `min_bytes` long (see `count`).
    pub fn count_of(&mut self, min_bytes: usize) -> Result<usize, DecodeError> {
        self.count(min_bytes)
    }

    /// A length-prefixed UTF-8 string.
    pub fn string(&mut self) -> Result<String, DecodeError> {
        self.str()
    }

    /// Checks and steps over a length-prefixed UTF-8 string.
    pub fn skip_string(&mut self) -> Result<(), DecodeError> {
        let len = self.count(1)?;
        let bytes = &self.buf[self.pos..self.pos + len];
        std::str::from_utf8(bytes).map_err(|_| self.fail("string is not UTF-8"))?;
        self.pos += len;
        Ok(())
    }

    fn str(&mut self) -> Result<String, DecodeError> {
        let len = self.count(1)?;
        let bytes = &self.buf[self.pos..self.pos + len];
        let s = std::str::from_utf8(bytes).map_err(|_| self.fail("string is not UTF-8"))?;
        self.pos += len;
        Ok(s.to_owned())
    }

    /// Entries written by [`put_entries`] with the same `base_ts`.
    pub fn entries(&mut self, base_ts: i64) -> Result<Vec<Entry>, DecodeError> {
        let n = self.count(3)?;
        let mut out = Vec::with_capacity(n);
        let mut prev = base_ts;
        for _ in 0..n {
            let ts = prev.wrapping_add(self.i64()?);
            prev = ts;
            let line = self.str()?;
            let m = self.count(2)?;
            let mut metadata = Vec::with_capacity(m);
            for _ in 0..m {
                metadata.push((self.str()?, self.str()?));
            }
            out.push(Entry { ts, line, metadata });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(ts: i64, line: &str, meta: &[(&str, &str)]) -> Entry {
        Entry {
            ts,
            line: line.into(),
            metadata: meta
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn entries_round_trip_with_any_timestamps() {
        let entries = vec![
            entry(i64::MAX, "max", &[]),
            entry(i64::MIN, "min", &[("trace_id", "abc")]),
            entry(0, "", &[("k", ""), ("", "v")]),
            entry(-5, "ünïcødé ✓", &[]),
        ];
        let mut buf = Vec::new();
        put_entries(&mut buf, 17, entries.iter());
        let mut r = Reader::new(&buf);
        assert_eq!(r.entries(17).unwrap(), entries);
        assert!(r.is_empty());
    }

    #[test]
    fn blocks_round_trip_with_any_time_steps() {
        let cases: Vec<Vec<Entry>> = vec![
            vec![],
            vec![entry(5, "one", &[])],
            // Millisecond stamps (unit 10⁶), equal and decreasing ones.
            vec![
                entry(
                    1_700_000_000_000_000_000,
                    "a",
                    &[("detected_level", "info")],
                ),
                entry(1_700_000_000_003_000_000, "b", &[]),
                entry(1_700_000_000_003_000_000, "", &[("k", "v"), ("x", "")]),
                entry(1_700_000_000_001_000_000, "ü ✓", &[]),
            ],
            // Extremes: deltas that wrap.
            vec![
                entry(i64::MIN, "min", &[]),
                entry(i64::MAX, "max", &[]),
                entry(0, "zero", &[]),
            ],
            vec![
                entry(0, "a", &[]),
                entry(i64::MIN, "b", &[]),
                entry(i64::MIN + 2, "c", &[]),
            ],
            vec![entry(0, "a", &[]), entry(i64::MIN, "b", &[])],
            // A line holding a newline (length-prefixed lines), and empty lines around it.
            vec![
                entry(1, "", &[]),
                entry(2, "stack:\n  at main\n", &[]),
                entry(3, "", &[]),
            ],
            vec![entry(1, "", &[]), entry(2, "", &[])],
        ];
        for (entries, layout) in cases
            .iter()
            .flat_map(|c| [BlockFormat::Earlier, BlockFormat::Current].map(|l| (c.clone(), l)))
        {
            let idx: Vec<u32> = (0..entries.len() as u32).collect();
            let mut buf = Vec::new();
            put_block(&mut buf, entries.as_slice(), &idx, layout);
            let view = crate::block_view::BlockView::parse(buf.clone(), layout).unwrap();
            let got: Vec<Entry> = (0..view.len())
                .map(|i| view.entry_with_line(i, view.line(i).unwrap()))
                .collect();
            assert_eq!(got, entries);
            for cut in 0..buf.len() {
                assert!(
                    crate::block_view::BlockView::parse(buf[..cut].to_vec(), layout).is_err(),
                    "cut at {cut}"
                );
            }
            let mut longer = buf.clone();
            longer.push(0);
            assert!(crate::block_view::BlockView::parse(longer, layout).is_err());
        }
    }

    #[test]
    fn damaged_bytes_are_refused_not_misread() {
        let mut buf = Vec::new();
        put_entries(&mut buf, 0, [entry(1, "hello", &[("a", "b")])].iter());
        for cut in 0..buf.len() {
            assert!(Reader::new(&buf[..cut]).entries(0).is_err(), "cut at {cut}");
        }
        let mut bad = buf.clone();
        bad[3] = 0xff; // inside "hello": not UTF-8
        assert_eq!(
            Reader::new(&bad).entries(0).unwrap_err().what,
            "string is not UTF-8"
        );
        // A huge count does not allocate.
        let mut huge = Vec::new();
        put_u64(&mut huge, u64::MAX);
        assert!(Reader::new(&huge).entries(0).is_err());
    }
}
