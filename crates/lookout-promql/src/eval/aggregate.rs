//! Aggregation operators with `by`/`without`: the reductions, the k-selectors and `count_values`.

use rustc_hash::FxHashMap as HashMap;

use lookout_model::{Labels, METRIC_NAME, Sample};
use promql_parser::parser::{AggregateExpr, Expr, LabelModifier, token};

use super::{Elem, Evaluator, Matrix, Series};
use crate::QueryError;
use crate::annotations::invalid_quantile;
use crate::functions::math::{kahan_sum_inc, quantile};

/// The labels of the group a series belongs to.
fn group_labels(l: &Labels, by: Option<&[String]>, without: Option<&[String]>) -> Labels {
    if let Some(names) = without {
        let mut b = l.to_builder();
        b.remove(METRIC_NAME);
        for n in names {
            b.remove(n);
        }
        return b.build_unchecked();
    }
    match by {
        Some(names) if !names.is_empty() => l.keep_only(names),
        _ => Labels::empty(),
    }
}

#[derive(Default, Clone)]
struct Acc {
    seen: bool,
    value: f64,
    mean: f64,
    kahan_c: f64,
    count: f64,
    incremental_mean: bool,
    drop_name: bool,
    values: Vec<f64>,
}

impl Evaluator<'_> {
    fn scalar_param(&self, e: Option<&Expr>) -> Result<Vec<f64>, QueryError> {
        e.map_or(Ok(Vec::new()), |e| self.scalar_per_step(e))
    }

    /// Evaluates an aggregation.
    pub(crate) fn eval_aggregate(&self, a: &AggregateExpr) -> Result<Matrix, QueryError> {
        let op = a.op.id();
        let (by, without): (Option<Vec<String>>, Option<Vec<String>>) = match &a.modifier {
            Some(LabelModifier::Include(l)) => (Some(l.labels.clone()), None),
            Some(LabelModifier::Exclude(l)) => (None, Some(l.labels.clone())),
            None => (None, None),
        };
        if op == token::T_COUNT_VALUES {
            return self.count_values(a, by, without);
        }
        let params = match op {
            token::T_TOPK
            | token::T_BOTTOMK
            | token::T_LIMITK
            | token::T_LIMIT_RATIO
            | token::T_QUANTILE => self.scalar_param(a.param.as_deref())?,
            _ => Vec::new(),
        };
        if let Some(folded) = self.fold_streaming(a, op, by.as_deref(), without.as_deref())? {
            return Ok(folded);
        }
        let input = self.eval(&a.expr)?.into_matrix()?;

        // Map every input series to its group once.
        let mut group_index: HashMap<Labels, usize> = HashMap::default();
        let mut groups: Vec<Labels> = Vec::new();
        let series_group: Vec<usize> = input
            .iter()
            .map(|s| {
                let g = group_labels(&s.labels, by.as_deref(), without.as_deref());
                *group_index.entry(g.clone()).or_insert_with(|| {
                    groups.push(g);
                    groups.len() - 1
                })
            })
            .collect();

        let is_k = matches!(
            op,
            token::T_TOPK | token::T_BOTTOMK | token::T_LIMITK | token::T_LIMIT_RATIO
        );
        if is_k {
            return self.aggregate_k(op, &params, &input, &series_group, groups.len());
        }
        if op == token::T_QUANTILE {
            let nan = params.iter().any(|q| q.is_nan());
            let max = params.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let min = params.iter().copied().fold(f64::INFINITY, f64::min);
            if nan {
                self.env.annos.warn(invalid_quantile(f64::NAN));
            }
            if max > 1.0 {
                self.env.annos.warn(invalid_quantile(max));
            }
            if min < 0.0 {
                self.env.annos.warn(invalid_quantile(min));
            }
        }

        let mut result: Vec<Series> = groups
            .iter()
            .map(|g| Series {
                labels: g.clone(),
                points: Vec::new(),
                drop_name: false,
            })
            .collect();
        let mut accs: Vec<Acc> = vec![Acc::default(); groups.len()];
        let mut cursors = vec![0usize; input.len()];
        for (step, ts) in self.steps().enumerate() {
            self.env.budget.check("aggregation")?;
            for acc in accs.iter_mut() {
                acc.seen = false;
                acc.values.clear();
            }
            for (si, s) in input.iter().enumerate() {
                let c = &mut cursors[si];
                while *c < s.points.len() && s.points[*c].t < ts {
                    *c += 1;
                }
                if let Some(pt) = s.points.get(*c).filter(|pt| pt.t == ts) {
                    accumulate(op, &mut accs[series_group[si]], pt.v, s.drop_name);
                }
            }
            let q = params.get(step).copied().unwrap_or(f64::NAN);
            for (gi, acc) in accs.iter_mut().enumerate() {
                if !acc.seen {
                    continue;
                }
                let v = finish(op, acc, q);
                result[gi].drop_name = acc.drop_name;
                result[gi].points.push(Sample::new(ts, v));
            }
        }
        self.env.budget.release(super::points(&input));
        result.retain(|s| !s.points.is_empty());
        let n: usize = result.iter().map(|s| s.points.len()).sum();
        self.env.budget.acquire(n)?;
        Ok(result)
    }

    /// Folds the input series by series, never holding the input matrix, when that is cheap: the
    /// operator reduces values one at a time, the input is a selector or a range function, and the
    /// accumulators are likely fewer than the input points: one evaluation step, or grouping `by` a
    /// few labels (a `without` grouping usually keeps nearly one group per series, where holding
    /// per-step accumulators would cost more than the input). Returns `None` otherwise.
    fn fold_streaming(
        &self,
        a: &AggregateExpr,
        op: token::TokenId,
        by: Option<&[String]>,
        without: Option<&[String]>,
    ) -> Result<Option<Matrix>, QueryError> {
        let foldable = matches!(
            op,
            token::T_SUM
                | token::T_AVG
                | token::T_COUNT
                | token::T_MIN
                | token::T_MAX
                | token::T_GROUP
                | token::T_STDDEV
                | token::T_STDVAR
        );
        let steps = self.num_steps();
        if !foldable || !(steps == 1 || without.is_none()) {
            return Ok(None);
        }
        let (start, interval) = (self.start, self.interval);
        let budget = &self.env.budget;
        let mut groups: Vec<(Labels, Vec<Acc>)> = Vec::new();
        let mut index: HashMap<Labels, usize> = HashMap::default();
        let mut sink = |s: Series| -> Result<(), QueryError> {
            let g = group_labels(&s.labels, by, without);
            let gi = match index.get(&g) {
                Some(&i) => i,
                None => {
                    budget.acquire(steps)?;
                    index.insert(g.clone(), groups.len());
                    groups.push((g, vec![Acc::default(); steps]));
                    groups.len() - 1
                }
            };
            let accs = &mut groups[gi].1;
            for p in &s.points {
                let step = ((p.t - start) / interval) as usize;
                accumulate(op, &mut accs[step], p.v, s.drop_name);
            }
            Ok(())
        };
        match crate::functions::unwrap_parens(&a.expr) {
            Expr::VectorSelector(vs) if super::selector::modifier_of(vs).is_none() => {
                let sets = super::matcher_sets(vs)?;
                let (at, offset) = (self.at_ms(&vs.at), super::offset_ms(&vs.offset));
                self.instant_points_into(&sets, at, offset, super::PointValue::Value, &mut sink)?;
            }
            Expr::Call(c) => {
                let idx = c.args.args.iter().position(|x| {
                    matches!(
                        crate::functions::unwrap_parens(x),
                        Expr::MatrixSelector(_) | Expr::Subquery(_)
                    )
                });
                match idx {
                    Some(idx) if c.func.name != "absent_over_time" => {
                        self.range_call_into(c.func.name, c, idx, &mut sink)?;
                    }
                    _ => return Ok(None),
                }
            }
            _ => return Ok(None),
        }
        let mut result = Vec::with_capacity(groups.len());
        budget.release(groups.len() * steps);
        for (labels, mut accs) in groups {
            let mut points = Vec::new();
            let mut drop_name = false;
            for (step, acc) in accs.iter_mut().enumerate() {
                if acc.seen {
                    drop_name = acc.drop_name;
                    let t = start + step as i64 * interval;
                    points.push(Sample::new(t, finish(op, acc, f64::NAN)));
                }
            }
            if !points.is_empty() {
                budget.acquire(points.len())?;
                result.push(Series {
                    labels,
                    points,
                    drop_name,
                });
            }
        }
        Ok(Some(result))
    }

    fn count_values(
        &self,
        a: &AggregateExpr,
        by: Option<Vec<String>>,
        without: Option<Vec<String>>,
    ) -> Result<Matrix, QueryError> {
        let label = match a.param.as_deref() {
            Some(e) => crate::functions::string_arg(e)?,
            None => {
                return Err(QueryError::Execution(
                    "count_values expects a string parameter".into(),
                ));
            }
        };
        if let Some(shown) = self.env.invalid_label_name(&label) {
            return Err(QueryError::Execution(format!("invalid label name {shown}")));
        }
        let by = by.map(|mut b| {
            b.push(label.clone());
            b
        });
        let input = self.eval(&a.expr)?.into_matrix()?;
        self.range_eval(&[input], |ts, v| {
            let mut counts: Vec<(Labels, f64)> = Vec::new();
            let mut index: HashMap<Labels, usize> = HashMap::default();
            for e in v[0].iter() {
                let mut b = e.labels.to_builder();
                b.set(&label, &lookout_model::format_plain(e.v));
                let l = b.build_unchecked();
                let g = group_labels(
                    &l,
                    Some(by.as_deref().unwrap_or(std::slice::from_ref(&label))),
                    without.as_deref(),
                );
                match index.get(&g) {
                    Some(&i) => counts[i].1 += 1.0,
                    None => {
                        index.insert(g.clone(), counts.len());
                        counts.push((g, 1.0));
                    }
                }
            }
            Ok(counts
                .into_iter()
                .map(|(labels, c)| Elem {
                    labels,
                    v: c,
                    t: ts,
                    drop_name: false,
                })
                .collect())
        })
    }
}

fn accumulate(op: token::TokenId, acc: &mut Acc, f: f64, drop_name: bool) {
    if !acc.seen {
        acc.seen = true;
        acc.value = f;
        acc.mean = f;
        acc.kahan_c = 0.0;
        acc.count = 1.0;
        acc.incremental_mean = false;
        acc.drop_name = drop_name;
        match op {
            token::T_STDDEV | token::T_STDVAR => {
                acc.value = if f.is_nan() || f.is_infinite() {
                    f64::NAN
                } else {
                    0.0
                };
            }
            token::T_QUANTILE => acc.values.push(f),
            token::T_GROUP => acc.value = 1.0,
            _ => {}
        }
        return;
    }
    acc.drop_name |= drop_name;
    match op {
        token::T_SUM => {
            (acc.value, acc.kahan_c) = kahan_sum_inc(f, acc.value, acc.kahan_c);
        }
        token::T_AVG => {
            acc.count += 1.0;
            if !acc.incremental_mean {
                let (nv, nc) = kahan_sum_inc(f, acc.value, acc.kahan_c);
                if !nv.is_infinite() {
                    acc.value = nv;
                    acc.kahan_c = nc;
                    return;
                }
                // The plain sum overflowed: switch to an incremental mean.
                acc.incremental_mean = true;
                acc.mean = acc.value / (acc.count - 1.0);
                acc.kahan_c /= acc.count - 1.0;
            }
            let q = (acc.count - 1.0) / acc.count;
            (acc.mean, acc.kahan_c) = kahan_sum_inc(f / acc.count, q * acc.mean, q * acc.kahan_c);
        }
        token::T_MAX if acc.value < f || acc.value.is_nan() => acc.value = f,
        token::T_MIN if acc.value > f || acc.value.is_nan() => acc.value = f,
        token::T_COUNT => acc.count += 1.0,
        token::T_STDDEV | token::T_STDVAR => {
            acc.count += 1.0;
            let delta = f - acc.mean;
            acc.mean += delta / acc.count;
            acc.value += delta * (f - acc.mean);
        }
        token::T_QUANTILE => acc.values.push(f),
        _ => {}
    }
}

fn finish(op: token::TokenId, acc: &mut Acc, q: f64) -> f64 {
    match op {
        token::T_SUM => acc.value + acc.kahan_c,
        token::T_AVG => {
            if acc.incremental_mean {
                acc.mean + acc.kahan_c
            } else {
                acc.value / acc.count + acc.kahan_c / acc.count
            }
        }
        token::T_COUNT => acc.count,
        token::T_STDVAR => acc.value / acc.count,
        token::T_STDDEV => (acc.value / acc.count).sqrt(),
        token::T_QUANTILE => quantile(q, &mut acc.values),
        _ => acc.value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(op: token::TokenId, values: &[f64]) -> f64 {
        let mut acc = Acc::default();
        for &v in values {
            accumulate(op, &mut acc, v, false);
        }
        finish(op, &mut acc, 0.5)
    }

    #[test]
    fn reductions() {
        assert_eq!(run(token::T_SUM, &[1.0, 2.0, 3.0]), 6.0);
        assert_eq!(run(token::T_AVG, &[1.0, 2.0, 3.0]), 2.0);
        assert_eq!(run(token::T_COUNT, &[1.0, 2.0, 3.0]), 3.0);
        assert_eq!(run(token::T_MAX, &[f64::NAN, 2.0, 1.0]), 2.0);
        assert_eq!(run(token::T_MIN, &[3.0, f64::NAN, 1.0]), 1.0);
        assert_eq!(run(token::T_GROUP, &[3.0, 4.0]), 1.0);
        assert_eq!(
            run(token::T_STDVAR, &[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]),
            4.0
        );
        assert_eq!(
            run(token::T_STDDEV, &[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]),
            2.0
        );
        assert_eq!(run(token::T_QUANTILE, &[1.0, 2.0, 3.0]), 2.0);
    }

    #[test]
    fn kahan_sum_and_overflowing_average() {
        // Plain summation would lose the small terms next to the large ones.
        assert_eq!(run(token::T_SUM, &[1e100, 1.0, -1e100, 1.0]), 2.0);
        // The sum overflows; the incremental mean does not.
        assert_eq!(run(token::T_AVG, &[f64::MAX, f64::MAX]), f64::MAX);
        assert!(run(token::T_STDDEV, &[f64::INFINITY, 1.0]).is_nan());
    }

    #[test]
    fn grouping_and_value_labels() {
        let l = Labels::from_pairs_unchecked(&[("__name__", "m"), ("a", "1"), ("b", "2")]);
        let by = vec!["a".to_string()];
        assert_eq!(
            group_labels(&l, Some(&by), None),
            Labels::from_pairs_unchecked(&[("a", "1")])
        );
        let g = group_labels(&l, None, Some(&by));
        assert_eq!(g, Labels::from_pairs_unchecked(&[("b", "2")]));
        assert!(group_labels(&l, None, None).is_empty());
        assert_eq!(lookout_model::format_plain(f64::INFINITY), "+Inf");
        assert_eq!(lookout_model::format_plain(0.1), "0.1");
        assert_eq!(lookout_model::format_plain(1e21), "1000000000000000000000");
    }
}
