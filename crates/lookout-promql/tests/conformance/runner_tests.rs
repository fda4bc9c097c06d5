//! Tests of the runner itself, against a tiny scripted backend whose answers are known, so that a runner bug
//! cannot make cases pass vacuously.

use lookout_model::{Labels, Matcher, Sample, TimeRange, is_stale_nan, stale_nan};
use lookout_promql::{
    Annotation, AnnotationKind, MatrixSeries, QueryError, QueryOutput, QueryStats, Value,
    VectorSample,
};
use lookout_storage::mem::MemStorage;
use lookout_storage::{SelectHints, Storage};

use crate::compare::{EPSILON, almost_equal};
use crate::exec::{
    CaseResult, EngineBackend, QueryBackend, apply_load, contain_panic, run_commands, stored,
};
use crate::script::{Command, parse_number, parse_script};

/// Understands `<name>`, `<name> @ <secs>`, `sort_desc(<that>)`, numbers, `"strings"`, `fail_me`, `warn_me`.
struct FakeBackend;

fn select_latest(storage: &MemStorage, name: &str, t: i64) -> Vec<VectorSample> {
    let q = storage
        .querier(TimeRange::new(t - 300_000, t))
        .expect("querier");
    let hints = SelectHints::samples(TimeRange::new(t - 300_000 + 1, t));
    let mut out = Vec::new();
    for s in q
        .select(&[Matcher::equal("__name__", name)], hints)
        .expect("select")
    {
        let mut s = s.expect("series");
        let mut samples = Vec::new();
        s.samples.collect_into(&mut samples);
        let latest = samples.iter().rev().find(|p| p.t <= t && p.t > t - 300_000);
        if let Some(p) = latest.filter(|p| !is_stale_nan(p.v)) {
            out.push(VectorSample {
                labels: s.labels.clone(),
                t,
                v: p.v,
            });
        }
    }
    out
}

fn fake_eval(
    storage: &MemStorage,
    query: &str,
    t: i64,
) -> Result<(Value, Vec<Annotation>), QueryError> {
    let q = query.trim();
    if let Ok(v) = q.parse::<f64>() {
        return Ok((Value::Scalar { t, v }, vec![]));
    }
    if let Some(s) = q.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return Ok((
            Value::String {
                t,
                s: s.to_string(),
            },
            vec![],
        ));
    }
    if let Some(inner) = q
        .strip_prefix("sort_desc(")
        .and_then(|s| s.strip_suffix(')'))
    {
        let (Value::Vector(mut v), a) = fake_eval(storage, inner, t)? else {
            unreachable!("selector")
        };
        v.sort_by(|x, y| y.v.total_cmp(&x.v));
        return Ok((Value::Vector(v), a));
    }
    let (name, at) = match q.split_once(" @ ") {
        Some((n, secs)) => (
            n,
            (secs.parse::<f64>().expect("@ seconds") * 1000.0).round() as i64,
        ),
        None => (q, t),
    };
    match name {
        "fail_me" => return Err(QueryError::Execution("boom: fail_me".into())),
        "warn_me" => {
            let warning = Annotation {
                kind: AnnotationKind::Warning,
                message: "something odd".into(),
            };
            return Ok((Value::Vector(vec![]), vec![warning]));
        }
        _ => {}
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(QueryError::Parse {
            message: format!("fake backend cannot parse {q:?}"),
            position: 0,
        });
    }
    let mut v = select_latest(storage, name, at);
    v.iter_mut().for_each(|s| s.t = t);
    Ok((Value::Vector(v), vec![]))
}

fn output((value, annotations): (Value, Vec<Annotation>)) -> QueryOutput {
    QueryOutput {
        value,
        annotations,
        stats: QueryStats::default(),
    }
}

impl QueryBackend for FakeBackend {
    fn instant(
        &self,
        storage: &MemStorage,
        query: &str,
        t_ms: i64,
    ) -> Result<QueryOutput, QueryError> {
        fake_eval(storage, query, t_ms).map(output)
    }

    fn range(
        &self,
        storage: &MemStorage,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryOutput, QueryError> {
        let mut series: Vec<MatrixSeries> = Vec::new();
        let mut annotations = Vec::new();
        for t in (start..=end).step_by(step as usize) {
            let (value, mut a) = fake_eval(storage, query, t)?;
            annotations.append(&mut a);
            let samples = match value {
                Value::Scalar { v, .. } => vec![VectorSample {
                    labels: Labels::empty(),
                    t,
                    v,
                }],
                Value::Vector(v) => v,
                other => panic!("fake range query of a {}", other.type_name()),
            };
            for s in samples {
                match series.iter_mut().find(|m| m.labels == s.labels) {
                    Some(m) => m.samples.push(Sample::new(t, s.v)),
                    None => series.push(MatrixSeries {
                        labels: s.labels,
                        samples: vec![Sample::new(t, s.v)],
                    }),
                }
            }
        }
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(output((Value::Matrix(series), annotations)))
    }
}

const DATA: &str = "load 1m\n  m{a=\"1\"} 1+1x10\n  m{a=\"2\"} 5 _ stale 7\n\n";

fn run(script: &str, backend: &dyn QueryBackend) -> Vec<CaseResult> {
    let commands = parse_script(&format!("{DATA}{script}")).expect("script parses");
    let (cases, load_errors) = run_commands(&commands, backend);
    assert!(load_errors.is_empty(), "{load_errors:?}");
    cases
}

#[test]
fn correct_expectations_pass() {
    let script = r#"
eval instant at 2m m
  m{a="1"} 3

eval instant at 3m m
  m{a="1"} 4.000001
  m{a="2"} 7

eval range from 0 to 3m step 1m m
  m{a="1"} 1 2 3 4
  m{a="2"} 5 5 _ 7

eval instant at 0 42
  42

eval range from 0 to 1m step 1m 42
  {} 42 42

eval instant at 0 "hi"
  expect string "hi"

eval instant at 0 fail_me
  expect fail msg: boom: fail_me

eval_fail instant at 0 fail_me
  expected_fail_regexp boom.*

eval instant at 0 fail_me
  expect fail regex: ^boom

eval instant at 0 warn_me
  expect warn msg: PromQL warning: something odd

eval_warn instant at 0 warn_me

eval instant at 1m sort_desc(m)
  expect ordered
  m{a="2"} 5
  m{a="1"} 2

eval instant at 2m m
  expect no_warn
  expect no_info
  m{a="1"} 3

eval instant at 1m m
  expect range vector from 0 to 1m step 1m
  m{a="1"} 2
"#;
    let cases = run(script, &FakeBackend);
    assert_eq!(cases.len(), 14);
    for c in &cases[..13] {
        assert!(
            c.outcome.is_ok(),
            "line {} {}: {:?}",
            c.line,
            c.query,
            c.outcome
        );
    }
    // The fake returns a vector, not the matrix an `expect range vector` asks for: that must not pass.
    assert!(cases[13].outcome.is_err());
}

#[test]
fn wrong_expectations_fail() {
    let bad_cases: &[(&str, &str)] = &[
        ("eval instant at 2m m\n  m{a=\"1\"} 4\n", "expected 4"),
        (
            "eval instant at 2m m\n  m{a=\"1\"} 3.0001\n",
            "expected 3.0001",
        ),
        (
            "eval instant at 2m m\n  m{a=\"1\"} 3\n  m{a=\"3\"} 1\n",
            "not in result",
        ),
        ("eval instant at 2m m\n", "unexpected series"),
        (
            "eval instant at 2m m\n  m{a=\"1\",b=\"x\"} 3\n",
            "unexpected series",
        ),
        ("eval instant at 2m m\n  {a=\"1\"} 3\n", "unexpected series"),
        ("eval instant at 2m m\n  m{a=\"1\"} NaN\n", "expected NaN"),
        ("eval instant at 0 42\n  43\n", "expected scalar 43"),
        ("eval instant at 0 42\n  {} 42\n", "expected a vector"),
        ("eval instant at 2m m\n  3\n", "expected a scalar"),
        (
            "eval range from 0 to 3m step 1m m\n  m{a=\"1\"} 1 2 3 4\n  m{a=\"2\"} 5 5 5 7\n",
            "float points",
        ),
        (
            "eval range from 0 to 3m step 1m m\n  m{a=\"1\"} 1 2 3 5\n  m{a=\"2\"} 5 5 _ 7\n",
            "should be 5",
        ),
        (
            "eval range from 0 to 3m step 1m m\n  m{a=\"1\"} 1 2 3 4 5\n  m{a=\"2\"} 5 5 _ 7\n",
            "more than the query range",
        ),
        (
            "eval range from 0 to 1m step 1m m\n  m{a=\"1\"} _ 2\n  m{a=\"2\"} 5 5\n",
            "float points",
        ),
        (
            "eval instant at 0 \"hi\"\n  expect string \"ho\"\n",
            "expected string",
        ),
        (
            "eval instant at 0 42\n  expect fail\n",
            "expected the query to fail",
        ),
        ("eval_fail instant at 0 42\n", "expected the query to fail"),
        (
            "eval instant at 0 fail_me\n  expect fail msg: boom\n",
            "expected error",
        ),
        (
            "eval_fail instant at 0 fail_me\n  expected_fail_message boom\n",
            "expected error",
        ),
        ("eval instant at 0 fail_me\n", "query failed"),
        (
            "eval instant at 0 42\n  expect warn\n  42\n",
            "expected warn annotations",
        ),
        ("eval_warn instant at 0 42\n  42\n", "expected warnings"),
        (
            "eval instant at 0 warn_me\n  expect warn msg: PromQL warning: other\n",
            "matching",
        ),
        (
            "eval instant at 0 warn_me\n  expect no_warn\n",
            "expected no warnings",
        ),
        (
            "eval instant at 0 42\n  expect info\n  42\n",
            "expected info",
        ),
        (
            "eval instant at 1m sort_desc(m)\n  expect ordered\n  m{a=\"1\"} 2\n  m{a=\"2\"} 5\n",
            "position",
        ),
        (
            "eval range from 0 to 1m step 1m m\n  expect ordered\n  m{a=\"1\"} 1 2\n  m{a=\"2\"} 5 5\n",
            "ordered",
        ),
        (
            "eval instant at 0 m{a=\"1\"}\n  m{a=\"1\"} 1\n",
            "query failed",
        ),
    ];
    for (script, needle) in bad_cases {
        let cases = run(script, &FakeBackend);
        assert_eq!(cases.len(), 1, "{script}");
        let err = cases[0].outcome.as_ref().expect_err(script);
        assert!(
            err.contains(needle),
            "{script}: {err:?} should mention {needle:?}"
        );
    }
}

#[test]
fn real_engine_reports_a_wrong_expectation() {
    let backend = EngineBackend::upstream_test_settings();
    let cases = run(
        "eval instant at 1m m\n  m{a=\"1\"} 100\n\neval instant at 0 vector(1)\n  {} 2\n",
        &backend,
    );
    assert_eq!(cases.len(), 2);
    assert!(cases.iter().all(|c| c.outcome.is_err()), "{cases:?}");
}

#[test]
fn cases_that_may_read_native_histograms_are_marked() {
    let script = "load 1m\n  h {{count:1}}\n  f 1\n\neval instant at 0 f\n\neval instant at 0 h\n\n\
                  eval instant at 0 max({job=\"x\"})\n\neval instant at 0 f\n  f {{count:1}}\n\nclear\n\n\
                  eval instant at 0 h\n\nload 1m\n  h {{count:1}}\n\n\
                  eval instant at 0 count_values(\"a-b\", h)\n  expect fail msg: invalid label name\n\n\
                  eval instant at 0 rate(h[1m])\n  expect fail regex: histogram\n";
    let (cases, _) = run_commands(&parse_script(script).unwrap(), &FakeBackend);
    let marks: Vec<bool> = cases.iter().map(|c| c.native_histograms).collect();
    // An expected error that is not about histograms does not depend on the samples' type.
    assert_eq!(marks, vec![false, true, true, true, false, false, true]);
}

#[test]
fn an_engine_panic_fails_only_its_query() {
    let err = contain_panic(|| panic!("index out of bounds")).unwrap_err();
    assert!(
        err.to_string()
            .contains("the engine panicked: index out of bounds"),
        "{err}"
    );
    let err = contain_panic(|| std::panic::panic_any(7_u8)).unwrap_err();
    assert!(err.to_string().contains("panicked"), "{err}");
}

#[test]
fn parse_errors_from_the_backend_are_recorded() {
    let cases = run(
        "eval instant at 0 m{a=\"1\"}\n  m{a=\"1\"} 1\n",
        &FakeBackend,
    );
    assert!(
        cases[0]
            .parse_error
            .as_deref()
            .is_some_and(|m| m.contains("cannot parse"))
    );
}

#[test]
fn loads_points_at_interval_steps() {
    let script = "load 30s\n  m{a=\"1\"} 1 _ 3 stale\n  m{a=\"1\"} 7 8\n  h {{count:1}} 4\n  {__name__=\"n\"} _x2 Inf\n";
    let commands = parse_script(script).unwrap();
    let Command::Load(load) = &commands[0] else {
        panic!("not a load")
    };
    assert!(load.needs_native_histograms());
    let storage = MemStorage::new();
    apply_load(&storage, load).unwrap();
    let data = stored(&storage);
    let get = |name: &str| {
        data.iter()
            .find(|(l, _)| l.metric_name() == Some(name))
            .map(|(_, s)| s.clone())
            .unwrap()
    };
    // The second definition of m{a="1"} replaces the first, as upstream.
    assert_eq!(
        get("m"),
        vec![Sample::new(0, 7.0), Sample::new(30_000, 8.0)]
    );
    assert_eq!(get("h"), vec![Sample::new(30_000, 4.0)]);
    assert_eq!(get("n"), vec![Sample::new(60_000, f64::INFINITY)]);
    let commands = parse_script("load 1m\n  s 1 stale\n").unwrap();
    let Command::Load(load) = &commands[0] else {
        panic!("not a load")
    };
    apply_load(&storage, load).unwrap();
    let s = stored(&storage)
        .into_iter()
        .find(|(l, _)| l.metric_name() == Some("s"))
        .unwrap()
        .1;
    assert!(is_stale_nan(s[1].v) && s[1].t == 60_000);
}

#[test]
fn parses_eval_headers_and_expectations() {
    let script = "eval range from 1m to 1h5m30s step 30s rate(m[5m])\n  expect warn regex: x.*y\n  expect no_info\n  \
                  m{a=\"1\"} 1 2\n\neval_ordered instant at 10s53ms sort(m)\n  m{a=\"2\"} 1\n  expect info\n  m{a=\"1\"} 2\n\n\
                  eval_fail instant at 0 x\n  expected_fail_message bad thing happened\n\n\
                  # comment\neval instant at 1m m[1m]\n  expect range vector from 0 to 1m step 30s\n  m 1 2 3\n";
    let commands = parse_script(script).unwrap();
    let evals: Vec<_> = commands
        .iter()
        .filter_map(|c| {
            if let Command::Eval(e) = c {
                Some(e)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(evals.len(), 4);
    let e = &evals[0];
    assert!(e.is_range && e.line == 1 && e.query == "rate(m[5m])");
    assert_eq!(
        (e.start_ms, e.end_ms, e.step_ms),
        (60_000, 3_930_000, 30_000)
    );
    assert_eq!(e.expect_warn.len(), 1);
    assert!(e.expect_warn[0].matches("a x and y") && e.no_info);
    let e = &evals[1];
    assert!(e.ordered && !e.is_range && e.eval_ms == 10_053 && e.line == 6);
    assert_eq!(
        e.expected.iter().map(|x| x.pos).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(
        evals[2].expected_fail_message.as_deref(),
        Some("bad thing happened")
    );
    assert!(evals[2].must_fail());
    let e = &evals[3];
    assert!(e.exclude_from_range_query);
    assert_eq!(
        (e.start_ms, e.end_ms, e.step_ms, e.eval_ms),
        (0, 60_000, 30_000, 60_000)
    );
    assert_eq!(e.expected[0].points.len(), 3);
}

#[test]
fn refuses_malformed_scripts() {
    for bad in [
        "bogus command\n",
        "load\n",
        "load 1x\n  m 1\n",
        "eval instant at 1q m\n",
        "eval range from 1m to 0 step 1m m\n",
        "eval instant at 0 m\n  m 1 2\n",
        "eval instant at 0 m\n  expect sometimes\n",
        "eval instant at 0 m\n  expect warn\n  expect no_warn\n",
        "eval instant at 0 m\n  expect fail\n  expect fail\n",
        "eval instant at 0 m\n  expect string Foo\n",
        "eval instant at 0 m\n  m{a=\"1\" 1\n",
    ] {
        assert!(parse_script(bad).is_err(), "{bad:?} should be refused");
    }
}

#[test]
fn numbers_follow_go_parsing() {
    assert_eq!(parse_number("0x10"), Some(16.0));
    assert_eq!(parse_number("-3"), Some(-3.0));
    assert_eq!(parse_number("1e3"), Some(1000.0));
    assert_eq!(parse_number("+Inf"), Some(f64::INFINITY));
    assert_eq!(parse_number("-inf"), Some(f64::NEG_INFINITY));
    assert!(parse_number("NaN").is_some_and(f64::is_nan));
    assert_eq!(parse_number("m{}"), None);
    assert_eq!(parse_number("{} 1"), None);
}

#[test]
fn almost_equal_matches_upstream_semantics() {
    assert!(almost_equal(f64::NAN, f64::NAN, EPSILON));
    assert!(almost_equal(stale_nan(), stale_nan(), EPSILON));
    assert!(!almost_equal(stale_nan(), f64::NAN, EPSILON));
    assert!(!almost_equal(f64::NAN, stale_nan(), EPSILON));
    assert!(!almost_equal(1.0, f64::NAN, EPSILON));
    assert!(almost_equal(f64::INFINITY, f64::INFINITY, EPSILON));
    assert!(!almost_equal(f64::INFINITY, f64::NEG_INFINITY, EPSILON));
    assert!(almost_equal(1e9, 1e9 + 1.0, EPSILON));
    assert!(!almost_equal(1.0, 1.00001, EPSILON));
    assert!(almost_equal(0.0, -0.0, EPSILON));
    assert!(!almost_equal(0.0, 1e-300, EPSILON));
}
