//! Segment files: naming, the segment header, record framing, and a reader that walks frames and says where and
//! why a segment stops being readable.
//!
//! Frame layout (little endian): payload length `u32`, type `u8`, CRC32C (Castagnoli) over type + payload `u32`,
//! payload. See `docs/format/wal.md`.

use std::fs::File;
use std::io::{BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use lookout_storage::StorageError;

use super::record::WalRecord;

/// First bytes of every segment: "LKWAL", two reserved zero bytes, then the format version.
pub(crate) const SEGMENT_HEADER: [u8; 8] = *b"LKWAL\0\0\x01";
/// Bytes before a record's payload: length (4), type (1), CRC (4).
pub(crate) const FRAME_HEADER_LEN: usize = 9;

/// The file of segment `number` in `dir`: the number zero-padded to ten digits, so names sort like numbers.
pub(crate) fn segment_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:010}"))
}

/// Wraps an I/O error with the file it happened on.
pub(crate) fn io_err(path: &Path, source: std::io::Error) -> StorageError {
    StorageError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// One segment file on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInfo {
    /// Sequence number (the file name).
    pub number: u64,
    /// Full path of the file.
    pub path: PathBuf,
    /// Size in bytes, header included.
    pub bytes: u64,
}

/// The segments in `dir`, by number. Files whose names are not all digits (the lock file, editor debris) are
/// ignored.
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<SegmentInfo>, StorageError> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io_err(dir, e))? {
        let entry = entry.map_err(|e| io_err(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(number) = name.parse::<u64>() else {
            continue;
        };
        let path = entry.path();
        let meta = entry.metadata().map_err(|e| io_err(&path, e))?;
        if meta.is_file() {
            out.push(SegmentInfo {
                number,
                path,
                bytes: meta.len(),
            });
        }
    }
    out.sort_by_key(|s| s.number);
    Ok(out)
}

/// Makes created and removed directory entries durable (a new segment must not vanish on power loss).
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err(dir, e))
}

/// Appends one framed record to `out`. Fails only when the payload exceeds the 4 GiB a frame can describe.
pub(crate) fn encode_frame(record: &WalRecord, out: &mut Vec<u8>) -> Result<(), StorageError> {
    let start = out.len();
    out.extend_from_slice(&[0; FRAME_HEADER_LEN]);
    record.encode_payload(out);
    let payload = &out[start + FRAME_HEADER_LEN..];
    let Ok(len) = u32::try_from(payload.len()) else {
        let len = payload.len();
        out.truncate(start);
        return Err(StorageError::Other(format!(
            "wal record of {len} bytes exceeds the 4 GiB frame limit; append smaller batches"
        )));
    };
    let type_byte = record.type_byte();
    let crc = crc32c::crc32c_append(crc32c::crc32c(&[type_byte]), payload);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4] = type_byte;
    out[start + 5..start + 9].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// Called with (type, payload) per good frame; `Err(detail)` when the payload does not decode.
pub(crate) type RecordVisitor<'a> = dyn FnMut(u8, &[u8]) -> Result<(), String> + 'a;

/// How reading a segment ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SegmentEnd {
    /// Every byte belonged to a good record.
    Clean,
    /// The last segment ends in a partial or damaged record with nothing readable after it: cut at `offset`.
    TornTail {
        /// Start of the first bad frame (0 when the header itself is torn).
        offset: u64,
        /// What was found.
        detail: String,
    },
    /// Damage followed by more data, or in a segment that is not the last: cutting here loses later records.
    Corrupt {
        /// Start of the first bad frame (0 for a bad header).
        offset: u64,
        /// What was found.
        detail: String,
    },
}

/// Walks the frames of one segment, calling `on_record(type, payload)` for each good one. `on_record` returns
/// `Err(detail)` when a payload with a good CRC does not decode; that is corruption wherever it happens.
///
/// A bad frame is a torn tail only in the last segment, and only if nothing readable can follow it: its claimed
/// end reaches the end of the file, or every byte from it to the end is zero (space a power loss left unwritten).
pub(crate) fn read_segment(
    path: &Path,
    is_last: bool,
    payload: &mut Vec<u8>,
    on_record: &mut RecordVisitor<'_>,
) -> Result<SegmentEnd, StorageError> {
    let file = File::open(path).map_err(|e| io_err(path, e))?;
    let file_len = file.metadata().map_err(|e| io_err(path, e))?.len();
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let bad = |reader: &BufReader<File>, offset: u64, claimed_end: u64, detail: String| {
        let tail = is_last
            && (claimed_end >= file_len || zeros_to_end(reader.get_ref(), offset, file_len)?);
        Ok(if tail {
            SegmentEnd::TornTail { offset, detail }
        } else {
            SegmentEnd::Corrupt { offset, detail }
        })
    };

    let header_len = SEGMENT_HEADER.len() as u64;
    if file_len < header_len {
        return bad(
            &reader,
            0,
            header_len,
            format!("segment header is short: {file_len} of {header_len} bytes"),
        );
    }
    let mut header = [0u8; SEGMENT_HEADER.len()];
    reader
        .read_exact(&mut header)
        .map_err(|e| io_err(path, e))?;
    if header != SEGMENT_HEADER {
        let detail =
            format!("not a lookout wal segment of format version 1 (header {header:02x?})");
        return bad(&reader, 0, header_len, detail);
    }

    let mut offset = header_len;
    loop {
        if offset == file_len {
            return Ok(SegmentEnd::Clean);
        }
        let frame_end = offset + FRAME_HEADER_LEN as u64;
        if frame_end > file_len {
            let detail = format!(
                "partial record header: {} of {FRAME_HEADER_LEN} bytes",
                file_len - offset
            );
            return bad(&reader, offset, frame_end, detail);
        }
        let mut frame = [0u8; FRAME_HEADER_LEN];
        reader.read_exact(&mut frame).map_err(|e| io_err(path, e))?;
        let len = u32::from_le_bytes(frame[0..4].try_into().expect("4 bytes"));
        let type_byte = frame[4];
        let stored_crc = u32::from_le_bytes(frame[5..9].try_into().expect("4 bytes"));
        let record_end = frame_end + u64::from(len);
        if record_end > file_len {
            let detail = format!(
                "record of {len} payload bytes runs past the end of the file ({} bytes left)",
                file_len - frame_end
            );
            return bad(&reader, offset, record_end, detail);
        }
        payload.clear();
        payload.resize(len as usize, 0);
        reader.read_exact(payload).map_err(|e| io_err(path, e))?;
        let crc = crc32c::crc32c_append(crc32c::crc32c(&[type_byte]), payload);
        if crc != stored_crc {
            let detail = format!(
                "record checksum mismatch: stored crc32c {stored_crc:#010x}, computed {crc:#010x}"
            );
            return bad(&reader, offset, record_end, detail);
        }
        if let Err(why) = on_record(type_byte, payload) {
            let detail = format!("record with a good checksum does not decode: {why}");
            return Ok(SegmentEnd::Corrupt { offset, detail });
        }
        offset = record_end;
    }
}

/// True when every byte of `file` from `from` to `len` is zero.
fn zeros_to_end(file: &File, from: u64, len: u64) -> Result<bool, StorageError> {
    let mut chunk = vec![0u8; 64 * 1024];
    let mut at = from;
    while at < len {
        let n = ((len - at) as usize).min(chunk.len());
        // Positional reads leave the buffered reader's cursor alone.
        file.read_exact_at(&mut chunk[..n], at)
            .map_err(|e| StorageError::Other(format!("reading wal segment tail at {at}: {e}")))?;
        if chunk[..n].iter().any(|&b| b != 0) {
            return Ok(false);
        }
        at += n as u64;
    }
    Ok(true)
}

/// Cuts a segment at `offset` and makes the new length durable. A cut inside the header leaves a fresh header, so
/// the segment keeps its place in the numbering (a missing number would read as a lost segment).
pub(crate) fn cut_segment(path: &Path, offset: u64) -> Result<(), StorageError> {
    let file = File::options()
        .write(true)
        .open(path)
        .map_err(|e| io_err(path, e))?;
    let header_len = SEGMENT_HEADER.len() as u64;
    if offset < header_len {
        file.set_len(0).map_err(|e| io_err(path, e))?;
        file.write_all_at(&SEGMENT_HEADER, 0)
            .map_err(|e| io_err(path, e))?;
    } else {
        file.set_len(offset).map_err(|e| io_err(path, e))?;
    }
    file.sync_all().map_err(|e| io_err(path, e))
}

/// Deletes a whole segment; one already gone is fine.
pub(crate) fn remove_segment(path: &Path) -> Result<(), StorageError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err(path, e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_segment(path: &Path, records: &[WalRecord]) -> Vec<u64> {
        let mut buf = SEGMENT_HEADER.to_vec();
        let mut starts = Vec::new();
        for r in records {
            starts.push(buf.len() as u64);
            encode_frame(r, &mut buf).unwrap();
        }
        std::fs::write(path, &buf).unwrap();
        starts
    }

    fn read(path: &Path, is_last: bool) -> (SegmentEnd, usize) {
        let mut n = 0;
        let end = read_segment(path, is_last, &mut Vec::new(), &mut |_, _| {
            n += 1;
            Ok(())
        })
        .unwrap();
        (end, n)
    }

    #[test]
    fn frames_read_back_and_damage_is_classified() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0000000000");
        let records: Vec<_> = (0..5)
            .map(|i| WalRecord::Samples(vec![(i, i as i64, 1.5)]))
            .collect();
        let starts = write_segment(&path, &records);
        assert_eq!(read(&path, true), (SegmentEnd::Clean, 5));

        // A flipped payload byte in the third record, followed by good records.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[starts[2] as usize + FRAME_HEADER_LEN] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        for is_last in [true, false] {
            let (end, n) = read(&path, is_last);
            assert_eq!(n, 2);
            assert!(
                matches!(end, SegmentEnd::Corrupt { offset, .. } if offset == starts[2]),
                "{end:?}"
            );
        }

        // The same damage in the final record is a torn tail of the last segment only.
        bytes[starts[2] as usize + FRAME_HEADER_LEN] ^= 0x40;
        bytes[starts[4] as usize + FRAME_HEADER_LEN] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        assert!(
            matches!(read(&path, true), (SegmentEnd::TornTail { offset, .. }, 4) if offset == starts[4])
        );
        assert!(
            matches!(read(&path, false), (SegmentEnd::Corrupt { offset, .. }, 4) if offset == starts[4])
        );

        // Zero-filled space after the last good record is a torn tail too.
        bytes[starts[4] as usize + FRAME_HEADER_LEN] ^= 0x40;
        bytes.extend_from_slice(&[0; 100]);
        std::fs::write(&path, &bytes).unwrap();
        assert!(
            matches!(read(&path, true), (SegmentEnd::TornTail { offset, .. }, 5) if offset == bytes.len() as u64 - 100)
        );
    }

    #[test]
    fn short_or_foreign_headers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0000000003");
        std::fs::write(&path, b"LKW").unwrap();
        assert!(matches!(
            read(&path, true).0,
            SegmentEnd::TornTail { offset: 0, .. }
        ));
        assert!(matches!(
            read(&path, false).0,
            SegmentEnd::Corrupt { offset: 0, .. }
        ));
        std::fs::write(&path, b"something else entirely").unwrap();
        assert!(matches!(
            read(&path, true).0,
            SegmentEnd::Corrupt { offset: 0, .. }
        ));
        cut_segment(&path, 0).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), SEGMENT_HEADER);
        assert_eq!(read(&path, false), (SegmentEnd::Clean, 0));
        remove_segment(&path).unwrap();
        remove_segment(&path).unwrap();
        assert!(!path.exists());
    }

    #[test]
    fn listing_ignores_other_files_and_sorts_by_number() {
        let dir = tempfile::tempdir().unwrap();
        for n in [10u64, 2, 1] {
            std::fs::write(segment_path(dir.path(), n), SEGMENT_HEADER).unwrap();
        }
        std::fs::write(dir.path().join("LOCK"), b"").unwrap();
        std::fs::write(dir.path().join("00000001.tmp"), b"").unwrap();
        let numbers: Vec<_> = list_segments(dir.path())
            .unwrap()
            .iter()
            .map(|s| s.number)
            .collect();
        assert_eq!(numbers, vec![1, 2, 10]);
    }
}
