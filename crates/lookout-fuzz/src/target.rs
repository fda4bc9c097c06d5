//! What a fuzz target is: a name (its corpus directory), a grammar for the mutator, the real entry point it
//! calls, and the allocation bound that entry point must keep for an input of a given size.

use crate::mutate::Grammar;

/// What the entry point made of an input. Accepted inputs feed the mutator's pool, so it builds on valid
/// structure instead of starting from the seeds every time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Parsed (and, where the target goes further, checked or evaluated) without error.
    Accepted,
    /// Refused with an error, as malformed input should be.
    Rejected,
}

impl Outcome {
    /// `Accepted` for `Ok`, `Rejected` for `Err`.
    pub fn of<T, E>(r: &Result<T, E>) -> Outcome {
        if r.is_ok() {
            Outcome::Accepted
        } else {
            Outcome::Rejected
        }
    }
}

/// One parser under test.
#[derive(Clone, Copy)]
pub struct Target {
    /// The target's name and its corpus directory under `corpus/`.
    pub name: &'static str,
    /// The entry point(s) it calls, for reports.
    pub entry: &'static str,
    /// Tokens and brackets for the mutator, and the longest input.
    pub grammar: Grammar,
    /// Calls the real entry point(s) on one input.
    pub run: fn(&[u8]) -> Outcome,
    /// The most bytes one input of the given length may have allocated at once while it is handled.
    pub alloc_bound: fn(usize) -> usize,
    /// Where `alloc_bound` comes from (the documented limit it is derived from).
    pub alloc_rule: &'static str,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("name", &self.name)
            .field("entry", &self.entry)
            .finish()
    }
}

/// One mebibyte.
pub const MIB: usize = 1 << 20;

/// Input bytes as text: the text parsers take `&str`, and the HTTP layer refuses bodies that are not UTF-8 before
/// they reach them; invalid bytes are replaced so that the mutator's byte edits still reach the parser.
pub fn as_text(input: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(input)
}
