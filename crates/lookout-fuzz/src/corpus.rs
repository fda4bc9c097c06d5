//! The committed seed corpus: `corpus/<target>/<file>`, one input per file, read in name order.

use std::path::PathBuf;

/// The corpus root of this crate.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// The seeds of `target`, in file-name order (empty when the directory is missing).
pub fn load(target: &str) -> Vec<Vec<u8>> {
    let dir = root().join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("read seed {}: {e}", p.display())))
        .collect()
}
