//! Label matchers (`=`, `!=`, `=~`, `!~`): regexes fully anchored, compiled once, with fast paths.

use std::fmt;
use std::sync::Arc;

use regex::Regex;

/// A matcher could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatcherError {
    /// The regular expression does not compile.
    #[error("invalid regular expression {pattern:?} for label {name:?}: {reason}")]
    BadRegex {
        /// The label the matcher applies to.
        name: String,
        /// The pattern as written.
        pattern: String,
        /// What the regex compiler said.
        reason: String,
    },
}

/// The matching operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    Regex,
    /// `!~`
    NotRegex,
}

impl fmt::Display for MatchOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        })
    }
}

/// How a pattern is evaluated; the fast paths avoid running the regex engine.
#[derive(Debug, Clone)]
enum Pattern {
    Literal(Arc<str>),
    /// An alternation of literals, e.g. `a|b|c`, kept sorted for binary search.
    Set(Arc<[Box<str>]>),
    /// `.*`: matches everything, including the empty string.
    Any,
    /// `.+`: matches any non-empty string.
    NonEmpty,
    /// `lit.*`
    Prefix(Arc<str>),
    Regex(Regex),
}

/// A label matcher. Matching a missing label is matching the empty string, as in Prometheus.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// The label name.
    pub name: String,
    /// The operator.
    pub op: MatchOp,
    /// The value or pattern as written.
    pub value: String,
    pattern: Pattern,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

fn is_literal(s: &str) -> bool {
    !s.chars().any(|c| "\\.+*?()|[]{}^$".contains(c))
}

fn compile(name: &str, pattern: &str) -> Result<Pattern, MatcherError> {
    if is_literal(pattern) {
        return Ok(Pattern::Literal(Arc::from(pattern)));
    }
    match pattern {
        ".*" => return Ok(Pattern::Any),
        ".+" => return Ok(Pattern::NonEmpty),
        _ => {}
    }
    if let Some(prefix) = pattern.strip_suffix(".*")
        && is_literal(prefix)
    {
        return Ok(Pattern::Prefix(Arc::from(prefix)));
    }
    if pattern.contains('|') && pattern.split('|').all(is_literal) {
        let mut set: Vec<Box<str>> = pattern.split('|').map(Box::from).collect();
        set.sort();
        set.dedup();
        return Ok(Pattern::Set(Arc::from(set)));
    }
    // Prometheus anchors both ends and lets `.` match newlines.
    Regex::new(&format!("^(?s:{pattern})$"))
        .map(Pattern::Regex)
        .map_err(|e| MatcherError::BadRegex {
            name: name.to_string(),
            pattern: pattern.to_string(),
            reason: e.to_string(),
        })
}

impl Matcher {
    /// Builds a matcher, compiling a regex once.
    pub fn new(
        op: MatchOp,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, MatcherError> {
        let name = name.into();
        let value = value.into();
        let pattern = match op {
            MatchOp::Equal | MatchOp::NotEqual => Pattern::Literal(Arc::from(value.as_str())),
            MatchOp::Regex | MatchOp::NotRegex => compile(&name, &value)?,
        };
        Ok(Matcher {
            name,
            op,
            value,
            pattern,
        })
    }

    /// `name="value"`.
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self::new(MatchOp::Equal, name, value).expect("equality matchers always build")
    }

    /// True when the (possibly absent = empty) label value satisfies the matcher.
    #[inline]
    pub fn matches(&self, value: &str) -> bool {
        let hit = match &self.pattern {
            Pattern::Literal(l) => **l == *value,
            Pattern::Set(set) => set.binary_search_by(|s| (**s).cmp(value)).is_ok(),
            Pattern::Any => true,
            Pattern::NonEmpty => !value.is_empty(),
            Pattern::Prefix(p) => value.starts_with(&**p),
            Pattern::Regex(r) => r.is_match(value),
        };
        match self.op {
            MatchOp::Equal | MatchOp::Regex => hit,
            MatchOp::NotEqual | MatchOp::NotRegex => !hit,
        }
    }

    /// True when the matcher accepts the empty string, i.e. also series that lack the label.
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }

    /// For positive matchers with a finite set of accepted values, that set (lets an index do point look-ups).
    pub fn set_values(&self) -> Option<Vec<&str>> {
        match (&self.op, &self.pattern) {
            (MatchOp::Equal | MatchOp::Regex, Pattern::Literal(l)) => Some(vec![&**l]),
            (MatchOp::Regex, Pattern::Set(s)) => Some(s.iter().map(|s| &**s).collect()),
            _ => None,
        }
    }

    /// For a positive prefix matcher (`=~"abc.*"`), the prefix (lets an index scan a key range).
    pub fn prefix(&self) -> Option<&str> {
        match (&self.op, &self.pattern) {
            (MatchOp::Regex, Pattern::Prefix(p)) => Some(p),
            _ => None,
        }
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:?}", self.name, self.op, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(op: MatchOp, v: &str) -> Matcher {
        Matcher::new(op, "l", v).unwrap()
    }

    #[test]
    fn regexes_are_fully_anchored() {
        let r = m(MatchOp::Regex, "fo+");
        assert!(r.matches("foo"));
        assert!(!r.matches("xfoo"));
        assert!(!r.matches("foox"));
        assert!(m(MatchOp::Regex, "a.b").matches("a\nb"));
    }

    #[test]
    fn fast_paths_agree_with_regex_semantics() {
        let cases = [
            ("abc", vec![("abc", true), ("abcd", false), ("", false)]),
            (
                "a|b|cc",
                vec![("a", true), ("cc", true), ("c", false), ("", false)],
            ),
            (".*", vec![("", true), ("x", true)]),
            (".+", vec![("", false), ("x", true)]),
            (
                "foo.*",
                vec![("foo", true), ("foobar", true), ("fo", false)],
            ),
            ("a|", vec![("a", true), ("", true), ("b", false)]),
        ];
        for (pat, checks) in cases {
            let fast = m(MatchOp::Regex, pat);
            let slow = Regex::new(&format!("^(?s:{pat})$")).unwrap();
            for (input, want) in checks {
                assert_eq!(fast.matches(input), want, "{pat} on {input:?}");
                assert_eq!(slow.is_match(input), want, "reference {pat} on {input:?}");
                assert_eq!(m(MatchOp::NotRegex, pat).matches(input), !want);
            }
        }
    }

    #[test]
    fn bad_regex_names_label_and_pattern() {
        let err = Matcher::new(MatchOp::Regex, "job", "(").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("job") && msg.contains("\"(\""), "{msg}");
    }

    #[test]
    fn set_values_and_prefix_hints() {
        assert_eq!(m(MatchOp::Regex, "b|a").set_values(), Some(vec!["a", "b"]));
        assert_eq!(m(MatchOp::Regex, "pre.*").prefix(), Some("pre"));
        assert_eq!(m(MatchOp::NotRegex, "b|a").set_values(), None);
    }
}
