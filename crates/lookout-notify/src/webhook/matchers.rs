//! Alertmanager's matcher syntax for routes: `name="value"`, `name!=value`, `name=~"regex"`, `name!~regex`,
//! optionally several in one `{a="b", c=~"d"}` string, with Alertmanager's unquoting rules (the classic parser,
//! which the current one falls back to). Matchers are `lookout_model::Matcher`s, so regexes are fully anchored.

use lookout_model::{MatchOp, Matcher};

/// Splits `{a="1",b="2"}` (braces optional) at commas outside double quotes.
fn split_list(s: &str) -> Vec<String> {
    let s = s.trim();
    let s = s.strip_prefix('{').unwrap_or(s);
    let s = s.strip_suffix('}').unwrap_or(s);
    let mut tokens = Vec::new();
    let mut token = String::new();
    let (mut in_quotes, mut escaped) = (false, false);
    for c in s.chars() {
        match c {
            ',' if !in_quotes => {
                tokens.push(std::mem::take(&mut token));
                continue;
            }
            '"' if !escaped => in_quotes = !in_quotes,
            '"' => escaped = false,
            '\\' => escaped = !escaped,
            _ => escaped = false,
        }
        token.push(c);
    }
    if !token.trim().is_empty() {
        tokens.push(token);
    }
    tokens
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// Parses one matcher such as `severity="critical"`.
pub fn parse_matcher(text: &str) -> Result<Matcher, String> {
    let s = text.trim();
    let name_len = s
        .char_indices()
        .find(|&(i, c)| {
            if i == 0 {
                !is_name_start(c)
            } else {
                !is_name_char(c)
            }
        })
        .map_or(s.len(), |(i, _)| i);
    if name_len == 0 {
        return Err(format!("bad matcher format: {text}"));
    }
    let name = &s[..name_len];
    let rest = s[name_len..].trim_start();
    let (op, raw) = if let Some(r) = rest.strip_prefix("=~") {
        (MatchOp::Regex, r)
    } else if let Some(r) = rest.strip_prefix("!=") {
        (MatchOp::NotEqual, r)
    } else if let Some(r) = rest.strip_prefix("!~") {
        (MatchOp::NotRegex, r)
    } else if let Some(r) = rest.strip_prefix('=') {
        (MatchOp::Equal, r)
    } else {
        return Err(format!("bad matcher format: {text}"));
    };
    let value = unquote(raw.trim())?;
    Matcher::new(op, name, value).map_err(|e| e.to_string())
}

/// Alertmanager's value rules: an optional pair of surrounding double quotes; inside, `\n`, `\"` and `\\` are
/// escapes, any other backslash stays as written, and an unescaped quote is an error.
fn unquote(raw: &str) -> Result<String, String> {
    let (body, quoted) = match raw.strip_prefix('"') {
        Some(rest) => (rest, true),
        None => (raw, false),
    };
    let mut out = String::with_capacity(body.len());
    let mut expect_trailing_quote = quoted;
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let last = chars.peek().is_none();
        match c {
            '\\' if !last => {
                let (_, next) = chars.next().expect("not last");
                match next {
                    'n' => out.push('\n'),
                    '"' | '\\' => out.push(next),
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                }
            }
            '"' if expect_trailing_quote && i + 1 == body.len() => expect_trailing_quote = false,
            '"' => {
                return Err(format!(
                    "matcher value contains unescaped double quote: {raw}"
                ));
            }
            c => out.push(c),
        }
    }
    if expect_trailing_quote {
        return Err(format!(
            "matcher value contains unescaped double quote: {raw}"
        ));
    }
    Ok(out)
}

/// Parses one `matchers:` entry, which may hold a single matcher or a braced, comma-separated list.
pub fn parse_matchers(text: &str) -> Result<Vec<Matcher>, String> {
    let tokens = split_list(text);
    if tokens.is_empty() {
        return Err(format!("bad matcher format: {text:?} holds no matcher"));
    }
    tokens.iter().map(|t| parse_matcher(t)).collect()
}

/// Alertmanager's text form of a matcher, used in route keys: `name="value"` with `\`, newline and `"` escaped.
pub(crate) fn matcher_string(m: &Matcher) -> String {
    let mut value = String::with_capacity(m.value.len());
    for c in m.value.chars() {
        match c {
            '\\' => value.push_str("\\\\"),
            '\n' => value.push_str("\\n"),
            '"' => value.push_str("\\\""),
            c => value.push(c),
        }
    }
    format!("{}{}\"{value}\"", m.name, m.op)
}

/// `{a="1",b=~"x"}`: matchers joined as Alertmanager prints a route's matcher list.
pub(crate) fn matchers_string(ms: &[Matcher]) -> String {
    let parts: Vec<String> = ms.iter().map(matcher_string).collect();
    format!("{{{}}}", parts.join(","))
}

/// Alertmanager's matcher order: by name, then value, then operator.
pub(crate) fn sort_matchers(ms: &mut [Matcher]) {
    fn rank(op: MatchOp) -> u8 {
        match op {
            MatchOp::Equal => 0,
            MatchOp::NotEqual => 1,
            MatchOp::Regex => 2,
            MatchOp::NotRegex => 3,
        }
    }
    ms.sort_by(|a, b| {
        (a.name.as_str(), a.value.as_str(), rank(a.op)).cmp(&(
            b.name.as_str(),
            b.value.as_str(),
            rank(b.op),
        ))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_operators_and_quoting() {
        let cases = [
            (
                "severity=\"critical\"",
                "severity",
                MatchOp::Equal,
                "critical",
            ),
            ("env != prod", "env", MatchOp::NotEqual, "prod"),
            ("job=~\"node|api\"", "job", MatchOp::Regex, "node|api"),
            ("a!~b.*", "a", MatchOp::NotRegex, "b.*"),
            (
                r#"msg="say \"hi\"\n""#,
                "msg",
                MatchOp::Equal,
                "say \"hi\"\n",
            ),
            (r#"p="a\.b""#, "p", MatchOp::Equal, r"a\.b"),
            ("empty=\"\"", "empty", MatchOp::Equal, ""),
        ];
        for (text, name, op, value) in cases {
            let m = parse_matcher(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(
                (m.name.as_str(), m.op, m.value.as_str()),
                (name, op, value),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "", "=x", "1a=b", "a", "a==\"b", "a=\"b", "a=b\"c", "a=~\"(\"",
        ] {
            assert!(parse_matcher(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lists_split_outside_quotes() {
        let ms = parse_matchers(r#"{a="1,2", b=~"x|y"}"#).unwrap();
        assert_eq!(ms.len(), 2);
        assert_eq!(ms[0].value, "1,2");
        assert_eq!(matchers_string(&ms), r#"{a="1,2",b=~"x|y"}"#);
    }

    #[test]
    fn regexes_are_anchored() {
        let m = parse_matcher("sev=~crit").unwrap();
        assert!(m.matches("crit"));
        assert!(!m.matches("critical"));
    }
}
