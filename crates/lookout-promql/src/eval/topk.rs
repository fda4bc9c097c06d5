//! The k-selecting aggregations: `topk`, `bottomk`, `limitk` and `limit_ratio`. They keep input series
//! (labels included) rather than reducing values.

use lookout_model::Labels;
use promql_parser::parser::token;

use super::{Elem, Evaluator, Matrix, OutputBuilder};
use crate::QueryError;
use crate::annotations::go_g;

/// Orders by value, NaN last, descending when `desc`.
pub(crate) fn cmp_value_nan_last(a: f64, b: f64, desc: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => {
            let o = a.partial_cmp(&b).unwrap_or(Ordering::Equal);
            if desc { o.reverse() } else { o }
        }
    }
}

impl Evaluator<'_> {
    /// Evaluates a k-selector once series are mapped to groups.
    pub(crate) fn aggregate_k(
        &self,
        op: token::TokenId,
        params: &[f64],
        input: &Matrix,
        series_group: &[usize],
        ngroups: usize,
    ) -> Result<Matrix, QueryError> {
        let max = params.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let min = params.iter().copied().fold(f64::INFINITY, f64::min);
        if op == token::T_LIMIT_RATIO {
            if params.iter().any(|p| p.is_nan()) {
                return Err(QueryError::Execution("Ratio value is NaN".into()));
            }
            if max == 0.0 && min == 0.0 {
                return Ok(Vec::new());
            }
            if max > 1.0 {
                self.env.annos.warn(format!(
                    "ratio value should be between -1 and 1, got {}, capping to 1",
                    go_g(max)
                ));
            }
            if min < -1.0 {
                self.env.annos.warn(format!(
                    "ratio value should be between -1 and 1, got {}, capping to -1",
                    go_g(min)
                ));
            }
        } else {
            if params.iter().any(|p| p.is_nan()) {
                return Err(QueryError::Execution("Parameter value is NaN".into()));
            }
            if max < 1.0 {
                return Ok(Vec::new());
            }
            if min <= i64::MIN as f64 {
                return Err(QueryError::Execution(format!(
                    "Scalar value {} underflows int64",
                    go_g(min)
                )));
            }
            if max >= i64::MAX as f64 {
                return Err(QueryError::Execution(format!(
                    "Scalar value {} overflows int64",
                    go_g(max)
                )));
            }
        }
        let mut out = OutputBuilder::new(self.is_instant());
        let mut cursors = vec![0usize; input.len()];
        let mut per_group: Vec<Vec<(usize, f64)>> = vec![Vec::new(); ngroups];
        let mut group_order: Vec<usize> = Vec::new();
        for (step, ts) in self.steps().enumerate() {
            self.env.budget.check("aggregation")?;
            let p = params.get(step).copied().unwrap_or(f64::NAN);
            for g in per_group.iter_mut() {
                g.clear();
            }
            group_order.clear();
            for (si, s) in input.iter().enumerate() {
                let c = &mut cursors[si];
                while *c < s.points.len() && s.points[*c].t < ts {
                    *c += 1;
                }
                if let Some(pt) = s.points.get(*c).filter(|pt| pt.t == ts) {
                    let g = series_group[si];
                    if per_group[g].is_empty() {
                        group_order.push(g);
                    }
                    per_group[g].push((si, pt.v));
                }
            }
            let mut step_out = Vec::new();
            for &g in &group_order {
                let cands = &mut per_group[g];
                let picked: Vec<(usize, f64)> = match op {
                    token::T_TOPK | token::T_BOTTOMK => {
                        let k = (p as i64).min(input.len() as i64);
                        if k < 1 {
                            continue;
                        }
                        super::kheap::select_k(cands, k as usize, op == token::T_TOPK)
                    }
                    token::T_LIMITK => {
                        let k = (p as i64).min(input.len() as i64);
                        if k < 1 {
                            continue;
                        }
                        cands.iter().take(k as usize).copied().collect()
                    }
                    _ => {
                        let r = p.clamp(-1.0, 1.0);
                        if r == 0.0 {
                            continue;
                        }
                        cands
                            .iter()
                            .filter(|(si, _)| ratio_keeps(r, &input[*si].labels))
                            .copied()
                            .collect()
                    }
                };
                for (si, v) in picked {
                    let s = &input[si];
                    step_out.push(Elem {
                        labels: s.labels.clone(),
                        v,
                        t: ts,
                        drop_name: s.drop_name,
                    });
                }
            }
            out.add_step(ts, step_out)?;
        }
        self.env.budget.release(super::points(input));
        let m = out.finish();
        let n: usize = m.iter().map(|s| s.points.len()).sum();
        self.env.budget.acquire(n)?;
        Ok(m)
    }
}

/// Keeps a series in `limit_ratio` by where its label hash falls in [0, 1).
fn ratio_keeps(r: f64, l: &Labels) -> bool {
    let offset = l.hash64() as f64 / u64::MAX as f64;
    if r >= 0.0 {
        offset < r
    } else {
        offset >= 1.0 + r
    }
}
