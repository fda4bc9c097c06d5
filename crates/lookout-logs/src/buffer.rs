//! Entries awaiting their commit, held compactly: per stream, a column of timestamps, the lines appended to one
//! string, and metadata as indexes into the stream's table of distinct pairs. An entry costs its line and ~24 bytes
//! (an `Entry` cost its line plus ~200: the struct, two or three allocations, `detected_level`'s strings), so the
//! same share of the memory budget holds several times the entries, and a commit builds larger blocks. A block is
//! built from the columns without an `Entry` per line.

use lookout_model::EntryColumns;
use rustc_hash::FxHashMap;

use crate::entry::Entry;

/// One stream's buffered entries, in push order.
#[derive(Debug, Default, Clone)]
pub struct StreamBuf {
    cols: EntryColumns,
    min_ts: i64,
}

impl StreamBuf {
    /// Entries.
    pub fn len(&self) -> usize {
        self.cols.len()
    }

    /// Entry `i`'s timestamp.
    pub fn ts(&self, i: usize) -> i64 {
        self.cols.ts(i)
    }

    /// Entry `i`'s line.
    pub fn line(&self, i: usize) -> &str {
        self.cols.line(i)
    }

    /// Entry `i`'s metadata pairs.
    pub fn metadata(&self, i: usize) -> impl Iterator<Item = (&str, &str)> + Clone {
        self.cols.metadata(i)
    }

    /// Entry `i`, owned.
    pub fn entry(&self, i: usize) -> Entry {
        Entry::from_columns(&self.cols, i)
    }

    /// The earliest timestamp held.
    pub fn min_ts(&self) -> i64 {
        self.min_ts
    }

    /// Appends an entry from its parts; returns the bytes it costs.
    fn push<'a>(
        &mut self,
        ts: i64,
        line: &str,
        metadata: impl Iterator<Item = (&'a str, &'a str)>,
    ) -> u64 {
        self.min_ts = if self.cols.is_empty() {
            ts
        } else {
            self.min_ts.min(ts)
        };
        self.cols.push(ts, line, metadata)
    }

    /// Appends entries `range` of `from` (`remap`: scratch); returns the bytes they cost.
    fn append(
        &mut self,
        from: &EntryColumns,
        range: std::ops::Range<usize>,
        remap: &mut Vec<u32>,
    ) -> u64 {
        let Some(&least) = from.timestamps()[range.clone()].iter().min() else {
            return 0;
        };
        self.min_ts = if self.cols.is_empty() {
            least
        } else {
            self.min_ts.min(least)
        };
        self.cols.append_range(from, range, remap)
    }

    /// Entry indexes in time order (push order among equal timestamps).
    pub fn time_order(&self) -> Vec<u32> {
        self.cols.time_order()
    }
}

/// Buffered entries of every stream, with what they cost against the backlog limit.
#[derive(Debug, Default, Clone)]
pub struct Buffer {
    streams: FxHashMap<u64, StreamBuf>,
    len: usize,
    bytes: u64,
}

impl Buffer {
    /// Appends `e` to stream `id`.
    pub fn push(&mut self, id: u64, e: &Entry) {
        let meta = e.metadata.iter().map(|(a, b)| (a.as_str(), b.as_str()));
        self.bytes += self
            .streams
            .entry(id)
            .or_default()
            .push(e.ts, &e.line, meta);
        self.len += 1;
    }

    /// Appends entries `range` of `from` to stream `id` (`remap`: scratch space, reused across calls).
    pub fn append(
        &mut self,
        id: u64,
        from: &EntryColumns,
        range: std::ops::Range<usize>,
        remap: &mut Vec<u32>,
    ) {
        self.len += range.len();
        self.bytes += self
            .streams
            .entry(id)
            .or_default()
            .append(from, range, remap);
    }

    /// Appends entry `i` of `from` to stream `id`.
    pub fn push_from(&mut self, id: u64, from: &StreamBuf, i: usize) {
        self.bytes +=
            self.streams
                .entry(id)
                .or_default()
                .push(from.ts(i), from.line(i), from.metadata(i));
        self.len += 1;
    }

    /// Appends everything of `other`.
    pub fn absorb(&mut self, other: &Buffer) {
        let mut remap = Vec::new();
        for (id, s) in &other.streams {
            self.append(*id, &s.cols, 0..s.len(), &mut remap);
        }
    }

    /// Entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// What the entries cost against the backlog limit (lines, columns, metadata tables).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Each stream's entries.
    pub fn streams(&self) -> impl Iterator<Item = (u64, &StreamBuf)> {
        self.streams.iter().map(|(id, s)| (*id, s))
    }

    /// Stream `id`'s entries.
    pub fn stream(&self, id: u64) -> Option<&StreamBuf> {
        self.streams.get(&id)
    }

    /// The earliest timestamp held, if any.
    pub fn min_ts(&self) -> Option<i64> {
        self.streams.values().map(StreamBuf::min_ts).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(ts: i64, line: &str, meta: &[(&str, &str)]) -> Entry {
        Entry {
            ts,
            line: line.into(),
            metadata: meta
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        }
    }

    #[test]
    fn holds_entries_per_stream_and_gives_them_back() {
        let mut b = Buffer::default();
        let entries = [
            e(5, "five", &[("detected_level", "info")]),
            e(3, "three ✓", &[]),
            e(5, "", &[("detected_level", "info"), ("trace", "x")]),
        ];
        for x in &entries {
            b.push(1, x);
        }
        b.push(2, &e(-1, "other", &[]));
        assert_eq!(b.len(), 4);
        assert_eq!(b.min_ts(), Some(-1));
        let s = b.stream(1).unwrap();
        let back: Vec<Entry> = (0..s.len()).map(|i| s.entry(i)).collect();
        assert_eq!(back, entries);
        assert_eq!(s.time_order(), [1, 0, 2]);
        assert_eq!(s.cols.distinct_pairs(), 2, "a repeated pair is stored once");
        let mut c = Buffer::default();
        c.absorb(&b);
        assert_eq!((c.len(), c.bytes()), (b.len(), b.bytes()));
        assert_eq!(c.stream(2).unwrap().entry(0), e(-1, "other", &[]));
        // Far below what four `Entry`s cost.
        assert!(b.bytes() < 4 * 80 + 64, "{}", b.bytes());
    }
}
