//! The one way to compile a regular expression that a client or a configuration file supplies (label matchers,
//! `=~` in PromQL and LogQL, line filters, relabel rules, `label_replace`): bounded in pattern length and in the
//! size of the compiled program, so a pattern such as `(((a{100}){100}){100})` is refused in milliseconds with an
//! error that says why, instead of costing seconds of CPU and megabytes per query.
//!
//! Prometheus has no such bounds (Go's RE2 only caps repetition counts at 1000); the limits are chosen so any
//! pattern seen in practice passes: 64 KiB of pattern text (Grafana's multi-value variables expand to long
//! `a|b|c` alternations) and 8 MiB of compiled program, a little under the regex crate's own 10 MiB default.
//! The lazy DFA's cache stays at the crate's default of 2 MiB per regex and thread: past it the engine falls back
//! to slower but bounded matching instead of growing.

use std::sync::atomic::{AtomicU64, Ordering};

use regex::{Regex, RegexBuilder};

use crate::self_metrics::MetricsWriter;

/// Longest pattern accepted, in bytes.
pub const MAX_PATTERN_BYTES: usize = 64 * 1024;

/// Largest compiled program accepted, in bytes (`RegexBuilder::size_limit`).
pub const COMPILED_SIZE_LIMIT: usize = 8 << 20;

/// Cache of the lazy DFA, per regex and thread, in bytes (`RegexBuilder::dfa_size_limit`).
pub const DFA_SIZE_LIMIT: usize = 2 << 20;

/// Patterns refused for their size since the process started.
static REFUSED: AtomicU64 = AtomicU64::new(0);

/// Why a pattern was not compiled. The messages read as the end of a sentence that names the pattern, e.g.
/// `regex for label "job" is too large: …`; see [`RegexError::describe`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegexError {
    /// The pattern text is longer than [`MAX_PATTERN_BYTES`].
    #[error("is too long: {len} bytes (limit {limit} bytes)")]
    TooLong {
        /// The pattern's length in bytes.
        len: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The compiled program would be larger than [`COMPILED_SIZE_LIMIT`] (nested or large repetitions).
    #[error(
        "is too large: its compiled form would exceed the limit; use smaller repetition counts such as {{n}} or less nesting (limit {limit} bytes)"
    )]
    TooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// The pattern does not parse; the regex compiler's message.
    #[error("is invalid: {0}")]
    Invalid(String),
}

impl RegexError {
    /// True when the pattern was refused for its size (not for its syntax).
    pub fn is_limit(&self) -> bool {
        !matches!(self, RegexError::Invalid(_))
    }

    /// The whole message for a pattern used as `what`, e.g. `describe("for label \"job\"")` gives
    /// `regex for label "job" is too large: …`.
    pub fn describe(&self, what: &str) -> String {
        if what.is_empty() {
            format!("regex {self}")
        } else {
            format!("regex {what} {self}")
        }
    }
}

/// Compiles `pattern` as written (unanchored) within the limits.
pub fn bounded_regex(pattern: &str) -> Result<Regex, RegexError> {
    compile(pattern, pattern.len())
}

/// Compiles `pattern` fully anchored with `.` matching newlines, `^(?s:pattern)$`, as Prometheus's matchers and
/// relabel rules do; the length limit applies to `pattern` as written.
pub fn bounded_anchored_regex(pattern: &str) -> Result<Regex, RegexError> {
    check_len(pattern.len())?;
    compile(&format!("^(?s:{pattern})$"), pattern.len())
}

/// Refuses a pattern longer than [`MAX_PATTERN_BYTES`] (for fast paths that never compile it).
pub fn check_length(pattern: &str) -> Result<(), RegexError> {
    check_len(pattern.len())
}

fn check_len(len: usize) -> Result<(), RegexError> {
    if len > MAX_PATTERN_BYTES {
        REFUSED.fetch_add(1, Ordering::Relaxed);
        return Err(RegexError::TooLong {
            len,
            limit: MAX_PATTERN_BYTES,
        });
    }
    Ok(())
}

fn compile(source: &str, written_len: usize) -> Result<Regex, RegexError> {
    // The length is checked before anything is parsed, so a huge pattern costs one comparison.
    check_len(written_len)?;
    RegexBuilder::new(source)
        .size_limit(COMPILED_SIZE_LIMIT)
        .dfa_size_limit(DFA_SIZE_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => {
                REFUSED.fetch_add(1, Ordering::Relaxed);
                RegexError::TooLarge {
                    limit: COMPILED_SIZE_LIMIT,
                }
            }
            other => RegexError::Invalid(other.to_string()),
        })
}

/// Patterns refused for their size (too long or too large) since the process started.
pub fn refused_total() -> u64 {
    REFUSED.load(Ordering::Relaxed)
}

/// Writes `lookout_regex_refused_total`, the patterns refused for their size since the process started.
pub fn write_metrics(out: &mut MetricsWriter) {
    out.counter(
        "lookout_regex_refused_total",
        "Regular expressions from queries or configuration refused because they were too long or compiled too large.",
        refused_total(),
    );
}

#[cfg(test)]
pub(crate) mod tests;
