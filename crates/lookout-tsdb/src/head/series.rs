//! One head series: its labels, in-order Gorilla chunks, the out-of-order buffer and the append checks.

use lookout_model::{Labels, Sample};
use lookout_storage::AppendError;

use crate::chunkenc::HeadChunk;

/// Samples per head chunk before a new one is cut (Gorilla's sweet spot).
pub(crate) const CHUNK_SAMPLES: usize = 120;

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

/// A series held in memory.
#[derive(Debug)]
pub(crate) struct MemSeries {
    /// Interned labels.
    pub(crate) labels: Labels,
    /// In-order chunks, oldest first; the last one is open for appends.
    pub(crate) chunks: Vec<HeadChunk>,
    /// Newest in-order timestamp and value bits.
    pub(crate) last: Option<(i64, u64)>,
    /// Samples accepted inside the out-of-order window, sorted by time, none sharing a timestamp with `chunks`.
    pub(crate) ooo: Vec<Sample>,
    /// True once the label set is in sled's series table (so the WAL may forget its creation record).
    pub(crate) in_sled: bool,
}

/// A copy of a series' head data taken under the shard lock, decoded later without it.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeadSnapshot {
    /// Encoded chunk bytes with their sample counts, oldest first.
    pub(crate) chunks: Vec<(Vec<u8>, u16)>,
    /// Out-of-order samples inside the requested range.
    pub(crate) ooo: Vec<Sample>,
    /// Upper bound of samples in the requested range.
    pub(crate) estimated: usize,
}

impl MemSeries {
    pub(crate) fn new(labels: Labels) -> Self {
        MemSeries {
            labels,
            chunks: Vec::new(),
            last: None,
            ooo: Vec::new(),
            in_sled: false,
        }
    }

    /// Heap bytes held by this series (chunks, buffers and the label slots; strings are interned and shared).
    pub(crate) fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.labels.len() * 32
            + 16
            + self.chunks.capacity() * std::mem::size_of::<HeadChunk>()
            + self.chunks.iter().map(HeadChunk::heap_bytes).sum::<usize>()
            + self.ooo.capacity() * std::mem::size_of::<Sample>()
    }

    /// Applies a sample already classified; returns the change in heap bytes and whether a chunk was cut.
    pub(crate) fn apply(
        &mut self,
        t: i64,
        v: f64,
        verdict: Verdict,
        block_ms: i64,
    ) -> (isize, bool) {
        let before = self.heap_bytes() as isize;
        let mut cut = false;
        match verdict {
            Verdict::DuplicateIgnored => return (0, false),
            Verdict::InOrder => {
                let need_new = match self.chunks.last() {
                    None => true,
                    Some(c) => {
                        c.len() >= CHUNK_SAMPLES
                            || t.div_euclid(block_ms) != c.min_t().div_euclid(block_ms)
                    }
                };
                if need_new {
                    self.chunks.push(HeadChunk::new());
                    cut = true;
                }
                self.chunks
                    .last_mut()
                    .expect("a chunk was just ensured")
                    .append(t, v);
                self.last = Some((t, v.to_bits()));
            }
            Verdict::OutOfOrder => {
                if self.in_order_has(t) {
                    return (0, false);
                }
                let pos = self.ooo.partition_point(|s| s.t < t);
                match self.ooo.get(pos) {
                    Some(s) if s.t == t => return (0, false),
                    _ => self.ooo.insert(pos, Sample::new(t, v)),
                }
            }
        }
        (self.heap_bytes() as isize - before, cut)
    }

    /// True when an in-order chunk already holds timestamp `t` (out-of-order duplicates keep the first value).
    fn in_order_has(&self, t: i64) -> bool {
        self.chunks
            .iter()
            .filter(|c| !c.is_empty() && c.min_t() <= t && t <= c.max_t())
            .any(|c| {
                let mut it = c.iter();
                lookout_storage::SampleIter::seek(&mut it, t).is_some_and(|s| s.t == t)
            })
    }

    /// Copies the data overlapping `[mint, maxt]`.
    pub(crate) fn snapshot(&self, mint: i64, maxt: i64) -> HeadSnapshot {
        let mut snap = HeadSnapshot::default();
        for c in self
            .chunks
            .iter()
            .filter(|c| !c.is_empty() && c.min_t() <= maxt && c.max_t() >= mint)
        {
            snap.estimated += c.len();
            snap.chunks.push((c.bytes().to_vec(), c.len() as u16));
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
        for c in self
            .chunks
            .iter()
            .filter(|c| !c.is_empty() && c.min_t() < boundary)
        {
            let mut it = c.iter();
            while let Some(s) = lookout_storage::SampleIter::next(&mut it) {
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

    /// Drops every sample before `boundary`; returns the change in heap bytes and chunks removed.
    pub(crate) fn truncate_before(&mut self, boundary: i64) -> (isize, isize) {
        let before = self.heap_bytes() as isize;
        let chunks_before = self.chunks.len() as isize;
        let mut kept = Vec::with_capacity(self.chunks.len());
        for c in self.chunks.drain(..) {
            if c.is_empty() || c.max_t() < boundary {
                continue;
            }
            if c.min_t() >= boundary {
                kept.push(c);
                continue;
            }
            // A chunk straddling the boundary (only after an unaligned persist_now): keep its newer part.
            let mut rebuilt = HeadChunk::new();
            let mut it = c.iter();
            while let Some(s) = lookout_storage::SampleIter::next(&mut it) {
                if s.t >= boundary {
                    rebuilt.append(s.t, s.v);
                }
            }
            kept.push(rebuilt);
        }
        self.chunks = kept;
        self.ooo.retain(|s| s.t >= boundary);
        self.ooo.shrink_to_fit();
        (
            self.heap_bytes() as isize - before,
            self.chunks.len() as isize - chunks_before,
        )
    }

    /// True when the head holds no sample of this series.
    pub(crate) fn is_empty(&self) -> bool {
        self.chunks.iter().all(HeadChunk::is_empty) && self.ooo.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series() -> MemSeries {
        MemSeries::new(Labels::from_pairs(&[("a", "b")]).unwrap())
    }

    #[test]
    fn policy_orders_duplicates_and_window() {
        let last = Some((100, 1.0f64.to_bits()));
        assert_eq!(classify(last, 101, 0.0, 0, 0), Ok(Verdict::InOrder));
        assert_eq!(
            classify(last, 100, 1.0, 0, 0),
            Ok(Verdict::DuplicateIgnored)
        );
        assert_eq!(
            classify(last, 100, 2.0, 0, 0),
            Err(AppendError::DuplicateTimestamp { t: 100 })
        );
        assert_eq!(
            classify(last, 99, 2.0, 0, 0),
            Err(AppendError::OutOfOrder { t: 99, last_t: 100 })
        );
        assert_eq!(classify(last, 95, 2.0, 0, 10), Ok(Verdict::OutOfOrder));
        assert_eq!(
            classify(last, 89, 2.0, 0, 10),
            Err(AppendError::OutOfOrder { t: 89, last_t: 100 })
        );
        assert_eq!(
            classify(None, 5, 2.0, 10, 0),
            Err(AppendError::OutOfBounds { t: 5, min_t: 10 })
        );
    }

    #[test]
    fn chunks_cut_by_count_and_block_and_truncate() {
        let mut s = series();
        for i in 0..300 {
            s.apply(i * 10, i as f64, Verdict::InOrder, 1_000);
        }
        // 1000 ms blocks hold 100 samples each: cut at 100 and 200, never at 120.
        assert_eq!(
            s.chunks.iter().map(HeadChunk::len).collect::<Vec<_>>(),
            vec![100, 100, 100]
        );
        s.apply(55, -1.0, Verdict::OutOfOrder, 1_000);
        s.apply(50, -1.0, Verdict::OutOfOrder, 1_000);
        assert_eq!(s.ooo, vec![Sample::new(55, -1.0)]);
        let mut out = Vec::new();
        s.samples_before(70, &mut out);
        assert_eq!(
            out.iter().map(|s| s.t).collect::<Vec<_>>(),
            vec![0, 10, 20, 30, 40, 50, 55, 60]
        );
        s.truncate_before(1_500);
        assert_eq!(
            s.chunks.iter().map(HeadChunk::len).collect::<Vec<_>>(),
            vec![50, 100]
        );
        assert!(s.ooo.is_empty());
        assert_eq!(s.snapshot(2_000, 2_050).estimated, 100);
    }
}
