//! `/api/v1/import/prometheus` bodies (text lines with optional millisecond timestamps, as VictoriaMetrics takes
//! them) appended as one batch. Import files hold many lines per series, so each distinct series text of a request
//! is parsed into labels once and then appended by the batch's reference: one label build and one storage lookup
//! per series, not per line.

use lookout_model::Labels;
use lookout_storage::{SeriesRef, Storage, StorageError};
use lookout_wire::{ParseOptions, parse_import};
use rustc_hash::FxHashMap;

use super::Refusal;
use crate::scrape::append::append_sample;

/// Why an import stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A line's labels are invalid.
    #[error("{0}")]
    Labels(String),
    /// The body does not parse.
    #[error("{0}")]
    Parse(String),
    /// The storage refused a sample; the batch was rolled back.
    #[error(transparent)]
    Append(#[from] Refusal),
    /// The storage failed to commit.
    #[error("storage commit failed: {0}")]
    Storage(#[from] StorageError),
}

/// Parses a decoded import body and appends every sample (lines without a timestamp at `now_ms`) as one batch;
/// answers the samples stored. The first bad line or refused sample rolls the whole batch back.
pub fn ingest_import(
    storage: &dyn Storage,
    body: &[u8],
    content_type: Option<&str>,
    now_ms: i64,
) -> Result<usize, ImportError> {
    let mut app = storage.appender();
    // The request's series by their text: labels built once, the batch's reference kept.
    let mut known: FxHashMap<Box<[u8]>, (Labels, Option<SeriesRef>)> = FxHashMap::default();
    let mut refused: Option<ImportError> = None;
    let parsed = parse_import(body, content_type, &ParseOptions::default(), &mut |s| {
        if refused.is_some() {
            return;
        }
        let entry = match known.get_mut(s.series_text) {
            Some(e) => e,
            None => match s.to_labels() {
                Ok(labels) => known.entry(s.series_text.into()).or_insert((labels, None)),
                Err(e) => {
                    refused = Some(ImportError::Labels(e.to_string()));
                    return;
                }
            },
        };
        let t = s.timestamp_ms.unwrap_or(now_ms);
        if let Err(source) = append_sample(app.as_mut(), &entry.0, &mut entry.1, t, s.value) {
            refused = Some(
                Refusal {
                    labels: entry.0.clone(),
                    t,
                    source,
                }
                .into(),
            );
        }
    });
    if let Err(e) = parsed {
        app.rollback();
        return Err(ImportError::Parse(e.to_string()));
    }
    if let Some(e) = refused {
        app.rollback();
        return Err(e);
    }
    Ok(app.commit()?.samples)
}
