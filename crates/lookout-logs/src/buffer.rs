//! Entries awaiting their commit, held compactly: per stream, a column of timestamps, the lines appended to one
//! string, and metadata as indexes into the stream's table of distinct pairs. An entry costs its line and ~24 bytes
//! (an `Entry` cost its line plus ~200: the struct, two or three allocations, `detected_level`'s strings), so the
//! same share of the memory budget holds several times the entries, and a commit builds larger blocks. A block is
//! built from the columns without an `Entry` per line.

use rustc_hash::FxHashMap;

use crate::entry::Entry;

/// What an entry costs beyond its line: timestamp, line end and metadata end (8 + 8 + 4), and growth slack.
const ENTRY_OVERHEAD: u64 = 32;

/// One stream's buffered entries, in push order.
#[derive(Debug, Default, Clone)]
pub struct StreamBuf {
    ts: Vec<i64>,
    /// Line `i` is `text[ends[i-1]..ends[i]]`.
    ends: Vec<usize>,
    text: String,
    /// Entry `i`'s metadata is `pairs[meta_ix[k]]` for `k` in `meta_ends[i-1]..meta_ends[i]`.
    meta_ends: Vec<u32>,
    meta_ix: Vec<u32>,
    pairs: Vec<(String, String)>,
    min_ts: i64,
}

impl StreamBuf {
    /// Entries.
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    /// Entry `i`'s timestamp.
    pub fn ts(&self, i: usize) -> i64 {
        self.ts[i]
    }

    /// Entry `i`'s line.
    pub fn line(&self, i: usize) -> &str {
        let from = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[from..self.ends[i]]
    }

    /// Entry `i`'s metadata pairs.
    pub fn metadata(&self, i: usize) -> impl Iterator<Item = (&str, &str)> + Clone {
        let from = if i == 0 {
            0
        } else {
            self.meta_ends[i - 1] as usize
        };
        self.meta_ix[from..self.meta_ends[i] as usize]
            .iter()
            .map(|&k| {
                let (a, b) = &self.pairs[k as usize];
                (a.as_str(), b.as_str())
            })
    }

    /// Entry `i`, owned.
    pub fn entry(&self, i: usize) -> Entry {
        Entry {
            ts: self.ts[i],
            line: self.line(i).to_owned(),
            metadata: self
                .metadata(i)
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .collect(),
        }
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
        let mut cost = ENTRY_OVERHEAD + line.len() as u64;
        self.min_ts = if self.ts.is_empty() {
            ts
        } else {
            self.min_ts.min(ts)
        };
        self.ts.push(ts);
        self.text.push_str(line);
        self.ends.push(self.text.len());
        for (k, v) in metadata {
            let ix = match self.pairs.iter().position(|(a, b)| a == k && b == v) {
                Some(ix) => ix,
                None => {
                    cost += (k.len() + v.len() + 48) as u64;
                    self.pairs.push((k.to_owned(), v.to_owned()));
                    self.pairs.len() - 1
                }
            };
            self.meta_ix.push(ix as u32);
            cost += 4;
        }
        self.meta_ends.push(self.meta_ix.len() as u32);
        cost
    }

    /// Entry indexes in time order (push order among equal timestamps).
    pub fn time_order(&self) -> Vec<u32> {
        let mut idx: Vec<u32> = (0..self.len() as u32).collect();
        if !self.ts.windows(2).all(|w| w[0] <= w[1]) {
            idx.sort_by_key(|&i| self.ts[i as usize]);
        }
        idx
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
        for (id, s) in &other.streams {
            for i in 0..s.len() {
                self.push_from(*id, s, i);
            }
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
        assert_eq!(s.pairs.len(), 2, "a repeated pair is stored once");
        let mut c = Buffer::default();
        c.absorb(&b);
        assert_eq!((c.len(), c.bytes()), (b.len(), b.bytes()));
        assert_eq!(c.stream(2).unwrap().entry(0), e(-1, "other", &[]));
        // Far below what four `Entry`s cost.
        assert!(b.bytes() < 4 * 80 + 64, "{}", b.bytes());
    }
}
