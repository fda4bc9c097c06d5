//! The log WAL: files of length-prefixed, checksummed records, each one acknowledged push with an increasing
//! sequence number. A commit rotates to a new file (`wal-<first seq>.log`) so pushes go on while the index
//! commits; once every partition holds the records of the older files, they are deleted. Each partition's commit
//! records the sequence it holds, so replay after a crash re-adds exactly what a partition lacks.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use lookout_model::EntryColumns;

#[cfg(test)]
use crate::codec::put_entries;
use crate::codec::{DecodeError, Reader, put_column_entries, put_u64};
use crate::entry::Entry;

/// First byte of a binary record body ([`crate::codec`]); earlier versions wrote JSON (`{`), still read.
const BINARY: u8 = 1;

/// One acknowledged push.
#[derive(Debug, Deserialize)]
pub struct WalRecord {
    /// Increasing sequence number.
    pub seq: u64,
    /// Entries by stream id.
    pub streams: Vec<(u64, Vec<Entry>)>,
}

impl WalRecord {
    /// Appends the record's binary body: the format byte, sequence, stream count, then per stream its id and
    /// entries.
    #[cfg(test)]
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.push(BINARY);
        put_u64(out, self.seq);
        put_u64(out, self.streams.len() as u64);
        for (id, entries) in &self.streams {
            out.extend_from_slice(&id.to_le_bytes());
            put_entries(out, 0, entries.iter());
        }
    }

    /// Appends the body of record `seq` holding `streams` (an id and a range of `cols` each): the bytes
    /// [`encode_into`](WalRecord::encode_into) writes for the same entries.
    pub fn encode_columns_into(
        seq: u64,
        cols: &EntryColumns,
        streams: &[(u64, std::ops::Range<usize>)],
        out: &mut Vec<u8>,
    ) {
        out.push(BINARY);
        put_u64(out, seq);
        put_u64(out, streams.len() as u64);
        for (id, range) in streams {
            out.extend_from_slice(&id.to_le_bytes());
            put_column_entries(out, 0, cols, range.clone());
        }
    }

    /// Reads a body written by [`encode_into`](WalRecord::encode_into) (or the JSON of earlier versions); `None` when damaged.
    pub fn decode(body: &[u8]) -> Option<WalRecord> {
        match body.first() {
            Some(&BINARY) => Self::decode_binary(&body[1..]).ok(),
            Some(b'{') => serde_json::from_slice(body).ok(),
            _ => None,
        }
    }

    fn decode_binary(body: &[u8]) -> Result<WalRecord, DecodeError> {
        let mut r = Reader::new(body);
        let seq = r.u64()?;
        let n = r.u64()?;
        let mut streams = Vec::new();
        for _ in 0..n {
            let id = r.fixed_u64()?;
            streams.push((id, r.entries(0)?));
        }
        if !r.is_empty() {
            return Err(DecodeError {
                at: body.len(),
                what: "bytes after the last stream",
            });
        }
        Ok(WalRecord { seq, streams })
    }
}

/// The open WAL: the file being appended and the older files awaiting a full commit.
pub struct Wal {
    dir: PathBuf,
    current: File,
    current_path: PathBuf,
    older: Vec<PathBuf>,
}

/// What replay found (the records themselves went to the visitor of [`Wal::open`]).
pub struct Replay {
    /// Intact records read.
    pub records: u64,
    /// Their bytes (frames included).
    pub bytes: u64,
    /// Bytes after the last intact record of a file (a write cut by a crash, never acknowledged), dropped.
    pub torn_bytes: u64,
    /// The highest sequence seen, or the committed one given to [`Wal::open`] if higher: the next push gets the
    /// one after it.
    pub last_seq: u64,
}

fn file_name(first_seq: u64) -> String {
    format!("wal-{first_seq:020}.log")
}

/// The WAL files in `dir`, oldest first (the single `wal.log` of earlier versions counts as the oldest).
fn list(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out: Vec<(u64, PathBuf)> = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if name == "wal.log" {
            out.push((0, e.path()));
        } else if let Some(n) = name
            .strip_prefix("wal-")
            .and_then(|r| r.strip_suffix(".log"))
            .and_then(|n| n.parse::<u64>().ok())
        {
            out.push((n, e.path()));
        }
    }
    out.sort();
    Ok(out.into_iter().map(|(_, p)| p).collect())
}

/// Hands the intact records of one file to `visit`, one at a time, and cuts a torn tail; returns the bytes of
/// intact records and the bytes cut. A length that runs past the end of the file is a torn tail too, found before
/// anything is allocated for it: a damaged length field must not make start-up ask for gigabytes.
fn read_file(path: &Path, visit: &mut dyn FnMut(WalRecord)) -> io::Result<(u64, u64)> {
    let total = std::fs::metadata(path)?.len();
    let mut good = 0u64;
    let mut r = BufReader::new(File::open(path)?);
    let mut body = Vec::new();
    loop {
        let mut head = [0u8; 8];
        if r.read_exact(&mut head).is_err() {
            break;
        }
        let len = u32::from_le_bytes(head[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(head[4..].try_into().expect("4 bytes"));
        if len as u64 > total - good - 8 {
            break;
        }
        body.clear();
        body.resize(len, 0);
        if r.read_exact(&mut body).is_err() || crc32fast::hash(&body) != crc {
            break;
        }
        match WalRecord::decode(&body) {
            Some(rec) => visit(rec),
            None => break,
        }
        good += 8 + len as u64;
    }
    if good < total {
        OpenOptions::new().write(true).open(path)?.set_len(good)?;
    }
    Ok((good, total - good))
}

impl Wal {
    /// Opens the WAL in `dir`, handing every intact record to `visit` in order (one at a time: replay holds what
    /// the visitor keeps, not the whole log), and starts a new file for records after the highest sequence seen
    /// or `committed_seq` (the highest the index holds), whichever is higher.
    pub fn open(
        dir: &Path,
        committed_seq: u64,
        visit: &mut dyn FnMut(WalRecord),
    ) -> io::Result<(Wal, Replay)> {
        let mut replay = Replay {
            records: 0,
            bytes: 0,
            torn_bytes: 0,
            last_seq: committed_seq,
        };
        let older = list(dir)?;
        for path in &older {
            let (good, torn) = read_file(path, &mut |rec| {
                replay.last_seq = replay.last_seq.max(rec.seq);
                replay.records += 1;
                visit(rec);
            })?;
            replay.bytes += good;
            replay.torn_bytes += torn;
        }
        let current_path = dir.join(file_name(replay.last_seq + 1));
        let current = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&current_path)?;
        let older = older.into_iter().filter(|p| *p != current_path).collect();
        Ok((
            Wal {
                dir: dir.to_path_buf(),
                current,
                current_path,
                older,
            },
            replay,
        ))
    }

    /// Appends one record ([`append_columns`](Wal::append_columns) for a record as entries; tests write both).
    #[cfg(test)]
    pub fn append(&mut self, rec: &WalRecord) -> io::Result<()> {
        let lines: usize = rec
            .streams
            .iter()
            .flat_map(|(_, es)| es.iter().map(|e| e.line.len() + 8))
            .sum();
        self.append_with(lines + 16 * rec.streams.len() + 32, |buf| {
            rec.encode_into(buf)
        })
    }

    /// Appends record `seq` of `streams` in columns and hands it to the OS. No fsync: within a second the records
    /// are committed to the index (which fsyncs) and their file deleted, so a power cut can take at most that
    /// second.
    pub fn append_columns(
        &mut self,
        seq: u64,
        cols: &EntryColumns,
        streams: &[(u64, std::ops::Range<usize>)],
    ) -> io::Result<()> {
        let size = cols.text_len() + 8 * cols.len() + 16 * streams.len() + 32;
        self.append_with(size, |buf| {
            WalRecord::encode_columns_into(seq, cols, streams, buf)
        })
    }

    /// Frames the body `encode` writes (length, CRC) and appends it in one write; a failed write is cut off.
    fn append_with(&mut self, size: usize, encode: impl FnOnce(&mut Vec<u8>)) -> io::Result<()> {
        let mut buf = Vec::with_capacity(size);
        buf.extend_from_slice(&[0; 8]);
        encode(&mut buf);
        let len = u32::try_from(buf.len() - 8)
            .map_err(|_| io::Error::other("log WAL record over 4 GiB"))?;
        let crc = crc32fast::hash(&buf[8..]);
        buf[..4].copy_from_slice(&len.to_le_bytes());
        buf[4..8].copy_from_slice(&crc.to_le_bytes());
        let before = self.current.metadata()?.len();
        self.current.write_all(&buf).inspect_err(|_| {
            // Cut a partial record so the records after it stay readable.
            let _ = self.current.set_len(before);
        })
    }

    /// Starts a new file for records from `next_seq` on; the current one joins the older files. Nothing happens
    /// when the current file is empty.
    pub fn rotate(&mut self, next_seq: u64) -> io::Result<()> {
        if self.current.metadata()?.len() == 0 {
            return Ok(());
        }
        let path = self.dir.join(file_name(next_seq));
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let old = std::mem::replace(&mut self.current_path, path);
        self.current = file;
        self.older.push(old);
        Ok(())
    }

    /// Deletes the older files: every partition holds their records.
    pub fn remove_older(&mut self) -> io::Result<()> {
        while let Some(p) = self.older.first() {
            match std::fs::remove_file(p) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            self.older.remove(0);
        }
        Ok(())
    }

    /// Bytes on disk, every file.
    pub fn size(&self) -> u64 {
        self.older
            .iter()
            .chain(std::iter::once(&self.current_path))
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_json_records_of_earlier_versions_still_read() {
        let rec = WalRecord {
            seq: 42,
            streams: vec![(
                u64::MAX,
                vec![Entry {
                    ts: 1_700_000_000_000_000_000,
                    line: "hello".into(),
                    metadata: vec![("trace_id".into(), "t1".into())],
                }],
            )],
        };
        let mut body = Vec::new();
        rec.encode_into(&mut body);
        let back = WalRecord::decode(&body).unwrap();
        assert_eq!((back.seq, back.streams), (rec.seq, rec.streams.clone()));
        let json = br#"{"seq":7,"streams":[[3,[{"ts":5,"line":"old"}]]]}"#;
        let old = WalRecord::decode(json).unwrap();
        assert_eq!(old.seq, 7);
        assert_eq!(old.streams[0].1[0].line, "old");
        body.push(0);
        assert!(WalRecord::decode(&body).is_none(), "trailing bytes refused");
        assert!(WalRecord::decode(b"").is_none());
    }

    #[test]
    fn a_record_in_columns_is_the_same_bytes() {
        let entries = vec![
            Entry {
                ts: 5,
                line: "b ✓".into(),
                metadata: vec![("detected_level".into(), "info".into())],
            },
            Entry {
                ts: -3,
                line: String::new(),
                metadata: vec![
                    ("k".into(), "1".into()),
                    ("detected_level".into(), "info".into()),
                ],
            },
        ];
        let mut cols = EntryColumns::default();
        cols.push(1, "another stream's", []);
        for e in &entries {
            cols.push(
                e.ts,
                &e.line,
                e.metadata.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            );
        }
        let rec = WalRecord {
            seq: 9,
            streams: vec![(1, entries), (2, vec![])],
        };
        let (mut a, mut b) = (Vec::new(), Vec::new());
        rec.encode_into(&mut a);
        WalRecord::encode_columns_into(9, &cols, &[(1, 1..3), (2, 3..3)], &mut b);
        assert_eq!(a, b);
    }

    /// The process's peak virtual size (`VmPeak`), in bytes.
    fn vm_peak() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let kib: u64 = status
            .lines()
            .find(|l| l.starts_with("VmPeak:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap();
        kib * 1024
    }

    fn record(seq: u64, line: &str) -> WalRecord {
        WalRecord {
            seq,
            streams: vec![(
                7,
                vec![Entry {
                    ts: seq as i64,
                    line: line.into(),
                    metadata: Vec::new(),
                }],
            )],
        }
    }

    #[test]
    fn records_stream_to_the_visitor_and_a_damaged_length_is_a_torn_tail_never_allocated() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut wal, replay) = Wal::open(dir.path(), 0, &mut |_| panic!("empty")).unwrap();
            assert_eq!((replay.records, replay.last_seq), (0, 0));
            for seq in 1..=3 {
                wal.append(&record(seq, &format!("line {seq}"))).unwrap();
            }
        }
        let path = list(dir.path()).unwrap().pop().unwrap();
        let good = std::fs::metadata(&path).unwrap().len();
        // A frame header claiming ~4 GiB of body, then a few bytes: what a damaged length field looks like.
        let mut tail = Vec::new();
        tail.extend_from_slice(&(u32::MAX - 7).to_le_bytes());
        tail.extend_from_slice(&[0xab; 4]);
        tail.extend_from_slice(b"not a record");
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&tail).unwrap();
        drop(f);

        let peak = vm_peak();
        let mut seen = Vec::new();
        let (_wal, replay) = Wal::open(dir.path(), 2, &mut |rec| {
            seen.push((rec.seq, rec.streams[0].1[0].line.clone()))
        })
        .unwrap();
        // Without the check the body buffer alone would be ~4 GiB of address space.
        assert!(
            vm_peak() < peak + (1 << 30),
            "the damaged length was allocated: VmPeak {} -> {}",
            peak,
            vm_peak()
        );
        assert_eq!(
            seen,
            vec![
                (1, "line 1".to_string()),
                (2, "line 2".to_string()),
                (3, "line 3".to_string())
            ]
        );
        assert_eq!(replay.records, 3);
        assert_eq!(replay.bytes, good);
        assert_eq!(replay.torn_bytes, tail.len() as u64);
        assert_eq!(
            replay.last_seq, 3,
            "the highest of the records and the committed sequence"
        );
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            good,
            "the torn tail is cut"
        );
    }
}
