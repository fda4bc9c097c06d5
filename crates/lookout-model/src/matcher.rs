//! Label matchers (`=`, `!=`, `=~`, `!~`): regexes fully anchored, compiled once, with fast paths.

use std::fmt;
use std::sync::Arc;

use regex::Regex;

use crate::regex_limits::{RegexError, bounded_anchored_regex, check_length};

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
    /// The regular expression is too long or compiles too large (see [`crate::regex_limits`]).
    #[error("regex for label {name:?} {reason}")]
    RegexLimit {
        /// The label the matcher applies to.
        name: String,
        /// Which limit, with its value.
        reason: RegexError,
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

/// For a pattern that is an alternation of literals, possibly with escaped metacharacters as `regex::escape`
/// writes them (`host-1\.example\.org|db`), the literals unescaped; `None` for anything else.
fn literal_alternatives(pattern: &str) -> Option<Vec<String>> {
    const ESCAPABLE: &str = "\\.+*?()|[]{}^$#&-~";
    let mut out = vec![String::new()];
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let next = chars.next()?;
                if !ESCAPABLE.contains(next) {
                    return None;
                }
                out.last_mut()?.push(next);
            }
            '|' => out.push(String::new()),
            c if "\\.+*?()|[]{}^$".contains(c) => return None,
            c => out.last_mut()?.push(c),
        }
    }
    Some(out)
}

fn compile(name: &str, pattern: &str) -> Result<Pattern, MatcherError> {
    // Even the fast paths below refuse an over-long pattern, so the limit does not depend on the pattern's shape
    // (a huge literal set costs memory if not compilation). Sets built from data use `Matcher::any_of`.
    check_length(pattern).map_err(|reason| MatcherError::RegexLimit {
        name: name.to_string(),
        reason,
    })?;
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
    // Literals with escaped metacharacters, as `regex::escape` writes them, need no regex either.
    if let Some(mut literals) = literal_alternatives(pattern) {
        if literals.len() == 1 {
            return Ok(Pattern::Literal(Arc::from(literals.remove(0))));
        }
        let mut set: Vec<Box<str>> = literals.into_iter().map(Box::from).collect();
        set.sort();
        set.dedup();
        return Ok(Pattern::Set(Arc::from(set)));
    }
    // Prometheus anchors both ends and lets `.` match newlines.
    bounded_anchored_regex(pattern)
        .map(Pattern::Regex)
        .map_err(|e| match e {
            RegexError::Invalid(reason) => MatcherError::BadRegex {
                name: name.to_string(),
                pattern: pattern.to_string(),
                reason,
            },
            limit => MatcherError::RegexLimit {
                name: name.to_string(),
                reason: limit,
            },
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

    /// `name=~"v1|v2|…"` for values taken literally (built from data, e.g. by PromQL's `info()`): a set look-up,
    /// never a regex, so it takes no part in the limits on regexes from clients however many values there are.
    pub fn any_of<'a>(name: impl Into<String>, values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut set: Vec<Box<str>> = values.into_iter().map(Box::from).collect();
        set.sort();
        set.dedup();
        let value = set
            .iter()
            .map(|v| regex::escape(v))
            .collect::<Vec<_>>()
            .join("|");
        let pattern = match set.len() {
            1 => Pattern::Literal(Arc::from(&*set[0])),
            _ => Pattern::Set(Arc::from(set)),
        };
        Matcher {
            name: name.into(),
            op: MatchOp::Regex,
            value,
            pattern,
        }
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
    fn regex_bombs_are_refused_with_the_label_and_the_limit() {
        for pat in crate::regex_limits::tests::bombs() {
            for op in [MatchOp::Regex, MatchOp::NotRegex] {
                let err = Matcher::new(op, "job", pat.as_str()).unwrap_err();
                assert!(matches!(err, MatcherError::RegexLimit { .. }), "{err}");
                let msg = err.to_string();
                assert!(msg.starts_with("regex for label \"job\" is too "), "{msg}");
                assert!(msg.contains("(limit "), "{msg}");
            }
            // Equality matchers are not regexes: any value is taken literally.
            assert!(Matcher::new(MatchOp::Equal, "job", pat.as_str()).is_ok());
        }
        // A long alternation that is not a set of literals is refused for its length.
        let long = vec!["ab.d"; 20_000].join("|");
        let err = Matcher::new(MatchOp::Regex, "instance", long).unwrap_err();
        assert!(err.to_string().contains("is too long"), "{err}");
    }

    #[test]
    fn escaped_literal_sets_need_no_regex_and_data_sets_no_limit() {
        let values: Vec<String> = (0..1000)
            .map(|i| format!("host-{i}.example.org:9100"))
            .collect();
        let pattern = values
            .iter()
            .map(|v| regex::escape(v))
            .collect::<Vec<_>>()
            .join("|");
        let m = m(MatchOp::Regex, &pattern);
        assert_eq!(m.set_values().map(|v| v.len()), Some(1000));
        assert!(m.matches("host-999.example.org:9100"));
        assert!(
            !m.matches("host-999xexample.org:9100"),
            "an escaped dot is a dot"
        );
        // What `info()` joins on: values from data, more than a client's regex may hold.
        let many: Vec<String> = (0..10_000)
            .map(|i| format!("host-{i}.example.org:9100"))
            .collect();
        let set = Matcher::any_of("instance", many.iter().map(String::as_str));
        assert!(set.value.len() > crate::regex_limits::MAX_PATTERN_BYTES);
        assert!(set.matches("host-9999.example.org:9100") && !set.matches("host-1"));
        assert_eq!(set.set_values().map(|v| v.len()), Some(10_000));
        assert!(Matcher::new(MatchOp::Regex, "instance", set.value.clone()).is_err());
        let one = Matcher::any_of("job", ["a.b"]);
        assert_eq!(
            (one.value.as_str(), one.set_values()),
            (r"a\.b", Some(vec!["a.b"]))
        );
        // Escaped single literals and the edge cases agree with the regex engine.
        for (pat, input) in [
            (r"a\.b", "a.b"),
            (r"a\.b", "axb"),
            (r"a\|b", "a|b"),
            (r"a\|b", "a"),
            (r"x\-y|z", "x-y"),
            (r"\\", "\\"),
            (r"a\d", "a1"),
        ] {
            let reference = Regex::new(&format!("^(?s:{pat})$")).unwrap();
            assert_eq!(
                Matcher::new(MatchOp::Regex, "l", pat)
                    .unwrap()
                    .matches(input),
                reference.is_match(input),
                "{pat} on {input:?}"
            );
        }
        assert_eq!(literal_alternatives(r"a\d"), None);
        assert_eq!(literal_alternatives("a(b)"), None);
        assert_eq!(
            literal_alternatives(r"a\.b|c"),
            Some(vec!["a.b".to_string(), "c".to_string()])
        );
    }

    #[test]
    fn set_values_and_prefix_hints() {
        assert_eq!(m(MatchOp::Regex, "b|a").set_values(), Some(vec!["a", "b"]));
        assert_eq!(m(MatchOp::Regex, "pre.*").prefix(), Some("pre"));
        assert_eq!(m(MatchOp::NotRegex, "b|a").set_values(), None);
    }
}
