//! A persisted part's chunk groups and directory in one immutable file of its own, referenced from sled.
//!
//! Why not sled: sled keeps large values as blob files and rewrites its log pages as they change, and it
//! preallocates segments it rarely gives back; its files were 2.3–2.6× the chunk bytes they held. A part is written
//! once, read many times and deleted whole, which is what a plain file does with no amplification at all.
//!
//! Layout: `MAGIC`, the zstd groups back to back, the zstd directory, the offsets (`groups + 2` little-endian u64:
//! where each group starts, where the directory starts, where the offsets start), then the footer: group count
//! (u32 LE), CRC-32C of the offsets (u32 LE), `MAGIC`. Files with the magic `LKPART01` (written before the shared
//! timestamps of `stamps.rs`) have the same layout, a directory without the table, and no chunk that refers to it;
//! they are still read.
//!
//! Crash safety: a file is written under a `.tmp` name, fsynced, renamed, and the directory fsynced before sled
//! commits the part that names it. A file sled does not name (a run that did not commit) is removed at open; a part
//! is deleted from sled (and sled flushed) before its file is unlinked.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::codec::PartKey;

const MAGIC: &[u8; 8] = b"LKPART02";
/// The magic of part files whose directory has no timestamp table.
const MAGIC_V1: &[u8; 8] = b"LKPART01";
const FOOTER_LEN: u64 = 4 + 4 + 8;
const SUFFIX: &str = ".part";
const TMP_SUFFIX: &str = ".part.tmp";

/// The file name of a part: block start and sequence, so names sort as keys do within one sign.
pub(crate) fn file_name(key: PartKey) -> String {
    format!("{}-{:010}{SUFFIX}", key.block_start, key.seq)
}

fn parse_file_name(name: &str) -> Option<PartKey> {
    let stem = name.strip_suffix(SUFFIX)?;
    // The block start may be negative: split at the last dash.
    let (start, seq) = stem.rsplit_once('-')?;
    Some(PartKey {
        block_start: start.parse().ok()?,
        seq: seq.parse().ok()?,
    })
}

/// Writes one part file: groups as they are finished, then the directory.
pub(crate) struct PartFileWriter {
    tmp: PathBuf,
    path: PathBuf,
    out: BufWriter<File>,
    offsets: Vec<u64>,
    pos: u64,
    magic: &'static [u8; 8],
}

impl PartFileWriter {
    /// Creates `<dir>/<name>.tmp` (truncating a leftover of a crashed run).
    pub(crate) fn create(dir: &Path, key: PartKey) -> std::io::Result<Self> {
        Self::create_with(dir, key, MAGIC)
    }

    /// A writer of the earlier format (`LKPART01`: the directory without a timestamp table), to test that such
    /// files are still read.
    #[cfg(test)]
    pub(crate) fn create_v1(dir: &Path, key: PartKey) -> std::io::Result<Self> {
        Self::create_with(dir, key, MAGIC_V1)
    }

    fn create_with(dir: &Path, key: PartKey, magic: &'static [u8; 8]) -> std::io::Result<Self> {
        let path = dir.join(file_name(key));
        let tmp = dir.join(format!(
            "{}{TMP_SUFFIX}",
            file_name(key).trim_end_matches(SUFFIX)
        ));
        let mut out = BufWriter::with_capacity(256 << 10, File::create(&tmp)?);
        out.write_all(magic)?;
        Ok(PartFileWriter {
            tmp,
            path,
            out,
            offsets: Vec::new(),
            pos: magic.len() as u64,
            magic,
        })
    }

    /// Appends the next compressed group.
    pub(crate) fn append_group(&mut self, z: &[u8]) -> std::io::Result<()> {
        self.offsets.push(self.pos);
        self.out.write_all(z)?;
        self.pos += z.len() as u64;
        Ok(())
    }

    /// Writes the directory and the footer, fsyncs and renames the file into place; returns its length. The caller
    /// fsyncs the directory (once for all parts of a run) before committing.
    pub(crate) fn finish(mut self, dir_z: &[u8]) -> std::io::Result<u64> {
        let groups = self.offsets.len() as u32;
        self.offsets.push(self.pos);
        self.out.write_all(dir_z)?;
        self.pos += dir_z.len() as u64;
        self.offsets.push(self.pos);
        let mut table = Vec::with_capacity(self.offsets.len() * 8);
        for o in &self.offsets {
            table.extend_from_slice(&o.to_le_bytes());
        }
        self.out.write_all(&table)?;
        self.out.write_all(&groups.to_le_bytes())?;
        self.out.write_all(&crc32c::crc32c(&table).to_le_bytes())?;
        self.out.write_all(self.magic)?;
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        let len = file.metadata()?.len();
        drop(file);
        std::fs::rename(&self.tmp, &self.path)?;
        Ok(len)
    }
}

/// An open part file and its offsets table.
#[derive(Debug)]
pub(crate) struct PartFile {
    file: File,
    /// Start of each group, then of the directory, then of the offsets table.
    offsets: Vec<u64>,
    /// Whether the directory holds a timestamp table (not in `LKPART01` files).
    has_stamps: bool,
}

impl PartFile {
    /// Opens a part file and checks its footer and offsets; the error says what is wrong.
    pub(crate) fn open(path: &Path) -> Result<PartFile, String> {
        let file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
        let len = file
            .metadata()
            .map_err(|e| format!("cannot stat: {e}"))?
            .len();
        if len < MAGIC.len() as u64 + FOOTER_LEN + 16 {
            return Err(format!("{len} bytes is shorter than any part file"));
        }
        let mut footer = [0u8; FOOTER_LEN as usize];
        file.read_exact_at(&mut footer, len - FOOTER_LEN)
            .map_err(|e| format!("cannot read the footer: {e}"))?;
        let has_stamps = match &footer[8..] {
            m if m == MAGIC => true,
            m if m == MAGIC_V1 => false,
            _ => {
                return Err("the footer's magic is missing (a truncated or foreign file)".into());
            }
        };
        let groups = u32::from_le_bytes(footer[..4].try_into().expect("4")) as u64;
        let crc = u32::from_le_bytes(footer[4..8].try_into().expect("4"));
        let table_len = (groups + 2) * 8;
        if table_len + FOOTER_LEN + MAGIC.len() as u64 > len {
            return Err(format!("{groups} groups do not fit in {len} bytes"));
        }
        let mut table = vec![0u8; table_len as usize];
        file.read_exact_at(&mut table, len - FOOTER_LEN - table_len)
            .map_err(|e| format!("cannot read the offsets: {e}"))?;
        if crc32c::crc32c(&table) != crc {
            return Err("the offsets table fails its checksum".into());
        }
        let offsets: Vec<u64> = table
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8")))
            .collect();
        let table_start = len - FOOTER_LEN - table_len;
        let ordered = offsets.windows(2).all(|w| w[0] <= w[1]);
        if !ordered || offsets[0] != MAGIC.len() as u64 || offsets[offsets.len() - 1] != table_start
        {
            return Err("the offsets are out of order or out of the file".into());
        }
        Ok(PartFile {
            file,
            offsets,
            has_stamps,
        })
    }

    /// Whether the directory holds a timestamp table.
    pub(crate) fn has_stamps(&self) -> bool {
        self.has_stamps
    }

    /// Number of groups.
    pub(crate) fn groups(&self) -> u32 {
        (self.offsets.len() - 2) as u32
    }

    fn read_span(&self, i: usize) -> Result<Vec<u8>, String> {
        let (start, end) = (self.offsets[i], self.offsets[i + 1]);
        let mut buf = vec![0u8; (end - start) as usize];
        self.file
            .read_exact_at(&mut buf, start)
            .map_err(|e| format!("cannot read bytes {start}..{end}: {e}"))?;
        Ok(buf)
    }

    /// The compressed bytes of group `g`.
    pub(crate) fn group(&self, g: u32) -> Result<Vec<u8>, String> {
        if g >= self.groups() {
            return Err(format!("group {g} of {} is out of range", self.groups()));
        }
        self.read_span(g as usize)
    }

    /// The compressed directory.
    pub(crate) fn dir(&self) -> Result<Vec<u8>, String> {
        self.read_span(self.offsets.len() - 2)
    }
}

/// Removes temporary files and part files sled does not name (a persistence run that did not commit); returns
/// how many.
pub(crate) fn remove_uncommitted(
    dir: &Path,
    committed: &HashSet<PartKey>,
) -> std::io::Result<usize> {
    let mut removed = 0;
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let doomed = name.ends_with(TMP_SUFFIX)
            || parse_file_name(name).is_some_and(|k| !committed.contains(&k));
        if doomed {
            std::fs::remove_file(e.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// fsyncs a directory, so renames and unlinks in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(block_start: i64, seq: u32) -> PartKey {
        PartKey { block_start, seq }
    }

    #[test]
    fn names_round_trip_including_negative_starts() {
        for k in [key(0, 0), key(7_200_000, 12), key(-7_200_000, 3)] {
            assert_eq!(parse_file_name(&file_name(k)), Some(k));
        }
        assert_eq!(parse_file_name("x.part"), None);
        assert_eq!(parse_file_name("1-2.part.tmp"), None);
    }

    /// Writes a finished part file of `groups` and `dir` for `key`; returns its path.
    fn write_part(dir: &Path, key: PartKey, groups: &[&[u8]], directory: &[u8]) -> PathBuf {
        let mut w = PartFileWriter::create(dir, key).unwrap();
        for g in groups {
            w.append_group(g).unwrap();
        }
        let len = w.finish(directory).unwrap();
        let path = dir.join(file_name(key));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
        path
    }

    #[test]
    fn groups_and_directory_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_part(
            dir.path(),
            key(7_200_000, 1),
            &[b"first group", b"", b"third"],
            b"the directory",
        );
        let f = PartFile::open(&path).unwrap();
        assert_eq!(f.groups(), 3);
        assert_eq!(f.group(0).unwrap(), b"first group");
        assert_eq!(f.group(1).unwrap(), b"");
        assert_eq!(f.group(2).unwrap(), b"third");
        assert_eq!(f.dir().unwrap(), b"the directory");
        assert!(f.group(3).unwrap_err().contains("out of range"));
    }

    #[test]
    fn damage_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_part(dir.path(), key(0, 1), &[b"abc"], b"d");
        let good = std::fs::read(&path).unwrap();

        std::fs::write(&path, &good[..good.len() - 3]).unwrap();
        assert!(PartFile::open(&path).unwrap_err().contains("magic"));

        let mut bad = good.clone();
        let at = good.len() - FOOTER_LEN as usize - 5;
        bad[at] ^= 0x40;
        std::fs::write(&path, &bad).unwrap();
        assert!(PartFile::open(&path).unwrap_err().contains("checksum"));

        std::fs::write(&path, b"short").unwrap();
        assert!(PartFile::open(&path).unwrap_err().contains("shorter"));
    }

    #[test]
    fn uncommitted_and_temporary_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        for k in [key(0, 1), key(0, 2)] {
            write_part(dir.path(), k, &[b"x"], b"y");
        }
        // A run that crashed before finishing leaves a temporary file.
        PartFileWriter::create(dir.path(), key(0, 3)).unwrap();
        std::fs::write(dir.path().join("unrelated.txt"), b"kept").unwrap();
        let committed: HashSet<PartKey> = [key(0, 1)].into_iter().collect();
        assert_eq!(remove_uncommitted(dir.path(), &committed).unwrap(), 2);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            vec![file_name(key(0, 1)), "unrelated.txt".to_string()]
        );
    }
}
