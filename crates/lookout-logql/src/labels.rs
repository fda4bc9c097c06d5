//! The labels of one line while it flows through a pipeline: stream labels, structured metadata and parsed labels,
//! each remembered by category (Loki's `categorize-labels` answer needs them apart), plus `__error__`.

use lookout_model::Labels;

/// Where a label came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// An indexed stream label.
    Stream,
    /// Structured metadata of the entry.
    Metadata,
    /// Extracted or set by a pipeline stage.
    Parsed,
}

/// Name of the error label.
pub const ERROR: &str = "__error__";
/// Name of the error details label.
pub const ERROR_DETAILS: &str = "__error_details__";

/// A line's labels.
#[derive(Debug, Clone, Default)]
pub struct LabelSet {
    items: Vec<(String, String, Category)>,
}

impl LabelSet {
    /// The stream's labels and the entry's structured metadata.
    pub fn new(stream: &Labels, metadata: &[(String, String)]) -> LabelSet {
        let mut items = Vec::with_capacity(stream.len() + metadata.len() + 4);
        for l in stream.iter() {
            items.push((l.name.to_string(), l.value.to_string(), Category::Stream));
        }
        let mut set = LabelSet { items };
        for (k, v) in metadata {
            set.set(k, v, Category::Metadata);
        }
        set
    }

    /// A label's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, v, _)| v.as_str())
    }

    /// Sets a label (replacing it in whatever category it was).
    pub fn set(&mut self, name: &str, value: &str, cat: Category) {
        if let Some(item) = self.items.iter_mut().find(|(n, _, _)| n == name) {
            item.1.clear();
            item.1.push_str(value);
            item.2 = cat;
        } else {
            self.items.push((name.to_string(), value.to_string(), cat));
        }
    }

    /// Sets a label a parser extracted: a name clashing with a stream label gets `_extracted`, as in Loki.
    pub fn set_extracted(&mut self, name: &str, value: &str) {
        let clashes = self
            .items
            .iter()
            .any(|(n, _, c)| n == name && *c == Category::Stream);
        if clashes {
            self.set(&format!("{name}_extracted"), value, Category::Parsed);
        } else {
            self.set(name, value, Category::Parsed);
        }
    }

    /// Removes a label.
    pub fn remove(&mut self, name: &str) {
        self.items.retain(|(n, _, _)| n != name);
    }

    /// Keeps the labels `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &str) -> bool) {
        self.items.retain(|(n, v, _)| keep(n, v));
    }

    /// Whether `__error__` is set.
    pub fn has_error(&self) -> bool {
        self.get(ERROR).is_some_and(|e| !e.is_empty())
    }

    /// Marks the line with an error (the first error wins).
    pub fn set_error(&mut self, error: &str, details: &str) {
        if self.has_error() {
            return;
        }
        self.set(ERROR, error, Category::Parsed);
        if !details.is_empty() {
            self.set(ERROR_DETAILS, details, Category::Parsed);
        }
    }

    /// Every label, for templates: (name, value).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.items.iter().map(|(n, v, _)| (n.as_str(), v.as_str()))
    }

    /// All labels as one sorted set (empty values dropped).
    pub fn to_labels(&self) -> Labels {
        Labels::from_pairs_unchecked(
            &self
                .items
                .iter()
                .map(|(n, v, _)| (n.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        )
    }

    /// The labels of one category, sorted by name (empty values dropped).
    pub fn category(&self, cat: Category) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .items
            .iter()
            .filter(|(_, v, c)| *c == cat && !v.is_empty())
            .map(|(n, v, _)| (n.clone(), v.clone()))
            .collect();
        v.sort();
        v
    }
}
