//! LogQL's regex functions. Loki compiles the pattern on every call; a small per-thread cache keeps
//! a `line_format` run over many lines from recompiling the same pattern for each. Patterns come from clients,
//! so they are bounded in length and compiled size (the limits of `lookout_model::regex_limits`, repeated here
//! because this crate depends on no other), and a refused pattern is cached too: a regex bomb in a template must
//! cost one refusal, not one per log line.

use std::cell::RefCell;
use std::collections::HashMap;

use regex::{Regex, RegexBuilder};

use super::{Table, check_size, str_arg, want};
use crate::value::Value;

/// Regex functions.
pub(crate) const FUNCS: Table = &[
    ("count", count),
    ("regexReplaceAll", replace_all),
    ("regexReplaceAllLiteral", replace_all_literal),
];

/// Patterns kept per thread; the cache is simply cleared when full.
const CACHE_SIZE: usize = 32;

/// Longest pattern accepted.
const MAX_PATTERN_BYTES: usize = 64 << 10;
/// Largest compiled program.
const COMPILED_SIZE_LIMIT: usize = 8 << 20;
/// Largest lazy-DFA cache.
const DFA_SIZE_LIMIT: usize = 2 << 20;

thread_local! {
    static CACHE: RefCell<HashMap<String, Result<Regex, String>>> = RefCell::new(HashMap::new());
}

/// Compiles `pattern` within the limits, from the per-thread cache when it was seen recently (refusals
/// included).
pub(crate) fn compile(pattern: &str) -> Result<Regex, String> {
    if let Some(r) = CACHE.with(|c| c.borrow().get(pattern).cloned()) {
        return r;
    }
    let r = if pattern.len() > MAX_PATTERN_BYTES {
        Err(format!(
            "error parsing regexp: pattern of {} bytes is longer than the limit of {MAX_PATTERN_BYTES} bytes",
            pattern.len()
        ))
    } else {
        RegexBuilder::new(pattern)
            .size_limit(COMPILED_SIZE_LIMIT)
            .dfa_size_limit(DFA_SIZE_LIMIT)
            .build()
            .map_err(|e| format!("error parsing regexp: {e}"))
    };
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_SIZE {
            c.clear();
        }
        c.insert(pattern.to_owned(), r.clone());
    });
    r
}

/// `count regex s`: the number of non-overlapping matches.
fn count(args: &[Value]) -> Result<Value, String> {
    want(args, 2)?;
    let re = compile(&str_arg(&args[0])?)?;
    Ok(Value::Int(re.find_iter(&str_arg(&args[1])?).count() as i64))
}

/// `regexReplaceAll regex s repl`, expanding `$1`/`${name}` in `repl` when `expand`, and
/// refusing results past the output limit as they grow.
fn replace(args: &[Value], expand: bool) -> Result<Value, String> {
    want(args, 3)?;
    let re = compile(&str_arg(&args[0])?)?;
    let src = str_arg(&args[1])?;
    let repl = str_arg(&args[2])?;
    let mut out = String::with_capacity(src.len());
    let mut last = 0;
    for caps in re.captures_iter(&src) {
        let Some(m) = caps.get(0) else { continue };
        out.push_str(&src[last..m.start()]);
        if expand {
            caps.expand(&repl, &mut out);
        } else {
            out.push_str(&repl);
        }
        last = m.end();
        check_size(out.len() as u128 + (src.len() - last) as u128)?;
    }
    out.push_str(&src[last..]);
    Ok(Value::Str(out))
}

fn replace_all(args: &[Value]) -> Result<Value, String> {
    replace(args, true)
}

fn replace_all_literal(args: &[Value]) -> Result<Value, String> {
    replace(args, false)
}

#[cfg(test)]
mod bounds_tests {
    use super::*;

    #[test]
    fn regex_bombs_and_huge_patterns_are_refused_once_and_remembered() {
        let bomb = "((a{100}){100}){100}";
        let e = compile(bomb).unwrap_err();
        assert!(e.contains("error parsing regexp"), "{e}");
        let cached = CACHE.with(|c| c.borrow().get(bomb).cloned());
        assert!(
            matches!(cached, Some(Err(m)) if m == e),
            "the refusal is cached"
        );
        let long = "a".repeat(MAX_PATTERN_BYTES + 1);
        assert!(
            compile(&long)
                .unwrap_err()
                .contains("longer than the limit")
        );
        assert!(compile("(?P<x>[a-z]+)-\\d").is_ok());
    }
}
