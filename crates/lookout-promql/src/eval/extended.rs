//! Kernels of the `anchored` and `smoothed` modifiers: windows that start at the last sample before
//! them, or whose bounds are interpolated between the samples around them.

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

fn counter_reset_correction(left: f64, right: f64, points: &[Sample]) -> f64 {
    let mut correction = 0.0;
    let mut prev = left;
    for p in points {
        if p.v < prev {
            correction += prev;
        }
        prev = p.v;
    }
    if right < prev {
        correction += prev;
    }
    correction
}

/// rate/increase/delta over an anchored or smoothed window: `f` holds the samples from one lookback
/// before `start` to `end` (plus one lookback after it when smoothed).
pub(crate) fn extended_rate(
    f: &[Sample],
    (start, end): (i64, i64),
    smoothed: bool,
    is_counter: bool,
    per_second: Option<f64>,
) -> Option<f64> {
    if f.is_empty() {
        return None;
    }
    let mut last = f.len() - 1;
    let first = search(last, |i| f[i].t > start).saturating_sub(1);
    if smoothed {
        last = search(last, |i| f[i].t >= end);
    }
    if f[last].t <= start || (smoothed && f[first].t > end) {
        return None;
    }
    let left = pick_left(f, first, start, smoothed, is_counter);
    let right = pick_right(f, last, end, smoothed, is_counter);
    let mut result = right - left;
    if is_counter {
        let lo = if f[first].t <= start {
            first + 1
        } else {
            first
        };
        let hi = if f[last].t >= end {
            last as isize - 1
        } else {
            last as isize
        };
        let inner = if (lo as isize) <= hi {
            &f[lo..=hi as usize]
        } else {
            &[][..]
        };
        result += counter_reset_correction(left, right, inner);
    }
    Some(match per_second {
        Some(secs) => result / secs,
        None => result,
    })
}

/// For anchored `changes`/`resets`: where the window starts (the last sample at or before `start`),
/// or `None` when no sample lies after `start`.
pub(crate) fn anchored_first(f: &[Sample], start: i64) -> Option<usize> {
    let after = f.partition_point(|s| s.t <= start);
    if after >= f.len() {
        return None;
    }
    Some(after.saturating_sub(1))
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
    fn anchored_increase_uses_the_sample_before_the_window() {
        let f = s(&[(0, 1.0), (30, 4.0), (60, 10.0)]);
        assert_eq!(extended_rate(&f, (10, 60), false, true, None), Some(9.0));
        // A reset inside the window is corrected.
        let f = s(&[(0, 5.0), (30, 2.0), (60, 4.0)]);
        assert_eq!(extended_rate(&f, (10, 60), false, true, None), Some(4.0));
    }

    #[test]
    fn smoothed_bounds_are_interpolated() {
        let f = s(&[(0, 0.0), (20, 20.0), (40, 40.0), (80, 80.0)]);
        assert_eq!(extended_rate(&f, (10, 60), true, true, None), Some(50.0));
        assert_eq!(smoothed_value(&f, 30), Some(30.0));
        assert_eq!(smoothed_value(&f, 90), Some(80.0));
        assert_eq!(smoothed_value(&f[1..], 10), None);
        assert_eq!(
            extend_floats(&f, 10, 60, true),
            s(&[(10, 10.0), (20, 20.0), (40, 40.0), (60, 60.0)])
        );
    }
}
