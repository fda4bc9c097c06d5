//! The head's inverted index: label pair → roaring bitmap of series ids, names and values kept sorted.

use std::collections::BTreeMap;
use std::sync::Arc;

use lookout_model::Labels;
use roaring::RoaringBitmap;

use crate::query::postings::PostingsIndex;

/// Names (or `name=value` pairs) with a count, largest first.
pub(crate) type Counts = Vec<(String, u64)>;

/// Postings of head series.
#[derive(Debug, Default)]
pub(crate) struct HeadPostings {
    by_name: BTreeMap<Arc<str>, BTreeMap<Arc<str>, RoaringBitmap>>,
    all: RoaringBitmap,
}

impl HeadPostings {
    /// Indexes series `id` under each of its label pairs.
    pub(crate) fn add(&mut self, id: u32, labels: &Labels) {
        for l in labels {
            self.by_name
                .entry(l.name.clone())
                .or_default()
                .entry(l.value.clone())
                .or_default()
                .insert(id);
        }
        self.all.insert(id);
    }

    /// Removes series `id` from the index.
    pub(crate) fn remove(&mut self, id: u32, labels: &Labels) {
        for l in labels {
            if let Some(values) = self.by_name.get_mut(&*l.name) {
                if let Some(bm) = values.get_mut(&*l.value) {
                    bm.remove(id);
                    if bm.is_empty() {
                        values.remove(&*l.value);
                    }
                }
                if values.is_empty() {
                    self.by_name.remove(&*l.name);
                }
            }
        }
        self.all.remove(id);
    }

    /// Ids of every head series.
    pub(crate) fn all_ids(&self) -> RoaringBitmap {
        self.all.clone()
    }

    /// Approximate heap bytes of the index.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.by_name
            .values()
            .map(|v| {
                64 + v
                    .values()
                    .map(|bm| 64 + bm.serialized_size())
                    .sum::<usize>()
            })
            .sum::<usize>()
            + self.all.serialized_size()
    }

    /// Label names with the number of values each has, and the number of series per label pair (for stats).
    pub(crate) fn top_pairs(&self, n: usize) -> (Counts, Counts) {
        let mut names: Vec<(String, u64)> = self
            .by_name
            .iter()
            .map(|(k, v)| (k.to_string(), v.len() as u64))
            .collect();
        let mut pairs: Vec<(String, u64)> = self
            .by_name
            .iter()
            .flat_map(|(k, v)| {
                v.iter()
                    .map(move |(val, bm)| (format!("{k}={val}"), bm.len()))
            })
            .collect();
        names.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        names.truncate(n);
        pairs.truncate(n);
        (names, pairs)
    }
}

impl PostingsIndex for HeadPostings {
    fn all(&self) -> RoaringBitmap {
        self.all.clone()
    }

    fn get(&self, name: &str, value: &str) -> RoaringBitmap {
        self.by_name
            .get(name)
            .and_then(|v| v.get(value))
            .cloned()
            .unwrap_or_default()
    }

    fn for_each_value(&self, name: &str, prefix: &str, f: &mut dyn FnMut(&str, &RoaringBitmap)) {
        let Some(values) = self.by_name.get(name) else {
            return;
        };
        for (v, bm) in values.range::<str, _>((
            std::ops::Bound::Included(prefix),
            std::ops::Bound::Unbounded,
        )) {
            if !v.starts_with(prefix) {
                break;
            }
            f(v, bm);
        }
    }

    fn names(&self) -> Vec<String> {
        self.by_name.keys().map(|k| k.to_string()).collect()
    }
}
