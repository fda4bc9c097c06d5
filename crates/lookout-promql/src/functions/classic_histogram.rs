//! `histogram_quantile` and `histogram_fraction` over classic histograms: buckets grouped by their labels
//! without `le`, then handed to the kernels in `histogram`.

use rustc_hash::FxHashMap as HashMap;

use lookout_model::Labels;

use super::histogram::{Bucket, bucket_fraction, bucket_quantile};
use crate::annotations::{bad_bucket_label, forced_monotonicity, go_g, invalid_quantile};
use crate::eval::{Elem, Evaluator, Vector};

/// Buckets of one histogram at one step.
struct Group {
    labels: Labels,
    buckets: Vec<Bucket>,
}

/// Groups the bucket series of `vec` by their labels without `le`, warning about unusable `le` values.
fn group_buckets(ev: &Evaluator<'_>, vec: Vector) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::default();
    for e in vec {
        let le = e.labels.get("le").unwrap_or("");
        let Ok(upper_bound) = parse_go_float(le) else {
            ev.env
                .annos
                .warn(bad_bucket_label(e.labels.metric_name().unwrap_or(""), le));
            continue;
        };
        let key = e.labels.drop_names(&["le"]);
        let i = *index.entry(key.clone()).or_insert_with(|| {
            groups.push(Group {
                labels: key,
                buckets: Vec::new(),
            });
            groups.len() - 1
        });
        groups[i].buckets.push(Bucket {
            upper_bound,
            count: e.v,
        });
    }
    groups
}

/// Parses a bucket bound as Go's `strconv.ParseFloat` would for the values exporters write.
fn parse_go_float(s: &str) -> Result<f64, ()> {
    match s {
        "+Inf" | "Inf" | "inf" | "+inf" => Ok(f64::INFINITY),
        "-Inf" | "-inf" => Ok(f64::NEG_INFINITY),
        _ => s
            .trim_start_matches('+')
            .parse::<f64>()
            .map_err(|_| ())
            .and_then(|v| {
                if s.is_empty() || s.contains('_') {
                    Err(())
                } else {
                    Ok(v)
                }
            }),
    }
}

/// `histogram_quantile(q, buckets)` for one step.
pub(crate) fn histogram_quantile(ev: &Evaluator<'_>, q: f64, vec: Vector) -> Vector {
    if q.is_nan() || !(0.0..=1.0).contains(&q) {
        ev.env.annos.warn(invalid_quantile(q));
    }
    let t = vec.first().map(|e| e.t).unwrap_or(0);
    let mut out = Vec::new();
    for mut g in group_buckets(ev, vec) {
        if g.buckets.is_empty() {
            continue;
        }
        let r = bucket_quantile(q, &mut g.buckets);
        if r.forced_monotonic {
            ev.env
                .annos
                .info(forced_monotonicity(g.labels.metric_name().unwrap_or("")));
        }
        out.push(Elem {
            labels: g.labels,
            v: r.value,
            t,
            drop_name: true,
        });
    }
    out
}

/// A quantile as OpenMetrics writes floats: `0.0`, `0.25`, `1.0`, `NaN`, `+Inf`.
fn openmetrics_float(q: f64) -> String {
    let s = go_g(q);
    if s.contains(['.', 'e', 'I', 'N']) {
        s
    } else {
        format!("{s}.0")
    }
}

/// `histogram_quantiles(buckets, label, q...)` for one step: one series per histogram and quantile,
/// the quantile in `label`.
pub(crate) fn histogram_quantiles(
    ev: &Evaluator<'_>,
    vec: Vector,
    label: &str,
    qs: &[f64],
) -> Vector {
    for &q in qs {
        if q.is_nan() || !(0.0..=1.0).contains(&q) {
            ev.env.annos.warn(invalid_quantile(q));
        }
    }
    let t = vec.first().map(|e| e.t).unwrap_or(0);
    let mut groups = group_buckets(ev, vec);
    let mut out = Vec::new();
    for &q in qs {
        let q_str = openmetrics_float(q);
        for g in groups.iter_mut().filter(|g| !g.buckets.is_empty()) {
            let r = bucket_quantile(q, &mut g.buckets);
            if r.forced_monotonic {
                ev.env
                    .annos
                    .info(forced_monotonicity(g.labels.metric_name().unwrap_or("")));
            }
            let mut b = g.labels.to_builder();
            b.set(label, &q_str);
            out.push(Elem {
                labels: b.build_unchecked(),
                v: r.value,
                t,
                drop_name: true,
            });
        }
    }
    out
}

/// `histogram_fraction(lower, upper, buckets)` for one step.
pub(crate) fn histogram_fraction(
    ev: &Evaluator<'_>,
    lower: f64,
    upper: f64,
    vec: Vector,
) -> Vector {
    let t = vec.first().map(|e| e.t).unwrap_or(0);
    let mut out = Vec::new();
    for mut g in group_buckets(ev, vec) {
        if g.buckets.is_empty() {
            continue;
        }
        let v = bucket_fraction(lower, upper, &mut g.buckets);
        out.push(Elem {
            labels: g.labels,
            v,
            t,
            drop_name: true,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bucket_bounds_like_go() {
        assert_eq!(parse_go_float("+Inf"), Ok(f64::INFINITY));
        assert_eq!(parse_go_float("0.5"), Ok(0.5));
        assert_eq!(parse_go_float("1e3"), Ok(1000.0));
        assert!(parse_go_float("").is_err());
        assert!(parse_go_float("Hello World").is_err());
    }

    #[test]
    fn quantile_labels_look_like_openmetrics() {
        assert_eq!(openmetrics_float(0.0), "0.0");
        assert_eq!(openmetrics_float(1.0), "1.0");
        assert_eq!(openmetrics_float(0.25), "0.25");
        assert_eq!(openmetrics_float(-0.1), "-0.1");
        assert_eq!(openmetrics_float(f64::NAN), "NaN");
    }
}
