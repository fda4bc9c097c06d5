//! A scan's necessary condition on a block's lines, searched over the block's text at once: a literal every kept
//! line must contain (a `|=` needle, or one of the literal prefixes every match of a `|~` regex starts with). Lines
//! holding no occurrence are passed over without being checked for UTF-8 or handed to the filters one by one; the
//! lines that hold one still pass every filter exactly, so the prefilter changes what is read, never what is kept.

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use memchr::memmem;

use crate::entry::LineFilter;
use crate::filter_query::literal_prefixes;

/// The shortest prefix shared by a regex's literals that is searched alone (shorter ones, like a common first
/// letter, would stop at most lines).
const MIN_SHARED_PREFIX: usize = 3;

/// Literals one of which every line the filters keep contains.
pub enum Prefilter {
    /// One literal.
    One(Box<memmem::Finder<'static>>),
    /// Several: a line holds at least one of them.
    Any(AhoCorasick),
}

impl Prefilter {
    /// The prefilter `filters` imply, if any: the first `|=` needle, else the first `|~` regex whose matches all
    /// start with one of a few non-empty literals. No literal holds a newline, so an occurrence never starts at the
    /// separator between two joined lines.
    pub fn of(filters: &[LineFilter]) -> Option<Prefilter> {
        for f in filters {
            if let LineFilter::Contains(needle) = f
                && !needle.is_empty()
                && !needle.contains('\n')
            {
                return Some(Prefilter::One(Box::new(
                    memmem::Finder::new(needle.as_bytes()).into_owned(),
                )));
            }
        }
        filters.iter().find_map(|f| match f {
            LineFilter::Matches(re) => regex_prefixes(re.as_str()),
            _ => None,
        })
    }

    /// Where the first occurrence in `text` starts.
    pub fn find(&self, text: &[u8]) -> Option<usize> {
        match self {
            Prefilter::One(f) => f.find(text),
            Prefilter::Any(ac) => ac.find(text).map(|m| m.start()),
        }
    }
}

/// A prefilter searching the literal prefixes every match of `pattern` starts with (as the index narrows), when
/// they are known, non-empty and free of newlines.
fn regex_prefixes(pattern: &str) -> Option<Prefilter> {
    let literals = literal_prefixes(pattern)?;
    if literals
        .iter()
        .any(|l| l.as_bytes().is_empty() || l.as_bytes().contains(&b'\n'))
    {
        return None;
    }
    // Alternatives sharing a prefix (`u49[0-9]` → `u490` … `u499`) are searched by that prefix: one substring
    // search is several times faster than a multi-literal one, and the line check that follows is exact anyway.
    let first = literals[0].as_bytes();
    let shared = literals.iter().fold(first.len(), |n, l| {
        first[..n]
            .iter()
            .zip(l.as_bytes())
            .take_while(|(a, b)| a == b)
            .count()
    });
    if shared >= MIN_SHARED_PREFIX.min(first.len()) {
        return Some(Prefilter::One(Box::new(
            memmem::Finder::new(&first[..shared]).into_owned(),
        )));
    }
    AhoCorasick::builder()
        .kind(Some(AhoCorasickKind::DFA))
        .build(literals.iter().map(|l| l.as_bytes()))
        .ok()
        .map(Prefilter::Any)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(p: &str) -> LineFilter {
        LineFilter::Matches(regex::Regex::new(p).unwrap())
    }

    /// A regex's prefilter never rules out a line the regex matches, over lines built to straddle its literals.
    #[test]
    fn a_regex_prefilter_keeps_every_matching_line() {
        let patterns = [
            r#"user":"u49[0-9][0-9]""#,
            "time(out)?",
            "(?i)error",
            "foo|bar|baz",
            r"\d+ms",
            "^GET /api",
            "a[bc]d$",
            "ab(cd|ef)*g",
        ];
        let lines = [
            r#"{"user":"u4912"}"#,
            r#"{"user":"u49"}"#,
            "timeout",
            "TIME",
            "Error: x",
            "ERROR",
            "xbar",
            "12ms",
            "GET /api/v1",
            " GET /api",
            "abd",
            "acd x",
            "abcdcdefg",
            "abg",
            "",
            "héllo wörld",
        ];
        for p in patterns {
            let filter = re(p);
            let pre = Prefilter::of(std::slice::from_ref(&filter));
            for line in lines {
                if filter.keeps(line)
                    && let Some(pre) = &pre
                {
                    assert!(pre.find(line.as_bytes()).is_some(), "{p:?} on {line:?}");
                }
            }
        }
        // Unbounded or empty prefixes: no prefilter.
        for p in [".*x", "x?", "(?s).", "a\nb"] {
            assert!(Prefilter::of(&[re(p)]).is_none(), "{p:?}");
        }
        assert!(Prefilter::of(&[re("u49[0-9]")]).is_some());
    }

    #[test]
    fn a_needle_comes_before_a_regex_and_negations_never_narrow() {
        let f = [re("zzz"), LineFilter::Contains("pod-1".into())];
        assert_eq!(Prefilter::of(&f).unwrap().find(b"a pod-12"), Some(2));
        let neg = [
            LineFilter::NotContains("x".into()),
            LineFilter::NotMatches(regex::Regex::new("y").unwrap()),
            LineFilter::Contains(String::new()),
        ];
        assert!(Prefilter::of(&neg).is_none());
    }
}
