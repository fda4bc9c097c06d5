//! The head chunk log: every head chunk sealed while the database runs is also appended to files in
//! `head_chunks/`, so start-up after a crash loads each series' sealed chunks instead of re-applying their samples
//! from the WAL (Prometheus keeps full head chunks on disk for the same reason).
//!
//! The log is a cache of the WAL, never the only copy of anything: the WAL keeps every sample as before, and what
//! the log cannot vouch for is replayed from the WAL. So it is written without fsync and from a thread of its own;
//! records the writer cannot take in time are dropped and counted; a torn or damaged record ends the reading of
//! its file; a series whose chain of chunks has a gap is rebuilt from the WAL from the gap on. What "vouch" means
//! is in [`load`]. With an out-of-order window the log is off: samples accepted out of order live outside the
//! chunks, so only the WAL can rebuild them.
//!
//! Record layout (little endian): body length `u32`, CRC-32C of the body `u32`, then the body: series id `u32`,
//! chunk min and max time `i64`, max time of the series' previous sealed chunk `i64` (`i64::MIN`: none), bits of
//! the last value `u64`, sample count `u32`, and the sealed bytes (one or more sealed chunks back to back).

pub(crate) mod load;
mod writer;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub(crate) use load::{Chain, LoadedChunks, load};
pub(crate) use writer::ChunkLog;

/// Directory of the log inside the data directory.
pub(crate) const DIR: &str = "head_chunks";
/// First bytes of every log file. Version 2: a record's bytes may hold several sealed chunks back to back (a
/// block's closed head chunks); a version-1 record holds one, which reads the same, so both are read. A version-1
/// binary refuses version-2 files as not its own and replays their samples from the WAL.
const MAGIC: &[u8; 8] = b"LKHCHNK2";
/// First bytes of log files written before records could hold several sealed chunks.
const MAGIC_V1: &[u8; 8] = b"LKHCHNK1";
/// Fixed part of a record body.
const BODY_FIXED: usize = 4 + 8 + 8 + 8 + 8 + 4;
/// Largest body a reader accepts (a sealed chunk holds at most a few KiB).
const MAX_BODY: usize = 1 << 20;
/// A file is closed and a new one started past this size.
const FILE_BYTES: u64 = 32 << 20;

/// One sealed head chunk as the log stores it.
#[derive(Debug, Clone)]
pub(crate) struct ChunkRecord {
    pub(crate) id: u32,
    pub(crate) min_t: i64,
    pub(crate) max_t: i64,
    /// Max time of the sealed chunk before this one in the series (`i64::MIN`: none), which chains the records.
    pub(crate) prev_max_t: i64,
    /// Bits of the chunk's last value (the head needs it to refuse a repeated timestamp with another value).
    pub(crate) last_v: u64,
    pub(crate) len: u32,
    pub(crate) bytes: Arc<[u8]>,
}

impl ChunkRecord {
    /// Appends the framed record to `out`.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let body_len = BODY_FIXED + self.bytes.len();
        out.reserve(8 + body_len);
        out.extend_from_slice(&(body_len as u32).to_le_bytes());
        let crc_at = out.len();
        out.extend_from_slice(&[0; 4]);
        let body_at = out.len();
        out.extend_from_slice(&self.id.to_le_bytes());
        out.extend_from_slice(&self.min_t.to_le_bytes());
        out.extend_from_slice(&self.max_t.to_le_bytes());
        out.extend_from_slice(&self.prev_max_t.to_le_bytes());
        out.extend_from_slice(&self.last_v.to_le_bytes());
        out.extend_from_slice(&self.len.to_le_bytes());
        out.extend_from_slice(&self.bytes);
        let crc = crc32c::crc32c(&out[body_at..]);
        out[crc_at..body_at].copy_from_slice(&crc.to_le_bytes());
    }

    /// Decodes a body whose length and CRC were checked.
    fn decode_body(body: &[u8]) -> Option<ChunkRecord> {
        if body.len() < BODY_FIXED {
            return None;
        }
        let u32_at = |i: usize| u32::from_le_bytes(body[i..i + 4].try_into().expect("4 bytes"));
        let u64_at = |i: usize| u64::from_le_bytes(body[i..i + 8].try_into().expect("8 bytes"));
        Some(ChunkRecord {
            id: u32_at(0),
            min_t: u64_at(4) as i64,
            max_t: u64_at(12) as i64,
            prev_max_t: u64_at(20) as i64,
            last_v: u64_at(28),
            len: u32_at(36),
            bytes: Arc::from(&body[BODY_FIXED..]),
        })
    }
}

/// Path of log file `number`.
fn file_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:08}.chunks"))
}

/// Log files in `dir` by number, oldest first (other names are left alone).
fn list_files(dir: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let mut files = Vec::new();
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(files),
        Err(e) => return Err(e),
    };
    for entry in rd {
        let entry = entry?;
        let name = entry.file_name();
        let Some(number) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".chunks"))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        files.push((number, entry.path()));
    }
    files.sort();
    Ok(files)
}

/// Deletes every log file (the log is then rebuilt as chunks are sealed).
pub(crate) fn remove_all(dir: &Path) -> std::io::Result<()> {
    for (_, path) in list_files(dir)? {
        std::fs::remove_file(path)?;
    }
    Ok(())
}
