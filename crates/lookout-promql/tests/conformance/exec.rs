//! Executing a parsed script: loading data into a [`MemStorage`], running each eval case as upstream's runner
//! does, and recording one outcome per case.

use std::collections::HashSet;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use lookout_model::Labels;
use lookout_promql::{
    Engine, EngineOptions, QueryContext, QueryError, QueryOutput, Value, VectorSample,
};
use lookout_storage::Storage;
use lookout_storage::mem::MemStorage;
use regex::Regex;

use crate::at_modifier::at_modifier_variants;
use crate::compare::{
    check_annotations, check_failure, check_matrix_sorted, compare_result, compare_scalar,
    compare_vector,
};
use crate::script::{Command, Eval, Load};
use crate::series::Point;

/// Wall-clock budget of one query (passed to the engine as the query deadline).
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(10);

/// The query side of the runner; the engine in the suite, a scripted fake in the runner's own tests.
pub trait QueryBackend {
    /// Evaluates `query` at `t_ms`.
    fn instant(
        &self,
        storage: &MemStorage,
        query: &str,
        t_ms: i64,
    ) -> Result<QueryOutput, QueryError>;
    /// Evaluates `query` from `start_ms` to `end_ms` every `step_ms`.
    fn range(
        &self,
        storage: &MemStorage,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryOutput, QueryError>;
}

/// The real engine, each query bounded by [`QUERY_TIMEOUT`].
pub struct EngineBackend(pub Engine);

/// Upstream's test engine allows 10,000 samples per query (`DefaultMaxSamplesPerQuery`, what `promql_test.go`
/// passes to `NewTestEngine`); no file expects that limit to be hit, so every case must fit in it.
pub const MAX_SAMPLES_PER_QUERY: usize = 10_000;

impl EngineBackend {
    /// The engine with upstream's test settings: 5 m lookback, 1 m default subquery step, 10,000 samples.
    pub fn upstream_test_settings() -> Self {
        EngineBackend(Engine::new(EngineOptions {
            max_samples: MAX_SAMPLES_PER_QUERY,
            ..EngineOptions::default()
        }))
    }
}

fn deadline_ctx() -> QueryContext {
    QueryContext {
        deadline: Some(Instant::now() + QUERY_TIMEOUT),
        ..QueryContext::default()
    }
}

impl QueryBackend for EngineBackend {
    fn instant(
        &self,
        storage: &MemStorage,
        query: &str,
        t_ms: i64,
    ) -> Result<QueryOutput, QueryError> {
        contain_panic(|| self.0.instant_query(storage, query, t_ms, &deadline_ctx()))
    }

    fn range(
        &self,
        storage: &MemStorage,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryOutput, QueryError> {
        contain_panic(|| {
            self.0
                .range_query(storage, query, start, end, step, &deadline_ctx())
        })
    }
}

/// Turns an engine panic into a failed query, so one panicking case cannot stop the rest of the suite.
pub fn contain_panic(
    query: impl FnOnce() -> Result<QueryOutput, QueryError>,
) -> Result<QueryOutput, QueryError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(query)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("non-string panic payload");
        Err(QueryError::Execution(format!(
            "the engine panicked: {message}"
        )))
    })
}

/// What happened to one eval case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// 1-based line of the `eval` command.
    pub line: usize,
    /// The query as written.
    pub query: String,
    /// `Err` holds why the case failed.
    pub outcome: Result<(), String>,
    /// The case's expectations or data involve native histograms.
    pub native_histograms: bool,
    /// The data had start-timestamp (`@st`) lines that could not be stored.
    pub start_timestamps: bool,
    /// The engine reported a parse error for the query (its message).
    pub parse_error: Option<String>,
    /// Queries run for the case (as written, range-mode checks, `@` variants).
    pub queries: usize,
    /// Time spent on the case.
    pub elapsed: Duration,
}

/// A load that could not be applied; always a hard error (a runner or storage problem).
#[derive(Debug, Clone)]
pub struct LoadError {
    /// 1-based line of the `load` command.
    pub line: usize,
    /// What went wrong.
    pub message: String,
}

/// Data state between `clear`s that decides how failures are classified.
#[derive(Default)]
struct DataState {
    /// Metric names that had native-histogram points (or were converted by `load_with_nhcb`).
    histogram_metrics: HashSet<String>,
    start_timestamps: bool,
}

/// Executes all commands; returns the case results and any load errors.
pub fn run_commands(
    commands: &[Command],
    backend: &dyn QueryBackend,
) -> (Vec<CaseResult>, Vec<LoadError>) {
    let storage = MemStorage::new();
    let mut state = DataState::default();
    let mut results = Vec::new();
    let mut load_errors = Vec::new();
    for cmd in commands {
        match cmd {
            Command::Clear => {
                storage.clear();
                state = DataState::default();
            }
            Command::Load(load) => {
                if let Err(message) = apply_load(&storage, load) {
                    load_errors.push(LoadError {
                        line: load.line,
                        message,
                    });
                }
                note_load(&mut state, load);
            }
            Command::Eval(eval) => {
                crate::watchdog::set_current(&format!("line {}: {}", eval.line, eval.query));
                let started = Instant::now();
                let mut trace = Trace::default();
                let outcome = run_eval(
                    &storage,
                    eval,
                    &mut Counting {
                        inner: backend,
                        trace: &mut trace,
                    },
                );
                crate::watchdog::clear_current();
                results.push(CaseResult {
                    line: eval.line,
                    query: eval.query.clone(),
                    outcome,
                    native_histograms: depends_on_histograms(eval, &state),
                    start_timestamps: state.start_timestamps,
                    parse_error: trace.parse_error,
                    queries: trace.queries,
                    elapsed: started.elapsed(),
                });
            }
        }
    }
    (results, load_errors)
}

fn note_load(state: &mut DataState, load: &Load) {
    state.start_timestamps |= load.has_start_timestamps;
    for s in &load.series {
        let Some(name) = s.labels.metric_name() else {
            continue;
        };
        if s.points.contains(&Point::Histogram) {
            state.histogram_metrics.insert(name.to_string());
        }
        if load.with_nhcb {
            for suffix in ["_bucket", "_count", "_sum"] {
                if let Some(base) = name.strip_suffix(suffix) {
                    state.histogram_metrics.insert(base.to_string());
                }
            }
        }
    }
}

/// Whether a failure of this case is put down to native histograms: its expectations hold histogram literals,
/// or it reads metrics that had histogram samples - unless it must fail with an error that is not about
/// histograms (such errors do not depend on the samples' type).
fn depends_on_histograms(eval: &Eval, state: &DataState) -> bool {
    if eval.expects_histograms {
        return true;
    }
    if !may_select(&eval.query, &state.histogram_metrics) {
        return false;
    }
    if !eval.must_fail() {
        return true;
    }
    let expected_error = [
        eval.expected_fail_message.clone(),
        eval.expected_fail_regexp
            .as_ref()
            .map(|r| r.as_str().to_string()),
        eval.expect_fail.as_ref().map(|m| m.to_string()),
    ];
    expected_error
        .iter()
        .flatten()
        .any(|text| text.to_ascii_lowercase().contains("histogram"))
}

/// True when `query` may select one of the metrics `names`: it names one as a whole identifier, or it has a
/// selector without a literal metric name (`{job="x"}`, `{__name__=~"..."}`).
fn may_select(query: &str, names: &HashSet<String>) -> bool {
    if names.is_empty() {
        return false;
    }
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mentions = query
        .split(|c: char| !is_ident(c))
        .any(|word| names.contains(word));
    let nameless_selector = query.contains("__name__")
        || query
            .match_indices('{')
            .any(|(i, _)| !query[..i].trim_end().ends_with(is_ident));
    mentions || nameless_selector
}

/// Appends a load block's float points (native histograms cannot be stored and are left out).
pub fn apply_load(storage: &MemStorage, load: &Load) -> Result<(), String> {
    // A series written twice in one block keeps its last definition, as upstream.
    let mut last_by_labels: Vec<&crate::series::SeriesLine> = Vec::new();
    for s in &load.series {
        match last_by_labels.iter_mut().find(|e| e.labels == s.labels) {
            Some(e) => *e = s,
            None => last_by_labels.push(s),
        }
    }
    let mut app = storage.appender();
    for s in last_by_labels {
        for (k, p) in s.points.iter().enumerate() {
            if let Point::Float(v) = p {
                let t = k as i64 * load.interval_ms;
                app.append(&s.labels, t, *v)
                    .map_err(|e| format!("series {} at t={t}: {e}", s.labels))?;
            }
        }
    }
    app.commit()
        .map(|_| ())
        .map_err(|e| format!("commit failed: {e}"))
}

/// What the runner notes about a case's queries besides the outcome.
#[derive(Default)]
struct Trace {
    parse_error: Option<String>,
    queries: usize,
}

/// Wraps a backend to count queries and keep the first parse error.
struct Counting<'a> {
    inner: &'a dyn QueryBackend,
    trace: &'a mut Trace,
}

impl Counting<'_> {
    fn note(&mut self, result: Result<QueryOutput, QueryError>) -> Result<QueryOutput, QueryError> {
        self.trace.queries += 1;
        if let Err(QueryError::Parse { message, .. }) = &result {
            self.trace
                .parse_error
                .get_or_insert_with(|| message.clone());
        }
        result
    }

    fn instant(
        &mut self,
        storage: &MemStorage,
        query: &str,
        t: i64,
    ) -> Result<QueryOutput, QueryError> {
        let r = self.inner.instant(storage, query, t);
        self.note(r)
    }

    fn range(
        &mut self,
        storage: &MemStorage,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryOutput, QueryError> {
        let r = self.inner.range(storage, query, start, end, step);
        self.note(r)
    }
}

fn run_eval(storage: &MemStorage, eval: &Eval, backend: &mut Counting<'_>) -> Result<(), String> {
    if eval.is_range {
        let result = backend.range(
            storage,
            &eval.query,
            eval.start_ms,
            eval.end_ms,
            eval.step_ms,
        );
        return check_output(eval, result);
    }
    let mut queries = vec![(eval.query.clone(), eval.eval_ms)];
    queries.extend(at_modifier_variants(&eval.query, eval.eval_ms));
    for (query, t) in &queries {
        let result = backend.instant(storage, query, *t);
        let instant_value = result.as_ref().ok().map(|o| o.value.clone());
        check_output(eval, result).map_err(|e| describe(query, *t, &eval.query, e))?;
        if let Some(value) = instant_value {
            range_mode_check(storage, eval, backend, query, *t, &value)
                .map_err(|e| describe(query, *t, &eval.query, e))?;
        }
    }
    Ok(())
}

/// Names the variant that failed when it is not the query as written.
fn describe(query: &str, t: i64, original: &str, error: String) -> String {
    if query == original {
        error
    } else {
        format!("{error} [variant {query:?} at t={t}ms]")
    }
}

fn check_output(eval: &Eval, result: Result<QueryOutput, QueryError>) -> Result<(), String> {
    match result {
        Err(err) => {
            if eval.must_fail() {
                check_failure(eval, &err.to_string())
            } else {
                Err(format!("query failed: {err}"))
            }
        }
        Ok(_) if eval.must_fail() => Err("expected the query to fail, but it succeeded".into()),
        Ok(output) => {
            check_annotations(eval, &output.annotations)?;
            compare_result(eval, &output.value)
        }
    }
}

/// Queries that depend on the range query's own parameters give other answers in range mode.
static QUERY_CONTEXT_FUNCTIONS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(start|end|range|step)\(\)").expect("valid regex"));

/// Upstream's cross-check: the instant query, run as a range query from t-1m to t+1m every 1m, must give the same
/// answer at its middle step.
fn range_mode_check(
    storage: &MemStorage,
    eval: &Eval,
    backend: &mut Counting<'_>,
    query: &str,
    t: i64,
    instant_value: &Value,
) -> Result<(), String> {
    if eval.exclude_from_range_query || QUERY_CONTEXT_FUNCTIONS.is_match(query) {
        return Ok(());
    }
    let output = backend
        .range(storage, query, t - 60_000, t + 60_000, 60_000)
        .map_err(|e| format!("range mode: query failed: {e}"))?;
    if eval.ordered {
        return Ok(());
    }
    let Value::Matrix(series) = &output.value else {
        return Err(format!(
            "range mode: expected a matrix, got a {}",
            output.value.type_name()
        ));
    };
    check_matrix_sorted(series).map_err(|e| format!("range mode: {e}"))?;
    let at_t: Vec<VectorSample> = series
        .iter()
        .filter_map(|s| {
            s.samples.iter().find(|p| p.t == t).map(|p| VectorSample {
                labels: s.labels.clone(),
                t,
                v: p.v,
            })
        })
        .collect();
    let compared = if matches!(instant_value, Value::Scalar { .. }) {
        match at_t.first() {
            Some(s) => compare_scalar(eval, s.v),
            None => Err("no point at the evaluation time".into()),
        }
    } else {
        compare_vector(eval, &at_t)
    };
    compared.map_err(|e| format!("range mode (middle step of [t-1m, t+1m]): {e}"))
}

/// Every stored series with its samples (for the runner's own tests).
#[cfg(test)]
pub fn stored(storage: &MemStorage) -> Vec<(Labels, Vec<lookout_model::Sample>)> {
    use lookout_model::{Matcher, TimeRange};
    use lookout_storage::SelectHints;
    let q = storage.querier(TimeRange::ALL).expect("querier");
    let all = Matcher::new(lookout_model::MatchOp::Regex, "__name__", ".*").expect("matcher");
    let set = q
        .select(&[all], SelectHints::samples(TimeRange::ALL))
        .expect("select");
    set.map(|s| {
        let mut s = s.expect("series");
        let mut samples = Vec::new();
        s.samples.collect_into(&mut samples);
        (s.labels, samples)
    })
    .collect()
}
