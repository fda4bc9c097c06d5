//! A partition's zstd dictionaries (`zdict-<id>.bin` in its directory), trained from the payloads of its first
//! blocks in two stages: a small one as soon as [`FIRST_SAMPLE_BYTES`] were seen (so a quiet partition gets one
//! early), then a larger final one from [`FINAL_SAMPLE_BYTES`] (more samples support a larger dictionary, which
//! compresses the partition's later blocks smaller at the same level). A frame names the dictionary it needs, so
//! every dictionary a partition ever had stays readable with it (they are deleted with the partition).
//!
//! A dictionary is written to a temporary file, fsynced, renamed and the directory fsynced before any block uses
//! it, so a committed block never names a dictionary a crash lost. Until a partition has its final dictionary,
//! the commit thread keeps samples of its block payloads (at most [`FINAL_SAMPLE_BYTES`]).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::{Mutex, RwLock};
use zstd::zstd_safe::{CDict, DDict};

use crate::zblock::LEVEL;

/// Sample bytes the first dictionary is trained from (whole block payloads).
pub const FIRST_SAMPLE_BYTES: usize = 1 << 20;
/// Sample bytes the final dictionary is trained from.
pub const FINAL_SAMPLE_BYTES: usize = 4 << 20;
/// Largest first dictionary: zstd's guidance is about a hundredth of the samples or more.
const FIRST_DICT_BYTES: usize = 64 << 10;
/// Largest final dictionary. Measured on loggen blocks at level 6 (one-off study, BENCHMARKS.md "Logs"): 64 KiB
/// from 1 MiB 0.139 of raw, 128 KiB from 4 MiB 0.131, 256 KiB from 8 MiB 0.130.
const FINAL_DICT_BYTES: usize = 128 << 10;

/// The dictionary new blocks are compressed with (zstd writes its id in every frame).
pub struct Encoder {
    /// The prepared dictionary.
    pub cdict: CDict<'static>,
    /// Its size in bytes: the largest dictionary encodes.
    bytes: usize,
}

#[derive(Default)]
struct Samples {
    bytes: Vec<u8>,
    sizes: Vec<usize>,
}

/// One partition's dictionaries.
pub struct PartDicts {
    dir: PathBuf,
    encoder: RwLock<Option<Arc<Encoder>>>,
    decoders: RwLock<HashMap<u32, Arc<DDict<'static>>>>,
    samples: Mutex<Samples>,
    /// The final dictionary exists (the partition has two), or training failed: no more samples. Read per block.
    complete: AtomicBool,
}

fn file_name(id: u32) -> String {
    format!("zdict-{id:010}.bin")
}

impl PartDicts {
    /// Loads the dictionaries in `dir`; the largest encodes new blocks (any of them would do). Sampling resumes
    /// while there is only a first one.
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
            complete: AtomicBool::new(false),
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
        let stages = {
            let mut decoders = self.decoders.write();
            decoders.insert(id, Arc::new(ddict));
            decoders.len()
        };
        {
            let mut encoder = self.encoder.write();
            if encoder.as_ref().is_none_or(|e| e.bytes <= bytes.len()) {
                let cdict = CDict::try_create(bytes, LEVEL)
                    .ok_or_else(|| std::io::Error::other("zstd refused the dictionary"))?;
                *encoder = Some(Arc::new(Encoder {
                    cdict,
                    bytes: bytes.len(),
                }));
            }
        }
        if stages >= 2 {
            self.stop_sampling();
        }
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

    /// Keeps `payload` as a training sample while the partition has no final dictionary and the samples are short.
    pub fn sample(&self, payload: &[u8]) {
        if self.is_complete() {
            return;
        }
        let mut s = self.samples.lock();
        if s.bytes.len() >= FINAL_SAMPLE_BYTES || payload.is_empty() {
            return;
        }
        s.bytes.extend_from_slice(payload);
        s.sizes.push(payload.len());
    }

    /// Trains and installs a dictionary once the samples reach the next stage's size (the caller commits
    /// afterwards, so the file is durable first). Returns the new dictionary's id.
    pub fn train_when_due(&self) -> std::io::Result<Option<u32>> {
        // The stage is the number of dictionaries the partition has, whatever size training gave them.
        let has_first = !self.decoders.read().is_empty();
        let (want, max_dict) = if has_first {
            (FINAL_SAMPLE_BYTES, FINAL_DICT_BYTES)
        } else {
            (FIRST_SAMPLE_BYTES, FIRST_DICT_BYTES)
        };
        // The first stage's samples stay: the final dictionary is trained from them and those that follow.
        let dict = {
            let s = self.samples.lock();
            if self.is_complete() || s.bytes.len() < want {
                return Ok(None);
            }
            zstd::dict::from_continuous(&s.bytes, &s.sizes, max_dict)
        };
        let dict = match dict {
            Ok(d) => d,
            Err(e) => {
                tracing::info!(dir = %self.dir.display(), error = %e, "log partition keeps its dictionary (or none)");
                self.stop_sampling();
                return Ok(None);
            }
        };
        let ddict = DDict::try_create(&dict)
            .ok_or_else(|| std::io::Error::other("zstd refused the trained dictionary"))?;
        let Some(id) = ddict.get_dict_id().map(|i| i.get()) else {
            self.stop_sampling();
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
        tracing::debug!(dir = %self.dir.display(), id, bytes = dict.len(), "log partition dictionary trained");
        Ok(Some(id))
    }

    /// Whether sampling is over: the final dictionary exists, or training failed.
    pub fn is_complete(&self) -> bool {
        self.complete.load(Ordering::Relaxed)
    }

    fn stop_sampling(&self) {
        self.complete.store(true, Ordering::Relaxed);
        *self.samples.lock() = Samples::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_until(d: &PartDicts, bytes: usize, i: &mut u64) {
        while d.samples.lock().bytes.len() < bytes {
            let payload: String = (0..40)
                .map(|j| {
                    format!(
                        "{{\"level\":\"info\",\"user\":\"u{}\",\"path\":\"/api/v{}/item/{}\",\"dur_ms\":{}}}\n",
                        (*i * 7 + j) % 5000,
                        (*i + j) % 7,
                        (*i * 31 + j * 17) % 100_000,
                        (*i + j * 13) % 900
                    )
                })
                .collect();
            d.sample(payload.as_bytes());
            *i += 1;
        }
    }

    fn files(dir: &Path) -> Vec<String> {
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        files.sort();
        files
    }

    #[test]
    fn trains_a_first_then_a_final_dictionary_and_reloads_them() {
        let dir = tempfile::tempdir().unwrap();
        let d = PartDicts::open(dir.path()).unwrap();
        assert!(d.encoder().is_none());
        assert_eq!(d.train_when_due().unwrap(), None, "no samples yet");
        let mut i = 0u64;
        sample_until(&d, FIRST_SAMPLE_BYTES, &mut i);
        let first = d.train_when_due().unwrap().expect("first trained");
        let e = d.encoder().expect("first encoder");
        assert!(!d.is_complete() && e.bytes <= FIRST_DICT_BYTES);
        assert_eq!(
            d.train_when_due().unwrap(),
            None,
            "the final one waits for more samples"
        );
        // A restart with only the first dictionary encodes with it and samples again.
        let again = PartDicts::open(dir.path()).unwrap();
        assert!(again.encoder().is_some() && !again.is_complete());
        again.sample(b"more");
        assert_eq!(again.samples.lock().bytes, b"more");

        sample_until(&d, FINAL_SAMPLE_BYTES, &mut i);
        let last = d.train_when_due().unwrap().expect("final trained");
        assert_ne!(first, last);
        let e = d.encoder().expect("final encoder");
        assert!(
            d.is_complete() && e.bytes > FIRST_DICT_BYTES && e.bytes <= FINAL_DICT_BYTES,
            "{}",
            e.bytes
        );
        // Sampling stops once the final dictionary exists; both stay readable.
        d.sample(b"more");
        assert!(d.samples.lock().bytes.is_empty());
        assert!(d.decoder(first).is_some() && d.decoder(last).is_some());
        assert_eq!(d.train_when_due().unwrap(), None);

        let again = PartDicts::open(dir.path()).unwrap();
        let e = again.encoder().expect("reopened encoder");
        assert!(
            again.is_complete() && e.bytes > FIRST_DICT_BYTES,
            "the final dictionary encodes after a restart"
        );
        again.sample(b"more");
        assert!(again.samples.lock().bytes.is_empty());
        assert!(again.decoder(first).is_some() && again.decoder(last).is_some());
        let mut want = vec![file_name(first), file_name(last)];
        want.sort();
        assert_eq!(files(dir.path()), want);
    }
}
