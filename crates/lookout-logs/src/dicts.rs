//! A partition's zstd dictionaries (`zdict-<id>.bin` in its directory): trained once from the payloads of its
//! first blocks, then used to compress every later block; a frame names the dictionary it needs, so every dictionary a
//! partition ever had stays readable with it (they are deleted with the partition).
//!
//! A dictionary is written to a temporary file, fsynced, renamed and the directory fsynced before any block uses
//! it, so a committed block never names a dictionary a crash lost. Until a partition has one, the commit thread
//! keeps samples of its block payloads (at most [`SAMPLE_BYTES`]), and trains once it has that much.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use zstd::zstd_safe::{CDict, DDict};

use crate::zblock::LEVEL;

/// Sample bytes a dictionary is trained from (whole block payloads).
pub const SAMPLE_BYTES: usize = 1 << 20;
/// Largest dictionary: zstd's guidance is about a hundredth of the samples; 64 KiB keeps the trained tables in L2.
const MAX_DICT_BYTES: usize = 64 << 10;

/// The dictionary new blocks are compressed with (zstd writes its id in every frame).
pub struct Encoder {
    /// The prepared dictionary.
    pub cdict: CDict<'static>,
}

#[derive(Default)]
struct Samples {
    bytes: Vec<u8>,
    sizes: Vec<usize>,
    /// Training failed (too little variety): no more samples for this partition.
    given_up: bool,
}

/// One partition's dictionaries.
pub struct PartDicts {
    dir: PathBuf,
    encoder: RwLock<Option<Arc<Encoder>>>,
    decoders: RwLock<HashMap<u32, Arc<DDict<'static>>>>,
    samples: Mutex<Samples>,
}

fn file_name(id: u32) -> String {
    format!("zdict-{id:010}.bin")
}

impl PartDicts {
    /// Loads the dictionaries in `dir`; the last by name encodes new blocks (any of them would do).
    pub fn open(dir: &Path) -> std::io::Result<PartDicts> {
        let mut names: Vec<(String, PathBuf)> = Vec::new();
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with("zdict-") && name.ends_with(".bin") {
                names.push((name, e.path()));
            }
        }
        names.sort();
        let dicts = PartDicts {
            dir: dir.to_path_buf(),
            encoder: RwLock::new(None),
            decoders: RwLock::new(HashMap::new()),
            samples: Mutex::new(Samples::default()),
        };
        for (_, path) in names {
            let bytes = std::fs::read(&path)?;
            if let Err(e) = dicts.install(&bytes) {
                // Blocks naming it fail to read with an error naming the dictionary; others stay readable.
                tracing::error!(path = %path.display(), error = %e, "log partition dictionary unreadable");
            }
        }
        Ok(dicts)
    }

    fn install(&self, bytes: &[u8]) -> std::io::Result<u32> {
        let ddict = DDict::try_create(bytes)
            .ok_or_else(|| std::io::Error::other("zstd refused the dictionary"))?;
        let id = ddict
            .get_dict_id()
            .ok_or_else(|| std::io::Error::other("not a zstd dictionary (no id)"))?
            .get();
        let cdict = CDict::try_create(bytes, LEVEL)
            .ok_or_else(|| std::io::Error::other("zstd refused the dictionary"))?;
        self.decoders.write().insert(id, Arc::new(ddict));
        *self.encoder.write() = Some(Arc::new(Encoder { cdict }));
        Ok(id)
    }

    /// The dictionary to compress new blocks with, if the partition has one.
    pub fn encoder(&self) -> Option<Arc<Encoder>> {
        self.encoder.read().clone()
    }

    /// The dictionary with zstd id `id`.
    pub fn decoder(&self, id: u32) -> Option<Arc<DDict<'static>>> {
        self.decoders.read().get(&id).cloned()
    }

    /// Keeps `payload` as a training sample while the partition has no dictionary and the samples are short.
    pub fn sample(&self, payload: &[u8]) {
        if self.encoder.read().is_some() {
            return;
        }
        let mut s = self.samples.lock();
        if s.given_up || s.bytes.len() >= SAMPLE_BYTES || payload.is_empty() {
            return;
        }
        s.bytes.extend_from_slice(payload);
        s.sizes.push(payload.len());
    }

    /// Trains and installs a dictionary once the samples reach [`SAMPLE_BYTES`] (the caller commits afterwards, so
    /// the file is durable first). Returns the new dictionary's id.
    pub fn train_when_due(&self) -> std::io::Result<Option<u32>> {
        let (bytes, sizes) = {
            let mut s = self.samples.lock();
            if s.given_up || s.bytes.len() < SAMPLE_BYTES || self.encoder.read().is_some() {
                return Ok(None);
            }
            (std::mem::take(&mut s.bytes), std::mem::take(&mut s.sizes))
        };
        let dict = match zstd::dict::from_continuous(&bytes, &sizes, MAX_DICT_BYTES) {
            Ok(d) => d,
            Err(e) => {
                tracing::info!(dir = %self.dir.display(), error = %e, "log partition keeps compressing without a dictionary");
                self.samples.lock().given_up = true;
                return Ok(None);
            }
        };
        let ddict = DDict::try_create(&dict)
            .ok_or_else(|| std::io::Error::other("zstd refused the trained dictionary"))?;
        let Some(id) = ddict.get_dict_id().map(|i| i.get()) else {
            self.samples.lock().given_up = true;
            return Ok(None);
        };
        let path = self.dir.join(file_name(id));
        let tmp = self.dir.join(format!("{}.tmp", file_name(id)));
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&dict)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        std::fs::File::open(&self.dir)?.sync_all()?;
        self.install(&dict)?;
        tracing::debug!(dir = %self.dir.display(), id, bytes = dict.len(), samples = sizes.len(), "log partition dictionary trained");
        Ok(Some(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trains_once_from_enough_samples_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let d = PartDicts::open(dir.path()).unwrap();
        assert!(d.encoder().is_none());
        assert_eq!(d.train_when_due().unwrap(), None, "no samples yet");
        let mut i = 0u64;
        while d.samples.lock().bytes.len() < SAMPLE_BYTES {
            let payload: String = (0..40)
                .map(|j| {
                    format!(
                        "{{\"level\":\"info\",\"user\":\"u{}\",\"dur_ms\":{}}}\n",
                        (i * 7 + j) % 5000,
                        (i + j * 13) % 900
                    )
                })
                .collect();
            d.sample(payload.as_bytes());
            i += 1;
        }
        let id = d.train_when_due().unwrap().expect("trained");
        assert!(d.encoder().is_some());
        assert!(d.decoder(id).is_some());
        // Sampling stops once a dictionary exists.
        d.sample(b"more");
        assert!(d.samples.lock().bytes.is_empty());
        let again = PartDicts::open(dir.path()).unwrap();
        assert!(again.encoder().is_some() && again.decoder(id).is_some());
        let files: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        assert_eq!(files, [file_name(id)]);
    }
}
