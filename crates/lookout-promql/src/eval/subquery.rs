//! Subqueries: the inner expression runs on its own step grid, aligned to multiples of the subquery step.

use promql_parser::parser::SubqueryExpr;

use super::{Evaluator, Matrix, dur_ms, offset_ms};
use crate::QueryError;

impl<'a> Evaluator<'a> {
    /// The evaluator that runs the inner expression of `sq` for this evaluator's steps.
    pub(crate) fn subquery_evaluator(&self, sq: &SubqueryExpr) -> Evaluator<'a> {
        let offset = offset_ms(&sq.offset);
        let range = dur_ms(&sq.range);
        let interval = match &sq.step {
            Some(d) if !d.is_zero() => dur_ms(d),
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
            return Err(QueryError::BadData(
                "cannot do range evaluation of a subquery".into(),
            ));
        }
        self.eval_subquery_inner(sq)
    }
}
