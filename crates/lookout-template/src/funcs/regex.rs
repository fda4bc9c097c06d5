//! LogQL's regex functions. Loki compiles the pattern on every call; a small per-thread cache keeps
//! a `line_format` run over many lines from recompiling the same pattern for each.

use std::cell::RefCell;
use std::collections::HashMap;

use regex::Regex;

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

thread_local! {
    static CACHE: RefCell<HashMap<String, Regex>> = RefCell::new(HashMap::new());
}

/// Compiles `pattern`, from the per-thread cache when it was seen recently.
pub(crate) fn compile(pattern: &str) -> Result<Regex, String> {
    if let Some(re) = CACHE.with(|c| c.borrow().get(pattern).cloned()) {
        return Ok(re);
    }
    // The regex crate bounds compiled size itself (10 MiB by default).
    let re = Regex::new(pattern).map_err(|e| format!("error parsing regexp: {e}"))?;
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_SIZE {
            c.clear();
        }
        c.insert(pattern.to_owned(), re.clone());
    });
    Ok(re)
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
