//! The evaluator entry points: parse, check the query's shape and limits, evaluate, shape the result.

use std::time::Instant;

use lookout_model::{Labels, TimeRange};
use lookout_storage::Storage;
use promql_parser::parser::{self, Expr, value::ValueType};

use crate::annotations::AnnotationSink;
use crate::duration_expr::QueryTiming;
use crate::eval::{Evaluator, Matrix, QueryEnv, Val, check_times, cleanup_names, time_bounds};
use crate::limits::Budget;
use crate::{
    EngineOptions, MatrixSeries, QueryContext, QueryError, QueryOutput, QueryStats, Value,
    VectorSample,
};

/// Evaluates PromQL queries against a [`Storage`].
#[derive(Debug, Clone, Default)]
pub struct Engine {
    opts: EngineOptions,
}

/// Parses a query, mapping the parser's message to [`QueryError::Parse`] with a position when it names one.
/// Matcher regexes too long or too large for `lookout_model::regex_limits` are refused before the parser
/// compiles them (see `regex_guard`).
pub fn parse_query(query: &str) -> Result<Expr, QueryError> {
    crate::nesting::check(query)?;
    crate::regex_guard::check_matcher_regexes(query)?;
    parse_checked(query)
}

/// [`parse_query`] for a text whose nesting and matcher regexes were already checked.
fn parse_checked(query: &str) -> Result<Expr, QueryError> {
    parse_contained(query).map_err(|message| {
        let position = parse_position(&message)
            .or_else(|| offending_char_position(query, &message))
            .or_else(|| crate::parse_position::locate(query, &message))
            .unwrap_or(0);
        QueryError::Parse { message, position }
    })
}

/// promql-parser, with its panics turned into errors: 0.11 panics on an offset, range or step outside
/// `Duration`'s range (`up offset 1e308`, `x[+Inf:]`), and a client's query must never take a thread down.
pub(crate) fn parse_contained(query: &str) -> Result<Expr, String> {
    std::panic::catch_unwind(|| parser::parse(query)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("the parser failed");
        Err(format!("invalid query: {what}"))
    })
}

/// For lexer messages naming an unexpected character (`unexpected character: '$'`), the byte offset of
/// that character's first occurrence in the query: the parser gives no position of its own.
fn offending_char_position(query: &str, msg: &str) -> Option<usize> {
    if !msg.contains("unexpected character") {
        return None;
    }
    let quoted = msg.rsplit_once(": ")?.1.trim();
    let inner = quoted.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut chars = inner.chars();
    let c = chars.next()?;
    if chars.next().is_some() {
        return None;
    }
    query.find(c)
}

/// Parses a series selector such as `up{job="node"}` (the API's `match[]` parameter) into matchers,
/// the metric name included.
pub fn parse_metric_selector(selector: &str) -> Result<Vec<lookout_model::Matcher>, QueryError> {
    match parse_query(selector)? {
        Expr::VectorSelector(vs) if vs.offset.is_none() && vs.at.is_none() => {
            let mut sets = crate::eval::matcher_sets(&vs)?;
            if sets.len() != 1 {
                return Err(QueryError::BadData(format!(
                    "unsupported \"or\" in series selector {selector:?}"
                )));
            }
            Ok(sets.remove(0))
        }
        _ => Err(QueryError::BadData(format!(
            "invalid series selector {selector:?}: expected a vector selector without offset or @"
        ))),
    }
}

/// Parses a query; when the parser refuses it, retries with the experimental syntax it lacks rewritten:
/// `anchored`/`smoothed` modifiers as marker matchers and duration expressions (`[5m+30s]`,
/// `offset (1h/2)`, `[step()]`) as literals. Reports the original error if that does not help.
fn parse_with_extensions(query: &str, timing: QueryTiming) -> Result<Expr, QueryError> {
    // The text checks once: the rewrites below leave the matchers and the nesting as they are.
    crate::nesting::check(query)?;
    crate::regex_guard::check_matcher_regexes(query)?;
    match parse_checked(query) {
        Ok(e) => Ok(e),
        Err(err) => {
            let aliased = crate::aliases::rewrite_function_aliases(query);
            if let Some(text) = &aliased
                && let Ok(e) = parse_checked(text)
            {
                return Ok(e);
            }
            let query = aliased.as_deref().unwrap_or(query);
            let modifiers = crate::extended_syntax::rewrite(query);
            let text = modifiers.as_deref().unwrap_or(query);
            let info = crate::extended_syntax::rewrite_info(text);
            let text = info.as_deref().unwrap_or(text);
            let durations = crate::duration_expr::rewrite(text, timing);
            match durations
                .as_deref()
                .or(info.as_deref())
                .or(modifiers.as_deref())
            {
                Some(rewritten) => parse_checked(rewritten).map_err(|_| err),
                None => Err(err),
            }
        }
    }
}

/// Refuses evaluation times so far from the epoch that window arithmetic could overflow.
fn check_timestamp(t_ms: i64) -> Result<(), QueryError> {
    const LIMIT_MS: i64 = 1 << 53;
    if t_ms.unsigned_abs() > LIMIT_MS as u64 {
        return Err(QueryError::BadData(format!(
            "timestamp {t_ms} ms is out of range"
        )));
    }
    Ok(())
}

/// Pretty-prints a query (Prometheus's `/api/v1/format_query`).
pub fn format_query(query: &str) -> Result<String, QueryError> {
    Ok(parse_query(query)?.prettify())
}

/// Parses a PromQL duration such as `5m`, `1h30m` or `250ms`.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, QueryError> {
    promql_parser::util::duration::parse_duration(s)
        .map_err(|e| QueryError::BadData(format!("invalid duration {s:?}: {e}")))
}

/// Finds a byte position in a parser message such as "... at position 12 ..." or "1:12".
fn parse_position(msg: &str) -> Option<usize> {
    let lower = msg.to_ascii_lowercase();
    for key in ["position ", "pos ", "char "] {
        if let Some(i) = lower.find(key) {
            let digits: String = lower[i + key.len()..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            if let Ok(n) = digits.parse() {
                return Some(n);
            }
        }
    }
    None
}

/// Prometheus's documented name of a value type, as used in error messages.
fn documented_type(t: ValueType) -> &'static str {
    match t {
        ValueType::Vector => "instant vector",
        ValueType::Matrix => "range vector",
        ValueType::Scalar => "scalar",
        ValueType::String => "string",
    }
}

/// Formats `n` with thousands separators, as in Prometheus's resolution error.
fn with_separators(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Engine {
    /// An engine with the given options.
    pub fn new(opts: EngineOptions) -> Self {
        Engine { opts }
    }

    /// The options in force.
    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// Evaluates `query` at time `t_ms` (ms since epoch).
    pub fn instant_query(
        &self,
        storage: &dyn Storage,
        query: &str,
        t_ms: i64,
        ctx: &QueryContext,
    ) -> Result<QueryOutput, QueryError> {
        check_timestamp(t_ms)?;
        let expr = parse_with_extensions(
            query,
            QueryTiming {
                step_ms: 0,
                range_ms: 0,
            },
        )?;
        self.run(storage, query, &expr, (t_ms, t_ms, 1), true, ctx)
    }

    /// Evaluates `query` at every step from `start_ms` to `end_ms` inclusive; the result is a matrix
    /// (or a scalar/string error for string results, as Prometheus).
    pub fn range_query(
        &self,
        storage: &dyn Storage,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
        ctx: &QueryContext,
    ) -> Result<QueryOutput, QueryError> {
        if step_ms <= 0 {
            return Err(QueryError::BadData(
                "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
            ));
        }
        check_timestamp(start_ms)?;
        check_timestamp(end_ms)?;
        if end_ms < start_ms {
            return Err(QueryError::BadData(
                "end timestamp must not be before start time".into(),
            ));
        }
        // As Prometheus: the number of step intervals (points - 1) may not exceed the limit.
        let points = ((end_ms - start_ms) / step_ms) as u64;
        let max_points = self.opts.max_points_per_series;
        if points > max_points as u64 {
            return Err(QueryError::Limit {
                name: "query.max_points_per_series",
                value: max_points as u64,
                message: format!(
                    "exceeded maximum resolution of {} points per timeseries. Try decreasing the query resolution (?step=XX)",
                    with_separators(max_points)
                ),
            });
        }
        let timing = QueryTiming {
            step_ms,
            range_ms: end_ms - start_ms,
        };
        let expr = parse_with_extensions(query, timing)?;
        let t = expr.value_type();
        if t != ValueType::Scalar && t != ValueType::Vector {
            return Err(QueryError::BadData(format!(
                "invalid expression type {:?} for range query, must be Scalar or instant Vector",
                documented_type(t)
            )));
        }
        self.run(
            storage,
            query,
            &expr,
            (start_ms, end_ms, step_ms),
            false,
            ctx,
        )
    }

    fn run(
        &self,
        storage: &dyn Storage,
        query: &str,
        expr: &Expr,
        (start, end, interval): (i64, i64, i64),
        instant: bool,
        ctx: &QueryContext,
    ) -> Result<QueryOutput, QueryError> {
        let now = Instant::now();
        // A timeout too large to represent means no practical limit: cap it at a year.
        let mut deadline = now
            .checked_add(self.opts.timeout)
            .unwrap_or(now + std::time::Duration::from_secs(365 * 24 * 3600));
        if let Some(d) = ctx.deadline {
            deadline = deadline.min(d);
        }
        let timeout_ms = deadline.saturating_duration_since(now).as_millis() as u64;
        check_times(expr)?;
        let (lo, hi) = time_bounds(expr, start, end, self.opts.lookback_delta_ms, (start, end));
        let querier = storage.querier(TimeRange::new(lo, hi))?;
        let env = QueryEnv {
            querier: querier.as_ref(),
            opts: &self.opts,
            query_start: start,
            query_end: end,
            query_step: if instant { 0 } else { interval },
            budget: Budget::new(
                self.opts.max_samples,
                deadline,
                timeout_ms,
                ctx.cancel.clone(),
            ),
            annos: AnnotationSink::default(),
            invalid_literals: crate::literals::invalid_utf8_literals(query),
        };
        let ev = Evaluator {
            env: &env,
            start,
            end,
            interval,
        };
        let val = ev.eval(expr)?;
        let value = shape(val, expr.value_type(), instant, start)?;
        Ok(QueryOutput {
            value,
            annotations: env.annos.take(),
            stats: QueryStats {
                samples_loaded: env.budget.samples_loaded(),
                peak_samples: env.budget.peak(),
            },
        })
    }
}

fn to_matrix_value(mut m: Matrix) -> Value {
    m.sort_by(|a, b| a.labels.cmp(&b.labels));
    Value::Matrix(
        m.into_iter()
            .map(|s| MatrixSeries {
                labels: s.labels,
                samples: s.points,
            })
            .collect(),
    )
}

/// Turns the evaluator's matrix into the result type of the query.
fn shape(val: Val, t: ValueType, instant: bool, at: i64) -> Result<Value, QueryError> {
    let m = match val {
        Val::Str(s) => return Ok(Value::String { t: at, s }),
        Val::Matrix(m) => m,
    };
    match (t, instant) {
        (ValueType::Scalar, true) => {
            let v = m
                .first()
                .and_then(|s| s.points.first())
                .map(|p| p.v)
                .unwrap_or(f64::NAN);
            Ok(Value::Scalar { t: at, v })
        }
        (ValueType::Scalar, false) => {
            let samples = m.into_iter().next().map(|s| s.points).unwrap_or_default();
            Ok(Value::Matrix(vec![MatrixSeries {
                labels: Labels::empty(),
                samples,
            }]))
        }
        (ValueType::Vector, true) => {
            let m = cleanup_names(m, true)?;
            Ok(Value::Vector(
                m.into_iter()
                    .filter_map(|s| {
                        s.points.first().map(|p| VectorSample {
                            labels: s.labels,
                            t: at,
                            v: p.v,
                        })
                    })
                    .collect(),
            ))
        }
        _ => Ok(to_matrix_value(cleanup_names(m, false)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_and_positions() {
        assert_eq!(with_separators(11000), "11,000");
        assert_eq!(with_separators(999), "999");
        assert_eq!(parse_position("unexpected token at position 7"), Some(7));
        assert_eq!(parse_position("nothing here"), None);
        assert_eq!(
            offending_char_position("up{a=\"b\"} $ 1", "unexpected character: '$'"),
            Some(10)
        );
        match parse_query("sum(x[5m+1m])") {
            Err(QueryError::Parse { position, .. }) => assert_eq!(position, 8),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            format_query("sum(rate(x[5m]))by(job)").unwrap(),
            "sum by (job) (rate(x[5m]))"
        );
        assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5400);
        assert!(parse_duration("xyz").is_err());
        let m = parse_metric_selector(r#"up{job=~"n.*"}"#).unwrap();
        assert_eq!(m.len(), 2);
        assert!(m.iter().any(|m| m.name == "__name__" && m.value == "up"));
        assert!(parse_metric_selector("sum(up)").is_err());
    }
}
