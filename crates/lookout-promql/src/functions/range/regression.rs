//! Trend functions: least-squares `deriv`/`predict_linear` and `double_exponential_smoothing`.

use lookout_model::Sample;

use crate::functions::math::kahan_sum_inc;

/// Least-squares line through the samples with x = seconds relative to `intercept_time_ms`.
/// Returns (slope per second, value at `intercept_time_ms`). A constant series has slope 0
/// (NaN for a constant ±Inf) so that exact constants are not disturbed by rounding.
fn linear_regression(window: &[Sample], intercept_time_ms: i64) -> (f64, f64) {
    let init_y = window[0].v;
    let mut constant_y = true;
    let mut n = 0.0;
    let (mut sum_x, mut c_x) = (0.0, 0.0);
    let (mut sum_y, mut c_y) = (0.0, 0.0);
    let (mut sum_xy, mut c_xy) = (0.0, 0.0);
    let (mut sum_x2, mut c_x2) = (0.0, 0.0);
    for (i, sample) in window.iter().enumerate() {
        if constant_y && i > 0 && sample.v != init_y {
            constant_y = false;
        }
        n += 1.0;
        let x = (sample.t - intercept_time_ms) as f64 / 1e3;
        (sum_x, c_x) = kahan_sum_inc(x, sum_x, c_x);
        (sum_y, c_y) = kahan_sum_inc(sample.v, sum_y, c_y);
        (sum_xy, c_xy) = kahan_sum_inc(x * sample.v, sum_xy, c_xy);
        (sum_x2, c_x2) = kahan_sum_inc(x * x, sum_x2, c_x2);
    }
    if constant_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    sum_x += c_x;
    sum_y += c_y;
    sum_xy += c_xy;
    sum_x2 += c_x2;

    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}

/// `deriv`: the regression slope (x measured from the first sample, as Prometheus does, which
/// keeps the sums small). `None` with fewer than two samples.
pub(crate) fn deriv(window: &[Sample]) -> Option<f64> {
    if window.len() < 2 {
        return None;
    }
    Some(linear_regression(window, window[0].t).0)
}

/// `predict_linear(window, seconds)` with the line anchored at `eval_ts_ms`, the evaluation
/// timestamp (not shifted by `offset`/`@`, matching Prometheus). `None` with fewer than two
/// samples.
pub fn predict_linear_at(window: &[Sample], eval_ts_ms: i64, seconds: f64) -> Option<f64> {
    if window.len() < 2 {
        return None;
    }
    let (slope, intercept) = linear_regression(window, eval_ts_ms);
    Some(slope * seconds + intercept)
}

/// `double_exponential_smoothing(window, sf, tf)` (Holt's linear method): the smoothed level
/// after the last sample. The initial level is the first value and the initial trend the
/// first difference. `None` with fewer than two samples; the factors must already be checked
/// to lie in (0, 1).
pub(crate) fn double_exponential_smoothing(window: &[Sample], sf: f64, tf: f64) -> Option<f64> {
    if window.len() < 2 {
        return None;
    }
    let mut previous_level = 0.0;
    let mut level = window[0].v;
    let mut trend = window[1].v - window[0].v;
    for (i, sample) in window.iter().enumerate().skip(1) {
        // The first step keeps the initial trend; later steps blend in the last level change.
        if i > 1 {
            trend = tf * (level - previous_level) + (1.0 - tf) * trend;
        }
        let new_level = sf * sample.v + (1.0 - sf) * (level + trend);
        previous_level = level;
        level = new_level;
    }
    Some(level)
}
