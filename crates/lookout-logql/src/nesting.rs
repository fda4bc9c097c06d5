//! A bound on how deep a query's syntax tree can be, computed from its tokens before parsing: the parser, the
//! bridge to PromQL and evaluation recurse once per level, so 5,000 nested `sum(` (a few kilobytes) would
//! overflow a thread's stack and abort the process. Every bracket opens a level; every binary operator adds at
//! most one level within the bracket level it is written at (chains are left-deep); label matchers inside `{…}`
//! count nothing. The limit is half PromQL's (`lookout_promql::nesting::MAX_QUERY_NESTING`): the recursive
//! descent parser takes several frames per level.

use crate::ParseError;
use crate::lexer::{Tok, Token};

/// Deepest syntax tree a query may have.
pub const MAX_QUERY_NESTING: usize = lookout_promql::nesting::MAX_QUERY_NESTING / 2;

/// Refuses tokens whose tree could be deeper than [`MAX_QUERY_NESTING`], at the token where it gets too deep.
pub(crate) fn check(tokens: &[Token]) -> Result<(), ParseError> {
    let mut levels: Vec<(bool, usize)> = vec![(false, 0)]; // (inside braces, operators at this level)
    let mut depth = 1usize;
    for t in tokens {
        match &t.tok {
            Tok::Op("(") | Tok::Op("[") => {
                levels.push((false, 0));
                depth += 1;
            }
            Tok::Op("{") => {
                levels.push((true, 0));
                depth += 1;
            }
            Tok::Op(")") | Tok::Op("]") | Tok::Op("}") => {
                if levels.len() > 1
                    && let Some((_, ops)) = levels.pop()
                {
                    depth -= 1 + ops;
                }
            }
            Tok::Op(op) if BINARY.contains(op) => add_operator(&mut levels, &mut depth),
            Tok::Ident(w) if ["and", "or", "unless"].contains(&w.to_ascii_lowercase().as_str()) => {
                add_operator(&mut levels, &mut depth)
            }
            _ => {}
        }
        if depth > MAX_QUERY_NESTING {
            return Err(ParseError::at(
                t.pos,
                format!(
                    "query nests too deeply: brackets and operators reach more than {MAX_QUERY_NESTING} levels"
                ),
            ));
        }
    }
    Ok(())
}

/// Operators that build a tree level (the pipeline's `|`, `|=` and friends make a list, not a tree).
const BINARY: [&str; 12] = [
    "+", "-", "*", "/", "%", "^", "==", "!=", ">", "<", ">=", "<=",
];

fn add_operator(levels: &mut [(bool, usize)], depth: &mut usize) {
    if let Some((braces, ops)) = levels.last_mut()
        && !*braces
    {
        *ops += 1;
        *depth += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_queries_are_refused_and_real_ones_pass() {
        let deep = format!(
            "{}count_over_time({{job=\"a\"}}[1m]){}",
            "sum(".repeat(5000),
            ")".repeat(5000)
        );
        let e = crate::parse(&deep).unwrap_err();
        assert!(e.msg.contains("nests too deeply"), "{e}");
        let chain = format!("1{}", " + 1".repeat(1000));
        assert!(
            crate::parse(&chain)
                .unwrap_err()
                .msg
                .contains("nests too deeply")
        );
        for q in [
            r#"sum by (level) (count_over_time({app="x"} |= "err" | json | level=~"e.*" and status >= 500 [5m]))"#,
            r#"{job="a", env!="b"} |~ "((a))" | logfmt | line_format "{{.msg}}""#,
            r#"topk(5, sum by (pod) (rate({ns="x"}[1m])) / ignoring(pod) group_left sum(rate({ns="x"}[1m])))"#,
        ] {
            crate::parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        }
    }

    /// The deepest accepted query parses and evaluates on a 2 MiB stack (a tokio thread's default).
    #[test]
    fn the_limit_fits_a_default_thread_stack() {
        let n = MAX_QUERY_NESTING - 8;
        let q = format!(
            "{}count_over_time({{job=\"a\"}}[1m]){}",
            "sum(".repeat(n),
            ")".repeat(n)
        );
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let parsed = crate::parse(&q);
                assert!(parsed.is_ok(), "{:?}", parsed.err());
            })
            .unwrap()
            .join()
            .expect("parsing within the stack");
    }
}
