//! Binary operators: scalar/scalar, vector/scalar and vector/vector with Prometheus's vector matching.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use lookout_model::Labels;
use promql_parser::parser::value::ValueType;
use promql_parser::parser::{BinaryExpr, VectorMatchCardinality, token};

use super::matching::{
    MANY_TO_MANY, Matching, ONE_TO_ONE, labels_string, matching_of, result_metric,
};
use super::{Elem, Evaluator, Matrix, Vector, changes_metric_schema};
use crate::QueryError;

/// Applies a float operator; the flag says whether a comparison holds (always true for arithmetic).
pub(crate) fn float_binop(op: token::TokenId, l: f64, r: f64) -> (f64, bool) {
    match op {
        token::T_ADD => (l + r, true),
        token::T_SUB => (l - r, true),
        token::T_MUL => (l * r, true),
        token::T_DIV => (l / r, true),
        token::T_POW => (l.powf(r), true),
        token::T_MOD => (l % r, true),
        token::T_ATAN2 => (l.atan2(r), true),
        token::T_EQLC => (l, l == r),
        token::T_NEQ => (l, l != r),
        token::T_GTR => (l, l > r),
        token::T_LSS => (l, l < r),
        token::T_GTE => (l, l >= r),
        token::T_LTE => (l, l <= r),
        _ => (f64::NAN, false),
    }
}

pub(crate) fn is_comparison(op: token::TokenId) -> bool {
    matches!(
        op,
        token::T_EQLC | token::T_NEQ | token::T_GTR | token::T_LSS | token::T_GTE | token::T_LTE
    )
}

impl Evaluator<'_> {
    /// Evaluates a binary expression.
    pub(crate) fn eval_binary(&self, b: &BinaryExpr) -> Result<Matrix, QueryError> {
        let op = b.op.id();
        let return_bool = b.modifier.as_ref().is_some_and(|m| m.return_bool);
        let lt = b.lhs.value_type();
        let rt = b.rhs.value_type();
        let lhs = self.eval(&b.lhs)?.into_matrix()?;
        let rhs = self.eval(&b.rhs)?.into_matrix()?;
        let inputs = [lhs, rhs];
        match (lt, rt) {
            (ValueType::Scalar, ValueType::Scalar) => self.range_eval(&inputs, |_, v| {
                let (l, r) = (scalar_of(&v[0]), scalar_of(&v[1]));
                let (val, keep) = float_binop(op, l, r);
                let val = if is_comparison(op) {
                    if keep { 1.0 } else { 0.0 }
                } else {
                    val
                };
                Ok(vec![Elem {
                    labels: Labels::empty(),
                    v: val,
                    t: 0,
                    drop_name: false,
                }])
            }),
            (ValueType::Vector, ValueType::Scalar) | (ValueType::Scalar, ValueType::Vector) => {
                let swap = lt == ValueType::Scalar;
                let (vector, scalar) = if swap {
                    (&inputs[1], &inputs[0])
                } else {
                    (&inputs[0], &inputs[1])
                };
                if let Some(m) = self.vector_scalar_series(op, vector, scalar, swap, return_bool)? {
                    return Ok(m);
                }
                self.range_eval_split(&inputs, || {
                    move |_, v: &mut [Vector]| {
                        let (vec, s) = if swap {
                            (&v[1], scalar_of(&v[0]))
                        } else {
                            (&v[0], scalar_of(&v[1]))
                        };
                        Ok(vector_scalar(op, vec, s, swap, return_bool))
                    }
                })
            }
            (ValueType::Vector, ValueType::Vector) => {
                let set_op = matches!(op, token::T_LAND | token::T_LOR | token::T_LUNLESS);
                let default_card = if set_op { &MANY_TO_MANY } else { &ONE_TO_ONE };
                if !set_op {
                    let matching = matching_of(b.modifier.as_ref(), default_card);
                    let [lhs, rhs] = &inputs;
                    if let Some(m) =
                        self.vector_binop_series(op, lhs, rhs, &matching, return_bool)?
                    {
                        return Ok(m);
                    }
                }
                // Each range of steps has its own matching (and so its own signature caches).
                self.range_eval_split(&inputs, || {
                    let mut matching = matching_of(b.modifier.as_ref(), default_card);
                    if set_op {
                        // Set operators always match many-to-many, whatever the modifier says.
                        matching.card = &MANY_TO_MANY;
                    }
                    move |_, v: &mut [Vector]| {
                        let (l, r) = v.split_at_mut(1);
                        let (l, r) = (std::mem::take(&mut l[0]), std::mem::take(&mut r[0]));
                        match op {
                            token::T_LAND => Ok(set_and(l, &r, &matching)),
                            token::T_LOR => Ok(set_or(l, r, &matching)),
                            token::T_LUNLESS => Ok(set_unless(l, &r, &matching)),
                            _ => vector_binop(op, l, r, &matching, return_bool),
                        }
                    }
                })
            }
            _ => Err(QueryError::Execution(format!(
                "binary operator on {lt} and {rt} is not supported"
            ))),
        }
    }
}

/// The value of a scalar at one step (NaN when missing).
pub(crate) fn scalar_of(v: &Vector) -> f64 {
    v.first().map(|e| e.v).unwrap_or(f64::NAN)
}

fn vector_scalar(
    op: token::TokenId,
    vec: &Vector,
    s: f64,
    swap: bool,
    return_bool: bool,
) -> Vector {
    let mut out = Vec::with_capacity(vec.len());
    for e in vec {
        let (l, r) = if swap { (s, e.v) } else { (e.v, s) };
        let (mut val, mut keep) = float_binop(op, l, r);
        if is_comparison(op) && swap {
            val = r;
        }
        if return_bool {
            val = if keep { 1.0 } else { 0.0 };
            keep = true;
        }
        if keep {
            let drop_name = e.drop_name || changes_metric_schema(op) || return_bool;
            out.push(Elem {
                labels: e.labels.clone(),
                v: val,
                t: e.t,
                drop_name,
            });
        }
    }
    out
}

fn set_and(l: Vector, r: &Vector, m: &Matching) -> Vector {
    if l.is_empty() || r.is_empty() {
        return Vec::new();
    }
    let sigs: HashSet<usize> = r.iter().map(|e| m.ord(&e.labels)).collect();
    l.into_iter()
        .filter(|e| sigs.contains(&m.ord(&e.labels)))
        .collect()
}

fn set_or(l: Vector, r: Vector, m: &Matching) -> Vector {
    if l.is_empty() {
        return r;
    }
    if r.is_empty() {
        return l;
    }
    let sigs: HashSet<usize> = l.iter().map(|e| m.ord(&e.labels)).collect();
    let mut out = l;
    out.extend(r.into_iter().filter(|e| !sigs.contains(&m.ord(&e.labels))));
    out
}

fn set_unless(l: Vector, r: &Vector, m: &Matching) -> Vector {
    if l.is_empty() || r.is_empty() {
        return l;
    }
    let sigs: HashSet<usize> = r.iter().map(|e| m.ord(&e.labels)).collect();
    l.into_iter()
        .filter(|e| !sigs.contains(&m.ord(&e.labels)))
        .collect()
}

fn vector_binop(
    op: token::TokenId,
    lhs: Vector,
    rhs: Vector,
    m: &Matching,
    return_bool: bool,
) -> Result<Vector, QueryError> {
    if (lhs.is_empty() && rhs.is_empty())
        || ((lhs.is_empty() || rhs.is_empty()) && m.fill_lhs.is_none() && m.fill_rhs.is_none())
    {
        return Ok(Vec::new());
    }
    let one_to_many = matches!(m.card, VectorMatchCardinality::OneToMany(_));
    let (lhs, rhs) = if one_to_many { (rhs, lhs) } else { (lhs, rhs) };
    // As upstream, the fill values are not swapped with the sides.
    let (fill_for_lhs_unmatched, fill_for_rhs_unmatched) = (m.fill_rhs, m.fill_lhs);

    let mut right: HashMap<usize, usize> = HashMap::default();
    for (i, rs) in rhs.iter().enumerate() {
        let (sig, ord) = m.signature(&rs.labels);
        if let Some(&j) = right.get(&ord) {
            let side = if one_to_many { "left" } else { "right" };
            let (mut a, mut b) = (labels_string(&rs.labels), labels_string(&rhs[j].labels));
            if a > b {
                std::mem::swap(&mut a, &mut b);
            }
            return Err(QueryError::Execution(format!(
                "found duplicate series for the match group {} on the {side} hand-side of the operation: [{a}, {b}];many-to-many matching not allowed: matching labels must be unique on one side",
                labels_string(&sig)
            )));
        }
        right.insert(ord, i);
    }

    let one_to_one = matches!(m.card, VectorMatchCardinality::OneToOne);
    let mut st = BinopState {
        op,
        m,
        one_to_one,
        one_to_many,
        return_bool,
        matched_one: HashSet::default(),
        matched_many: HashMap::default(),
        out: Vec::new(),
    };
    for ls in &lhs {
        let (sig, ord) = m.signature(&ls.labels);
        match right.get(&ord) {
            Some(&j) => st.apply(ls, &rhs[j].labels, rhs[j].v, ord)?,
            None => {
                if let Some(fill) = fill_for_lhs_unmatched {
                    st.apply(ls, &sig, fill, ord)?;
                }
            }
        }
    }
    if let Some(fill) = fill_for_rhs_unmatched {
        for rs in &rhs {
            let (sig, ord) = m.signature(&rs.labels);
            let already = if one_to_one {
                st.matched_one.contains(&ord)
            } else {
                st.matched_many.get(&ord).is_some_and(|s| !s.is_empty())
            };
            if already {
                continue;
            }
            let filler = Elem {
                labels: sig.clone(),
                v: fill,
                t: rs.t,
                drop_name: false,
            };
            st.apply(&filler, &rs.labels, rs.v, ord)?;
        }
    }
    Ok(st.out)
}

struct BinopState<'m> {
    op: token::TokenId,
    m: &'m Matching<'m>,
    one_to_one: bool,
    one_to_many: bool,
    return_bool: bool,
    matched_one: HashSet<usize>,
    matched_many: HashMap<usize, HashSet<Labels>>,
    out: Vector,
}

impl BinopState<'_> {
    /// Combines `ls` (the "many" side after any swap) with the matched sample of the other side.
    fn apply(
        &mut self,
        ls: &Elem,
        rs_labels: &Labels,
        rs_v: f64,
        sig: usize,
    ) -> Result<(), QueryError> {
        let (fl, fr) = if self.one_to_many {
            (rs_v, ls.v)
        } else {
            (ls.v, rs_v)
        };
        let (mut val, keep) = float_binop(self.op, fl, fr);
        if self.return_bool {
            val = if keep { 1.0 } else { 0.0 };
        }
        let metric = result_metric(&ls.labels, rs_labels, self.op, self.m);
        if self.one_to_one {
            if !self.matched_one.insert(sig) {
                return Err(QueryError::Execution(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)".into(),
                ));
            }
        } else if !self
            .matched_many
            .entry(sig)
            .or_default()
            .insert(metric.clone())
        {
            return Err(QueryError::Execution(
                "multiple matches for labels: grouping labels must ensure unique matches".into(),
            ));
        }
        if !keep && !self.return_bool {
            return Ok(());
        }
        self.out.push(Elem {
            labels: metric,
            v: val,
            t: ls.t,
            drop_name: self.return_bool,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::matching::labels_string;
    use promql_parser::parser::{BinModifier, LabelModifier};

    fn elem(pairs: &[(&str, &str)], v: f64) -> Elem {
        Elem {
            labels: Labels::from_pairs_unchecked(pairs),
            v,
            t: 0,
            drop_name: false,
        }
    }

    #[test]
    fn comparisons_filter_and_arithmetic_keeps_all() {
        assert_eq!(float_binop(token::T_GTR, 2.0, 1.0), (2.0, true));
        assert_eq!(float_binop(token::T_LSS, 2.0, 1.0), (2.0, false));
        assert_eq!(float_binop(token::T_MOD, -7.0, 3.0), (-1.0, true));
        assert!(float_binop(token::T_DIV, 0.0, 0.0).0.is_nan());
        assert_eq!(float_binop(token::T_POW, 2.0, 10.0), (1024.0, true));
    }

    #[test]
    fn vector_scalar_comparison_keeps_the_vector_value_when_swapped() {
        let v = vec![
            elem(&[("__name__", "m")], 5.0),
            elem(&[("__name__", "n")], 1.0),
        ];
        let out = vector_scalar(token::T_LSS, &v, 2.0, true, false);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].v, 5.0);
        assert!(!out[0].drop_name);
        let out = vector_scalar(token::T_LSS, &v, 2.0, true, true);
        assert_eq!(out.iter().map(|e| e.v).collect::<Vec<_>>(), vec![1.0, 0.0]);
        assert!(out.iter().all(|e| e.drop_name));
    }

    #[test]
    fn set_operators_match_on_signatures() {
        let m = matching_of(None, &MANY_TO_MANY);
        let l = vec![
            elem(&[("__name__", "a"), ("x", "1")], 1.0),
            elem(&[("__name__", "a"), ("x", "2")], 2.0),
        ];
        let r = vec![
            elem(&[("__name__", "b"), ("x", "2")], 9.0),
            elem(&[("__name__", "b"), ("x", "3")], 9.0),
        ];
        assert_eq!(
            set_and(l.clone(), &r, &m)
                .iter()
                .map(|e| e.v)
                .collect::<Vec<_>>(),
            vec![2.0]
        );
        assert_eq!(
            set_unless(l.clone(), &r, &m)
                .iter()
                .map(|e| e.v)
                .collect::<Vec<_>>(),
            vec![1.0]
        );
        let or = set_or(l, r, &m);
        assert_eq!(or.len(), 3);
        assert_eq!(or[2].labels.get("x"), Some("3"));
    }

    #[test]
    fn one_to_one_drops_name_and_refuses_ambiguous_matches() {
        let m = matching_of(None, &ONE_TO_ONE);
        let l = vec![elem(&[("__name__", "a"), ("x", "1")], 6.0)];
        let r = vec![elem(&[("__name__", "b"), ("x", "1")], 3.0)];
        let out = vector_binop(token::T_DIV, l, r, &m, false).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].v, 2.0);
        assert_eq!(labels_string(&out[0].labels), r#"{x="1"}"#);
        let l = vec![
            elem(&[("x", "1"), ("y", "a")], 1.0),
            elem(&[("x", "1"), ("y", "b")], 1.0),
        ];
        let r = vec![elem(&[("x", "1"), ("y", "c")], 1.0)];
        let on = BinModifier::default().with_matching(Some(LabelModifier::include(vec!["x"])));
        let m = matching_of(Some(&on), &ONE_TO_ONE);
        let err = vector_binop(token::T_ADD, l, r, &m, false).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("multiple matches for labels: many-to-one"),
            "{err}"
        );
    }

    #[test]
    fn group_left_copies_included_labels_from_the_one_side() {
        let on = BinModifier::default()
            .with_matching(Some(LabelModifier::include(vec!["x"])))
            .with_card(VectorMatchCardinality::many_to_one(vec!["owner"]));
        let m = matching_of(Some(&on), &ONE_TO_ONE);
        let l = vec![
            elem(&[("x", "1"), ("y", "a")], 2.0),
            elem(&[("x", "1"), ("y", "b")], 3.0),
        ];
        let r = vec![elem(&[("x", "1"), ("owner", "team")], 10.0)];
        let out = vector_binop(token::T_MUL, l, r, &m, false).unwrap();
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|e| e.labels.get("owner") == Some("team")));
        assert_eq!(
            out.iter().map(|e| e.v).collect::<Vec<_>>(),
            vec![20.0, 30.0]
        );
    }
}
