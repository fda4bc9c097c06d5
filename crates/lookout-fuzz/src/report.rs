//! What a run found: counts and rates for the log, and every failure with the input that caused it.

use std::fmt;
use std::time::Duration;

use crate::known_issues::KnownIssue;
use crate::target::MIB;

/// Longest input shown inline in a failure (the tests also save every failing input to a file).
const INLINE_INPUT_BYTES: usize = 2048;

/// The result of one target's run.
#[derive(Debug, Clone)]
pub struct Report {
    /// The target's name.
    pub target: &'static str,
    /// Inputs run.
    pub inputs: u64,
    /// Inputs the target accepted.
    pub accepted: u64,
    /// Wall time of the loop.
    pub elapsed: Duration,
    /// Largest input run.
    pub largest_input: usize,
    /// Slowest input's time.
    pub slowest: Duration,
    /// Its length.
    pub slowest_input_len: usize,
    /// Its first bytes.
    pub slowest_input_head: Vec<u8>,
    /// Highest allocation peak of one input (0 without a probe).
    pub peak_alloc: usize,
    /// The length of the input with that peak.
    pub peak_alloc_input_len: usize,
    /// The bound for that input.
    pub peak_alloc_bound: usize,
    /// Panics that are known issues (see [`crate::known_issues`]): how many inputs hit each.
    pub known_issues: Vec<(&'static KnownIssue, u64)>,
    /// What went wrong.
    pub failures: Vec<Failure>,
}

impl Report {
    /// An empty report for `target`.
    pub fn new(target: &'static str) -> Report {
        Report {
            target,
            inputs: 0,
            accepted: 0,
            elapsed: Duration::ZERO,
            largest_input: 0,
            slowest: Duration::ZERO,
            slowest_input_len: 0,
            slowest_input_head: Vec::new(),
            peak_alloc: 0,
            peak_alloc_input_len: 0,
            peak_alloc_bound: 0,
            known_issues: Vec::new(),
            failures: Vec::new(),
        }
    }

    /// Records one input's allocation peak.
    pub fn note_allocation(&mut self, peak: usize, input_len: usize, bound: usize) {
        if peak > self.peak_alloc {
            self.peak_alloc = peak;
            self.peak_alloc_input_len = input_len;
            self.peak_alloc_bound = bound;
        }
    }

    /// Counts one input that hit `issue`.
    pub fn note_known_issue(&mut self, issue: &'static KnownIssue) {
        match self
            .known_issues
            .iter_mut()
            .find(|(k, _)| std::ptr::eq(*k, issue))
        {
            Some((_, n)) => *n += 1,
            None => self.known_issues.push((issue, 1)),
        }
    }

    /// Inputs per second.
    pub fn rate(&self) -> f64 {
        self.inputs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl fmt::Display for Report {
    /// One line: `lookout-fuzz: <target>: N inputs (A accepted) in T s = R inputs/s; …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lookout-fuzz: {}: {} inputs ({} accepted) in {:.1} s = {:.0} inputs/s; largest input {} B; slowest \
             input {:.1} ms ({} B: b\"{}\")",
            self.target,
            self.inputs,
            self.accepted,
            self.elapsed.as_secs_f64(),
            self.rate(),
            self.largest_input,
            self.slowest.as_secs_f64() * 1e3,
            self.slowest_input_len,
            self.slowest_input_head.escape_ascii(),
        )?;
        if self.peak_alloc > 0 {
            write!(
                f,
                "; peak allocation {:.2} MiB for a {} B input (bound {:.1} MiB)",
                self.peak_alloc as f64 / MIB as f64,
                self.peak_alloc_input_len,
                self.peak_alloc_bound as f64 / MIB as f64
            )?;
        }
        for (issue, n) in &self.known_issues {
            write!(f, "; KNOWN ISSUE hit by {n} inputs: {}", issue.summary)?;
        }
        write!(f, "; {} failures", self.failures.len())
    }
}

/// What kind of failure.
#[derive(Debug, Clone)]
pub enum FailureKind {
    /// The target panicked.
    Panic {
        /// Message, location and backtrace.
        message: String,
    },
    /// The input took longer than [`crate::runner::HANG_AFTER`].
    Hang {
        /// How long it took (or had taken when the watchdog fired).
        elapsed: Duration,
    },
    /// The input made the target hold more than its bound.
    Allocation {
        /// Most bytes held at once.
        peak: usize,
        /// The bound for this input.
        bound: usize,
    },
}

/// One failing input.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The target.
    pub target: String,
    /// Which input of the run (`u64::MAX` when the watchdog reports it).
    pub iteration: u64,
    /// What went wrong.
    pub kind: FailureKind,
    /// The input.
    pub input: Vec<u8>,
}

impl Failure {
    /// Writes the input to a file in the temporary directory and returns its path.
    pub fn save_input(&self) -> std::io::Result<std::path::PathBuf> {
        let path = std::env::temp_dir().join(format!(
            "lookout-fuzz-{}-{}.input",
            self.target, self.iteration
        ));
        std::fs::write(&path, &self.input)?;
        Ok(path)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            FailureKind::Panic { message } => write!(f, "{}: PANIC: {message}", self.target)?,
            FailureKind::Hang { elapsed } => write!(
                f,
                "{}: HANG: one input took {:.2} s",
                self.target,
                elapsed.as_secs_f64()
            )?,
            FailureKind::Allocation { peak, bound } => write!(
                f,
                "{}: ALLOCATION: one input held {peak} bytes at once, above its bound of {bound}",
                self.target
            )?,
        }
        write!(
            f,
            "\n  input #{} ({} bytes): ",
            self.iteration,
            self.input.len()
        )?;
        if self.input.len() <= INLINE_INPUT_BYTES {
            write!(f, "b\"{}\"", self.input.escape_ascii())
        } else {
            write!(
                f,
                "b\"{}\"… (truncated; see the saved file)",
                self.input[..INLINE_INPUT_BYTES].escape_ascii()
            )
        }
    }
}
