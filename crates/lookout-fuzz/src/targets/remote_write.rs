//! remote_write 1.0 and 2.0 (`lookout_wire::remote_write::decode_write_request`) with the limits the API uses.
//! Each input is a raw protobuf message: it is decoded once snappy-compressed (so the mutations reach the
//! protobuf and label validation) and once as it is (so they reach the snappy decoder and its length check).

use lookout_wire::remote_write::{
    InvalidSeriesPolicy, RemoteWriteVersion, WireLimits, decode_write_request, snappy_compress,
};

use crate::mutate::Grammar;
use crate::target::{MIB, Outcome, Target};

/// Most bytes one snappy byte can expand to (`lookout_wire::body::decode_snappy` refuses a header declaring more).
pub const SNAPPY_MAX_EXPANSION: usize = 22;

/// The allocation bound of a snappy + protobuf body of `len` bytes: the decoded body (at most 22 x `len`) and 64
/// bytes of decoded structures per decoded byte, plus 1 MiB.
pub fn snappy_protobuf_bound(len: usize) -> usize {
    let decoded = SNAPPY_MAX_EXPANSION * len;
    decoded + 64 * decoded + MIB
}

/// The API's limits (`limits.max_write_decoded`, default 128 MiB, and the wire defaults).
fn limits() -> WireLimits {
    WireLimits {
        max_decompressed_bytes: lookout_api::ApiLimits::default().max_write_decoded_bytes,
        ..WireLimits::default()
    }
}

/// Tags of `WriteRequest`/`Request` fields (field number << 3 | wire type) and short encoded fields.
const PROTO_DICTIONARY: &[&[u8]] = &[
    b"\x0a",
    b"\x12",
    b"\x1a",
    b"\x22",
    b"\x2a",
    b"\x32",
    b"\x08",
    b"\x10",
    b"\x18",
    b"\x09",
    b"\x11",
    b"\x0a\x00",
    b"\x12\x00",
    b"\x0a\x08__name__",
    b"\x12\x02up",
    b"\x0a\x03job",
    b"\x09\x00\x00\x00\x00\x00\x00\xf8\x7f",
    b"\x09\x02\x00\x00\x00\x00\x00\xf0\x7f",
    b"\x10\x80\xe0\xd2\xaa\xb5\x31",
    b"\x10\xff\xff\xff\xff\xff\xff\xff\xff\x7f",
    b"\x10\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01",
    b"\x0a\x00\x0a\x00\x0a\x00",
    b"\x00\x00\x00\x00",
    b"\xff\xff\xff\xff",
    b"\x80\x01",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b"=",
    b"__",
];

/// remote_write 1.0.
pub const TARGET_V1: Target = Target {
    name: "remote_write_v1",
    entry: "lookout_wire::remote_write::decode_write_request(V1, the API's WireLimits, Reject and Skip), checked \
            against the ingest path's borrowing reader (raw::RawReader)",
    grammar: Grammar {
        dictionary: PROTO_DICTIONARY,
        nesting: &[(b"\x0a\x7f", b"")],
        max_len: 16 << 10,
    },
    run: run_v1,
    alloc_bound: snappy_protobuf_bound,
    alloc_rule: "65 x the decoded size (at most 22 x body: snappy's densest encoding) + 1 MiB; \
                 limits.max_write_decoded (128 MiB) caps the decoded size",
};

/// remote_write 2.0.
pub const TARGET_V2: Target = Target {
    name: "remote_write_v2",
    entry: "lookout_wire::remote_write::decode_write_request(V2, the API's WireLimits, Reject and Skip)",
    run: run_v2,
    ..TARGET_V1
};

fn run_v1(input: &[u8]) -> Outcome {
    run(input, RemoteWriteVersion::V1)
}

fn run_v2(input: &[u8]) -> Outcome {
    run(input, RemoteWriteVersion::V2)
}

fn run(input: &[u8], version: RemoteWriteVersion) -> Outcome {
    let limits = limits();
    let body = snappy_compress(input);
    let decoded = decode_write_request(&body, version, &limits, InvalidSeriesPolicy::Reject);
    if version == RemoteWriteVersion::V1 {
        check_borrowing_reader(input, &limits, &decoded);
    }
    let outcome = Outcome::of(&decoded);
    drop(decoded);
    let skipping = decode_write_request(&body, version, &limits, InvalidSeriesPolicy::Skip);
    drop(skipping);
    let raw = decode_write_request(input, version, &limits, InvalidSeriesPolicy::Reject);
    drop(raw);
    outcome
}

/// The ingest fast path's reader (`lookout_wire::remote_write::raw`) on the same message: wherever it reads every
/// series without handing the request back, prost's decoder must have accepted the same label sets and samples.
/// A disagreement panics, which the harness reports as a finding.
fn check_borrowing_reader(
    input: &[u8],
    limits: &WireLimits,
    decoded: &Result<lookout_wire::remote_write::WriteBatch, lookout_wire::remote_write::WireError>,
) {
    use lookout_wire::remote_write::LabelInterner;
    use lookout_wire::remote_write::raw::{DecodeLabelsError, RawReader, labels_match};
    let mut reader = RawReader::new(input);
    let mut interner = LabelInterner::default();
    let mut pairs = Vec::new();
    let mut fast = Vec::new();
    loop {
        let series = match reader.next_series() {
            Ok(Some(s)) => s,
            Ok(None) => break,
            Err(_) => return,
        };
        match lookout_wire::remote_write::raw::decode_labels(
            &series,
            limits,
            &mut interner,
            &mut pairs,
        ) {
            Ok(labels) => {
                // The cache's check on every spelling the mutations reach (it must not panic).
                std::hint::black_box(labels_match(series.label_bytes, &labels));
                let samples: Vec<(i64, u64)> = series
                    .samples
                    .iter()
                    .map(|s| (s.t, s.v.to_bits()))
                    .collect();
                fast.push((labels, samples));
            }
            Err(DecodeLabelsError::NotSimple) => return,
            Err(DecodeLabelsError::Invalid(_)) => {
                assert!(
                    decoded.is_err(),
                    "the reader refused labels prost's decoder accepted"
                );
                return;
            }
        }
    }
    if fast.len() > limits.max_series_per_request {
        return;
    }
    let batch = decoded
        .as_ref()
        .unwrap_or_else(|e| panic!("the reader accepted a request prost's decoder refuses: {e}"));
    assert_eq!(batch.series.len(), fast.len(), "series count");
    for (s, (labels, samples)) in batch.series.iter().zip(&fast) {
        assert_eq!(&s.labels, labels, "label set");
        let slow: Vec<(i64, u64)> = s.samples.iter().map(|x| (x.t, x.v.to_bits())).collect();
        assert_eq!(&slow, samples, "samples of {labels}");
    }
}
