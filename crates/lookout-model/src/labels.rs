//! Label sets: sorted, unique, validated names; cheap to clone and hash.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// The label that holds the metric name.
pub const METRIC_NAME: &str = "__name__";

/// Why a label set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelsError {
    /// A label name breaks `[a-zA-Z_][a-zA-Z0-9_]*`.
    #[error("invalid label name {name:?}: must match [a-zA-Z_][a-zA-Z0-9_]*")]
    InvalidName {
        /// The offending name.
        name: String,
    },
    /// The metric name breaks `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    #[error("invalid metric name {name:?}: must match [a-zA-Z_:][a-zA-Z0-9_:]*")]
    InvalidMetricName {
        /// The offending metric name.
        name: String,
    },
    /// The same name appears twice.
    #[error("duplicate label name {name:?}")]
    DuplicateName {
        /// The repeated name.
        name: String,
    },
}

/// One label: a name and a value. Both are shared strings so that a store can intern them.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    /// The label name.
    pub name: Arc<str>,
    /// The label value (never empty inside a [`Labels`]).
    pub value: Arc<str>,
}

impl Label {
    /// Builds a label from anything string-like.
    pub fn new(name: impl Into<Arc<str>>, value: impl Into<Arc<str>>) -> Self {
        Label {
            name: name.into(),
            value: value.into(),
        }
    }
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={:?}", self.name, self.value)
    }
}

/// A label set sorted by name, names unique, empty values removed. Cloning is a reference-count bump.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Labels(Arc<[Label]>);

impl Hash for Labels {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for l in self.0.iter() {
            state.write(l.name.as_bytes());
            state.write_u8(0xff);
            state.write(l.value.as_bytes());
            state.write_u8(0xff);
        }
    }
}

/// True when `name` is a valid label name under Prometheus's (legacy) rules.
pub fn is_valid_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// True when `name` is a valid metric name under Prometheus's (legacy) rules.
pub fn is_valid_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' || b == b':' => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

impl Labels {
    /// The empty label set.
    pub fn empty() -> Self {
        Labels(Arc::from(Vec::new()))
    }

    /// Builds a validated label set from pairs in any order; empty values are dropped.
    pub fn from_pairs<N: AsRef<str>, V: AsRef<str>>(pairs: &[(N, V)]) -> Result<Self, LabelsError> {
        let mut b = LabelsBuilder::with_capacity(pairs.len());
        for (n, v) in pairs {
            b.push(n.as_ref(), v.as_ref());
        }
        b.build()
    }

    /// Builds a label set without validating names; for tests and trusted internal sources.
    /// Still sorts, removes empty values and keeps the last of duplicate names.
    pub fn from_pairs_unchecked<N: AsRef<str>, V: AsRef<str>>(pairs: &[(N, V)]) -> Self {
        let mut b = LabelsBuilder::with_capacity(pairs.len());
        for (n, v) in pairs {
            b.set(n.as_ref(), v.as_ref());
        }
        b.build_unchecked()
    }

    /// Wraps labels already known to be sorted, unique and non-empty (e.g. decoded from our own storage).
    pub fn from_sorted_unchecked(labels: Vec<Label>) -> Self {
        debug_assert!(labels.windows(2).all(|w| w[0].name < w[1].name));
        Labels(Arc::from(labels))
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|l| (*l.name).cmp(name))
            .ok()
            .map(|i| &*self.0[i].value)
    }

    /// The metric name (`__name__`), if present.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// The labels in name order.
    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.0.iter()
    }

    /// The labels as a slice.
    pub fn as_slice(&self) -> &[Label] {
        &self.0
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no labels.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A builder seeded with these labels, to add, change or remove some.
    pub fn to_builder(&self) -> LabelsBuilder {
        LabelsBuilder {
            labels: self.0.to_vec(),
            sorted: true,
        }
    }

    /// A copy without `__name__`.
    pub fn without_metric_name(&self) -> Labels {
        if self.get(METRIC_NAME).is_none() {
            return self.clone();
        }
        Labels(
            self.0
                .iter()
                .filter(|l| &*l.name != METRIC_NAME)
                .cloned()
                .collect(),
        )
    }

    /// A copy keeping only the named labels (`names` in any order).
    pub fn keep_only(&self, names: &[impl AsRef<str>]) -> Labels {
        Labels(
            self.0
                .iter()
                .filter(|l| names.iter().any(|n| n.as_ref() == &*l.name))
                .cloned()
                .collect(),
        )
    }

    /// A copy without the named labels (`names` in any order).
    pub fn drop_names(&self, names: &[impl AsRef<str>]) -> Labels {
        Labels(
            self.0
                .iter()
                .filter(|l| !names.iter().any(|n| n.as_ref() == &*l.name))
                .cloned()
                .collect(),
        )
    }

    /// A fast, process-stable 64-bit hash of the label set (FxHash over names and values).
    pub fn hash64(&self) -> u64 {
        let mut h = rustc_hash::FxHasher::default();
        self.hash(&mut h);
        h.finish()
    }

    /// Bytes of heap this set would need if stored alone (names, values, slots); used for memory estimates.
    pub fn approx_heap_bytes(&self) -> usize {
        self.0
            .iter()
            .map(|l| l.name.len() + l.value.len() + 32)
            .sum::<usize>()
            + 16
    }

    /// Checks every name (and the metric name) against Prometheus's rules.
    pub fn validate(&self) -> Result<(), LabelsError> {
        for w in self.0.windows(2) {
            if w[0].name == w[1].name {
                return Err(LabelsError::DuplicateName {
                    name: w[0].name.to_string(),
                });
            }
        }
        for l in self.0.iter() {
            if !is_valid_label_name(&l.name) {
                return Err(LabelsError::InvalidName {
                    name: l.name.to_string(),
                });
            }
            if &*l.name == METRIC_NAME && !is_valid_metric_name(&l.value) {
                return Err(LabelsError::InvalidMetricName {
                    name: l.value.to_string(),
                });
            }
        }
        Ok(())
    }
}

impl fmt::Display for Labels {
    /// Prometheus's text form: `name{a="b", c="d"}`, or `{a="b"}` without a name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(n) = self.metric_name() {
            f.write_str(n)?;
        }
        f.write_str("{")?;
        let mut first = true;
        for l in self.0.iter().filter(|l| &*l.name != METRIC_NAME) {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{}={:?}", l.name, &*l.value)?;
        }
        f.write_str("}")
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = &'a Label;
    type IntoIter = std::slice::Iter<'a, Label>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Collects labels in any order, then sorts and validates them once.
#[derive(Debug, Clone, Default)]
pub struct LabelsBuilder {
    labels: Vec<Label>,
    sorted: bool,
}

impl LabelsBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty builder with room for `n` labels.
    pub fn with_capacity(n: usize) -> Self {
        LabelsBuilder {
            labels: Vec::with_capacity(n),
            sorted: true,
        }
    }

    /// Appends a label without checking for an existing one of the same name (duplicates fail `build`).
    pub fn push(&mut self, name: impl Into<Arc<str>>, value: impl Into<Arc<str>>) -> &mut Self {
        let l = Label::new(name, value);
        if let Some(last) = self.labels.last()
            && last.name >= l.name
        {
            self.sorted = false;
        }
        self.labels.push(l);
        self
    }

    /// Sets `name` to `value`, replacing an existing label of that name; an empty value removes it.
    pub fn set(&mut self, name: &str, value: &str) -> &mut Self {
        if let Some(l) = self.labels.iter_mut().find(|l| &*l.name == name) {
            l.value = Arc::from(value);
        } else {
            self.push(name, value);
        }
        self
    }

    /// Removes `name` if present.
    pub fn remove(&mut self, name: &str) -> &mut Self {
        self.labels.retain(|l| &*l.name != name);
        self
    }

    /// The current value of `name`, if any.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|l| &*l.name == name)
            .map(|l| &*l.value)
    }

    /// Keeps only labels for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&Label) -> bool) -> &mut Self {
        self.labels.retain(|l| keep(l));
        self
    }

    /// The labels collected so far, in insertion order (a label set to `""` may still be listed).
    pub fn labels(&self) -> &[Label] {
        &self.labels
    }

    fn finish(mut self) -> Vec<Label> {
        self.labels.retain(|l| !l.value.is_empty());
        if !self.sorted {
            self.labels.sort_by(|a, b| a.name.cmp(&b.name));
        }
        self.labels
    }

    /// Sorts, drops empty values and validates names.
    pub fn build(self) -> Result<Labels, LabelsError> {
        let labels = Labels(Arc::from(self.finish()));
        labels.validate()?;
        Ok(labels)
    }

    /// Sorts and drops empty values without validating; duplicate names keep the last one set.
    pub fn build_unchecked(self) -> Labels {
        let mut v = self.finish();
        v.dedup_by(|b, a| {
            if a.name == b.name {
                std::mem::swap(a, b);
                true
            } else {
                false
            }
        });
        Labels(Arc::from(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_and_drops_empty_values() {
        let l = Labels::from_pairs(&[("job", "node"), ("__name__", "up"), ("empty", "")]).unwrap();
        let names: Vec<_> = l.iter().map(|l| l.name.to_string()).collect();
        assert_eq!(names, vec!["__name__", "job"]);
        assert_eq!(l.metric_name(), Some("up"));
        assert_eq!(l.to_string(), r#"up{job="node"}"#);
    }

    #[test]
    fn rejects_bad_names_and_duplicates() {
        assert!(matches!(
            Labels::from_pairs(&[("1a", "x")]),
            Err(LabelsError::InvalidName { .. })
        ));
        assert!(matches!(
            Labels::from_pairs(&[("__name__", "a-b")]),
            Err(LabelsError::InvalidMetricName { .. })
        ));
        assert!(matches!(
            Labels::from_pairs(&[("a", "x"), ("a", "y")]),
            Err(LabelsError::DuplicateName { .. })
        ));
        assert!(Labels::from_pairs(&[("__name__", "ns:rate5m"), ("_x9", "ü")]).is_ok());
    }

    #[test]
    fn equal_sets_hash_equal_and_differ_otherwise() {
        let a = Labels::from_pairs(&[("a", "1"), ("b", "2")]).unwrap();
        let b = Labels::from_pairs(&[("b", "2"), ("a", "1")]).unwrap();
        let c = Labels::from_pairs(&[("a", "12")]).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.hash64(), b.hash64());
        assert_ne!(a.hash64(), c.hash64());
    }

    #[test]
    fn unchecked_keeps_last_duplicate() {
        let l = Labels::from_pairs_unchecked(&[("a", "1"), ("a", "2")]);
        assert_eq!(l.get("a"), Some("2"));
        assert_eq!(l.len(), 1);
    }
}
