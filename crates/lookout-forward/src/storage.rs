//! [`ForwardingStorage`]: a [`Storage`] that writes through to an optional inner store (the TSDB; none in agent
//! mode) and appends every committed batch to the remote_write disk queues.
//!
//! Acknowledgement: `commit` returns `Ok` once the inner store committed *and* the records holding the batch (at most
//! `RECORD_MAX_SAMPLES` samples each, each one `write()`) were written to every queue. If the inner commit fails, nothing is forwarded; if a queue write fails (disk error),
//! `commit` answers [`StorageError::Io`] although the inner store has the batch (a retrying caller then writes
//! duplicates there, which the TSDB accepts as identical samples).
//!
//! Series refs handed out are the forwarder's own (see `series_refs`): they map to labels (needed for the queue
//! records) and to the inner store's ref. An unknown inner ref (the TSDB dropped the series) is re-resolved by
//! labels transparently; an evicted forwarder ref answers [`AppendError::UnknownRef`].

use std::sync::Arc;
use std::time::Duration;

use lookout_model::{Labels, Matcher, TimeRange};
use lookout_storage::{
    AppendError, Appender, CommitStats, Querier, SelectHints, SeriesRef, SeriesSet, Storage,
    StorageError,
};

use crate::queue::DiskQueue;
use crate::record::{SeriesSamples, encode_samples, group_samples};

/// Samples per queue record at most (a series is never split, so one series with more samples is one record).
const RECORD_MAX_SAMPLES: usize = 2048;

/// Consecutive runs of `series` holding at most `max` samples each (a longer series alone).
fn record_chunks(series: &[SeriesSamples], max: usize) -> impl Iterator<Item = &[SeriesSamples]> {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= series.len() {
            return None;
        }
        let mut end = start;
        let mut n = 0;
        while end < series.len() && (end == start || n + series[end].samples.len() <= max) {
            n += series[end].samples.len();
            end += 1;
        }
        let chunk = &series[start..end];
        start = end;
        Some(chunk)
    })
}
use crate::series_refs::SeriesRefs;

/// Sizes of a [`ForwardingStorage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForwardingStorageOptions {
    /// Memory share for the ref ↔ labels map, in bytes (estimated). New series beyond it are refused with
    /// [`AppendError::MemoryLimit`].
    pub memory_limit: usize,
    /// Refs unused this long are forgotten (the next `append_ref` answers `UnknownRef`).
    pub series_idle: Duration,
    /// Bytes each series costs elsewhere while it is forwarded, counted against `memory_limit` too: in agent mode
    /// the scraper's cache holds every accepted series (its label set, key and staleness entries), and nothing
    /// else bounds it, so the forwarding share covers it.
    pub series_overhead_bytes: usize,
}

impl Default for ForwardingStorageOptions {
    fn default() -> Self {
        ForwardingStorageOptions {
            memory_limit: 256 << 20,
            series_idle: Duration::from_secs(20 * 60),
            series_overhead_bytes: 0,
        }
    }
}

/// See the module docs.
pub struct ForwardingStorage {
    inner: Option<Arc<dyn Storage>>,
    queues: Vec<Arc<DiskQueue>>,
    refs: SeriesRefs,
}

impl std::fmt::Debug for ForwardingStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForwardingStorage")
            .field("inner", &self.inner.is_some())
            .field("queues", &self.queues.len())
            .finish()
    }
}

impl ForwardingStorage {
    /// Wraps `inner` (or nothing, in agent mode) and forwards every commit to `queues`.
    pub fn new(
        inner: Option<Arc<dyn Storage>>,
        queues: Vec<Arc<DiskQueue>>,
        opts: ForwardingStorageOptions,
    ) -> Self {
        ForwardingStorage {
            inner,
            queues,
            refs: SeriesRefs::new(
                opts.memory_limit,
                opts.series_idle,
                opts.series_overhead_bytes,
            ),
        }
    }

    /// Series refs held and their estimated bytes.
    pub fn series_usage(&self) -> (usize, usize) {
        self.refs.usage()
    }

    /// Forgets refs unused for the idle time now (normally done during commits).
    pub fn gc(&self) {
        self.refs.gc();
    }
}

impl Storage for ForwardingStorage {
    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(ForwardingAppender {
            storage: self,
            inner: self.inner.as_ref().map(|s| s.appender()),
            batch: Vec::new(),
            created: 0,
        })
    }

    fn querier(&self, range: TimeRange) -> Result<Box<dyn Querier + '_>, StorageError> {
        match &self.inner {
            Some(s) => s.querier(range),
            None => Ok(Box::new(EmptyQuerier)),
        }
    }

    fn series_labels(&self, series: SeriesRef) -> Option<Labels> {
        self.refs.get(series).map(|(labels, _)| labels)
    }

    fn intern_labels(&self, labels: &Labels) -> Option<Labels> {
        self.inner.as_ref()?.intern_labels(labels)
    }
}

struct ForwardingAppender<'a> {
    storage: &'a ForwardingStorage,
    inner: Option<Box<dyn Appender + 'a>>,
    batch: Vec<(SeriesRef, Labels, i64, f64)>,
    created: usize,
}

impl Appender for ForwardingAppender<'_> {
    fn append(&mut self, labels: &Labels, t: i64, v: f64) -> Result<SeriesRef, AppendError> {
        if labels.is_empty() {
            return Err(AppendError::EmptyLabels);
        }
        // Intern first: a refusal then leaves the inner batch untouched.
        let (r, created) = self.storage.refs.intern(labels, None)?;
        if let Some(inner) = &mut self.inner {
            let ir = inner.append(labels, t, v)?;
            self.storage.refs.set_inner(r, ir);
        }
        self.created += usize::from(created);
        self.batch.push((r, labels.clone(), t, v));
        Ok(r)
    }

    fn append_ref(&mut self, series: SeriesRef, t: i64, v: f64) -> Result<(), AppendError> {
        let (labels, inner_ref) = self
            .storage
            .refs
            .get(series)
            .ok_or(AppendError::UnknownRef(series))?;
        if let Some(inner) = &mut self.inner {
            let resolved = match inner_ref {
                Some(ir) => match inner.append_ref(ir, t, v) {
                    Err(AppendError::UnknownRef(_)) => None,
                    other => Some(other),
                },
                None => None,
            };
            match resolved {
                Some(r) => r?,
                None => {
                    let ir = inner.append(&labels, t, v)?;
                    self.storage.refs.set_inner(series, ir);
                }
            }
        }
        self.batch.push((series, labels, t, v));
        Ok(())
    }

    fn pending(&self) -> usize {
        self.batch.len()
    }

    fn reserve(&mut self, samples: usize) {
        self.batch.reserve(samples);
        if let Some(inner) = &mut self.inner {
            inner.reserve(samples);
        }
    }

    fn commit(self: Box<Self>) -> Result<CommitStats, StorageError> {
        let this = *self;
        let stats = match this.inner {
            Some(inner) => inner.commit()?,
            None => CommitStats {
                samples: this.batch.len(),
                series_created: this.created,
            },
        };
        this.storage.refs.maybe_gc();
        if this.batch.is_empty() || this.storage.queues.is_empty() {
            return Ok(stats);
        }
        // Records of at most RECORD_MAX_SAMPLES: a large scrape never needs one large buffer here, nor one large
        // read and decode in the senders (whose in-flight bound counts whole records).
        let grouped = group_samples(&this.batch);
        drop(this.batch);
        for chunk in record_chunks(&grouped, RECORD_MAX_SAMPLES) {
            let payload = encode_samples(chunk);
            let items: usize = chunk.iter().map(|s| s.samples.len()).sum();
            let items = u32::try_from(items).unwrap_or(u32::MAX);
            for q in &this.storage.queues {
                q.append(items, &payload).map_err(|e| StorageError::Io {
                    path: e.path,
                    source: e.source,
                })?;
            }
        }
        Ok(stats)
    }

    fn rollback(self: Box<Self>) {
        if let Some(inner) = self.inner {
            inner.rollback();
        }
    }
}

/// The querier of a storage without an inner store: nothing is kept locally.
struct EmptyQuerier;

impl Querier for EmptyQuerier {
    fn select(&self, _: &[Matcher], _: SelectHints) -> Result<SeriesSet<'_>, StorageError> {
        Ok(Box::new(std::iter::empty()))
    }
    fn label_names(&self, _: &[Matcher]) -> Result<Vec<String>, StorageError> {
        Ok(Vec::new())
    }
    fn label_values(&self, _: &str, _: &[Matcher]) -> Result<Vec<String>, StorageError> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests;
