//! What a watched file looked like when it was read: its modification time, size and a SHA-256 of its contents.
//! Contents matter most: cert-manager and Kubernetes Secret volumes replace files by swapping a symlink, which can
//! leave the time and size of the path unchanged while the bytes behind it differ.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Largest file read (certificates, keys, tokens and the web config are all tiny; this bounds a mistake).
pub(crate) const MAX_FILE_BYTES: u64 = 16 << 20;

/// A file's identity for change detection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
    digest: [u8; 32],
}

/// The paths read for one configuration and their stamps (`None`: the file could not be read).
pub(crate) type Stamps = Vec<(PathBuf, Option<FileStamp>)>;

/// Reads `path` (following symlinks) and stamps what was read.
pub(crate) fn read_stamped(path: &Path) -> std::io::Result<(Vec<u8>, FileStamp)> {
    let file = std::fs::File::open(path)?;
    let modified = file.metadata().ok().and_then(|m| m.modified().ok());
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {MAX_FILE_BYTES} bytes"
        )));
    }
    let stamp = FileStamp {
        modified,
        len: bytes.len() as u64,
        digest: digest(&bytes),
    };
    Ok((bytes, stamp))
}

/// The current stamp of `path`, or `None` when it cannot be read.
pub(crate) fn stamp(path: &Path) -> Option<FileStamp> {
    read_stamped(path).ok().map(|(_, s)| s)
}

/// Whether any of `stamps` differs from the file now.
pub(crate) fn changed(stamps: &Stamps) -> bool {
    stamps.iter().any(|(path, old)| &stamp(path) != old)
}

/// SHA-256 of `bytes`.
pub(crate) fn digest(bytes: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_change_behind_a_renamed_file_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, "aaaa").unwrap();
        let stamps: Stamps = vec![(p.clone(), stamp(&p))];
        assert!(!changed(&stamps));
        // Same size, replaced by rename: only the contents tell.
        let tmp = dir.path().join("tmp");
        std::fs::write(&tmp, "bbbb").unwrap();
        std::fs::rename(&tmp, &p).unwrap();
        assert!(changed(&stamps));
        std::fs::remove_file(&p).unwrap();
        assert!(changed(&stamps));
        assert!(!changed(&vec![(p.clone(), None)]));
    }
}
