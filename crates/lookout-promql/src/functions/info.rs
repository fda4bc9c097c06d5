//! `info(v [, data-label-selector])`: enriches series with the data labels of info metrics
//! (`target_info` by default) that share their identifying labels `instance` and `job`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use lookout_model::{Labels, METRIC_NAME, MatchOp, Matcher};
use promql_parser::parser::{AtModifier, Expr};

use crate::QueryError;
use crate::eval::{Elem, Evaluator, Matrix, OutputBuilder, PointValue, matcher_sets, offset_ms};
use crate::functions::unwrap_parens;

const TARGET_INFO: &str = "target_info";
const IDENTIFYING: [&str; 2] = ["instance", "job"];

fn name_eq(v: &str) -> Matcher {
    Matcher::equal(METRIC_NAME, v)
}

/// The `__name__` matchers info series must satisfy, given those the caller wrote.
fn effective_name_matchers(written: &[Matcher]) -> Result<Vec<Matcher>, QueryError> {
    if written
        .iter()
        .any(|m| matches!(m.op, MatchOp::Equal | MatchOp::Regex))
    {
        return Ok(written.to_vec());
    }
    if written.is_empty() {
        return Ok(vec![name_eq(TARGET_INFO)]);
    }
    let mut out = vec![
        Matcher::new(MatchOp::Regex, METRIC_NAME, ".+_info")
            .map_err(|e| QueryError::Execution(e.to_string()))?,
    ];
    out.extend(written.iter().cloned());
    Ok(out)
}

/// `@` and `offset` of the first selector in the expression (with those of enclosing subqueries
/// when the selector has no `@`), which the info series are read with.
fn first_selector_timing(
    e: &Expr,
    ev: &Evaluator<'_>,
    outer: &[(Option<i64>, i64)],
) -> Option<(Option<i64>, i64)> {
    let from_selector = |at: &Option<AtModifier>, offset: i64| {
        let mut at = ev.at_ms(at);
        let mut offset = offset;
        for (sq_at, sq_off) in outer.iter().rev() {
            if at.is_some() {
                break;
            }
            offset += sq_off;
            at = *sq_at;
        }
        Some((at, offset))
    };
    match e {
        Expr::VectorSelector(vs) => from_selector(&vs.at, offset_ms(&vs.offset)),
        Expr::MatrixSelector(ms) => from_selector(&ms.vs.at, offset_ms(&ms.vs.offset)),
        Expr::Subquery(sq) => {
            let mut o = outer.to_vec();
            o.push((ev.at_ms(&sq.at), offset_ms(&sq.offset)));
            first_selector_timing(&sq.expr, ev, &o)
        }
        Expr::Paren(p) => first_selector_timing(&p.expr, ev, outer),
        Expr::Unary(u) => first_selector_timing(&u.expr, ev, outer),
        Expr::Binary(b) => first_selector_timing(&b.lhs, ev, outer)
            .or_else(|| first_selector_timing(&b.rhs, ev, outer)),
        Expr::Aggregate(a) => a
            .param
            .as_deref()
            .and_then(|p| first_selector_timing(p, ev, outer))
            .or_else(|| first_selector_timing(&a.expr, ev, outer)),
        Expr::Call(c) => c
            .args
            .args
            .iter()
            .find_map(|a| first_selector_timing(a, ev, outer)),
        _ => None,
    }
}

/// Joins a series with an info metric: the info metric's name and the identifying label pairs.
type InfoSignature = (String, Vec<(String, String)>);

/// The signature of `l` for the info metric `info_name`.
fn signature(info_name: &str, l: &Labels) -> InfoSignature {
    let ids = IDENTIFYING
        .iter()
        .filter_map(|n| l.get(n).map(|v| (n.to_string(), v.to_string())))
        .collect();
    (info_name.to_string(), ids)
}

/// Evaluates `info(args[0] [, args[1]])`.
pub(crate) fn info(ev: &Evaluator<'_>, args: &[Box<Expr>]) -> Result<Matrix, QueryError> {
    let (at, offset) = first_selector_timing(&args[0], ev, &[]).unwrap_or((None, 0));
    let base = ev.eval(&args[0])?.into_matrix()?;

    // Data-label matchers by label name, and the matchers on the info metric's name.
    let mut data: BTreeMap<String, Vec<Matcher>> = BTreeMap::new();
    let mut name_matchers = Vec::new();
    if let Some(sel) = args.get(1) {
        let Expr::VectorSelector(vs) = unwrap_parens(sel) else {
            return Err(QueryError::Execution(
                "info() expects a label selector as second argument".into(),
            ));
        };
        for m in matcher_sets(vs)?.into_iter().next().unwrap_or_default() {
            if m.name == METRIC_NAME {
                name_matchers.push(m.clone());
            }
            data.entry(m.name.clone()).or_default().push(m);
        }
    } else {
        name_matchers.push(name_eq(TARGET_INFO));
    }
    let effective = effective_name_matchers(&name_matchers)?;
    let ignored: Vec<bool> = base
        .iter()
        .map(|s| {
            let name = s.labels.metric_name().unwrap_or("");
            effective.iter().all(|m| m.matches(name))
        })
        .collect();

    // Identifying label values of the series to enrich.
    let mut id_values: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (s, ign) in base.iter().zip(&ignored) {
        if *ign {
            continue;
        }
        for n in IDENTIFYING {
            if let Some(v) = s.labels.get(n) {
                id_values.entry(n).or_default().insert(v);
            }
        }
    }
    let data_name: Vec<Matcher> = data.remove(METRIC_NAME).unwrap_or_default();
    let info_mat = if id_values.is_empty() {
        Vec::new()
    } else {
        let mut set = Vec::new();
        for (n, vals) in &id_values {
            // A set of the values, not a regex: there may be more than a client's regex may hold.
            set.push(Matcher::any_of(*n, vals.iter().copied()));
        }
        for ms in data.values() {
            set.extend(ms.iter().cloned());
        }
        set.extend(effective_name_matchers(&data_name)?);
        ev.instant_points(&[set], at, offset, PointValue::TimestampMs)?
    };
    let held = crate::eval::points(&base) + crate::eval::points(&info_mat);
    let out = combine(ev, base, &ignored, info_mat, &data)?;
    ev.env.budget.release(held);
    ev.env.budget.acquire(crate::eval::points(&out))?;
    Ok(out)
}

fn combine(
    ev: &Evaluator<'_>,
    base: Matrix,
    ignored: &[bool],
    info_mat: Matrix,
    data: &BTreeMap<String, Vec<Matcher>>,
) -> Result<Matrix, QueryError> {
    let info_names: BTreeSet<String> = info_mat
        .iter()
        .map(|s| s.labels.metric_name().unwrap_or("").to_string())
        .collect();
    let all_match_empty = data.values().flatten().all(|m| m.matches(""));
    let mut cursors_base = vec![0usize; base.len()];
    let mut cursors_info = vec![0usize; info_mat.len()];
    let mut base_vec = Vec::new();
    let mut info_vec = Vec::new();
    let mut out = OutputBuilder::new(ev.is_instant());
    let base_ignored: HashMap<Labels, bool> = base
        .iter()
        .zip(ignored)
        .map(|(s, i)| (s.labels.clone(), *i))
        .collect();
    for ts in ev.steps() {
        ev.env.budget.check("info")?;
        crate::eval::gather(ts, &base, &mut cursors_base, &mut base_vec);
        crate::eval::gather(ts, &info_mat, &mut cursors_info, &mut info_vec);
        // Per signature, the info series with the newest sample.
        let mut by_sig: HashMap<InfoSignature, &Elem> = HashMap::new();
        for e in &info_vec {
            let sig = signature(e.labels.metric_name().unwrap_or(""), &e.labels);
            match by_sig.get(&sig) {
                Some(prev) if prev.v > e.v => {}
                Some(prev) if prev.v == e.v => {
                    return Err(QueryError::Execution(format!(
                        "found duplicate series for info metric: existing {} @ {}, new {} @ {}",
                        crate::eval::labels_string(&prev.labels),
                        prev.v as i64,
                        crate::eval::labels_string(&e.labels),
                        e.v as i64
                    )));
                }
                _ => {
                    by_sig.insert(sig, e);
                }
            }
        }
        let mut step_out = Vec::new();
        for b in base_vec.drain(..) {
            if base_ignored.get(&b.labels).copied().unwrap_or(false) {
                step_out.push(b);
                continue;
            }
            let mut extra: BTreeMap<String, String> = BTreeMap::new();
            let mut seen = 0usize;
            for name in &info_names {
                let Some(is) = by_sig.get(&signature(name, &b.labels)) else {
                    continue;
                };
                for l in is.labels.iter() {
                    if &*l.name == METRIC_NAME || (!data.is_empty() && !data.contains_key(&*l.name))
                    {
                        continue;
                    }
                    if let Some(v) = extra.get(&*l.name)
                        && v != &*l.value
                    {
                        return Err(QueryError::Execution(format!(
                            "conflicting label: {}",
                            l.name
                        )));
                    }
                    if b.labels.get(&l.name).is_some() {
                        continue;
                    }
                    extra.insert(l.name.to_string(), l.value.to_string());
                }
                seen += 1;
            }
            if seen == 0 && !all_match_empty {
                continue;
            }
            let mut lb = b.labels.to_builder();
            for (n, v) in &extra {
                lb.set(n, v);
            }
            step_out.push(Elem {
                labels: lb.build_unchecked(),
                ..b
            });
        }
        out.add_step(ts, step_out)?;
    }
    Ok(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_matchers_default_to_target_info_or_any_info_metric() {
        let m = effective_name_matchers(&[]).unwrap();
        assert!(m.len() == 1 && m[0].matches("target_info") && !m[0].matches("build_info"));
        let neg = Matcher::new(MatchOp::NotRegex, METRIC_NAME, "build.*").unwrap();
        let m = effective_name_matchers(std::slice::from_ref(&neg)).unwrap();
        assert_eq!(m.len(), 2);
        assert!(m.iter().all(|x| x.matches("target_info")));
        assert!(!m.iter().all(|x| x.matches("build_info")));
        assert!(!m.iter().all(|x| x.matches("metric")));
    }
}
