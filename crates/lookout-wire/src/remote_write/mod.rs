//! remote_write 1.0 (`prometheus.WriteRequest`) and 2.0 (`io.prometheus.write.v2.Request`): content-type
//! negotiation, capped snappy + protobuf decoding into validated label sets, and encoders for senders.

mod decode;
mod encode;
mod error;
pub mod proto;
pub mod raw;

pub use decode::{
    LabelInterner, decode_decompressed, decode_write_request, decompress, decompress_into,
};
pub use encode::{encode_write_request, encode_write_request_v2, snappy_compress};
pub use error::{ErrorClass, WireError};

use lookout_model::{Labels, Sample};

use crate::exposition::MetricMetadata;

/// `Content-Type` of a 1.0 request as Prometheus sends it.
pub const CONTENT_TYPE_V1: &str = "application/x-protobuf;proto=prometheus.WriteRequest";
/// `Content-Type` of a 2.0 request.
pub const CONTENT_TYPE_V2: &str = "application/x-protobuf;proto=io.prometheus.write.v2.Request";
/// The bare media type; without a `proto=` parameter it means 1.0.
pub const CONTENT_TYPE_PROTOBUF: &str = "application/x-protobuf";
/// The only `Content-Encoding` remote_write uses (snappy block format).
pub const CONTENT_ENCODING_SNAPPY: &str = "snappy";
/// Header carrying the protocol version a sender speaks (informational; the `Content-Type` decides).
pub const VERSION_HEADER: &str = "X-Prometheus-Remote-Write-Version";
/// [`VERSION_HEADER`] value for 1.0.
pub const VERSION_V1: &str = "0.1.0";
/// [`VERSION_HEADER`] value for 2.0.
pub const VERSION_V2: &str = "2.0.0";
/// 2.0 response header: samples stored.
pub const SAMPLES_WRITTEN_HEADER: &str = "X-Prometheus-Remote-Write-Samples-Written";
/// 2.0 response header: native histograms stored.
pub const HISTOGRAMS_WRITTEN_HEADER: &str = "X-Prometheus-Remote-Write-Histograms-Written";
/// 2.0 response header: exemplars stored.
pub const EXEMPLARS_WRITTEN_HEADER: &str = "X-Prometheus-Remote-Write-Exemplars-Written";

/// Which protobuf message a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RemoteWriteVersion {
    /// `prometheus.WriteRequest`.
    V1,
    /// `io.prometheus.write.v2.Request`.
    V2,
}

/// The message version named by a request's `Content-Type`: missing or bare `application/x-protobuf` means
/// 1.0; another media type or an unknown `proto=` is [`WireError::UnsupportedContentType`] (HTTP 415).
pub fn remote_write_version(content_type: Option<&str>) -> Result<RemoteWriteVersion, WireError> {
    let Some(ct) = content_type.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(RemoteWriteVersion::V1);
    };
    let unsupported = || WireError::UnsupportedContentType {
        content_type: ct.to_owned(),
    };
    let mut parts = ct.split(';');
    let media = parts.next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case(CONTENT_TYPE_PROTOBUF) {
        return Err(unsupported());
    }
    for param in parts {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        if !key.trim().eq_ignore_ascii_case("proto") {
            continue;
        }
        return match value.trim().trim_matches('"') {
            "prometheus.WriteRequest" => Ok(RemoteWriteVersion::V1),
            "io.prometheus.write.v2.Request" => Ok(RemoteWriteVersion::V2),
            _ => Err(unsupported()),
        };
    }
    Ok(RemoteWriteVersion::V1)
}

/// Checks a request's `Content-Encoding`: missing (tolerated, as Prometheus does) or `snappy`; anything else
/// is [`WireError::UnsupportedEncoding`] (HTTP 415).
pub fn check_content_encoding(content_encoding: Option<&str>) -> Result<(), WireError> {
    match content_encoding.map(str::trim) {
        None | Some("") => Ok(()),
        Some(e) if e.eq_ignore_ascii_case(CONTENT_ENCODING_SNAPPY) => Ok(()),
        Some(e) => Err(WireError::UnsupportedEncoding {
            encoding: e.to_owned(),
        }),
    }
}

/// Caps on everything a client controls; each violation is its own [`WireError`] naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireLimits {
    /// Largest decompressed request, checked against snappy's length header before allocating.
    pub max_decompressed_bytes: usize,
    /// Most series in one request.
    pub max_series_per_request: usize,
    /// Most labels in one series, `__name__` included.
    pub max_labels_per_series: usize,
    /// Longest label name in bytes.
    pub max_label_name_len: usize,
    /// Longest label value in bytes.
    pub max_label_value_len: usize,
}

impl Default for WireLimits {
    fn default() -> Self {
        WireLimits {
            max_decompressed_bytes: 32 << 20,
            max_series_per_request: 100_000,
            max_labels_per_series: 128,
            max_label_name_len: 1024,
            max_label_value_len: 16 * 1024,
        }
    }
}

/// What to do with a series whose labels are invalid (bad or duplicate names, bad UTF-8, empty set,
/// no `__name__`, bad symbol references). Limit violations always fail the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InvalidSeriesPolicy {
    /// Fail the whole request with [`WireError::InvalidSeries`] (the API answers 400 naming it).
    #[default]
    Reject,
    /// Drop the series and count it in [`WriteBatch::skipped_series`] (Prometheus's receiver behaviour).
    Skip,
}

/// One decoded series.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteSeries {
    /// The validated label set.
    pub labels: Labels,
    /// Float samples as sent (stale markers keep their bit pattern).
    pub samples: Vec<Sample>,
    /// Exemplars the sender attached (not stored by Lookout).
    pub exemplars: usize,
    /// Native histogram samples the sender attached (not stored by Lookout).
    pub histograms: usize,
}

/// A decoded request.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteBatch {
    /// Which message it was.
    pub version: RemoteWriteVersion,
    /// The valid series in request order.
    pub series: Vec<WriteSeries>,
    /// Family metadata (1.0: the request's list; 2.0: gathered from the series, one per metric name).
    pub metadata: Vec<MetricMetadata>,
    /// Series dropped under [`InvalidSeriesPolicy::Skip`].
    pub skipped_series: usize,
    /// The first few reasons for skipped series, for logs and partial-write answers.
    pub skipped_examples: Vec<WireError>,
}

impl WriteBatch {
    /// Float samples across all series.
    pub fn sample_count(&self) -> usize {
        self.series.iter().map(|s| s.samples.len()).sum()
    }

    /// Exemplars across all series.
    pub fn exemplar_count(&self) -> usize {
        self.series.iter().map(|s| s.exemplars).sum()
    }

    /// Native histogram samples across all series.
    pub fn histogram_count(&self) -> usize {
        self.series.iter().map(|s| s.histograms).sum()
    }
}

#[cfg(test)]
mod tests;
