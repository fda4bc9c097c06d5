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

/// Appends a cached series' samples by reference.
fn append_known(
    app: &mut dyn Appender,
    r: SeriesRef,
    samples: &[Sample],
) -> Result<(), AppendError> {
    samples.iter().try_for_each(|s| app.append_ref(r, s.t, s.v))
}

/// One request's cache lookups, added to the cache's shared counters once, when the request ends (a counter update
/// per series would bounce their cache line between the ingest threads).
struct Lookups<'c> {
    cache: &'c PushSeriesCache,
    hits: u64,
    misses: u64,
}

impl Drop for Lookups<'_> {
    fn drop(&mut self) {
        self.cache.count(self.hits, self.misses);
    }
}

/// The fast path for a 1.0 request; `Ok(None)` when the request is not in the simple shape (nothing appended).
fn ingest_simple_v1(
    storage: &dyn Storage,
    cache: &PushSeriesCache,
    body: &[u8],
    limits: &WireLimits,
) -> Result<Option<usize>, PushError> {
    let mut reader = RawReader::new(body);
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
    let mut app = storage.appender();
    // Senders put about one sample per series in a request.
    app.reserve(series_count);
    let mut interner = LabelInterner::default();
    let mut pairs = Vec::new();
    // Series appended by labels: cached after the commit, once their references outlive the batch.
    let mut learned: Vec<(u64, SeriesRef, &[u8])> = Vec::new();
    let mut lookups = Lookups {
        cache,
        hits: 0,
        misses: 0,
    };
    loop {
        let series = match reader.next_series() {
            Ok(Some(s)) => s,
            Ok(None) => break,
            Err(raw::NotSimple) => {
                app.rollback();
                return Ok(None);
            }
        };
        let key = PushSeriesCache::key(series.label_bytes);
        let cached = cache.get_checked(key, series.label_bytes);
        if cached.is_some() {
            lookups.hits += 1;
        } else {
            lookups.misses += 1;
        }
        if let Some(r) = cached {
            match append_known(app.as_mut(), r, series.samples) {
                Ok(()) => continue,
                // The storage forgot the series (its first sample failed): decode it as a miss and learn anew.
                Err(AppendError::UnknownRef(_)) => {}
                Err(_) => {
                    // A refusal: the full decoder's path answers it, with the series named, from a fresh batch.
                    app.rollback();
                    return Ok(None);
                }
            }
        }
        let labels = match raw::decode_labels(&series, limits, &mut interner, &mut pairs) {
            Ok(labels) => labels,
            Err(DecodeLabelsError::NotSimple) => {
                app.rollback();
                return Ok(None);
            }
            Err(DecodeLabelsError::Invalid(e)) => {
                app.rollback();
                return Err(e.into());
            }
        };
        match append_series(app.as_mut(), &labels, series.samples) {
            Ok(Some(r)) => learned.push((key, r, series.label_bytes)),
            Ok(None) => {}
            Err(refusal) => {
                app.rollback();
                return Err(refusal.into());
            }
        }
    }
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
