//! Capped body decompression: every decoder stops at a hard output limit instead of trusting the sender.

use std::io::Read;

/// Why a body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The decoded body would exceed the cap.
    #[error("body too large: decoded size exceeds the limit of {limit} bytes")]
    BodyTooLarge {
        /// The cap in bytes.
        limit: usize,
    },
    /// A `Content-Encoding` this crate does not decode.
    #[error(
        "unsupported content encoding {encoding:?} (supported: identity, gzip, deflate, snappy)"
    )]
    UnsupportedEncoding {
        /// The encoding as the client sent it.
        encoding: String,
    },
    /// The compressed stream is corrupt or truncated.
    #[error("corrupt {encoding} body: {reason}")]
    Corrupt {
        /// The encoding being decoded.
        encoding: &'static str,
        /// What the decoder reported.
        reason: String,
    },
}

/// Decodes `bytes` by its `Content-Encoding` (`identity`/none, `gzip`/`x-gzip`, `deflate` (zlib), `snappy`
/// block format), never producing more than `max_bytes`: gzip and deflate stop reading at the cap, snappy checks
/// the length in its header before allocating. A body without an encoding is borrowed, not copied.
pub fn decode_body<'a>(
    bytes: &'a [u8],
    content_encoding: Option<&str>,
    max_bytes: usize,
) -> Result<std::borrow::Cow<'a, [u8]>, BodyError> {
    let encoding = content_encoding.map(str::trim).unwrap_or("");
    if encoding.is_empty() || encoding.eq_ignore_ascii_case("identity") {
        if bytes.len() > max_bytes {
            return Err(BodyError::BodyTooLarge { limit: max_bytes });
        }
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    decode_encoded(bytes, encoding, max_bytes).map(std::borrow::Cow::Owned)
}

/// [`decode_body`] for a named encoding.
fn decode_encoded(bytes: &[u8], encoding: &str, max_bytes: usize) -> Result<Vec<u8>, BodyError> {
    if encoding.eq_ignore_ascii_case("gzip") || encoding.eq_ignore_ascii_case("x-gzip") {
        return read_capped(flate2::read::MultiGzDecoder::new(bytes), "gzip", max_bytes);
    }
    if encoding.eq_ignore_ascii_case("deflate") {
        return read_capped(flate2::read::ZlibDecoder::new(bytes), "deflate", max_bytes);
    }
    if encoding.eq_ignore_ascii_case("snappy") {
        return decode_snappy(bytes, max_bytes);
    }
    Err(BodyError::UnsupportedEncoding {
        encoding: encoding.to_owned(),
    })
}

/// Most bytes one byte of a snappy block can expand to: the densest element, a copy with a 2-byte offset, is 3
/// bytes long and emits at most 64 (21.3 per byte); literals and the other copies emit less.
const SNAPPY_MAX_EXPANSION: usize = 22;

/// Snappy block format with the declared length checked against `max_bytes` before allocating, and against what
/// the block's size can possibly hold, so that a few bytes declaring a large length do not reserve it.
pub fn decode_snappy(bytes: &[u8], max_bytes: usize) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::new();
    decode_snappy_into(bytes, max_bytes, &mut out)?;
    Ok(out)
}

/// [`decode_snappy`] into `out` (replacing its contents), so that a caller can reuse one buffer across bodies.
pub fn decode_snappy_into(
    bytes: &[u8],
    max_bytes: usize,
    out: &mut Vec<u8>,
) -> Result<(), BodyError> {
    let corrupt = |e: snap::Error| BodyError::Corrupt {
        encoding: "snappy",
        reason: e.to_string(),
    };
    let len = snap::raw::decompress_len(bytes).map_err(corrupt)?;
    if len > max_bytes {
        return Err(BodyError::BodyTooLarge { limit: max_bytes });
    }
    if len > bytes.len().saturating_mul(SNAPPY_MAX_EXPANSION) {
        return Err(BodyError::Corrupt {
            encoding: "snappy",
            reason: format!(
                "the header declares {len} decoded bytes, more than {} compressed bytes can hold",
                bytes.len()
            ),
        });
    }
    out.clear();
    out.resize(len, 0);
    let written = snap::raw::Decoder::new()
        .decompress(bytes, out)
        .map_err(corrupt)?;
    out.truncate(written);
    Ok(())
}

/// Reads at most `max_bytes + 1` bytes so an oversized stream is detected without buffering it.
fn read_capped(
    reader: impl Read,
    encoding: &'static str,
    max_bytes: usize,
) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::new();
    let cap = u64::try_from(max_bytes)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    reader
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| BodyError::Corrupt {
            encoding,
            reason: e.to_string(),
        })?;
    if out.len() > max_bytes {
        return Err(BodyError::BodyTooLarge { limit: max_bytes });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn decodes_each_encoding() {
        let data = b"up 1\n".repeat(100);
        assert_eq!(decode_body(&data, None, 1000).unwrap(), data);
        assert_eq!(decode_body(&data, Some("identity"), 1000).unwrap(), data);
        assert_eq!(decode_body(&gzip(&data), Some("gzip"), 1000).unwrap(), data);
        assert_eq!(
            decode_body(&gzip(&data), Some(" GZIP "), 500).unwrap(),
            data
        );
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&data).unwrap();
        assert_eq!(
            decode_body(&z.finish().unwrap(), Some("deflate"), 1000).unwrap(),
            data
        );
        let sn = snap::raw::Encoder::new().compress_vec(&data).unwrap();
        assert_eq!(decode_body(&sn, Some("snappy"), 1000).unwrap(), data);
    }

    #[test]
    fn caps_output_exactly() {
        let data = vec![b'a'; 10_000];
        assert_eq!(
            decode_body(&gzip(&data), Some("gzip"), 10_000)
                .unwrap()
                .len(),
            10_000
        );
        assert_eq!(
            decode_body(&gzip(&data), Some("gzip"), 9_999),
            Err(BodyError::BodyTooLarge { limit: 9_999 })
        );
        let sn = snap::raw::Encoder::new().compress_vec(&data).unwrap();
        assert_eq!(
            decode_body(&sn, Some("snappy"), 9_999),
            Err(BodyError::BodyTooLarge { limit: 9_999 })
        );
        assert_eq!(
            decode_body(&data, None, 9_999),
            Err(BodyError::BodyTooLarge { limit: 9_999 })
        );
    }

    #[test]
    fn gzip_bomb_is_stopped_at_the_cap() {
        // 64 MiB of zeros compresses to ~64 KiB; the decoder must stop after 1 MiB + 1 byte.
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..64 {
            e.write_all(&chunk).unwrap();
        }
        let bomb = e.finish().unwrap();
        assert_eq!(
            decode_body(&bomb, Some("gzip"), 1 << 20),
            Err(BodyError::BodyTooLarge { limit: 1 << 20 })
        );
    }

    #[test]
    fn snappy_expands_at_most_22_times_and_a_header_declaring_more_is_refused_before_allocating() {
        // The densest snappy input there is: one literal byte, then copies of 64 bytes at offset 1.
        let zeros = vec![0u8; 1 << 20];
        let dense = snap::raw::Encoder::new().compress_vec(&zeros).unwrap();
        assert!(zeros.len() <= dense.len() * SNAPPY_MAX_EXPANSION);
        assert_eq!(decode_snappy(&dense, 1 << 20).unwrap(), zeros);
        // Found by lookout-fuzz: five bytes declaring 126 MiB reserved 126 MiB before failing.
        let liar = [0x80, 0x80, 0x80, 0x3f, 0x00];
        assert_eq!(snap::raw::decompress_len(&liar).unwrap(), 126 << 20);
        assert!(matches!(
            decode_snappy(&liar, 128 << 20),
            Err(BodyError::Corrupt { encoding: "snappy", reason }) if reason.contains("declares 132120576")
        ));
        // Past the cap it stays "too large" (413), as before.
        assert_eq!(
            decode_snappy(&liar, 1 << 20),
            Err(BodyError::BodyTooLarge { limit: 1 << 20 })
        );
    }

    #[test]
    fn garbage_and_unknown_encodings_are_errors() {
        assert!(matches!(
            decode_body(b"not gzip", Some("gzip"), 100),
            Err(BodyError::Corrupt {
                encoding: "gzip",
                ..
            })
        ));
        assert!(decode_body(b"\xff\xff\xff\xff\xff\x01", Some("snappy"), 100).is_err());
        assert!(matches!(
            decode_body(b"x", Some("br"), 100),
            Err(BodyError::UnsupportedEncoding { .. })
        ));
        let truncated = &gzip(b"hello world hello world")[..10];
        assert!(matches!(
            decode_body(truncated, Some("gzip"), 100),
            Err(BodyError::Corrupt { .. })
        ));
    }
}
