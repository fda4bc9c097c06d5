//! The expected-failures list: one `<file>:<line> <category>: <reason>` per known-failing case.
//! The suite fails on any difference, so the list can only shrink as the engine improves.

use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use crate::exec::CaseResult;

/// A case's identity: file name and 1-based line of its `eval`.
pub type CaseId = (String, usize);

/// Known failures and why.
pub type ExpectedFailures = BTreeMap<CaseId, String>;

/// Reason of cases whose data or expectations use native histograms.
pub const NATIVE_HISTOGRAMS: &str =
    "native-histograms: native histogram samples cannot be stored or compared";
/// Reason of cases whose data has start timestamps.
pub const START_TIMESTAMPS: &str = "experimental: start timestamps (@st) cannot be stored";

/// The category of a reason: the text before the first `:`.
pub fn category(reason: &str) -> &str {
    reason.split_once(':').map_or(reason, |(c, _)| c).trim()
}

/// Parses the list; `#` comment lines and blank lines are ignored.
pub fn parse_expected(text: &str) -> Result<ExpectedFailures, String> {
    let mut out = ExpectedFailures::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |why: &str| format!("expected-failures line {}: {why}: {raw:?}", n + 1);
        let (id, reason) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| bad("missing reason"))?;
        let (file, case_line) = id
            .rsplit_once(':')
            .ok_or_else(|| bad("case must be <file>:<line>"))?;
        let case_line: usize = case_line.parse().map_err(|_| bad("line is not a number"))?;
        let reason = reason.trim();
        if !reason.contains(':') {
            return Err(bad("reason must be '<category>: <text>'"));
        }
        if out
            .insert((file.to_string(), case_line), reason.to_string())
            .is_some()
        {
            return Err(bad("case listed twice"));
        }
    }
    Ok(out)
}

/// Writes the list, sorted by file and line, with a header explaining it.
pub fn render_expected(entries: &ExpectedFailures) -> String {
    let mut out = String::from(
        "# PromQL conformance: eval cases of Prometheus's test files that are known to fail.\n\
         # Format: <file>:<line of the eval> <category>: <reason>. The conformance test fails when a case not listed\n\
         # here fails, and when a listed case passes (remove it then), so this list can only shrink.\n\
         # Regenerate (keeps existing reasons, classifies new entries):\n\
         #   LOOKOUT_PROMQL_UPDATE_EXPECTED=1 cargo test -p lookout-promql --test conformance -- --nocapture\n",
    );
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for reason in entries.values() {
        *counts.entry(category(reason)).or_default() += 1;
    }
    let summary: Vec<String> = counts.iter().map(|(c, n)| format!("{c} {n}")).collect();
    out.push_str(&format!(
        "# {} cases: {}\n",
        entries.len(),
        summary.join(", ")
    ));
    for ((file, line), reason) in entries {
        out.push_str(&format!("{file}:{line} {reason}\n"));
    }
    out
}

/// Shortens a message to one line of at most `max` characters.
fn brief(text: &str, max: usize) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let cut: String = one_line.chars().take(max).collect();
    format!("{cut}...")
}

/// Newer syntax a query uses, by a textual look (only to word a reason; the parser had the last word).
fn syntax_feature(query: &str) -> &'static str {
    static FEATURES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
        [
            (
                r"\b(anchored|smoothed)\b",
                "anchored/smoothed range selectors",
            ),
            (r"\binfo\s*\(", "info() with a label selector"),
            (
                r"(?i)offset\s*[-+]?\s*(\(|\w+\()|@\s*\(|\[[^\]]*[-+*/%^()]",
                "duration expressions",
            ),
            (r"\bfill(_left|_right)?\s*\(", "fill modifiers"),
        ]
        .into_iter()
        .map(|(pattern, name)| (Regex::new(pattern).expect("valid feature regex"), name))
        .collect()
    });
    FEATURES
        .iter()
        .find(|(re, _)| re.is_match(query))
        .map_or("this query", |(_, name)| name)
}

/// Picks a reason for a newly failing case.
pub fn classify(case: &CaseResult) -> String {
    if case.native_histograms {
        return NATIVE_HISTOGRAMS.to_string();
    }
    if case.start_timestamps {
        return START_TIMESTAMPS.to_string();
    }
    if let Some(msg) = &case.parse_error {
        let feature = syntax_feature(&case.query);
        return format!(
            "parser: promql-parser 0.11 cannot parse {feature} ({})",
            brief(msg, 80)
        );
    }
    let why = case.outcome.as_ref().err().map_or("passed", String::as_str);
    format!("engine: {}", brief(why, 110))
}

/// The new list from this run's results: failing cases keep their listed reason or get a classified one.
/// Entries of files that did not run (a filtered run) are kept as they are.
pub fn regenerate(
    old: &ExpectedFailures,
    results: &[(String, Vec<CaseResult>)],
) -> ExpectedFailures {
    let ran: HashSet<&str> = results.iter().map(|(file, _)| file.as_str()).collect();
    let mut new: ExpectedFailures = old
        .iter()
        .filter(|((file, _), _)| !ran.contains(file.as_str()))
        .map(|(id, reason)| (id.clone(), reason.clone()))
        .collect();
    for (file, cases) in results {
        for case in cases.iter().filter(|c| c.outcome.is_err()) {
            let id = (file.clone(), case.line);
            let reason = old.get(&id).cloned().unwrap_or_else(|| classify(case));
            new.insert(id, reason);
        }
    }
    new
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn case(line: usize, outcome: Result<(), String>) -> CaseResult {
        CaseResult {
            line,
            query: "q".into(),
            outcome,
            native_histograms: false,
            start_timestamps: false,
            parse_error: None,
            queries: 1,
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn round_trips_and_rejects_malformed_lines() {
        let text = "# c\n\na.test:12 engine: wrong value\nb.test:3 parser: nope\n";
        let list = parse_expected(text).unwrap();
        assert_eq!(
            list.get(&("a.test".into(), 12)).map(String::as_str),
            Some("engine: wrong value")
        );
        assert_eq!(parse_expected(&render_expected(&list)).unwrap(), list);
        for bad in [
            "a.test:x engine: y",
            "a.test:1",
            "a.test engine: y",
            "a.test:1 no category",
            "a:1 x: y\na:1 x: z",
        ] {
            assert!(parse_expected(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_newer_syntax() {
        assert_eq!(syntax_feature("m offset (2 ^ 2)"), "duration expressions");
        assert_eq!(syntax_feature("m offset -step()*2"), "duration expressions");
        assert_eq!(
            syntax_feature("m offset -min_of(step(), 1s)^0"),
            "duration expressions"
        );
        assert_eq!(syntax_feature("m offset 5m"), "this query");
        assert_eq!(syntax_feature("rate(m[5m+1m])"), "duration expressions");
        assert_eq!(syntax_feature("max_over_time(m[5m:1m])"), "this query");
        assert_eq!(syntax_feature("a + fill(0) b"), "fill modifiers");
        assert_eq!(
            syntax_feature(r#"info(m, {a=~".*"})"#),
            "info() with a label selector"
        );
    }

    #[test]
    fn classifies_and_keeps_existing_reasons() {
        let mut hist = case(1, Err("x".into()));
        hist.native_histograms = true;
        let mut parse = case(2, Err("query failed".into()));
        parse.parse_error = Some("unexpected token".into());
        parse.query = "rate(m[5m] anchored)".into();
        let wrong = case(3, Err("expected 1 for {} got 2".into()));
        let kept = case(4, Err("whatever".into()));
        let passing = case(5, Ok(()));
        let mut old = ExpectedFailures::new();
        old.insert(
            ("f.test".into(), 4),
            "experimental: hand-written reason".into(),
        );
        old.insert(("f.test".into(), 5), "engine: used to fail".into());
        old.insert(("other.test".into(), 9), "engine: not run this time".into());
        let new = regenerate(
            &old,
            &[("f.test".into(), vec![hist, parse, wrong, kept, passing])],
        );
        let reason = |l: usize| {
            new.get(&("f.test".to_string(), l))
                .map(|s| category(s).to_string())
        };
        assert_eq!(reason(1).as_deref(), Some("native-histograms"));
        assert_eq!(reason(2).as_deref(), Some("parser"));
        assert!(new[&("f.test".to_string(), 2)].contains("anchored/smoothed"));
        assert_eq!(reason(3).as_deref(), Some("engine"));
        assert_eq!(
            new[&("f.test".to_string(), 4)],
            "experimental: hand-written reason"
        );
        assert_eq!(reason(5), None);
        assert_eq!(
            new[&("other.test".to_string(), 9)],
            "engine: not run this time"
        );
        assert!(new[&("f.test".to_string(), 3)].contains("expected 1"));
    }
}
