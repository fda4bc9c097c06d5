//! The lines of one partition's candidate blocks in a scan's order, decoded lazily: blocks are taken in order of
//! their earliest (forward) or latest (backward) entry, and a line is handed out only once no block still unread can
//! hold one that comes before it. A scan meeting its limit early therefore decodes only the blocks it reached, and at
//! any time holds the lines of the blocks overlapping in time, not of the whole partition.

use std::collections::BinaryHeap;

use crate::collect::BlockHit;
use crate::entry::{Entry, LineFilter};
use crate::index::PartSearcher;

/// A decoded line waiting in the heap; the heap's top is the next line of the scan.
struct Pending {
    /// Larger comes first: `(ts, stream, block address, position in the block)` backward, their bitwise
    /// complements forward; the last two keep push order among one stream's equal timestamps.
    key: (i64, u64, u64, u32),
    stream: u64,
    entry: Entry,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

/// One partition's lines in `[start, end)` passing `filters`, in time order (then stream id, then push order within a commit).
pub struct BlockLines<'a> {
    part: PartSearcher,
    blocks: Vec<BlockHit>,
    next: usize,
    heap: BinaryHeap<Pending>,
    start: i64,
    end: i64,
    backward: bool,
    filters: &'a [LineFilter],
    /// Lines in range decoded so far (before the exact line checks).
    pub candidates: u64,
}

impl<'a> BlockLines<'a> {
    /// The lines of `blocks` (from `part`) in `[start, end)` that pass `filters`.
    pub fn new(
        part: PartSearcher,
        mut blocks: Vec<BlockHit>,
        start: i64,
        end: i64,
        backward: bool,
        filters: &'a [LineFilter],
    ) -> Self {
        if backward {
            blocks.sort_unstable_by_key(|b| std::cmp::Reverse((b.ts_max, b.addr)));
        } else {
            blocks.sort_unstable_by_key(|b| (b.ts_min, b.addr));
        }
        BlockLines {
            part,
            blocks,
            next: 0,
            heap: BinaryHeap::new(),
            start,
            end,
            backward,
            filters,
            candidates: 0,
        }
    }

    fn key(&self, ts: i64, stream: u64, addr: u64, pos: u32) -> (i64, u64, u64, u32) {
        if self.backward {
            (ts, stream, addr, pos)
        } else {
            (!ts, !stream, !addr, !pos)
        }
    }

    /// Decodes blocks until the heap's top is the next line of the scan (or nothing is left).
    fn fill(&mut self) -> tantivy::Result<()> {
        while let Some(b) = self.blocks.get(self.next).copied() {
            let needed = match self.heap.peek() {
                None => true,
                Some(top) => {
                    let ts = top.entry.ts;
                    if self.backward {
                        b.ts_max >= ts
                    } else {
                        b.ts_min <= ts
                    }
                }
            };
            if !needed {
                break;
            }
            self.next += 1;
            let addr = (u64::from(b.addr.segment_ord) << 32) | u64::from(b.addr.doc_id);
            let block = self.part.read(b.addr)?;
            for pos in 0..block.len() {
                let ts = block.ts(pos);
                if ts < self.start || ts >= self.end {
                    continue;
                }
                self.candidates += 1;
                // Filters run on the borrowed line: only kept lines become owned entries.
                let line = block.line(pos);
                if !self.filters.iter().all(|f| f.keeps(line)) {
                    continue;
                }
                let key = self.key(ts, b.stream, addr, pos as u32);
                self.heap.push(Pending {
                    key,
                    stream: b.stream,
                    entry: block.entry(pos),
                });
            }
        }
        Ok(())
    }

    /// The timestamp of the next line, if any.
    pub fn peek_ts(&mut self) -> tantivy::Result<Option<i64>> {
        self.fill()?;
        Ok(self.heap.peek().map(|p| p.entry.ts))
    }

    /// The next line and its stream.
    pub fn pop(&mut self) -> tantivy::Result<Option<(u64, Entry)>> {
        self.fill()?;
        Ok(self.heap.pop().map(|p| (p.stream, p.entry)))
    }
}
