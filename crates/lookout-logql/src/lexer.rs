//! LogQL tokens: Go-style strings (escapes or back-quoted raw), numbers, durations (`5m`, `1h30m`, `250ms`), byte
//! sizes (`20MB`, `1KiB`), identifiers and operators; `#` starts a comment to the end of the line.

use crate::ParseError;

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// An identifier or keyword.
    Ident(String),
    /// A string literal, unescaped.
    Str(String),
    /// A number.
    Number(f64),
    /// A duration, ns.
    Duration(i64),
    /// A byte size.
    Bytes(f64),
    /// `[5m]`: a range, ns.
    Range(i64),
    /// Punctuation and operators, as written.
    Op(&'static str),
}

/// A token and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// The kind.
    pub tok: Tok,
    /// Byte offset.
    pub pos: usize,
    /// The text as written.
    pub text: String,
}

const OPS: [&str; 27] = [
    "|=", "|~", "|>", "!=", "!~", "!>", "=~", "==", ">=", "<=", "{", "}", "(", ")", ",", "=", "|",
    ">", "<", "+", "-", "*", "/", "%", "^", "[", "]",
];

fn err<T>(pos: usize, msg: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError::at(pos, msg))
}

/// Parses a Go/Prometheus duration (`1h30m`, `250ms`, `1.5s`, `2d`, `1w`, `1y`) into ns.
pub fn parse_duration(s: &str) -> Option<i64> {
    let mut rest = s;
    let mut total = 0f64;
    let neg = rest.starts_with('-');
    if neg {
        rest = &rest[1..];
    }
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if n == 0 {
            return None;
        }
        let value: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..u] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "d" => 86400e9,
            "w" => 7.0 * 86400e9,
            "y" => 365.0 * 86400e9,
            _ => return None,
        };
        rest = &rest[u..];
        total += value * unit;
    }
    if !total.is_finite() || total > i64::MAX as f64 {
        return None;
    }
    Some(if neg { -(total as i64) } else { total as i64 })
}

/// Parses a humanized byte size (`20MB`, `1.5KiB`, `100B`, `3 kb`) into bytes.
pub fn parse_bytes(s: &str) -> Option<f64> {
    let s = s.trim();
    let n = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(s.len());
    let value: f64 = s[..n].parse().ok()?;
    let unit = s[n..].trim().to_ascii_lowercase();
    let mult = match unit.as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "kib" | "ki" => 1024.0,
        "mb" | "m" => 1e6,
        "mib" | "mi" => 1024.0 * 1024.0,
        "gb" | "g" => 1e9,
        "gib" | "gi" => 1024f64.powi(3),
        "tb" | "t" => 1e12,
        "tib" | "ti" => 1024f64.powi(4),
        "pb" | "p" => 1e15,
        "pib" | "pi" => 1024f64.powi(5),
        "eb" | "e" => 1e18,
        "eib" | "ei" => 1024f64.powi(6),
        _ => return None,
    };
    Some(value * mult)
}

fn is_bytes_unit(u: &str) -> bool {
    matches!(
        u.to_ascii_lowercase().as_str(),
        "b" | "kb"
            | "kib"
            | "mb"
            | "mib"
            | "gb"
            | "gib"
            | "tb"
            | "tib"
            | "pb"
            | "pib"
            | "eb"
            | "eib"
    )
}

fn read_string(s: &str, start: usize) -> Result<(String, usize), ParseError> {
    let rest = &s[start..];
    if let Some(raw) = rest.strip_prefix('`') {
        let Some(end) = raw.find('`') else {
            return err(start, "unterminated raw string");
        };
        return Ok((raw[..end].to_string(), start + end + 2));
    }
    let mut out = String::new();
    let mut chars = rest.char_indices().skip(1).peekable();
    while let Some((k, c)) = chars.next() {
        match c {
            '"' => return Ok((out, start + k + 1)),
            '\\' => match chars.next().map(|(_, c)| c) {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('a') => out.push('\x07'),
                Some('b') => out.push('\x08'),
                Some('f') => out.push('\x0c'),
                Some('v') => out.push('\x0b'),
                Some('\\') => out.push('\\'),
                Some('"') => out.push('"'),
                Some('\'') => out.push('\''),
                Some('x') => {
                    let h: String = (0..2)
                        .filter_map(|_| chars.next().map(|(_, c)| c))
                        .collect();
                    match u8::from_str_radix(&h, 16) {
                        Ok(b) => out.push(b as char),
                        Err(_) => return err(start + k, "invalid \\x escape in string"),
                    }
                }
                Some(c @ ('u' | 'U')) => {
                    let n = if c == 'u' { 4 } else { 8 };
                    let h: String = (0..n)
                        .filter_map(|_| chars.next().map(|(_, c)| c))
                        .collect();
                    match u32::from_str_radix(&h, 16).ok().and_then(char::from_u32) {
                        Some(ch) => out.push(ch),
                        None => return err(start + k, "invalid unicode escape in string"),
                    }
                }
                Some(c) => {
                    return err(
                        start + k,
                        format!(
                            "invalid escape sequence \\{c} in string (write \\\\{c}, or use a `raw` string)"
                        ),
                    );
                }
                None => break,
            },
            '\n' => return err(start + k, "newline in string"),
            c => out.push(c),
        }
    }
    err(start, "unterminated string")
}

/// Splits a query into tokens.
pub fn lex(s: &str) -> Result<Vec<Token>, ParseError> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < s.len() {
        let c = s[i..].chars().next().unwrap_or(' ');
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        if c == '#' {
            i = s[i..].find('\n').map_or(s.len(), |n| i + n);
            continue;
        }
        let start = i;
        if c == '"' || c == '`' {
            let (v, end) = read_string(s, i)?;
            out.push(Token {
                tok: Tok::Str(v),
                pos: start,
                text: s[start..end].to_string(),
            });
            i = end;
            continue;
        }
        if c == '[' {
            let Some(close) = s[i..].find(']') else {
                return err(i, "unclosed range: expected ]");
            };
            let inner = s[i + 1..i + close].trim();
            let Some(ns) = parse_duration(inner).filter(|d| *d > 0) else {
                return err(i + 1, format!("invalid range duration {inner:?}"));
            };
            i += close + 1;
            out.push(Token {
                tok: Tok::Range(ns),
                pos: start,
                text: s[start..i].to_string(),
            });
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let mut j = i;
            while j < s.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'.') {
                // An exponent sign belongs to the number (`1e-3`).
                j += 1;
                if j < s.len()
                    && (b[j] == b'-' || b[j] == b'+')
                    && (b[j - 1] == b'e' || b[j - 1] == b'E')
                    && s[i..j - 1].bytes().all(|c| c.is_ascii_digit() || c == b'.')
                {
                    j += 1;
                }
            }
            let text = &s[i..j];
            let tok = if let Ok(n) = text.parse::<f64>() {
                Tok::Number(n)
            } else if let Some(d) = parse_duration(text) {
                Tok::Duration(d)
            } else if let Some(v) = text
                .find(|c: char| c.is_ascii_alphabetic())
                .filter(|n| is_bytes_unit(&text[*n..]))
                .and_then(|_| parse_bytes(text))
            {
                Tok::Bytes(v)
            } else {
                return err(i, format!("invalid number, duration or byte size {text:?}"));
            };
            out.push(Token {
                tok,
                pos: start,
                text: text.to_string(),
            });
            i = j;
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let mut j = i;
            while j < s.len() {
                let ch = s[j..].chars().next().unwrap_or(' ');
                if ch.is_alphanumeric() || ch == '_' {
                    j += ch.len_utf8();
                } else {
                    break;
                }
            }
            let text = &s[i..j];
            out.push(Token {
                tok: Tok::Ident(text.to_string()),
                pos: start,
                text: text.to_string(),
            });
            i = j;
            continue;
        }
        if s[i..].starts_with("--") {
            // logfmt flags: `--strict`, `--keep-empty`.
            let j = s[i..]
                .find(|c: char| c.is_whitespace() || c == '|' || c == ',' || c == ')')
                .map_or(s.len(), |n| i + n);
            out.push(Token {
                tok: Tok::Ident(s[i..j].to_string()),
                pos: start,
                text: s[i..j].to_string(),
            });
            i = j;
            continue;
        }
        let Some(op) = OPS.iter().find(|op| s[i..].starts_with(**op)) else {
            return err(i, format!("unexpected character {c:?}"));
        };
        i += op.len();
        out.push(Token {
            tok: Tok::Op(op),
            pos: start,
            text: op.to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let t = lex(r#"{a="b\"c"} |= `x\d` | d > 1.5s | s >= 20MB [5m] # c"#).unwrap();
        let kinds: Vec<&Tok> = t.iter().map(|t| &t.tok).collect();
        assert_eq!(kinds[3], &Tok::Str("b\"c".into()));
        assert_eq!(kinds[6], &Tok::Str(r"x\d".into()));
        assert!(kinds.contains(&&Tok::Duration(1_500_000_000)));
        assert!(kinds.contains(&&Tok::Bytes(20e6)));
        assert_eq!(kinds.last().unwrap(), &&Tok::Range(300_000_000_000));
        assert_eq!(parse_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(parse_bytes("1KiB"), Some(1024.0));
        assert!(lex(r#""\d""#).is_err());
    }
}
