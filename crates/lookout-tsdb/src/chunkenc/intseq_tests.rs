//! Tests of the integer sequence codec.

use super::*;
use crate::chunkenc::varint::ByteCursor;

fn round_trip(xs: &[i64]) -> usize {
    let mut buf = vec![0xaa];
    encode_ints(xs, &mut buf);
    buf.push(0x55);
    let mut cur = ByteCursor::new(&buf, 1);
    let mut out = Vec::new();
    decode_ints(
        &mut cur,
        xs.first().copied().unwrap_or(0),
        xs.len(),
        &mut out,
    )
    .unwrap();
    assert_eq!(out, xs);
    assert_eq!(
        cur.pos,
        buf.len() - 1,
        "decoder consumed exactly the encoding"
    );
    buf.len() - 2
}

#[test]
fn steady_counter_costs_a_few_bytes() {
    let xs: Vec<i64> = (0..120).map(|i| 1_000_000 + i * 15_000).collect();
    assert!(round_trip(&xs) <= 4);
}

#[test]
fn rare_changes_use_zero_runs() {
    let xs: Vec<i64> = (0..120).map(|i| 4096 * (1000 + i / 40)).collect();
    let bytes = round_trip(&xs);
    assert!(bytes <= 10, "{bytes} bytes");
}

#[test]
fn smooth_curve_prefers_higher_order() {
    let xs: Vec<i64> = (0..120)
        .map(|i| (60_000.0 * (i as f64 / 7.0).sin()) as i64 + i * 90_000)
        .collect();
    let bytes = round_trip(&xs);
    assert!(bytes < 120 * 12 / 8, "{bytes} bytes");
}

#[test]
fn jitter_around_a_grid_is_coded_as_distance_from_a_line() {
    let jitter = [0i64, 2, -1, 1, -2, 0, 1, 2, -2, -1];
    let xs: Vec<i64> = (0..120)
        .map(|i| 1_700_000_000_000 + i * 15_000 + jitter[i as usize % 10])
        .collect();
    let mut buf = Vec::new();
    encode_ints(&xs, &mut buf);
    assert_eq!(buf[0] & 3, 0, "order 0 (line) chosen");
    let bytes = round_trip(&xs);
    assert!(bytes < 119 * 4 / 8, "{bytes} bytes");
}

#[test]
fn residuals_of_one_magnitude_are_packed_at_fixed_width() {
    // Alternating ±(24..32): every residual has the same bit length, where Golomb codes waste bits.
    let mut seed = 7u64;
    let xs: Vec<i64> = (0..120)
        .map(|i| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let wobble = 24 + (seed >> 60) as i64 % 8;
            i * 1000 + if i % 2 == 0 { wobble } else { -wobble }
        })
        .collect();
    let mut buf = Vec::new();
    encode_ints(&xs, &mut buf);
    assert_eq!((buf[0] >> 2) & 3, CODE_PACKED, "mode {:#04x}", buf[0]);
    round_trip(&xs);
}

#[test]
fn gcd_matches_euclid() {
    let euclid = |mut a: u64, mut b: u64| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    for (a, b) in [
        (0, 0),
        (0, 7),
        (12, 18),
        (4096 * 3, 4096 * 5),
        (u64::MAX, 1 << 63),
        (1 << 63, 1 << 62),
    ] {
        assert_eq!(gcd(a, b), euclid(a, b), "gcd({a}, {b})");
    }
    for values in [
        &[][..],
        &[0, 0],
        &[0, 4096 * 6, 4096 * 9, 0],
        &[1 << 63, 1 << 62],
        &[u64::MAX, 3],
        &[12, 18, 30],
        &[7 << 20, 21 << 10, 0],
        &[5, 10, 4],
    ] {
        let want = values.iter().fold(0, |g, &v| euclid(g, v));
        assert_eq!(common_factor(values.iter().copied()), want, "{values:?}");
    }
}

#[test]
fn extremes_round_trip() {
    round_trip(&[]);
    round_trip(&[5]);
    round_trip(&[i64::MIN, i64::MAX]);
    round_trip(&[i64::MAX, i64::MIN, 0, i64::MIN, i64::MAX, -1, 1]);
    round_trip(&[0, 0, 0, 0, 1 << 62, 0]);
}

#[test]
fn every_way_round_trips_and_a_hint_skips_the_search() {
    let jitter = [0i64, 2, -1, 1, -2, 0, 1, 2, -2, -1];
    let sequences: Vec<Vec<i64>> = vec![
        (0..120)
            .map(|i| 1_700_000_000_000 + i * 15_000 + jitter[i as usize % 10])
            .collect(),
        (0..120).map(|i| i * i * 3 - i * 7).collect(),
        vec![5, 9],
        vec![1, 2, 4],
        vec![i64::MAX, i64::MIN, 0, -1],
    ];
    let ways = [
        Way::Diff1,
        Way::Diff2,
        Way::Diff3,
        Way::LineThroughEnds,
        Way::LineMedianStep,
    ];
    for xs in &sequences {
        let mut searched = Vec::new();
        let best = encode_ints_as(xs, None, &mut searched).unwrap();
        assert_eq!(Way::from_code(best.code()), Some(best));
        for way in ways {
            let mut buf = Vec::new();
            let taken = encode_ints_as(xs, Some(way), &mut buf).unwrap();
            // Order k needs k + 1 values; a hint that does not apply falls back to the search.
            let applies = match way {
                Way::Diff2 => xs.len() >= 3,
                Way::Diff3 => xs.len() >= 4,
                _ => true,
            };
            assert_eq!(
                taken,
                if applies { way } else { best },
                "{xs:?} hinted {way:?}"
            );
            assert!(
                buf.len() >= searched.len(),
                "the search finds the smallest: {xs:?} {way:?}"
            );
            let mut cur = ByteCursor::new(&buf, 0);
            let mut out = Vec::new();
            decode_ints(&mut cur, xs[0], xs.len(), &mut out).unwrap();
            assert_eq!(&out, xs, "hinted {way:?}");
            assert_eq!(cur.pos, buf.len());
        }
    }
    assert_eq!(Way::from_code(0), None);
    assert_eq!(Way::from_code(6), None);
}
