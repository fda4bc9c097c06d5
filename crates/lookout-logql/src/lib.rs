//! LogQL for Lookout: the parser (the whole language: selectors, line filters incl. `ip()` and `or`, the `json`,
//! `logfmt`, `regexp`, `pattern` and `unpack` parsers, label filters with numbers, durations and bytes,
//! `line_format`/`label_format`, `drop`/`keep`, `decolorize`, `unwrap`, range and vector aggregations, binary
//! operators, `label_replace`, `vector()`, `offset`), the pipeline, and the query engine.
//!
//! Why our own parser: of the crates.io LogQL parsers, `logql` (0.2.7) was last released in 2022, has no docs and no
//! metric-query coverage we could check, and `logql-parser` (0.1.4) is AGPL-3.0, which an Apache-2.0 appliance
//! cannot link; neither evaluates. The grammar follows Loki's `pkg/logql/syntax`.
//!
//! The engine reads through [`lookout_storage::logs::LogSource`] only: it never names the store or tantivy. Range
//! aggregations are evaluated here; the vector maths above them is `lookout-promql`'s, run over their results.

pub mod ast;
mod bridge;
mod display;
pub mod engine;
mod filters;
mod folded;
pub mod ingest;
pub mod labels;
mod lexer;
mod limits;
pub mod nesting;
mod parser;
mod parsers;
mod pattern;
mod pipeline;
mod range;

pub use engine::{
    ExecStats, LogLine, LogqlEngine, LogqlError, LogqlLimits, MetricValue, QueryParams,
    QueryResult, group_streams,
};
pub use parser::{parse, parse_selector};

/// A parse error with its position, printed as Loki prints it (`parse error at line 1, col 24: …`), the form
/// Grafana and Lookout's editor read the position from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parse error at line {line}, col {col}: {msg}")]
pub struct ParseError {
    /// Byte offset into the query.
    pub pos: usize,
    /// Line of `pos`, from 1.
    pub line: usize,
    /// Column of `pos` in characters, from 1.
    pub col: usize,
    /// What was wrong.
    pub msg: String,
}

impl ParseError {
    /// An error at byte `pos` (line and column are filled in by [`ParseError::located`]).
    pub fn at(pos: usize, msg: impl Into<String>) -> Self {
        ParseError {
            pos,
            line: 1,
            col: pos + 1,
            msg: msg.into(),
        }
    }

    /// Fills in the line and column of `pos` in `query`.
    pub fn located(mut self, query: &str) -> Self {
        let mut pos = self.pos.min(query.len());
        while !query.is_char_boundary(pos) {
            pos -= 1;
        }
        let before = &query[..pos];
        self.line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        self.col = before[line_start..].chars().count() + 1;
        self
    }
}

/// The canonical text of a query (`/loki/api/v1/format_query`).
pub fn format_query(q: &str) -> Result<String, ParseError> {
    Ok(parse(q)?.to_string())
}

#[cfg(test)]
mod tests;
