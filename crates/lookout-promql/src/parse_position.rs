//! Where in the query a parse error is. `promql-parser` reports positions only for some lexer errors, so for the
//! rest the position is recovered: the end of input for "unexpected end"/"unclosed" errors, the named function or
//! regex for type and regex errors, otherwise the first token after the longest prefix that still parses.

/// The byte offset of the problem in `query` for the parser's `message`, when one can be found.
pub fn locate(query: &str, message: &str) -> Option<usize> {
    if message.contains("end of input")
        || message.contains("unclosed")
        || message.contains("unterminated")
    {
        return Some(query.trim_end().len());
    }
    if let Some(name) = quoted_function(message)
        && let Some(pos) = find_call(query, name)
    {
        return Some(pos);
    }
    if let Some(pattern) = message.strip_prefix("illegal regex for ") {
        let pattern = pattern.trim();
        let quoted = ['"', '\'', '`']
            .iter()
            .find_map(|q| query.find(&format!("{q}{pattern}{q}")));
        return quoted.or_else(|| query.find(pattern));
    }
    after_longest_valid_prefix(query)
}

/// The function name in messages like `expected type matrix in call to function 'rate', got vector`.
fn quoted_function(message: &str) -> Option<&str> {
    let rest = &message[message.find("function '")? + "function '".len()..];
    Some(&rest[..rest.find('\'')?])
}

fn find_call(query: &str, name: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = query[from..].find(name) {
        let at = from + i;
        let before_ok = at == 0 || !is_ident_byte(query.as_bytes()[at - 1]);
        if before_ok && query[at + name.len()..].trim_start().starts_with('(') {
            return Some(at);
        }
        from = at + name.len();
    }
    None
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}

/// Byte offsets where tokens start: identifiers/numbers/durations, strings, and operator or bracket characters.
fn token_starts(query: &str) -> Vec<usize> {
    let b = query.as_bytes();
    let mut starts = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        starts.push(i);
        if is_ident_byte(c) || c == b'.' {
            while i < b.len() && (is_ident_byte(b[i]) || b[i] == b'.') {
                i += 1;
            }
        } else if c == b'"' || c == b'\'' || c == b'`' {
            i += 1;
            while i < b.len() && b[i] != c {
                i += if b[i] == b'\\' && c != b'`' { 2 } else { 1 };
            }
            i += 1;
        } else {
            i += query[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    starts
}

/// Most prefixes parsed to find an error's position: each parse is linear in the prefix and compiles its matcher
/// regexes again, so trying every prefix of a long query would cost quadratic time.
const MAX_PREFIX_PARSES: usize = 64;

/// Most bytes re-parsed in all while searching: about four parses of a 16 KiB query, whatever the query's size.
const MAX_PREFIX_BYTES: usize = 64 << 10;

/// The start of the first token after the longest token prefix that parses on its own, searched from the end
/// and given up (no position) after [`MAX_PREFIX_PARSES`] attempts.
fn after_longest_valid_prefix(query: &str) -> Option<usize> {
    let starts = token_starts(query);
    let mut spent = 0usize;
    starts
        .iter()
        .skip(1)
        .rev()
        .take(MAX_PREFIX_PARSES)
        .take_while(|&&start| {
            spent += start;
            spent <= MAX_PREFIX_BYTES
        })
        .find(|&&start| crate::engine::parse_contained(&query[..start]).is_ok())
        .copied()
}

#[cfg(test)]
mod tests {
    use super::locate;

    fn at(query: &str) -> Option<usize> {
        let msg = promql_parser::parser::parse(query).expect_err("the query must not parse");
        locate(query, &msg)
    }

    #[test]
    fn positions_point_at_the_problem() {
        assert_eq!(at("sum(rate(x[5m])"), Some(15));
        assert_eq!(at("rate(x[5m"), Some(9));
        assert_eq!(at("foo bar"), Some(4));
        assert_eq!(at("sum(x) by (a) foo"), Some(14));
        assert_eq!(at("1 + rate(x)"), Some(4));
        assert_eq!(at("up{job=~\"(\"}"), Some(8));
        assert_eq!(at("sum(up{job=~\"(\"})"), Some(12));
    }
}
