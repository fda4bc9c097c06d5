//! Vector-level parts of the `anchored` and `smoothed` modifiers (the range-function kernels are in
//! `functions::range`): range vectors bounded by picked or interpolated edge points, and smoothed
//! instant values.

use lookout_model::Sample;

/// Linear interpolation at `t`; for a counter a drop between the points is a reset from zero.
pub(crate) fn interpolate(p1: Sample, p2: Sample, t: i64, is_counter: bool) -> f64 {
    let y1 = if is_counter && p2.v < p1.v { 0.0 } else { p1.v };
    y1 + (p2.v - y1) * (t - p1.t) as f64 / (p2.t - p1.t) as f64
}

/// The first index in `[0, n)` where `pred` holds, or `n` (Go's `sort.Search`).
fn search(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    (0..n).find(|&i| pred(i)).unwrap_or(n)
}

fn pick_left(f: &[Sample], first: usize, start: i64, smoothed: bool, is_counter: bool) -> f64 {
    if smoothed && f[first].t < start && first + 1 < f.len() {
        return interpolate(f[first], f[first + 1], start, is_counter);
    }
    f[first].v
}

fn pick_right(f: &[Sample], last: usize, end: i64, smoothed: bool, is_counter: bool) -> f64 {
    if smoothed && last > 0 && f[last].t > end {
        return interpolate(f[last - 1], f[last], end, is_counter);
    }
    f[last].v
}

/// The samples of a range vector with anchored/smoothed modifier, bounded by synthetic points at
/// `mint` and `maxt` (picked or interpolated).
pub(crate) fn extend_floats(f: &[Sample], mint: i64, maxt: i64, smoothed: bool) -> Vec<Sample> {
    if f.is_empty() {
        return Vec::new();
    }
    let mut last = f.len() - 1;
    let mut first = search(last, |i| f[i].t > mint).saturating_sub(1);
    if smoothed {
        last = search(last, |i| f[i].t >= maxt);
    }
    if f[last].t <= mint {
        return Vec::new();
    }
    let left = pick_left(f, first, mint, smoothed, false);
    let right = pick_right(f, last, maxt, smoothed, false);
    if f[first].t <= mint {
        first += 1;
    }
    let hi = if f[last].t >= maxt {
        last as isize - 1
    } else {
        last as isize
    };
    let mut out = vec![Sample::new(mint, left)];
    if first as isize <= hi {
        out.extend_from_slice(&f[first..=hi as usize]);
    }
    out.push(Sample::new(maxt, right));
    out
}

/// A smoothed instant value at `t` from the samples within one lookback on either side.
pub(crate) fn smoothed_value(f: &[Sample], t: i64) -> Option<f64> {
    let i = f.partition_point(|s| s.t < t);
    match (f.get(i), i) {
        (Some(s), _) if s.t == t => Some(s.v),
        (Some(next), i) if i > 0 => Some(interpolate(f[i - 1], *next, t, false)),
        (None, i) if i > 0 => Some(f[i - 1].v),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(pts: &[(i64, f64)]) -> Vec<Sample> {
        pts.iter().map(|&(t, v)| Sample::new(t, v)).collect()
    }

    #[test]
    fn smoothed_bounds_are_interpolated() {
        let f = s(&[(0, 0.0), (20, 20.0), (40, 40.0), (80, 80.0)]);
        assert_eq!(smoothed_value(&f, 30), Some(30.0));
        assert_eq!(smoothed_value(&f, 90), Some(80.0));
        assert_eq!(smoothed_value(&f[1..], 10), None);
        assert_eq!(
            extend_floats(&f, 10, 60, true),
            s(&[(10, 10.0), (20, 20.0), (40, 40.0), (60, 60.0)])
        );
    }
}
