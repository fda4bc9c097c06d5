//! The LogQL suite: `tests/suite/*.yaml` hold input streams and cases (query, times, expected streams, matrix,
//! vector, scalar or error). Every file and every case runs; a case that fails names its file and query.
//!
//! Format (times in seconds, floats allowed):
//! ```yaml
//! streams:
//!   - labels: '{app="api"}'
//!     entries: [[10, 'line', {trace_id: abc}], [20, 'other']]
//! cases:
//!   - query: '{app="api"} |= "line"'
//!     start: 0          # log queries: [start, end); metric: steps start..=end
//!     end: 100
//!     step: 10          # metric range queries
//!     instant: false    # metric instant query at `start`
//!     limit: 100
//!     direction: forward
//!     streams: [{labels: '{app="api"}', lines: [[10, 'line']]}]
//!     matrix: [{labels: '{}', values: [[10, 1]]}]
//!     vector: [{labels: '{}', value: 1}]
//!     scalar: 2
//!     error: 'substring of the message'
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use lookout_logql::{
    LogqlEngine, LogqlLimits, MetricValue, QueryParams, QueryResult, group_streams,
};
use lookout_model::Labels;
use lookout_storage::logs::mem::MemLogs;
use lookout_storage::logs::{Entry, LogSink, PushStream, QueryDirection};
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    streams: Vec<StreamIn>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct StreamIn {
    labels: String,
    entries: Vec<serde_yaml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    query: String,
    #[serde(default)]
    start: f64,
    #[serde(default = "default_end")]
    end: f64,
    #[serde(default)]
    step: Option<f64>,
    #[serde(default)]
    instant: bool,
    #[serde(default = "default_limit")]
    limit: usize,
    #[serde(default)]
    direction: Option<String>,
    #[serde(default)]
    streams: Option<Vec<StreamOut>>,
    #[serde(default)]
    matrix: Option<Vec<SeriesOut>>,
    #[serde(default)]
    vector: Option<Vec<SampleOut>>,
    #[serde(default)]
    scalar: Option<f64>,
    #[serde(default)]
    error: Option<String>,
}

fn default_end() -> f64 {
    1000.0
}
fn default_limit() -> usize {
    1000
}

#[derive(Deserialize, Debug)]
struct StreamOut {
    labels: String,
    lines: Vec<(f64, String)>,
}

#[derive(Deserialize, Debug)]
struct SeriesOut {
    labels: String,
    values: Vec<(f64, f64)>,
}

#[derive(Deserialize, Debug)]
struct SampleOut {
    labels: String,
    value: f64,
}

fn ns(s: f64) -> i64 {
    (s * 1e9).round() as i64
}

fn labels(s: &str) -> Labels {
    if s.trim() == "{}" {
        return Labels::empty();
    }
    let m = lookout_logql::parse_selector(s).unwrap_or_else(|e| panic!("bad labels {s}: {e}"));
    Labels::from_pairs_unchecked(
        &m.iter()
            .map(|m| (m.name.as_str(), m.value.as_str()))
            .collect::<Vec<_>>(),
    )
}

fn load(f: &File) -> MemLogs {
    let store = MemLogs::new();
    let mut push = Vec::new();
    for s in &f.streams {
        let entries = s
            .entries
            .iter()
            .map(|e| {
                let seq = e
                    .as_sequence()
                    .expect("an entry is [ts, line, {metadata}?]");
                let ts = ns(seq[0].as_f64().expect("entry time"));
                let line = seq[1].as_str().expect("entry line").to_string();
                let metadata = seq
                    .get(2)
                    .and_then(|m| m.as_mapping())
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| {
                                (
                                    k.as_str().unwrap_or_default().to_string(),
                                    v.as_str().unwrap_or_default().to_string(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Entry { ts, line, metadata }
            })
            .collect();
        push.push(PushStream {
            labels: labels(&s.labels),
            entries,
        });
    }
    store.push(push).expect("mem push");
    store
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn run_case(store: &MemLogs, c: &Case) -> Result<(), String> {
    let params = QueryParams {
        start: ns(c.start),
        end: if c.instant { ns(c.start) } else { ns(c.end) },
        step: ns(c.step.unwrap_or(10.0)),
        limit: c.limit,
        direction: match c.direction.as_deref() {
            Some("forward") => QueryDirection::Forward,
            _ => QueryDirection::Backward,
        },
        instant: c.instant,
    };
    let engine = LogqlEngine::new(store, LogqlLimits::default(), None);
    let got = engine.query(&c.query, &params);
    if let Some(want) = &c.error {
        return match got {
            Err(e) if e.to_string().contains(want.as_str()) => Ok(()),
            Err(e) => Err(format!("error {e:?} does not contain {want:?}")),
            Ok(r) => Err(format!("expected error {want:?}, got {:?}", r.0)),
        };
    }
    let (result, _) = got.map_err(|e| format!("unexpected error: {e}"))?;
    match result {
        QueryResult::Streams(lines) => {
            let want = c
                .streams
                .as_ref()
                .ok_or("got streams, expected something else")?;
            let got: Vec<(Labels, Vec<(i64, String)>)> = group_streams(lines, false)
                .into_iter()
                .map(|(l, es)| (l, es.into_iter().map(|e| (e.ts, e.line)).collect()))
                .collect();
            let want: Vec<(Labels, Vec<(i64, String)>)> = want
                .iter()
                .map(|s| {
                    (
                        labels(&s.labels),
                        s.lines.iter().map(|(t, l)| (ns(*t), l.clone())).collect(),
                    )
                })
                .collect();
            let mut want_sorted = want;
            want_sorted.sort_by(|a, b| a.0.cmp(&b.0));
            if got != want_sorted {
                return Err(format!(
                    "streams differ:\n got  {got:?}\n want {want_sorted:?}"
                ));
            }
        }
        QueryResult::Metric(MetricValue::Matrix(m)) => {
            let want = c
                .matrix
                .as_ref()
                .ok_or_else(|| format!("got matrix {m:?}"))?;
            let got: BTreeMap<Labels, Vec<(i64, f64)>> = m.into_iter().collect();
            let want: BTreeMap<Labels, Vec<(i64, f64)>> = want
                .iter()
                .map(|s| {
                    (
                        labels(&s.labels),
                        s.values
                            .iter()
                            .map(|(t, v)| ((t * 1000.0).round() as i64, *v))
                            .collect(),
                    )
                })
                .collect();
            let same = got.len() == want.len()
                && got.iter().zip(&want).all(|((gl, gv), (wl, wv))| {
                    gl == wl
                        && gv.len() == wv.len()
                        && gv
                            .iter()
                            .zip(wv)
                            .all(|(a, b)| a.0 == b.0 && close(a.1, b.1))
                });
            if !same {
                return Err(format!("matrix differs:\n got  {got:?}\n want {want:?}"));
            }
        }
        QueryResult::Metric(MetricValue::Vector(v)) => {
            let want = c
                .vector
                .as_ref()
                .ok_or_else(|| format!("got vector {v:?}"))?;
            let got: BTreeMap<Labels, f64> = v.into_iter().map(|(l, _, x)| (l, x)).collect();
            let want: BTreeMap<Labels, f64> =
                want.iter().map(|s| (labels(&s.labels), s.value)).collect();
            let same = got.len() == want.len()
                && got
                    .iter()
                    .zip(&want)
                    .all(|(a, b)| a.0 == b.0 && close(*a.1, *b.1));
            if !same {
                return Err(format!("vector differs:\n got  {got:?}\n want {want:?}"));
            }
        }
        QueryResult::Metric(MetricValue::Scalar(_, v)) => {
            let want = c.scalar.ok_or_else(|| format!("got scalar {v}"))?;
            if !close(v, want) {
                return Err(format!("scalar {v} != {want}"));
            }
        }
    }
    Ok(())
}

#[test]
fn logql_suite() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/suite");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/suite")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no suite files in {}", dir.display());
    let mut failures = Vec::new();
    let mut cases = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read suite file");
        let file: File =
            serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let store = load(&file);
        for c in &file.cases {
            cases += 1;
            if let Err(e) = run_case(&store, c) {
                failures.push(format!(
                    "{}: {}\n  {e}",
                    path.file_name().unwrap_or_default().to_string_lossy(),
                    c.query
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} LogQL cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
