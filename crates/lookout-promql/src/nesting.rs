//! A bound on how deep a query's syntax tree can be, computed from its text before it is parsed. Parsing,
//! evaluating and dropping an expression all recurse once per tree level, so a query such as 20,000 nested
//! parentheses or `-` signs (a few kilobytes of text) would overflow a thread's stack and abort the whole
//! process. Go's growable stacks spare Prometheus this; here the depth is refused up front with a parse error.
//!
//! The bound: every bracket opens a level, and every operator adds at most one level within the bracket level it
//! is written at (a chain `a + b + c` is a left-deep tree), so the deepest point is at most the sum, over the
//! open brackets, of one plus the operators written at that level. String literals and comments are skipped;
//! label matchers inside `{…}` are not operators.

/// Deepest syntax tree a query may have (brackets plus operators, see the module docs): far beyond hand-written
/// and generated dashboard queries, far below what the evaluator's stack holds.
pub const MAX_QUERY_NESTING: usize = 256;

/// An upper bound on the depth of the syntax tree of `query`.
pub fn nesting_bound(query: &str) -> usize {
    let b = query.as_bytes();
    // Operators written at each open bracket level; a level inside `{…}` counts none.
    let mut levels: Vec<(u8, usize)> = vec![(b'(', 0)];
    let mut depth = 1usize; // sum over levels of (1 + operators)
    let mut max = depth;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'"' | b'\'' | b'`' => {
                // Skip a string literal (backslash escapes in the first two kinds).
                i += 1;
                while i < b.len() && b[i] != c {
                    if b[i] == b'\\' && c != b'`' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                levels.push((c, 0));
                depth += 1;
            }
            b')' | b']' | b'}' => {
                if levels.len() > 1
                    && let Some((_, ops)) = levels.pop()
                {
                    depth -= 1 + ops;
                }
            }
            // Two-character operators (`==`, `!=`, `>=`, `<=`) count once, at their first character.
            b'=' if i > 0 && matches!(b[i - 1], b'=' | b'!' | b'<' | b'>') => {}
            b'+' | b'-' | b'*' | b'/' | b'%' | b'^' | b'=' | b'!' | b'<' | b'>' => {
                add_operator(&mut levels, &mut depth);
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i + 1 < b.len()
                    && (b[i + 1].is_ascii_alphanumeric() || b[i + 1] == b'_' || b[i + 1] == b':')
                {
                    i += 1;
                }
                let word = &query[start..=i];
                if ["and", "or", "unless", "atan2"]
                    .iter()
                    .any(|k| word.eq_ignore_ascii_case(k))
                {
                    add_operator(&mut levels, &mut depth);
                }
            }
            _ => {}
        }
        max = max.max(depth);
        i += 1;
    }
    max
}

/// Refuses a query whose tree could be deeper than [`MAX_QUERY_NESTING`], as a parse error.
pub fn check(query: &str) -> Result<(), crate::QueryError> {
    let nesting = nesting_bound(query);
    if nesting > MAX_QUERY_NESTING {
        return Err(crate::QueryError::Parse {
            message: format!(
                "query nests too deeply: brackets and operators reach {nesting} levels, over the limit of {MAX_QUERY_NESTING}"
            ),
            position: 0,
        });
    }
    Ok(())
}

fn add_operator(levels: &mut [(u8, usize)], depth: &mut usize) {
    if let Some((open, ops)) = levels.last_mut()
        && *open != b'{'
    {
        *ops += 1;
        *depth += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The deepest accepted queries of every shape parse, evaluate and drop on a 2 MiB stack (a tokio thread's
    /// default) in this debug build; one level more is refused before parsing.
    #[test]
    fn the_limit_fits_a_default_thread_stack() {
        let n = MAX_QUERY_NESTING - 1;
        let shapes = [
            format!("{}1{}", "(".repeat(n), ")".repeat(n)),
            format!("{}1", "-".repeat(n)),
            format!("1{}", " + 1".repeat(n)),
            format!("{}vector(1){}", "abs(".repeat(n / 2), ")".repeat(n / 2)),
            format!(
                "{}vector(1){}",
                "max_over_time((".repeat(n / 3),
                ")[1m:1m])".repeat(n / 3)
            ),
        ];
        let worker = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let storage = lookout_storage::mem::MemStorage::new();
                for q in &shapes {
                    assert!(
                        nesting_bound(q) <= MAX_QUERY_NESTING,
                        "{}",
                        nesting_bound(q)
                    );
                    let r = crate::Engine::default().instant_query(
                        &storage,
                        q,
                        1_000_000,
                        &crate::QueryContext::default(),
                    );
                    assert!(r.is_ok(), "{:.40}…: {:?}", q, r.err());
                }
                let too_deep = format!(
                    "{}1{}",
                    "(".repeat(MAX_QUERY_NESTING),
                    ")".repeat(MAX_QUERY_NESTING)
                );
                let e = crate::engine::parse_query(&too_deep)
                    .unwrap_err()
                    .to_string();
                assert!(e.contains("nests too deeply"), "{e}");
            })
            .unwrap();
        worker.join().expect("evaluation within the stack");
    }

    /// Inputs that made the parser or the text checks panic (found by `lookout-fuzz`) are errors now.
    #[test]
    fn parser_panics_are_errors() {
        let storage = lookout_storage::mem::MemStorage::new();
        for q in [
            "up offset 1e308",
            "up offset +Inf",
            "x[1e308s]",
            "up{a=~\"\\\u{e9}\"}",
            "holt_winters(m{a=\"\\\u{e9}\"}[1m], 0.1, 0.9) +",
        ] {
            let r = crate::Engine::default().instant_query(
                &storage,
                q,
                1_000_000,
                &crate::QueryContext::default(),
            );
            assert!(r.is_err(), "{q}: {:?}", r.ok());
        }
    }

    /// A sub-millisecond subquery step takes the default step instead of dividing by zero, and a subquery
    /// grid of billions of steps is stopped by the query's time limit (both found by `lookout-fuzz`).
    #[test]
    fn subquery_steps_are_bounded_by_time() {
        use lookout_storage::Storage;
        let storage = lookout_storage::mem::MemStorage::new();
        let labels = lookout_model::Labels::from_pairs(&[("__name__", "up")]).unwrap();
        let mut app = storage.appender();
        app.append(&labels, 1_000_000, 1.0).unwrap();
        app.commit().unwrap();
        let ctx = crate::QueryContext::default();
        let r = crate::Engine::default().instant_query(
            &storage,
            "min_over_time(up[5m:0.000001])",
            1_000_000,
            &ctx,
        );
        assert!(r.is_ok(), "{:?}", r.err());
        let engine = crate::Engine::new(crate::EngineOptions {
            timeout: std::time::Duration::from_millis(200),
            ..crate::EngineOptions::default()
        });
        let started = std::time::Instant::now();
        let r = engine.instant_query(
            &storage,
            "count_over_time(up[2147483647m:20s])",
            1_000_000,
            &ctx,
        );
        assert!(r.is_err(), "a 6-billion-step subquery must time out");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn dashboard_queries_are_shallow() {
        for q in [
            "up",
            r#"sum by (job) (rate(http_requests_total{job=~"a|b", code!="200"}[5m]))"#,
            "histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m]))) > 0.5 and on() vector(1)",
            r#"100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])))"#,
            r#"label_replace(up, "a", "$1", "b", "(.*)") # a comment with ((((( and + - * /"#,
        ] {
            let n = nesting_bound(q);
            assert!((1..20).contains(&n), "{q}: {n}");
        }
    }

    #[test]
    fn brackets_operators_and_chains_count() {
        assert_eq!(nesting_bound("1"), 1);
        assert_eq!(nesting_bound("((((1))))"), 5);
        assert_eq!(nesting_bound(&format!("{}1", "-".repeat(1000))), 1001);
        assert_eq!(nesting_bound(&format!("1{}", " + 1".repeat(1000))), 1001);
        assert_eq!(nesting_bound("a or b or c unless d"), 4);
        // Strings and matchers are not operators; closing brackets release their operators.
        assert_eq!(nesting_bound(r#"x{a=~"((((+++"} + y"#), 2);
        assert_eq!(nesting_bound("(1+1+1) + (2)"), 4);
    }
}
