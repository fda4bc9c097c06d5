//! Functions that rewrite or order by labels: `label_replace`, `label_join`, `sort_by_label(_desc)`.

use std::cmp::Ordering;

use lookout_model::{METRIC_NAME, RegexError, bounded_anchored_regex};
use promql_parser::parser::Expr;

use super::string_arg;
use crate::QueryError;
use crate::eval::{Evaluator, Matrix, Vector, cleanup_merge};

/// `label_replace(v, dst, replacement, src, regex)`.
pub(crate) fn label_replace(ev: &Evaluator<'_>, args: &[Box<Expr>]) -> Result<Matrix, QueryError> {
    let dst = string_arg(&args[1])?;
    let repl = string_arg(&args[2])?;
    let src = string_arg(&args[3])?;
    let re_src = string_arg(&args[4])?;
    let re = bounded_anchored_regex(&re_src).map_err(|e| {
        QueryError::Execution(match e {
            RegexError::Invalid(_) => {
                format!("invalid regular expression in label_replace(): {re_src}")
            }
            limit => limit.describe("in label_replace()"),
        })
    })?;
    if ev.env.invalid_label_name(&dst).is_some() {
        return Err(QueryError::Execution(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    // Each `$` of the replacement can copy the whole source value: the most one expansion can write.
    let refs = repl.matches('$').count();
    let mut m = ev.eval(&args[0])?.into_matrix()?;
    for s in &mut m {
        let value = s.labels.get(&src).unwrap_or("").to_string();
        if let Some(caps) = re.captures(&value) {
            let old = s.labels.get(&dst).map_or(0, str::len);
            let bound = repl.len().saturating_add(refs.saturating_mul(value.len()));
            let held = LabelGrowth::reserve(ev, old, bound)?;
            let mut out = String::new();
            caps.expand(&repl, &mut out);
            held.settle(ev, old, out.len());
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
        let len = joined.iter().map(|v| v.len()).sum::<usize>()
            + sep.len().saturating_mul(joined.len().saturating_sub(1));
        let old = s.labels.get(&dst).map_or(0, str::len);
        LabelGrowth::reserve(ev, old, len)?;
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

/// Bytes a label function adds to a series' labels, charged to the query's samples budget at 16 bytes a sample
/// (how the binary sizes `query.max_samples` from the memory budget). Without it, `label_join(v, "d", "", "a",
/// "a", …)` or a replacement of many `$1` could make labels thousands of times larger than the query text and the
/// data, outside any limit. Only growth is charged, and it is held to the end of the query, as the labels are.
struct LabelGrowth {
    samples: usize,
}

impl LabelGrowth {
    /// Charges a new value of at most `bound` bytes replacing one of `old` bytes, before it is built.
    fn reserve(ev: &Evaluator<'_>, old: usize, bound: usize) -> Result<Self, QueryError> {
        let samples = bound.saturating_sub(old).div_ceil(16);
        ev.env.budget.acquire(samples)?;
        Ok(LabelGrowth { samples })
    }

    /// Gives back what the value built, `actual` bytes, did not use of the reservation.
    fn settle(self, ev: &Evaluator<'_>, old: usize, actual: usize) {
        let used = actual.saturating_sub(old).div_ceil(16);
        ev.env.budget.release(self.samples.saturating_sub(used));
    }
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
