//! Chunk encodings: the mutable head chunk (Gorilla-style) and the sealed at-rest form.
//!
//! PLACEHOLDER IMPLEMENTATION: stores raw 16-byte samples. The API below is fixed; the encodings are being written.

use lookout_model::Sample;
use lookout_storage::SampleIter;

/// A chunk could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// The bytes end before the header says they should.
    #[error("chunk truncated at byte {offset}")]
    Truncated {
        /// Where decoding stopped.
        offset: usize,
    },
    /// An unknown encoding byte or inconsistent header.
    #[error("bad chunk: {0}")]
    Corrupt(String),
}

/// The mutable in-memory chunk of a head series: appends only, in time order.
#[derive(Debug, Clone, Default)]
pub struct HeadChunk {
    buf: Vec<u8>,
    len: u16,
    min_t: i64,
    max_t: i64,
}

impl HeadChunk {
    /// An empty chunk.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a sample; `t` must be greater than the last appended timestamp.
    pub fn append(&mut self, t: i64, v: f64) {
        if self.len == 0 {
            self.min_t = t;
        }
        self.max_t = t;
        self.len += 1;
        self.buf.extend_from_slice(&t.to_le_bytes());
        self.buf.extend_from_slice(&v.to_bits().to_le_bytes());
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// First timestamp (meaningless when empty).
    pub fn min_t(&self) -> i64 {
        self.min_t
    }

    /// Last timestamp (meaningless when empty).
    pub fn max_t(&self) -> i64 {
        self.max_t
    }

    /// Heap bytes held, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// The encoded bytes; [`HeadChunkIter::new`] decodes them given [`HeadChunk::len`].
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Iterates over the samples.
    pub fn iter(&self) -> HeadChunkIter<&[u8]> {
        HeadChunkIter::new(&self.buf[..], self.len)
    }
}

/// Decodes a head chunk's bytes (borrowed or owned).
#[derive(Debug, Clone)]
pub struct HeadChunkIter<B> {
    buf: B,
    len: u16,
    i: u16,
}

impl<B: AsRef<[u8]>> HeadChunkIter<B> {
    /// Decodes `len` samples from `buf` (as produced by [`HeadChunk::bytes`]).
    pub fn new(buf: B, len: u16) -> Self {
        HeadChunkIter { buf, len, i: 0 }
    }
}

impl<B: AsRef<[u8]> + Send> SampleIter for HeadChunkIter<B> {
    fn next(&mut self) -> Option<Sample> {
        if self.i >= self.len {
            return None;
        }
        let o = self.i as usize * 16;
        let b = self.buf.as_ref();
        let t = i64::from_le_bytes(b[o..o + 8].try_into().ok()?);
        let v = f64::from_bits(u64::from_le_bytes(b[o + 8..o + 16].try_into().ok()?));
        self.i += 1;
        Some(Sample::new(t, v))
    }
}

/// Encodes samples (time-ordered) into the compact at-rest form, appending to `out`.
pub fn encode_sealed(samples: &[Sample], out: &mut Vec<u8>) {
    out.extend_from_slice(&(samples.len() as u32).to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.t.to_le_bytes());
        out.extend_from_slice(&s.v.to_bits().to_le_bytes());
    }
}

/// Decodes a sealed chunk into its samples, appending to `out`.
pub fn decode_sealed(bytes: &[u8], out: &mut Vec<Sample>) -> Result<(), ChunkError> {
    let n = u32::from_le_bytes(bytes.get(..4).ok_or(ChunkError::Truncated { offset: 0 })?.try_into().unwrap());
    for i in 0..n as usize {
        let o = 4 + i * 16;
        let rec = bytes.get(o..o + 16).ok_or(ChunkError::Truncated { offset: o })?;
        let t = i64::from_le_bytes(rec[..8].try_into().unwrap());
        let v = f64::from_bits(u64::from_le_bytes(rec[8..].try_into().unwrap()));
        out.push(Sample::new(t, v));
    }
    Ok(())
}
