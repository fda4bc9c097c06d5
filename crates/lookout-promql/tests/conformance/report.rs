//! Comparing a run with the expected-failures list and printing per-file and per-category figures.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use crate::exec::CaseResult;
use crate::expected::{CaseId, ExpectedFailures, category};

/// How a run differs from the list.
#[derive(Debug, Default)]
pub struct Diff {
    /// Failing cases not on the list: (file, line, query, why).
    pub unexpected_failures: Vec<(String, usize, String, String)>,
    /// Listed cases that passed: (file, line, query, listed reason).
    pub now_passing: Vec<(String, usize, String, String)>,
    /// Listed cases that do not exist in the files that ran.
    pub stale_entries: Vec<CaseId>,
}

impl Diff {
    /// True when the run matches the list exactly.
    pub fn is_empty(&self) -> bool {
        self.unexpected_failures.is_empty()
            && self.now_passing.is_empty()
            && self.stale_entries.is_empty()
    }
}

/// Compares results with the list.
/// Entries of files that did not run count as stale only when `all_files_ran`.
pub fn diff(
    listed: &ExpectedFailures,
    results: &[(String, Vec<CaseResult>)],
    all_files_ran: bool,
) -> Diff {
    let mut d = Diff::default();
    let mut seen: HashSet<CaseId> = HashSet::new();
    for (file, cases) in results {
        for c in cases {
            let id = (file.clone(), c.line);
            match (&c.outcome, listed.get(&id)) {
                (Err(why), None) => {
                    d.unexpected_failures
                        .push((file.clone(), c.line, c.query.clone(), why.clone()))
                }
                (Ok(()), Some(reason)) => {
                    d.now_passing
                        .push((file.clone(), c.line, c.query.clone(), reason.clone()))
                }
                _ => {}
            }
            seen.insert(id);
        }
    }
    d.stale_entries = listed
        .keys()
        .filter(|id| !seen.contains(*id))
        .filter(|(file, _)| all_files_ran || results.iter().any(|(ran, _)| ran == file))
        .cloned()
        .collect();
    d
}

/// At most this many failures are printed in full.
const MAX_PRINTED: usize = 400;

/// Prints every difference (failures capped at [`MAX_PRINTED`]).
pub fn print_diff(d: &Diff) {
    for (i, (file, line, query, why)) in d.unexpected_failures.iter().enumerate() {
        if i == MAX_PRINTED {
            eprintln!(
                "... and {} more unexpected failures",
                d.unexpected_failures.len() - MAX_PRINTED
            );
            break;
        }
        eprintln!("UNEXPECTED FAILURE {file}:{line}\n    query: {query}\n    {why}");
    }
    for (file, line, query, reason) in &d.now_passing {
        eprintln!(
            "NOW PASSES {file}:{line} (listed as \"{reason}\"): {query}\n    remove it from tests/expected_failures.txt"
        );
    }
    for (file, line) in &d.stale_entries {
        eprintln!(
            "STALE ENTRY {file}:{line}: no eval case at that line; remove it from tests/expected_failures.txt"
        );
    }
}

/// Prints per-file and total pass counts, failures per reason category, and the slowest cases.
pub fn print_summary(
    listed: &ExpectedFailures,
    results: &[(String, Vec<CaseResult>)],
    elapsed: Duration,
) {
    eprintln!(
        "\nPromQL conformance ({} files, {:.1} s)",
        results.len(),
        elapsed.as_secs_f64()
    );
    eprintln!(
        "{:<28} {:>7} {:>16} {:>11} {:>7}",
        "file", "passed", "failed(listed)", "unexpected", "total"
    );
    let (mut passed, mut as_expected, mut unexpected, mut total) = (0, 0, 0, 0);
    let mut by_category: BTreeMap<String, usize> = BTreeMap::new();
    let mut slowest: Vec<(Duration, String)> = Vec::new();
    let mut queries = 0;
    for (file, cases) in results {
        let (mut p, mut e, mut u) = (0, 0, 0);
        for c in cases {
            let reason = listed.get(&(file.clone(), c.line));
            match (&c.outcome, reason) {
                (Ok(()), _) => p += 1,
                (Err(_), Some(r)) => {
                    e += 1;
                    *by_category.entry(category(r).to_string()).or_default() += 1;
                }
                (Err(_), None) => u += 1,
            }
            slowest.push((c.elapsed, format!("{file}:{}", c.line)));
            queries += c.queries;
        }
        eprintln!("{file:<28} {p:>7} {e:>16} {u:>11} {:>7}", cases.len());
        (passed, as_expected, unexpected, total) = (
            passed + p,
            as_expected + e,
            unexpected + u,
            total + cases.len(),
        );
    }
    eprintln!(
        "{:<28} {passed:>7} {as_expected:>16} {unexpected:>11} {total:>7}",
        "TOTAL"
    );
    eprintln!(
        "queries run: {queries} (as written, range-mode cross-checks and @-modifier variants)"
    );
    let cats: Vec<String> = by_category
        .iter()
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    eprintln!(
        "listed failures by category: {}",
        if cats.is_empty() {
            "none".into()
        } else {
            cats.join(", ")
        }
    );
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    let top: Vec<String> = slowest
        .iter()
        .take(5)
        .map(|(d, id)| format!("{id} {:.0} ms", d.as_secs_f64() * 1e3))
        .collect();
    eprintln!("slowest cases: {}\n", top.join(", "));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(line: usize, ok: bool) -> CaseResult {
        CaseResult {
            line,
            query: "q".into(),
            outcome: if ok { Ok(()) } else { Err("wrong".into()) },
            native_histograms: false,
            start_timestamps: false,
            parse_error: None,
            queries: 1,
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn finds_every_kind_of_difference() {
        let mut listed = ExpectedFailures::new();
        listed.insert(("a.test".into(), 2), "engine: x".into());
        listed.insert(("a.test".into(), 3), "engine: y".into());
        listed.insert(("a.test".into(), 99), "engine: gone".into());
        listed.insert(("b.test".into(), 1), "engine: other file".into());
        let results = vec![(
            "a.test".to_string(),
            vec![case(1, false), case(2, false), case(3, true)],
        )];
        let d = diff(&listed, &results, true);
        assert_eq!(d.unexpected_failures.len(), 1);
        assert_eq!(d.unexpected_failures[0].1, 1);
        assert_eq!(d.now_passing.len(), 1);
        assert_eq!(d.now_passing[0].1, 3);
        assert_eq!(
            d.stale_entries,
            vec![("a.test".to_string(), 99), ("b.test".to_string(), 1)]
        );
        // A filtered run leaves the other files' entries alone.
        let d = diff(&listed, &results, false);
        assert_eq!(d.stale_entries, vec![("a.test".to_string(), 99)]);
        assert!(!d.is_empty());
        let clean = vec![(
            "a.test".to_string(),
            vec![case(1, true), case(2, false), case(3, false)],
        )];
        let mut exact = listed.clone();
        exact.retain(|(f, l), _| f == "a.test" && *l != 99);
        assert!(diff(&exact, &clean, true).is_empty());
    }
}
