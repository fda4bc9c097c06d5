//! The log WAL: one file of length-prefixed, checksummed records, each one acknowledged push. Records carry a
//! sequence number; the tantivy commit records the last sequence it holds, so replay after a crash adds only
//! what the index lacks, and the file is truncated after each commit.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::entry::Entry;

/// One acknowledged push.
#[derive(Debug, Serialize, Deserialize)]
pub struct WalRecord {
    /// Increasing sequence number.
    pub seq: u64,
    /// Entries by stream id.
    pub streams: Vec<(u64, Vec<Entry>)>,
}

/// The open WAL file.
pub struct Wal {
    path: PathBuf,
    file: File,
}

/// What replay found.
pub struct Replay {
    /// Intact records, in order.
    pub records: Vec<WalRecord>,
    /// Bytes after the last intact record (a torn write from a crash), dropped.
    pub torn_bytes: u64,
}

impl Wal {
    /// Opens (creating) the WAL at `path` and reads its intact records; a torn tail is cut off.
    pub fn open(path: &Path) -> io::Result<(Wal, Replay)> {
        let mut records = Vec::new();
        let mut good = 0u64;
        let total = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if total > 0 {
            let mut r = BufReader::new(File::open(path)?);
            loop {
                let mut head = [0u8; 8];
                if r.read_exact(&mut head).is_err() {
                    break;
                }
                let len = u32::from_le_bytes(head[..4].try_into().expect("4 bytes")) as usize;
                let crc = u32::from_le_bytes(head[4..].try_into().expect("4 bytes"));
                let mut body = vec![0u8; len];
                if r.read_exact(&mut body).is_err() || crc32fast::hash(&body) != crc {
                    break;
                }
                match serde_json::from_slice::<WalRecord>(&body) {
                    Ok(rec) => records.push(rec),
                    Err(_) => break,
                }
                good += 8 + len as u64;
            }
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        if good < total {
            file.set_len(good)?;
        }
        Ok((
            Wal {
                path: path.to_path_buf(),
                file,
            },
            Replay {
                records,
                torn_bytes: total - good,
            },
        ))
    }

    /// Appends one record and hands it to the OS. No fsync: within a second the records are committed to the
    /// index (which fsyncs) and the file is emptied, so a power cut can take at most that second.
    pub fn append(&mut self, rec: &WalRecord) -> io::Result<()> {
        let body = serde_json::to_vec(rec).map_err(io::Error::other)?;
        let mut buf = Vec::with_capacity(body.len() + 8);
        buf.extend_from_slice(&(body.len() as u32).to_le_bytes());
        buf.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        buf.extend_from_slice(&body);
        self.file.write_all(&buf)
    }

    /// Empties the file once everything in it is committed to the index.
    pub fn truncate(&mut self) -> io::Result<()> {
        self.file.set_len(0)?;
        self.file.sync_data()
    }

    /// Bytes on disk.
    pub fn size(&self) -> u64 {
        std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0)
    }
}
