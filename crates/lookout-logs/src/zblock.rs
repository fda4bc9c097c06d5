//! Block payloads compressed one by one (zstd): a block document's stored bytes are the raw length (LEB128) and one
//! zstd frame, and tantivy's doc store keeps them uncompressed. Reading a candidate block therefore decompresses that
//! block alone, not the doc-store block of several documents around it; a block holds one stream's lines, so it
//! compresses about as well on its own.

use std::cell::RefCell;

use crate::codec::{DecodeError, Reader, put_u64};

/// zstd level: level 3 is `zstd`'s default and the figure BENCHMARKS.md compares against.
const LEVEL: i32 = 3;
/// Largest raw block a stored length may claim: a block closes at 64 KiB of lines by default, plus one line of at
/// most the line limit and its metadata; anything far above is damage, refused before allocating.
const MAX_RAW: u64 = 256 << 20;

/// Compresses payloads with one reusable zstd context.
pub struct BlockCompressor {
    ctx: zstd::bulk::Compressor<'static>,
}

impl BlockCompressor {
    /// A compressor at [`LEVEL`].
    pub fn new() -> std::io::Result<Self> {
        Ok(BlockCompressor {
            ctx: zstd::bulk::Compressor::new(LEVEL)?,
        })
    }

    /// `payload` as stored: its length and its zstd frame.
    pub fn compress(&mut self, payload: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(payload.len() / 4 + 16);
        put_u64(&mut out, payload.len() as u64);
        let frame = self.ctx.compress(payload)?;
        out.extend_from_slice(&frame);
        Ok(out)
    }
}

thread_local! {
    /// One decompression context per reading thread (creating one allocates ~100 KB).
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// Why stored bytes are not a compressed block.
#[derive(Debug, thiserror::Error)]
pub enum BlockReadError {
    /// The length prefix is damaged.
    #[error("{0}")]
    Length(#[from] DecodeError),
    /// The claimed length is beyond any block.
    #[error("compressed log block claims {0} bytes, more than any block holds")]
    TooLarge(u64),
    /// zstd refused the frame, or it did not decompress to the claimed length.
    #[error("compressed log block: {0}")]
    Frame(String),
}

/// The payload of stored bytes written by [`BlockCompressor::compress`].
pub fn decompress(stored: &[u8]) -> Result<Vec<u8>, BlockReadError> {
    let mut r = Reader::new(stored);
    let len = r.u64()?;
    if len > MAX_RAW {
        return Err(BlockReadError::TooLarge(len));
    }
    let frame = &stored[r.position()..];
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(
                zstd::bulk::Decompressor::new()
                    .map_err(|e| BlockReadError::Frame(e.to_string()))?,
            );
        }
        let ctx = slot.as_mut().expect("set above");
        let out = ctx
            .decompress(frame, len as usize)
            .map_err(|e| BlockReadError::Frame(e.to_string()))?;
        if out.len() as u64 != len {
            return Err(BlockReadError::Frame(format!(
                "decompressed to {} bytes, the block claims {len}",
                out.len()
            )));
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_damage() {
        let mut c = BlockCompressor::new().unwrap();
        let payload: Vec<u8> = (0..50_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let stored = c.compress(&payload).unwrap();
        assert!(stored.len() < payload.len() / 2);
        assert_eq!(decompress(&stored).unwrap(), payload);
        assert_eq!(decompress(&c.compress(b"").unwrap()).unwrap(), b"");
        // A cut frame, a wrong length and a huge claimed length are refused.
        assert!(decompress(&stored[..stored.len() - 3]).is_err());
        let mut wrong = Vec::new();
        put_u64(&mut wrong, payload.len() as u64 - 1);
        wrong.extend_from_slice(&stored[3..]);
        assert!(decompress(&wrong).is_err());
        let mut huge = Vec::new();
        put_u64(&mut huge, u64::MAX);
        assert!(matches!(
            decompress(&huge),
            Err(BlockReadError::TooLarge(_))
        ));
        assert!(decompress(&[]).is_err());
    }
}
