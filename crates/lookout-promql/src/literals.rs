//! Scanning the query text around string literals: skipping them, matching brackets outside them, and
//! finding literals whose escapes spell invalid UTF-8.
//!
//! In Prometheus a literal such as `"a\xc5z"` holds the raw byte 0xC5, which makes it an invalid label
//! name. Our parser decodes `\xC5` to the character U+00C5 instead, so the evaluator cannot tell; this
//! module finds such literals in the query text so label names built from them can be refused.

use std::collections::HashMap;

/// Decoded value (as our parser decodes it) → the literal as written, for literals that are invalid
/// UTF-8 under Go's decoding.
pub(crate) type InvalidUtf8Literals = HashMap<String, String>;

fn hex(b: u8) -> Option<u32> {
    (b as char).to_digit(16)
}

/// Decodes one literal body both ways: Go's bytes and our parser's characters.
fn decode(body: &[u8]) -> Option<(Vec<u8>, String)> {
    let mut go = Vec::new();
    let mut ours = String::new();
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if c != b'\\' {
            // Copy one whole UTF-8 character.
            let len = match c {
                0x00..=0x7f => 1,
                0xc0..=0xdf => 2,
                0xe0..=0xef => 3,
                _ => 4,
            };
            let end = (i + len).min(body.len());
            go.extend_from_slice(&body[i..end]);
            ours.push_str(std::str::from_utf8(&body[i..end]).ok()?);
            i = end;
            continue;
        }
        let e = *body.get(i + 1)?;
        i += 2;
        match e {
            b'x' => {
                let v = hex(*body.get(i)?)? * 16 + hex(*body.get(i + 1)?)?;
                i += 2;
                go.push(v as u8);
                ours.push(char::from_u32(v)?);
            }
            b'0'..=b'7' => {
                let v = (e - b'0') as u32 * 64
                    + (*body.get(i)? as char).to_digit(8)? * 8
                    + (*body.get(i + 1)? as char).to_digit(8)?;
                i += 2;
                go.push(v as u8);
                ours.push(char::from_u32(v)?);
            }
            b'u' | b'U' => {
                let n = if e == b'u' { 4 } else { 8 };
                let mut v = 0u32;
                for k in 0..n {
                    v = v * 16 + hex(*body.get(i + k)?)?;
                }
                i += n;
                let ch = char::from_u32(v)?;
                let mut buf = [0u8; 4];
                go.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                ours.push(ch);
            }
            other => {
                let ch = match other {
                    b'n' => '\n',
                    b't' => '\t',
                    b'r' => '\r',
                    b'a' => '\x07',
                    b'b' => '\x08',
                    b'f' => '\x0c',
                    b'v' => '\x0b',
                    c => c as char,
                };
                go.push(ch as u8);
                ours.push(ch);
            }
        }
    }
    Some((go, ours))
}

/// The index just past the string literal whose opening quote is at `open` (the end of `b` when it is
/// unterminated). Backquoted strings have no escapes.
pub(crate) fn skip_quoted(b: &[u8], open: usize) -> usize {
    let q = b[open];
    let mut i = open + 1;
    while i < b.len() && b[i] != q {
        i += if b[i] == b'\\' && q != b'`' { 2 } else { 1 };
    }
    (i + 1).min(b.len())
}

/// Index of the byte closing the bracket, brace or parenthesis opened at `open`, skipping string
/// literals and nested pairs.
pub(crate) fn closing_bracket(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' | b'`' => {
                i = skip_quoted(b, i);
                continue;
            }
            b'(' | b'{' | b'[' => depth += 1,
            b')' | b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Scans `query` for quoted literals that Go would decode to invalid UTF-8.
pub(crate) fn invalid_utf8_literals(query: &str) -> InvalidUtf8Literals {
    let bytes = query.as_bytes();
    let mut out = HashMap::new();
    let mut i = 0;
    while i < bytes.len() {
        let q = bytes[i];
        if q != b'"' && q != b'\'' {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut j = start;
        while j < bytes.len() && bytes[j] != q {
            j += if bytes[j] == b'\\' { 2 } else { 1 };
        }
        let end = j.min(bytes.len());
        if let Some((go, ours)) = decode(&bytes[start..end])
            && std::str::from_utf8(&go).is_err()
        {
            out.insert(ours, format!("\"{}\"", &query[start..end]));
        }
        i = end + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_only_literals_with_invalid_bytes() {
        let found = invalid_utf8_literals(
            r#"count_values("a\xc5z", version) + label_replace(x, "ok\u00e9", "", "", "")"#,
        );
        assert_eq!(found.len(), 1);
        assert_eq!(
            found.get("a\u{c5}z").map(String::as_str),
            Some(r#""a\xc5z""#)
        );
        assert!(invalid_utf8_literals(r#"x{a="\xc3\xa9"}"#).is_empty());
    }
}
