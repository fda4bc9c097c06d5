//! Chunk encodings: the mutable head chunk (Gorilla-style) and the sealed at-rest form.
//!
//! - [`HeadChunk`] / [`HeadChunkIter`]: an append-only bit stream, delta-of-delta timestamps and XOR floats, cheap
//!   to append to and to iterate; its bytes can be copied out of a lock and decoded from an owned buffer.
//! - [`encode_sealed`] / [`decode_sealed`] / [`sealed_info`] / [`SealedIter`]: the at-rest form (and
//!   [`decode_sealed_parts`] for several written back to back, as the head keeps them), several times smaller. Values that
//!   are short decimals (integers, 2-decimal counters, multiples of 4096…) become integers coded by the differencing
//!   order and bit code that suit each chunk; others fall back to XOR. Timestamps on a fixed step cost nothing.
//!
//! Both encodings round-trip every sample bit for bit (NaN payloads, the stale marker, ±Inf, −0.0) and decoding
//! garbage never panics.

mod bits;
mod golomb_sizes;
mod head;
mod intseq;
mod intseq_decode;
mod sealed;
mod sealed_iter;
mod varint;
mod xor;

#[cfg(test)]
mod intseq_golden;
#[cfg(test)]
mod nodegen_measure;
#[cfg(test)]
mod proptests;

pub use head::{HeadChunk, HeadChunkIter};
pub use sealed::{
    MAX_SEALED_SAMPLES, SealHint, SealedInfo, decode_sealed, decode_sealed_parts, encode_sealed,
    encode_sealed_hinted, sealed_info,
};
pub use sealed_iter::SealedIter;

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
