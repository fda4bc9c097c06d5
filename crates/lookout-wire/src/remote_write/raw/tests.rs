//! The borrowing reader agrees with prost's decoder on every request it does not hand back as [`NotSimple`].

use super::*;
use crate::remote_write::tests::series;
use crate::remote_write::{
    InvalidSeriesPolicy, RemoteWriteVersion, WriteSeries, decode_decompressed, decompress,
    encode_write_request,
};
use bytes::Bytes;
use proptest::prelude::*;

/// Why the fast path gave no answer for a request.
#[derive(Debug)]
enum Fast {
    NotSimple,
    Invalid(WireError),
}

/// A series through the fast path: its labels, samples, and whether its bytes match the labels of the same
/// series in [`request`] (what a cache holding those would answer).
type FastSeries = (Labels, Vec<Sample>, bool);

/// Every series through the fast path: labels decoded, samples copied.
fn fast(raw: &[u8]) -> Result<Vec<FastSeries>, Fast> {
    let original: Vec<Labels> = request().into_iter().map(|s| s.labels).collect();
    let limits = WireLimits::default();
    let mut reader = RawReader::new(raw);
    let mut interner = LabelInterner::default();
    let mut pairs = Vec::new();
    let mut out = Vec::new();
    while let Some(series) = reader.next_series().map_err(|_| Fast::NotSimple)? {
        let labels = match decode_labels(&series, &limits, &mut interner, &mut pairs) {
            Ok(l) => l,
            Err(DecodeLabelsError::NotSimple) => return Err(Fast::NotSimple),
            Err(DecodeLabelsError::Invalid(e)) => return Err(Fast::Invalid(e)),
        };
        let matched = original
            .get(series.index)
            .is_some_and(|o| labels_match(series.label_bytes, o));
        out.push((labels, series.samples.to_vec(), matched));
    }
    Ok(out)
}

fn slow(raw: &[u8]) -> Result<Vec<(Labels, Vec<Sample>)>, WireError> {
    let batch = decode_decompressed(
        Bytes::copy_from_slice(raw),
        RemoteWriteVersion::V1,
        &WireLimits::default(),
        InvalidSeriesPolicy::Reject,
    )?;
    Ok(batch
        .series
        .into_iter()
        .map(|s| (s.labels, s.samples))
        .collect())
}

fn plain(series: &[WriteSeries]) -> Vec<u8> {
    decompress(&encode_write_request(series, &[]), &WireLimits::default()).unwrap()
}

fn request() -> Vec<WriteSeries> {
    vec![
        series(
            &[("__name__", "up"), ("job", "node"), ("instance", "a:9100")],
            &[
                (1000, 1.0),
                (2000, -0.0),
                (3000, f64::from_bits(0x7ff0_0000_0000_0002)),
            ],
        ),
        series(&[("__name__", "x"), ("label_u", "ü")], &[(-5, 1e300)]),
        // A value over 127 bytes: two-byte lengths in the label and its field.
        series(
            &[("__name__", "no_samples"), ("long", &"v".repeat(300))],
            &[],
        ),
    ]
}

#[test]
fn reads_what_the_encoder_writes_as_prost_does() {
    let raw = plain(&request());
    let fast = fast(&raw).expect("an encoder's request is simple");
    let slow = slow(&raw).unwrap();
    assert_eq!(fast.len(), 3);
    for ((fl, fs, matched), (sl, ss)) in fast.iter().zip(&slow) {
        assert!(
            matched,
            "the encoder's bytes match the labels they came from: {fl}"
        );
        assert_eq!(fl, sl);
        let bits = |s: &[Sample]| s.iter().map(|s| (s.t, s.v.to_bits())).collect::<Vec<_>>();
        assert_eq!(bits(fs), bits(ss), "samples of {fl} bit for bit");
    }
}

#[test]
fn labels_match_only_the_same_set_in_the_same_spelling() {
    let raw = plain(&request());
    let mut reader = RawReader::new(&raw);
    let first = reader.next_series().unwrap().unwrap();
    let bytes = first.label_bytes;
    let same =
        Labels::from_pairs(&[("__name__", "up"), ("job", "node"), ("instance", "a:9100")]).unwrap();
    assert!(labels_match(bytes, &same));
    for other in [
        vec![("__name__", "up"), ("job", "node")],
        vec![("__name__", "up"), ("job", "node"), ("instance", "a:9101")],
        vec![
            ("__name__", "up"),
            ("job", "node"),
            ("instance", "a:9100"),
            ("z", "1"),
        ],
    ] {
        assert!(
            !labels_match(bytes, &Labels::from_pairs(&other).unwrap()),
            "{other:?}"
        );
    }
    assert!(!labels_match(&bytes[..bytes.len() - 1], &same), "truncated");
}

#[test]
fn exemplars_histograms_and_split_labels_go_to_prost() {
    let mut with_exemplar = request();
    with_exemplar[0].exemplars = 1;
    assert!(matches!(fast(&plain(&with_exemplar)), Err(Fast::NotSimple)));
    let mut with_histogram = request();
    with_histogram[1].histograms = 1;
    assert!(matches!(
        fast(&plain(&with_histogram)),
        Err(Fast::NotSimple)
    ));
    // A series whose label fields are split by a sample: label 1, sample, label 2.
    let label = |n: &[u8], v: &[u8]| {
        let mut m = vec![0x0a, n.len() as u8];
        m.extend_from_slice(n);
        m.extend_from_slice(&[0x12, v.len() as u8]);
        m.extend_from_slice(v);
        let mut f = vec![0x0a, m.len() as u8];
        f.extend(m);
        f
    };
    let mut ts = label(b"__name__", b"a");
    ts.extend_from_slice(&[0x12, 2, 0x10, 5]);
    ts.extend(label(b"b", b"c"));
    let mut raw = vec![0x0a, ts.len() as u8];
    raw.extend(ts);
    assert!(matches!(fast(&raw), Err(Fast::NotSimple)));
    let slow = slow(&raw).unwrap();
    assert_eq!(slow[0].0.to_string(), "a{b=\"c\"}");
}

#[test]
fn invalid_labels_are_invalid_on_both_paths() {
    let raw = plain(&[series(&[("__name__", "ok")], &[(1, 1.0)])]);
    // Turn the metric name into invalid UTF-8 in place.
    let at = raw.windows(2).position(|w| w == b"ok").unwrap();
    let mut bad = raw.clone();
    bad[at] = 0xff;
    assert!(matches!(
        fast(&bad),
        Err(Fast::Invalid(WireError::InvalidSeries { .. }))
    ));
    assert!(slow(&bad).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    /// Mangled requests: wherever the fast path answers, prost answers the same; where the fast path finds the
    /// labels invalid, prost refuses the request too; bytes that still match a series' original labels decode to
    /// exactly those labels (what makes a cache keyed by the bytes sound).
    #[test]
    fn mangled_requests_agree_with_prost(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut raw = plain(&request());
        for (at, byte) in edits {
            let i = at.index(raw.len());
            raw[i] = byte;
        }
        if truncate {
            raw.truncate(cut.index(raw.len() + 1));
        }
        match (fast(&raw), slow(&raw)) {
            (Ok(f), Ok(s)) => {
                prop_assert_eq!(f.len(), s.len());
                let original = request();
                for (i, ((fl, fs, matched), (sl, ss))) in f.iter().zip(&s).enumerate() {
                    prop_assert_eq!(fl, sl);
                    if *matched {
                        prop_assert_eq!(fl, &original[i].labels);
                    }
                    let bits = |s: &[Sample]| s.iter().map(|s| (s.t, s.v.to_bits())).collect::<Vec<_>>();
                    prop_assert_eq!(bits(fs), bits(ss));
                }
            }
            (Ok(f), Err(e)) => prop_assert!(false, "fast path accepted {} series prost refuses: {}", f.len(), e),
            (Err(Fast::Invalid(e)), Ok(_)) => prop_assert!(false, "fast path refused what prost accepts: {}", e),
            (Err(_), _) => {}
        }
    }
}
