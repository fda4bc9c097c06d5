//! The tantivy collector of block documents: reads the fast fields of each matching block as it is found and keeps
//! those overlapping the query's time range, with no set of every hit in between.

use std::collections::HashMap;
use std::sync::Arc;

use rustc_hash::FxHashSet;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::ColumnValues;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

/// A matching block document: its stream, time span, size and where to read it.
#[derive(Debug, Clone, Copy)]
pub struct BlockHit {
    /// Stream id.
    pub stream: u64,
    /// Earliest entry (ns).
    pub ts_min: i64,
    /// Latest entry (ns).
    pub ts_max: i64,
    /// Entries.
    pub lines: u64,
    /// Line bytes.
    pub bytes: u64,
    /// Where to read the entries.
    pub addr: DocAddress,
}

/// Entries and line bytes per (stream, bucket start).
pub type Volume = HashMap<(u64, i64), (u64, u64)>;

type Col<T> = Arc<dyn ColumnValues<T>>;

/// Collects the blocks with an entry that may fall in `[start, end)`.
pub struct Blocks {
    /// Range start (ns, inclusive).
    pub start: i64,
    /// Range end (ns, exclusive).
    pub end: i64,
    /// Only blocks of these streams (when the query does not select them).
    pub streams: Option<Arc<FxHashSet<u64>>>,
}

/// [`Blocks`] for one segment.
pub struct SegmentBlocks {
    ord: SegmentOrdinal,
    start: i64,
    end: i64,
    only: Option<Arc<FxHashSet<u64>>>,
    stream: Col<u64>,
    ts_min: Col<i64>,
    ts_max: Col<i64>,
    lines: Col<u64>,
    bytes: Col<u64>,
    out: Vec<BlockHit>,
}

impl Collector for Blocks {
    type Fruit = Vec<BlockHit>;
    type Child = SegmentBlocks;

    fn for_segment(
        &self,
        ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentBlocks> {
        let ff = reader.fast_fields();
        Ok(SegmentBlocks {
            ord,
            start: self.start,
            end: self.end,
            only: self.streams.clone(),
            stream: ff.u64("stream")?.first_or_default_col(0),
            ts_min: ff.i64("ts_min")?.first_or_default_col(0),
            ts_max: ff.i64("ts_max")?.first_or_default_col(0),
            lines: ff.u64("lines")?.first_or_default_col(0),
            bytes: ff.u64("bytes")?.first_or_default_col(0),
            out: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<BlockHit>>) -> tantivy::Result<Vec<BlockHit>> {
        let mut all = Vec::with_capacity(fruits.iter().map(Vec::len).sum());
        for f in fruits {
            all.extend(f);
        }
        Ok(all)
    }
}

impl SegmentCollector for SegmentBlocks {
    type Fruit = Vec<BlockHit>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let ts_min = self.ts_min.get_val(doc);
        let ts_max = self.ts_max.get_val(doc);
        if ts_min >= self.end || ts_max < self.start {
            return;
        }
        let stream = self.stream.get_val(doc);
        if self.only.as_ref().is_some_and(|s| !s.contains(&stream)) {
            return;
        }
        self.out.push(BlockHit {
            stream,
            ts_min,
            ts_max,
            lines: self.lines.get_val(doc),
            bytes: self.bytes.get_val(doc),
            addr: DocAddress::new(self.ord, doc),
        });
    }

    fn harvest(self) -> Vec<BlockHit> {
        self.out
    }
}

/// Adds `from` into `into`.
pub fn merge_volume(into: &mut Volume, from: Volume) {
    if into.is_empty() {
        *into = from;
        return;
    }
    for (k, (n, b)) in from {
        let e = into.entry(k).or_default();
        e.0 += n;
        e.1 += b;
    }
}
