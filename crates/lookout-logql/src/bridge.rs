//! Metric expressions above range aggregations, handed to the PromQL engine: each range aggregation is evaluated
//! into series under a synthetic metric name (a value or a staleness marker at every step, so PromQL's lookback
//! sees exactly that step's value), the expression is rendered as PromQL over those names, and the result's names
//! are dropped again.

use lookout_model::stale_nan;
use lookout_promql::{Engine, EngineOptions, QueryContext, Value};
use lookout_storage::Storage;
use lookout_storage::logs::LogSource;
use lookout_storage::mem::MemStorage;

use crate::ast::{MetricExpr, RangeOp, VectorOp};
use crate::engine::{MetricValue, strip_parens};
use crate::limits::{Guard, LogqlError, LogqlLimits};
use crate::range::{self, RangeAgg, RangeSeries, Steps};

/// Renders a metric expression as PromQL, evaluating its range aggregations on the way.
pub(crate) struct Bridge<'a, 'g> {
    /// The log source.
    pub src: &'a dyn LogSource,
    /// The query's guard.
    pub guard: &'g mut Guard,
    /// The evaluation steps.
    pub steps: Steps,
    /// Evaluated range aggregations, labelled with their synthetic names.
    pub ranges: Vec<RangeSeries>,
    names: usize,
}

impl<'a, 'g> Bridge<'a, 'g> {
    /// A bridge over `src` at `steps`.
    pub fn new(src: &'a dyn LogSource, guard: &'g mut Guard, steps: Steps) -> Self {
        Bridge {
            src,
            guard,
            steps,
            ranges: Vec::new(),
            names: 0,
        }
    }

    pub fn render(&mut self, m: &MetricExpr) -> Result<String, LogqlError> {
        Ok(match m {
            MetricExpr::Range {
                op,
                param,
                range,
                grouping,
            } => {
                let series = range::evaluate(
                    self.src,
                    &RangeAgg::new(op, param, range, grouping),
                    self.steps,
                    self.guard,
                )?;
                self.synthetic(series)
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
                    && pushable(*op, *rop)
                {
                    {
                        let series = range::evaluate(
                            self.src,
                            &RangeAgg {
                                op: *rop,
                                param: *rparam,
                                range,
                                grouping: Some(g),
                            },
                            self.steps,
                            self.guard,
                        )?;
                        let inner = self.synthetic(series);
                        return Ok(format!(
                            "{}{}({inner})",
                            op.name(),
                            crate::display::grouping_text(grouping)
                        ));
                    }
                }
                let inner = self.render(expr)?;
                let name = match op {
                    VectorOp::ApproxTopk => "topk",
                    other => other.name(),
                };
                match param {
                    Some(k) => format!(
                        "{name}{}({k}, {inner})",
                        crate::display::grouping_text(grouping)
                    ),
                    None => format!("{name}{}({inner})", crate::display::grouping_text(grouping)),
                }
            }
            MetricExpr::Binary {
                op,
                return_bool,
                matching,
                lhs,
                rhs,
            } => {
                let l = self.render(lhs)?;
                let r = self.render(rhs)?;
                format!(
                    "({l}) {}{} ({r})",
                    op.text(),
                    crate::display::binary_modifiers(*return_bool, matching)
                )
            }
            MetricExpr::Literal(v) => crate::display::number(*v),
            MetricExpr::VectorLit(v) => format!("vector({})", crate::display::number(*v)),
            MetricExpr::LabelReplace { expr, args } => {
                let inner = self.render(expr)?;
                let q: Vec<String> = args.iter().map(|a| crate::ast::quote(a)).collect();
                format!("label_replace({inner}, {})", q.join(", "))
            }
            MetricExpr::Paren(e) => {
                format!("({})", self.render(e)?)
            }
        })
    }

    fn synthetic(&mut self, series: Vec<RangeSeries>) -> String {
        let name = format!("__logql_{}", self.names);
        self.names += 1;
        for mut s in series {
            let mut b = s.labels.to_builder();
            b.set("__name__", &name);
            s.labels = b.build_unchecked();
            self.ranges.push(s);
        }
        // A name no series carries still selects nothing, as an empty range aggregation should.
        format!("{{__name__=\"{name}\"}}")
    }

    /// Runs `promql` over the evaluated range aggregations.
    pub fn evaluate(
        self,
        promql: &str,
        instant: bool,
        limits: &LogqlLimits,
        cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    ) -> Result<MetricValue, LogqlError> {
        let ms = 1_000_000;
        let storage = MemStorage::new();
        let mut app = storage.appender();
        let times: Vec<i64> = self.steps.times().collect();
        for s in &self.ranges {
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
        let engine = Engine::new(EngineOptions {
            max_points_per_series: limits.max_points,
            timeout: limits.timeout,
            ..EngineOptions::default()
        });
        let ctx = QueryContext {
            cancel,
            deadline: None,
        };
        let (start, end, step) = (
            self.steps.start / ms,
            self.steps.end / ms,
            self.steps.step / ms,
        );
        let out = if instant {
            engine.instant_query(&storage, promql, start, &ctx)
        } else {
            engine.range_query(&storage, promql, start, end, step, &ctx)
        }
        .map_err(|e| LogqlError::BadRequest(e.to_string()))?;
        Ok(match out.value {
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
        })
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
