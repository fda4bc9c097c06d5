//! Data pushed into Lookout: remote_write requests and import bodies decoded and appended as one batch each.
//!
//! A 1.0 request in the shape senders write is read in place ([`lookout_wire::remote_write::raw`]): a series the
//! [`PushSeriesCache`] knows is appended by reference, without decoding its labels; the others are decoded,
//! validated and appended by labels, and cached once the storage has committed them. Any other request (2.0,
//! exemplars, unusual encodings) goes through the full decoder. Both paths refuse the whole request on the first
//! invalid series or refused sample and store nothing of it, and the acknowledgement means what it always did:
//! the batch is committed (in the WAL) when [`ingest_remote_write`] returns.

mod cache;
mod import;

pub use cache::{CachedSeries, ENTRY_BYTES, PushSeriesCache};
pub use import::{ImportError, ingest_import};

use lookout_model::{Labels, Sample};
use lookout_storage::{AppendError, Appender, SeriesRef, Storage, StorageError};

use crate::scrape::append::append_sample;
use lookout_wire::remote_write::raw::{self, DecodeLabelsError, RawReader};
use lookout_wire::remote_write::{
    InvalidSeriesPolicy, LabelInterner, RemoteWriteVersion, WireError, WireLimits,
    decode_decompressed, decompress_into,
};

/// Why a pushed request stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The body could not be decoded, or broke a limit.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The storage refused a sample; the batch was rolled back.
    #[error(transparent)]
    Append(#[from] Refusal),
    /// The storage failed to commit.
    #[error("storage commit failed: {0}")]
    Storage(#[from] StorageError),
}

/// A sample the storage refused, with its series: the batch holding it was rolled back.
#[derive(Debug, thiserror::Error)]
#[error("series {labels} sample at {t}: {source}")]
pub struct Refusal {
    /// The series.
    pub labels: Labels,
    /// The sample's timestamp.
    pub t: i64,
    /// The refusal.
    pub source: AppendError,
}

/// Decodes a snappy remote_write body and appends every sample as one batch; answers the samples stored.
pub fn ingest_remote_write(
    storage: &dyn Storage,
    cache: &PushSeriesCache,
    body: &[u8],
    version: RemoteWriteVersion,
    limits: &WireLimits,
) -> Result<usize, PushError> {
    DECOMPRESSED.with_borrow_mut(|raw| {
        decompress_into(body, limits, raw)?;
        let result = ingest_decompressed(storage, cache, raw, version, limits);
        if raw.capacity() > KEEP_DECOMPRESSED_BYTES {
            // A rare large body does not stay resident in every ingest thread.
            *raw = Vec::new();
        }
        result
    })
}

/// Largest decompression buffer a thread keeps for its next request.
const KEEP_DECOMPRESSED_BYTES: usize = 4 << 20;

thread_local! {
    /// Each ingest thread's decompression buffer: a request's body is mapped, faulted in and unmapped otherwise.
    static DECOMPRESSED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn ingest_decompressed(
    storage: &dyn Storage,
    cache: &PushSeriesCache,
    raw: &[u8],
    version: RemoteWriteVersion,
    limits: &WireLimits,
) -> Result<usize, PushError> {
    if version == RemoteWriteVersion::V1
        && let Some(n) = ingest_simple_v1(storage, cache, raw, limits)?
    {
        return Ok(n);
    }
    let raw = bytes::Bytes::copy_from_slice(raw);
    let batch = decode_decompressed(raw, version, limits, InvalidSeriesPolicy::Reject)?;
    commit_all(
        storage,
        batch
            .series
            .iter()
            .map(|s| (&s.labels, s.samples.as_slice())),
    )
}

/// Appends every sample as one batch; the first refused sample rolls the batch back.
pub fn commit_all<'a>(
    storage: &dyn Storage,
    series: impl Iterator<Item = (&'a Labels, &'a [Sample])>,
) -> Result<usize, PushError> {
    let mut app = storage.appender();
    for (labels, samples) in series {
        if let Err(refusal) = append_series(app.as_mut(), labels, samples) {
            app.rollback();
            return Err(refusal.into());
        }
    }
    Ok(app.commit()?.samples)
}

/// Appends one series' samples by labels (then by the batch's reference); answers that reference.
fn append_series(
    app: &mut dyn Appender,
    labels: &Labels,
    samples: &[Sample],
) -> Result<Option<SeriesRef>, Refusal> {
    let mut r = None;
    for s in samples {
        append_sample(app, labels, &mut r, s.t, s.v).map_err(|source| Refusal {
            labels: labels.clone(),
            t: s.t,
            source,
        })?;
    }
    Ok(r)
}

/// One series of a request, read before any lookup: its cache key, label bytes and samples (a range of the
/// request's sample list).
struct ReadSeries<'b> {
    key: u64,
    label_bytes: &'b [u8],
    samples: std::ops::Range<usize>,
}

/// Appends series of a request by labels, decoding them from their bytes.
struct ByLabels<'b, 'l> {
    limits: &'l WireLimits,
    interner: LabelInterner<'b>,
    pairs: Vec<(&'b [u8], &'b [u8])>,
    /// Series appended by labels: cached after the commit, once their references outlive the batch.
    learned: Vec<(u64, SeriesRef, &'b [u8])>,
}

/// Why the fast path stops (the caller rolls the batch back).
enum Stop {
    /// The series is not in the simple shape: the full decoder takes the request.
    NotSimple,
    /// The request's answer.
    Refused(PushError),
}

impl Stop {
    /// What `ingest_simple_v1` answers for it.
    fn answer(self) -> Result<Option<usize>, PushError> {
        match self {
            Stop::NotSimple => Ok(None),
            Stop::Refused(e) => Err(e),
        }
    }
}

impl<'b> ByLabels<'b, '_> {
    /// Decodes series `index` and appends its samples.
    fn append(
        &mut self,
        app: &mut dyn Appender,
        index: usize,
        series: &ReadSeries<'b>,
        samples: &[Sample],
    ) -> Result<(), Stop> {
        let raw = raw::RawSeries {
            index,
            label_bytes: series.label_bytes,
            samples: &[],
        };
        let labels =
            match raw::decode_labels(&raw, self.limits, &mut self.interner, &mut self.pairs) {
                Ok(labels) => labels,
                Err(DecodeLabelsError::NotSimple) => return Err(Stop::NotSimple),
                Err(DecodeLabelsError::Invalid(e)) => return Err(Stop::Refused(e.into())),
            };
        match append_series(app, &labels, &samples[series.samples.clone()]) {
            Ok(Some(r)) => self.learned.push((series.key, r, series.label_bytes)),
            Ok(None) => {}
            Err(refusal) => return Err(Stop::Refused(refusal.into())),
        }
        Ok(())
    }
}

/// Reads every series of a simple 1.0 request; `None` when the request is not in that shape.
fn read_simple_v1<'b>(
    body: &'b [u8],
    series_count: usize,
    samples: &mut Vec<Sample>,
) -> Option<Vec<ReadSeries<'b>>> {
    let mut reader = RawReader::new(body);
    let mut read = Vec::with_capacity(series_count);
    loop {
        match reader.next_series() {
            Ok(Some(series)) => {
                let start = samples.len();
                samples.extend_from_slice(series.samples);
                read.push(ReadSeries {
                    key: PushSeriesCache::key(series.label_bytes),
                    label_bytes: series.label_bytes,
                    samples: start..samples.len(),
                });
            }
            Ok(None) => return Some(read),
            Err(raw::NotSimple) => return None,
        }
    }
}

/// The fast path for a 1.0 request; `Ok(None)` when the request is not in the simple shape (nothing appended).
///
/// The whole request is read first, then its series are looked up in the cache together and the known ones
/// appended by reference together (each store looks up a shard's worth under one lock); the others are decoded
/// and appended by labels in request order.
fn ingest_simple_v1(
    storage: &dyn Storage,
    cache: &PushSeriesCache,
    body: &[u8],
    limits: &WireLimits,
) -> Result<Option<usize>, PushError> {
    let Ok(series_count) = RawReader::new(body).count_series() else {
        return Ok(None);
    };
    if series_count > limits.max_series_per_request {
        return Err(WireError::TooManySeries {
            limit: limits.max_series_per_request,
            count: series_count,
        }
        .into());
    }
    // Senders put about one sample per series in a request.
    let mut samples = Vec::with_capacity(series_count);
    let Some(read) = read_simple_v1(body, series_count, &mut samples) else {
        return Ok(None);
    };
    let keys: Vec<(u64, &[u8])> = read.iter().map(|s| (s.key, s.label_bytes)).collect();
    let cached = cache.get_many(&keys);
    let hits = cached.iter().filter(|c| c.is_some()).count() as u64;
    cache.count(hits, read.len() as u64 - hits);
    let mut app = storage.appender();
    app.reserve(samples.len());
    let mut ctx = ByLabels {
        limits,
        interner: LabelInterner::default(),
        pairs: Vec::new(),
        learned: Vec::new(),
    };
    // Series in request order: each run of known ones by reference in one call, the others by labels.
    let mut items: Vec<(SeriesRef, &[Sample])> = Vec::with_capacity(read.len());
    let mut i = 0;
    while i < read.len() {
        let run_end = (i..read.len())
            .find(|&j| cached[j].is_none())
            .unwrap_or(read.len());
        items.clear();
        items.extend(
            (i..run_end).filter_map(|j| Some((cached[j]?, &samples[read[j].samples.clone()]))),
        );
        let mut from = 0;
        while from < items.len() {
            match app.append_refs(&items[from..]) {
                Ok(()) => break,
                Err((k, AppendError::UnknownRef(_))) => {
                    // The storage forgot the series (its first sample failed): decoded as a miss, learned anew.
                    let j = i + from + k;
                    if let Err(stop) = ctx.append(app.as_mut(), j, &read[j], &samples) {
                        app.rollback();
                        return stop.answer();
                    }
                    from += k + 1;
                }
                Err(_) => {
                    // A refusal: the full decoder's path answers it, with the series named, from a fresh batch.
                    app.rollback();
                    return Ok(None);
                }
            }
        }
        if run_end < read.len()
            && let Err(stop) = ctx.append(app.as_mut(), run_end, &read[run_end], &samples)
        {
            app.rollback();
            return stop.answer();
        }
        i = run_end + 1;
    }
    let learned = ctx.learned;
    let stored = app.commit()?.samples;
    for (key, r, label_bytes) in learned {
        // Refs of series this batch created resolve only from the next batch on: those are learned then.
        if storage.series_labels(r).is_some() {
            cache.insert(
                key,
                CachedSeries {
                    series: r,
                    label_bytes: label_bytes.into(),
                },
            );
        }
    }
    Ok(Some(stored))
}

#[cfg(test)]
mod tests;
