//! The Prometheus text exposition format (0.0.4, and the quoted-name syntax of 1.0.0) and OpenMetrics 1.0:
//! a fast parser for scrapes and imports, and a writer for `/federate` and `/metrics`.
//!
//! The parser follows Prometheus's own (`model/textparse`): the text format tolerates blank lines, tabs and
//! spaces between tokens and free comments; OpenMetrics is strict (single spaces, no blank lines, `# EOF` last).
//! Neither tolerates CRLF line endings unless [`ParseOptions::allow_crlf`] is set, because Prometheus rejects a
//! carriage return before a value's line feed.

mod float_fmt;
mod meta;
mod number;
mod parser;
mod sample;
mod writer;

pub use float_fmt::{write_go_float, write_openmetrics_float};
pub use meta::{MetricKind, MetricMetadata};
pub use number::{NORMAL_NAN_BITS, parse_value};
pub use parser::Parser;
pub use sample::{LabelIter, ParsedSample};
pub use writer::{write_family_header, write_sample_line, write_text};

/// The `Accept` header Lookout sends when scraping: Prometheus 3's default preference order (OpenMetrics 1.0.0,
/// OpenMetrics 0.0.1, text 1.0.0, text 0.0.4) with `escaping=underscores`, because Lookout's label sets hold
/// legacy names only, so targets should escape UTF-8 names rather than send them quoted.
pub const SCRAPE_ACCEPT_HEADER: &str = "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,\
application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=underscores;q=0.4,\
text/plain;version=0.0.4;q=0.3,*/*;q=0.2";

/// The `Accept` header Prometheus 2.x sent, for targets that misbehave on the 3.x header.
pub const PROMETHEUS2_SCRAPE_ACCEPT_HEADER: &str = "application/openmetrics-text;version=1.0.0,\
application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// The `Content-Type` of text written by [`write_text`].
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The media type that selects the OpenMetrics parser.
pub const OPENMETRICS_MEDIA_TYPE: &str = "application/openmetrics-text";

/// Which exposition syntax a body uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Prometheus text format 0.0.4 (and 1.0.0's quoted names): millisecond integer timestamps.
    Text,
    /// OpenMetrics 1.0: float-second timestamps, exemplars, `# UNIT`, mandatory `# EOF`.
    OpenMetrics,
}

impl Format {
    /// The parser for a response's `Content-Type`: OpenMetrics for `application/openmetrics-text`, the text
    /// format for anything else (including a missing header).
    pub fn from_content_type(content_type: Option<&str>) -> Format {
        let Some(ct) = content_type else {
            return Format::Text;
        };
        let media = ct.split(';').next().unwrap_or("").trim();
        if media.eq_ignore_ascii_case(OPENMETRICS_MEDIA_TYPE) {
            Format::OpenMetrics
        } else {
            Format::Text
        }
    }

    /// Guesses the syntax of an import body without a trustworthy `Content-Type`: OpenMetrics when its last
    /// line is `# EOF` (as the nodegen dataset's is), the text format otherwise.
    pub fn sniff(body: &[u8]) -> Format {
        let trimmed = body.strip_suffix(b"\n").unwrap_or(body);
        let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
        let last_line = match memchr::memrchr(b'\n', trimmed) {
            Some(i) => &trimmed[i + 1..],
            None => trimmed,
        };
        if last_line == b"# EOF" {
            Format::OpenMetrics
        } else {
            Format::Text
        }
    }
}

/// Knobs for [`parse`] and [`Parser`].
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// Skip OpenMetrics `_created` series of counters, summaries and histograms instead of returning them as
    /// samples (Prometheus does this when created-timestamp ingestion is on; by default it keeps them).
    pub skip_created_series: bool,
    /// Treat `\r\n` as a line end. Prometheus does not; useful for imports typed on Windows.
    pub allow_crlf: bool,
    /// Do not collect `# HELP`/`# TYPE`/`# UNIT` into [`ParseStats::metadata`] (they are still validated).
    pub skip_metadata: bool,
}

/// What a whole-body parse saw.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParseStats {
    /// Lines read, including comments and blank lines.
    pub lines: u32,
    /// Samples handed to the sink.
    pub samples: u64,
    /// Exemplars parsed and dropped.
    pub exemplars_dropped: u64,
    /// `_created` series skipped (see [`ParseOptions::skip_created_series`]).
    pub created_series_skipped: u64,
    /// One entry per family that had HELP, TYPE or UNIT, in first-seen order.
    pub metadata: Vec<MetricMetadata>,
}

/// A malformed exposition: the line (1-based), the column where it helps, and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}{col}: {problem}", col = ColumnSuffix(*.column))]
pub struct ParseError {
    /// The 1-based line number.
    pub line: u32,
    /// The 1-based byte column, when one position is to blame.
    pub column: Option<u32>,
    /// What is wrong, in lowercase prose.
    pub problem: String,
}

/// Renders `, column N` for an error position, or nothing.
struct ColumnSuffix(Option<u32>);

impl std::fmt::Display for ColumnSuffix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(c) => write!(f, ", column {c}"),
            None => Ok(()),
        }
    }
}

/// Parses a whole scrape body, choosing the syntax from `content_type`, and hands every sample to `sink`.
/// A malformed body is an error for the whole body: callers must discard the samples already seen.
pub fn parse(
    body: &[u8],
    content_type: Option<&str>,
    opts: &ParseOptions,
    sink: &mut impl FnMut(ParsedSample<'_>),
) -> Result<ParseStats, ParseError> {
    parse_format(body, Format::from_content_type(content_type), opts, sink)
}

/// Parses a whole body in the given syntax; see [`parse`].
pub fn parse_format(
    body: &[u8],
    format: Format,
    opts: &ParseOptions,
    sink: &mut impl FnMut(ParsedSample<'_>),
) -> Result<ParseStats, ParseError> {
    let mut parser = Parser::new(body, format, opts.clone())?;
    while let Some(sample) = parser.next_sample()? {
        sink(sample);
    }
    Ok(parser.finish())
}

/// Parses an import body (`POST /api/v1/import/prometheus`): the text format with optional millisecond
/// timestamps, or OpenMetrics (seconds timestamps, `# EOF`) when the `Content-Type` says so or the body ends
/// with `# EOF`, as the nodegen dataset does.
pub fn parse_import(
    body: &[u8],
    content_type: Option<&str>,
    opts: &ParseOptions,
    sink: &mut impl FnMut(ParsedSample<'_>),
) -> Result<ParseStats, ParseError> {
    let format = match Format::from_content_type(content_type) {
        Format::OpenMetrics => Format::OpenMetrics,
        Format::Text => Format::sniff(body),
    };
    parse_format(body, format, opts, sink)
}

#[cfg(test)]
mod tests;
