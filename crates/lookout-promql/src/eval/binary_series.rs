//! Binary operators of a range evaluation worked series by series rather than step by step.
//!
//! Matching depends only on label sets, which do not change from step to step. So when the whole matrices
//! show that no step can hold an ambiguous match or two results with one label set, each pair of matched
//! series is computed once by walking both point lists together. When they cannot show it (a signature with
//! two series on the "one" side, two results with equal labels, fill modifiers), `None` sends the operator
//! to the step-wise path, which raises Prometheus's errors at the step where they occur. Either way the
//! answer is the same series in the same order: by first point, then by the order of the "many" side, as
//! the step-wise output builder orders them.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use lookout_model::{Labels, Sample};
use promql_parser::parser::{VectorMatchCardinality, token};

use super::binary::{float_binop, is_comparison};
use super::matching::{Matching, result_metric};
use super::{Evaluator, Matrix, Series, changes_metric_schema, points};
use crate::QueryError;

impl Evaluator<'_> {
    /// `vector op vector` (not a set operator) series by series, or `None` when only the step-wise path
    /// gives Prometheus's answer.
    pub(crate) fn vector_binop_series(
        &self,
        op: token::TokenId,
        lhs: &Matrix,
        rhs: &Matrix,
        m: &Matching,
        return_bool: bool,
    ) -> Result<Option<Matrix>, QueryError> {
        if self.is_instant() || m.fill_lhs.is_some() || m.fill_rhs.is_some() {
            return Ok(None);
        }
        let one_to_many = matches!(m.card, VectorMatchCardinality::OneToMany(_));
        let one_to_one = matches!(m.card, VectorMatchCardinality::OneToOne);
        // As in the step-wise path: after the swap, `many` is the side whose series are kept.
        let (many, one) = if one_to_many { (rhs, lhs) } else { (lhs, rhs) };

        let mut one_by_sig: HashMap<usize, usize> = HashMap::default();
        for (i, s) in one.iter().enumerate() {
            if s.points.is_empty() {
                continue;
            }
            if one_by_sig.insert(m.ord(&s.labels), i).is_some() {
                return Ok(None);
            }
        }
        let mut pairs: Vec<(usize, usize, Labels)> = Vec::new();
        let mut many_sigs: HashSet<usize> = HashSet::default();
        let mut results: HashSet<Labels> = HashSet::default();
        for (i, s) in many.iter().enumerate() {
            if s.points.is_empty() {
                continue;
            }
            let ord = m.ord(&s.labels);
            let Some(&j) = one_by_sig.get(&ord) else {
                continue;
            };
            // One-to-one: a second series of the same signature could meet the first at some step.
            if one_to_one && !many_sigs.insert(ord) {
                return Ok(None);
            }
            let metric = result_metric(&s.labels, &one[j].labels, op, m);
            if !results.insert(metric.clone()) {
                return Ok(None);
            }
            pairs.push((i, j, metric));
        }

        let mut out: Vec<(usize, Series)> = Vec::with_capacity(pairs.len());
        for (i, j, labels) in pairs {
            self.env.budget.check("expression evaluation")?;
            let (a, b) = (&many[i].points, &one[j].points);
            let mut pts = Vec::with_capacity(a.len().min(b.len()));
            let (mut x, mut y) = (0usize, 0usize);
            while x < a.len() && y < b.len() {
                let (p, q) = (a[x], b[y]);
                if p.t < q.t {
                    x += 1;
                    continue;
                }
                if q.t < p.t {
                    y += 1;
                    continue;
                }
                x += 1;
                y += 1;
                // The step-wise path gathers points at step times only.
                if self.step_index(p.t).is_none() {
                    continue;
                }
                let (fl, fr) = if one_to_many { (q.v, p.v) } else { (p.v, q.v) };
                // Arithmetic always keeps; a comparison without `bool` drops what fails it.
                let (mut val, keep) = float_binop(op, fl, fr);
                if return_bool {
                    val = if keep { 1.0 } else { 0.0 };
                } else if !keep {
                    continue;
                }
                pts.push(Sample::new(p.t, val));
            }
            if !pts.is_empty() {
                out.push((
                    i,
                    Series {
                        labels,
                        points: pts,
                        drop_name: return_bool,
                    },
                ));
            }
        }
        Ok(Some(self.finish_series_wise(lhs, rhs, out)?))
    }

    /// `vector op scalar` or `scalar op vector` series by series (`swap` when the scalar is on the left), or
    /// `None` when two vector series share a label set (the step-wise path decides what that means).
    pub(crate) fn vector_scalar_series(
        &self,
        op: token::TokenId,
        vector: &Matrix,
        scalar: &Matrix,
        swap: bool,
        return_bool: bool,
    ) -> Result<Option<Matrix>, QueryError> {
        if self.is_instant() {
            return Ok(None);
        }
        let mut seen: HashSet<&Labels> = HashSet::default();
        if !vector.iter().all(|s| seen.insert(&s.labels)) {
            return Ok(None);
        }
        // The scalar's value at each step, NaN where it has none (as `scalar_of` reads a missing step).
        let mut per_step = vec![f64::NAN; self.num_steps()];
        if let Some(s) = scalar.first() {
            for p in &s.points {
                if let Some(i) = self.step_index(p.t) {
                    per_step[i] = p.v;
                }
            }
        }
        let comparison = is_comparison(op);
        let mut out: Vec<(usize, Series)> = Vec::with_capacity(vector.len());
        for (i, s) in vector.iter().enumerate() {
            self.env.budget.check("expression evaluation")?;
            let mut pts = Vec::with_capacity(s.points.len());
            for p in &s.points {
                // The step-wise path gathers points at step times only.
                let Some(k) = self.step_index(p.t).map(|i| per_step[i]) else {
                    continue;
                };
                let (l, r) = if swap { (k, p.v) } else { (p.v, k) };
                let (mut val, mut keep) = float_binop(op, l, r);
                if comparison && swap {
                    val = r;
                }
                if return_bool {
                    val = if keep { 1.0 } else { 0.0 };
                    keep = true;
                }
                if keep {
                    pts.push(Sample::new(p.t, val));
                }
            }
            if !pts.is_empty() {
                out.push((
                    i,
                    Series {
                        labels: s.labels.clone(),
                        points: pts,
                        drop_name: s.drop_name || changes_metric_schema(op) || return_bool,
                    },
                ));
            }
        }
        Ok(Some(self.finish_series_wise(vector, scalar, out)?))
    }

    /// The index of step `t`, if `t` is one of this evaluator's steps.
    fn step_index(&self, t: i64) -> Option<usize> {
        let d = t - self.start;
        if d < 0 || self.interval <= 0 || d % self.interval != 0 {
            return None;
        }
        let i = (d / self.interval) as usize;
        (i < self.num_steps()).then_some(i)
    }

    /// Orders the results as the step-wise output builder would (by first point, then by the input order
    /// `i`) and moves the samples budget from the inputs to the output.
    fn finish_series_wise(
        &self,
        a: &Matrix,
        b: &Matrix,
        mut out: Vec<(usize, Series)>,
    ) -> Result<Matrix, QueryError> {
        out.sort_by_key(|(i, s)| (s.points[0].t, *i));
        let m: Matrix = out.into_iter().map(|(_, s)| s).collect();
        self.env.budget.release(points(a) + points(b));
        self.env.budget.acquire(points(&m))?;
        Ok(m)
    }
}
