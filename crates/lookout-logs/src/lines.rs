//! The lines of one partition's candidate blocks in a scan's order, decoded lazily: blocks are taken in order of
//! their earliest (forward) or latest (backward) entry, and a line is handed out only once no block still unread can
//! hold one that comes before it. A scan meeting its limit early therefore decodes only the blocks it reached, and at
//! any time holds the lines of the blocks overlapping in time, not of the whole partition.

use std::collections::BinaryHeap;

use rayon::prelude::*;

use crate::collect::BlockHit;
use crate::entry::{Entry, LineFilter};
use crate::index::PartSearcher;
use crate::prefilter::Prefilter;

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
    /// A literal the kept lines contain, searched over each block's text at once.
    prefilter: Option<Prefilter>,
    /// Lines in range decoded so far (before the exact line checks).
    pub candidates: u64,
    /// Blocks decoded so far.
    pub blocks_read: u64,
    /// Blocks the next batch decodes.
    batch: usize,
}

/// A decoded block: its lines in range, and those of them the filters kept (with their position in the block).
type Decoded = (u64, Vec<(u32, Entry)>);

/// The most blocks decoded in one batch (the scan holds their kept lines until it hands them out).
const MAX_BATCH: usize = 32;

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
            prefilter: Prefilter::of(filters),
            candidates: 0,
            blocks_read: 0,
            // Two at once from the start: a scan that reads one block mostly reads the next too.
            batch: 2,
        }
    }

    fn key(&self, ts: i64, stream: u64, addr: u64, pos: u32) -> (i64, u64, u64, u32) {
        if self.backward {
            (ts, stream, addr, pos)
        } else {
            (!ts, !stream, !addr, !pos)
        }
    }

    /// Decodes blocks until the heap's top is the next line of the scan (or nothing is left). Blocks are decoded in
    /// batches on the query threads, the batch growing while the scan goes on (a scan that meets its limit at once
    /// decodes one or two blocks; a long one keeps every core of the pool busy).
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
            let end = (self.next + self.batch).min(self.blocks.len());
            let batch = &self.blocks[self.next..end];
            self.next = end;
            self.blocks_read += batch.len() as u64;
            self.batch = (self.batch * 2).min(MAX_BATCH);
            let (part, start, stop, filters) = (&self.part, self.start, self.end, self.filters);
            let prefilter = self.prefilter.as_ref();
            let decode = |b: &BlockHit| -> tantivy::Result<Decoded> {
                let block = part.read(b.addr)?;
                let in_range = |pos: usize| (start..stop).contains(&block.ts(pos));
                let mut kept = Vec::new();
                let mut keep = |pos: usize| -> tantivy::Result<()> {
                    let line = block
                        .line(pos)
                        .map_err(|e| crate::index::damaged_block(b.addr, &e))?;
                    // Filters run on the borrowed line: only kept lines become owned entries.
                    if filters.iter().all(|f| f.keeps(line)) {
                        kept.push((pos as u32, block.entry_with_line(pos, line)));
                    }
                    Ok(())
                };
                let candidates = (0..block.len()).filter(|&pos| in_range(pos)).count() as u64;
                match prefilter {
                    None => {
                        for pos in (0..block.len()).filter(|&pos| in_range(pos)) {
                            keep(pos)?;
                        }
                    }
                    Some(pre) => {
                        // Only the lines holding an occurrence are checked, each once, in order.
                        let (base, text) = block.text();
                        let mut from = 0;
                        while let Some(hit) = text.get(from..).and_then(|t| pre.find(t)) {
                            let (pos, line_end) = block.line_at(base + from + hit);
                            if in_range(pos) {
                                keep(pos)?;
                            }
                            from = line_end - base;
                        }
                    }
                }
                Ok((candidates, kept))
            };
            let decoded: Vec<tantivy::Result<Decoded>> =
                match lookout_storage::threads::query_threads() {
                    Some(pool) if batch.len() > 1 => {
                        pool.install(|| batch.par_iter().map(decode).collect())
                    }
                    _ => batch.iter().map(decode).collect(),
                };
            for (b, result) in batch.iter().zip(decoded) {
                let (candidates, kept) = result?;
                self.candidates += candidates;
                let addr = (u64::from(b.addr.segment_ord) << 32) | u64::from(b.addr.doc_id);
                for (pos, entry) in kept {
                    let key = self.key(entry.ts, b.stream, addr, pos);
                    self.heap.push(Pending {
                        key,
                        stream: b.stream,
                        entry,
                    });
                }
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
