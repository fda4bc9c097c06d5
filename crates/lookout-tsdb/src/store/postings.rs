//! Postings persisted in sled: keys `name ‖ 0xff ‖ value` (and `0xff 0xff` for every id) → id sets (`id_runs`),
//! read through [`PostingsIndex`] with the first error remembered.

use parking_lot::Mutex;
use roaring::RoaringBitmap;

use super::{ALL_POSTINGS_KEY, Store, corrupt};
use crate::query::postings::PostingsIndex;
use lookout_storage::StorageError;

pub(super) fn pair_key(name: &str, value: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.len() + value.len() + 1);
    k.extend_from_slice(name.as_bytes());
    k.push(0xff);
    k.extend_from_slice(value.as_bytes());
    k
}

/// [`PostingsIndex`] over the persisted postings.
pub(crate) struct SledPostings<'a> {
    store: &'a Store,
    error: Mutex<Option<StorageError>>,
}

impl<'a> SledPostings<'a> {
    pub(super) fn new(store: &'a Store) -> Self {
        SledPostings {
            store,
            error: Mutex::new(None),
        }
    }

    fn decode(&self, b: &[u8]) -> RoaringBitmap {
        match super::id_runs::decode(b) {
            Ok(bm) => bm,
            Err(e) => {
                self.error
                    .lock()
                    .get_or_insert(corrupt(&self.store.path, "postings", e));
                RoaringBitmap::new()
            }
        }
    }

    fn fail(&self, e: sled::Error) {
        self.error.lock().get_or_insert(self.store.err(e));
    }

    /// The first error met while reading, if any.
    pub(crate) fn finish(self) -> Result<(), StorageError> {
        match self.error.into_inner() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl PostingsIndex for SledPostings<'_> {
    fn all(&self) -> RoaringBitmap {
        match self.store.postings.get(ALL_POSTINGS_KEY) {
            Ok(Some(b)) => self.decode(&b),
            Ok(None) => RoaringBitmap::new(),
            Err(e) => {
                self.fail(e);
                RoaringBitmap::new()
            }
        }
    }

    fn get(&self, name: &str, value: &str) -> RoaringBitmap {
        match self.store.postings.get(pair_key(name, value)) {
            Ok(Some(b)) => self.decode(&b),
            Ok(None) => RoaringBitmap::new(),
            Err(e) => {
                self.fail(e);
                RoaringBitmap::new()
            }
        }
    }

    fn for_each_value(&self, name: &str, prefix: &str, f: &mut dyn FnMut(&str, &RoaringBitmap)) {
        let start = pair_key(name, prefix);
        for kv in self.store.postings.scan_prefix(&start) {
            match kv {
                Ok((k, v)) => {
                    let value = String::from_utf8_lossy(&k[name.len() + 1..]);
                    f(&value, &self.decode(&v));
                }
                Err(e) => return self.fail(e),
            }
        }
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for k in self.store.postings.iter().keys() {
            match k {
                Ok(k) => {
                    let Some(end) = k.iter().position(|&b| b == 0xff) else {
                        continue;
                    };
                    if end == 0 {
                        continue;
                    }
                    let name = String::from_utf8_lossy(&k[..end]);
                    if names.last().map(String::as_str) != Some(&*name) {
                        names.push(name.into_owned());
                    }
                }
                Err(e) => {
                    self.fail(e);
                    break;
                }
            }
        }
        names
    }
}
