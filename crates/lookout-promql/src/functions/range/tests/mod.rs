//! Cases taken from Prometheus's functions.test (expected values as written there) plus
//! hand-derived edge cases.

use super::*;

mod counter;
mod extended;
mod over_time;

pub(super) const S: i64 = 1000;
pub(super) const M: i64 = 60 * S;
pub(super) const INF: f64 = f64::INFINITY;
pub(super) const NAN: f64 = f64::NAN;

/// A series as a promqltest `load <interval>` line writes it: point k at k × interval,
/// `None` for `_` (no sample).
pub(super) fn load(interval_ms: i64, values: &[Option<f64>]) -> Vec<Sample> {
    values
        .iter()
        .enumerate()
        .filter_map(|(k, v)| v.map(|v| Sample::new(k as i64 * interval_ms, v)))
        .collect()
}

/// `load` with every point present.
pub(super) fn dense(interval_ms: i64, values: &[f64]) -> Vec<Sample> {
    load(
        interval_ms,
        &values.iter().map(|v| Some(*v)).collect::<Vec<_>>(),
    )
}

/// `start+step×n` expanded like promqltest (n + 1 points).
pub(super) fn ramp(start: f64, step: f64, n: usize) -> Vec<f64> {
    (0..=n).map(|k| start + step * k as f64).collect()
}

/// Evaluates `f` at `eval_ms` over `series[range_ms]` (window `(eval − range, eval]`).
pub(super) fn eval_at(
    f: RangeFn,
    series: &[Sample],
    eval_ms: i64,
    range_ms: i64,
    args: &[f64],
) -> Option<f64> {
    let start = eval_ms - range_ms;
    let window: Vec<Sample> = series
        .iter()
        .copied()
        .filter(|s| s.t > start && s.t <= eval_ms)
        .collect();
    eval_range_fn(f, &window, start, eval_ms, args)
}

#[track_caller]
pub(super) fn assert_close(got: Option<f64>, want: f64) {
    let got = got.expect("expected a value, got none");
    if want.is_nan() {
        assert!(got.is_nan(), "got {got}, want NaN");
        return;
    }
    if want.is_infinite() || want == 0.0 {
        assert_eq!(got, want);
        return;
    }
    assert!(((got - want) / want).abs() < 1e-9, "got {got}, want {want}");
}

#[test]
fn names_round_trip() {
    for (f, name) in NAMES {
        assert_eq!(RangeFn::from_name(name), Some(*f));
        assert_eq!(f.name(), *name);
    }
    assert_eq!(
        RangeFn::from_name("holt_winters"),
        Some(RangeFn::DoubleExponentialSmoothing)
    );
    assert_eq!(RangeFn::from_name("abs"), None);
    assert_eq!(NAMES.len(), 26);
}
