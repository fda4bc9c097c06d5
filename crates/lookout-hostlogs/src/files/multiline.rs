//! Promtail's `multiline` stage: a line matching `firstline` starts a block and sends the previous one; other
//! lines join the current block (or start one, when there is none) with `\n`; a block is also sent when it has
//! `max_lines` lines or when no line arrived for `max_wait_time`.

use std::time::{Duration, Instant};

use regex::Regex;

/// A finished block: its text and the file offset of its first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block {
    pub text: String,
    pub start: u64,
}

/// The block being assembled for one file.
#[derive(Debug)]
pub(crate) struct Multiline {
    firstline: Regex,
    max_lines: usize,
    max_wait: Duration,
    lines: Vec<String>,
    start: u64,
    last_line_at: Instant,
}

impl Multiline {
    /// An empty assembler.
    pub fn new(firstline: Regex, max_lines: usize, max_wait: Duration) -> Self {
        Multiline {
            firstline,
            max_lines: max_lines.max(1),
            max_wait,
            lines: Vec::new(),
            start: 0,
            last_line_at: Instant::now(),
        }
    }

    /// Adds a line starting at file offset `start`; returns the blocks it completes (at most two: the previous
    /// block, and this one when it reaches `max_lines`).
    pub fn push(&mut self, line: String, start: u64, now: Instant, out: &mut Vec<Block>) {
        if self.firstline.is_match(&line) {
            out.extend(self.flush());
        }
        if self.lines.is_empty() {
            self.start = start;
        }
        self.lines.push(line);
        self.last_line_at = now;
        if self.lines.len() >= self.max_lines {
            out.extend(self.flush());
        }
    }

    /// The current block when it waited `max_wait_time` since its last line.
    pub fn flush_if_due(&mut self, now: Instant) -> Option<Block> {
        if !self.lines.is_empty() && now.duration_since(self.last_line_at) >= self.max_wait {
            self.flush()
        } else {
            None
        }
    }

    /// The current block, if any.
    pub fn flush(&mut self) -> Option<Block> {
        if self.lines.is_empty() {
            return None;
        }
        let text = std::mem::take(&mut self.lines).join("\n");
        Some(Block {
            text,
            start: self.start,
        })
    }

    /// The file offset of the pending block's first line: where reading must resume after a restart.
    pub fn pending_start(&self) -> Option<u64> {
        (!self.lines.is_empty()).then_some(self.start)
    }
}
