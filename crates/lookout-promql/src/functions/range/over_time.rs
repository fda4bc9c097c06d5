//! The `*_over_time` aggregations over a non-empty window.

use lookout_model::Sample;

use crate::functions::math::{kahan_sum_inc, quantile};

/// Mean with Kahan compensation; if the running sum overflows to ±Inf, switches to an
/// incremental mean (scaling the mean and its compensation by (n−1)/n at each step) so that
/// large finite values still average to a finite result.
pub(crate) fn avg(window: &[Sample]) -> f64 {
    let mut sum = window[0].v;
    let mut c = 0.0;
    let mut count = 1.0;
    let mut mean = 0.0;
    let mut incremental = false;
    for (i, sample) in window.iter().enumerate().skip(1) {
        count = (i + 1) as f64;
        if !incremental {
            let (new_sum, new_c) = kahan_sum_inc(sample.v, sum, c);
            if !new_sum.is_infinite() {
                (sum, c) = (new_sum, new_c);
                continue;
            }
            incremental = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (mean, c) = kahan_sum_inc(sample.v / count, q * mean, q * c);
    }
    if incremental {
        mean + c
    } else {
        sum / count + c / count
    }
}

/// Sum with Kahan compensation (the compensation is dropped when the sum is infinite).
pub(crate) fn sum(window: &[Sample]) -> f64 {
    let (mut sum, mut c) = (0.0, 0.0);
    for sample in window {
        (sum, c) = kahan_sum_inc(sample.v, sum, c);
    }
    if sum.is_infinite() { sum } else { sum + c }
}

/// The sample that wins under `replaces(current, best)`, scanning oldest first and starting
/// from the first sample; a NaN best is always replaced. Strict comparisons keep the first
/// winner (min/max), non-strict ones the last (ts_of_min/ts_of_max).
pub(crate) fn extreme(window: &[Sample], replaces: impl Fn(f64, f64) -> bool) -> Sample {
    let mut best = window[0];
    for sample in window {
        if replaces(sample.v, best.v) || best.v.is_nan() {
            best = *sample;
        }
    }
    best
}

/// Population variance by Welford's online algorithm, with the mean and the sum of squared
/// deviations both Kahan-compensated.
pub(crate) fn variance(window: &[Sample]) -> f64 {
    let mut count = 0.0;
    let (mut mean, mut c_mean) = (0.0, 0.0);
    let (mut aux, mut c_aux) = (0.0, 0.0);
    for sample in window {
        count += 1.0;
        let delta = sample.v - (mean + c_mean);
        (mean, c_mean) = kahan_sum_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_sum_inc(delta * (sample.v - (mean + c_mean)), aux, c_aux);
    }
    (aux + c_aux) / count
}

/// Median of the absolute deviations from the median; NaN if any value is NaN.
pub(crate) fn median_absolute_deviation(window: &[Sample]) -> f64 {
    if window.iter().any(|s| s.v.is_nan()) {
        return f64::NAN;
    }
    let mut values: Vec<f64> = window.iter().map(|s| s.v).collect();
    let median = quantile(0.5, &mut values);
    for v in &mut values {
        *v = (*v - median).abs();
    }
    quantile(0.5, &mut values)
}
