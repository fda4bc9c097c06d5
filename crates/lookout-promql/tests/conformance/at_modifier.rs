//! Upstream's extra instant-query variants: every selector outside a subquery (and every subquery) without an `@`
//! gets `@ <eval time>`, and the rewritten query must give the same result at other evaluation times.
//!
//! The rewrite goes through `promql-parser`'s AST printer. A printer that does not round-trip a query would make
//! the runner test its own rewrite instead of the engine, so a query whose printed form parses to a different
//! AST (compared with label matchers in a canonical order, since the printer sorts them) gets no variants; it is
//! still run as written and in range mode. In v3.14.0's files that skips 3 of 1,615 parseable instant queries
//! (`by ()`, `ignoring()` and `fill()` print differently but mean the same).

use std::time::{Duration, SystemTime};

use promql_parser::label::Matcher;
use promql_parser::parser::{self, AtModifier, Expr, VectorSelector};

/// Functions whose result depends on the evaluation time even with step-invariant arguments (upstream's
/// `AtModifierUnsafeFunctions`): queries calling them get no variants.
const AT_UNSAFE_FUNCTIONS: [&str; 15] = [
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "end",
    "hour",
    "minute",
    "month",
    "year",
    "predict_linear",
    "range",
    "start",
    "step",
    "time",
    "timestamp",
];

/// Sets `@ at` unless a fixed `@ <time>` is already there; `@ start()`/`@ end()` are replaced as upstream does
/// (its AST keeps them apart from the timestamp it sets).
fn set_at(slot: &mut Option<AtModifier>, at: &AtModifier) {
    if !matches!(slot, Some(AtModifier::At(_))) {
        *slot = Some(at.clone());
    }
}

/// Pins selectors outside subqueries to `at`; returns false when an at-unsafe function is called outside them.
fn pin(expr: &mut Expr, at: &AtModifier) -> bool {
    match expr {
        Expr::VectorSelector(vs) => {
            set_at(&mut vs.at, at);
            true
        }
        Expr::MatrixSelector(ms) => {
            set_at(&mut ms.vs.at, at);
            true
        }
        Expr::Subquery(sq) => {
            // A subquery always ends up with an `@`, and upstream looks no further inside one that has it.
            set_at(&mut sq.at, at);
            true
        }
        Expr::Aggregate(a) => pin(&mut a.expr, at) & a.param.as_mut().is_none_or(|p| pin(p, at)),
        Expr::Unary(u) => pin(&mut u.expr, at),
        Expr::Binary(b) => pin(&mut b.lhs, at) & pin(&mut b.rhs, at),
        Expr::Paren(p) => pin(&mut p.expr, at),
        Expr::Call(c) => {
            let safe = !AT_UNSAFE_FUNCTIONS.contains(&c.func.name);
            c.args
                .args
                .iter_mut()
                .fold(safe, |ok, arg| pin(arg, at) & ok)
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => true,
        Expr::Extension(_) => false,
    }
}

/// Calls `f` on every vector selector, including those of matrix selectors and inside subqueries.
fn for_each_selector(expr: &mut Expr, f: &mut dyn FnMut(&mut VectorSelector)) {
    match expr {
        Expr::VectorSelector(vs) => f(vs),
        Expr::MatrixSelector(ms) => f(&mut ms.vs),
        Expr::Subquery(sq) => for_each_selector(&mut sq.expr, f),
        Expr::Aggregate(a) => {
            for_each_selector(&mut a.expr, f);
            if let Some(p) = a.param.as_mut() {
                for_each_selector(p, f);
            }
        }
        Expr::Unary(u) => for_each_selector(&mut u.expr, f),
        Expr::Binary(b) => {
            for_each_selector(&mut b.lhs, f);
            for_each_selector(&mut b.rhs, f);
        }
        Expr::Paren(p) => for_each_selector(&mut p.expr, f),
        Expr::Call(c) => c.args.args.iter_mut().for_each(|a| for_each_selector(a, f)),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

/// Parses `query` with label matchers in a canonical order: the printer sorts them, and their order does not
/// change what a selector means.
fn parse_canonical(query: &str) -> Option<Expr> {
    let mut expr = parser::parse(query).ok()?;
    let key = |m: &Matcher| (m.name.clone(), m.op.to_string(), m.value.clone());
    for_each_selector(&mut expr, &mut |vs| {
        vs.matchers.matchers.sort_by_key(key);
        vs.matchers
            .or_matchers
            .iter_mut()
            .for_each(|group| group.sort_by_key(key));
    });
    Some(expr)
}

/// The rewritten query and the evaluation times to run it at; empty when upstream would skip the query or when
/// the query does not survive a print/parse round trip.
pub fn at_modifier_variants(query: &str, eval_ms: i64) -> Vec<(String, i64)> {
    let Some(mut expr) = parse_canonical(query) else {
        return vec![];
    };
    if parse_canonical(&expr.to_string()).as_ref() != Some(&expr) {
        return vec![];
    }
    // Evaluation times in the files are never negative, so the pinned time is representable.
    let Ok(ms) = u64::try_from(eval_ms) else {
        return vec![];
    };
    let at = AtModifier::At(SystemTime::UNIX_EPOCH + Duration::from_millis(ms));
    if !pin(&mut expr, &at) {
        return vec![];
    }
    let rewritten = expr.to_string();
    if parse_canonical(&rewritten).as_ref() != Some(&expr) {
        return vec![];
    }
    let times = if eval_ms == 0 {
        vec![-1000, 0, 1000]
    } else {
        vec![-10 * eval_ms, 0, eval_ms / 5, eval_ms, 10 * eval_ms]
    };
    times.into_iter().map(|t| (rewritten.clone(), t)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_selectors_but_not_inside_subqueries() {
        let v = at_modifier_variants("sum(rate(m[5m])) + n", 600_000);
        assert_eq!(v.len(), 5);
        let q = &v[0].0;
        assert!(
            q.contains("m[5m] @ 600.000") && q.contains("n @ 600.000"),
            "{q}"
        );
        assert_eq!(
            v.iter().map(|x| x.1).collect::<Vec<_>>(),
            vec![-6_000_000, 0, 120_000, 600_000, 6_000_000]
        );

        let v = at_modifier_variants("max_over_time(m[5m:1m])", 0);
        assert_eq!(
            v.iter().map(|x| x.1).collect::<Vec<_>>(),
            vec![-1000, 0, 1000]
        );
        let q = &v[0].0;
        assert!(q.contains("[5m:1m] @ 0.000") && !q.contains("m @"), "{q}");
    }

    #[test]
    fn keeps_existing_at_and_skips_unsafe_functions() {
        let v = at_modifier_variants("m @ 100 + n", 50_000);
        assert!(
            v[0].0.contains("m @ 100.000") && v[0].0.contains("n @ 50.000"),
            "{}",
            v[0].0
        );
        assert!(at_modifier_variants("timestamp(m)", 1000).is_empty());
        assert!(at_modifier_variants("time()", 1000).is_empty());
        // Inside a subquery upstream does not look for unsafe calls.
        assert_eq!(
            at_modifier_variants("max_over_time(vector(time())[5m:1m])", 1000).len(),
            5
        );
        let v = at_modifier_variants("m @ start()", 1000);
        assert!(v[0].0.contains("m @ 1.000"), "{}", v[0].0);
        assert!(at_modifier_variants("m{", 1000).is_empty());
        // The printer sorts matchers; that is no reason to skip the variants.
        let v = at_modifier_variants(r#"m{job="a", instance="b"}"#, 1000);
        assert!(
            v[0].0.contains(r#"m{instance="b",job="a"} @ 1.000"#),
            "{}",
            v[0].0
        );
        // A pre-epoch `@` is printed as 0 by promql-parser: the round-trip guard must refuse the rewrite.
        assert!(at_modifier_variants("m @ -100", 1000).is_empty());
    }
}
