//! The on-disk record format of a queue segment and the scans that check it.
//!
//! A record is a 12-byte header — payload length (u32 LE), item count (u32 LE), CRC-32 (u32 LE) over the item
//! count and the payload — then the payload. The item count (samples or log entries) lets the size bound count
//! what it drops without decoding payloads.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Bytes of a record header.
pub(crate) const HEADER_LEN: u64 = 12;

/// A payload larger than this is taken as damage, not as a record.
pub(crate) const MAX_PAYLOAD: u32 = 256 << 20;

/// The file name of segment `id`: zero-padded so names sort like ids.
pub(crate) fn segment_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:020}.seg"))
}

/// The id in a segment file name, `None` for other files.
pub(crate) fn segment_id(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".seg")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// The CRC a header carries for `items` and `payload`.
pub(crate) fn record_crc(items: u32, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&items.to_le_bytes());
    h.update(payload);
    h.finalize()
}

/// Header and payload in one buffer, so one `write()` appends the whole record.
pub(crate) fn encode_record(items: u32, payload: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(HEADER_LEN as usize + payload.len());
    buf.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    buf.extend_from_slice(&items.to_le_bytes());
    buf.extend_from_slice(&record_crc(items, payload).to_le_bytes());
    buf.extend_from_slice(payload);
    buf
}

/// A parsed header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    pub(crate) len: u32,
    pub(crate) items: u32,
    pub(crate) crc: u32,
}

impl Header {
    pub(crate) fn parse(b: &[u8; HEADER_LEN as usize]) -> Header {
        let word = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Header {
            len: word(0),
            items: word(4),
            crc: word(8),
        }
    }
}

/// What a scan of one segment found.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ScanResult {
    /// End of the last good record.
    pub(crate) good_len: u64,
    /// Items in the good records.
    pub(crate) items: u64,
    /// Items in the good records before `from` (records ending at or before it).
    pub(crate) items_before: u64,
    /// The file was longer than its good records (a torn or damaged tail).
    pub(crate) torn: bool,
}

/// Walks the records of `file`. With `verify`, payloads are read and their CRCs checked (the tail segment after a
/// crash); without it only headers are read, which is enough to count items in segments sealed before the crash.
pub(crate) fn scan(file: &mut File, verify: bool, from: u64) -> io::Result<ScanResult> {
    let file_len = file.metadata()?.len();
    let mut res = ScanResult::default();
    let mut off = 0u64;
    let mut payload = Vec::new();
    while off + HEADER_LEN <= file_len {
        let mut hb = [0u8; HEADER_LEN as usize];
        file.read_exact_at(&mut hb, off)?;
        let h = Header::parse(&hb);
        let end = off + HEADER_LEN + u64::from(h.len);
        if h.len > MAX_PAYLOAD || end > file_len {
            break;
        }
        if verify {
            payload.resize(h.len as usize, 0);
            file.read_exact_at(&mut payload, off + HEADER_LEN)?;
            if record_crc(h.items, &payload) != h.crc {
                break;
            }
        }
        off = end;
        res.items += u64::from(h.items);
        if end <= from {
            res.items_before += u64::from(h.items);
        }
    }
    res.good_len = off;
    res.torn = off != file_len;
    file.seek(SeekFrom::End(0))?;
    Ok(res)
}

/// Reads the record at `off` if it lies entirely before `limit`; `Ok(None)` when there is no whole record, an
/// error of kind `InvalidData` when the record is damaged.
pub(crate) fn read_record(
    file: &mut File,
    off: u64,
    limit: u64,
) -> io::Result<Option<(Header, Vec<u8>)>> {
    if off + HEADER_LEN > limit {
        return Ok(None);
    }
    let mut hb = [0u8; HEADER_LEN as usize];
    file.seek(SeekFrom::Start(off))?;
    file.read_exact(&mut hb)?;
    let h = Header::parse(&hb);
    if h.len > MAX_PAYLOAD || off + HEADER_LEN + u64::from(h.len) > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "record at offset {off} claims {} bytes past the segment end",
                h.len
            ),
        ));
    }
    let mut payload = vec![0u8; h.len as usize];
    file.read_exact(&mut payload)?;
    if record_crc(h.items, &payload) != h.crc {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("record at offset {off} fails its CRC"),
        ));
    }
    Ok(Some((h, payload)))
}
