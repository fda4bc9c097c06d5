//! Bugs the fuzzer found in code outside this crate's remit, reported to its owners and awaiting a fix there.
//!
//! A panic matching an entry (same target, same source file, message containing the given text) is counted and
//! printed with the run's report instead of failing it, so the other targets and other inputs keep being fuzzed;
//! any other panic still fails. Each entry has regression seeds (`corpus/<target>/known-<slug>`), and the test
//! `known_issues_still_reproduce` fails once the bug is fixed, so that the entry is removed with the fix.

/// One known bug.
#[derive(Debug)]
pub struct KnownIssue {
    /// The targets it shows up in, each with its regression seed's file name in that target's corpus.
    pub seeds: &'static [(&'static str, &'static str)],
    /// The end of the path of the source file that panics, as in the panic's location.
    pub panic_file: &'static str,
    /// Text the panic message contains.
    pub panic_message: &'static str,
    /// Text a frame of the backtrace must contain, when the file alone does not pin the bug down.
    pub frame: Option<&'static str>,
    /// One line for reports.
    pub summary: &'static str,
}

/// The open issues (none: the last ones were fixed where they were found; their seeds stay in the corpus as
/// `regression-*`).
pub const KNOWN_ISSUES: &[KnownIssue] = &[];
