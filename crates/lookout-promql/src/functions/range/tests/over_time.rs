//! The `*_over_time` aggregations.

use super::*;

#[test]
#[allow(clippy::excessive_precision)] // literals exactly as written in functions.test
fn avg_and_sum_over_time_special_values() {
    let at_55s = |values: &[f64], f: RangeFn| eval_at(f, &dense(10 * S, values), 55 * S, M, &[]);
    let metric = [1.0, 2.0, 3.0, 4.0, 5.0];
    assert_eq!(
        eval_at(
            RangeFn::AvgOverTime,
            &dense(10 * S, &metric),
            55 * S,
            10 * S,
            &[]
        ),
        None
    );
    assert_close(
        eval_at(
            RangeFn::AvgOverTime,
            &dense(10 * S, &metric),
            55 * S,
            20 * S,
            &[],
        ),
        5.0,
    );
    let big = 9.988465674311579e+307;
    let cases: [(&[f64], f64); 13] = [
        (&metric, 3.0),
        (&[1.0, 2.0, 3.0, 4.0, INF], INF),
        (&[1.0, 2.0, 3.0, 4.0, -INF], -INF),
        (&[1.0, 2.0, 3.0, INF, -INF], NAN),
        (&[INF, 0.0, INF], INF),
        (&[INF, INF, INF, -INF], NAN),
        (&[1.0, 2.0, 3.0, -INF, -INF], -INF),
        (&[-INF, 0.0, -INF], -INF),
        (&[1.0, 2.0, -INF, -INF, INF], NAN),
        (&[big, big], big),
        (&[-big, -big, -big], -big),
        (&[-big, big], 0.0),
        (&[1.0, 2.0, 3.0, NAN, NAN], NAN),
    ];
    for (values, want) in cases {
        assert_close(at_55s(values, RangeFn::AvgOverTime), want);
    }
    // The plain sum overflows where the average does not.
    assert_close(at_55s(&[big, big], RangeFn::SumOverTime), INF);
    assert_close(at_55s(&[-big, -big, -big], RangeFn::SumOverTime), -INF);
    assert_close(at_55s(&[INF, 0.0, INF], RangeFn::SumOverTime), INF);
    // Kahan summation keeps the small terms next to huge ones.
    let kahan = dense(10 * S, &[1.0, 1e100, 1.0, -1e100]);
    assert_close(eval_at(RangeFn::SumOverTime, &kahan, M, 2 * M, &[]), 2.0);
    assert_close(eval_at(RangeFn::AvgOverTime, &kahan, M, 2 * M, &[]), 0.5);
    // 52 averaged over many samples stays exactly 52.
    let constant = dense(10 * S, &[52.0; 101]);
    for range in [100 * S, 110 * S, 120 * S, 130 * S] {
        assert_eq!(
            eval_at(RangeFn::AvgOverTime, &constant, 10 * M, range, &[]),
            Some(52.0)
        );
    }
    // Dense 1ms samples of 1.
    let ones = dense(1, &[1.0; 4001]);
    for range in [1000, 1001, 1003, 2002, 3003] {
        assert_close(
            eval_at(RangeFn::SumOverTime, &ones, 4 * S, range, &[]),
            range as f64,
        );
    }
}

#[test]
#[allow(clippy::excessive_precision)] // literals exactly as written in functions.test
fn avg_over_time_extreme_magnitudes() {
    let at_55s =
        |values: &[f64]| eval_at(RangeFn::AvgOverTime, &dense(5 * S, values), 55 * S, M, &[]);
    assert_close(
        at_55s(&[1e10, 1e-6, 1e-6, 1e-6, 1e-6, 1e-6]),
        1.6666666666666675e+09,
    );
    let m2 = [
        5.30921651659898,
        0.961118537914768,
        1.62091361305318,
        0.865089463758091,
        0.323055185914577,
        0.951811357687154,
    ];
    assert_close(at_55s(&m2), 1.67186744582113);
    assert_close(
        at_55s(&[1.78264e50, 0.76342771, 1.9592258, 7.69805412, 458.90154]),
        3.56528E+49,
    );
    assert_close(
        at_55s(&[
            1.78264E+50,
            0.76342771,
            1.9592258,
            2.258E+220,
            7.69805412,
            458.90154,
        ]),
        3.76333333333333E+219,
    );
    assert_close(
        at_55s(&[
            -1.78264E+215,
            0.76342771,
            1.9592258,
            2.258E+220,
            7.69805412,
            1.78264E+215,
            -458.90154,
        ]),
        3.225714285714286e+219,
    );
    let m10 = [
        -1.78264E+219,
        0.76342771,
        1.9592258,
        2.3757689E+217,
        -2.3757689E+217,
        2.258E+220,
        7.69805412,
        1.78264E+219,
        -458.90154,
    ];
    assert_close(at_55s(&m10), 2.5088888888888888e+219);
    let m11 = [
        -2.258E+220,
        -1.78264E+219,
        0.76342771,
        1.9592258,
        2.3757689E+217,
        -2.3757689E+217,
        2.258E+220,
        7.69805412,
        1.78264E+219,
        -458.90154,
    ];
    assert_close(at_55s(&m11), 0.0);
}

#[test]
fn variance_mad_and_quantile() {
    let metric = dense(10 * S, &[0.0, 8.0, 8.0, 2.0, 3.0]);
    assert_close(
        eval_at(RangeFn::StdvarOverTime, &metric, M, 2 * M, &[]),
        10.56,
    );
    assert!(
        (eval_at(RangeFn::StddevOverTime, &metric, M, 2 * M, &[]).unwrap() - 3.249615).abs() < 1e-6
    );
    let constant = dense(10 * S, &[1.5990505637277868; 3]);
    assert_eq!(
        eval_at(RangeFn::StdvarOverTime, &constant, 55 * S, M, &[]),
        Some(0.0)
    );
    assert_eq!(
        eval_at(RangeFn::StddevOverTime, &constant, 55 * S, M, &[]),
        Some(0.0)
    );

    let mad = |values: &[f64], at: i64, range: i64| {
        eval_at(RangeFn::MadOverTime, &dense(10 * S, values), at, range, &[])
    };
    assert_close(
        mad(&[4.0, 6.0, 2.0, 1.0, 999.0, 1.0, 2.0], 70 * S, 70 * S),
        1.0,
    );
    assert_close(mad(&[1.0, 2.0, 3.0, 4.0, 5.0], 40 * S, 50 * S), 1.0);
    assert_close(mad(&[7.0; 5], 40 * S, 50 * S), 0.0);
    assert_close(mad(&[5.0], 0, 10 * S), 0.0);
    assert_close(mad(&[1.0, 2.0, NAN, 4.0], 30 * S, 40 * S), NAN);

    let q = |values: &[f64], q: f64| {
        eval_at(
            RangeFn::QuantileOverTime,
            &dense(10 * S, values),
            M,
            2 * M,
            &[q],
        )
    };
    assert_close(q(&[0.0, 1.0], 0.5), 0.5);
    assert_close(q(&[0.0, 1.0, 4.0], 0.75), 2.5);
    assert_close(q(&[0.0, 1.0, 4.0], 0.8), 2.8);
    assert_close(q(&[0.0, 1.0, 2.0], -1.0), -INF);
    assert_close(q(&[0.0, 1.0, 2.0], 2.0), INF);
    assert_eq!(
        eval_range_fn(RangeFn::QuantileOverTime, &metric, 0, M, &[]),
        None
    );
}

#[test]
fn extremes_firsts_lasts_and_timestamps() {
    // Odd interval 10.053s to catch rounding in the seconds conversion.
    let metric = dense(10_053, &[1.0, 2.0, 3.0, 0.0, 5.0, 6.0, 2.0, 1.0, 4.0]);
    assert_close(
        eval_at(RangeFn::TsOfMinOverTime, &metric, 90 * S, 90 * S, &[]),
        30.159,
    );
    assert_close(
        eval_at(RangeFn::TsOfMaxOverTime, &metric, 90 * S, 90 * S, &[]),
        50.265,
    );
    let gaps = load(
        10_053,
        &[None, None, Some(1.0), Some(2.0), Some(3.0), None, None],
    );
    assert_close(
        eval_at(RangeFn::TsOfFirstOverTime, &gaps, 90 * S, 90 * S, &[]),
        20.106,
    );
    assert_close(
        eval_at(RangeFn::TsOfLastOverTime, &gaps, 95 * S, 90 * S, &[]),
        40.212,
    );
    assert_eq!(
        eval_at(RangeFn::TsOfFirstOverTime, &gaps, 15 * S, 90 * S, &[]),
        None
    );

    // Ties: min/max keep the first occurrence, ts_of_* report the last one.
    let ties = dense(S, &[3.0, 1.0, 3.0, 1.0]);
    assert_close(
        eval_at(RangeFn::MinOverTime, &ties, 3 * S, 10 * S, &[]),
        1.0,
    );
    assert_close(
        eval_at(RangeFn::TsOfMinOverTime, &ties, 3 * S, 10 * S, &[]),
        3.0,
    );
    assert_close(
        eval_at(RangeFn::TsOfMaxOverTime, &ties, 3 * S, 10 * S, &[]),
        2.0,
    );
    // A leading NaN is replaced by the first number; later NaNs are ignored.
    let nan = dense(S, &[NAN, 5.0, NAN, 2.0]);
    assert_close(eval_at(RangeFn::MinOverTime, &nan, 3 * S, 10 * S, &[]), 2.0);
    assert_close(eval_at(RangeFn::MaxOverTime, &nan, 3 * S, 10 * S, &[]), 5.0);
    assert_close(
        eval_at(RangeFn::MaxOverTime, &dense(S, &[NAN, NAN]), S, 10 * S, &[]),
        NAN,
    );

    let window = dense(S, &[4.0, 7.0, 5.0]);
    assert_close(
        eval_at(RangeFn::FirstOverTime, &window, 2 * S, 10 * S, &[]),
        4.0,
    );
    assert_close(
        eval_at(RangeFn::LastOverTime, &window, 2 * S, 10 * S, &[]),
        5.0,
    );
    assert_close(
        eval_at(RangeFn::CountOverTime, &window, 2 * S, 10 * S, &[]),
        3.0,
    );
    assert_close(
        eval_at(RangeFn::PresentOverTime, &window, 2 * S, 10 * S, &[]),
        1.0,
    );
    assert_eq!(
        eval_range_fn(RangeFn::CountOverTime, &[], 0, 10 * S, &[]),
        None
    );
    assert_eq!(
        eval_range_fn(RangeFn::PresentOverTime, &[], 0, 10 * S, &[]),
        None
    );
}
