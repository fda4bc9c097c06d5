//! Interning of label names and values so that head series share their strings.

use std::collections::HashSet;
use std::sync::Arc;

use lookout_model::{Label, Labels};
use parking_lot::Mutex;

/// A set of shared strings; interning returns the one `Arc<str>` for equal text.
#[derive(Default)]
pub(crate) struct Symbols {
    set: Mutex<HashSet<Arc<str>, rustc_hash::FxBuildHasher>>,
}

impl Symbols {
    /// The shared copy of `s`.
    pub(crate) fn intern(&self, s: &Arc<str>) -> Arc<str> {
        let mut set = self.set.lock();
        if let Some(found) = set.get(&**s) {
            return found.clone();
        }
        set.insert(s.clone());
        s.clone()
    }

    /// `labels` with the interned strings: the set itself when its strings already are the interned ones (a
    /// caller interned it before, as the scrape cache does), else a copy.
    pub(crate) fn intern_labels(&self, labels: &Labels) -> Labels {
        let v: Vec<Label> = labels
            .iter()
            .map(|l| Label {
                name: self.intern(&l.name),
                value: self.intern(&l.value),
            })
            .collect();
        let same = v
            .iter()
            .zip(labels.iter())
            .all(|(a, b)| Arc::ptr_eq(&a.name, &b.name) && Arc::ptr_eq(&a.value, &b.value));
        if same {
            return labels.clone();
        }
        Labels::from_sorted_unchecked(v)
    }

    /// Drops strings no series uses any more (only the set holds them).
    pub(crate) fn gc(&self) {
        self.set.lock().retain(|s| Arc::strong_count(s) > 1);
    }

    /// Approximate heap bytes held by the set.
    pub(crate) fn heap_bytes(&self) -> usize {
        let set = self.set.lock();
        set.iter().map(|s| s.len() + 16).sum::<usize>() + set.capacity() * 16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_share_one_allocation() {
        let s = Symbols::default();
        let a = Labels::from_pairs(&[("job", "node")]).unwrap();
        let b = Labels::from_pairs(&[("job", "node")]).unwrap();
        let ia = s.intern_labels(&a);
        let ib = s.intern_labels(&b);
        assert_eq!(ia, a);
        assert!(Arc::ptr_eq(
            &ia.as_slice()[0].value,
            &ib.as_slice()[0].value
        ));
        // A set already interned is kept as it is, not copied.
        let again = s.intern_labels(&ia);
        assert!(std::ptr::eq(again.as_slice(), ia.as_slice()));
        drop((ia, ib, a, b, again));
        s.gc();
        assert_eq!(s.set.lock().len(), 0);
    }
}
