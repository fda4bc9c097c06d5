//! Reading persisted parts: a part's directory and its chunk groups, from its part file (or from sled for parts
//! written before part files), decompressed once and kept in the bounded caches.

use std::sync::Arc;

use lookout_storage::StorageError;

use super::codec::{self, Group, PartDir, PartKey};
use super::part_file::{self, PartFile};
use super::{MAX_VALUE, PART_HEADER_LEN, PART_PREFIX, PartInfo, Store, corrupt};

impl Store {
    fn part_file(&self, key: PartKey) -> Result<Arc<PartFile>, StorageError> {
        self.files
            .lock()
            .get(&key)
            .cloned()
            .ok_or(StorageError::Other(format!(
                "part {key:?} disappeared while being read (deleted by retention)"
            )))
    }

    fn file_corrupt(&self, key: PartKey, what: &str, why: String) -> StorageError {
        let path = self.parts_dir.join(part_file::file_name(key));
        StorageError::Corruption {
            path: path.display().to_string(),
            offset: 0,
            detail: format!(
                "{what}: {why}; restore the file from a backup, or start once with --drop-damaged-parts \
                 (storage.drop_damaged_parts) to forget its samples"
            ),
        }
    }

    /// The directory of a part and its shared timestamps (decoded once, then cached).
    pub(crate) fn dir(&self, info: &PartInfo) -> Result<Arc<PartDir>, StorageError> {
        if let Some(d) = self.dirs.lock().get(&info.key) {
            return Ok(d);
        }
        let dir = if info.in_file {
            let file = self.part_file(info.key)?;
            let z = file
                .dir()
                .map_err(|why| self.file_corrupt(info.key, "part directory", why))?;
            codec::decompress(&z, MAX_VALUE)
                .and_then(|raw| PartDir::decode(&raw, info.mint, file.has_stamps()))
                .map_err(|why| self.file_corrupt(info.key, "part directory", why))?
        } else {
            let mut k = PART_PREFIX.to_vec();
            k.extend_from_slice(&info.key.bytes());
            let v = self
                .db
                .get(&k)
                .map_err(|e| self.err(e))?
                .ok_or(StorageError::Other(format!(
                    "part {:?} disappeared while being read (deleted by retention)",
                    info.key
                )))?;
            let raw = codec::decompress(&v[PART_HEADER_LEN..], MAX_VALUE)
                .map_err(|d| corrupt(&self.path, "part directory", d))?;
            PartDir::decode(&raw, info.mint, false)
                .map_err(|d| corrupt(&self.path, "part directory", d))?
        };
        let dir = Arc::new(dir);
        self.dirs
            .lock()
            .insert(info.key, dir.clone(), dir.heap_bytes());
        Ok(dir)
    }

    /// A decompressed chunk group (cached).
    pub(crate) fn group(&self, key: PartKey, group: u32) -> Result<Arc<Group>, StorageError> {
        if let Some(g) = self.groups.lock().get(&(key, group)) {
            return Ok(g);
        }
        let file = self.files.lock().get(&key).cloned();
        let g = match file {
            Some(f) => f
                .group(group)
                .and_then(|z| codec::decompress(&z, MAX_VALUE))
                .and_then(Group::decode)
                .map_err(|why| self.file_corrupt(key, "chunk group", why))?,
            None => {
                let z = self.chunks.get(key.group_key(group)).map_err(|e| self.err(e))?.ok_or(StorageError::Other(format!(
                    "chunk group {group} of part {key:?} is missing (deleted by retention while being read)"
                )))?;
                let raw = codec::decompress(&z, MAX_VALUE)
                    .map_err(|d| corrupt(&self.path, "chunk group", d))?;
                Group::decode(raw).map_err(|d| corrupt(&self.path, "chunk group", d))?
            }
        };
        let g = Arc::new(g);
        self.groups
            .lock()
            .insert((key, group), g.clone(), g.heap_bytes());
        Ok(g)
    }
}
