//! The storage contract every engine and ingest path speaks, and an in-memory implementation of it.
//!
//! Architecture invariant: the PromQL engine, the HTTP layer, the scraper and the rule evaluator see storage only
//! through these traits. The TSDB (`lookout-tsdb`) implements them; [`mem::MemStorage`] implements them for tests.
//!
//! Acknowledgement: when [`Appender::commit`] returns `Ok`, the batch is *accepted*: it is visible to queriers and,
//! for a durable implementation, written to its write-ahead log (at least the OS page cache), so a killed process
//! loses none of it. *Durable* against power loss means an fsync as well; implementations document their interval.

pub mod error;
pub mod iter;
pub mod logs;
pub mod mem;
pub mod shards;
pub mod threads;

use lookout_model::{Labels, Matcher, Sample, TimeRange};

pub use error::{AppendError, StorageError};
pub use iter::{MergeSampleIter, SampleIter, VecSampleIter};

/// A handle to a series inside one storage, valid until the storage drops the series (then appends say
/// [`AppendError::UnknownRef`] and the caller appends by labels again).
pub type SeriesRef = u64;

/// What a commit did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Samples written.
    pub samples: usize,
    /// Series created by this batch.
    pub series_created: usize,
}

/// A batch of samples that becomes visible all at once on `commit`, or not at all on `rollback` (or drop).
///
/// Per-sample problems (out of order, duplicate, series limit) are returned by `append` and leave the batch usable:
/// the caller decides whether to skip the sample (a scrape) or roll back (a remote-write request).
pub trait Appender: Send {
    /// Adds a sample for the series with these labels, creating the series on commit if needed.
    fn append(&mut self, labels: &Labels, t: i64, v: f64) -> Result<SeriesRef, AppendError>;
    /// Adds a sample to a series known by reference (from an earlier `append`).
    fn append_ref(&mut self, series: SeriesRef, t: i64, v: f64) -> Result<(), AppendError>;
    /// Adds samples to series known by reference, item by item in order (a store may look the series up
    /// together). On the first refusal answers the index of its item and the refusal: the items before it are in
    /// the batch, and so may be that item's samples before the refused one.
    fn append_refs(
        &mut self,
        items: &[(SeriesRef, &[Sample])],
    ) -> Result<(), (usize, AppendError)> {
        for (i, (series, samples)) in items.iter().enumerate() {
            for s in *samples {
                self.append_ref(*series, s.t, s.v).map_err(|e| (i, e))?;
            }
        }
        Ok(())
    }
    /// Number of samples pending in this batch.
    fn pending(&self) -> usize;
    /// Prepares room for about `samples` more samples (a scrape knows its size from the last one), so the batch's
    /// buffers do not grow by doubling; only a hint.
    fn reserve(&mut self, samples: usize) {
        let _ = samples;
    }
    /// Makes the batch visible (and, for a durable store, logged) as one unit.
    fn commit(self: Box<Self>) -> Result<CommitStats, StorageError>;
    /// Discards the batch.
    fn rollback(self: Box<Self>);
}

/// What a select needs; lets the store skip work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectHints {
    /// Samples wanted, inclusive. Series without samples in it may be left out.
    pub range: TimeRange,
    /// False when only the label sets are wanted (series listing); sample iterators may then be empty.
    pub with_samples: bool,
}

impl SelectHints {
    /// Samples in `range`.
    pub fn samples(range: TimeRange) -> Self {
        SelectHints {
            range,
            with_samples: true,
        }
    }

    /// Label sets only, for series whose data overlaps `range`.
    pub fn series_only(range: TimeRange) -> Self {
        SelectHints {
            range,
            with_samples: false,
        }
    }
}

/// One selected series: its labels and a stream of its samples in time order, without duplicates.
pub struct Series<'a> {
    /// The full label set, `__name__` included.
    pub labels: Labels,
    /// The samples inside the requested range, oldest first.
    pub samples: Box<dyn SampleIter + 'a>,
    /// An upper-bound estimate of the samples the iterator yields, for query limits before decoding.
    pub estimated_samples: usize,
}

impl std::fmt::Debug for Series<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Series")
            .field("labels", &self.labels)
            .field("estimated_samples", &self.estimated_samples)
            .finish()
    }
}

/// Selected series, sorted by label set, each label set at most once.
pub type SeriesSet<'a> = Box<dyn Iterator<Item = Result<Series<'a>, StorageError>> + 'a>;

/// A read view over a time range. Cheap to create; reads see the data committed when it was created or later.
pub trait Querier: Send + Sync {
    /// Series matching all matchers, sorted by labels. At least one matcher should match non-empty values.
    fn select(
        &self,
        matchers: &[Matcher],
        hints: SelectHints,
    ) -> Result<SeriesSet<'_>, StorageError>;
    /// Label names of the series matching all matchers (all series when empty), sorted, unique.
    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError>;
    /// Values of label `name` across series matching all matchers (all series when empty), sorted, unique.
    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError>;
}

/// A store of float samples: the one trait the engines and ingest paths are written against.
pub trait Storage: Send + Sync {
    /// A new batch.
    fn appender(&self) -> Box<dyn Appender + '_>;
    /// A read view for samples and series within `range`.
    fn querier(&self, range: TimeRange) -> Result<Box<dyn Querier + '_>, StorageError>;
    /// The label set the store keeps for the committed series `series`, so that a caller holding the same labels
    /// (a scrape cache) can share the store's copy instead of keeping its own; `None` when the store does not
    /// know the reference (or does not share).
    fn series_labels(&self, series: SeriesRef) -> Option<Labels> {
        let _ = series;
        None
    }
    /// `labels` with the store's shared strings, when the store interns them, so that a caller caching the set
    /// (a scrape cache) and the series the store creates from it hold one label set between them, not two;
    /// `None` when the store does not intern.
    fn intern_labels(&self, labels: &Labels) -> Option<Labels> {
        let _ = labels;
        None
    }
}
