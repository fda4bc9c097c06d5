//! Reading the log at start-up, and which chunks it can vouch for.
//!
//! A series' chunks are used only as a chain: the first one's predecessor is already persisted (or there was
//! none), and each next one names the previous one's max time as its predecessor's. Several versions of one chunk
//! (the head merges each new cut into the block's sealed chunk, and every merge is logged) are told apart by their
//! min time: the last one written wins. Replay then skips the WAL's samples of that series up to the chain's end,
//! and checks that the WAL holds the chain's last sample, value included; if it does not (the WAL lost a tail the
//! log still has, after a power cut), start-up drops the log and replays the whole WAL.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use rustc_hash::FxHashMap;

use super::{BODY_FIXED, ChunkRecord, MAGIC, MAGIC_V1, MAX_BODY, list_files};
use crate::head::series::SealedChunk;

/// A series' sealed chunks the log vouches for.
#[derive(Debug)]
pub(crate) struct Chain {
    /// Oldest first; never empty.
    pub(crate) chunks: Vec<SealedChunk>,
    /// Bits of the last chunk's last value.
    pub(crate) last_v: u64,
}

impl Chain {
    /// Max time of the last chunk.
    pub(crate) fn max_t(&self) -> i64 {
        self.chunks.last().map_or(i64::MIN, |c| c.max_t)
    }

    /// Samples in the chunks.
    pub(crate) fn samples(&self) -> u64 {
        self.chunks.iter().map(|c| u64::from(c.len)).sum()
    }
}

/// A log file found at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LogFile {
    pub(crate) number: u64,
    /// Largest chunk max time in the file (`i64::MIN`: no good record).
    pub(crate) max_t: i64,
    pub(crate) bytes: u64,
}

/// What [`load`] found.
#[derive(Debug, Default)]
pub(crate) struct LoadedChunks {
    /// Chains by series id.
    pub(crate) chains: FxHashMap<u32, Chain>,
    /// Every log file, oldest first.
    pub(crate) files: Vec<LogFile>,
    /// Good records read.
    pub(crate) records: u64,
    /// Files whose reading stopped at a torn or damaged record.
    pub(crate) damaged_files: u64,
}

/// Reads every log file in `dir` and keeps, per series, the chain of chunks at or after `boundary` (earlier
/// samples are persisted). I/O errors on a file end its reading; the WAL covers the rest.
pub(crate) fn load(dir: &Path, boundary: i64) -> LoadedChunks {
    let mut out = LoadedChunks::default();
    let files = match list_files(dir) {
        Ok(files) => files,
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "head chunk log unreadable; replaying the whole WAL");
            return out;
        }
    };
    let mut versions: FxHashMap<u32, Vec<ChunkRecord>> = FxHashMap::default();
    for (number, path) in files {
        let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
        let mut max_t = i64::MIN;
        let complete = read_file(&path, &mut |rec| {
            out.records += 1;
            max_t = max_t.max(rec.max_t);
            if rec.max_t < boundary {
                return;
            }
            let chunks = versions.entry(rec.id).or_default();
            match chunks.iter_mut().rev().find(|c| c.min_t == rec.min_t) {
                Some(older) => *older = rec,
                None => chunks.push(rec),
            }
        });
        if let Err(detail) = complete {
            out.damaged_files += 1;
            tracing::warn!(file = %path.display(), detail, "head chunk log file ends in a damaged record; the WAL covers what follows");
        }
        out.files.push(LogFile {
            number,
            max_t,
            bytes,
        });
    }
    for (id, mut records) in versions {
        records.sort_by_key(|r| r.min_t);
        if let Some(chain) = chain(records, boundary) {
            out.chains.insert(id, chain);
        }
    }
    tracing::info!(
        dir = %dir.display(),
        files = out.files.len(),
        records = out.records,
        damaged_files = out.damaged_files,
        series = out.chains.len(),
        "head chunk log read"
    );
    out
}

/// The longest run of `records` (sorted by min time) that links up from the persisted boundary.
fn chain(records: Vec<ChunkRecord>, boundary: i64) -> Option<Chain> {
    let mut chunks: Vec<SealedChunk> = Vec::new();
    let mut last_v = 0;
    for r in records {
        let links = match chunks.last() {
            None => (r.prev_max_t == i64::MIN || r.prev_max_t < boundary) && r.min_t >= boundary,
            Some(prev) => r.prev_max_t == prev.max_t && r.min_t > prev.max_t,
        };
        if !links || r.max_t < r.min_t || r.len == 0 {
            break;
        }
        last_v = r.last_v;
        chunks.push(SealedChunk {
            bytes: r.bytes,
            min_t: r.min_t,
            max_t: r.max_t,
            len: r.len,
        });
    }
    (!chunks.is_empty()).then_some(Chain { chunks, last_v })
}

/// Calls `visit` with each good record of the file; `Err` says where and why reading stopped early.
pub(crate) fn read_file(path: &Path, visit: &mut dyn FnMut(ChunkRecord)) -> Result<(), String> {
    let file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let mut r = BufReader::with_capacity(256 << 10, file);
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic)
        .map_err(|e| format!("no header: {e}"))?;
    if &magic != MAGIC && &magic != MAGIC_V1 {
        return Err("not a head chunk log file (bad magic)".into());
    }
    let mut offset = MAGIC.len() as u64;
    let mut body = Vec::new();
    loop {
        let mut frame = [0u8; 8];
        match read_full(&mut r, &mut frame) {
            Ok(0) => return Ok(()),
            Ok(8) => {}
            Ok(_) => return Err(format!("torn frame at offset {offset}")),
            Err(e) => return Err(format!("read error at offset {offset}: {e}")),
        }
        let len = u32::from_le_bytes(frame[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(frame[4..].try_into().expect("4 bytes"));
        if !(BODY_FIXED..=MAX_BODY).contains(&len) {
            return Err(format!("bad record length {len} at offset {offset}"));
        }
        body.resize(len, 0);
        match read_full(&mut r, &mut body) {
            Ok(n) if n == len => {}
            Ok(_) => return Err(format!("torn record at offset {offset}")),
            Err(e) => return Err(format!("read error at offset {offset}: {e}")),
        }
        if crc32c::crc32c(&body) != crc {
            return Err(format!("checksum mismatch at offset {offset}"));
        }
        let rec = ChunkRecord::decode_body(&body)
            .ok_or_else(|| format!("short record at offset {offset}"))?;
        visit(rec);
        offset += 8 + len as u64;
    }
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
