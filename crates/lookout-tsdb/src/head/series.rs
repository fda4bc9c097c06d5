//! One head series: its labels, in-order Gorilla chunks, the out-of-order buffer and the append checks.

use std::sync::Arc;

use lookout_model::{Labels, Sample};
use lookout_storage::{AppendError, SampleIter};

use crate::chunk_log::{Chain, ChunkRecord};
use crate::chunkenc::{HeadChunk, decode_sealed_parts, encode_sealed};

/// Samples per open head chunk before it is sealed (Gorilla's sweet spot).
pub(crate) const CHUNK_SAMPLES: usize = 120;
/// Largest sealed head chunk that closed chunks are merged into (one block at 15 s is 480).
const MAX_SEALED_HEAD_SAMPLES: usize = 1024;

/// What to do with a sample that passed the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Newer than the last sample: append in order.
    InOrder,
    /// Older than the last sample but inside the out-of-order window.
    OutOfOrder,
    /// Same timestamp and same value bits as the last sample: nothing to do.
    DuplicateIgnored,
}

/// The append policy, shared by `Appender::append` (early refusal) and commit (final decision).
pub(crate) fn classify(
    last: Option<(i64, u64)>,
    t: i64,
    v: f64,
    min_valid_t: i64,
    ooo_window_ms: i64,
) -> Result<Verdict, AppendError> {
    if t < min_valid_t {
        return Err(AppendError::OutOfBounds {
            t,
            min_t: min_valid_t,
        });
    }
    let Some((last_t, last_v)) = last else {
        return Ok(Verdict::InOrder);
    };
    if t > last_t {
        return Ok(Verdict::InOrder);
    }
    if t == last_t {
        return if v.to_bits() == last_v {
            Ok(Verdict::DuplicateIgnored)
        } else {
            Err(AppendError::DuplicateTimestamp { t })
        };
    }
    if ooo_window_ms > 0 && t >= last_t.saturating_sub(ooo_window_ms) {
        return Ok(Verdict::OutOfOrder);
    }
    Err(AppendError::OutOfOrder { t, last_t })
}

/// What applying one sample changed.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Applied {
    /// Change in heap bytes.
    pub(crate) bytes: isize,
    /// Change in chunk count.
    pub(crate) chunks: isize,
    /// Set when the open chunk was sealed first: the bits of its last value.
    pub(crate) sealed_last_v: Option<u64>,
}

/// A series' closed head chunks of one block in the compact sealed form (about a tenth of their Gorilla size):
/// each closed chunk encoded on its own, appended after the ones before it (read with `decode_sealed_parts`).
#[derive(Debug, Clone)]
pub(crate) struct SealedChunk {
    pub(crate) bytes: Arc<[u8]>,
    pub(crate) min_t: i64,
    pub(crate) max_t: i64,
    pub(crate) len: u32,
}

impl SealedChunk {
    fn from_samples(samples: &[Sample]) -> Self {
        let mut out = Vec::with_capacity(samples.len() / 2 + 16);
        encode_sealed(samples, &mut out);
        SealedChunk {
            bytes: Arc::from(out),
            min_t: samples.first().map_or(0, |s| s.t),
            max_t: samples.last().map_or(0, |s| s.t),
            len: samples.len() as u32,
        }
    }

    fn decode(&self, out: &mut Vec<Sample>) {
        if let Err(e) = decode_sealed_parts(&self.bytes, out) {
            // Bytes we encoded a moment ago; failure is a bug in the codec, not bad input.
            tracing::error!(error = %e, "sealed head chunk does not decode");
        }
    }

    fn heap_bytes(&self) -> usize {
        self.bytes.len() + 16
    }
}

/// A chunk copied out of the head for a query.
#[derive(Debug, Clone)]
pub(crate) enum SnapChunk {
    /// The open Gorilla chunk's bytes and sample count.
    Open(Vec<u8>, u16),
    /// A closed chunk in sealed form (shared, not copied).
    Sealed(Arc<[u8]>),
}

/// A series held in memory.
#[derive(Debug)]
pub(crate) struct MemSeries {
    /// Interned labels.
    pub(crate) labels: Labels,
    /// Closed chunks in sealed form, oldest first.
    pub(crate) sealed: Vec<SealedChunk>,
    /// The open Gorilla chunk taking appends (empty when the series has no open chunk).
    pub(crate) open: HeadChunk,
    /// Newest in-order timestamp (`i64::MIN`: none yet) and value bits; two words instead of an `Option`'s three.
    last_t: i64,
    last_v: u64,
    /// Samples accepted inside the out-of-order window, sorted by time, none sharing a timestamp with the chunks
    /// (a boxed slice: two words, and the window is rarely used).
    pub(crate) ooo: Box<[Sample]>,
    /// True once the label set is in sled's series table (so the WAL may forget its creation record).
    pub(crate) in_sled: bool,
}

/// A copy of a series' head data taken under the shard lock, decoded later without it.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeadSnapshot {
    /// Chunks overlapping the range, oldest first.
    pub(crate) chunks: Vec<SnapChunk>,
    /// Out-of-order samples inside the requested range.
    pub(crate) ooo: Vec<Sample>,
    /// Upper bound of samples in the requested range.
    pub(crate) estimated: usize,
}

impl MemSeries {
    pub(crate) fn new(labels: Labels) -> Self {
        MemSeries {
            labels,
            sealed: Vec::new(),
            open: HeadChunk::new(),
            last_t: i64::MIN,
            last_v: 0,
            ooo: Box::default(),
            in_sled: false,
        }
    }

    /// Heap bytes held by this series (chunks, buffers and the label slots; strings are interned and shared).
    pub(crate) fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.labels.len() * 32
            + 16
            + self.sealed.capacity() * std::mem::size_of::<SealedChunk>()
            + self
                .sealed
                .iter()
                .map(SealedChunk::heap_bytes)
                .sum::<usize>()
            + self.open.heap_bytes()
            + self.ooo.len() * std::mem::size_of::<Sample>()
    }

    /// Newest in-order timestamp and value bits.
    pub(crate) fn last(&self) -> Option<(i64, u64)> {
        (self.last_t != i64::MIN || !self.open.is_empty() || !self.sealed.is_empty())
            .then_some((self.last_t, self.last_v))
    }

    /// Number of chunks (sealed and open).
    pub(crate) fn chunk_count(&self) -> usize {
        self.sealed.len() + usize::from(!self.open.is_empty())
    }

    /// Oldest in-order timestamp held.
    pub(crate) fn min_t(&self) -> Option<i64> {
        match self.sealed.first() {
            Some(c) => Some(c.min_t),
            None => (!self.open.is_empty()).then(|| self.open.min_t()),
        }
    }

    /// Applies a sample already classified.
    pub(crate) fn apply(&mut self, t: i64, v: f64, verdict: Verdict, block_ms: i64) -> Applied {
        match verdict {
            Verdict::DuplicateIgnored => Applied::default(),
            Verdict::InOrder => {
                let mut delta = 0isize;
                let mut sealed_last_v = None;
                let chunks_before = self.chunk_count() as isize;
                let cut = !self.open.is_empty()
                    && (self.open.len() >= CHUNK_SAMPLES
                        || t.div_euclid(block_ms) != self.open.min_t().div_euclid(block_ms));
                if cut {
                    sealed_last_v = Some(self.last_v);
                    delta += self.seal_open(block_ms);
                }
                let before = self.open.heap_bytes();
                self.open.append(t, v);
                delta += self.open.heap_bytes() as isize - before as isize;
                (self.last_t, self.last_v) = (t, v.to_bits());
                Applied {
                    bytes: delta,
                    chunks: self.chunk_count() as isize - chunks_before,
                    sealed_last_v,
                }
            }
            Verdict::OutOfOrder => {
                let before = self.heap_bytes() as isize;
                if self.in_order_has(t) {
                    return Applied::default();
                }
                let pos = self.ooo.partition_point(|s| s.t < t);
                if self.ooo.get(pos).is_some_and(|s| s.t == t) {
                    return Applied::default();
                }
                let mut ooo = std::mem::take(&mut self.ooo).into_vec();
                ooo.insert(pos, Sample::new(t, v));
                self.ooo = ooo.into_boxed_slice();
                Applied {
                    bytes: self.heap_bytes() as isize - before,
                    ..Applied::default()
                }
            }
        }
    }

    /// The head chunk log's record of the sealed chunk `apply` just wrote (its last value's bits given).
    pub(crate) fn sealed_record(&self, id: u32, last_v: u64) -> Option<ChunkRecord> {
        let n = self.sealed.len();
        let last = self.sealed.last()?;
        Some(ChunkRecord {
            id,
            min_t: last.min_t,
            max_t: last.max_t,
            prev_max_t: n.checked_sub(2).map_or(i64::MIN, |i| self.sealed[i].max_t),
            last_v,
            len: last.len,
            bytes: last.bytes.clone(),
        })
    }

    /// Gives an empty series the sealed chunks loaded from the head chunk log; returns the change in heap bytes and
    /// in chunk count.
    pub(crate) fn restore(&mut self, chain: Chain) -> (isize, isize) {
        let before = self.heap_bytes() as isize;
        let n = chain.chunks.len() as isize;
        (self.last_t, self.last_v) = (chain.max_t(), chain.last_v);
        self.sealed = chain.chunks;
        self.sealed.shrink_to_fit();
        (self.heap_bytes() as isize - before, n)
    }

    /// Moves the open chunk into sealed form, appended to the previous sealed chunk of the same block (one sealed
    /// chunk per block keeps per-chunk overhead low); returns the change in heap bytes. The chunks before are not
    /// decoded or encoded again: persistence re-encodes the block's samples as one chunk anyway.
    fn seal_open(&mut self, block_ms: i64) -> isize {
        let cap = self.sealed.capacity();
        let mut delta = -(self.open.heap_bytes() as isize);
        let open_block = self.open.min_t().div_euclid(block_ms);
        let prev = if self.sealed.last().is_some_and(|c| {
            c.min_t.div_euclid(block_ms) == open_block
                && c.len as usize + self.open.len() <= MAX_SEALED_HEAD_SAMPLES
        }) {
            self.sealed.pop()
        } else {
            None
        };
        let mut out = Vec::with_capacity(
            prev.as_ref().map_or(0, |p| p.bytes.len()) + self.open.len() / 2 + 16,
        );
        if let Some(p) = &prev {
            delta -= p.heap_bytes() as isize;
            out.extend_from_slice(&p.bytes);
        }
        let seal_hint = self.open.to_sealed(&mut out);
        let sealed = SealedChunk {
            bytes: Arc::from(out),
            min_t: prev.as_ref().map_or(self.open.min_t(), |p| p.min_t),
            max_t: self.open.max_t(),
            len: prev.as_ref().map_or(0, |p| p.len) + self.open.len() as u32,
        };
        delta += sealed.heap_bytes() as isize;
        let next_size = self.open.bytes().len();
        // A series holds one sealed chunk per block, so a handful at most: a doubling vector's spare slots
        // (four at the first push) would cost more than its rare reallocation.
        self.sealed.reserve_exact(1);
        self.sealed.push(sealed);
        self.open = HeadChunk::with_hints(next_size, seal_hint);
        delta + ((self.sealed.capacity() - cap) * std::mem::size_of::<SealedChunk>()) as isize
    }

    /// True when an in-order chunk already holds timestamp `t` (out-of-order duplicates keep the first value).
    fn in_order_has(&self, t: i64) -> bool {
        if !self.open.is_empty() && self.open.min_t() <= t && t <= self.open.max_t() {
            let mut it = self.open.iter();
            return it.seek(t).is_some_and(|s| s.t == t);
        }
        self.sealed
            .iter()
            .filter(|c| c.min_t <= t && t <= c.max_t)
            .any(|c| {
                let mut buf = Vec::new();
                c.decode(&mut buf);
                buf.binary_search_by_key(&t, |s| s.t).is_ok()
            })
    }

    /// Copies the data overlapping `[mint, maxt]`.
    pub(crate) fn snapshot(&self, mint: i64, maxt: i64) -> HeadSnapshot {
        let mut snap = HeadSnapshot::default();
        for c in self
            .sealed
            .iter()
            .filter(|c| c.min_t <= maxt && c.max_t >= mint)
        {
            snap.estimated += c.len as usize;
            snap.chunks.push(SnapChunk::Sealed(c.bytes.clone()));
        }
        let o = &self.open;
        if !o.is_empty() && o.min_t() <= maxt && o.max_t() >= mint {
            snap.estimated += o.len();
            snap.chunks
                .push(SnapChunk::Open(o.bytes().to_vec(), o.len() as u16));
        }
        snap.ooo = self
            .ooo
            .iter()
            .filter(|s| s.t >= mint && s.t <= maxt)
            .copied()
            .collect();
        snap.estimated += snap.ooo.len();
        snap
    }

    /// All samples before `boundary`, in time order (in-order and out-of-order merged), appended to `out`.
    pub(crate) fn samples_before(&self, boundary: i64, out: &mut Vec<Sample>) {
        let start = out.len();
        for c in self.sealed.iter().filter(|c| c.min_t < boundary) {
            let from = out.len();
            c.decode(out);
            let keep = from + out[from..].partition_point(|s| s.t < boundary);
            out.truncate(keep);
        }
        if !self.open.is_empty() && self.open.min_t() < boundary {
            let mut it = self.open.iter();
            while let Some(s) = it.next() {
                if s.t >= boundary {
                    break;
                }
                out.push(s);
            }
        }
        let ooo: Vec<Sample> = self
            .ooo
            .iter()
            .filter(|s| s.t < boundary)
            .copied()
            .collect();
        if !ooo.is_empty() {
            out.extend(ooo);
            out[start..].sort_by_key(|s| s.t);
        }
    }

    /// Drops every sample before `boundary`; returns the change in heap bytes and in chunk count.
    pub(crate) fn truncate_before(&mut self, boundary: i64) -> (isize, isize) {
        let before = self.heap_bytes() as isize;
        let chunks_before = self.chunk_count() as isize;
        let mut kept = Vec::with_capacity(self.sealed.len());
        for c in self.sealed.drain(..) {
            if c.max_t < boundary {
                continue;
            }
            if c.min_t >= boundary {
                kept.push(c);
                continue;
            }
            // A chunk straddling the boundary (only after an unaligned persist_now): keep its newer part.
            let mut samples = Vec::new();
            c.decode(&mut samples);
            samples.retain(|s| s.t >= boundary);
            kept.push(SealedChunk::from_samples(&samples));
        }
        kept.shrink_to_fit();
        self.sealed = kept;
        if !self.open.is_empty() && self.open.min_t() < boundary {
            let mut rebuilt = HeadChunk::new();
            let mut it = self.open.iter();
            while let Some(s) = it.next() {
                if s.t >= boundary {
                    rebuilt.append(s.t, s.v);
                }
            }
            self.open = rebuilt;
        }
        if self.ooo.first().is_some_and(|s| s.t < boundary) {
            let keep = self.ooo.partition_point(|s| s.t < boundary);
            self.ooo = self.ooo[keep..].into();
        }
        (
            self.heap_bytes() as isize - before,
            self.chunk_count() as isize - chunks_before,
        )
    }

    /// True when the head holds no sample of this series.
    pub(crate) fn is_empty(&self) -> bool {
        self.sealed.is_empty() && self.open.is_empty() && self.ooo.is_empty()
    }
}

#[cfg(test)]
#[path = "series_tests.rs"]
mod tests;
