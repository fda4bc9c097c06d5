//! Query entry points: log queries (selection, pipeline, limit, direction) and metric queries (range aggregations
//! evaluated here; everything above them — vector aggregations, binary operators, `label_replace`, `vector()` —
//! handed to the PromQL engine over the range aggregations' results, so the vector maths exists once).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lookout_model::{Labels, stale_nan};
use lookout_promql::{Engine, EngineOptions, QueryContext, Value};
use lookout_storage::Storage;
use lookout_storage::logs::{LogQuery, LogSource, LogSourceError, QueryDirection};
use lookout_storage::mem::MemStorage;

use crate::ParseError;
use crate::ast::{Expr, Grouping, LogExpr, MetricExpr, RangeOp, VectorOp};
use crate::labels::{Category, LabelSet};
use crate::pipeline::{Pipeline, push_down};
use crate::range::{self, RangeAgg, RangeSeries, Steps};

/// Why a query failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LogqlError {
    /// The query does not parse.
    #[error("{0}")]
    Parse(#[from] ParseError),
    /// The query or its parameters are invalid, or the pipeline failed.
    #[error("{0}")]
    BadRequest(String),
    /// A limit was reached.
    #[error("{message}")]
    Limit {
        /// The limit's configuration name.
        name: &'static str,
        /// Its value.
        limit: u64,
        /// What happened.
        message: String,
    },
    /// The client went away.
    #[error("query cancelled")]
    Cancelled,
    /// The deadline passed.
    #[error("query timed out after {0:?}")]
    Timeout(Duration),
    /// The store failed.
    #[error("{0}")]
    Store(String),
}

impl From<LogSourceError> for LogqlError {
    fn from(e: LogSourceError) -> Self {
        match e {
            LogSourceError::Store(s) => LogqlError::Store(s),
            LogSourceError::Limit {
                name,
                limit,
                message,
            } => LogqlError::Limit {
                name,
                limit,
                message,
            },
        }
    }
}

/// Query limits (each configurable, each named in its error).
#[derive(Debug, Clone)]
pub struct LogqlLimits {
    /// Largest `limit` a log query may ask for (Loki's `max_entries_limit_per_query`, 5000).
    pub max_entries: usize,
    /// Series a metric query may return (Loki's `max_query_series`, 500).
    pub max_series: usize,
    /// Series a range aggregation may build before its result is reduced.
    pub max_intermediate_series: usize,
    /// Lines one query may read.
    pub max_lines_read: u64,
    /// Wall-clock budget.
    pub timeout: Duration,
    /// Points per series of a range query.
    pub max_points: usize,
    /// Live tails open at once (Loki's `max_concurrent_tail_requests`).
    pub max_tail_sessions: usize,
}

impl Default for LogqlLimits {
    fn default() -> Self {
        LogqlLimits {
            max_entries: 5000,
            max_series: 500,
            max_intermediate_series: 100_000,
            max_lines_read: 200_000_000,
            timeout: Duration::from_secs(120),
            max_points: 11_000,
            max_tail_sessions: 10,
        }
    }
}

/// Checks limits, the deadline and cancellation while a query reads lines.
pub struct Guard {
    limits: LogqlLimits,
    deadline: Instant,
    cancel: Option<Arc<AtomicBool>>,
    /// Lines read.
    pub lines: u64,
    /// Line bytes read.
    pub bytes: u64,
}

impl Guard {
    /// A guard for one query.
    pub fn new(limits: &LogqlLimits, cancel: Option<Arc<AtomicBool>>) -> Guard {
        Guard {
            deadline: Instant::now() + limits.timeout,
            limits: limits.clone(),
            cancel,
            lines: 0,
            bytes: 0,
        }
    }

    /// Counts one line read.
    pub fn line(&mut self, bytes: usize) -> Result<(), LogqlError> {
        self.lines += 1;
        self.bytes += bytes as u64;
        if self.lines > self.limits.max_lines_read {
            return Err(LogqlError::Limit {
                name: "logs.max_lines_read",
                limit: self.limits.max_lines_read,
                message: format!(
                    "the query would read more than {} lines (logs.max_lines_read); narrow the selector, add line filters or shorten the range",
                    self.limits.max_lines_read
                ),
            });
        }
        if self.lines.is_multiple_of(4096) {
            self.check()?;
        }
        Ok(())
    }

    /// Checks cancellation and the deadline.
    pub fn check(&self) -> Result<(), LogqlError> {
        if self
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Err(LogqlError::Cancelled);
        }
        if Instant::now() > self.deadline {
            return Err(LogqlError::Timeout(self.limits.timeout));
        }
        Ok(())
    }

    /// Checks an intermediate series count.
    pub fn series(&self, n: usize) -> Result<(), LogqlError> {
        if n > self.limits.max_intermediate_series {
            return Err(LogqlError::Limit {
                name: "logs.max_intermediate_series",
                limit: self.limits.max_intermediate_series as u64,
                message: format!(
                    "the query builds more than {} series before aggregating (logs.max_intermediate_series); group by fewer labels or drop high-cardinality labels with | drop or | keep",
                    self.limits.max_intermediate_series
                ),
            });
        }
        Ok(())
    }
}

/// One returned log line with its labels by category.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// Timestamp ns.
    pub ts: i64,
    /// The line after the pipeline.
    pub line: String,
    /// Stream labels (after the pipeline's drop/keep/label_format).
    pub stream: Vec<(String, String)>,
    /// Structured metadata.
    pub metadata: Vec<(String, String)>,
    /// Labels set by the pipeline.
    pub parsed: Vec<(String, String)>,
}

/// A metric result.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricValue {
    /// Series with one point per step (ms timestamps).
    Matrix(Vec<(Labels, Vec<(i64, f64)>)>),
    /// One value per series at the query time (ms).
    Vector(Vec<(Labels, i64, f64)>),
    /// A number at the query time (ms).
    Scalar(i64, f64),
}

/// What a query answers.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryResult {
    /// Log lines in the query's direction.
    Streams(Vec<LogLine>),
    /// Numbers.
    Metric(MetricValue),
}

/// The parameters of a query.
#[derive(Debug, Clone)]
pub struct QueryParams {
    /// Start ns (inclusive); for an instant query, the time.
    pub start: i64,
    /// End ns (exclusive for log lines, the last step for metrics); equal to `start` for an instant query.
    pub end: i64,
    /// Step ns (metric range queries).
    pub step: i64,
    /// Most lines returned.
    pub limit: usize,
    /// Line order.
    pub direction: QueryDirection,
    /// Instant (vector) rather than range (matrix) evaluation.
    pub instant: bool,
}

/// Work a query did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecStats {
    /// Lines read from the store.
    pub lines: u64,
    /// Bytes of those lines.
    pub bytes: u64,
}

/// Evaluates LogQL over a log source.
pub struct LogqlEngine<'a> {
    src: &'a dyn LogSource,
    limits: LogqlLimits,
    cancel: Option<Arc<AtomicBool>>,
}

fn step_series_limit(limits: &LogqlLimits, n: usize) -> Result<(), LogqlError> {
    if n > limits.max_series {
        return Err(LogqlError::Limit {
            name: "logs.max_query_series",
            limit: limits.max_series as u64,
            message: format!(
                "maximum number of series ({}) reached for a single query; consider reducing query cardinality by adding more specific stream selectors, reducing the time range, or aggregating results with functions like sum(), count() or topk()",
                limits.max_series
            ),
        });
    }
    Ok(())
}

impl<'a> LogqlEngine<'a> {
    /// An engine over `src`.
    pub fn new(
        src: &'a dyn LogSource,
        limits: LogqlLimits,
        cancel: Option<Arc<AtomicBool>>,
    ) -> Self {
        LogqlEngine {
            src,
            limits,
            cancel,
        }
    }

    /// Parses and runs `query`.
    pub fn query(
        &self,
        query: &str,
        p: &QueryParams,
    ) -> Result<(QueryResult, ExecStats), LogqlError> {
        let expr = crate::parse(query)?;
        self.run(&expr, p)
    }

    /// Runs a parsed query.
    pub fn run(
        &self,
        expr: &Expr,
        p: &QueryParams,
    ) -> Result<(QueryResult, ExecStats), LogqlError> {
        let mut guard = Guard::new(&self.limits, self.cancel.clone());
        let result = match expr {
            Expr::Log(log) => {
                if p.instant {
                    return Err(LogqlError::BadRequest("log queries are not supported as an instant query type, please change your query to a range query type".into()));
                }
                QueryResult::Streams(self.log_query(log, p, &mut guard)?)
            }
            Expr::Metric(m) => QueryResult::Metric(self.metric_query(m, p, &mut guard)?),
        };
        Ok((
            result,
            ExecStats {
                lines: guard.lines,
                bytes: guard.bytes,
            },
        ))
    }

    fn log_query(
        &self,
        log: &LogExpr,
        p: &QueryParams,
        guard: &mut Guard,
    ) -> Result<Vec<LogLine>, LogqlError> {
        if p.limit > self.limits.max_entries {
            return Err(LogqlError::Limit {
                name: "logs.max_entries_limit_per_query",
                limit: self.limits.max_entries as u64,
                message: format!(
                    "max entries limit per query exceeded, limit > max_entries_limit_per_query ({} > {})",
                    p.limit, self.limits.max_entries
                ),
            });
        }
        let (filters, rest) = push_down(&log.pipeline);
        let pipeline = Pipeline::new(rest).map_err(LogqlError::BadRequest)?;
        let q = LogQuery {
            matchers: log.matchers.clone(),
            filters,
            start: p.start,
            end: p.end,
            limit: usize::MAX,
            direction: p.direction,
        };
        let mut out = Vec::new();
        let mut failure = None;
        self.src.scan(&q, &mut |stream, e| {
            if let Err(err) = guard.line(e.line.len()) {
                failure = Some(err);
                return false;
            }
            let mut labels = LabelSet::new(stream, &e.metadata);
            let Some(line) = pipeline.process(e.ts, &e.line, &mut labels) else {
                return true;
            };
            out.push(LogLine {
                ts: e.ts,
                line: line.into_owned(),
                stream: labels.category(Category::Stream),
                metadata: labels.category(Category::Metadata),
                parsed: labels.category(Category::Parsed),
            });
            out.len() < p.limit
        })?;
        match failure {
            Some(f) => Err(f),
            None => Ok(out),
        }
    }

    fn metric_query(
        &self,
        m: &MetricExpr,
        p: &QueryParams,
        guard: &mut Guard,
    ) -> Result<MetricValue, LogqlError> {
        // PromQL evaluates in milliseconds: align the steps to whole milliseconds first.
        let ms = 1_000_000;
        let start_ms = p.start.div_euclid(ms);
        let end_ms = p.end.div_euclid(ms);
        let step_ms = if p.instant { 1 } else { (p.step / ms).max(1) };
        if !p.instant && (end_ms - start_ms) / step_ms > self.limits.max_points as i64 {
            return Err(LogqlError::Limit {
                name: "logs.max_points_per_series",
                limit: self.limits.max_points as u64,
                message: format!(
                    "exceeded maximum resolution of {} points per time series. Try increasing the value of the step parameter",
                    self.limits.max_points
                ),
            });
        }
        let steps = Steps {
            start: start_ms * ms,
            end: if p.instant {
                start_ms * ms
            } else {
                end_ms * ms
            },
            step: step_ms * ms,
        };
        let m = strip_parens(m);
        // A lone range aggregation needs no vector maths.
        if let MetricExpr::Range {
            op,
            param,
            range,
            grouping,
        } = m
        {
            let series = range::evaluate(
                self.src,
                &RangeAgg {
                    op: *op,
                    param: *param,
                    range,
                    grouping: grouping.as_ref(),
                },
                steps,
                guard,
            )?;
            step_series_limit(&self.limits, series.len())?;
            return Ok(shape(series, p.instant));
        }
        let mut ranges: Vec<RangeSeries> = Vec::new();
        let mut names = 0usize;
        let promql = self.to_promql(m, steps, guard, &mut ranges, &mut names)?;
        let storage = MemStorage::new();
        {
            let mut app = storage.appender();
            let times: Vec<i64> = steps.times().collect();
            for s in &ranges {
                let mut it = s.points.iter().peekable();
                for t in &times {
                    let v = match it.peek() {
                        Some((pt, v)) if pt == t => {
                            let v = *v;
                            it.next();
                            v
                        }
                        _ => stale_nan(),
                    };
                    app.append(&s.labels, t / ms, v)
                        .map_err(|e| LogqlError::Store(e.to_string()))?;
                }
            }
            app.commit().map_err(|e| LogqlError::Store(e.to_string()))?;
        }
        let engine = Engine::new(EngineOptions {
            max_points_per_series: self.limits.max_points,
            timeout: self.limits.timeout,
            ..EngineOptions::default()
        });
        let ctx = QueryContext {
            cancel: self.cancel.clone(),
            deadline: None,
        };
        let out = if p.instant {
            engine.instant_query(&storage, &promql, start_ms, &ctx)
        } else {
            engine.range_query(&storage, &promql, start_ms, end_ms, step_ms, &ctx)
        }
        .map_err(|e| LogqlError::BadRequest(e.to_string()))?;
        let value = match out.value {
            Value::Scalar { t, v } => MetricValue::Scalar(t, v),
            Value::Vector(v) => MetricValue::Vector(
                v.into_iter()
                    .map(|s| (s.labels.without_metric_name(), s.t, s.v))
                    .collect(),
            ),
            Value::Matrix(m) => MetricValue::Matrix(
                m.into_iter()
                    .map(|s| {
                        (
                            s.labels.without_metric_name(),
                            s.samples.into_iter().map(|x| (x.t, x.v)).collect(),
                        )
                    })
                    .collect(),
            ),
            Value::String { .. } => {
                return Err(LogqlError::BadRequest(
                    "string results are not supported".into(),
                ));
            }
        };
        let n = match &value {
            MetricValue::Matrix(m) => m.len(),
            MetricValue::Vector(v) => v.len(),
            MetricValue::Scalar(..) => 0,
        };
        step_series_limit(&self.limits, n)?;
        Ok(value)
    }

    /// Renders the expression as PromQL, evaluating each range aggregation into `ranges` under a synthetic name.
    fn to_promql(
        &self,
        m: &MetricExpr,
        steps: Steps,
        guard: &mut Guard,
        ranges: &mut Vec<RangeSeries>,
        names: &mut usize,
    ) -> Result<String, LogqlError> {
        Ok(match m {
            MetricExpr::Range {
                op,
                param,
                range,
                grouping,
            } => {
                let series = range::evaluate(
                    self.src,
                    &RangeAgg {
                        op: *op,
                        param: *param,
                        range,
                        grouping: grouping.as_ref(),
                    },
                    steps,
                    guard,
                )?;
                self.synthetic(series, ranges, names)
            }
            MetricExpr::Vector {
                op,
                param,
                grouping,
                expr,
            } => {
                // `sum by (g) (count_over_time(…))` and its kin: group while counting, so a parser's
                // high-cardinality labels never become intermediate series.
                if let (
                    Some(g),
                    MetricExpr::Range {
                        op: rop,
                        param: rparam,
                        range,
                        grouping: None,
                    },
                ) = (grouping, strip_parens(expr))
                {
                    if pushable(*op, *rop) {
                        let series = range::evaluate(
                            self.src,
                            &RangeAgg {
                                op: *rop,
                                param: *rparam,
                                range,
                                grouping: Some(g),
                            },
                            steps,
                            guard,
                        )?;
                        let inner = self.synthetic(series, ranges, names);
                        return Ok(format!("{}{}({inner})", op.name(), grouping_text(grouping)));
                    }
                }
                let inner = self.to_promql(expr, steps, guard, ranges, names)?;
                let name = match op {
                    VectorOp::ApproxTopk => "topk",
                    other => other.name(),
                };
                match param {
                    Some(k) => format!("{name}{}({k}, {inner})", grouping_text(grouping)),
                    None => format!("{name}{}({inner})", grouping_text(grouping)),
                }
            }
            MetricExpr::Binary {
                op,
                return_bool,
                matching,
                lhs,
                rhs,
            } => {
                let l = self.to_promql(lhs, steps, guard, ranges, names)?;
                let r = self.to_promql(rhs, steps, guard, ranges, names)?;
                let mut s = format!("({l}) {}", op.text());
                if *return_bool {
                    s.push_str(" bool");
                }
                if matching.on || !matching.labels.is_empty() {
                    s.push_str(&format!(
                        " {}({})",
                        if matching.on { "on" } else { "ignoring" },
                        matching.labels.join(", ")
                    ));
                }
                if let Some((right, labels)) = &matching.group {
                    s.push_str(&format!(
                        " {}({})",
                        if *right { "group_right" } else { "group_left" },
                        labels.join(", ")
                    ));
                }
                format!("{s} ({r})")
            }
            MetricExpr::Literal(v) => promql_number(*v),
            MetricExpr::VectorLit(v) => format!("vector({})", promql_number(*v)),
            MetricExpr::LabelReplace { expr, args } => {
                let inner = self.to_promql(expr, steps, guard, ranges, names)?;
                let q: Vec<String> = args.iter().map(|a| crate::ast::quote(a)).collect();
                format!("label_replace({inner}, {})", q.join(", "))
            }
            MetricExpr::Paren(e) => {
                format!("({})", self.to_promql(e, steps, guard, ranges, names)?)
            }
        })
    }

    fn synthetic(
        &self,
        series: Vec<RangeSeries>,
        ranges: &mut Vec<RangeSeries>,
        names: &mut usize,
    ) -> String {
        let name = format!("__logql_{}", *names);
        *names += 1;
        for mut s in series {
            let mut b = s.labels.to_builder();
            b.set("__name__", &name);
            s.labels = b.build_unchecked();
            ranges.push(s);
        }
        // A name no series carries still selects nothing, as an empty range aggregation should.
        format!("{{__name__=\"{name}\"}}")
    }
}

/// Whether `outer by (g) (inner(…))` equals grouping while evaluating `inner`.
fn pushable(outer: VectorOp, inner: RangeOp) -> bool {
    match outer {
        VectorOp::Sum => matches!(
            inner,
            RangeOp::CountOverTime
                | RangeOp::Rate
                | RangeOp::BytesOverTime
                | RangeOp::BytesRate
                | RangeOp::SumOverTime
        ),
        VectorOp::Max => inner == RangeOp::MaxOverTime,
        VectorOp::Min => inner == RangeOp::MinOverTime,
        _ => false,
    }
}

fn grouping_text(g: &Option<Grouping>) -> String {
    match g {
        None => String::new(),
        Some(g) => format!(
            " {} ({}) ",
            if g.without { "without" } else { "by" },
            g.labels.join(", ")
        ),
    }
}

fn promql_number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v:?}")
    }
}

fn strip_parens(m: &MetricExpr) -> &MetricExpr {
    match m {
        MetricExpr::Paren(e) => strip_parens(e),
        other => other,
    }
}

fn shape(series: Vec<RangeSeries>, instant: bool) -> MetricValue {
    let ms = 1_000_000;
    if instant {
        MetricValue::Vector(
            series
                .into_iter()
                .filter_map(|s| s.points.last().map(|(t, v)| (s.labels, t / ms, *v)))
                .collect(),
        )
    } else {
        MetricValue::Matrix(
            series
                .into_iter()
                .map(|s| {
                    (
                        s.labels,
                        s.points.into_iter().map(|(t, v)| (t / ms, v)).collect(),
                    )
                })
                .collect(),
        )
    }
}

/// Groups lines into result streams: by every label (Loki's default answer) or, categorized, by stream labels with
/// metadata and parsed labels per entry. Streams in label order, entries in the order given.
pub fn group_streams(lines: Vec<LogLine>, categorized: bool) -> Vec<(Labels, Vec<LogLine>)> {
    let mut groups: std::collections::BTreeMap<Labels, Vec<LogLine>> = Default::default();
    for l in lines {
        let key = if categorized {
            Labels::from_pairs_unchecked(&l.stream)
        } else {
            let mut all: Vec<&(String, String)> = l
                .stream
                .iter()
                .chain(&l.metadata)
                .chain(&l.parsed)
                .collect();
            all.sort();
            Labels::from_pairs_unchecked(
                &all.iter()
                    .map(|(a, b)| (a.as_str(), b.as_str()))
                    .collect::<Vec<_>>(),
            )
        };
        groups.entry(key).or_default().push(l);
    }
    groups.into_iter().collect()
}

#[allow(dead_code)]
fn _assert_storage(_: &dyn Storage) {}
