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
    /// Stream labels (after the pipeline's drop/keep/label_format); one shared copy per stream when no stage
    /// changes labels.
    pub stream: Arc<[(String, String)]>,
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
        // Without stages a line's labels are its stream's and its metadata: the stream's pairs are built once.
        let plain = pipeline.is_empty();
        let mut shared: std::collections::HashMap<Labels, Arc<[(String, String)]>> =
            Default::default();
        // Lines whose stages leave the same stream labels share one copy of them (and so a result stream).
        let mut rebuilt: std::collections::HashSet<Arc<[(String, String)]>> = Default::default();
        self.src.scan(&q, &mut |stream, e| {
            if let Err(err) = guard.line(e.line.len()) {
                failure = Some(err);
                return false;
            }
            let kept = match plain.then(|| plain_metadata(stream, &e.metadata)).flatten() {
                Some(metadata) => LogLine {
                    ts: e.ts,
                    line: e.line.clone(),
                    stream: shared
                        .entry(stream.clone())
                        .or_insert_with(|| stream_pairs(stream))
                        .clone(),
                    metadata,
                    parsed: Vec::new(),
                },
                None => {
                    let mut labels = LabelSet::new(stream, &e.metadata);
                    let Some(line) = pipeline.process(e.ts, &e.line, &mut labels) else {
                        return true;
                    };
                    let pairs = labels.category(Category::Stream);
                    let stream = match rebuilt.get(pairs.as_slice()) {
                        Some(same) => same.clone(),
                        None => {
                            let fresh: Arc<[(String, String)]> = pairs.into();
                            rebuilt.insert(fresh.clone());
                            fresh
                        }
                    };
                    LogLine {
                        ts: e.ts,
                        line: line.into_owned(),
                        stream,
                        metadata: labels.category(Category::Metadata),
                        parsed: labels.category(Category::Parsed),
                    }
                }
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

/// A stream's labels as a line's stream pairs (what [`LabelSet::category`] gives for an untouched stream).
fn stream_pairs(stream: &Labels) -> Arc<[(String, String)]> {
    stream
        .iter()
        .filter(|l| !l.value.is_empty())
        .map(|l| (l.name.to_string(), l.value.to_string()))
        .collect()
}

/// An entry's metadata as [`LabelSet`] would leave it when no stage runs (sorted, empty values dropped); `None`
/// when a name repeats or shadows a stream label, cases the label set resolves.
fn plain_metadata(stream: &Labels, metadata: &[(String, String)]) -> Option<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = metadata
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .cloned()
        .collect();
    out.sort();
    let clash = out.windows(2).any(|w| w[0].0 == w[1].0)
        || metadata.iter().any(|(n, _)| stream.get(n).is_some());
    (!clash).then_some(out)
}

/// Groups lines into result streams: by every label (Loki's default answer) or, categorized, by stream labels with
/// metadata and parsed labels per entry. Streams in label order, entries in the order given.
pub fn group_streams(lines: Vec<LogLine>, categorized: bool) -> Vec<(Labels, Vec<LogLine>)> {
    // Lines sharing a stream copy and the same metadata and parsed labels share a label set: it is built once per
    // such key, not once per line, and the lines are then grouped by it (equal sets from different copies, as a
    // pipeline may rebuild them, land in one group).
    type Key<'a> = (usize, &'a [(String, String)], &'a [(String, String)]);
    let mut built: std::collections::HashMap<Key<'_>, Labels> = Default::default();
    let keys: Vec<Labels> = lines
        .iter()
        .map(|l| {
            let copy = Arc::as_ptr(&l.stream) as *const u8 as usize;
            let key: Key<'_> = if categorized {
                (copy, &[], &[])
            } else {
                (copy, &l.metadata, &l.parsed)
            };
            built
                .entry(key)
                .or_insert_with(|| labels_of(l, categorized))
                .clone()
        })
        .collect();
    drop(built);
    let mut groups: std::collections::BTreeMap<Labels, Vec<LogLine>> = Default::default();
    for (l, key) in lines.into_iter().zip(keys) {
        groups.entry(key).or_default().push(l);
    }
    groups.into_iter().collect()
}

/// The label set a line is grouped by.
fn labels_of(l: &LogLine, categorized: bool) -> Labels {
    if categorized {
        return Labels::from_pairs_unchecked(&l.stream);
    }
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn line(ts: i64, stream: &Arc<[(String, String)]>, meta: &[(&str, &str)]) -> LogLine {
        LogLine {
            ts,
            line: format!("l{ts}"),
            stream: stream.clone(),
            metadata: pairs(meta),
            parsed: Vec::new(),
        }
    }

    #[test]
    fn groups_join_equal_label_sets_from_different_copies_in_the_order_given() {
        let one: Arc<[(String, String)]> = pairs(&[("app", "a")]).into();
        let other: Arc<[(String, String)]> = pairs(&[("app", "a")]).into();
        let lines = vec![
            line(4, &one, &[("level", "info")]),
            line(3, &one, &[("level", "error")]),
            line(2, &other, &[("level", "info")]),
            line(1, &one, &[("level", "info")]),
        ];
        let ts = |g: &(Labels, Vec<LogLine>)| g.1.iter().map(|l| l.ts).collect::<Vec<_>>();
        let by_all = group_streams(lines.clone(), false);
        assert_eq!(by_all.len(), 2);
        assert_eq!(by_all[0].0.get("level"), Some("error"));
        assert_eq!(ts(&by_all[0]), [3]);
        assert_eq!(ts(&by_all[1]), [4, 2, 1]);
        let by_stream = group_streams(lines, true);
        assert_eq!(by_stream.len(), 1);
        assert_eq!(ts(&by_stream[0]), [4, 3, 2, 1]);
    }

    #[test]
    fn plain_metadata_is_what_the_label_set_leaves_or_none() {
        let stream = Labels::from_pairs_unchecked(&[("app", "a")]);
        assert_eq!(
            plain_metadata(&stream, &pairs(&[("z", "1"), ("e", ""), ("b", "2")])),
            Some(pairs(&[("b", "2"), ("z", "1")]))
        );
        assert_eq!(plain_metadata(&stream, &pairs(&[("app", "b")])), None);
        assert_eq!(
            plain_metadata(&stream, &pairs(&[("x", "1"), ("x", "2")])),
            None
        );
        for meta in [pairs(&[("z", "1"), ("b", "")]), pairs(&[("app", "b")])] {
            let set = LabelSet::new(&stream, &meta);
            let want = set.category(Category::Metadata);
            if let Some(got) = plain_metadata(&stream, &meta) {
                assert_eq!(got, want);
                assert_eq!(
                    &*stream_pairs(&stream),
                    set.category(Category::Stream).as_slice()
                );
            }
        }
    }
}
