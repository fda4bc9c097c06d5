//! The log-storage contract: what a log store holds (streams of entries) and what the LogQL engine and the Loki API
//! ask of it. The store (`lookout-logs`, on tantivy) implements [`LogSource`]; the engine never names tantivy.
//! [`mem::MemLogs`] implements it in memory for tests.

pub mod mem;

use lookout_model::{EntryColumns, Labels, Matcher};
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

impl Entry {
    /// Entry `i` of `cols`, owned.
    pub fn from_columns(cols: &EntryColumns, i: usize) -> Entry {
        Entry {
            ts: cols.ts(i),
            line: cols.line(i).to_owned(),
            metadata: cols
                .metadata(i)
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }
}

/// The entries pushed for one stream.
#[derive(Debug, Clone)]
pub struct PushStream {
    /// The stream's labels.
    pub labels: Labels,
    /// Its entries.
    pub entries: Vec<Entry>,
}

/// A push in columns: every entry of every stream in one [`EntryColumns`], stream after stream, so a decoded body
/// costs a few allocations, not a few per stream or per line. How the push API hands a body to a store that takes
/// it as it is.
#[derive(Debug, Clone, Default)]
pub struct ColumnPush {
    /// Every entry, each stream's a contiguous range.
    pub entries: EntryColumns,
    /// The streams, in body order.
    pub streams: Vec<PushedStream>,
}

/// One stream of a [`ColumnPush`].
#[derive(Debug, Clone)]
pub struct PushedStream {
    /// The stream's labels.
    pub labels: Labels,
    /// Its entries: this range of the push's columns.
    pub range: std::ops::Range<usize>,
}

impl ColumnPush {
    /// The same push with an `Entry` per line.
    pub fn to_push_streams(&self) -> Vec<PushStream> {
        let c = &self.entries;
        self.streams
            .iter()
            .map(|s| PushStream {
                labels: s.labels.clone(),
                entries: s.range.clone().map(|i| Entry::from_columns(c, i)).collect(),
            })
            .collect()
    }

    /// The same push in columns.
    pub fn from_push_streams(push: &[PushStream]) -> ColumnPush {
        let lines = push.iter().map(|p| p.entries.len()).sum();
        let text = push
            .iter()
            .flat_map(|p| &p.entries)
            .map(|e| e.line.len())
            .sum();
        let mut out = ColumnPush::with_capacity(push.len(), lines, text);
        for p in push {
            out.add_stream(p.labels.clone(), |cols| {
                for e in &p.entries {
                    let meta = e.metadata.iter().map(|(k, v)| (k.as_str(), v.as_str()));
                    cols.push(e.ts, &e.line, meta);
                }
            });
        }
        out
    }

    /// An empty push with room for `streams` streams of `lines` entries and `text` bytes of lines in all.
    pub fn with_capacity(streams: usize, lines: usize, text: usize) -> ColumnPush {
        ColumnPush {
            entries: EntryColumns::with_capacity(lines, text),
            streams: Vec::with_capacity(streams),
        }
    }

    /// Appends a stream: its entries are those `fill` pushes onto the columns.
    pub fn add_stream(&mut self, labels: Labels, fill: impl FnOnce(&mut EntryColumns)) {
        let from = self.entries.len();
        fill(&mut self.entries);
        self.streams.push(PushedStream {
            labels,
            range: from..self.entries.len(),
        });
    }
}

/// A line filter the store can narrow by (`|=`, `!=`, `|~`, `!~`); the engine applies richer filters itself.
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
    /// Line filters every returned entry passes (the store may use them to narrow).
    pub filters: Vec<LineFilter>,
    /// Inclusive start, Unix ns.
    pub start: i64,
    /// Exclusive end, Unix ns.
    pub end: i64,
    /// At most this many entries overall (`usize::MAX` for all).
    pub limit: usize,
    /// Order of the scan, and which end of the range wins when the limit cuts.
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

/// Work a scan did, for the query's stats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Candidate entries the index returned (before exact line checks).
    pub candidates: u64,
    /// Entries handed to the visitor.
    pub entries: u64,
    /// Line bytes handed to the visitor.
    pub bytes: u64,
}

/// Entries and bytes of one stream in one time bucket (index statistics and volume, without reading lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamVolume {
    /// The stream's labels.
    pub labels: Labels,
    /// Per bucket: (bucket start ns, entries, line bytes); buckets without entries are left out.
    pub buckets: Vec<(i64, u64, u64)>,
}

/// Why a log read failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LogSourceError {
    /// The store failed (disk, index): a server fault.
    #[error("log store error: {0}")]
    Store(String),
    /// The read would exceed a limit.
    #[error("{message}")]
    Limit {
        /// The limit's configuration name.
        name: &'static str,
        /// Its value.
        limit: u64,
        /// What happened, for the client.
        message: String,
    },
}

/// Read access to a log store.
pub trait LogSource: Send + Sync {
    /// Visits the entries of `q` one by one in `q.direction` order (by time, across streams), each with its
    /// stream's labels, until `visit` returns false or `q.limit` entries were visited.
    fn scan(
        &self,
        q: &LogQuery,
        visit: &mut dyn FnMut(&Labels, &Entry) -> bool,
    ) -> Result<ScanStats, LogSourceError>;
    /// Label names of the streams matching `matchers` with entries in `[start, end)`.
    fn label_names(&self, matchers: &[Matcher], start: i64, end: i64) -> Vec<String>;
    /// Values of label `name` among those streams.
    fn label_values(&self, name: &str, matchers: &[Matcher], start: i64, end: i64) -> Vec<String>;
    /// Label sets of those streams.
    fn series(&self, matchers: &[Matcher], start: i64, end: i64) -> Vec<Labels>;
    /// Entries and bytes per matching stream in buckets of `step` ns from `start` (one bucket when `step` covers
    /// the range), from the index alone.
    fn volume(
        &self,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<StreamVolume>, LogSourceError>;
}

/// The start of the volume bucket holding `ts` (buckets of `step` ns from `start`; no overflow at the extremes).
pub fn volume_bucket(start: i64, step: i64, ts: i64) -> i64 {
    let (start, step) = (start as i128, step.max(1) as i128);
    (start + (ts as i128 - start).div_euclid(step) * step) as i64
}

/// Collects a scan into per-stream groups (streams in label order, entries in scan order): the shape of a log
/// query's answer when no pipeline reshapes the labels.
pub fn collect_streams(
    source: &dyn LogSource,
    q: &LogQuery,
) -> Result<Vec<StreamEntries>, LogSourceError> {
    let mut by_stream: std::collections::BTreeMap<Labels, Vec<Entry>> = Default::default();
    source.scan(q, &mut |labels, e| {
        by_stream.entry(labels.clone()).or_default().push(e.clone());
        true
    })?;
    Ok(by_stream
        .into_iter()
        .map(|(labels, entries)| StreamEntries { labels, entries })
        .collect())
}

/// Why a push was refused or failed; the HTTP layer maps each to Loki's status code.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LogPushError {
    /// The push broke a rule or a limit; nothing of it was stored and retrying will not help (400).
    #[error("{message}")]
    Invalid {
        /// The limit or rule's name (counted in a self-metric).
        reason: &'static str,
        /// What, where, why.
        message: String,
    },
    /// An ingestion rate limit; nothing stored, the sender should retry later (429).
    #[error("{message}")]
    RateLimited {
        /// The limit's name.
        reason: &'static str,
        /// What, where, why.
        message: String,
    },
    /// The store failed (5xx, the sender retries).
    #[error("log store error: {0}")]
    Store(String),
}

/// Write access to a log store. Acknowledgement: `Ok` means every entry is in the store's WAL (the OS page cache at
/// least) and visible to queries; an `Err` means none of the push was stored.
pub trait LogSink: Send + Sync {
    /// Stores every entry of `push` or none; returns the number stored.
    fn push(&self, push: Vec<PushStream>) -> Result<usize, LogPushError>;

    /// [`push`](LogSink::push) for streams in columns, with the same contract. A store that holds columns takes
    /// them as they are; the default makes an `Entry` per line.
    fn push_columns(&self, push: ColumnPush) -> Result<usize, LogPushError> {
        self.push(push.to_push_streams())
    }

    /// A refusal every push would get now (the store is behind), checked before a body is decoded so a shipper's
    /// retries cost no decoding; `push` still checks everything.
    fn refuses_now(&self) -> Option<LogPushError> {
        None
    }
}

/// A log store that can be read and written.
pub trait LogStorage: LogSource + LogSink {}

impl<T: LogSource + LogSink> LogStorage for T {}
