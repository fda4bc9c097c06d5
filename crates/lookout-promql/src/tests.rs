//! Engine-level tests over `MemStorage`: result shapes, limits, cancellation, errors and annotations.
//! The conformance suite in `tests/` covers the semantics in breadth.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use lookout_model::{Labels, stale_nan};
use lookout_storage::Storage;
use lookout_storage::mem::MemStorage;

use crate::{AnnotationKind, Engine, EngineOptions, QueryContext, QueryError, Value};

mod figures;
mod series_wise;
mod step_split;

/// Label pairs and the (t, v) points of one test series.
type TestSeries<'a> = (&'a [(&'a str, &'a str)], &'a [(i64, f64)]);

fn store(series: &[TestSeries]) -> MemStorage {
    let s = MemStorage::new();
    let mut a = s.appender();
    for (labels, points) in series {
        let l = Labels::from_pairs(labels).unwrap();
        for &(t, v) in *points {
            a.append(&l, t, v).unwrap();
        }
    }
    a.commit().unwrap();
    s
}

fn counter_store(n: usize, points: i64) -> MemStorage {
    let s = MemStorage::new();
    let mut a = s.appender();
    for i in 0..n {
        let l = Labels::from_pairs(&[("__name__", "req_total"), ("i", &i.to_string())]).unwrap();
        for k in 0..points {
            a.append(&l, k * 15_000, (k * (i as i64 + 1)) as f64)
                .unwrap();
        }
    }
    a.commit().unwrap();
    s
}

fn instant(s: &dyn Storage, q: &str, t: i64) -> Result<crate::QueryOutput, QueryError> {
    Engine::default().instant_query(s, q, t, &QueryContext::default())
}

/// A range answer's points per step, as label string → value bits.
type PointsByStep = std::collections::BTreeMap<i64, Vec<(String, u64)>>;

/// The points of the matrix `v` (the answer to `q`) per step.
fn points_by_step(q: &str, v: &Value) -> PointsByStep {
    let Value::Matrix(series) = v else {
        panic!("{q}: expected a matrix")
    };
    let mut by_step = PointsByStep::new();
    for x in series {
        for p in &x.samples {
            by_step
                .entry(p.t)
                .or_default()
                .push((x.labels.to_string(), p.v.to_bits()));
        }
    }
    by_step
}

fn vector(v: &Value) -> Vec<(String, f64)> {
    match v {
        Value::Vector(v) => v.iter().map(|s| (s.labels.to_string(), s.v)).collect(),
        other => panic!("expected a vector, got {other:?}"),
    }
}

#[test]
fn instant_selector_uses_lookback_and_stops_at_staleness() {
    let s = store(&[(
        &[("__name__", "up"), ("job", "a")],
        &[(0, 1.0), (60_000, 2.0), (120_000, stale_nan())],
    )]);
    assert_eq!(
        vector(&instant(&s, "up", 90_000).unwrap().value),
        vec![("up{job=\"a\"}".to_string(), 2.0)]
    );
    assert!(vector(&instant(&s, "up", 130_000).unwrap().value).is_empty());
    // Past the 5 m lookback nothing is returned either.
    assert!(
        vector(
            &instant(&s, "up offset 1m", 60_000 + 6 * 60_000)
                .unwrap()
                .value
        )
        .is_empty()
    );
}

#[test]
fn rate_sum_and_name_dropping() {
    let s = counter_store(3, 41);
    let out = instant(&s, "sum(rate(req_total[5m]))", 600_000).unwrap();
    let v = vector(&out.value);
    assert_eq!(v.len(), 1);
    // Series i grows by (i + 1) per 15 s: rates 1/15, 2/15, 3/15.
    assert!((v[0].1 - 6.0 / 15.0).abs() < 1e-9, "{v:?}");
    let by = vector(
        &instant(&s, "rate(req_total{i=\"0\"}[5m])", 600_000)
            .unwrap()
            .value,
    );
    assert_eq!(by[0].0, "{i=\"0\"}");
    assert!(out.stats.samples_loaded > 0);
}

#[test]
fn range_query_matrix_and_scalar() {
    let s = counter_store(1, 41);
    let e = Engine::default();
    let out = e
        .range_query(
            &s,
            "req_total",
            0,
            300_000,
            60_000,
            &QueryContext::default(),
        )
        .unwrap();
    let Value::Matrix(m) = out.value else {
        panic!("matrix expected")
    };
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].samples.len(), 6);
    let out = e
        .range_query(&s, "1 + 1", 0, 120_000, 60_000, &QueryContext::default())
        .unwrap();
    let Value::Matrix(m) = out.value else {
        panic!("matrix expected")
    };
    assert_eq!(
        m[0].samples.iter().map(|p| p.v).collect::<Vec<_>>(),
        vec![2.0, 2.0, 2.0]
    );
    let err = e
        .range_query(
            &s,
            "req_total[5m]",
            0,
            60_000,
            60_000,
            &QueryContext::default(),
        )
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("invalid expression type \"range vector\""),
        "{err}"
    );
}

#[test]
fn scalar_and_string_results() {
    let s = MemStorage::new();
    assert_eq!(
        instant(&s, "2 * 3", 1000).unwrap().value,
        Value::Scalar { t: 1000, v: 6.0 }
    );
    assert_eq!(
        instant(&s, "\"hi\"", 1000).unwrap().value,
        Value::String {
            t: 1000,
            s: "hi".into()
        }
    );
}

#[test]
fn too_many_samples_names_the_limit() {
    // One series' 10 m window holds 40 samples: over a limit of 30 even though series are streamed.
    let s = counter_store(20, 41);
    let e = Engine::new(EngineOptions {
        max_samples: 30,
        ..EngineOptions::default()
    });
    let err = e
        .instant_query(
            &s,
            "sum(rate(req_total[10m]))",
            600_000,
            &QueryContext::default(),
        )
        .unwrap_err();
    match &err {
        QueryError::TooManySamples { name, value } => {
            assert_eq!(*name, "query.max_samples");
            assert_eq!(*value, 30);
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert_eq!(err.error_type(), "execution");
}

#[test]
fn streaming_keeps_peak_near_one_series_window() {
    // 200 series x 41 samples: evaluating series by series, the peak is far below the total.
    let s = counter_store(200, 41);
    let out = instant(&s, "sum(rate(req_total[10m]))", 600_000).unwrap();
    // The window (0, 10m] holds 40 of each series' 41 samples.
    assert_eq!(out.stats.samples_loaded, 200 * 40);
    // The sum folds series as they are computed: one window per query thread plus one accumulator.
    let threads = crate::query_threads().map_or(1, |p| p.current_num_threads()) as u64;
    assert!(
        out.stats.peak_samples <= 40 * threads + 1,
        "peak {} with {threads} query threads",
        out.stats.peak_samples
    );
}

/// Series evaluated on the query threads come back in label order with the values each series has on its own,
/// and their annotations in series order.
#[test]
fn parallel_series_keep_order_values_and_annotations() {
    // 300 series (several batches), each its own metric name without a counter suffix, so `rate` raises
    // one info per series.
    let s = MemStorage::new();
    let mut a = s.appender();
    for i in 0..300 {
        let name = format!("m{i:03}");
        let id = format!("{i:03}");
        let l =
            Labels::from_pairs(&[("__name__", name.as_str()), ("i", &id), ("job", "x")]).unwrap();
        for k in 0..60i64 {
            let v = (k * (i + 1) + if k > 30 { -(i % 5) } else { 0 }) as f64;
            a.append(&l, k * 15_000, v).unwrap();
        }
    }
    a.commit().unwrap();
    let e = Engine::default();
    let ctx = QueryContext::default();
    let all = e
        .range_query(&s, r#"rate({job="x"}[2m])"#, 300_000, 885_000, 15_000, &ctx)
        .unwrap();
    let Value::Matrix(all_series) = &all.value else {
        panic!("expected a matrix, got {:?}", all.value)
    };
    assert_eq!(all_series.len(), 300);
    for (i, got) in all_series.iter().enumerate() {
        let q = format!("rate(m{i:03}[2m])");
        let one = e
            .range_query(&s, &q, 300_000, 885_000, 15_000, &ctx)
            .unwrap();
        let Value::Matrix(want) = &one.value else {
            panic!("expected a matrix")
        };
        assert_eq!(got.labels, want[0].labels, "series {i}");
        let bits = |x: &crate::MatrixSeries| -> Vec<(i64, u64)> {
            x.samples.iter().map(|p| (p.t, p.v.to_bits())).collect()
        };
        assert_eq!(bits(got), bits(&want[0]), "series {i}");
    }
    let infos: Vec<String> = all
        .annotations
        .iter()
        .filter(|a| a.kind == AnnotationKind::Info)
        .map(|a| a.message.clone())
        .collect();
    let want: Vec<String> = (0..300)
        .map(|i| {
            format!(
                "PromQL info: {}",
                crate::annotations::possible_non_counter(&format!("m{i:03}"))
            )
        })
        .collect();
    assert_eq!(infos, want);
}

#[test]
fn points_per_series_limit() {
    let s = MemStorage::new();
    let e = Engine::default();
    // 11,001 points (11,000 intervals) are allowed, as in Prometheus; one more is not.
    assert!(
        e.range_query(&s, "1", 0, 11_000_000, 1000, &QueryContext::default())
            .is_ok()
    );
    let err = e
        .range_query(&s, "1", 0, 11_001_000, 1000, &QueryContext::default())
        .unwrap_err();
    assert_eq!(err.error_type(), "bad_data");
    match err {
        QueryError::Limit { name, value, .. } => {
            assert_eq!(name, "query.max_points_per_series");
            assert_eq!(value, 11_000);
        }
        other => panic!("unexpected error {other:?}"),
    }
}

#[test]
fn cancellation_and_deadline() {
    let s = counter_store(5, 41);
    let e = Engine::default();
    let flag = Arc::new(AtomicBool::new(true));
    let ctx = QueryContext {
        cancel: Some(flag),
        deadline: None,
    };
    let err = e
        .instant_query(&s, "sum(req_total)", 600_000, &ctx)
        .unwrap_err();
    assert_eq!(err.error_type(), "canceled");
    let ctx = QueryContext {
        cancel: None,
        deadline: Some(Instant::now() - Duration::from_millis(1)),
    };
    let err = e
        .instant_query(&s, "sum(req_total)", 600_000, &ctx)
        .unwrap_err();
    assert_eq!(err.error_type(), "timeout");
}

#[test]
fn an_unrepresentable_timeout_means_no_limit() {
    let s = counter_store(1, 5);
    let e = Engine::new(EngineOptions {
        timeout: Duration::MAX,
        ..EngineOptions::default()
    });
    assert!(
        e.instant_query(&s, "req_total", 30_000, &QueryContext::default())
            .is_ok()
    );
}

#[test]
fn extreme_times_are_refused() {
    let s = MemStorage::new();
    let err = instant(&s, "1", i64::MIN).unwrap_err();
    assert_eq!(err.error_type(), "bad_data");
    let err = instant(&s, "x offset 100000000y", 0).unwrap_err();
    assert_eq!(err.error_type(), "bad_data");
}

#[test]
fn parse_errors_are_bad_data() {
    let err = instant(&MemStorage::new(), "sum(", 0).unwrap_err();
    assert!(matches!(err, QueryError::Parse { .. }));
    assert_eq!(err.error_type(), "bad_data");
}

#[test]
fn many_to_many_matching_is_refused() {
    let s = store(&[
        (&[("__name__", "a"), ("x", "1"), ("y", "1")], &[(0, 1.0)]),
        (&[("__name__", "a"), ("x", "1"), ("y", "2")], &[(0, 1.0)]),
        (&[("__name__", "b"), ("x", "1"), ("y", "3")], &[(0, 1.0)]),
        (&[("__name__", "b"), ("x", "1"), ("y", "4")], &[(0, 1.0)]),
    ]);
    let err = instant(&s, "a + on(x) b", 0).unwrap_err();
    assert!(
        err.to_string()
            .contains("found duplicate series for the match group {x=\"1\"}"),
        "{err}"
    );
    let ok = instant(&s, "a + on(x) group_left b{y=\"3\"}", 0).unwrap();
    assert_eq!(vector(&ok.value).len(), 2);
}

#[test]
fn non_counter_rate_gives_an_info() {
    let s = store(&[(
        &[("__name__", "temperature")],
        &[(0, 1.0), (15_000, 2.0), (30_000, 3.0)],
    )]);
    let out = instant(&s, "rate(temperature[1m])", 30_000).unwrap();
    assert_eq!(out.annotations.len(), 1);
    assert_eq!(out.annotations[0].kind, AnnotationKind::Info);
    assert!(
        out.annotations[0]
            .message
            .contains("metric might not be a counter"),
        "{:?}",
        out.annotations
    );
}

#[test]
fn topk_keeps_order_in_instant_queries() {
    let s = store(&[
        (&[("__name__", "m"), ("i", "1")], &[(0, 5.0)]),
        (&[("__name__", "m"), ("i", "2")], &[(0, 9.0)]),
        (&[("__name__", "m"), ("i", "3")], &[(0, 7.0)]),
    ]);
    let v = vector(&instant(&s, "topk(2, m)", 0).unwrap().value);
    assert_eq!(v.iter().map(|x| x.1).collect::<Vec<_>>(), vec![9.0, 7.0]);
    let v = vector(&instant(&s, "sort(m)", 0).unwrap().value);
    assert_eq!(
        v.iter().map(|x| x.1).collect::<Vec<_>>(),
        vec![5.0, 7.0, 9.0]
    );
}

#[test]
fn label_names_with_invalid_utf8_escapes_are_refused() {
    let s = store(&[(&[("__name__", "version")], &[(0, 1.0)])]);
    let err = instant(&s, r#"count_values("a\xc5z", version)"#, 0).unwrap_err();
    assert_eq!(err.to_string(), r#"invalid label name "a\xc5z""#);
    let err = instant(
        &s,
        r#"label_replace(version, "\xff", "", "src", "(.*)")"#,
        0,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("invalid destination label name"),
        "{err}"
    );
}

#[test]
fn streamed_and_materialised_aggregations_agree() {
    let s = counter_store(30, 81);
    let e = Engine::default();
    let ctx = QueryContext::default();
    for (streamed, materialised) in [
        ("sum(rate(req_total[5m]))", "sum(rate(req_total[5m]) * 1)"),
        ("avg(req_total)", "avg(req_total * 1)"),
        (
            "stddev(increase(req_total[2m]))",
            "stddev(increase(req_total[2m]) + 0)",
        ),
        ("max by (i) (req_total)", "max by (i) (req_total + 0)"),
    ] {
        let a = e
            .range_query(&s, streamed, 300_000, 1_200_000, 30_000, &ctx)
            .unwrap();
        let b = e
            .range_query(&s, materialised, 300_000, 1_200_000, 30_000, &ctx)
            .unwrap();
        assert_eq!(a.value, b.value, "{streamed}");
        let a = e.instant_query(&s, streamed, 900_000, &ctx).unwrap();
        let b = e.instant_query(&s, materialised, 900_000, &ctx).unwrap();
        assert_eq!(a.value, b.value, "{streamed}");
    }
}

#[test]
fn subquery_steps_align_to_multiples_of_the_step() {
    // Samples every 10 s; a [1m:20s] subquery at t=70s evaluates at 20, 40, 60 (aligned, after 10s).
    let pts: Vec<(i64, f64)> = (0..10).map(|k| (k * 10_000, k as f64)).collect();
    let s = store(&[(&[("__name__", "m")], &pts)]);
    let out = instant(&s, "m[1m:20s]", 70_000).unwrap();
    let Value::Matrix(m) = out.value else {
        panic!("matrix expected")
    };
    let times: Vec<i64> = m[0].samples.iter().map(|p| p.t).collect();
    assert_eq!(times, vec![20_000, 40_000, 60_000]);
    let v = vector(
        &instant(&s, "count_over_time(m[1m:20s])", 70_000)
            .unwrap()
            .value,
    );
    assert_eq!(v[0].1, 3.0);
    // With @, every step sees the same window.
    let e = Engine::default();
    let out = e
        .range_query(
            &s,
            "max_over_time(m[30s:10s] @ 50)",
            60_000,
            90_000,
            10_000,
            &QueryContext::default(),
        )
        .unwrap();
    let Value::Matrix(m) = out.value else {
        panic!("matrix expected")
    };
    assert!(m[0].samples.iter().all(|p| p.v == 5.0), "{m:?}");
}

#[test]
fn offsets_and_negative_offsets_shift_the_reference_time() {
    let pts: Vec<(i64, f64)> = (0..10).map(|k| (k * 10_000, k as f64)).collect();
    let s = store(&[(&[("__name__", "m")], &pts)]);
    assert_eq!(
        vector(&instant(&s, "m offset 20s", 50_000).unwrap().value)[0].1,
        3.0
    );
    assert_eq!(
        vector(&instant(&s, "m offset -20s", 50_000).unwrap().value)[0].1,
        7.0
    );
    assert_eq!(
        vector(&instant(&s, "m @ 30", 90_000).unwrap().value)[0].1,
        3.0
    );
    let v = vector(
        &instant(&s, "timestamp(m offset 15s)", 50_000)
            .unwrap()
            .value,
    );
    assert_eq!(v[0].1, 30.0);
}

#[test]
fn experimental_syntax_is_rewritten_only_when_the_parser_refuses_it() {
    let pts: Vec<(i64, f64)> = (0..10).map(|k| (k * 10_000, k as f64)).collect();
    let s = store(&[(&[("__name__", "m")], &pts)]);
    let a = vector(
        &instant(&s, "count_over_time(m[20s+10s])", 90_000)
            .unwrap()
            .value,
    );
    let b = vector(
        &instant(&s, "count_over_time(m[30s])", 90_000)
            .unwrap()
            .value,
    );
    assert_eq!(a, b);
    let v = vector(
        &instant(&s, "increase(m[30s] anchored)", 90_000)
            .unwrap()
            .value,
    );
    assert_eq!(v[0].1, 3.0);
    let err = instant(&s, "max_over_time(m[30s] anchored)", 90_000).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("anchored modifier can only be used with"),
        "{err}"
    );
    assert!(matches!(
        instant(&s, "m[30s+]", 0),
        Err(QueryError::Parse { .. })
    ));
}

#[test]
fn odd_query_texts_fail_cleanly() {
    let s = MemStorage::new();
    for q in [
        "x[",
        "x[5m",
        "x offset (",
        "x offset -(",
        "\"unterminated",
        "x{a=\"\\",
        "é[1m+]",
        "x[1m:]]",
        "info(",
        "info(x, {",
        "x offset step(",
        "x @ 100 smoothed smoothed",
        "rate(x[5m] anchored",
        "count_values(\"\\xff",
        "x[1h/0]",
        "x offset (1/0)",
    ] {
        match instant(&s, q, 0) {
            Ok(_) | Err(QueryError::Parse { .. }) | Err(QueryError::BadData(_)) => {}
            Err(other) => panic!("{q}: unexpected error {other:?}"),
        }
    }
}

#[test]
fn range_rate_with_resets_found_once_matches_the_window_scan() {
    // A counter with resets in odd places (two in one window, one at a window's first pair) and jittered times.
    let mut points = Vec::new();
    let mut v = 5.0;
    for k in 0..200i64 {
        v = if [17, 19, 60, 61, 140].contains(&k) {
            (k % 3) as f64 * 0.5
        } else {
            v + 1.25 + (k % 7) as f64 * 0.1
        };
        points.push((k * 15_000 + (k * 37) % 900, v));
    }
    let s = store(&[(&[("__name__", "c_total")], &points)]);
    for (q, range_ms, is_rate) in [
        ("rate(c_total[1m])", 60_000, true),
        ("increase(c_total[2m])", 120_000, false),
    ] {
        let out = Engine::default()
            .range_query(&s, q, 0, 3_000_000, 15_000, &QueryContext::default())
            .unwrap();
        let Value::Matrix(m) = out.value else {
            panic!("matrix expected")
        };
        let got: Vec<(i64, u64)> = m[0].samples.iter().map(|p| (p.t, p.v.to_bits())).collect();
        let mut expected = Vec::new();
        for step in 0..=200i64 {
            let ts = step * 15_000;
            let window: Vec<lookout_model::Sample> = points
                .iter()
                .filter(|&&(t, _)| t > ts - range_ms && t <= ts)
                .map(|&(t, v)| lookout_model::Sample::new(t, v))
                .collect();
            let r = crate::functions::range::counter::extrapolated_rate(
                &window,
                ts - range_ms,
                ts,
                true,
                is_rate,
            );
            if let Some(r) = r {
                expected.push((ts, r.to_bits()));
            }
        }
        assert_eq!(got, expected, "{q}");
    }
}
