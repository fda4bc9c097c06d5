//! Round-trip and robustness properties.

use super::*;
use lookout_model::{Labels, Sample};
use proptest::prelude::*;

/// Label names: legacy syntax, avoiding `__name__` and the `le`/`quantile` names the parser normalises.
fn label_name() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z0-9_]{0,12}".prop_filter("reserved", |n| {
        n != "__name__" && n != "le" && n != "quantile"
    })
}

fn any_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<u64>().prop_map(f64::from_bits),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        (-1_000_000i64..1_000_000).prop_map(|i| i as f64 / 100.0),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn write_then_parse_round_trips(
        name in "[a-zA-Z_:][a-zA-Z0-9_:]{0,20}",
        pairs in proptest::collection::btree_map(label_name(), "\\PC{1,12}|[\"\\\\\n\t\r]{1,4}", 0..6),
        values in proptest::collection::vec((any_value(), proptest::option::of(0i64..4_000_000_000_000)), 1..5),
    ) {
        let mut all: Vec<(String, String)> = pairs.into_iter().collect();
        all.push(("__name__".into(), name));
        let labels = Labels::from_pairs(&all).unwrap();
        let mut out = String::new();
        write_family_header(&mut out, labels.metric_name().unwrap(), MetricKind::Gauge, Some("help \\ with\nbreaks"));
        for (v, ts) in &values {
            write_sample_line(&mut out, &labels, *v, *ts);
        }
        let mut seen = Vec::new();
        let stats = parse(out.as_bytes(), Some(TEXT_CONTENT_TYPE), &ParseOptions::default(), &mut |s| {
            seen.push((s.to_labels().unwrap(), s.value.to_bits(), s.timestamp_ms));
        }).unwrap();
        prop_assert_eq!(&stats.metadata[0].help, "help \\ with\nbreaks");
        prop_assert_eq!(seen.len(), values.len());
        for ((got_labels, bits, ts), (v, want_ts)) in seen.iter().zip(&values) {
            prop_assert_eq!(got_labels, &labels);
            let want_bits = if v.is_nan() { NORMAL_NAN_BITS } else { v.to_bits() };
            prop_assert_eq!(*bits, want_bits, "value {:?} written as {}", v, out);
            prop_assert_eq!(ts, want_ts);
        }
    }

    #[test]
    fn write_text_round_trips_sample_batches(v in any_value(), t in -1i64..i64::MAX) {
        let labels = Labels::from_pairs(&[("__name__", "m"), ("a", "b")]).unwrap();
        let samples = [Sample::new(t.max(0), v)];
        let mut out = String::new();
        write_text(&mut out, "m", MetricKind::Counter, None, [(&labels, &samples[..])], true);
        let mut seen = None;
        parse(out.as_bytes(), None, &ParseOptions::default(), &mut |s| seen = Some((s.value.to_bits(), s.timestamp_ms))).unwrap();
        let want = if v.is_nan() { NORMAL_NAN_BITS } else { v.to_bits() };
        prop_assert_eq!(seen, Some((want, Some(t.max(0)))));
    }

    #[test]
    fn garbage_never_panics(body in proptest::collection::vec(any::<u8>(), 0..300), om_format: bool) {
        let format = if om_format { Format::OpenMetrics } else { Format::Text };
        let _ = parse_format(&body, format, &ParseOptions::default(), &mut |s| { let _ = s.to_labels(); });
    }

    #[test]
    fn mutated_expositions_never_panic(pos in 0usize..200, byte in prop::sample::select(b"{}\"\\=, #\n\r\t.1e+-x".to_vec()), om_format: bool, crlf: bool) {
        let mut body = b"# TYPE h histogram\nh_bucket{le=\"1\",a=\"x\\\"y\"} 1 1000 # {t=\"1\"} 1 2\n# UNIT h_x x\nh_sum 2\n# EOF\n".to_vec();
        let at = pos % body.len();
        body[at] = byte;
        let format = if om_format { Format::OpenMetrics } else { Format::Text };
        let opts = ParseOptions { allow_crlf: crlf, ..ParseOptions::default() };
        let _ = parse_format(&body, format, &opts, &mut |s| { let _ = s.to_labels(); let _ = s.labels().count(); });
    }
}
