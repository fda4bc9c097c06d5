//! Decoding: snappy (length checked before allocating), protobuf (strings sliced, not copied), then one
//! validated [`Labels`] per series with every client-controlled size checked against [`WireLimits`].

use std::sync::Arc;

use bytes::Bytes;
use lookout_model::{Labels, LabelsBuilder, Sample};
use prost::Message;
use rustc_hash::{FxHashMap, FxHashSet};

use super::error::render_raw_labels;
use super::proto;
use super::{
    InvalidSeriesPolicy, RemoteWriteVersion, WireError, WireLimits, WriteBatch, WriteSeries,
};
use crate::body::{BodyError, decode_snappy_into};
use crate::exposition::{MetricKind, MetricMetadata};

/// How many skipped-series reasons a batch keeps.
const MAX_SKIPPED_EXAMPLES: usize = 8;

/// Decodes a snappy-compressed remote_write body of the given version into validated series.
pub fn decode_write_request(
    body: &[u8],
    version: RemoteWriteVersion,
    limits: &WireLimits,
    policy: InvalidSeriesPolicy,
) -> Result<WriteBatch, WireError> {
    decode_decompressed(decompress(body, limits)?.into(), version, limits, policy)
}

/// Decodes an already decompressed body (from [`decompress`]) of the given version into validated series.
pub fn decode_decompressed(
    raw: Bytes,
    version: RemoteWriteVersion,
    limits: &WireLimits,
    policy: InvalidSeriesPolicy,
) -> Result<WriteBatch, WireError> {
    match version {
        RemoteWriteVersion::V1 => decode_v1(raw, limits, policy),
        RemoteWriteVersion::V2 => decode_v2(raw, limits, policy),
    }
}

/// Snappy through the shared capped decoder, with its errors in remote_write terms.
pub fn decompress(body: &[u8], limits: &WireLimits) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::new();
    decompress_into(body, limits, &mut out)?;
    Ok(out)
}

/// [`decompress`] into a reused buffer (its contents replaced).
pub fn decompress_into(
    body: &[u8],
    limits: &WireLimits,
    out: &mut Vec<u8>,
) -> Result<(), WireError> {
    decode_snappy_into(body, limits.max_decompressed_bytes, out).map_err(|e| match e {
        BodyError::BodyTooLarge { limit } => WireError::BodyTooLarge {
            limit,
            size: snap::raw::decompress_len(body).unwrap_or(0),
        },
        BodyError::Corrupt { reason, .. } => WireError::BadSnappy { reason },
        other => WireError::BadSnappy {
            reason: other.to_string(),
        },
    })
}

/// Applies the [`InvalidSeriesPolicy`]: only `InvalidSeries` can be skipped; limits always fail.
struct Skipper {
    policy: InvalidSeriesPolicy,
    skipped: usize,
    examples: Vec<WireError>,
}

impl Skipper {
    fn handle(&mut self, e: WireError) -> Result<(), WireError> {
        match (&e, self.policy) {
            (WireError::InvalidSeries { .. }, InvalidSeriesPolicy::Skip) => {
                self.skipped += 1;
                if self.examples.len() < MAX_SKIPPED_EXAMPLES {
                    self.examples.push(e);
                }
                Ok(())
            }
            _ => Err(e),
        }
    }
}

fn check_series_count(count: usize, limits: &WireLimits) -> Result<(), WireError> {
    if count > limits.max_series_per_request {
        return Err(WireError::TooManySeries {
            limit: limits.max_series_per_request,
            count,
        });
    }
    Ok(())
}

fn invalid(series: usize, pairs: &[(&[u8], &[u8])], reason: impl Into<String>) -> WireError {
    WireError::InvalidSeries {
        series,
        labels: render_raw_labels(pairs.iter().copied()),
        reason: reason.into(),
    }
}

/// One `Arc<str>` per distinct label string within a request: names and common values repeat across series, so
/// this saves an allocation and a UTF-8 check per repeat.
#[derive(Default)]
pub struct LabelInterner<'a> {
    strings: FxHashMap<&'a [u8], Arc<str>>,
}

impl<'a> LabelInterner<'a> {
    /// The shared string for `bytes`, `None` when they are not UTF-8.
    fn get(&mut self, bytes: &'a [u8]) -> Option<Arc<str>> {
        if let Some(s) = self.strings.get(bytes) {
            return Some(Arc::clone(s));
        }
        let s: Arc<str> = Arc::from(std::str::from_utf8(bytes).ok()?);
        self.strings.insert(bytes, Arc::clone(&s));
        Some(s)
    }
}

/// Checks limits, UTF-8 and names, and builds the sorted label set of series `index`.
pub(super) fn build_labels<'a>(
    index: usize,
    pairs: &[(&'a [u8], &'a [u8])],
    limits: &WireLimits,
    interner: &mut LabelInterner<'a>,
) -> Result<Labels, WireError> {
    if pairs.len() > limits.max_labels_per_series {
        return Err(WireError::TooManyLabels {
            series: index,
            labels: render_raw_labels(pairs.iter().copied()),
            limit: limits.max_labels_per_series,
            count: pairs.len(),
        });
    }
    for &(name, value) in pairs {
        if name.len() > limits.max_label_name_len {
            return Err(WireError::LabelNameTooLong {
                series: index,
                labels: render_raw_labels(pairs.iter().copied()),
                limit: limits.max_label_name_len,
                len: name.len(),
            });
        }
        if value.len() > limits.max_label_value_len {
            return Err(WireError::LabelValueTooLong {
                series: index,
                labels: render_raw_labels(pairs.iter().copied()),
                name: String::from_utf8_lossy(name).into_owned(),
                limit: limits.max_label_value_len,
                len: value.len(),
            });
        }
    }
    if pairs.is_empty() {
        return Err(invalid(index, pairs, "empty label set"));
    }
    let mut builder = LabelsBuilder::with_capacity(pairs.len());
    for &(name, value) in pairs {
        let Some(name_text) = interner.get(name) else {
            return Err(invalid(index, pairs, "label name is not valid utf-8"));
        };
        let Some(value_text) = interner.get(value) else {
            return Err(invalid(
                index,
                pairs,
                format!("value of label {name_text:?} is not valid utf-8"),
            ));
        };
        builder.push(name_text, value_text);
    }
    let labels = builder
        .build()
        .map_err(|e| invalid(index, pairs, e.to_string()))?;
    if labels.metric_name().is_none() {
        return Err(invalid(index, pairs, "missing metric name (__name__)"));
    }
    Ok(labels)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn decode_v1(
    raw: Bytes,
    limits: &WireLimits,
    policy: InvalidSeriesPolicy,
) -> Result<WriteBatch, WireError> {
    let request = proto::WriteRequest::decode(raw).map_err(|e| WireError::BadProtobuf {
        reason: e.to_string(),
    })?;
    check_series_count(request.timeseries.len(), limits)?;
    let mut skipper = Skipper {
        policy,
        skipped: 0,
        examples: Vec::new(),
    };
    let mut series = Vec::with_capacity(request.timeseries.len());
    let mut pairs: Vec<(&[u8], &[u8])> = Vec::new();
    let mut interner = LabelInterner::default();
    for (index, ts) in request.timeseries.iter().enumerate() {
        pairs.clear();
        pairs.extend(ts.labels.iter().map(|l| (&l.name[..], &l.value[..])));
        match build_labels(index, &pairs, limits, &mut interner) {
            Ok(labels) => series.push(WriteSeries {
                labels,
                samples: ts
                    .samples
                    .iter()
                    .map(|s| Sample::new(s.timestamp, s.value.unwrap_or(0.0)))
                    .collect(),
                exemplars: ts.exemplars.len(),
                histograms: ts.histograms.len(),
            }),
            Err(e) => skipper.handle(e)?,
        }
    }
    let metadata = request
        .metadata
        .iter()
        .map(|m| MetricMetadata {
            family: text(&m.metric_family_name),
            kind: MetricKind::from_remote_write_code(m.r#type),
            help: text(&m.help),
            unit: text(&m.unit),
        })
        .collect();
    Ok(WriteBatch {
        version: RemoteWriteVersion::V1,
        series,
        metadata,
        skipped_series: skipper.skipped,
        skipped_examples: skipper.examples,
    })
}

fn decode_v2(
    raw: Bytes,
    limits: &WireLimits,
    policy: InvalidSeriesPolicy,
) -> Result<WriteBatch, WireError> {
    let request = proto::RequestV2::decode(raw).map_err(|e| WireError::BadProtobuf {
        reason: e.to_string(),
    })?;
    if request.symbols.first().is_some_and(|s| !s.is_empty()) {
        return Err(WireError::BadProtobuf {
            reason: "symbols[0] must be the empty string".to_owned(),
        });
    }
    check_series_count(request.timeseries.len(), limits)?;
    let symbols = &request.symbols;
    let mut skipper = Skipper {
        policy,
        skipped: 0,
        examples: Vec::new(),
    };
    let mut series = Vec::with_capacity(request.timeseries.len());
    let mut metadata = Vec::new();
    let mut families_seen = FxHashSet::default();
    let mut pairs: Vec<(&[u8], &[u8])> = Vec::new();
    let mut interner = LabelInterner::default();
    for (index, ts) in request.timeseries.iter().enumerate() {
        match resolve_refs(index, &ts.labels_refs, symbols, &mut pairs)
            .and_then(|()| build_labels(index, &pairs, limits, &mut interner))
        {
            Ok(labels) => {
                if let Some(m) = ts
                    .metadata
                    .filter(|m| m.r#type != 0 || m.help_ref != 0 || m.unit_ref != 0)
                {
                    let symbol = |r: u32| symbols.get(r as usize).map(|s| text(s));
                    let (Some(help), Some(unit)) = (symbol(m.help_ref), symbol(m.unit_ref)) else {
                        skipper.handle(invalid(
                            index,
                            &pairs,
                            "metadata refers outside the symbol table",
                        ))?;
                        continue;
                    };
                    let family = labels.metric_name().unwrap_or_default();
                    if families_seen.insert(family.to_owned()) {
                        metadata.push(MetricMetadata {
                            family: family.to_owned(),
                            kind: MetricKind::from_remote_write_code(m.r#type),
                            help,
                            unit,
                        });
                    }
                }
                series.push(WriteSeries {
                    labels,
                    samples: ts
                        .samples
                        .iter()
                        .map(|s| Sample::new(s.timestamp, s.value.unwrap_or(0.0)))
                        .collect(),
                    exemplars: ts.exemplars.len(),
                    histograms: ts.histograms.len(),
                });
            }
            Err(e) => skipper.handle(e)?,
        }
    }
    Ok(WriteBatch {
        version: RemoteWriteVersion::V2,
        series,
        metadata,
        skipped_series: skipper.skipped,
        skipped_examples: skipper.examples,
    })
}

/// Turns `labels_refs` into (name, value) byte pairs, checking pairing and bounds.
fn resolve_refs<'a>(
    index: usize,
    refs: &[u32],
    symbols: &'a [Bytes],
    pairs: &mut Vec<(&'a [u8], &'a [u8])>,
) -> Result<(), WireError> {
    pairs.clear();
    let shown = || format!("refs {:?}", &refs[..refs.len().min(16)]);
    if !refs.len().is_multiple_of(2) {
        return Err(WireError::InvalidSeries {
            series: index,
            labels: shown(),
            reason: "odd number of label references".to_owned(),
        });
    }
    for pair in refs.chunks_exact(2) {
        let (Some(name), Some(value)) =
            (symbols.get(pair[0] as usize), symbols.get(pair[1] as usize))
        else {
            return Err(WireError::InvalidSeries {
                series: index,
                labels: shown(),
                reason: format!(
                    "label reference outside the symbol table of {} entries",
                    symbols.len()
                ),
            });
        };
        pairs.push((&name[..], &value[..]));
    }
    Ok(())
}
