//! Checks the regexes of a query's label matchers (`=~`, `!~`) before `promql-parser` sees the query.
//!
//! The parser compiles every matcher regex itself, with the regex crate's default 10 MiB size limit and, when that
//! fails, a second time after escaping braces; its error then only says "illegal regex for <the whole pattern>".
//! A pattern such as `(a{1000}){1000}` or a megabyte of text would cost that work once per parse attempt (the
//! engine retries with rewritten syntax) and echo the pattern back. Compiling each matcher pattern here first,
//! within `lookout_model::regex_limits` (a smaller budget than the parser's), refuses such patterns quickly with
//! an error that names the label and the limit; every pattern that passes here also compiles in the parser.

use lookout_model::regex_limits::bounded_anchored_regex;
use promql_parser::util::unquote_string;

use crate::QueryError;

/// A regex matcher found in the query text: the label (as far as it can be read) and the quoted pattern.
struct RegexMatcher<'q> {
    label: &'q str,
    quoted: &'q str,
    at: usize,
}

/// Refuses the query when one of its `=~`/`!~` patterns is too long or compiles too large.
pub(crate) fn check_matcher_regexes(query: &str) -> Result<(), QueryError> {
    for m in regex_matchers(query) {
        // A pattern the parser will refuse as a string is left to the parser's own error. promql-parser's
        // unquoting panics on a backslash before a multi-byte character, so such patterns are left to it too.
        let escapes_non_ascii = m
            .quoted
            .as_bytes()
            .windows(2)
            .any(|w| w[0] == b'\\' && w[1] >= 0x80);
        if escapes_non_ascii {
            continue;
        }
        let Ok(pattern) = unquote_string(m.quoted) else {
            continue;
        };
        if let Err(e) = bounded_anchored_regex(&pattern)
            && e.is_limit()
        {
            return Err(QueryError::Parse {
                message: e.describe(&format!("for label {:?}", m.label)),
                position: m.at,
            });
        }
    }
    Ok(())
}

/// The string literals that follow `=~` or `!~`, skipping comments and the contents of other strings.
fn regex_matchers(query: &str) -> Vec<RegexMatcher<'_>> {
    let bytes = query.as_bytes();
    let mut found = Vec::new();
    // Where the last `=~`/`!~` operator ended and the identifier before it, while only blanks follow.
    let mut pending: Option<&str> = None;
    let mut ident_start: Option<usize> = None;
    let mut last_ident = "";
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' | b'`' => {
                let end = string_end(bytes, i);
                let literal = &query[i..end];
                if let Some(label) = pending.take() {
                    found.push(RegexMatcher {
                        label,
                        quoted: literal,
                        at: i,
                    });
                }
                // A quoted label name (`{"my.label"=~"…"}`) names the matcher too.
                last_ident = literal
                    .get(1..literal.len().saturating_sub(1))
                    .unwrap_or("");
                ident_start = None;
                i = end;
                continue;
            }
            b'=' | b'!' if bytes.get(i + 1) == Some(&b'~') => {
                if let Some(s) = ident_start.take() {
                    last_ident = &query[s..i];
                }
                pending = Some(last_ident);
                i += 2;
                continue;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b':' || c >= 0x80 => {
                ident_start.get_or_insert(i);
            }
            b' ' | b'\t' | b'\n' | b'\r' => {
                if let Some(s) = ident_start.take() {
                    last_ident = &query[s..i];
                }
            }
            _ => {
                ident_start = None;
                pending = None;
            }
        }
        i += 1;
    }
    found
}

/// The index just past the string literal opening at `start` (the end of the text when it is not closed).
fn string_end(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote != b'`' => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests;
