//! Line and label filters: substring, regex, pattern and IP matching, numeric/duration/bytes comparisons.

use std::net::IpAddr;

use crate::ast::{FilterValue, LabelFilter, LineOp, Typed};
use crate::labels::LabelSet;
use crate::lexer::{parse_bytes, parse_duration};

/// Compiles a regex written in a query (line filter, `regexp` stage, `label_replace`) within the limits of
/// `lookout_model::regex_limits`. A pattern refused for its size gets a message naming `what` and the limit
/// (`regex of the line filter is too large: …`); a syntax error gets `invalid(compiler message)`.
pub(crate) fn query_regex(
    pattern: &str,
    what: &str,
    invalid: impl FnOnce(&str) -> String,
) -> Result<regex::Regex, String> {
    lookout_model::bounded_regex(pattern).map_err(|e| match e {
        lookout_model::RegexError::Invalid(reason) => invalid(&reason),
        limit => limit.describe(what),
    })
}

/// `ip("…")`: one address, a CIDR block or an inclusive range `a-b`.
#[derive(Debug, Clone)]
pub struct IpMatcher {
    source: String,
    lo: IpAddr,
    hi: IpAddr,
}

fn widen(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v) => u32::from(v) as u128,
        IpAddr::V6(v) => u128::from(v),
    }
}

impl IpMatcher {
    /// Parses the argument of `ip()`.
    pub fn parse(s: &str) -> Result<IpMatcher, String> {
        let bad =
            || format!("invalid ip filter {s:?}: expected an address, a CIDR block or a range a-b");
        let t = s.trim();
        let (lo, hi) = if let Some((a, b)) = t.split_once('-') {
            let lo: IpAddr = a.trim().parse().map_err(|_| bad())?;
            let hi: IpAddr = b.trim().parse().map_err(|_| bad())?;
            if lo.is_ipv4() != hi.is_ipv4() || widen(lo) > widen(hi) {
                return Err(bad());
            }
            (lo, hi)
        } else if let Some((a, n)) = t.split_once('/') {
            let base: IpAddr = a.parse().map_err(|_| bad())?;
            let bits: u32 = n.parse().map_err(|_| bad())?;
            let width = if base.is_ipv4() { 32 } else { 128 };
            if bits > width {
                return Err(bad());
            }
            let host = width - bits;
            let mask: u128 = if host == 128 {
                u128::MAX
            } else {
                (1u128 << host) - 1
            };
            let lo = widen(base) & !mask;
            let hi = lo | mask;
            let back = |v: u128| -> IpAddr {
                if base.is_ipv4() {
                    IpAddr::V4((v as u32).into())
                } else {
                    IpAddr::V6(v.into())
                }
            };
            (back(lo), back(hi))
        } else {
            let ip: IpAddr = t.parse().map_err(|_| bad())?;
            (ip, ip)
        };
        Ok(IpMatcher {
            source: s.to_string(),
            lo,
            hi,
        })
    }

    /// The argument as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether `ip` is inside.
    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.lo.is_ipv4()
            && widen(ip) >= widen(self.lo)
            && widen(ip) <= widen(self.hi)
    }

    /// Whether the text is an address inside.
    pub fn matches_value(&self, v: &str) -> bool {
        v.trim().parse().is_ok_and(|ip| self.contains(ip))
    }

    /// Whether any address-looking word of the line is inside.
    pub fn matches_line(&self, line: &str) -> bool {
        line.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':'))
            .filter(|w| w.len() >= 2)
            .any(|w| {
                let hit = |s: &str| s.parse::<IpAddr>().is_ok_and(|ip| self.contains(ip));
                // Whole word (IPv6 too), an IPv4 address next to a port (`1.2.3.4:443`), or trimmed punctuation.
                hit(w)
                    || (w.contains('.') && w.split(':').any(hit))
                    || hit(w.trim_matches(|c| c == '.' || c == ':'))
            })
    }
}

impl FilterValue {
    fn matches(&self, line: &str) -> bool {
        match self {
            FilterValue::Text(t) => line.contains(t.as_str()),
            FilterValue::Regex(r) => r.is_match(line),
            FilterValue::Pattern(p) => p.is_match(line),
            FilterValue::Ip(ip) => ip.matches_line(line),
        }
    }
}

/// Whether a line passes a line filter stage.
pub fn line_passes(op: LineOp, values: &[FilterValue], line: &str) -> bool {
    let any = values.iter().any(|v| v.matches(line));
    if op.negated() { !any } else { any }
}

/// Converts a label value for a typed comparison.
pub fn convert(value: &str, t: &Typed) -> Option<f64> {
    match t {
        Typed::Number(_) => value.trim().parse().ok(),
        Typed::Duration(_) => parse_duration(value.trim()).map(|ns| ns as f64 / 1e9),
        Typed::Bytes(_) => parse_bytes(value),
    }
}

/// Applies a label filter; a conversion failure keeps the line and marks it with `LabelFilterErr`.
pub fn label_filter_passes(f: &LabelFilter, labels: &mut LabelSet) -> bool {
    match f {
        LabelFilter::And(a, b) => label_filter_passes(a, labels) && label_filter_passes(b, labels),
        LabelFilter::Or(a, b) => label_filter_passes(a, labels) || label_filter_passes(b, labels),
        LabelFilter::Matcher(m) => m.matches(labels.get(&m.name).unwrap_or("")),
        LabelFilter::Compare {
            name, op, value, ..
        } => {
            // As Loki: once a line carries an error only string matchers may filter it.
            if labels.has_error() {
                return true;
            }
            let Some(v) = labels.get(name) else {
                return false;
            };
            let lit = match value {
                Typed::Number(x) | Typed::Duration(x) | Typed::Bytes(x) => *x,
            };
            match convert(v, value) {
                Some(x) => op.test(x, lit),
                None => {
                    let details = format!("cannot convert label {name}={v:?} for the comparison");
                    labels.set_error("LabelFilterErr", &details);
                    true
                }
            }
        }
        LabelFilter::Ip { name, negated, ip } => {
            let hit = labels.get(name).is_some_and(|v| ip.matches_value(v));
            hit != *negated
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_forms() {
        let m = IpMatcher::parse("192.168.0.0/16").unwrap();
        assert!(m.matches_line("from 192.168.4.5:443 ok"));
        assert!(!m.matches_line("from 10.1.1.1 ok"));
        let r = IpMatcher::parse("10.0.0.1-10.0.0.9").unwrap();
        assert!(r.matches_value("10.0.0.5") && !r.matches_value("10.0.0.10"));
        assert!(IpMatcher::parse("::1").unwrap().matches_line("addr=::1"));
        assert!(IpMatcher::parse("nope").is_err());
    }

    /// Every place a query's regex is compiled, with `{}` where the pattern goes (a raw string, so no escaping).
    const REGEX_SITES: &[(&str, &str)] = &[
        ("stream selector", "{app=~`{}`}"),
        ("label filter", "{app=\"a\"} | x=~`{}`"),
        ("negated label filter", "{app=\"a\"} | x!~`{}`"),
        ("line filter", "{app=\"a\"} |~ `{}`"),
        ("negated line filter", "{app=\"a\"} != \"x\" !~ `{}`"),
        ("regexp stage", "{app=\"a\"} | regexp `(?P<x>{})`"),
        (
            "label_replace",
            "label_replace(count_over_time({app=\"a\"}[1m]), \"d\", \"$1\", \"s\", `{}`)",
        ),
    ];

    #[test]
    fn regex_bombs_are_refused_at_every_site_with_the_limit() {
        let bombs = [
            "(((a{100}){100}){100})".to_string(),
            "(a{1000}){1000}".to_string(),
            ".{65535}".to_string(),
            "a".repeat(1 << 20),
        ];
        for (site, template) in REGEX_SITES {
            for bomb in &bombs {
                let q = template.replace("{}", bomb);
                let e = crate::parse(&q).expect_err(site);
                assert!(
                    e.msg.starts_with("regex ") && e.msg.contains(" is too "),
                    "{site}: {}",
                    e.msg
                );
                assert!(e.msg.contains("(limit "), "{site}: {}", e.msg);
                assert!(e.msg.len() < 300, "{site}: the pattern must not be echoed");
            }
            // Ordinary patterns still work at the same place.
            let q = template.replace("{}", "err(or)?|warn");
            crate::parse(&q).unwrap_or_else(|e| panic!("{site}: {e}"));
        }
        let e = crate::parse_selector(&format!("{{app=~`{}`}}", bombs[1])).unwrap_err();
        assert!(
            e.msg.contains("regex for label \"app\" is too large"),
            "{e}"
        );
    }

    #[test]
    fn query_regex_keeps_syntax_errors_in_the_callers_words() {
        let e = query_regex("(", "of the line filter", |m| format!("bad: {m}")).unwrap_err();
        assert!(
            e.starts_with("bad: ") && e.contains("unclosed group"),
            "{e}"
        );
        assert!(
            query_regex("a+b", "x", |m| m.to_string())
                .unwrap()
                .is_match("xaab")
        );
    }
}
