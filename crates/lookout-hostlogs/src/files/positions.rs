//! The positions file (`positions.json` in the state directory): per tailed file its path, device, inode and the
//! offset up to which its entries are stored. Files are matched by device and inode, so a file renamed within
//! the globs while Lookout was down resumes where it was. Written through a temporary file and a rename.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// One file's saved position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PositionEntry {
    /// The path it was tailed as.
    pub path: String,
    /// Its device.
    pub dev: u64,
    /// Its inode.
    pub ino: u64,
    /// Bytes before this offset are stored (or dropped on purpose).
    pub pos: u64,
    /// Set past `pos` while an entry starting at `pos` is still being assembled (a multi-line block, a partial
    /// container line): the entries completed by lines before this offset are stored, so when reading resumes
    /// at `pos` they are rebuilt but not sent again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored: Option<u64>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct PositionsFile {
    positions: Vec<PositionEntry>,
}

/// The saved positions; none when the file is missing, and none (with a warning) when it is unreadable.
pub(crate) fn load(path: &Path) -> Vec<PositionEntry> {
    match std::fs::read(path) {
        Ok(data) => match serde_json::from_slice::<PositionsFile>(&data) {
            Ok(f) => f.positions,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "ignoring unreadable positions file");
                Vec::new()
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot read positions file");
            Vec::new()
        }
    }
}

/// Saves `positions` atomically.
pub(crate) fn save(path: &Path, positions: &[PositionEntry]) -> std::io::Result<()> {
    let data = serde_json::to_vec_pretty(&PositionsFile {
        positions: positions.to_vec(),
    })
    .map_err(std::io::Error::other)?;
    crate::shipper::write_atomic(path, &data)
}
