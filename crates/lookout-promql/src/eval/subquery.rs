//! Subqueries: the inner expression runs on its own step grid, aligned to multiples of the subquery step.

use promql_parser::parser::{AtModifier, Expr, SubqueryExpr};

use super::{Evaluator, Matrix, dur_ms, offset_ms};
use crate::QueryError;

impl<'a> Evaluator<'a> {
    /// The evaluator that runs the inner expression of `sq` for this evaluator's steps.
    pub(crate) fn subquery_evaluator(&self, sq: &SubqueryExpr) -> Evaluator<'a> {
        let offset = offset_ms(&sq.offset);
        let range = dur_ms(&sq.range);
        let interval = match &sq.step {
            // A step below a millisecond is no step at all (0 ms), as in Prometheus: the default applies.
            Some(d) if dur_ms(d) > 0 => dur_ms(d),
            _ => self.env.opts.default_subquery_step_ms,
        };
        let (outer_start, outer_end) = match self.at_ms(&sq.at) {
            Some(a) => (a, a),
            None => {
                // Only the steps the outer evaluation actually visits matter.
                let end = if self.interval > 0 {
                    self.start + ((self.end - self.start) / self.interval) * self.interval
                } else {
                    self.end
                };
                (self.start, end)
            }
        };
        let first = outer_start - offset - range;
        // Integer division truncates toward zero, as the reference implementation's does.
        let mut start = interval * (first / interval);
        if start <= first {
            start += interval;
        }
        Evaluator {
            env: self.env,
            start,
            end: outer_end - offset,
            interval,
        }
    }

    /// Evaluates the inner expression of `sq`; its points are the "samples" of the resulting range vector.
    pub(crate) fn eval_subquery_inner(&self, sq: &SubqueryExpr) -> Result<Matrix, QueryError> {
        let inner = self.subquery_evaluator(sq);
        inner.eval(&sq.expr)?.into_matrix()
    }

    /// A subquery evaluated once (instant query): the inner points in its window.
    pub(crate) fn eval_subquery_matrix(&self, sq: &SubqueryExpr) -> Result<Matrix, QueryError> {
        if !self.is_instant() {
            return Err(QueryError::Execution(
                "cannot do range evaluation of a subquery".into(),
            ));
        }
        self.eval_subquery_inner(sq)
    }
}

/// The time range an expression reads when evaluated over `[start, end]`: what the querier is opened for.
pub(crate) fn time_bounds(
    expr: &Expr,
    start: i64,
    end: i64,
    lookback: i64,
    q: (i64, i64),
) -> (i64, i64) {
    let mut lo = i64::MAX;
    let mut hi = i64::MIN;
    walk_bounds(expr, start, end, lookback, q, &mut lo, &mut hi);
    if lo > hi { (start, end) } else { (lo, hi) }
}

fn at_of(at: &Option<AtModifier>, q: (i64, i64)) -> Option<i64> {
    match at {
        None => None,
        Some(AtModifier::Start) => Some(q.0),
        Some(AtModifier::End) => Some(q.1),
        Some(AtModifier::At(t)) => Some(super::system_time_ms(t)),
    }
}

fn walk_bounds(
    e: &Expr,
    start: i64,
    end: i64,
    lookback: i64,
    q: (i64, i64),
    lo: &mut i64,
    hi: &mut i64,
) {
    // `after` covers smoothed selectors, which read one lookback past the evaluation time.
    let mut window = |at: &Option<AtModifier>, offset: i64, range: i64, after: i64| {
        let (s, e) = at_of(at, q).map_or((start, end), |a| (a, a));
        *lo = (*lo).min(s - offset - range);
        *hi = (*hi).max(e - offset + after);
    };
    let extra = |vs: &promql_parser::parser::VectorSelector| match super::selector::modifier_of(vs)
    {
        None => (0, 0),
        Some(crate::extended_syntax::Modifier::Anchored) => (lookback, 0),
        Some(crate::extended_syntax::Modifier::Smoothed) => (lookback, lookback),
    };
    match e {
        Expr::VectorSelector(vs) => {
            let after = extra(vs).1;
            window(&vs.at, offset_ms(&vs.offset), lookback, after)
        }
        Expr::MatrixSelector(ms) => {
            let (before, after) = extra(&ms.vs);
            window(
                &ms.vs.at,
                offset_ms(&ms.vs.offset),
                dur_ms(&ms.range) + before,
                after,
            )
        }
        Expr::Subquery(sq) => {
            let (s, e2) = at_of(&sq.at, q).map_or((start, end), |a| (a, a));
            let off = offset_ms(&sq.offset);
            walk_bounds(
                &sq.expr,
                s - off - dur_ms(&sq.range),
                e2 - off,
                lookback,
                q,
                lo,
                hi,
            );
        }
        Expr::Paren(p) => walk_bounds(&p.expr, start, end, lookback, q, lo, hi),
        Expr::Unary(u) => walk_bounds(&u.expr, start, end, lookback, q, lo, hi),
        Expr::Binary(b) => {
            walk_bounds(&b.lhs, start, end, lookback, q, lo, hi);
            walk_bounds(&b.rhs, start, end, lookback, q, lo, hi);
        }
        Expr::Aggregate(a) => {
            walk_bounds(&a.expr, start, end, lookback, q, lo, hi);
            if let Some(p) = &a.param {
                walk_bounds(p, start, end, lookback, q, lo, hi);
            }
        }
        Expr::Call(c) => {
            for a in &c.args.args {
                walk_bounds(a, start, end, lookback, q, lo, hi);
            }
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

/// Largest offset, range, step or `@` time accepted, in ms (about 300 years): beyond it the evaluator's
/// millisecond arithmetic could overflow.
const MAX_TIME_MS: i64 = 1 << 53;

/// Refuses durations and `@` times too large to evaluate safely.
pub(crate) fn check_times(e: &Expr) -> Result<(), QueryError> {
    let ok = |ms: i128| ms.abs() <= MAX_TIME_MS as i128;
    let dur = |d: &std::time::Duration| d.as_millis() as i128;
    let off = |o: &Option<promql_parser::parser::Offset>| match o {
        None => 0,
        Some(promql_parser::parser::Offset::Pos(d) | promql_parser::parser::Offset::Neg(d)) => {
            dur(d)
        }
    };
    let at = |a: &Option<AtModifier>| match a {
        Some(AtModifier::At(t)) => match t.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => d.as_millis() as i128,
            Err(e) => e.duration().as_millis() as i128,
        },
        _ => 0,
    };
    let fits = match e {
        Expr::VectorSelector(vs) => ok(off(&vs.offset)) && ok(at(&vs.at)),
        Expr::MatrixSelector(ms) => {
            ok(off(&ms.vs.offset)) && ok(at(&ms.vs.at)) && ok(dur(&ms.range))
        }
        Expr::Subquery(sq) => {
            ok(off(&sq.offset))
                && ok(at(&sq.at))
                && ok(dur(&sq.range))
                && sq.step.as_ref().is_none_or(|s| ok(dur(s)))
        }
        _ => true,
    };
    if !fits {
        return Err(QueryError::BadData(format!(
            "time or duration out of range in {e}"
        )));
    }
    match e {
        Expr::Subquery(sq) => check_times(&sq.expr),
        Expr::Paren(p) => check_times(&p.expr),
        Expr::Unary(u) => check_times(&u.expr),
        Expr::Binary(b) => check_times(&b.lhs).and_then(|_| check_times(&b.rhs)),
        Expr::Aggregate(a) => {
            check_times(&a.expr)?;
            a.param.as_deref().map_or(Ok(()), check_times)
        }
        Expr::Call(c) => c.args.args.iter().try_for_each(|a| check_times(a)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_cover_ranges_offsets_and_subqueries() {
        let e = promql_parser::parser::parse("rate(x[5m] offset 1m) + max_over_time(y[10m:1m])")
            .unwrap();
        let (lo, hi) = time_bounds(&e, 3_600_000, 7_200_000, 300_000, (3_600_000, 7_200_000));
        assert_eq!(lo, 3_600_000 - 600_000 - 300_000);
        assert_eq!(hi, 7_200_000);
        let e = promql_parser::parser::parse("x @ 100").unwrap();
        assert_eq!(
            time_bounds(&e, 0, 1, 300_000, (0, 1)),
            (100_000 - 300_000, 100_000)
        );
        assert!(check_times(&e).is_ok());
        let far = promql_parser::parser::parse("rate(x[5m] offset 100000000y)").unwrap();
        assert!(check_times(&far).is_err());
    }
}
