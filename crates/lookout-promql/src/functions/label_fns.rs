//! Functions that rewrite or order by labels: `label_replace`, `label_join`, `sort_by_label(_desc)`.

use std::cmp::Ordering;

use lookout_model::METRIC_NAME;
use promql_parser::parser::Expr;
use regex::Regex;

use super::string_arg;
use crate::QueryError;
use crate::eval::{Evaluator, Matrix, Vector, cleanup_merge};

/// `label_replace(v, dst, replacement, src, regex)`.
pub(crate) fn label_replace(ev: &Evaluator<'_>, args: &[Box<Expr>]) -> Result<Matrix, QueryError> {
    let dst = string_arg(&args[1])?;
    let repl = string_arg(&args[2])?;
    let src = string_arg(&args[3])?;
    let re_src = string_arg(&args[4])?;
    let re = Regex::new(&format!("^(?s:{re_src})$")).map_err(|_| {
        QueryError::Execution(format!(
            "invalid regular expression in label_replace(): {re_src}"
        ))
    })?;
    if ev.env.invalid_label_name(&dst).is_some() {
        return Err(QueryError::Execution(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    let mut m = ev.eval(&args[0])?.into_matrix()?;
    for s in &mut m {
        let value = s.labels.get(&src).unwrap_or("").to_string();
        if let Some(caps) = re.captures(&value) {
            let mut out = String::new();
            caps.expand(&repl, &mut out);
            let mut b = s.labels.to_builder();
            b.set(&dst, &out);
            s.labels = b.build_unchecked();
            if dst == METRIC_NAME {
                s.drop_name = false;
            }
        }
    }
    cleanup_merge(m)
}

/// `label_join(v, dst, separator, src...)`.
pub(crate) fn label_join(ev: &Evaluator<'_>, args: &[Box<Expr>]) -> Result<Matrix, QueryError> {
    let dst = string_arg(&args[1])?;
    let sep = string_arg(&args[2])?;
    let mut srcs = Vec::new();
    for a in &args[3..] {
        let s = string_arg(a)?;
        if ev.env.invalid_label_name(&s).is_some() {
            return Err(QueryError::Execution(format!(
                "invalid source label name in label_join(): {s}"
            )));
        }
        srcs.push(s);
    }
    if ev.env.invalid_label_name(&dst).is_some() {
        return Err(QueryError::Execution(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    let mut m = ev.eval(&args[0])?.into_matrix()?;
    for s in &mut m {
        let joined: Vec<&str> = srcs.iter().map(|n| s.labels.get(n).unwrap_or("")).collect();
        let joined = joined.join(&sep);
        let mut b = s.labels.to_builder();
        b.set(&dst, &joined);
        s.labels = b.build_unchecked();
        if dst == METRIC_NAME {
            s.drop_name = false;
        }
    }
    cleanup_merge(m)
}

/// Natural order: runs of digits compare as numbers, everything else as text.
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
    fn chunks(s: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[i - 1].is_ascii_digit() {
                out.push(&s[start..i]);
                start = i;
            }
        }
        out
    }
    let (ca, cb) = (chunks(a), chunks(b));
    for (x, y) in ca.iter().zip(cb.iter()) {
        if x == y {
            continue;
        }
        let xd = x.bytes().all(|c| c.is_ascii_digit());
        let yd = y.bytes().all(|c| c.is_ascii_digit());
        if xd && yd {
            let (xt, yt) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
            let o = xt.len().cmp(&yt.len()).then_with(|| xt.cmp(yt));
            if o != Ordering::Equal {
                return o;
            }
            continue;
        }
        return x.cmp(y);
    }
    ca.len().cmp(&cb.len())
}

/// Orders by the given labels naturally, then by the whole label set.
pub(crate) fn sort_by_label(v: &mut Vector, names: &[String], desc: bool) {
    v.sort_by(|a, b| {
        for n in names {
            let (x, y) = (a.labels.get(n).unwrap_or(""), b.labels.get(n).unwrap_or(""));
            if x == y {
                continue;
            }
            let o = natural_cmp(x, y);
            return if desc { o.reverse() } else { o };
        }
        let o = a.labels.cmp(&b.labels);
        if desc { o.reverse() } else { o }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_compares_numbers_by_value() {
        assert_eq!(natural_cmp("a2", "a10"), Ordering::Less);
        assert_eq!(natural_cmp("a10", "a9"), Ordering::Greater);
        assert_eq!(natural_cmp("abc", "abd"), Ordering::Less);
        assert_eq!(natural_cmp("x", "x"), Ordering::Equal);
    }
}
