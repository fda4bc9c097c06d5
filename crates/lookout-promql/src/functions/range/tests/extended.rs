//! `anchored` / `smoothed` range selectors, with expectations from extended_vectors.test.

use super::*;

const LOOKBACK: i64 = 5 * M;

/// Evaluates `f` at `eval_ms` over `series[range_ms] <modifier>`, selecting samples the way
/// Prometheus widens the range for the modifier.
fn extended_at(
    f: RangeFn,
    series: &[Sample],
    eval_ms: i64,
    range_ms: i64,
    modifier: RangeModifier,
) -> Option<f64> {
    let start = eval_ms - range_ms;
    let end = if modifier == RangeModifier::Smoothed {
        eval_ms + LOOKBACK
    } else {
        eval_ms
    };
    let samples: Vec<Sample> = series
        .iter()
        .copied()
        .filter(|s| s.t > start - LOOKBACK && s.t <= end)
        .collect();
    eval_extended_range_fn(f, &samples, start, eval_ms, modifier)
}

/// `metric 1+1x4 9+1x4` at 15s intervals.
fn complete() -> Vec<Sample> {
    dense(15 * S, &[ramp(1.0, 1.0, 4), ramp(9.0, 1.0, 4)].concat())
}

/// `metric 1+1x2 _ _ 9+1x4` at 15s intervals.
fn partial() -> Vec<Sample> {
    let mut values: Vec<Option<f64>> = ramp(1.0, 1.0, 2).into_iter().map(Some).collect();
    values.extend([None, None]);
    values.extend(ramp(9.0, 1.0, 4).into_iter().map(Some));
    load(15 * S, &values)
}

#[track_caller]
fn check_increase(series: &[Sample], modifier: RangeModifier, want: [f64; 9]) {
    for (k, want) in want.into_iter().enumerate() {
        let at = (5 + 15 * k as i64) * S;
        let got = extended_at(RangeFn::Increase, series, at, M, modifier).expect("a value");
        assert!(
            (got - want).abs() < 1e-6,
            "{} at {at}ms: got {got}, want {want}",
            modifier.keyword()
        );
    }
}

#[test]
fn increase_on_the_prom52_datasets() {
    let third = 1.0 / 3.0;
    check_increase(
        &complete(),
        RangeModifier::Anchored,
        [0.0, 1.0, 2.0, 3.0, 4.0, 7.0, 7.0, 7.0, 7.0],
    );
    check_increase(
        &complete(),
        RangeModifier::Smoothed,
        [
            third,
            1.0 + third,
            2.0 + third,
            3.0 + third,
            5.0,
            7.0,
            7.0,
            7.0,
            6.0,
        ],
    );
    check_increase(
        &partial(),
        RangeModifier::Anchored,
        [0.0, 1.0, 2.0, 2.0, 2.0, 7.0, 7.0, 8.0, 9.0],
    );
    check_increase(
        &partial(),
        RangeModifier::Smoothed,
        [
            third,
            1.0 + third,
            2.0 + 2.0 * third,
            4.0 + 2.0 * third,
            6.0 + third,
            7.0,
            6.0 + 2.0 * third,
            5.0 + 2.0 * third,
            4.0 + 2.0 * third,
        ],
    );
}

#[test]
fn counter_resets_and_gauges() {
    let id1 = dense(M, &[ramp(1.0, 1.0, 4), ramp(1.0, 1.0, 4)].concat());
    let id2 = dense(M, &[vec![3.0], ramp(2.0, 2.0, 9)].concat());
    let id3 = dense(M, &[ramp(5.0, 3.0, 2), ramp(3.0, 3.0, 6)].concat());
    let at = 90 * S;
    for (series, increase, delta) in [(&id1, 1.0, 1.0), (&id2, 2.0, -1.0), (&id3, 3.0, 3.0)] {
        assert_eq!(
            extended_at(RangeFn::Increase, series, at, M, RangeModifier::Smoothed),
            Some(increase)
        );
        assert_eq!(
            extended_at(RangeFn::Increase, series, at, M, RangeModifier::Anchored),
            Some(increase)
        );
        assert_eq!(
            extended_at(RangeFn::Delta, series, at, M, RangeModifier::Anchored),
            Some(delta)
        );
    }
    for (series, want) in [(&id1, 5.0), (&id2, 10.0), (&id3, 15.0)] {
        assert_eq!(
            extended_at(
                RangeFn::Increase,
                series,
                6 * M + 15 * S,
                5 * M,
                RangeModifier::Smoothed
            ),
            Some(want)
        );
        assert_eq!(
            extended_at(
                RangeFn::Increase,
                series,
                5 * M,
                5 * M,
                RangeModifier::Anchored
            ),
            Some(want)
        );
    }
    assert_eq!(
        extended_at(RangeFn::Delta, &id3, 3 * M, M, RangeModifier::Anchored),
        Some(-8.0)
    );
    // Nothing inside the window: no result even though the lookback has samples.
    assert_eq!(
        extended_at(
            RangeFn::Increase,
            &id1,
            15 * M,
            5 * M,
            RangeModifier::Anchored
        ),
        None
    );

    let g1 = dense(M, &[11.0, -1.0, 100.0, 0.0]);
    let g2 = dense(M, &[0.0, 0.0, 100.0, 0.0, 0.0, 11.0, -1.0]);
    for (series, at_30s, at_45s) in [(&g1, -5.0, -2.0), (&g2, 5.0, 2.0)] {
        let got = extended_at(
            RangeFn::Delta,
            series,
            5 * M + 30 * S,
            5 * M,
            RangeModifier::Smoothed,
        );
        assert!((got.unwrap() - at_30s).abs() < 1e-9);
        let got = extended_at(
            RangeFn::Delta,
            series,
            5 * M + 45 * S,
            5 * M,
            RangeModifier::Smoothed,
        );
        assert!((got.unwrap() - at_45s).abs() < 1e-9);
    }
    // Interpolation across resets on both edges.
    let falling = dense(M, &[9.0, 8.0, 5.0, 4.0]);
    assert_eq!(
        extended_at(
            RangeFn::Increase,
            &falling,
            2 * M + 15 * S,
            2 * M,
            RangeModifier::Smoothed
        ),
        Some(12.0)
    );
    let reset = dense(15 * S, &[100.0, 10.0]);
    let rate = extended_at(
        RangeFn::Rate,
        &reset,
        12 * S,
        10 * S,
        RangeModifier::Smoothed,
    )
    .unwrap();
    assert!((rate - 0.666666666666667).abs() < 1e-9);
    // The window is left-open: at 2m over [1m] the sample at 1m is only an anchor.
    let gap = load(M, &[Some(1.0), Some(2.0), None, Some(4.0), Some(5.0)]);
    assert_eq!(
        extended_at(RangeFn::Increase, &gap, 2 * M, M, RangeModifier::Smoothed),
        Some(1.0)
    );
    assert_eq!(
        extended_at(RangeFn::Increase, &gap, 2 * M, M, RangeModifier::Anchored),
        None
    );
}

#[test]
fn anchored_changes_and_resets() {
    let up = dense(M, &ramp(1.0, 1.0, 10));
    let flat_then_up = dense(M, &[vec![1.0], ramp(1.0, 1.0, 10)].concat());
    let down = dense(M, &ramp(99.0, -1.0, 10));
    let flat_then_down = dense(M, &[vec![99.0], ramp(99.0, -1.0, 10)].concat());
    let anchored =
        |f, series: &[Sample], at| extended_at(f, series, at, 5 * M, RangeModifier::Anchored);
    let cases = [
        (&up, 5.0, 0.0),
        (&flat_then_up, 4.0, 0.0),
        (&down, 5.0, 5.0),
        (&flat_then_down, 4.0, 4.0),
    ];
    for (series, changes, resets) in cases {
        assert_eq!(anchored(RangeFn::Changes, series, 5 * M), Some(changes));
        assert_eq!(
            anchored(RangeFn::Changes, series, 5 * M + 30 * S),
            Some(changes)
        );
        assert_eq!(anchored(RangeFn::Changes, series, 6 * M), Some(5.0));
        assert_eq!(
            anchored(RangeFn::Resets, series, 5 * M + 30 * S),
            Some(resets)
        );
    }
    let sparse = load(
        M,
        &[
            Some(2.0),
            None,
            Some(1.0),
            None,
            None,
            None,
            None,
            None,
            Some(0.0),
        ],
    );
    let one = |f, at, range| extended_at(f, &sparse, at, range, RangeModifier::Anchored);
    assert_eq!(one(RangeFn::Changes, 2 * M, M), Some(1.0));
    assert_eq!(one(RangeFn::Resets, 2 * M, M), Some(1.0));
    assert_eq!(one(RangeFn::Changes, 3 * M, M), None);
    assert_eq!(one(RangeFn::Changes, 8 * M, M), Some(0.0));
    assert_eq!(one(RangeFn::Changes, 8 * M, M + 1), Some(1.0));
    assert_eq!(one(RangeFn::Resets, 8 * M, M + 1), Some(1.0));
}

#[test]
fn modifiers_restrict_functions() {
    assert!(RangeModifier::Anchored.supports(RangeFn::Resets));
    assert!(!RangeModifier::Smoothed.supports(RangeFn::Resets));
    assert!(!RangeModifier::Anchored.supports(RangeFn::Deriv));
    assert_eq!(
        RangeModifier::Smoothed.allowed_functions().join(", "),
        "delta, increase, rate"
    );
    let series = dense(S, &[1.0, 2.0]);
    assert_eq!(
        eval_extended_range_fn(RangeFn::Deriv, &series, 0, 10 * S, RangeModifier::Anchored),
        None
    );
    assert_eq!(
        eval_extended_range_fn(RangeFn::Rate, &[], 0, 10 * S, RangeModifier::Smoothed),
        None
    );
}
