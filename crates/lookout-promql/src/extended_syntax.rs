//! The experimental `anchored` and `smoothed` selector modifiers (`rate(x[5m] anchored)`, `x smoothed`).
//!
//! `promql-parser` does not know them, so a query it refuses is rewritten: the keyword is removed and the
//! selector gets a marker matcher (`__lookout_anchored__=""`, which every series satisfies because the
//! label is absent). The evaluator reads the marker back with [`selector_modifier`] and drops it before
//! selecting.

use lookout_model::Matcher;

/// Marker label for `anchored`.
pub(crate) const ANCHORED: &str = "__lookout_anchored__";
/// Marker label for `smoothed`.
pub(crate) const SMOOTHED: &str = "__lookout_smoothed__";

/// Marker label making `info(v, {data=~".*"})`'s label selector acceptable to the parser, which wants
/// at least one matcher that cannot match the empty string.
pub(crate) const INFO_SELECTOR: &str = "__lookout_info_selector__";

/// A selector modifier (the kernels' type).
pub(crate) use crate::functions::range::RangeModifier as Modifier;

/// The modifier a selector's matchers carry, if any.
pub(crate) fn selector_modifier(matchers: &[promql_parser::label::Matcher]) -> Option<Modifier> {
    matchers.iter().find_map(|m| match m.name.as_str() {
        ANCHORED => Some(Modifier::Anchored),
        SMOOTHED => Some(Modifier::Smoothed),
        _ => None,
    })
}

/// True for the marker matchers, which must not reach storage.
pub(crate) fn is_marker(m: &Matcher) -> bool {
    m.name == ANCHORED || m.name == SMOOTHED || m.name == INFO_SELECTOR
}

/// Adds a marker matcher to the label selector of `info(v, {...})`; `None` when there is none.
pub(crate) fn rewrite_info(query: &str) -> Option<String> {
    let b = query.as_bytes();
    let mut inserts: Vec<usize> = Vec::new();
    let mut from = 0;
    while let Some(pos) = query[from..].find("info(").map(|p| p + from) {
        from = pos + 5;
        if pos > 0 && is_word(b[pos - 1]) {
            continue;
        }
        let open = pos + 4;
        let Some(close) = crate::literals::closing_bracket(b, open) else {
            continue;
        };
        // The second argument starts after the first top-level comma.
        let mut depth = 0i32;
        let mut i = open + 1;
        let mut comma = None;
        while i < close {
            match b[i] {
                b'"' | b'\'' | b'`' => {
                    i = crate::literals::skip_quoted(b, i);
                    continue;
                }
                b'(' | b'{' | b'[' => depth += 1,
                b')' | b'}' | b']' => depth -= 1,
                b',' if depth == 0 => {
                    comma = Some(i);
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        let Some(comma) = comma else { continue };
        let mut j = comma + 1;
        while j < close && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if j < close && b[j] == b'{' {
            inserts.push(j + 1);
        }
    }
    if inserts.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(query.len() + 40 * inserts.len());
    let mut pos = 0;
    for at in inserts {
        out.push_str(&query[pos..at]);
        let rest = query[at..].trim_start();
        let sep = if rest.starts_with('}') { "" } else { "," };
        out.push_str(&format!("{INFO_SELECTOR}=~\".+\"{sep}"));
        pos = at;
    }
    out.push_str(&query[pos..]);
    Some(out)
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}

/// Moves back from `end` over spaces and any `@ <time>` / `offset <duration>` modifiers.
fn skip_at_and_offset(b: &[u8], end: usize) -> usize {
    let trim = |mut i: usize| {
        while i > 0 && b[i - 1].is_ascii_whitespace() {
            i -= 1;
        }
        i
    };
    let mut i = trim(end);
    loop {
        // The operand: a number, duration or start()/end(), possibly signed.
        let mut j = i;
        if j >= 2 && &b[j - 2..j] == b"()" {
            j -= 2;
        }
        while j > 0 && (b[j - 1].is_ascii_alphanumeric() || b[j - 1] == b'.') {
            j -= 1;
        }
        if j == i {
            return i;
        }
        let mut k = trim(j);
        if k > 0 && (b[k - 1] == b'-' || b[k - 1] == b'+') {
            k = trim(k - 1);
        }
        if k > 0 && b[k - 1] == b'@' {
            i = trim(k - 1);
        } else if k >= 6
            && b[k - 6..k].eq_ignore_ascii_case(b"offset")
            && (k == 6 || !is_word(b[k - 7]))
        {
            i = trim(k - 6);
        } else {
            return i;
        }
    }
}

/// Index just after the selector that ends before `end` (skipping a `[...]` range and spaces), and
/// whether it ends with a `{...}` block, plus whether that block is empty.
fn selector_insert_point(b: &[u8], end: usize) -> Option<(usize, bool, bool)> {
    let mut i = skip_at_and_offset(b, end);
    if i > 0 && b[i - 1] == b']' {
        let mut j = i - 1;
        while j > 0 && b[j] != b'[' {
            j -= 1;
        }
        if b[j] != b'[' {
            return None;
        }
        i = j;
        while i > 0 && b[i - 1].is_ascii_whitespace() {
            i -= 1;
        }
    }
    if i > 0 && b[i - 1] == b'}' {
        let close = i - 1;
        let mut j = close;
        while j > 0 && b[j] != b'{' {
            j -= 1;
        }
        let empty = b[j + 1..close].iter().all(|c| c.is_ascii_whitespace());
        return Some((close, true, empty));
    }
    if i > 0 && is_word(b[i - 1]) {
        return Some((i, false, false));
    }
    None
}

/// Rewrites `anchored`/`smoothed` keywords into marker matchers; `None` when there are none.
pub(crate) fn rewrite(query: &str) -> Option<String> {
    let b = query.as_bytes();
    // (insert position, text to insert, keyword start, keyword end)
    let mut edits: Vec<(usize, String, usize, usize)> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' | b'`' => i = crate::literals::skip_quoted(b, i),
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && is_word(b[i]) {
                    i += 1;
                }
                let word = &query[start..i];
                let marker = if word.eq_ignore_ascii_case("anchored") {
                    ANCHORED
                } else if word.eq_ignore_ascii_case("smoothed") {
                    SMOOTHED
                } else {
                    continue;
                };
                let (at, braces, empty) = selector_insert_point(b, start)?;
                let text = match (braces, empty) {
                    (true, true) => format!("{marker}=\"\""),
                    (true, false) => format!(",{marker}=\"\""),
                    (false, _) => format!("{{{marker}=\"\"}}"),
                };
                edits.push((at, text, start, i));
            }
            _ => i += 1,
        }
    }
    if edits.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(query.len() + 32 * edits.len());
    let mut pos = 0;
    for (at, text, kw_start, kw_end) in edits {
        if at < pos || at > kw_start {
            return None;
        }
        out.push_str(&query[pos..at]);
        out.push_str(&text);
        out.push_str(&query[at..kw_start]);
        pos = kw_end;
    }
    out.push_str(&query[pos..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_become_marker_matchers() {
        assert_eq!(
            rewrite("increase(metric[1m] anchored)").as_deref(),
            Some(r#"increase(metric{__lookout_anchored__=""}[1m] )"#)
        );
        assert_eq!(
            rewrite(r#"rate(m{a="b"}[5m] smoothed offset 1m)"#).as_deref(),
            Some(r#"rate(m{a="b",__lookout_smoothed__=""}[5m]  offset 1m)"#)
        );
        assert_eq!(
            rewrite("metric smoothed").as_deref(),
            Some(r#"metric{__lookout_smoothed__=""} "#)
        );
        assert_eq!(rewrite(r#"x{a="anchored"}"#), None);
        // Nonsense stays nonsense (and does not panic).
        for q in [
            "anchored",
            "(x) smoothed",
            "x smoothed smoothed",
            "x{a=\"b\"} anchored[5m]",
            "] anchored",
        ] {
            let _ = rewrite(q);
        }
        assert_eq!(
            rewrite_info(r#"info(metric, {data=~".*"})"#).as_deref(),
            Some(r#"info(metric, {__lookout_info_selector__=~".+",data=~".*"})"#)
        );
        assert_eq!(rewrite_info("sum(info(rate(x[5m])))"), None);
        assert_eq!(
            rewrite("metric @ 100 smoothed + 0").as_deref(),
            Some(r#"metric{__lookout_smoothed__=""} @ 100  + 0"#)
        );
        assert_eq!(
            rewrite("metric offset -100 smoothed").as_deref(),
            Some(r#"metric{__lookout_smoothed__=""} offset -100 "#)
        );
        let e = promql_parser::parser::parse(&rewrite("increase(metric[1m] anchored)").unwrap())
            .unwrap();
        let promql_parser::parser::Expr::Call(c) = e else {
            panic!("call expected")
        };
        let promql_parser::parser::Expr::MatrixSelector(ms) = c.args.args[0].as_ref() else {
            panic!()
        };
        assert_eq!(
            selector_modifier(&ms.vs.matchers.matchers),
            Some(Modifier::Anchored)
        );
    }
}
