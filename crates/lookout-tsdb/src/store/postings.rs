//! Postings persisted in sled: blocks of values under `name ‖ 0xff ‖ low` (`postings_blocks`), and `0xff 0xff` for
//! every id,
//! read through [`PostingsIndex`] with the first error remembered.

use parking_lot::Mutex;
use roaring::RoaringBitmap;

use super::{ALL_POSTINGS_KEY, Store, corrupt, postings_blocks};
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

    fn damaged(&self, detail: String) -> RoaringBitmap {
        self.error
            .lock()
            .get_or_insert(corrupt(&self.store.path, "postings block", detail));
        RoaringBitmap::new()
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
        let prefix = pair_key(name, "");
        // The block holding `value` is the last whose key is at most `name ‖ 0xff ‖ value`.
        match self
            .store
            .postings
            .range(prefix.clone()..=pair_key(name, value))
            .next_back()
        {
            Some(Ok((k, v))) => match postings_blocks::decode(&k[prefix.len()..], &v) {
                Ok(entries) => entries
                    .into_iter()
                    .find(|(v, _)| v == value)
                    .map_or_else(RoaringBitmap::new, |(_, ids)| self.decode(ids)),
                Err(d) => self.damaged(d),
            },
            Some(Err(e)) => {
                self.fail(e);
                RoaringBitmap::new()
            }
            None => RoaringBitmap::new(),
        }
    }

    fn for_each_value(&self, name: &str, prefix: &str, f: &mut dyn FnMut(&str, &RoaringBitmap)) {
        let name_prefix = pair_key(name, "");
        let from = pair_key(name, prefix);
        // From the block holding `prefix` (or the first after it), block by block while values can match.
        let start = match self
            .store
            .postings
            .range(name_prefix.clone()..=from.clone())
            .next_back()
        {
            Some(Ok((k, _))) => k.to_vec(),
            Some(Err(e)) => return self.fail(e),
            None => from,
        };
        let mut blocks = self.store.postings.range(start..).peekable();
        while let Some(kv) = blocks.next() {
            let (k, v) = match kv {
                Ok(kv) => kv,
                Err(e) => return self.fail(e),
            };
            if !k.starts_with(&name_prefix) {
                return;
            }
            let next = match blocks.peek() {
                Some(Ok((n, _))) if n.starts_with(&name_prefix) => {
                    Some(n[name_prefix.len()..].to_vec())
                }
                _ => None,
            };
            let entries = match postings_blocks::decode(&k[name_prefix.len()..], &v) {
                Ok(e) => e,
                Err(d) => {
                    self.damaged(d);
                    return;
                }
            };
            for (value, ids) in entries {
                if next
                    .as_ref()
                    .is_some_and(|n| value.as_bytes() >= n.as_slice())
                {
                    break; // left over from a run cut short: the next block holds it
                }
                if value.starts_with(prefix) {
                    f(&value, &self.decode(ids));
                } else if value.as_str() > prefix {
                    return;
                }
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
