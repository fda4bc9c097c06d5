//! The LogQL log-query subset the store answers directly: a stream selector and a chain of line filters
//! (`{app="api", env=~"prod|dev"} |= "error" != "debug" |~ "time(out)?" !~ "^GET"`). Strings are Go-style
//! double-quoted (with escapes) or back-quoted raw strings, as in Loki.

use lookout_model::{MatchOp, Matcher};

use crate::entry::LineFilter;

/// A parsed log query: matchers and line filters.
#[derive(Debug, Clone)]
pub struct LogSelector {
    /// Stream matchers.
    pub matchers: Vec<Matcher>,
    /// Line filters in order.
    pub filters: Vec<LineFilter>,
}

/// A parse error with its byte position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parse error at position {pos}: {msg}")]
pub struct ParseError {
    /// Byte offset into the query.
    pub pos: usize,
    /// What was wrong.
    pub msg: String,
}

struct P<'a> {
    s: &'a str,
    i: usize,
}

impl P<'_> {
    fn err<T>(&self, msg: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            pos: self.i,
            msg: msg.into(),
        })
    }
    fn ws(&mut self) {
        while self.s[self.i..].starts_with(char::is_whitespace) {
            self.i += self.s[self.i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    fn eat(&mut self, t: &str) -> bool {
        self.ws();
        if self.s[self.i..].starts_with(t) {
            self.i += t.len();
            true
        } else {
            false
        }
    }
    fn ident(&mut self) -> Result<String, ParseError> {
        self.ws();
        let rest = &self.s[self.i..];
        let n = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if n == 0 || rest.starts_with(|c: char| c.is_ascii_digit()) {
            return self.err("expected a label name");
        }
        self.i += n;
        Ok(rest[..n].to_string())
    }
    fn string(&mut self) -> Result<String, ParseError> {
        self.ws();
        let rest = &self.s[self.i..];
        if let Some(raw) = rest.strip_prefix('`') {
            let Some(end) = raw.find('`') else {
                return self.err("unterminated raw string");
            };
            self.i += end + 2;
            return Ok(raw[..end].to_string());
        }
        if !rest.starts_with('"') {
            return self.err("expected a quoted string");
        }
        let mut out = String::new();
        let mut chars = rest.char_indices().skip(1);
        while let Some((k, c)) = chars.next() {
            match c {
                '"' => {
                    self.i += k + 1;
                    return Ok(out);
                }
                '\\' => match chars.next().map(|(_, c)| c) {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some('\\') => out.push('\\'),
                    Some('"') => out.push('"'),
                    Some(c) => {
                        // Unknown escapes keep the backslash (so regex escapes such as `\d` survive).
                        out.push('\\');
                        out.push(c);
                    }
                    None => break,
                },
                c => out.push(c),
            }
        }
        self.err("unterminated string")
    }
}

/// Parses a log query made of a selector and line filters.
pub fn parse_log_selector(q: &str) -> Result<LogSelector, ParseError> {
    let mut p = P { s: q, i: 0 };
    if !p.eat("{") {
        return p.err("a log query starts with a stream selector such as {app=\"api\"}");
    }
    let mut matchers = Vec::new();
    if !p.eat("}") {
        loop {
            let name = p.ident()?;
            let op = if p.eat("=~") {
                MatchOp::Regex
            } else if p.eat("!~") {
                MatchOp::NotRegex
            } else if p.eat("!=") {
                MatchOp::NotEqual
            } else if p.eat("=") {
                MatchOp::Equal
            } else {
                return p.err("expected one of =, !=, =~, !~");
            };
            let at = p.i;
            let value = p.string()?;
            let m = Matcher::new(op, name, value).map_err(|e| ParseError {
                pos: at,
                msg: e.to_string(),
            })?;
            matchers.push(m);
            if p.eat("}") {
                break;
            }
            if !p.eat(",") {
                return p.err("expected , or }");
            }
        }
    }
    if !matchers.iter().any(|m| !m.matches("")) {
        return Err(ParseError {
            pos: 0,
            msg: "queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will".into(),
        });
    }
    let mut filters = Vec::new();
    loop {
        p.ws();
        if p.i == q.len() {
            break;
        }
        let kind = if p.eat("|=") {
            0
        } else if p.eat("!=") {
            1
        } else if p.eat("|~") {
            2
        } else if p.eat("!~") {
            3
        } else {
            return p.err("expected a line filter (|=, !=, |~, !~); other pipeline stages are not supported yet");
        };
        let at = p.i;
        let s = p.string()?;
        let re = |s: &str| {
            regex::Regex::new(s).map_err(|e| ParseError {
                pos: at,
                msg: format!("invalid regex {s:?}: {e}"),
            })
        };
        filters.push(match kind {
            0 => LineFilter::Contains(s),
            1 => LineFilter::NotContains(s),
            2 => LineFilter::Matches(re(&s)?),
            _ => LineFilter::NotMatches(re(&s)?),
        });
    }
    Ok(LogSelector { matchers, filters })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_and_filters_parse() {
        let s = parse_log_selector(
            r#"{app="api", env=~"prod|dev"} |= "a\"b" != `raw\d` |~ "time(out)?" !~ "^GET""#,
        )
        .unwrap();
        assert_eq!(s.matchers.len(), 2);
        assert_eq!(s.filters.len(), 4);
        assert!(matches!(&s.filters[0], LineFilter::Contains(x) if x == "a\"b"));
        assert!(matches!(&s.filters[1], LineFilter::NotContains(x) if x == r"raw\d"));
        assert!(s.filters[2].keeps("timeout") && !s.filters[2].keeps("tim"));
    }

    #[test]
    fn errors_name_the_position() {
        let e = parse_log_selector(r#"{app="api"} | json"#).unwrap_err();
        assert_eq!(e.pos, 12, "{e}");
        let e = parse_log_selector(r#"{app=~".*"}"#).unwrap_err();
        assert!(e.msg.contains("at least one"), "{e}");
        let e = parse_log_selector(r#"{app="api"} |~ "(""#).unwrap_err();
        assert!(e.msg.contains("invalid regex"), "{e}");
        assert!(parse_log_selector(r#"{app="api""#).is_err());
    }
}
