//! remote_write: negotiation, round trips for both versions, every limit, invalid series, garbage input.

use super::*;
use crate::exposition::MetricKind;
use bytes::Bytes;
use lookout_model::{STALE_NAN_BITS, stale_nan};
use proptest::prelude::*;
use prost::Message;

pub(super) fn series(pairs: &[(&str, &str)], samples: &[(i64, f64)]) -> WriteSeries {
    WriteSeries {
        labels: Labels::from_pairs(pairs).unwrap(),
        samples: samples.iter().map(|&(t, v)| Sample::new(t, v)).collect(),
        exemplars: 0,
        histograms: 0,
    }
}

fn decode(body: &[u8], version: RemoteWriteVersion) -> Result<WriteBatch, WireError> {
    decode_write_request(
        body,
        version,
        &WireLimits::default(),
        InvalidSeriesPolicy::Reject,
    )
}

/// A 1.0 request built from raw label pairs, bypassing `Labels` validation (what a broken sender sends).
fn raw_v1(series: &[&[(&str, &str)]]) -> Vec<u8> {
    let request = proto::WriteRequest {
        timeseries: series
            .iter()
            .map(|labels| proto::TimeSeries {
                labels: labels
                    .iter()
                    .map(|(n, v)| proto::Label {
                        name: Bytes::copy_from_slice(n.as_bytes()),
                        value: Bytes::copy_from_slice(v.as_bytes()),
                    })
                    .collect(),
                samples: vec![proto::Sample {
                    value: Some(1.0),
                    timestamp: 1000,
                }],
                exemplars: vec![],
                histograms: vec![],
            })
            .collect(),
        metadata: vec![],
    };
    snappy_compress(&request.encode_to_vec())
}

#[test]
fn content_type_negotiation() {
    use RemoteWriteVersion::*;
    assert_eq!(remote_write_version(None), Ok(V1));
    assert_eq!(remote_write_version(Some("")), Ok(V1));
    assert_eq!(remote_write_version(Some(CONTENT_TYPE_PROTOBUF)), Ok(V1));
    assert_eq!(remote_write_version(Some(CONTENT_TYPE_V1)), Ok(V1));
    assert_eq!(remote_write_version(Some(CONTENT_TYPE_V2)), Ok(V2));
    assert_eq!(
        remote_write_version(Some(
            "Application/X-Protobuf; proto=\"io.prometheus.write.v2.Request\""
        )),
        Ok(V2)
    );
    assert_eq!(
        remote_write_version(Some("application/x-protobuf; charset=utf-8")),
        Ok(V1)
    );
    for bad in [
        "application/json",
        "application/x-protobuf;proto=foo.Bar",
        "text/plain",
    ] {
        let e = remote_write_version(Some(bad)).unwrap_err();
        assert_eq!(e.class(), ErrorClass::Unsupported, "{bad}");
    }
    assert_eq!(check_content_encoding(None), Ok(()));
    assert_eq!(check_content_encoding(Some("snappy")), Ok(()));
    assert_eq!(
        check_content_encoding(Some("gzip")).unwrap_err().class(),
        ErrorClass::Unsupported
    );
}

#[test]
fn v1_round_trip_keeps_values_bit_exact() {
    let input = vec![
        series(
            &[("__name__", "up"), ("job", "node"), ("instance", "a:9100")],
            &[
                (1000, 1.0),
                (2000, stale_nan()),
                (3000, f64::NAN),
                (4000, -0.0),
                (5000, f64::INFINITY),
            ],
        ),
        WriteSeries {
            exemplars: 2,
            histograms: 3,
            ..series(&[("__name__", "rpc_seconds")], &[(1000, 0.25)])
        },
    ];
    let metadata = vec![MetricMetadata {
        family: "up".into(),
        kind: MetricKind::Gauge,
        help: "Is it up".into(),
        unit: String::new(),
    }];
    let batch = decode(
        &encode_write_request(&input, &metadata),
        RemoteWriteVersion::V1,
    )
    .unwrap();
    assert_eq!(batch.version, RemoteWriteVersion::V1);
    assert_eq!(batch.metadata, metadata);
    assert_eq!(batch.series.len(), 2);
    for (got, want) in batch.series.iter().zip(&input) {
        assert_eq!(got.labels, want.labels);
        assert_eq!(got.exemplars, want.exemplars);
        assert_eq!(got.histograms, want.histograms);
        assert!(
            got.samples
                .iter()
                .zip(&want.samples)
                .all(|(a, b)| a.bits_eq(b))
        );
    }
    assert_eq!(batch.series[0].samples[1].v.to_bits(), STALE_NAN_BITS);
    assert_eq!(batch.sample_count(), 6);
    assert_eq!(batch.exemplar_count(), 2);
    assert_eq!(batch.histogram_count(), 3);
}

#[test]
fn v2_round_trip_with_symbols_and_metadata() {
    let input = vec![
        series(
            &[
                ("__name__", "http_requests_total"),
                ("code", "200"),
                ("job", "api"),
            ],
            &[(1000, 5.0), (2000, 7.0)],
        ),
        series(
            &[
                ("__name__", "http_requests_total"),
                ("code", "500"),
                ("job", "api"),
            ],
            &[(1000, 1.0)],
        ),
        series(
            &[("__name__", "temperature"), ("job", "api")],
            &[(1000, stale_nan())],
        ),
    ];
    let metadata = vec![MetricMetadata {
        family: "http_requests_total".into(),
        kind: MetricKind::Counter,
        help: "Requests".into(),
        unit: "requests".into(),
    }];
    let body = encode_write_request_v2(&input, &metadata);
    let batch = decode(&body, RemoteWriteVersion::V2).unwrap();
    assert_eq!(batch.version, RemoteWriteVersion::V2);
    assert_eq!(batch.metadata, metadata);
    assert_eq!(batch.series.len(), 3);
    for (got, want) in batch.series.iter().zip(&input) {
        assert_eq!(got.labels, want.labels);
        assert!(
            got.samples
                .iter()
                .zip(&want.samples)
                .all(|(a, b)| a.bits_eq(b))
        );
    }
    // Symbols are interned: "api", "job", "__name__" appear once.
    let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
    let request = proto::RequestV2::decode(&raw[..]).unwrap();
    assert_eq!(request.symbols[0], "");
    assert_eq!(
        request.symbols.iter().filter(|s| &s[..] == b"api").count(),
        1
    );
    // A 1.0 decoder sees a 2.0 body as an empty request (fields 1-3 are reserved in 2.0).
    assert!(
        decode(&body, RemoteWriteVersion::V1)
            .unwrap()
            .series
            .is_empty()
    );
}

#[test]
fn invalid_series_are_named() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[], "invalid series 0 {}: empty label set"),
        (
            &[("job", "x")],
            "invalid series 0 {job=\"x\"}: missing metric name (__name__)",
        ),
        (
            &[("__name__", "a"), ("__name__", "b")],
            "duplicate label name \"__name__\"",
        ),
        (
            &[("__name__", "a"), ("1bad", "b")],
            "invalid label name \"1bad\"",
        ),
        (&[("__name__", "a-b")], "invalid metric name \"a-b\""),
        (&[("__name__", "a"), ("", "b")], "invalid label name \"\""),
    ];
    for (labels, want) in cases {
        let err = decode(&raw_v1(&[*labels]), RemoteWriteVersion::V1).unwrap_err();
        assert_eq!(err.class(), ErrorClass::Invalid);
        assert!(
            err.to_string().contains(want),
            "{err} should contain {want}"
        );
    }
    // Unsorted but otherwise valid labels are accepted and sorted.
    let batch = decode(
        &raw_v1(&[&[("zone", "a"), ("__name__", "m")]]),
        RemoteWriteVersion::V1,
    )
    .unwrap();
    assert_eq!(batch.series[0].labels.to_string(), "m{zone=\"a\"}");
}

#[test]
fn skip_policy_keeps_the_valid_series() {
    let body = raw_v1(&[
        &[("__name__", "ok")],
        &[("bad name", "x")],
        &[("__name__", "ok2")],
        &[],
    ]);
    let batch = decode_write_request(
        &body,
        RemoteWriteVersion::V1,
        &WireLimits::default(),
        InvalidSeriesPolicy::Skip,
    )
    .unwrap();
    assert_eq!(batch.series.len(), 2);
    assert_eq!(batch.skipped_series, 2);
    assert!(
        batch.skipped_examples[0]
            .to_string()
            .starts_with("invalid series 1 ")
    );
    assert!(
        batch.skipped_examples[1]
            .to_string()
            .starts_with("invalid series 3 ")
    );
}

#[test]
fn each_limit_has_its_own_error() {
    let tight = WireLimits {
        max_decompressed_bytes: 10_000,
        max_series_per_request: 2,
        max_labels_per_series: 3,
        max_label_name_len: 8,
        max_label_value_len: 16,
    };
    let run = |body: &[u8]| {
        decode_write_request(
            body,
            RemoteWriteVersion::V1,
            &tight,
            InvalidSeriesPolicy::Skip,
        )
        .unwrap_err()
    };

    let many = raw_v1(&[
        &[("__name__", "a")],
        &[("__name__", "b")],
        &[("__name__", "c")],
    ]);
    let e = run(&many);
    assert_eq!(e, WireError::TooManySeries { limit: 2, count: 3 });
    assert_eq!(e.class(), ErrorClass::TooLarge);
    assert!(e.to_string().contains("max_series_per_request = 2"));
    assert_eq!(e.limit_name(), Some("max_series_per_request"));

    let e = run(&raw_v1(&[&[
        ("__name__", "a"),
        ("b", "1"),
        ("c", "1"),
        ("d", "1"),
    ]]));
    assert!(
        matches!(
            e,
            WireError::TooManyLabels {
                series: 0,
                limit: 3,
                count: 4,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("max_labels_per_series = 3"));

    let e = run(&raw_v1(&[&[("__name__", "a"), ("very_long_name", "1")]]));
    assert!(
        matches!(
            e,
            WireError::LabelNameTooLong {
                limit: 8,
                len: 14,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("max_label_name_len = 8"));

    let e = run(&raw_v1(&[&[("__name__", "a"), ("b", "0123456789abcdefg")]]));
    assert!(
        matches!(
            e,
            WireError::LabelValueTooLong {
                limit: 16,
                len: 17,
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("value of label \"b\" has 17 bytes, over max_label_value_len = 16")
    );

    let big = snappy_compress(&vec![0u8; 20_000]);
    let e = run(&big);
    assert_eq!(
        e,
        WireError::BodyTooLarge {
            limit: 10_000,
            size: 20_000
        }
    );
    assert_eq!(e.limit_name(), Some("max_decompressed_bytes"));
    assert_eq!(e.class(), ErrorClass::TooLarge);
}

#[test]
fn v2_reference_errors() {
    let encode = |symbols: Vec<&str>, refs: Vec<u32>| {
        let request = proto::RequestV2 {
            symbols: symbols
                .into_iter()
                .map(|s| Bytes::copy_from_slice(s.as_bytes()))
                .collect(),
            timeseries: vec![proto::TimeSeriesV2 {
                labels_refs: refs,
                ..Default::default()
            }],
        };
        snappy_compress(&request.encode_to_vec())
    };
    let e = decode(
        &encode(vec!["", "__name__", "a"], vec![1, 2, 1]),
        RemoteWriteVersion::V2,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("odd number of label references"),
        "{e}"
    );
    let e = decode(
        &encode(vec!["", "__name__", "a"], vec![1, 7]),
        RemoteWriteVersion::V2,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("outside the symbol table of 3 entries"),
        "{e}"
    );
    let e = decode(
        &encode(vec!["x", "__name__", "a"], vec![1, 2]),
        RemoteWriteVersion::V2,
    )
    .unwrap_err();
    assert!(matches!(e, WireError::BadProtobuf { .. }), "{e}");
    assert!(
        decode(
            &encode(vec!["", "__name__", "a"], vec![1, 2]),
            RemoteWriteVersion::V2
        )
        .is_ok()
    );
}

#[test]
fn garbage_is_classified() {
    assert!(matches!(
        decode(b"\x05not snappy", RemoteWriteVersion::V1),
        Err(WireError::BadSnappy { .. })
    ));
    let not_proto = snappy_compress(b"\xff\xff\xff\xff");
    assert!(matches!(
        decode(&not_proto, RemoteWriteVersion::V1),
        Err(WireError::BadProtobuf { .. })
    ));
    assert!(matches!(
        decode(&not_proto, RemoteWriteVersion::V2),
        Err(WireError::BadProtobuf { .. })
    ));
    let bad_utf8 = {
        let request = proto::WriteRequest {
            timeseries: vec![proto::TimeSeries {
                labels: vec![proto::Label {
                    name: Bytes::from_static(b"__name__"),
                    value: Bytes::from_static(b"\xff"),
                }],
                ..Default::default()
            }],
            metadata: vec![],
        };
        snappy_compress(&request.encode_to_vec())
    };
    let e = decode(&bad_utf8, RemoteWriteVersion::V1).unwrap_err();
    assert!(
        e.to_string()
            .contains("value of label \"__name__\" is not valid utf-8"),
        "{e}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn encode_decode_round_trips(
        sets in proptest::collection::vec(
            (proptest::collection::btree_map("[a-z_][a-z0-9_]{0,8}", "\\PC{1,10}", 0..5),
             proptest::collection::vec((any::<i64>(), any::<u64>()), 0..4)),
            0..20),
        v2: bool,
    ) {
        let input: Vec<WriteSeries> = sets.into_iter().enumerate().map(|(i, (pairs, samples))| {
            let mut pairs: Vec<(String, String)> = pairs.into_iter().filter(|(n, _)| n != "__name__").collect();
            pairs.push(("__name__".into(), format!("metric_{i}")));
            WriteSeries {
                labels: Labels::from_pairs(&pairs).unwrap(),
                samples: samples.into_iter().map(|(t, bits)| Sample::new(t, f64::from_bits(bits))).collect(),
                exemplars: 0,
                histograms: 0,
            }
        }).collect();
        let (body, version) = if v2 {
            (encode_write_request_v2(&input, &[]), RemoteWriteVersion::V2)
        } else {
            (encode_write_request(&input, &[]), RemoteWriteVersion::V1)
        };
        let batch = decode(&body, version).unwrap();
        prop_assert_eq!(batch.series.len(), input.len());
        for (got, want) in batch.series.iter().zip(&input) {
            prop_assert_eq!(&got.labels, &want.labels);
            prop_assert_eq!(got.samples.len(), want.samples.len());
            prop_assert!(got.samples.iter().zip(&want.samples).all(|(a, b)| a.bits_eq(b)));
        }
    }

    #[test]
    fn garbage_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..400), compress: bool, v2: bool) {
        let body = if compress { snappy_compress(&raw) } else { raw };
        let version = if v2 { RemoteWriteVersion::V2 } else { RemoteWriteVersion::V1 };
        let _ = decode_write_request(&body, version, &WireLimits::default(), InvalidSeriesPolicy::Skip);
    }

    #[test]
    fn snappy_header_lies_are_caught(len in 0u64..u64::MAX, tail in proptest::collection::vec(any::<u8>(), 0..50)) {
        // A varint length header claiming up to 2^64 bytes must be refused before allocating.
        let mut body = Vec::new();
        let mut n = len;
        while n >= 0x80 { body.push((n as u8) | 0x80); n >>= 7; }
        body.push(n as u8);
        body.extend(tail);
        let limits = WireLimits { max_decompressed_bytes: 1 << 20, ..WireLimits::default() };
        let _ = decode_write_request(&body, RemoteWriteVersion::V1, &limits, InvalidSeriesPolicy::Reject);
    }
}
