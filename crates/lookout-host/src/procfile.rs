//! Reading small pseudo-files under the configured roots, joined as node_exporter's `filepath.Join` does.

use std::io;
use std::path::{Path, PathBuf};

/// `root` joined with a relative `name` (`name` may contain `/`).
pub(crate) fn join(root: &str, name: &str) -> PathBuf {
    Path::new(root).join(name.trim_start_matches('/'))
}

/// The whole file as text (pseudo-files are small; invalid UTF-8 is replaced, never fatal).
pub(crate) fn read(path: &Path) -> io::Result<String> {
    let bytes = std::fs::read(path)?;
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// The file's text with surrounding whitespace removed, or `None` when it cannot be read.
pub(crate) fn read_trimmed(path: &Path) -> Option<String> {
    read(path).ok().map(|s| s.trim().to_string())
}

/// The file as an unsigned integer, or `None`.
pub(crate) fn read_u64(path: &Path) -> Option<u64> {
    read_trimmed(path)?.parse().ok()
}
