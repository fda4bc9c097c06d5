//! Encoders for senders, benches and tests: protobuf, then snappy block format.
//!
//! Exemplar and histogram counts in [`WriteSeries`] are sent as that many empty placeholder messages: Lookout's
//! model has no exemplar or histogram payloads, but a receiver's counting can still be exercised.

use bytes::Bytes;
use prost::Message;
use rustc_hash::FxHashMap;

use super::WriteSeries;
use super::proto;
use crate::exposition::MetricMetadata;

/// Compresses raw bytes with the snappy block format remote_write uses.
pub fn snappy_compress(raw: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new()
        .compress_vec(raw)
        .expect("snappy compresses any input below 4 GiB")
}

fn samples_v1(series: &WriteSeries) -> Vec<proto::Sample> {
    series
        .samples
        .iter()
        .map(|s| proto::Sample {
            value: Some(s.v),
            timestamp: s.t,
        })
        .collect()
}

/// Encodes a remote_write 1.0 `WriteRequest`, snappy-compressed.
pub fn encode_write_request(series: &[WriteSeries], metadata: &[MetricMetadata]) -> Vec<u8> {
    let request = proto::WriteRequest {
        timeseries: series
            .iter()
            .map(|s| proto::TimeSeries {
                labels: s
                    .labels
                    .iter()
                    .map(|l| proto::Label {
                        name: Bytes::copy_from_slice(l.name.as_bytes()),
                        value: Bytes::copy_from_slice(l.value.as_bytes()),
                    })
                    .collect(),
                samples: samples_v1(s),
                exemplars: vec![proto::Exemplar::default(); s.exemplars],
                histograms: vec![proto::Histogram::default(); s.histograms],
            })
            .collect(),
        metadata: metadata
            .iter()
            .map(|m| proto::MetricMetadata {
                r#type: m.kind.remote_write_code(),
                metric_family_name: Bytes::copy_from_slice(m.family.as_bytes()),
                help: Bytes::copy_from_slice(m.help.as_bytes()),
                unit: Bytes::copy_from_slice(m.unit.as_bytes()),
            })
            .collect(),
    };
    snappy_compress(&request.encode_to_vec())
}

/// Interns strings into a 2.0 symbol table whose entry 0 is `""`.
struct SymbolTable<'a> {
    symbols: Vec<&'a str>,
    index: FxHashMap<&'a str, u32>,
}

impl<'a> SymbolTable<'a> {
    fn new() -> Self {
        let mut index = FxHashMap::default();
        index.insert("", 0);
        SymbolTable {
            symbols: vec![""],
            index,
        }
    }

    fn intern(&mut self, s: &'a str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = u32::try_from(self.symbols.len()).expect("fewer than 2^32 symbols");
        self.symbols.push(s);
        self.index.insert(s, i);
        i
    }
}

/// Encodes a remote_write 2.0 `Request`, snappy-compressed. A series gets the metadata entry whose family equals
/// its metric name, if any.
pub fn encode_write_request_v2(series: &[WriteSeries], metadata: &[MetricMetadata]) -> Vec<u8> {
    let mut table = SymbolTable::new();
    let by_family: FxHashMap<&str, &MetricMetadata> =
        metadata.iter().map(|m| (m.family.as_str(), m)).collect();
    let timeseries = series
        .iter()
        .map(|s| {
            let labels_refs = s
                .labels
                .iter()
                .flat_map(|l| [table.intern(&l.name), table.intern(&l.value)])
                .collect();
            let metadata = s
                .labels
                .metric_name()
                .and_then(|n| by_family.get(n))
                .map(|m| proto::MetadataV2 {
                    r#type: m.kind.remote_write_code(),
                    help_ref: table.intern(&m.help),
                    unit_ref: table.intern(&m.unit),
                });
            proto::TimeSeriesV2 {
                labels_refs,
                samples: s
                    .samples
                    .iter()
                    .map(|x| proto::SampleV2 {
                        value: Some(x.v),
                        timestamp: x.t,
                        start_timestamp: 0,
                    })
                    .collect(),
                histograms: vec![proto::Histogram::default(); s.histograms],
                exemplars: vec![proto::ExemplarV2::default(); s.exemplars],
                metadata,
            }
        })
        .collect();
    let request = proto::RequestV2 {
        symbols: table
            .symbols
            .iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect(),
        timeseries,
    };
    snappy_compress(&request.encode_to_vec())
}
