//! Kernels for Prometheus's experimental extended range selectors, `x[5m] anchored` and
//! `x[5m] smoothed`: instead of extrapolating, they take the value at the window's edges from
//! the sample at or before the start (anchored) or by linear interpolation across both edges
//! (smoothed). Only rate/increase/delta (both) and resets/changes (anchored) accept them.
//!
//! Not reachable from queries yet: `promql-parser` 0.11 tokenizes but does not parse the
//! modifiers. The kernels are complete so the engine only has to select the wider sample range.

use lookout_model::Sample;

use super::{RangeFn, counter, duration_seconds};

/// An extended range-selector modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeModifier {
    /// `anchored`: the window starts at the last sample at or before its start.
    Anchored,
    /// `smoothed`: both edges are interpolated between the samples around them.
    Smoothed,
}

impl RangeModifier {
    /// The keyword as written in PromQL.
    pub fn keyword(self) -> &'static str {
        match self {
            RangeModifier::Anchored => "anchored",
            RangeModifier::Smoothed => "smoothed",
        }
    }

    /// Whether `f` accepts this modifier. Otherwise the query fails with "<keyword> modifier
    /// can only be used with: <names, comma-separated> - not with <function>", the names being
    /// [`RangeModifier::allowed_functions`].
    pub fn supports(self, f: RangeFn) -> bool {
        self.allowed_functions().contains(&f.name())
    }

    /// The functions accepting this modifier, alphabetically (as listed in the error).
    pub fn allowed_functions(self) -> &'static [&'static str] {
        match self {
            RangeModifier::Anchored => &["changes", "delta", "increase", "rate", "resets"],
            RangeModifier::Smoothed => &["delta", "increase", "rate"],
        }
    }
}

/// Evaluates `f` over an extended range selector. `samples` are the series' float samples
/// with `range_start_ms − lookback < t <= range_end_ms` (plus `+ lookback` at the end for
/// `smoothed`), oldest first, staleness markers removed; the bounds are those of the plain
/// window after `offset`/`@`. `None` when Prometheus emits nothing (no sample inside the
/// window, or a function that does not accept the modifier — see [`RangeModifier::supports`]).
pub fn eval_extended_range_fn(
    f: RangeFn,
    samples: &[Sample],
    range_start_ms: i64,
    range_end_ms: i64,
    modifier: RangeModifier,
) -> Option<f64> {
    if !modifier.supports(f) {
        return None;
    }
    let smoothed = modifier == RangeModifier::Smoothed;
    match f {
        RangeFn::Rate => edge_rate(samples, range_start_ms, range_end_ms, smoothed, true, true),
        RangeFn::Increase => {
            edge_rate(samples, range_start_ms, range_end_ms, smoothed, true, false)
        }
        RangeFn::Delta => edge_rate(
            samples,
            range_start_ms,
            range_end_ms,
            smoothed,
            false,
            false,
        ),
        RangeFn::Resets => anchored_tail(samples, range_start_ms).map(counter::resets),
        RangeFn::Changes => anchored_tail(samples, range_start_ms).map(counter::changes),
        _ => None,
    }
}

/// The samples from the last one at or before `range_start_ms` on (all of them if none is);
/// `None` if no sample lies after the start.
fn anchored_tail(samples: &[Sample], range_start_ms: i64) -> Option<&[Sample]> {
    let after_start = samples.partition_point(|s| s.t <= range_start_ms);
    if after_start >= samples.len() {
        return None;
    }
    Some(&samples[after_start.saturating_sub(1)..])
}

/// rate/increase/delta from the values at the window edges (picked or interpolated), plus the
/// counter-reset correction for the samples strictly inside the window.
fn edge_rate(
    samples: &[Sample],
    range_start_ms: i64,
    range_end_ms: i64,
    smoothed: bool,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut last = samples.len() - 1;
    // The last sample at or before the start (or the first sample), never the final one.
    let first = samples[..last]
        .partition_point(|s| s.t <= range_start_ms)
        .saturating_sub(1);
    if smoothed {
        // The first sample at or after the end (or the final one).
        last = samples[..last].partition_point(|s| s.t < range_end_ms);
    }
    if samples[last].t <= range_start_ms || (smoothed && samples[first].t > range_end_ms) {
        return None;
    }

    let left = if smoothed && samples[first].t < range_start_ms {
        interpolate(
            samples[first],
            samples[first + 1],
            range_start_ms,
            is_counter,
        )
    } else {
        samples[first].v
    };
    let right = if smoothed && last > 0 && samples[last].t > range_end_ms {
        interpolate(samples[last - 1], samples[last], range_end_ms, is_counter)
    } else {
        samples[last].v
    };

    let mut result = right - left;
    if is_counter {
        // Samples on or beyond the edges are represented by `left`/`right` already.
        let inner_start = if samples[first].t <= range_start_ms {
            first + 1
        } else {
            first
        };
        let inner_end = if samples[last].t >= range_end_ms {
            last
        } else {
            last + 1
        };
        let inner = samples.get(inner_start..inner_end).unwrap_or(&[]);
        result += reset_correction(left, right, inner);
    }
    if is_rate {
        result /= duration_seconds(range_end_ms - range_start_ms);
    }
    Some(result)
}

/// Linear interpolation at `t` between two samples; for counters a drop means the counter
/// restarted from 0 between them.
fn interpolate(p1: Sample, p2: Sample, t: i64, is_counter: bool) -> f64 {
    let y1 = if is_counter && p2.v < p1.v { 0.0 } else { p1.v };
    y1 + (p2.v - y1) * (t - p1.t) as f64 / (p2.t - p1.t) as f64
}

/// Sum of the values reached before each drop along left → inner samples → right.
fn reset_correction(left: f64, right: f64, inner: &[Sample]) -> f64 {
    let mut correction = 0.0;
    let mut prev = left;
    for sample in inner {
        if sample.v < prev {
            correction += prev;
        }
        prev = sample.v;
    }
    if right < prev {
        correction += prev;
    }
    correction
}
