//! What is pushed and what a query returns.

use lookout_model::{Labels, Matcher};
use serde::{Deserialize, Serialize};

/// One log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Unix nanoseconds.
    pub ts: i64,
    /// The line.
    pub line: String,
    /// Structured metadata (not indexed as labels), in push order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<(String, String)>,
}

/// The entries pushed for one stream.
#[derive(Debug, Clone)]
pub struct PushStream {
    /// The stream's labels.
    pub labels: Labels,
    /// Its entries.
    pub entries: Vec<Entry>,
}

/// A line filter of a log query (`|=`, `!=`, `|~`, `!~`).
#[derive(Debug, Clone)]
pub enum LineFilter {
    /// `|= "text"`: the line contains the text.
    Contains(String),
    /// `!= "text"`: the line does not contain the text.
    NotContains(String),
    /// `|~ "re"`: the regex matches somewhere in the line.
    Matches(regex::Regex),
    /// `!~ "re"`: the regex matches nowhere in the line.
    NotMatches(regex::Regex),
}

impl LineFilter {
    /// Whether `line` passes.
    pub fn keeps(&self, line: &str) -> bool {
        match self {
            LineFilter::Contains(s) => line.contains(s.as_str()),
            LineFilter::NotContains(s) => !line.contains(s.as_str()),
            LineFilter::Matches(r) => r.is_match(line),
            LineFilter::NotMatches(r) => !r.is_match(line),
        }
    }
}

/// Order of returned entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueryDirection {
    /// Newest first (Loki's default).
    #[default]
    Backward,
    /// Oldest first.
    Forward,
}

/// A log selection: streams by matchers, entries by time and line filters.
#[derive(Debug, Clone)]
pub struct LogQuery {
    /// Stream matchers (all must match).
    pub matchers: Vec<Matcher>,
    /// Line filters, applied in order.
    pub filters: Vec<LineFilter>,
    /// Inclusive start, Unix ns.
    pub start: i64,
    /// Exclusive end, Unix ns.
    pub end: i64,
    /// At most this many entries overall.
    pub limit: usize,
    /// Which end of the range wins when the limit cuts.
    pub direction: QueryDirection,
}

/// The selected entries of one stream, ordered by the query's direction.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamEntries {
    /// The stream's labels.
    pub labels: Labels,
    /// Its entries.
    pub entries: Vec<Entry>,
}
