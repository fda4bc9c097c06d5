//! One log stream's entries held in columns: timestamps, the lines appended to one string, and structured metadata
//! as indexes into a table of the stream's distinct pairs. A push body decodes straight into this shape and the log
//! store's backlog holds it, so an entry costs its line and a few integers instead of a line, a metadata vector and
//! its strings, each allocated and freed per entry.

use std::hash::Hasher;

use hashbrown::HashTable;
use rustc_hash::FxHasher;

/// Pairs a stream's table is searched for linearly before a map indexes it: most streams have a handful (the
/// detected level, a few fixed values), while per-entry values such as trace ids would make a linear search
/// quadratic.
const LINEAR_PAIRS: usize = 16;

/// A stream's entries in columns, in push order.
#[derive(Debug, Default, Clone)]
pub struct EntryColumns {
    ts: Vec<i64>,
    /// Line `i` is `text[ends[i-1]..ends[i]]`.
    ends: Vec<usize>,
    text: String,
    /// Entry `i`'s metadata is `pairs[meta_ix[k]]` for `k` in `meta_ends[i-1]..meta_ends[i]`.
    meta_ends: Vec<u32>,
    meta_ix: Vec<u32>,
    pairs: Vec<(String, String)>,
    /// Index of `pairs` once it outgrows [`LINEAR_PAIRS`]: pair indexes, found by the pair's hash and compared in
    /// `pairs`, so a lookup allocates nothing and no pair is stored twice.
    pair_map: Option<HashTable<u32>>,
}

/// The hash a metadata pair is indexed by.
fn pair_hash(k: &str, v: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(k.as_bytes());
    // A byte no UTF-8 text holds, so ("ab", "c") and ("a", "bc") differ.
    h.write_u8(0xff);
    h.write(v.as_bytes());
    h.finish()
}

/// What an entry costs beyond its line: timestamp, line end and metadata end (8 + 8 + 4), and growth slack.
pub const ENTRY_OVERHEAD: u64 = 32;

/// What a distinct metadata pair costs beyond its bytes (two strings and table slots).
const PAIR_OVERHEAD: u64 = 48;

impl EntryColumns {
    /// Empty columns with room for `entries` entries of `text_bytes` bytes of lines in all.
    pub fn with_capacity(entries: usize, text_bytes: usize) -> Self {
        EntryColumns {
            ts: Vec::with_capacity(entries),
            ends: Vec::with_capacity(entries),
            text: String::with_capacity(text_bytes),
            meta_ends: Vec::with_capacity(entries),
            ..Default::default()
        }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    /// Entry `i`'s timestamp (Unix nanoseconds).
    pub fn ts(&self, i: usize) -> i64 {
        self.ts[i]
    }

    /// Every timestamp, by entry.
    pub fn timestamps(&self) -> &[i64] {
        &self.ts
    }

    /// Entry `i`'s line.
    pub fn line(&self, i: usize) -> &str {
        let from = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[from..self.ends[i]]
    }

    /// Entry `i`'s line length in bytes.
    pub fn line_len(&self, i: usize) -> usize {
        let from = if i == 0 { 0 } else { self.ends[i - 1] };
        self.ends[i] - from
    }

    /// The bytes of every line together.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Entry `i`'s metadata pairs, in push order.
    pub fn metadata(&self, i: usize) -> impl ExactSizeIterator<Item = (&str, &str)> + Clone {
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

    /// The distinct metadata pairs of the stream (each stored once).
    pub fn distinct_pairs(&self) -> usize {
        self.pairs.len()
    }

    /// Appends an entry; returns what it costs held (its line, [`ENTRY_OVERHEAD`], new metadata pairs).
    pub fn push<'a>(
        &mut self,
        ts: i64,
        line: &str,
        metadata: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> u64 {
        self.text.push_str(line);
        self.finish_entry(ts, metadata) + line.len() as u64
    }

    /// The line being built: text appended here before [`finish_entry`](Self::finish_entry) (or dropped by
    /// [`abandon_line`](Self::abandon_line)) becomes the next entry's line. A decoder writes an unescaped line here
    /// without a string of its own.
    pub fn line_buffer(&mut self) -> &mut String {
        &mut self.text
    }

    /// Where the line being built starts in [`line_buffer`](Self::line_buffer).
    pub fn line_start(&self) -> usize {
        self.ends.last().copied().unwrap_or(0)
    }

    /// Drops the line being built.
    pub fn abandon_line(&mut self) {
        let start = self.line_start();
        self.text.truncate(start);
    }

    /// Ends the entry whose line was appended to [`line_buffer`](Self::line_buffer); returns what it costs beyond
    /// its line.
    pub fn finish_entry<'a>(
        &mut self,
        ts: i64,
        metadata: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> u64 {
        let mut cost = ENTRY_OVERHEAD;
        self.ts.push(ts);
        self.ends.push(self.text.len());
        for (k, v) in metadata {
            let (ix, added) = self.pair_index(k, v);
            if added {
                cost += (k.len() + v.len()) as u64 + PAIR_OVERHEAD;
            }
            self.meta_ix.push(ix);
            cost += 4;
        }
        self.meta_ends.push(self.meta_ix.len() as u32);
        cost
    }

    /// The table index of pair `(k, v)`, added when new (`true`).
    fn pair_index(&mut self, k: &str, v: &str) -> (u32, bool) {
        let pairs = &self.pairs;
        let found = match &self.pair_map {
            Some(map) => map
                .find(pair_hash(k, v), |&ix| {
                    let (a, b) = &pairs[ix as usize];
                    a == k && b == v
                })
                .copied(),
            None => pairs
                .iter()
                .position(|(a, b)| a == k && b == v)
                .map(|ix| ix as u32),
        };
        if let Some(ix) = found {
            return (ix, false);
        }
        let ix = self.pairs.len() as u32;
        self.pairs.push((k.to_owned(), v.to_owned()));
        let pairs = &self.pairs;
        let rehash = |&ix: &u32| {
            let (a, b) = &pairs[ix as usize];
            pair_hash(a, b)
        };
        if let Some(map) = &mut self.pair_map {
            map.insert_unique(pair_hash(k, v), ix, rehash);
        } else if pairs.len() > LINEAR_PAIRS {
            let mut map = HashTable::with_capacity(pairs.len() * 2);
            for i in 0..pairs.len() as u32 {
                map.insert_unique(rehash(&i), i, rehash);
            }
            self.pair_map = Some(map);
        }
        (ix, true)
    }

    /// Appends entries `range` of `other`; returns what they cost held here. The lines are copied in one piece.
    /// `remap` is scratch space (other's pair index → this one's, filled as pairs are met and reset after), so
    /// appending a push stream by stream allocates nothing per stream.
    pub fn append_range(
        &mut self,
        other: &EntryColumns,
        range: std::ops::Range<usize>,
        remap: &mut Vec<u32>,
    ) -> u64 {
        if range.is_empty() {
            return 0;
        }
        let text_from = if range.start == 0 {
            0
        } else {
            other.ends[range.start - 1]
        };
        let text_to = other.ends[range.end - 1];
        let meta_from = if range.start == 0 {
            0
        } else {
            other.meta_ends[range.start - 1] as usize
        };
        let meta_to = other.meta_ends[range.end - 1] as usize;
        let n = range.len() as u64;
        let mut cost = (text_to - text_from) as u64 + ENTRY_OVERHEAD * n;
        let base = self.text.len();
        self.text.push_str(&other.text[text_from..text_to]);
        self.ts.extend_from_slice(&other.ts[range.clone()]);
        self.ends.extend(
            other.ends[range.clone()]
                .iter()
                .map(|e| e - text_from + base),
        );
        // Slots are reset after use (below) rather than cleared here, so a push of many streams and many distinct
        // pairs does not pay for the whole table per stream.
        if remap.len() < other.pairs.len() {
            remap.resize(other.pairs.len(), u32::MAX);
        }
        let meta_base = self.meta_ix.len() as u32;
        for &k in &other.meta_ix[meta_from..meta_to] {
            let slot = &mut remap[k as usize];
            if *slot == u32::MAX {
                let (kk, vv) = &other.pairs[k as usize];
                let (ix, added) = self.pair_index(kk, vv);
                if added {
                    cost += (kk.len() + vv.len()) as u64 + PAIR_OVERHEAD;
                }
                *slot = ix;
            }
            self.meta_ix.push(*slot);
        }
        self.meta_ends.extend(
            other.meta_ends[range]
                .iter()
                .map(|e| e - meta_from as u32 + meta_base),
        );
        for &k in &other.meta_ix[meta_from..meta_to] {
            remap[k as usize] = u32::MAX;
        }
        cost + 4 * (meta_to - meta_from) as u64
    }

    /// Adds one pair to the metadata of every entry `pick` gives one for (`pick` sees the entry's index, line and
    /// metadata so far); the line text is untouched, only the index columns are rebuilt.
    pub fn add_metadata_with(
        &mut self,
        key: &str,
        mut pick: impl FnMut(usize, &str, &[(&str, &str)]) -> Option<&'static str>,
    ) {
        let mut scratch: Vec<(&str, &str)> = Vec::new();
        let picks: Vec<Option<&'static str>> = (0..self.len())
            .map(|i| {
                scratch.clear();
                scratch.extend(self.metadata(i));
                pick(i, self.line(i), &scratch)
            })
            .collect();
        drop(scratch);
        if picks.iter().all(Option::is_none) {
            return;
        }
        let old_ix = std::mem::take(&mut self.meta_ix);
        let old_ends = std::mem::take(&mut self.meta_ends);
        self.meta_ix = Vec::with_capacity(old_ix.len() + picks.len());
        self.meta_ends = Vec::with_capacity(old_ends.len());
        let mut from = 0usize;
        // Values repeat (a handful of levels): their pair indexes are looked up once each.
        let mut known: Vec<(&'static str, u32)> = Vec::new();
        for (i, pick) in picks.into_iter().enumerate() {
            let to = old_ends[i] as usize;
            self.meta_ix.extend_from_slice(&old_ix[from..to]);
            from = to;
            if let Some(v) = pick {
                let ix = match known.iter().find(|(k, _)| *k == v) {
                    Some(&(_, ix)) => ix,
                    None => {
                        let ix = self.pair_index(key, v).0;
                        known.push((v, ix));
                        ix
                    }
                };
                self.meta_ix.push(ix);
            }
            self.meta_ends.push(self.meta_ix.len() as u32);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(c: &EntryColumns, i: usize) -> Vec<(String, String)> {
        c.metadata(i)
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect()
    }

    #[test]
    fn entries_come_back_as_pushed_with_pairs_stored_once() {
        let mut c = EntryColumns::default();
        c.push(5, "five", [("detected_level", "info")]);
        c.push(3, "three ✓", []);
        c.push(5, "", [("detected_level", "info"), ("trace", "x")]);
        assert_eq!(c.len(), 3);
        assert_eq!((c.line(0), c.line(1), c.line(2)), ("five", "three ✓", ""));
        assert_eq!(c.line_len(1), "three ✓".len());
        assert_eq!(meta(&c, 1), []);
        assert_eq!(
            meta(&c, 2),
            [
                ("detected_level".into(), "info".into()),
                ("trace".into(), "x".into())
            ]
        );
        assert_eq!(c.distinct_pairs(), 2);
        assert_eq!(c.time_order(), [1, 0, 2]);
    }

    #[test]
    fn a_line_built_in_place_is_kept_or_dropped() {
        let mut c = EntryColumns::default();
        c.push(1, "first", []);
        c.line_buffer().push_str("half");
        c.abandon_line();
        c.line_buffer().push_str("sec");
        c.line_buffer().push_str("ond");
        c.finish_entry(2, [("k", "v")]);
        assert_eq!((c.line(0), c.line(1)), ("first", "second"));
        assert_eq!(meta(&c, 1), [("k".into(), "v".into())]);
    }

    #[test]
    fn many_distinct_pairs_are_indexed_by_a_map_and_still_deduplicated() {
        let mut c = EntryColumns::default();
        for i in 0..100 {
            let id = format!("t{}", i % 40);
            c.push(i, "x", [("trace_id", id.as_str())]);
        }
        assert_eq!(c.distinct_pairs(), 40);
        assert_eq!(meta(&c, 99), [("trace_id".into(), "t19".into())]);
    }

    #[test]
    fn a_range_appends_what_pushing_its_entries_appends() {
        let mut src = EntryColumns::default();
        src.push(1, "s0", [("a", "1")]);
        src.push(2, "s1", []);
        src.push(3, "s2", [("b", "2"), ("a", "1")]);
        src.push(4, "s3", [("c", "3")]);
        let mut remap = Vec::new();
        for range in [0..4, 1..3, 2..4, 3..4, 1..1] {
            let mut got = EntryColumns::default();
            got.push(0, "kept", [("b", "2")]);
            let mut want = got.clone();
            let cost = got.append_range(&src, range.clone(), &mut remap);
            let mut want_cost = 0;
            for i in range.clone() {
                want_cost += want.push(src.ts(i), src.line(i), src.metadata(i));
            }
            assert_eq!(cost, want_cost, "{range:?}");
            assert_eq!(got.len(), want.len());
            for i in 0..got.len() {
                assert_eq!(
                    (got.ts(i), got.line(i), meta(&got, i)),
                    (want.ts(i), want.line(i), meta(&want, i)),
                    "{range:?} {i}"
                );
            }
            assert_eq!(got.distinct_pairs(), want.distinct_pairs());
        }
    }

    #[test]
    fn one_scratch_serves_many_ranges_and_targets_with_many_pairs() {
        let mut src = EntryColumns::default();
        for i in 0..60 {
            let id = format!("t{}", i % 30);
            src.push(i, "x", [("trace_id", id.as_str()), ("k", "v")]);
        }
        let mut remap = Vec::new();
        let (mut a, mut b) = (EntryColumns::default(), EntryColumns::default());
        a.append_range(&src, 0..20, &mut remap);
        b.append_range(&src, 10..40, &mut remap);
        a.append_range(&src, 40..60, &mut remap);
        assert!(remap.iter().all(|&r| r == u32::MAX), "scratch left clean");
        assert_eq!((a.len(), b.len()), (40, 30));
        for (i, src_i) in (0..20).chain(40..60).enumerate() {
            assert_eq!(meta(&a, i), meta(&src, src_i));
        }
        for (i, src_i) in (10..40).enumerate() {
            assert_eq!(meta(&b, i), meta(&src, src_i));
        }
        assert_eq!((a.distinct_pairs(), b.distinct_pairs()), (31, 31));
    }

    #[test]
    fn metadata_added_per_entry_keeps_what_was_there() {
        let mut c = EntryColumns::default();
        c.push(1, "error here", [("a", "1")]);
        c.push(2, "skip me", []);
        c.push(3, "info", [("a", "1"), ("b", "2")]);
        c.add_metadata_with("detected_level", |_, line, meta| {
            let has_b = meta.iter().any(|(k, _)| *k == "b");
            if line.starts_with("skip") {
                None
            } else if has_b {
                Some("info")
            } else {
                Some("error")
            }
        });
        assert_eq!(
            meta(&c, 0),
            [
                ("a".into(), "1".into()),
                ("detected_level".into(), "error".into())
            ]
        );
        assert_eq!(meta(&c, 1), []);
        assert_eq!(meta(&c, 2).len(), 3);
        assert_eq!(c.distinct_pairs(), 4);
    }
}
