//! Checking one query result against an `eval` command's expectations, with upstream's float tolerance.

use lookout_model::{Labels, is_stale_nan};
use lookout_promql::{Annotation, AnnotationKind, MatrixSeries, Value, VectorSample};

use crate::script::{Eval, ExpectedSeries, TextMatch};
use crate::series::Point;

/// Relative tolerance of value comparisons (upstream's `defaultEpsilon`).
pub const EPSILON: f64 = 1e-6;

/// Upstream's `almost.Equal`: stale markers equal only each other, NaN equals NaN, else relative error < ε
/// (absolute, scaled by the smallest normal, near zero).
pub fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    if is_stale_nan(a) || is_stale_nan(b) {
        return is_stale_nan(a) && is_stale_nan(b);
    }
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

/// An annotation as upstream's runner sees it (`err.Error()`): with the `PromQL warning: ` / `PromQL info: `
/// prefix. Messages that already carry it are kept as they are.
pub fn annotation_text(a: &Annotation) -> String {
    let prefix = match a.kind {
        AnnotationKind::Warning => "PromQL warning: ",
        AnnotationKind::Info => "PromQL info: ",
    };
    if a.message.starts_with(prefix) {
        a.message.clone()
    } else {
        format!("{prefix}{}", a.message)
    }
}

/// Checks an error of a query that had to fail against the expected message or pattern, if any.
pub fn check_failure(eval: &Eval, error_text: &str) -> Result<(), String> {
    if let Some(m) = &eval.expected_fail_message
        && m != error_text
    {
        return Err(format!("expected error {m:?}, got {error_text:?}"));
    }
    if let Some(re) = &eval.expected_fail_regexp
        && !re.is_match(error_text)
    {
        return Err(format!(
            "expected error matching {:?}, got {error_text:?}",
            re.as_str()
        ));
    }
    if let Some(m) = &eval.expect_fail
        && !m.matches(error_text)
    {
        return Err(format!("expected error matching {m}, got {error_text:?}"));
    }
    Ok(())
}

fn check_annotation_kind(
    kind: &str,
    expected: &[TextMatch],
    actual: &[String],
) -> Result<(), String> {
    if expected.is_empty() {
        return Ok(());
    }
    if actual.is_empty() {
        return Err(format!("expected {kind} annotations, got none"));
    }
    for e in expected {
        if !actual.iter().any(|a| e.matches(a)) {
            return Err(format!(
                "expected a {kind} annotation matching {e}, got {actual:?}"
            ));
        }
    }
    for a in actual {
        if !expected.iter().any(|e| e.matches(a)) {
            return Err(format!("unexpected {kind} annotation {a:?}"));
        }
    }
    Ok(())
}

/// Checks warnings and infos: required ones present, no unexpected ones when some are listed, none when forbidden.
pub fn check_annotations(eval: &Eval, annotations: &[Annotation]) -> Result<(), String> {
    let texts = |kind| {
        annotations
            .iter()
            .filter(|a| a.kind == kind)
            .map(annotation_text)
            .collect::<Vec<_>>()
    };
    let warnings = texts(AnnotationKind::Warning);
    let infos = texts(AnnotationKind::Info);
    if eval.warn && warnings.is_empty() {
        return Err("expected warnings, got none".into());
    }
    if eval.info && infos.is_empty() {
        return Err("expected info annotations, got none".into());
    }
    check_annotation_kind("warn", &eval.expect_warn, &warnings)?;
    check_annotation_kind("info", &eval.expect_info, &infos)?;
    if eval.no_warn && !warnings.is_empty() {
        return Err(format!("expected no warnings, got {warnings:?}"));
    }
    if eval.no_info && !infos.is_empty() {
        return Err(format!("expected no info annotations, got {infos:?}"));
    }
    Ok(())
}

fn find<'a>(eval: &'a Eval, labels: &Labels) -> Option<&'a ExpectedSeries> {
    eval.expected.iter().find(|e| &e.labels == labels)
}

fn fmt_points(samples: &[lookout_model::Sample]) -> String {
    let parts: Vec<String> = samples.iter().map(|s| format!("{}@{}", s.v, s.t)).collect();
    format!("[{}]", parts.join(" "))
}

/// Checks that matrix series come sorted by label set, as a query engine must return them.
pub fn check_matrix_sorted(series: &[MatrixSeries]) -> Result<(), String> {
    match series.windows(2).find(|w| w[0].labels > w[1].labels) {
        Some(w) => Err(format!(
            "matrix not sorted by labels: {} comes before {}",
            w[0].labels, w[1].labels
        )),
        None => Ok(()),
    }
}

fn compare_matrix(eval: &Eval, series: &[MatrixSeries]) -> Result<(), String> {
    if eval.ordered {
        return Err("expected an ordered result, but the query returned a matrix".into());
    }
    if eval.expected_scalar.is_some() {
        return Err(format!(
            "expected a scalar, got a matrix of {} series",
            series.len()
        ));
    }
    check_matrix_sorted(series)?;
    for s in series {
        let exp = find(eval, &s.labels).ok_or_else(|| {
            format!(
                "unexpected series {} in result, with points {}",
                s.labels,
                fmt_points(&s.samples)
            )
        })?;
        let mut expected_floats = Vec::new();
        let mut expected_histograms = 0;
        for (i, p) in exp.points.iter().enumerate() {
            let t = eval.start_ms + i as i64 * eval.step_ms;
            if t > eval.end_ms {
                return Err(format!(
                    "{} expects {} points, more than the query range holds",
                    s.labels,
                    exp.points.len()
                ));
            }
            match p {
                Point::Histogram => expected_histograms += 1,
                Point::Float(v) => expected_floats.push((t, *v)),
                Point::Omitted => {}
            }
        }
        if expected_histograms > 0 || expected_floats.len() != s.samples.len() {
            return Err(format!(
                "expected {} float points and {expected_histograms} histogram points for {}, got {} float points {}",
                expected_floats.len(),
                s.labels,
                s.samples.len(),
                fmt_points(&s.samples)
            ));
        }
        for (i, ((t, v), got)) in expected_floats.iter().zip(&s.samples).enumerate() {
            if *t != got.t {
                return Err(format!(
                    "point {i} of {} should be at t={t}, got {}",
                    s.labels,
                    fmt_points(&s.samples)
                ));
            }
            if !almost_equal(got.v, *v, EPSILON) {
                return Err(format!(
                    "point {i} (t={t}) of {} should be {v}, got {} (all: {})",
                    s.labels,
                    got.v,
                    fmt_points(&s.samples)
                ));
            }
        }
    }
    for e in &eval.expected {
        if !series.iter().any(|s| s.labels == e.labels) {
            return Err(format!("expected series {} not in result", e.labels));
        }
    }
    Ok(())
}

/// Compares an instant vector (also used for the range-mode cross-check).
pub fn compare_vector(eval: &Eval, samples: &[VectorSample]) -> Result<(), String> {
    if eval.expected_scalar.is_some() {
        return Err(format!(
            "expected a scalar, got a vector of {} samples",
            samples.len()
        ));
    }
    for (idx, s) in samples.iter().enumerate() {
        let exp = find(eval, &s.labels)
            .ok_or_else(|| format!("unexpected series {} in result, value {}", s.labels, s.v))?;
        if eval.ordered && exp.pos != idx + 1 {
            return Err(format!(
                "expected {} at position {}, got it at {}",
                s.labels,
                exp.pos,
                idx + 1
            ));
        }
        match exp.points.first() {
            Some(Point::Float(v)) if almost_equal(*v, s.v, EPSILON) => {}
            Some(Point::Float(v)) => {
                return Err(format!("expected {v} for {}, got {}", s.labels, s.v));
            }
            Some(Point::Histogram) => {
                return Err(format!(
                    "expected a native histogram for {}, got float {}",
                    s.labels, s.v
                ));
            }
            Some(Point::Omitted) | None => {
                return Err(format!("expected no value for {}, got {}", s.labels, s.v));
            }
        }
    }
    for e in &eval.expected {
        if !samples.iter().any(|s| s.labels == e.labels) {
            return Err(format!("expected series {} not in result", e.labels));
        }
    }
    Ok(())
}

/// Compares a scalar result.
pub fn compare_scalar(eval: &Eval, v: f64) -> Result<(), String> {
    match eval.expected_scalar {
        None => Err(format!("expected a vector or matrix, got scalar {v}")),
        Some(Point::Float(want)) if almost_equal(want, v, EPSILON) => Ok(()),
        Some(Point::Float(want)) => Err(format!("expected scalar {want}, got {v}")),
        Some(_) => Err(format!("expected a native histogram, got scalar {v}")),
    }
}

/// Compares any query result with the expectations.
pub fn compare_result(eval: &Eval, value: &Value) -> Result<(), String> {
    match value {
        Value::Matrix(series) => compare_matrix(eval, series),
        Value::Vector(samples) => compare_vector(eval, samples),
        Value::Scalar { v, .. } => compare_scalar(eval, *v),
        Value::String { s, .. } => {
            let want = eval.expected_string.as_deref().unwrap_or("");
            if want == s {
                Ok(())
            } else {
                Err(format!("expected string {want:?}, got {s:?}"))
            }
        }
    }
}
