//! Iterating over a sealed chunk: decoded in one go (≈100 M samples/s), then served from memory.
//!
//! A sample-at-a-time decoder was not worth its complexity: a chunk decodes in about a microsecond, the per-order
//! integration runs as tight loops over the whole chunk, and exceptions patch values after the fact.

use lookout_model::Sample;
use lookout_storage::{SampleIter, VecSampleIter};

use super::{ChunkError, decode_sealed};

/// The samples of one sealed chunk, owning its decoded samples (the encoded bytes may be dropped).
#[derive(Debug, Clone, Default)]
pub struct SealedIter {
    samples: VecSampleIter,
}

impl SealedIter {
    /// Decodes the chunk; garbage is an error here rather than a silently short series later.
    pub fn new(bytes: &[u8]) -> Result<Self, ChunkError> {
        let mut samples = Vec::new();
        decode_sealed(bytes, &mut samples)?;
        Ok(SealedIter {
            samples: VecSampleIter::new(samples),
        })
    }
}

impl SampleIter for SealedIter {
    #[inline]
    fn next(&mut self) -> Option<Sample> {
        self.samples.next()
    }

    fn seek(&mut self, t: i64) -> Option<Sample> {
        self.samples.seek(t)
    }

    fn collect_into(&mut self, out: &mut Vec<Sample>) {
        self.samples.collect_into(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunkenc::{HeadChunk, encode_sealed};

    #[test]
    fn iterates_seeks_and_rejects_garbage() {
        let samples: Vec<Sample> = (0..50)
            .map(|i| Sample::new(i * 10, i as f64 / 4.0))
            .collect();
        let mut buf = Vec::new();
        encode_sealed(&samples, &mut buf);
        let mut it = SealedIter::new(&buf).unwrap();
        assert_eq!(it.next(), Some(samples[0]));
        assert_eq!(it.seek(245), Some(samples[25]));
        let mut rest = Vec::new();
        it.collect_into(&mut rest);
        assert_eq!(rest, samples[26..]);
        assert!(SealedIter::new(&buf[..buf.len() - 1]).is_err());
    }

    #[test]
    fn a_frozen_head_chunk_iterates_like_the_head_chunk() {
        let mut head = HeadChunk::new();
        for i in 0..120i64 {
            head.append(1_700_000_000_000 + i * 15_000, (i * 3) as f64 / 100.0);
        }
        let mut frozen = Vec::new();
        head.to_sealed(&mut frozen);
        assert!(
            frozen.len() * 4 < head.bytes().len(),
            "{} vs {} bytes",
            frozen.len(),
            head.bytes().len()
        );
        let (mut a, mut b) = (Vec::new(), Vec::new());
        head.iter().collect_into(&mut a);
        SealedIter::new(&frozen).unwrap().collect_into(&mut b);
        assert_eq!(a, b);
    }
}
