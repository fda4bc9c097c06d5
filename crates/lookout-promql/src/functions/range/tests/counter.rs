//! rate/increase/delta, irate/idelta, resets/changes, deriv/predict_linear and smoothing.

use super::*;

#[test]
fn resets_and_changes() {
    let foo = dense(5 * M, &[1.0, 2.0, 3.0, 0.0, 1.0, 0.0, 0.0, 1.0, 2.0, 0.0]);
    let bar = dense(5 * M, &[1.0, 2.0, 3.0, 4.0, 5.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    let biz = dense(5 * M, &[0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
    // The series end at 45m; evaluated at 50m.
    assert_eq!(eval_at(RangeFn::Resets, &foo, 50 * M, 5 * M, &[]), None);
    assert_close(eval_at(RangeFn::Resets, &foo, 50 * M, 10 * M, &[]), 0.0);
    assert_close(eval_at(RangeFn::Resets, &foo, 50 * M, 20 * M, &[]), 1.0);
    assert_close(eval_at(RangeFn::Resets, &foo, 50 * M, 32 * M, &[]), 2.0);
    assert_close(eval_at(RangeFn::Resets, &bar, 50 * M, 32 * M, &[]), 1.0);
    assert_close(eval_at(RangeFn::Resets, &foo, 50 * M, 50 * M, &[]), 3.0);
    assert_close(eval_at(RangeFn::Changes, &foo, 50 * M, 30 * M, &[]), 3.0);
    assert_close(eval_at(RangeFn::Changes, &bar, 50 * M, 30 * M, &[]), 4.0);
    assert_close(eval_at(RangeFn::Changes, &foo, 50 * M, 50 * M, &[]), 7.0);
    assert_close(eval_at(RangeFn::Changes, &bar, 50 * M, 50 * M, &[]), 8.0);
    assert_close(eval_at(RangeFn::Changes, &biz, 50 * M, 50 * M, &[]), 1.0);
    // NaN to NaN is no change; 0 → NaN → 0 is two.
    let all_nan = dense(5 * M, &[NAN, NAN, NAN]);
    let nan_mid = dense(5 * M, &[0.0, NAN, 0.0]);
    assert_close(
        eval_at(RangeFn::Changes, &all_nan, 15 * M, 20 * M, &[]),
        0.0,
    );
    assert_close(
        eval_at(RangeFn::Changes, &nan_mid, 15 * M, 20 * M, &[]),
        2.0,
    );
}

#[test]
fn increase_extrapolation_and_zero_cutoff() {
    let foo = dense(5 * M, &ramp(0.0, 10.0, 10));
    let bar: Vec<f64> = [ramp(0.0, 18.0, 5), ramp(0.0, 18.0, 5)].concat();
    let bar = dense(5 * M, &bar);
    let dings = dense(5 * M, &ramp(10.0, 10.0, 10));
    let bumms = dense(5 * M, &ramp(1.0, 10.0, 10));
    for (series, want) in [
        (&foo, 100.0),
        (&bar, 160.0),
        (&dings, 100.0),
        (&bumms, 100.0),
    ] {
        assert_close(
            eval_at(RangeFn::Increase, series, 50 * M, 50 * M, &[]),
            want,
        );
    }
    for (series, want) in [
        (&foo, 100.0),
        (&bar, 162.0),
        (&dings, 105.0),
        (&bumms, 101.0),
    ] {
        assert_close(
            eval_at(RangeFn::Increase, series, 50 * M, 100 * M, &[]),
            want,
        );
    }
    // 3 2 is a reset: read as 3 0 1 2.
    let reset = dense(5 * M, &[0.0, 1.0, 2.0, 3.0, 2.0, 3.0, 4.0]);
    assert_close(eval_at(RangeFn::Increase, &reset, 30 * M, 30 * M, &[]), 7.0);
}

#[test]
fn rate_cases() {
    let middle = dense(5 * M, &[ramp(0.0, 27.0, 4), ramp(0.0, 27.0, 5)].concat());
    assert_close(eval_at(RangeFn::Rate, &middle, 50 * M, 50 * M, &[]), 0.08);
    let end = dense(5 * M, &[ramp(0.0, 10.0, 9), vec![0.0, 10.0]].concat());
    assert_eq!(eval_at(RangeFn::Rate, &end, 50 * M, 5 * M, &[]), None);
    assert_close(eval_at(RangeFn::Rate, &end, 50 * M, 6 * M, &[]), 0.0);
    let window = dense(5 * M, &ramp(0.0, 80.0, 10));
    assert_close(
        eval_at(RangeFn::Rate, &window, 50 * M, 50 * M, &[]),
        0.26666666666666666,
    );
    // rate(x[10m] offset 5m) at 50m: the window is (35m, 45m].
    let offset_a = dense(5 * M, &ramp(0.0, 10.0, 10));
    assert_close(
        eval_at(RangeFn::Rate, &offset_a, 45 * M, 10 * M, &[]),
        0.03333333333333333,
    );
}

#[test]
fn rate_zero_cutoff_limits_left_extrapolation() {
    let cases = [
        (0.0, 0.5, 0.6),
        (60.0, 0.55, 0.6),
        (120.0, 0.6, 0.6),
        (180.0, 0.6, 0.6),
        (300.0, 0.6, 0.6),
    ];
    for (start, at_10m, at_50m) in cases {
        let series = dense(4 * M, &ramp(start, 240.0, 10));
        assert_close(eval_at(RangeFn::Rate, &series, 10 * M, 20 * M, &[]), at_10m);
        assert_close(eval_at(RangeFn::Rate, &series, 50 * M, 20 * M, &[]), at_50m);
    }
}

#[test]
fn delta_is_not_counter_corrected() {
    let up = dense(5 * M, &[0.0, 50.0, 100.0, 150.0, 200.0]);
    let down = dense(5 * M, &[200.0, 150.0, 100.0, 50.0, 0.0]);
    assert_close(eval_at(RangeFn::Delta, &up, 20 * M, 20 * M, &[]), 200.0);
    assert_close(eval_at(RangeFn::Delta, &down, 20 * M, 20 * M, &[]), -200.0);
    // Hand-derived: samples at 10s and 20s (values 5, 1) in (0, 30s]: result −4, gaps 10s
    // each side < 1.1 × 10s, so extrapolated to the full 30s: −4 × 30/10 = −12.
    let gauge = vec![Sample::new(10 * S, 5.0), Sample::new(20 * S, 1.0)];
    assert_close(eval_range_fn(RangeFn::Delta, &gauge, 0, 30 * S, &[]), -12.0);
    // A single sample gives nothing.
    assert_eq!(
        eval_range_fn(RangeFn::Delta, &gauge[..1], 0, 30 * S, &[]),
        None
    );
    assert_eq!(
        eval_range_fn(RangeFn::Rate, &gauge[..1], 0, 30 * S, &[]),
        None
    );
}

#[test]
fn irate_and_idelta() {
    let foo = dense(5 * M, &ramp(0.0, 10.0, 10));
    let bar = dense(5 * M, &[ramp(0.0, 10.0, 5), ramp(0.0, 10.0, 5)].concat());
    assert_close(
        eval_at(RangeFn::Irate, &foo, 50 * M, 50 * M, &[]),
        0.03333333333333333,
    );
    assert_close(
        eval_at(RangeFn::Irate, &bar, 50 * M, 50 * M, &[]),
        0.03333333333333333,
    );
    // At 30m the last pair of /bar is 50 → 0, a reset: rate is 0 / 300s.
    assert_close(eval_at(RangeFn::Irate, &bar, 30 * M, 50 * M, &[]), 0.0);
    let nan = dense(5 * M, &[1.0, NAN, NAN, 5.0, 11.0]);
    let range = 15 * M + S;
    assert_eq!(eval_at(RangeFn::Irate, &nan, 0, range, &[]), None);
    for (t, want) in [(5 * M, NAN), (10 * M, NAN), (15 * M, NAN), (20 * M, 0.02)] {
        assert_close(eval_at(RangeFn::Irate, &nan, t, range, &[]), want);
    }
    for (t, want) in [(5 * M, NAN), (10 * M, NAN), (15 * M, NAN), (20 * M, 6.0)] {
        assert_close(eval_at(RangeFn::Idelta, &nan, t, range, &[]), want);
    }
    let gauge = dense(5 * M, &[0.0, 50.0, 100.0, 50.0]);
    assert_close(eval_at(RangeFn::Idelta, &gauge, 20 * M, 20 * M, &[]), -50.0);
}

#[test]
fn deriv_and_predict_linear() {
    let middle = dense(5 * M, &[ramp(0.0, 10.0, 4), ramp(0.0, 10.0, 5)].concat());
    let total = dense(5 * M, &ramp(0.0, 80.0, 10));
    assert_close(
        eval_at(RangeFn::Deriv, &total, 50 * M, 50 * M, &[]),
        0.26666666666666666,
    );
    assert_close(
        eval_at(RangeFn::Deriv, &middle, 50 * M, 100 * M, &[]),
        0.010606060606060607,
    );
    assert_close(
        eval_at(RangeFn::PredictLinear, &middle, 50 * M, 50 * M, &[3600.0]),
        70.0,
    );
    // `[55m] @ 3000` evaluated at 50m/10m/70m: same window, line anchored at evaluation time.
    let at_3000: Vec<Sample> = middle
        .iter()
        .copied()
        .filter(|s| s.t > 3000 * S - 55 * M && s.t <= 3000 * S)
        .collect();
    assert_close(
        predict_linear_at(&at_3000, 50 * M, 3600.0),
        76.81818181818181,
    );
    assert_close(
        predict_linear_at(&at_3000, 10 * M, 3600.0),
        51.36363636363637,
    );
    assert_close(
        predict_linear_at(&at_3000, 70 * M, 3600.0),
        89.54545454545455,
    );
    // ±Inf in the data makes the regression NaN.
    let inf = dense(
        5 * M,
        &[vec![-INF], ramp(0.0, 80.0, 10), vec![INF]].concat(),
    );
    assert_close(eval_at(RangeFn::Deriv, &inf, 100 * M, 100 * M, &[]), NAN);
    assert_close(
        eval_at(RangeFn::PredictLinear, &inf, 100 * M, 100 * M, &[6000.0]),
        NAN,
    );
    // Constant series: slope exactly 0, a constant infinite series gives NaN.
    let constant = dense(10 * S, &[1.5990505637277868; 3]);
    assert_close(eval_at(RangeFn::Deriv, &constant, 20 * S, M, &[]), 0.0);
    assert_close(
        eval_at(RangeFn::Deriv, &dense(10 * S, &[INF; 3]), 20 * S, M, &[]),
        NAN,
    );
    assert_eq!(eval_at(RangeFn::Deriv, &constant, 0, M, &[]), None);
    // predict_linear emulated with deriv: the last sample sits on the line.
    let predicted = eval_at(RangeFn::PredictLinear, &total, 50 * M, 50 * M, &[3600.0]).unwrap();
    let slope = eval_at(RangeFn::Deriv, &total, 50 * M, 50 * M, &[]).unwrap();
    assert!((predicted - (800.0 + slope * 3600.0)).abs() < 1e-9);
}

#[test]
fn double_exponential_smoothing_cases() {
    let f = RangeFn::DoubleExponentialSmoothing;
    let args = [0.01, 0.1];
    let cases: [(Vec<f64>, f64); 4] = [
        (
            [ramp(0.0, 10.0, 1000), ramp(100.0, 30.0, 1000)].concat(),
            8000.0,
        ),
        (
            [ramp(0.0, 20.0, 1000), ramp(200.0, 30.0, 1000)].concat(),
            16000.0,
        ),
        (
            [ramp(0.0, 30.0, 1000), ramp(300.0, 80.0, 1000)].concat(),
            24000.0,
        ),
        (ramp(0.0, 40.0, 2000), 32000.0),
    ];
    for (values, want) in cases {
        assert_close(
            eval_at(f, &dense(10 * S, &values), 8000 * S, M, &args),
            want,
        );
    }
    let down = dense(10 * S, &ramp(0.0, -20.0, 1000));
    assert_close(eval_at(f, &down, 8000 * S, M, &args), -16000.0);
    // Hand-derived: 1, 3, 4 with sf = tf = 0.5: level 1, trend 2 → s = 0.5·3 + 0.5·(1+2) = 3;
    // trend = 0.5·(3−1) + 0.5·2 = 2 → s = 0.5·4 + 0.5·(3+2) = 4.5.
    let short = dense(S, &[1.0, 3.0, 4.0]);
    assert_close(eval_at(f, &short, 2 * S, 10 * S, &[0.5, 0.5]), 4.5);
    assert_eq!(eval_at(f, &short, 0, 10 * S, &[0.5, 0.5]), None);
    // Invalid factors are query errors, checked separately; the kernel emits nothing.
    assert_eq!(eval_at(f, &short, 2 * S, 10 * S, &[1.0, 0.5]), None);
    assert_eq!(
        check_range_fn_args(f, &[0.0, 0.5]),
        Err(RangeFnArgError::InvalidSmoothingFactor(0.0))
    );
    assert_eq!(
        check_range_fn_args(f, &[0.5, 1.0]),
        Err(RangeFnArgError::InvalidTrendFactor(1.0))
    );
    // NaN factors pass Prometheus's check and simply produce NaN.
    assert!(check_range_fn_args(f, &[NAN, 0.5]).is_ok());
    assert_close(eval_at(f, &short, 2 * S, 10 * S, &[NAN, 0.5]), NAN);
    assert!(check_range_fn_args(f, &[0.5, 0.5]).is_ok());
    assert_eq!(
        RangeFnArgError::InvalidSmoothingFactor(1.5).to_string(),
        "invalid smoothing factor. Expected: 0 < sf < 1, got: 1.500000"
    );
}
