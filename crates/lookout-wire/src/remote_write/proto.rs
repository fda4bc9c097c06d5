//! The remote_write protobuf messages, written by hand with `prost` derives (field numbers from
//! `prompb/types.proto`, `prompb/remote.proto` and `prompb/io/prometheus/write/v2/types.proto`).
//!
//! Strings are declared as `bytes` (same wire encoding) so that decoding from a [`bytes::Bytes`] buffer slices it
//! without copying; UTF-8 is checked when label sets are built. Native histograms and exemplars are decoded only
//! far enough to be counted: Lookout stores float samples, and prost skips the fields not declared here.

use bytes::Bytes;

/// `prometheus.WriteRequest` (remote_write 1.0).
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    /// The series with their samples.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
    /// Family metadata (sent by Prometheus outside the 1.0 spec).
    #[prost(message, repeated, tag = "3")]
    pub metadata: Vec<MetricMetadata>,
}

/// `prometheus.TimeSeries`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// The complete label set, `__name__` included.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Float samples in timestamp order.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    /// Exemplars (counted, not stored).
    #[prost(message, repeated, tag = "3")]
    pub exemplars: Vec<Exemplar>,
    /// Native histograms (counted, not stored).
    #[prost(message, repeated, tag = "4")]
    pub histograms: Vec<Histogram>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    /// The label name (UTF-8 checked later).
    #[prost(bytes = "bytes", tag = "1")]
    pub name: Bytes,
    /// The label value (UTF-8 checked later).
    #[prost(bytes = "bytes", tag = "2")]
    pub value: Bytes,
}

/// `prometheus.Sample`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Sample {
    /// The value. Declared `optional` (same wire format) so that `-0.0`, which equals proto3's default, is still
    /// written by the encoder; `None` on decode means 0.
    #[prost(double, optional, tag = "1")]
    pub value: Option<f64>,
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// `prometheus.Exemplar`, without its labels.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Exemplar {
    /// The exemplar value.
    #[prost(double, tag = "2")]
    pub value: f64,
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

/// `prometheus.Histogram`, only its timestamp (field 15 in both 1.0 and 2.0).
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Histogram {
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "15")]
    pub timestamp: i64,
}

/// `prometheus.MetricMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricMetadata {
    /// The `MetricType` enum value.
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    /// The family name.
    #[prost(bytes = "bytes", tag = "2")]
    pub metric_family_name: Bytes,
    /// Help text.
    #[prost(bytes = "bytes", tag = "4")]
    pub help: Bytes,
    /// Unit.
    #[prost(bytes = "bytes", tag = "5")]
    pub unit: Bytes,
}

/// `io.prometheus.write.v2.Request` (remote_write 2.0).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RequestV2 {
    /// The interned strings; index 0 must be the empty string.
    #[prost(bytes = "bytes", repeated, tag = "4")]
    pub symbols: Vec<Bytes>,
    /// The series, referring to `symbols` by index.
    #[prost(message, repeated, tag = "5")]
    pub timeseries: Vec<TimeSeriesV2>,
}

/// `io.prometheus.write.v2.TimeSeries`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeriesV2 {
    /// Pairs of (name, value) symbol indexes.
    #[prost(uint32, repeated, tag = "1")]
    pub labels_refs: Vec<u32>,
    /// Float samples.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<SampleV2>,
    /// Native histograms (counted, not stored).
    #[prost(message, repeated, tag = "3")]
    pub histograms: Vec<Histogram>,
    /// Exemplars (counted, not stored).
    #[prost(message, repeated, tag = "4")]
    pub exemplars: Vec<ExemplarV2>,
    /// The series' metadata.
    #[prost(message, optional, tag = "5")]
    pub metadata: Option<MetadataV2>,
}

/// `io.prometheus.write.v2.Sample`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct SampleV2 {
    /// The value (`optional` for the same reason as [`Sample::value`]).
    #[prost(double, optional, tag = "1")]
    pub value: Option<f64>,
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
    /// The series' start ("created") timestamp in milliseconds, 0 when unset.
    #[prost(int64, tag = "3")]
    pub start_timestamp: i64,
}

/// `io.prometheus.write.v2.Exemplar`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExemplarV2 {
    /// Pairs of (name, value) symbol indexes.
    #[prost(uint32, repeated, tag = "1")]
    pub labels_refs: Vec<u32>,
    /// The exemplar value.
    #[prost(double, tag = "2")]
    pub value: f64,
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

/// `io.prometheus.write.v2.Metadata`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct MetadataV2 {
    /// The `MetricType` enum value.
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    /// Symbol index of the help text.
    #[prost(uint32, tag = "3")]
    pub help_ref: u32,
    /// Symbol index of the unit.
    #[prost(uint32, tag = "4")]
    pub unit_ref: u32,
}
