//! The evaluator: every expression evaluates to a matrix over the evaluator's steps (scalars are one series
//! without labels), so aggregations, binary operators and functions work step by step on instant vectors
//! while selectors and range functions work series by series.

mod aggregate;
mod binary;
mod binary_series;
mod extended;
mod kheap;
mod matching;
mod range_call;
mod selector;
mod step_chunks;
mod subquery;
mod topk;

pub(crate) use matching::labels_string;
pub(crate) use selector::{PointValue, matcher_sets};
pub(crate) use subquery::{check_times, time_bounds};
pub(crate) use topk::cmp_value_nan_last;

use rustc_hash::FxHashMap as HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lookout_model::{Labels, Sample};
use lookout_storage::Querier;
use promql_parser::parser::{AtModifier, Expr, Offset, token};

use crate::EngineOptions;
use crate::QueryError;
use crate::annotations::AnnotationSink;
use crate::limits::Budget;

/// One series of an intermediate result: points at step timestamps (or raw sample times for range vectors).
#[derive(Debug, Clone)]
pub(crate) struct Series {
    /// The labels, `__name__` possibly still present although `drop_name` is set.
    pub labels: Labels,
    /// Points in time order.
    pub points: Vec<Sample>,
    /// Delayed `__name__` removal: drop the name when the query finishes.
    pub drop_name: bool,
}

/// A series-major result.
pub(crate) type Matrix = Vec<Series>;

/// One element of an instant vector at one step.
#[derive(Debug, Clone)]
pub(crate) struct Elem {
    /// The labels.
    pub labels: Labels,
    /// The value.
    pub v: f64,
    /// Timestamp of the underlying sample (the step time unless it came from a selector).
    pub t: i64,
    /// Delayed `__name__` removal.
    pub drop_name: bool,
}

/// The instant vector of one step.
pub(crate) type Vector = Vec<Elem>;

/// What an expression evaluates to.
#[derive(Debug)]
pub(crate) enum Val {
    /// Instant vector, scalar (one label-less series) or range vector.
    Matrix(Matrix),
    /// A string literal.
    Str(String),
}

impl Val {
    pub(crate) fn into_matrix(self) -> Result<Matrix, QueryError> {
        match self {
            Val::Matrix(m) => Ok(m),
            Val::Str(_) => Err(QueryError::Execution(
                "expected a vector or scalar, got a string".into(),
            )),
        }
    }
}

/// State shared by every evaluator of one query.
pub(crate) struct QueryEnv<'a> {
    pub querier: &'a dyn Querier,
    pub opts: &'a EngineOptions,
    /// Start of the whole query (for `@ start()`).
    pub query_start: i64,
    /// End of the whole query (for `@ end()`).
    pub query_end: i64,
    /// Step of the whole query, 0 for an instant query (for `step()`).
    pub query_step: i64,
    pub budget: Budget,
    /// Literals that are invalid UTF-8 as Prometheus decodes them (refused as label names).
    pub invalid_literals: crate::literals::InvalidUtf8Literals,
    pub annos: AnnotationSink,
}

impl QueryEnv<'_> {
    /// Why `name` cannot be a label name, as the literal was written, or `None` when it can.
    pub(crate) fn invalid_label_name(&self, name: &str) -> Option<String> {
        if name.is_empty() {
            return Some(format!("{name:?}"));
        }
        self.invalid_literals.get(name).cloned()
    }
}

/// Evaluates expressions over the steps `start, start + interval, …, end`.
#[derive(Clone, Copy)]
pub(crate) struct Evaluator<'a> {
    pub env: &'a QueryEnv<'a>,
    pub start: i64,
    pub end: i64,
    pub interval: i64,
}

/// Milliseconds of a parser duration.
pub(crate) fn dur_ms(d: &Duration) -> i64 {
    d.as_millis() as i64
}

/// Signed milliseconds of an `offset`.
pub(crate) fn offset_ms(o: &Option<Offset>) -> i64 {
    match o {
        None => 0,
        Some(Offset::Pos(d)) => dur_ms(d),
        Some(Offset::Neg(d)) => -dur_ms(d),
    }
}

/// Milliseconds since the epoch of a `SystemTime` (negative before 1970).
pub(crate) fn system_time_ms(t: &SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

impl<'a> Evaluator<'a> {
    /// Number of steps.
    pub(crate) fn num_steps(&self) -> usize {
        if self.end < self.start {
            return 0;
        }
        ((self.end - self.start) / self.interval) as usize + 1
    }

    /// Step timestamps.
    pub(crate) fn steps(&self) -> impl Iterator<Item = i64> + use<> {
        let (start, end, interval) = (self.start, self.end, self.interval);
        (0..self.num_steps() as i64)
            .map(move |i| start + i * interval)
            .take_while(move |&t| t <= end)
    }

    /// Room for the points of a series of `samples` samples when each sample reaches the steps within `reach_ms`
    /// after it: a series' point list is allocated once. Grown by doubling, it was reallocated a dozen times per
    /// series, and the query threads then queued at the allocator's arena lock (a tenth of a range query's time).
    pub(crate) fn points_capacity(&self, samples: usize, reach_ms: i64) -> usize {
        let steps_reached = (reach_ms / self.interval.max(1) + 1).max(1) as usize;
        self.num_steps().min(samples.saturating_mul(steps_reached))
    }

    /// True for a single evaluation (instant query or step-invariant part).
    pub(crate) fn is_instant(&self) -> bool {
        self.start == self.end
    }

    /// The absolute time an `@` modifier names, if any.
    pub(crate) fn at_ms(&self, at: &Option<AtModifier>) -> Option<i64> {
        match at {
            None => None,
            Some(AtModifier::Start) => Some(self.env.query_start),
            Some(AtModifier::End) => Some(self.env.query_end),
            Some(AtModifier::At(t)) => Some(system_time_ms(t)),
        }
    }

    /// Evaluates `expr` over this evaluator's steps.
    pub(crate) fn eval(&self, expr: &Expr) -> Result<Val, QueryError> {
        self.env.budget.check("expression evaluation")?;
        if self.end < self.start {
            return Ok(Val::Matrix(Vec::new()));
        }
        match expr {
            Expr::Paren(p) => self.eval(&p.expr),
            Expr::NumberLiteral(n) => {
                self.env.budget.acquire(self.num_steps())?;
                Ok(Val::Matrix(self.constant(n.val)))
            }
            Expr::StringLiteral(s) => Ok(Val::Str(s.val.clone())),
            Expr::VectorSelector(vs) => Ok(Val::Matrix(self.eval_vector_selector(vs)?)),
            Expr::MatrixSelector(ms) => Ok(Val::Matrix(self.eval_matrix_selector(ms)?)),
            Expr::Subquery(sq) => Ok(Val::Matrix(self.eval_subquery_matrix(sq)?)),
            Expr::Unary(u) => {
                let mut m = self.eval(&u.expr)?.into_matrix()?;
                let is_scalar =
                    u.expr.value_type() == promql_parser::parser::value::ValueType::Scalar;
                for s in &mut m {
                    if !is_scalar {
                        s.drop_name = true;
                    }
                    for p in &mut s.points {
                        p.v = -p.v;
                    }
                }
                Ok(Val::Matrix(m))
            }
            Expr::Binary(b) => Ok(Val::Matrix(self.eval_binary(b)?)),
            Expr::Aggregate(a) => Ok(Val::Matrix(self.eval_aggregate(a)?)),
            Expr::Call(c) => Ok(Val::Matrix(crate::functions::eval_call(self, c)?)),
            Expr::Extension(_) => Err(QueryError::Execution(
                "extension expressions are not supported".into(),
            )),
        }
    }

    /// Evaluates a scalar expression to one value per step (NaN where it has none).
    pub(crate) fn scalar_per_step(&self, e: &Expr) -> Result<Vec<f64>, QueryError> {
        let m = self.eval(e)?.into_matrix()?;
        self.env.budget.release(points(&m));
        Ok(match m.first() {
            Some(s) => s.points.iter().map(|p| p.v).collect(),
            None => vec![f64::NAN; self.num_steps()],
        })
    }

    /// A scalar with the same value at every step.
    pub(crate) fn constant(&self, v: f64) -> Matrix {
        vec![Series {
            labels: Labels::empty(),
            points: self.steps().map(|t| Sample::new(t, v)).collect(),
            drop_name: false,
        }]
    }

    /// Evaluates each expression, then calls `f` once per step with the instant vectors of that step and
    /// assembles the per-step outputs into series (Prometheus's `rangeEval`).
    pub(crate) fn range_eval(
        &self,
        inputs: &[Matrix],
        mut f: impl FnMut(i64, &mut [Vector]) -> Result<Vector, QueryError>,
    ) -> Result<Matrix, QueryError> {
        let mut cursors: Vec<Vec<usize>> = inputs.iter().map(|m| vec![0; m.len()]).collect();
        let mut vectors: Vec<Vector> = inputs.iter().map(|_| Vec::new()).collect();
        let mut out = OutputBuilder::new(self.is_instant());
        for ts in self.steps() {
            self.env.budget.check("expression evaluation")?;
            for (i, m) in inputs.iter().enumerate() {
                gather(ts, m, &mut cursors[i], &mut vectors[i]);
            }
            let result = f(ts, &mut vectors)?;
            out.add_step(ts, result)?;
        }
        let m = out.finish();
        // The inputs are consumed; the output is what stays in memory.
        self.env.budget.release(inputs.iter().map(points).sum());
        self.env.budget.acquire(points(&m))?;
        Ok(m)
    }
}

/// Number of points in a matrix (what it costs against the samples budget).
pub(crate) fn points(m: &Matrix) -> usize {
    m.iter().map(|s| s.points.len()).sum()
}

/// Collects the samples of step `ts` from series whose next point is at `ts`.
pub(crate) fn gather(ts: i64, m: &Matrix, cursors: &mut [usize], out: &mut Vector) {
    out.clear();
    for (si, s) in m.iter().enumerate() {
        let c = &mut cursors[si];
        while *c < s.points.len() && s.points[*c].t < ts {
            *c += 1;
        }
        if let Some(p) = s.points.get(*c)
            && p.t == ts
        {
            out.push(Elem {
                labels: s.labels.clone(),
                v: p.v,
                t: ts,
                drop_name: s.drop_name,
            });
            *c += 1;
        }
    }
}

/// Assembles per-step vectors into series; in a single evaluation it keeps the vector's order.
pub(crate) struct OutputBuilder {
    instant: bool,
    series: Vec<Series>,
    index: HashMap<Labels, usize>,
    /// Output index by label-set identity (the same shared label set recurs at every step); each entry
    /// keeps its label set alive so the address cannot be reused.
    by_identity: HashMap<usize, (Labels, usize)>,
}

pub(crate) const DUPLICATE_LABELSET: &str = "vector cannot contain metrics with the same labelset";

impl OutputBuilder {
    pub(crate) fn new(instant: bool) -> Self {
        OutputBuilder {
            instant,
            series: Vec::new(),
            index: HashMap::default(),
            by_identity: HashMap::default(),
        }
    }

    pub(crate) fn add_step(&mut self, ts: i64, v: Vector) -> Result<(), QueryError> {
        if self.instant {
            for e in v {
                self.series.push(Series {
                    labels: e.labels,
                    points: vec![Sample::new(ts, e.v)],
                    drop_name: e.drop_name,
                });
            }
            return Ok(());
        }
        for e in v {
            let id = e.labels.as_slice().as_ptr() as usize;
            let known = match self.by_identity.get(&id) {
                Some(&(_, i)) => Some(i),
                None => {
                    let i = self.index.get(&e.labels).copied();
                    if let Some(i) = i {
                        self.by_identity.insert(id, (e.labels.clone(), i));
                    }
                    i
                }
            };
            match known {
                Some(i) => {
                    let s = &mut self.series[i];
                    if s.points.last().is_some_and(|p| p.t == ts) {
                        return Err(QueryError::Execution(DUPLICATE_LABELSET.into()));
                    }
                    s.points.push(Sample::new(ts, e.v));
                }
                None => {
                    self.index.insert(e.labels.clone(), self.series.len());
                    self.by_identity
                        .insert(id, (e.labels.clone(), self.series.len()));
                    self.series.push(Series {
                        labels: e.labels,
                        points: vec![Sample::new(ts, e.v)],
                        drop_name: e.drop_name,
                    });
                }
            }
        }
        Ok(())
    }

    pub(crate) fn finish(self) -> Matrix {
        self.series
    }
}

/// True for the arithmetic operators, which drop the metric name.
pub(crate) fn changes_metric_schema(op: token::TokenId) -> bool {
    matches!(
        op,
        token::T_ADD
            | token::T_SUB
            | token::T_DIV
            | token::T_MUL
            | token::T_POW
            | token::T_MOD
            | token::T_ATAN2
    )
}

/// The labels without `__name__` and the metric metadata labels `__type__` and `__unit__`, which describe
/// the metric and lose their meaning with it.
pub(crate) fn drop_metric_labels(l: &Labels) -> Labels {
    l.drop_names(&[lookout_model::METRIC_NAME, "__type__", "__unit__"])
}

/// Drops `__name__` where the delayed removal asks for it, then merges series that became equal
/// (an error if they overlap in time, or at all for an instant vector).
pub(crate) fn cleanup_names(mut m: Matrix, instant_vector: bool) -> Result<Matrix, QueryError> {
    for s in &mut m {
        if s.drop_name {
            s.labels = drop_metric_labels(&s.labels);
            s.drop_name = false;
        }
    }
    if instant_vector {
        let mut seen = rustc_hash::FxHashSet::default();
        if m.iter().any(|s| !seen.insert(&s.labels)) {
            return Err(QueryError::Execution(DUPLICATE_LABELSET.into()));
        }
        return Ok(m);
    }
    cleanup_merge(m)
}

/// Merges series with equal label sets; an error when two of them have a point at the same time.
pub(crate) fn cleanup_merge(m: Matrix) -> Result<Matrix, QueryError> {
    let mut out: Matrix = Vec::with_capacity(m.len());
    let mut index: HashMap<Labels, usize> = HashMap::default();
    let mut merged = false;
    for s in m {
        match index.get(&s.labels) {
            Some(&i) => {
                out[i].points.extend(s.points);
                merged = true;
            }
            None => {
                index.insert(s.labels.clone(), out.len());
                out.push(s);
            }
        }
    }
    if merged {
        for s in &mut out {
            s.points.sort_by_key(|p| p.t);
            if s.points.windows(2).any(|w| w[0].t == w[1].t) {
                return Err(QueryError::Execution(DUPLICATE_LABELSET.into()));
            }
        }
    }
    Ok(out)
}
