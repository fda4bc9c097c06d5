//! Counter and gauge change functions: rate/increase/delta with Prometheus's extrapolation,
//! irate/idelta, resets and changes.

use lookout_model::Sample;

use super::duration_seconds;

/// `rate` (`is_counter && is_rate`), `increase` (`is_counter`) and `delta` (neither) over a
/// window with at least two samples.
///
/// The raw difference last − first (plus, for counters, every value that preceded a drop) is
/// extrapolated towards both window edges: all the way when the gap to the edge is shorter
/// than 1.1 × the average sample interval, otherwise by half an average interval. For
/// counters the start is further limited to where a straight line through the samples would
/// reach zero, because a counter never goes below zero.
pub(crate) fn extrapolated_rate(
    window: &[Sample],
    range_start_ms: i64,
    range_end_ms: i64,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    let resets = window
        .windows(2)
        .filter(|pair| is_counter && pair[1].v < pair[0].v)
        .map(|pair| pair[0].v);
    extrapolated_rate_with_resets(
        window,
        range_start_ms,
        range_end_ms,
        is_counter,
        is_rate,
        resets,
    )
}

/// [`extrapolated_rate`] with the window's counter resets already found: `reset_values` are the values just
/// before each reset inside the window, in order (added in that order, so the result is bit-identical). A range
/// query finds a series' resets once instead of rescanning every overlapping window.
pub(crate) fn extrapolated_rate_with_resets(
    window: &[Sample],
    range_start_ms: i64,
    range_end_ms: i64,
    is_counter: bool,
    is_rate: bool,
    reset_values: impl Iterator<Item = f64>,
) -> Option<f64> {
    if window.len() < 2 {
        return None;
    }
    let first = window[0];
    let last = window[window.len() - 1];
    let mut result = last.v - first.v;
    if is_counter {
        for before_reset in reset_values {
            // A reset: the counter restarted from zero, so add back what it had reached.
            result += before_reset;
        }
    }

    let mut duration_to_start = (first.t - range_start_ms) as f64 / 1000.0;
    let mut duration_to_end = (range_end_ms - last.t) as f64 / 1000.0;
    let sampled_interval = (last.t - first.t) as f64 / 1000.0;
    let average_interval = sampled_interval / (window.len() - 1) as f64;
    let extrapolation_threshold = average_interval * 1.1;

    if duration_to_start >= extrapolation_threshold {
        duration_to_start = average_interval / 2.0;
    }
    if is_counter {
        let mut duration_to_zero = duration_to_start;
        if result > 0.0 && first.v >= 0.0 {
            duration_to_zero = sampled_interval * (first.v / result);
        }
        if duration_to_zero < duration_to_start {
            duration_to_start = duration_to_zero;
        }
    }
    if duration_to_end >= extrapolation_threshold {
        duration_to_end = average_interval / 2.0;
    }

    let mut factor = 1.0;
    if sampled_interval != 0.0 {
        factor = (sampled_interval + duration_to_start + duration_to_end) / sampled_interval;
    }
    if is_rate {
        factor /= duration_seconds(range_end_ms - range_start_ms);
    }
    Some(result * factor)
}

/// `irate` (`is_rate`) and `idelta` from the last two samples. For `irate` a drop counts as
/// a counter reset, so the rate is the last value over the interval.
pub(crate) fn instant_value(window: &[Sample], is_rate: bool) -> Option<f64> {
    let [.., previous, last] = window else {
        return None;
    };
    let interval_ms = last.t - previous.t;
    if interval_ms == 0 {
        return None;
    }
    let mut value = last.v;
    if !is_rate || last.v >= previous.v || last.v.is_nan() || previous.v.is_nan() {
        value = last.v - previous.v;
    }
    if is_rate {
        value /= interval_ms as f64 / 1000.0;
    }
    Some(value)
}

/// Number of times a value is lower than the one before it.
pub(crate) fn resets(window: &[Sample]) -> f64 {
    window
        .windows(2)
        .filter(|pair| pair[1].v < pair[0].v)
        .count() as f64
}

/// Number of times a value differs from the one before it (NaN followed by NaN is no change).
pub(crate) fn changes(window: &[Sample]) -> f64 {
    window
        .windows(2)
        .filter(|pair| pair[1].v != pair[0].v && !(pair[1].v.is_nan() && pair[0].v.is_nan()))
        .count() as f64
}
