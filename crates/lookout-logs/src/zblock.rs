//! Block payloads compressed one by one (zstd): a block document's stored bytes are the payload's leading numbers as
//! they are (length-prefixed), then the rest's raw length (LEB128) and one zstd frame of it, and tantivy's doc store keeps them uncompressed. Reading a candidate block therefore decompresses that
//! block alone, not the doc-store block of several documents around it. A block holds one stream's lines, a few
//! kilobytes; the partition's dictionary ([`crate::dicts`]), when it has one, gives such small frames about the
//! ratio of compressing the whole text at once. A frame names its dictionary's id in its header.

use std::cell::RefCell;

use zstd::zstd_safe::{self, CCtx, CDict, DCtx, DDict};

use crate::codec::{DecodeError, Reader, put_u64};

/// zstd level: 6 rather than zstd's default 3, because blocks are small and each is written once. Measured on
/// loggen blocks with a dictionary (BENCHMARKS.md, "Logs"): level 3 0.171 of raw at ~350 MB/s, level 6 0.159 at
/// ~90 MB/s, level 7 0.152 at ~60 MB/s; 6 keeps the whole store under 0.20 of raw at the least CPU.
pub const LEVEL: i32 = 6;
/// Largest raw block a stored length may claim: a block closes at 64 KiB of lines by default, plus one line of at
/// most the line limit and its metadata; anything far above is damage, refused before allocating.
const MAX_RAW: u64 = 256 << 20;

fn zstd_error(code: usize) -> String {
    zstd_safe::get_error_name(code).to_string()
}

/// Compresses payloads with one reusable zstd context.
pub struct BlockCompressor {
    ctx: CCtx<'static>,
}

impl BlockCompressor {
    /// A compressor at [`LEVEL`].
    pub fn new() -> Self {
        BlockCompressor {
            ctx: CCtx::create(),
        }
    }

    /// `payload` as stored: the first `raw` bytes as they are (numbers zstd cannot shrink, which would only
    /// disturb its model of the text), then the length of the rest and its zstd frame, with `dict` when given.
    pub fn compress(
        &mut self,
        payload: &[u8],
        raw: usize,
        dict: Option<&CDict<'_>>,
    ) -> std::io::Result<Vec<u8>> {
        let (head, body) = payload.split_at(raw.min(payload.len()));
        let mut out = Vec::with_capacity(head.len() + zstd_safe::compress_bound(body.len()) + 20);
        put_u64(&mut out, head.len() as u64);
        out.extend_from_slice(head);
        put_u64(&mut out, body.len() as u64);
        // The frame is written right after the prefix, into the same buffer.
        let at = out.len() as u64;
        let mut cursor = std::io::Cursor::new(out);
        cursor.set_position(at);
        let written = match dict {
            Some(d) => self.ctx.compress_using_cdict(&mut cursor, body, d),
            None => self.ctx.compress(&mut cursor, body, LEVEL),
        };
        written.map_err(|c| std::io::Error::other(zstd_error(c)))?;
        Ok(cursor.into_inner())
    }
}

impl Default for BlockCompressor {
    fn default() -> Self {
        Self::new()
    }
}

thread_local! {
    /// One decompression context per reading thread (creating one allocates ~100 KB).
    static DECOMPRESSOR: RefCell<Option<DCtx<'static>>> = const { RefCell::new(None) };
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
    /// The frame names a dictionary the partition does not have.
    #[error("compressed log block needs zstd dictionary {0}, which its partition lacks")]
    NoDictionary(u32),
    /// zstd refused the frame, or it did not decompress to the claimed length.
    #[error("compressed log block: {0}")]
    Frame(String),
}

/// The payload of stored bytes written by [`BlockCompressor::compress`]; `dict` finds a dictionary by id.
pub fn decompress(
    stored: &[u8],
    dict: &dyn Fn(u32) -> Option<std::sync::Arc<DDict<'static>>>,
) -> Result<Vec<u8>, BlockReadError> {
    let mut r = Reader::new(stored);
    let head_len = r.count_of(1)?;
    let head = r.take(head_len)?;
    let len = r.u64()?;
    if len > MAX_RAW {
        return Err(BlockReadError::TooLarge(len));
    }
    let frame = &stored[r.position()..];
    let ddict = match zstd_safe::get_dict_id_from_frame(frame) {
        Some(id) => Some(dict(id.get()).ok_or(BlockReadError::NoDictionary(id.get()))?),
        None => None,
    };
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let ctx = slot.get_or_insert_with(DCtx::create);
        // The frame decompresses right after the head, into one buffer.
        let mut out: Vec<u8> = Vec::with_capacity(head.len() + len as usize);
        out.extend_from_slice(head);
        let mut at = std::io::Cursor::new(out);
        at.set_position(head.len() as u64);
        let written = match &ddict {
            Some(d) => ctx.decompress_using_ddict(&mut at, frame, d),
            None => ctx.decompress(&mut at, frame),
        };
        written.map_err(|c| BlockReadError::Frame(zstd_error(c)))?;
        let out = at.into_inner();
        let body = (out.len() - head.len()) as u64;
        if body != len {
            return Err(BlockReadError::Frame(format!(
                "decompressed to {body} bytes, the block claims {len}"
            )));
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn no_dict(_: u32) -> Option<Arc<DDict<'static>>> {
        None
    }

    #[test]
    fn round_trips_and_refuses_damage() {
        let mut c = BlockCompressor::new();
        let payload: Vec<u8> = (0..50_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let stored = c.compress(&payload, 7, None).unwrap();
        assert!(stored.len() < payload.len() / 2);
        assert_eq!(decompress(&stored, &no_dict).unwrap(), payload);
        assert_eq!(
            decompress(&c.compress(b"", 0, None).unwrap(), &no_dict).unwrap(),
            b""
        );
        // A cut frame, a wrong length and a huge claimed length are refused.
        assert!(decompress(&stored[..stored.len() - 3], &no_dict).is_err());
        let mut wrong = stored[..8].to_vec();
        put_u64(&mut wrong, payload.len() as u64 - 8);
        wrong.extend_from_slice(&stored[11..]);
        assert!(decompress(&wrong, &no_dict).is_err());
        let mut huge = vec![0];
        put_u64(&mut huge, u64::MAX);
        assert!(matches!(
            decompress(&huge, &no_dict),
            Err(BlockReadError::TooLarge(_))
        ));
        assert!(decompress(&[], &no_dict).is_err());
    }

    #[test]
    fn a_dictionary_frame_needs_its_dictionary() {
        let samples: Vec<Vec<u8>> = (0..400)
            .map(|i| format!("{{\"level\":\"info\",\"msg\":\"request {i} handled\",\"route\":\"/api/v1/query\"}}").into_bytes())
            .collect();
        let dict = zstd::dict::from_samples(&samples, 4096).unwrap();
        let cdict = CDict::create(&dict, LEVEL);
        let ddict = Arc::new(DDict::create(&dict));
        let id = ddict.get_dict_id().unwrap().get();
        let mut c = BlockCompressor::new();
        let payload = samples[7].clone();
        let with = c.compress(&payload, 0, Some(&cdict)).unwrap();
        let without = c.compress(&payload, 7, None).unwrap();
        assert!(
            with.len() < without.len(),
            "{} vs {}",
            with.len(),
            without.len()
        );
        let found = |i: u32| (i == id).then(|| ddict.clone());
        assert_eq!(decompress(&with, &found).unwrap(), payload);
        assert!(matches!(
            decompress(&with, &no_dict),
            Err(BlockReadError::NoDictionary(i)) if i == id
        ));
        assert_eq!(decompress(&without, &found).unwrap(), payload);
    }
}
