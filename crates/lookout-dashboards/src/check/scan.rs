//! A small lexical scan of query text that skips string literals (`"…"`, `'…'`, `` `…` ``) and `#` comments:
//! enough to find metric names and fixed range durations without a full parser.

/// Calls `visit(index, char)` for every character outside string literals and comments; a literal or comment is
/// seen as one space (at its opening character), so it separates the tokens around it.
fn outside_strings(text: &str, mut visit: impl FnMut(usize, char)) {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut comment = false;
    for (i, c) in text.char_indices() {
        if comment {
            comment = c != '\n';
            continue;
        }
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' && q != '`' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => {
                quote = Some(c);
                visit(i, ' ');
            }
            '#' => {
                comment = true;
                visit(i, ' ');
            }
            _ => visit(i, c),
        }
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// Identifiers outside string literals that start with one of `prefixes`, in order of appearance, deduplicated.
/// Applied to an expanded PromQL expression these are the metric names it selects (label names and function
/// names in the shipped dashboards never carry such a prefix).
pub fn metric_names(expr: &str, prefixes: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut in_number = false;
    let flush = |current: &mut String, out: &mut Vec<String>| {
        if prefixes.iter().any(|p| current.starts_with(p)) && !out.contains(current) {
            out.push(current.clone());
        }
        current.clear();
    };
    outside_strings(expr, |_, c| {
        if in_number {
            in_number = is_ident(c) || c == '.';
            return;
        }
        if current.is_empty() {
            if c.is_ascii_digit() {
                in_number = true;
            } else if is_ident_start(c) {
                current.push(c);
            }
        } else if is_ident(c) {
            current.push(c);
        } else {
            flush(&mut current, &mut out);
        }
    });
    flush(&mut current, &mut out);
    out
}

/// Range selectors written with a fixed duration (`[5m]`) outside string literals: the shipped dashboards use
/// `$__rate_interval`, `$__interval`, `$__range` or a variable instead, so the window follows the dashboard's
/// time range and the data source's scrape interval. Returns the offending snippets.
pub fn fixed_ranges(raw: &str) -> Vec<String> {
    let mut found = Vec::new();
    outside_strings(raw, |i, c| {
        if c == '[' && raw[i + 1..].starts_with(|d: char| d.is_ascii_digit()) {
            let end = raw[i..].find(']').map_or(raw.len(), |e| i + e + 1);
            found.push(raw[i..end].to_string());
        }
    });
    found
}
