//! Matcher evaluation over any postings index: intersections for positive matchers, subtraction for matchers
//! that accept the empty value, value scans (with set and prefix fast paths) otherwise.

use lookout_model::{MatchOp, Matcher};
use roaring::RoaringBitmap;

/// An inverted index from label pairs to series ids.
pub(crate) trait PostingsIndex {
    /// Every series id.
    fn all(&self) -> RoaringBitmap;
    /// Series with label `name` equal to `value`.
    fn get(&self, name: &str, value: &str) -> RoaringBitmap;
    /// Calls `f` for every value of `name` starting with `prefix`, in value order.
    fn for_each_value(&self, name: &str, prefix: &str, f: &mut dyn FnMut(&str, &RoaringBitmap));
    /// Every label name, sorted.
    fn names(&self) -> Vec<String>;
}

/// Series whose value of `m.name` is non-empty and satisfies `keep`.
fn union_where(
    idx: &dyn PostingsIndex,
    name: &str,
    prefix: &str,
    keep: &dyn Fn(&str) -> bool,
) -> RoaringBitmap {
    let mut out = RoaringBitmap::new();
    idx.for_each_value(name, prefix, &mut |v, bm| {
        if keep(v) {
            out |= bm;
        }
    });
    out
}

/// Series ids matching all matchers.
pub(crate) fn select(idx: &dyn PostingsIndex, matchers: &[Matcher]) -> RoaringBitmap {
    let mut acc: Option<RoaringBitmap> = None;
    let mut subtract = Vec::new();
    // Positive, selective matchers first so the accumulator shrinks early.
    for m in matchers.iter().filter(|m| !m.matches_empty()) {
        let hits = if let Some(values) = m.set_values() {
            let mut u = RoaringBitmap::new();
            for v in values {
                u |= idx.get(&m.name, v);
            }
            u
        } else if let Some(p) = m.prefix() {
            union_where(idx, &m.name, p, &|_| true)
        } else {
            union_where(idx, &m.name, "", &|v| m.matches(v))
        };
        acc = Some(match acc {
            None => hits,
            Some(a) => a & hits,
        });
        if acc.as_ref().is_some_and(RoaringBitmap::is_empty) {
            return RoaringBitmap::new();
        }
    }
    for m in matchers.iter().filter(|m| m.matches_empty()) {
        // Series lacking the label pass; those with a value the matcher refuses are removed.
        let refused = if m.op == MatchOp::NotEqual {
            idx.get(&m.name, &m.value)
        } else {
            union_where(idx, &m.name, "", &|v| !m.matches(v))
        };
        subtract.push(refused);
    }
    let mut out = acc.unwrap_or_else(|| idx.all());
    for s in subtract {
        out -= s;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::postings::HeadPostings;
    use lookout_model::Labels;

    #[test]
    fn matchers_follow_prometheus_semantics() {
        let mut p = HeadPostings::default();
        p.add(
            1,
            &Labels::from_pairs(&[("__name__", "up"), ("job", "a")]).unwrap(),
        );
        p.add(
            2,
            &Labels::from_pairs(&[("__name__", "up"), ("job", "b")]).unwrap(),
        );
        p.add(3, &Labels::from_pairs(&[("__name__", "up")]).unwrap());
        p.add(
            4,
            &Labels::from_pairs(&[("__name__", "down"), ("job", "ab")]).unwrap(),
        );
        let ids = |ms: &[Matcher]| select(&p, ms).iter().collect::<Vec<_>>();
        let m = |op, n: &str, v: &str| Matcher::new(op, n, v).unwrap();
        assert_eq!(ids(&[Matcher::equal("__name__", "up")]), vec![1, 2, 3]);
        assert_eq!(
            ids(&[
                Matcher::equal("__name__", "up"),
                m(MatchOp::NotEqual, "job", "a")
            ]),
            vec![2, 3]
        );
        assert_eq!(ids(&[m(MatchOp::Regex, "job", "a.*")]), vec![1, 4]);
        assert_eq!(ids(&[m(MatchOp::Regex, "job", "b|ab")]), vec![2, 4]);
        assert_eq!(
            ids(&[Matcher::equal("__name__", "up"), Matcher::equal("job", "")]),
            vec![3]
        );
        assert_eq!(
            ids(&[
                Matcher::equal("__name__", "up"),
                m(MatchOp::NotRegex, "job", ".+")
            ]),
            vec![3]
        );
        assert_eq!(ids(&[m(MatchOp::Regex, "job", ".*b")]), vec![2, 4]);
        assert_eq!(ids(&[m(MatchOp::NotRegex, "job", "a|b")]), vec![3, 4]);
        assert!(ids(&[Matcher::equal("job", "zzz")]).is_empty());
    }
}
