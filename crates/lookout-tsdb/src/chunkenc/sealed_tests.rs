//! Tests of the sealed chunk encoding.

use super::*;

fn round_trip(samples: &[Sample]) -> Vec<u8> {
    let mut buf = Vec::new();
    encode_sealed(samples, &mut buf);
    let mut out = Vec::new();
    decode_sealed(&buf, &mut out).unwrap();
    assert_eq!(out.len(), samples.len());
    for (a, b) in out.iter().zip(samples) {
        assert!(a.bits_eq(b), "{a:?} != {b:?}");
    }
    let info = sealed_info(&buf).unwrap();
    assert_eq!(info.samples, samples.len());
    if let (Some(f), Some(l)) = (samples.first(), samples.last()) {
        assert_eq!((info.min_t, info.max_t), (f.t, l.t));
    }
    buf
}

fn regular(values: impl IntoIterator<Item = f64>) -> Vec<Sample> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| Sample::new(1_700_000_000_000 + i as i64 * 15_000, v))
        .collect()
}

#[test]
fn constant_series_is_a_handful_of_bytes() {
    let buf = round_trip(&regular(std::iter::repeat_n(1.0, 120)));
    assert!(buf.len() <= 14, "{} bytes", buf.len());
}

#[test]
fn two_decimal_counter_uses_scale_two() {
    let s = regular((0..120).map(|i| (1_234_567 + i * 1275) as f64 / 100.0));
    let buf = round_trip(&s);
    assert_eq!(buf[0] >> 4, 2, "scale 10^2");
    assert!(buf.len() <= 20, "{} bytes", buf.len());
}

#[test]
fn specials_become_exceptions_and_random_floats_fall_back_to_xor() {
    let mut s = regular((0..120).map(|i| i as f64));
    s[3].v = -0.0;
    s[50].v = f64::NAN;
    s[51].v = f64::from_bits(0x7ff8_dead_beef_0001);
    s[119].v = lookout_model::stale_nan();
    let buf = round_trip(&s);
    assert_eq!(
        buf[0] >> 4,
        KIND_EXCEPTIONS,
        "decimal scale 0 with exceptions"
    );
    let noisy = regular((0..120).map(|i| (i as f64 * 0.7).sin() * 1e-3 + std::f64::consts::PI));
    let buf = round_trip(&noisy);
    assert_eq!(buf[0] >> 4, KIND_XOR);
}

#[test]
fn irregular_timestamps_and_tiny_chunks_round_trip() {
    round_trip(&[]);
    round_trip(&[Sample::new(-5, 1.5)]);
    round_trip(&[Sample::new(i64::MIN, 1.0), Sample::new(i64::MAX, 2.0)]);
    let s: Vec<Sample> = (0..100)
        .map(|i| Sample::new(i * 15_000 + (i * 7919) % 37, 0.25 * i as f64))
        .collect();
    let buf = round_trip(&s);
    assert_eq!(buf[0] & TS_REGULAR, 0);
}

#[test]
fn every_truncation_errors() {
    let mut s = regular((0..60).map(|i| (i * i) as f64 / 8.0));
    s[10].v = f64::INFINITY;
    s[20].t += 3;
    let mut buf = Vec::new();
    encode_sealed(&s, &mut buf);
    for cut in 0..buf.len() {
        let mut out = vec![Sample::new(1, 1.0)];
        let result = decode_sealed(&buf[..cut], &mut out);
        assert!(result.is_err(), "cut at {cut} of {}", buf.len());
        assert_eq!(
            out,
            [Sample::new(1, 1.0)],
            "a failed decode leaves the output as it was"
        );
    }
}

#[test]
fn a_hint_is_followed_for_three_chunks_then_searched_again() {
    // Timestamps jittering around a grid: the search codes them as distances from a line.
    let jitter = [0i64, 2, -1, 1, -2, 0, 1, 2, -2, -1];
    let s: Vec<Sample> = (0..120)
        .map(|i| {
            Sample::new(
                1_700_000_000_000 + i * 15_000 + jitter[i as usize % 10],
                (i * 3) as f64,
            )
        })
        .collect();
    let mut searched = Vec::new();
    let first = encode_sealed_hinted(&s, SealHint::default(), &mut searched);
    let (ts_way, _) = SealHint(first.0 & 0x3f | 1 << 6).ways().unwrap();
    assert_eq!(ts_way, Some(Way::LineThroughEnds));
    assert_eq!(
        first.0 >> 6,
        HINTED_SEALINGS,
        "a search allows three hinted sealings"
    );
    // A hint naming a worse way (order 3 for the jitter) is taken while hinted sealings are left.
    let mut hint = SealHint(Way::Diff3.code() | (first.0 & 0x38) | (HINTED_SEALINGS << 6));
    for left in (0..HINTED_SEALINGS).rev() {
        let mut buf = Vec::new();
        hint = encode_sealed_hinted(&s, hint, &mut buf);
        assert!(
            buf.len() > searched.len(),
            "{} ≤ {}",
            buf.len(),
            searched.len()
        );
        assert_eq!(hint.0 >> 6, left);
        assert_eq!(hint.0 & 7, Way::Diff3.code());
        let mut out = Vec::new();
        decode_sealed(&buf, &mut out).unwrap();
        assert_eq!(out, s);
    }
    // None left: the next sealing searches and finds the line again.
    let mut buf = Vec::new();
    let after = encode_sealed_hinted(&s, hint, &mut buf);
    assert_eq!(buf, searched);
    assert_eq!(after, first);
}
