//! Query entry points: log queries (selection, pipeline, limit, direction) and metric queries (range aggregations
//! evaluated here; everything above them — vector aggregations, binary operators, `label_replace`, `vector()` —
//! handed to the PromQL engine over the range aggregations' results, so the vector maths exists once).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use lookout_model::Labels;
use lookout_storage::logs::{LogQuery, LogSource, QueryDirection};

use crate::ast::{Expr, LogExpr, MetricExpr};
use crate::bridge::Bridge;
use crate::labels::{Category, LabelSet};
pub use crate::limits::{Guard, LogqlError, LogqlLimits};
use crate::pipeline::{Pipeline, push_down};
use crate::range::{self, RangeAgg, RangeSeries, Steps};

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

impl LogLine {
    /// Bytes of text this entry holds (its line and its labels), what it costs against the query's memory share.
    pub fn heap_bytes(&self) -> usize {
        let pairs =
            |v: &[(String, String)]| v.iter().map(|(n, v)| n.len() + v.len()).sum::<usize>();
        self.line.len() + pairs(&self.stream) + pairs(&self.metadata) + pairs(&self.parsed)
    }
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
            let kept = LogLine {
                ts: e.ts,
                line: line.into_owned(),
                stream: labels.category(Category::Stream),
                metadata: labels.category(Category::Metadata),
                parsed: labels.category(Category::Parsed),
            };
            if let Err(err) = guard.held_bytes(kept.heap_bytes()) {
                failure = Some(err);
                return false;
            }
            out.push(kept);
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
                &RangeAgg::new(op, param, range, grouping),
                steps,
                guard,
            )?;
            step_series_limit(&self.limits, series.len())?;
            return Ok(shape(series, p.instant));
        }
        let mut bridge = Bridge::new(self.src, guard, steps);
        let promql = bridge.render(m)?;
        let value = bridge.evaluate(&promql, p.instant, &self.limits, self.cancel.clone())?;
        let n = match &value {
            MetricValue::Matrix(m) => m.len(),
            MetricValue::Vector(v) => v.len(),
            MetricValue::Scalar(..) => 0,
        };
        step_series_limit(&self.limits, n)?;
        Ok(value)
    }
}

/// The expression inside any parentheses.
pub(crate) fn strip_parens(m: &MetricExpr) -> &MetricExpr {
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
