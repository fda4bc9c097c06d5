//! Classic-bucket histogram kernels: `histogram_quantile` and `histogram_fraction` over the
//! `le`-labelled bucket series of one histogram, with Prometheus's exact rules.

/// One classic histogram bucket: cumulative `count` of observations `<= upper_bound`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// The bucket's `le` bound (may be +Inf).
    pub upper_bound: f64,
    /// Cumulative count of observations at or below `upper_bound`.
    pub count: f64,
}

/// Result of [`bucket_quantile`] with the two flags the engine turns into annotations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketQuantile {
    /// The estimated quantile (NaN/±Inf in the documented edge cases).
    pub value: f64,
    /// Bucket counts decreased with a growing bound and were raised to keep them monotonic
    /// (Prometheus emits the "histogram_quantile: input to histogram_quantile needed to be
    /// fixed for monotonicity" info annotation then).
    pub forced_monotonic: bool,
    /// Differences between neighbouring counts that were only floating-point noise (relative
    /// delta below 1e-12) were ignored; Prometheus emits no annotation for this.
    pub fixed_precision: bool,
}

/// Where monotonicity had to be forced, for the text of the forced-monotonicity annotation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonotonicityFix {
    /// Smallest upper bound whose count was raised (+Inf when none was).
    pub min_bucket: f64,
    /// Largest upper bound whose count was raised (-Inf when none was).
    pub max_bucket: f64,
    /// Largest amount a count was raised by (0 when none was).
    pub max_diff: f64,
}

/// Relative difference between neighbouring bucket counts below which it is treated as
/// floating-point noise (e.g. from summing shards) and ignored in either direction.
const SMALL_DELTA_TOLERANCE: f64 = 1e-12;

/// `histogram_quantile(q, …)` over classic buckets, exactly as Prometheus computes it:
/// NaN `q` → NaN, `q < 0` → -Inf, `q > 1` → +Inf; buckets are sorted by bound and equal bounds
/// merged; the highest bound must be +Inf and at least two buckets must remain, and the total
/// count must be non-zero, otherwise NaN. Counts are made monotonic (see
/// [`BucketQuantile::forced_monotonic`]), then the rank `q × total` is located and
/// interpolated linearly inside its bucket. The lowest bucket's lower bound is 0 when its
/// upper bound is positive; a rank in a lowest bucket with a bound `<= 0` returns that bound;
/// a rank in the +Inf bucket returns the second-highest bound.
///
/// `buckets` is reordered and its counts adjusted in place.
pub fn bucket_quantile(q: f64, buckets: &mut Vec<Bucket>) -> BucketQuantile {
    bucket_quantile_with_fix(q, buckets).0
}

/// [`bucket_quantile`] plus where monotonicity was forced (for the annotation's text).
pub fn bucket_quantile_with_fix(
    q: f64,
    buckets: &mut Vec<Bucket>,
) -> (BucketQuantile, MonotonicityFix) {
    let mut result = BucketQuantile {
        value: f64::NAN,
        forced_monotonic: false,
        fixed_precision: false,
    };
    let mut fix = MonotonicityFix {
        min_bucket: f64::INFINITY,
        max_bucket: f64::NEG_INFINITY,
        max_diff: 0.0,
    };
    if q.is_nan() {
        return (result, fix);
    }
    if q < 0.0 {
        result.value = f64::NEG_INFINITY;
        return (result, fix);
    }
    if q > 1.0 {
        result.value = f64::INFINITY;
        return (result, fix);
    }
    if !sort_and_check_inf(buckets) {
        return (result, fix);
    }
    coalesce_buckets(buckets);
    (result.forced_monotonic, result.fixed_precision, fix) =
        make_monotonic(buckets, SMALL_DELTA_TOLERANCE);

    if buckets.len() < 2 {
        return (result, fix);
    }
    let observations = buckets[buckets.len() - 1].count;
    if observations == 0.0 {
        return (result, fix);
    }
    let mut rank = q * observations;
    // First bucket (the +Inf one excluded) whose cumulative count reaches the rank.
    let last = buckets.len() - 1;
    let b = buckets[..last].partition_point(|bucket| bucket.count < rank);

    result.value = if b == last {
        buckets[last - 1].upper_bound
    } else if b == 0 && buckets[0].upper_bound <= 0.0 {
        buckets[0].upper_bound
    } else {
        let bucket_end = buckets[b].upper_bound;
        let mut count = buckets[b].count;
        let mut bucket_start = 0.0;
        if b > 0 {
            bucket_start = buckets[b - 1].upper_bound;
            count -= buckets[b - 1].count;
            rank -= buckets[b - 1].count;
        }
        bucket_start + (bucket_end - bucket_start) * (rank / count)
    };
    (result, fix)
}

/// `histogram_fraction(lower, upper, …)` over classic buckets as Prometheus 3.x computes it:
/// the share of observations between `lower` and `upper`, interpolating linearly inside the
/// buckets that contain either value. NaN without a +Inf bucket, with a zero total count or a
/// NaN bound; 0 when `lower >= upper`. The lowest bucket starts at 0 when its upper bound is
/// positive, else at -Inf; nothing is interpolated inside the infinite-width buckets.
///
/// `buckets` is reordered and merged in place.
pub fn bucket_fraction(lower: f64, upper: f64, buckets: &mut Vec<Bucket>) -> f64 {
    if !sort_and_check_inf(buckets) {
        return f64::NAN;
    }
    coalesce_buckets(buckets);

    let count = buckets[buckets.len() - 1].count;
    if count == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }

    let mut rank = 0.0;
    let mut lower_rank: Option<f64> = None;
    let mut upper_rank: Option<f64> = None;
    let mut lower_bound = if buckets[0].upper_bound <= 0.0 {
        f64::NEG_INFINITY
    } else {
        0.0
    };

    for (i, bucket) in buckets.iter().enumerate() {
        if i > 0 {
            lower_bound = buckets[i - 1].upper_bound;
        }
        let upper_bound = bucket.upper_bound;
        // Cumulative count at `v` inside this bucket. A bucket reaching down to -Inf contributes
        // its whole count (no meaningful interpolation); a +Inf upper bound naturally adds 0.
        let interpolate = |v: f64| {
            if lower_bound == f64::NEG_INFINITY {
                bucket.count
            } else {
                rank + (bucket.count - rank) * (v - lower_bound) / (upper_bound - lower_bound)
            }
        };

        if lower_rank.is_none() && lower_bound >= lower {
            lower_rank = Some(rank);
        }
        if upper_rank.is_none() && lower_bound >= upper {
            upper_rank = Some(rank);
        }
        if lower_rank.is_some() && upper_rank.is_some() {
            break;
        }
        if lower_rank.is_none() && lower_bound < lower && upper_bound > lower {
            lower_rank = Some(interpolate(lower));
        }
        if upper_rank.is_none() && lower_bound < upper && upper_bound > upper {
            upper_rank = Some(interpolate(upper));
        }
        if lower_rank.is_some() && upper_rank.is_some() {
            break;
        }
        rank = bucket.count;
    }
    let lower_rank = lower_rank.filter(|r| *r <= count).unwrap_or(count);
    let upper_rank = upper_rank.filter(|r| *r <= count).unwrap_or(count);
    (upper_rank - lower_rank) / count
}

/// Sorts by upper bound; false when there are no buckets or the highest bound is not +Inf.
fn sort_and_check_inf(buckets: &mut [Bucket]) -> bool {
    // Bounds are never NaN in practice; treat incomparable pairs as equal like Prometheus.
    buckets.sort_by(|a, b| {
        a.upper_bound
            .partial_cmp(&b.upper_bound)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    buckets
        .last()
        .is_some_and(|b| b.upper_bound == f64::INFINITY)
}

/// Merges buckets with equal upper bounds (summing counts); input must be sorted.
fn coalesce_buckets(buckets: &mut Vec<Bucket>) {
    buckets.dedup_by(|next, kept| {
        if next.upper_bound == kept.upper_bound {
            kept.count += next.count;
            true
        } else {
            false
        }
    });
}

/// Ignores noise-level differences between neighbours and removes decreases, so counts are
/// non-decreasing. Returns (forced monotonic, fixed precision, where it was forced).
fn make_monotonic(buckets: &mut [Bucket], tolerance: f64) -> (bool, bool, MonotonicityFix) {
    let mut fix = MonotonicityFix {
        min_bucket: f64::INFINITY,
        max_bucket: f64::NEG_INFINITY,
        max_diff: 0.0,
    };
    let (mut forced, mut fixed_precision) = (false, false);
    let Some(first) = buckets.first() else {
        return (forced, fixed_precision, fix);
    };
    // `prev` is the last count kept as-is; replaced counts do not move it.
    let mut prev = first.count;
    for bucket in buckets.iter_mut().skip(1) {
        let curr = bucket.count;
        if curr == prev {
            continue;
        }
        if almost_equal(prev, curr, tolerance) {
            bucket.count = prev;
            fixed_precision = true;
            continue;
        }
        if curr < prev {
            bucket.count = prev;
            forced = true;
            fix.min_bucket = fix.min_bucket.min(bucket.upper_bound);
            fix.max_bucket = fix.max_bucket.max(bucket.upper_bound);
            fix.max_diff = fix.max_diff.max(prev - curr);
            continue;
        }
        prev = curr;
    }
    (forced, fixed_precision, fix)
}

/// True when `a` and `b` differ by less than `epsilon` relative to their magnitude (both NaN
/// counts as equal), with an absolute floor near zero.
fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < f64::MIN_POSITIVE {
        return diff < epsilon * f64::MIN_POSITIVE;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buckets(pairs: &[(f64, f64)]) -> Vec<Bucket> {
        pairs
            .iter()
            .map(|&(upper_bound, count)| Bucket { upper_bound, count })
            .collect()
    }

    const INF: f64 = f64::INFINITY;

    /// `testhistogram_bucket{start="positive"}` of histograms.test at 50m.
    fn positive() -> Vec<Bucket> {
        buckets(&[(0.1, 50.0), (0.2, 70.0), (1.0, 110.0), (INF, 120.0)])
    }

    #[test]
    fn quantile_matches_histograms_test() {
        // histograms.test: histogram_quantile(q, testhistogram_bucket) at 50m.
        let cases = [
            (0.0, 0.0),
            (0.2, 0.048),
            (0.5, 0.15),
            (0.8, 0.72),
            (1.0, 1.0),
        ];
        for (q, want) in cases {
            let got = bucket_quantile(q, &mut positive()).value;
            assert!((got - want).abs() < 1e-9, "q={q}: got {got}, want {want}");
        }
        let negative = || buckets(&[(-0.2, 10.0), (-0.1, 20.0), (0.3, 20.0), (INF, 30.0)]);
        let cases = [
            (0.0, -0.2),
            (0.2, -0.2),
            (0.5, -0.15),
            (0.8, 0.3),
            (1.0, 0.3),
        ];
        for (q, want) in cases {
            let got = bucket_quantile(q, &mut negative()).value;
            assert!((got - want).abs() < 1e-9, "q={q}: got {got}, want {want}");
        }
    }

    #[test]
    fn quantile_edge_cases() {
        assert!(bucket_quantile(f64::NAN, &mut positive()).value.is_nan());
        assert_eq!(
            bucket_quantile(-1.0, &mut positive()).value,
            f64::NEG_INFINITY
        );
        assert_eq!(bucket_quantile(1.01, &mut positive()).value, INF);
        // No +Inf bucket, a lone +Inf bucket, no buckets, zero observations.
        assert!(
            bucket_quantile(0.5, &mut buckets(&[(0.1, 1.0), (0.2, 2.0)]))
                .value
                .is_nan()
        );
        assert!(
            bucket_quantile(0.5, &mut buckets(&[(INF, 5.0)]))
                .value
                .is_nan()
        );
        assert!(
            bucket_quantile(0.5, &mut buckets(&[(INF, 5.0), (INF, 1.0)]))
                .value
                .is_nan()
        );
        assert!(bucket_quantile(0.5, &mut vec![]).value.is_nan());
        assert!(
            bucket_quantile(0.5, &mut buckets(&[(1.0, 0.0), (INF, 0.0)]))
                .value
                .is_nan()
        );
        // Unsorted input and duplicate bounds are sorted and merged.
        let mut unsorted = buckets(&[
            (INF, 100.0),
            (0.2, 35.0),
            (0.1, 25.0),
            (0.1, 25.0),
            (0.2, 35.0),
        ]);
        assert!((bucket_quantile(0.5, &mut unsorted).value - 0.1).abs() < 1e-12);
        assert_eq!(unsorted.len(), 3);
    }

    #[test]
    fn monotonicity_is_forced_and_reported() {
        // Counts 10, 5, 15, 12, 20 → 10, 10, 15, 15, 20.
        let mut b = buckets(&[
            (1.0, 10.0),
            (2.0, 5.0),
            (3.0, 15.0),
            (4.0, 12.0),
            (INF, 20.0),
        ]);
        let (result, fix) = bucket_quantile_with_fix(0.5, &mut b);
        assert!(result.forced_monotonic && !result.fixed_precision);
        assert_eq!(
            b.iter().map(|b| b.count).collect::<Vec<_>>(),
            vec![10.0, 10.0, 15.0, 15.0, 20.0]
        );
        assert_eq!(
            (fix.min_bucket, fix.max_bucket, fix.max_diff),
            (2.0, 4.0, 5.0)
        );
        // rank 10 lands in the first bucket: 0 + 1 × 10/10.
        assert_eq!(result.value, 1.0);
    }

    #[test]
    fn nonmonotonic_bucket_matches_histograms_test() {
        // histograms.test: nonmonotonic_bucket at 50m.
        let nonmonotonic = || {
            let pairs = [
                (0.1, 20.0),
                (1.0, 10.0),
                (10.0, 50.0),
                (100.0, 40.0),
                (1000.0, 90.0),
                (INF, 80.0),
            ];
            buckets(&pairs)
        };
        for (q, want) in [(0.01, 0.0045), (0.5, 8.5), (0.99, 979.75)] {
            let (result, fix) = bucket_quantile_with_fix(q, &mut nonmonotonic());
            assert!(
                (result.value - want).abs() < 1e-9 * want,
                "q={q}: got {}, want {want}",
                result.value
            );
            assert!(result.forced_monotonic);
            assert_eq!(
                (fix.min_bucket, fix.max_bucket, fix.max_diff),
                (1.0, INF, 10.0)
            );
        }
    }

    #[test]
    fn tiny_deltas_are_ignored_silently() {
        let mut b = buckets(&[(1.0, 100.0), (2.0, 100.0 * (1.0 - 1e-14)), (INF, 200.0)]);
        let result = bucket_quantile(0.25, &mut b);
        assert!(result.fixed_precision && !result.forced_monotonic);
        assert_eq!(b[1].count, 100.0);
        assert_eq!(result.value, 0.5);
    }

    #[test]
    fn fraction_matches_prometheus_rules() {
        // Cases and expectations from histograms.test (buckets 1:1, 2:3, 3:6, +Inf:100 and
        // -3:10, -2:12, -1:15, +Inf:100).
        let pos = || buckets(&[(1.0, 1.0), (2.0, 3.0), (3.0, 6.0), (INF, 100.0)]);
        let neg = || buckets(&[(-3.0, 10.0), (-2.0, 12.0), (-1.0, 15.0), (INF, 100.0)]);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(bucket_fraction(0.0, 1.5, &mut pos()), 0.02));
        assert!(close(bucket_fraction(-4.0, -2.0, &mut neg()), 0.02));
        assert!(close(
            bucket_fraction(f64::NEG_INFINITY, -1.5, &mut neg()),
            0.135
        ));
        assert!(close(
            bucket_fraction(f64::NEG_INFINITY, INF, &mut pos()),
            1.0
        ));
        assert!(close(
            bucket_fraction(f64::NEG_INFINITY, INF, &mut neg()),
            1.0
        ));
        assert!(close(bucket_fraction(4.0, 5.0, &mut pos()), 0.0));
        assert!(close(bucket_fraction(0.0, 1.0, &mut neg()), 0.0));
        assert!(close(bucket_fraction(2.0, 5.0, &mut pos()), 0.03));
        // testhistogram2 (0:0, 2:1, 4:2, 6:3, +Inf:3) at 50m scaled ×10.
        let h2 = || {
            buckets(&[
                (0.0, 0.0),
                (2.0, 10.0),
                (4.0, 20.0),
                (6.0, 30.0),
                (INF, 30.0),
            ])
        };
        assert!(close(bucket_fraction(0.0, 4.0, &mut h2()), 2.0 / 3.0));
        assert!(close(
            bucket_fraction(0.0, 3.5, &mut h2()),
            0.5833333333333334
        ));
        let frac = |lo, hi| bucket_fraction(lo, hi, &mut positive());
        assert_eq!(frac(0.2, 0.1), 0.0);
        assert!(frac(f64::NAN, 0.1).is_nan());
        assert!(bucket_fraction(0.0, 1.0, &mut buckets(&[(1.0, 3.0)])).is_nan());
        assert!(bucket_fraction(0.0, 1.0, &mut buckets(&[(1.0, 0.0), (INF, 0.0)])).is_nan());
        assert!(bucket_fraction(0.0, 1.0, &mut vec![]).is_nan());
        // Lowest bound <= 0 reaches to -Inf: its whole count is taken, no interpolation.
        let mut neg = buckets(&[(-1.0, 2.0), (1.0, 6.0), (INF, 8.0)]);
        assert!((bucket_fraction(-5.0, 0.0, &mut neg) - (4.0 - 2.0) / 8.0).abs() < 1e-12);
    }
}
