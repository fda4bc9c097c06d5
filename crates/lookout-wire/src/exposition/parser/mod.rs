//! The pull parser: one pass over the body with a cursor, no allocation per line once its buffers are warm.
//!
//! Names and values without escapes are borrowed from the body; escaped ones are unescaped into one scratch
//! string that is reset per line. The body is checked for UTF-8 once up front, so every slice taken at an ASCII
//! delimiter is a valid `&str` without further checks.

use super::meta::{MetadataCollector, MetricKind};
use super::sample::{LabelSpan, ParsedSample, StrRef};
use super::{Format, ParseError, ParseOptions, ParseStats};

mod comments;
mod series;

/// `[a-zA-Z_:]`, the first byte of a metric name.
const fn metric_start_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphabetic() || b == b'_' || b == b':';
        c += 1;
    }
    t
}

/// `[a-zA-Z0-9_:]`, the rest of a metric name.
const fn metric_char_table() -> [bool; 256] {
    let mut t = metric_start_table();
    let mut c = b'0';
    while c <= b'9' {
        t[c as usize] = true;
        c += 1;
    }
    t
}

/// `[a-zA-Z0-9_]`, the rest of a label name (the first byte must not be a digit).
const fn label_char_table() -> [bool; 256] {
    let mut t = metric_char_table();
    t[b':' as usize] = false;
    t
}

static METRIC_START: [bool; 256] = metric_start_table();
static METRIC_CHAR: [bool; 256] = metric_char_table();
static LABEL_CHAR: [bool; 256] = label_char_table();

/// What one line turned out to be.
enum Line {
    /// A blank line, a comment or metadata.
    Skip,
    /// A sample line.
    Sample(SampleLine),
    /// OpenMetrics `# EOF`.
    Eof,
}

/// The parts of a sample line, as positions (so the parser can be borrowed again to build the view).
struct SampleLine {
    name: StrRef,
    series: (usize, usize),
    value: f64,
    timestamp_ms: Option<i64>,
    line: u32,
}

/// A pull parser over one exposition body; see [`super::parse`] for the push form.
pub struct Parser<'b> {
    body: &'b str,
    bytes: &'b [u8],
    format: Format,
    opts: ParseOptions,
    pos: usize,
    /// End of the current line's content: its `\n` (or `\r` before it under `allow_crlf`), or the body's end.
    eol: usize,
    line: u32,
    line_start: usize,
    kind: MetricKind,
    spans: Vec<LabelSpan>,
    scratch: String,
    metadata: MetadataCollector,
    stats: ParseStats,
    done: bool,
}

impl std::fmt::Debug for Parser<'_> {
    /// Shows the position, not the body.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parser")
            .field("format", &self.format)
            .field("line", &self.line)
            .field("pos", &self.pos)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl<'b> Parser<'b> {
    /// A parser for `body` in `format`; fails when the body is not UTF-8 (naming the line).
    pub fn new(body: &'b [u8], format: Format, opts: ParseOptions) -> Result<Self, ParseError> {
        let text = std::str::from_utf8(body).map_err(|e| {
            let at = e.valid_up_to();
            let line_start = memchr::memrchr(b'\n', &body[..at]).map_or(0, |i| i + 1);
            ParseError {
                line: memchr::memchr_iter(b'\n', &body[..at]).count() as u32 + 1,
                column: Some((at - line_start) as u32 + 1),
                problem: "invalid utf-8".to_owned(),
            }
        })?;
        Ok(Parser {
            body: text,
            bytes: body,
            format,
            opts,
            pos: 0,
            eol: 0,
            line: 0,
            line_start: 0,
            kind: MetricKind::Unknown,
            spans: Vec::with_capacity(16),
            scratch: String::new(),
            metadata: MetadataCollector::default(),
            stats: ParseStats::default(),
            done: false,
        })
    }

    /// The syntax being parsed.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The next sample, `None` at the end of the body; an error ends the parse (the whole body is invalid).
    pub fn next_sample(&mut self) -> Result<Option<ParsedSample<'_>>, ParseError> {
        loop {
            if self.done {
                return Ok(None);
            }
            if self.pos >= self.bytes.len() {
                self.done = true;
                if self.format == Format::OpenMetrics {
                    return Err(ParseError {
                        line: self.line.max(1),
                        column: None,
                        problem: "openmetrics body does not end with '# EOF'".to_owned(),
                    });
                }
                return Ok(None);
            }
            self.begin_line(self.pos);
            let outcome = match self.parse_line() {
                Ok(o) => o,
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
            };
            match outcome {
                Line::Skip => self.end_line(),
                Line::Eof => {
                    self.end_line();
                    self.done = true;
                    if self.pos < self.bytes.len() {
                        return Err(ParseError {
                            line: self.line + 1,
                            column: None,
                            problem: "unexpected data after '# EOF'".to_owned(),
                        });
                    }
                    return Ok(None);
                }
                Line::Sample(s) => {
                    self.end_line();
                    self.stats.samples += 1;
                    return Ok(Some(ParsedSample {
                        series_text: &self.bytes[s.series.0..s.series.1],
                        value: s.value,
                        timestamp_ms: s.timestamp_ms,
                        line: s.line,
                        kind: self.kind,
                        name: s.name.resolve(self.body, &self.scratch),
                        body: self.body,
                        scratch: &self.scratch,
                        spans: &self.spans,
                    }));
                }
            }
        }
    }

    /// The counts and metadata seen so far (all of them once `next_sample` returned `None`).
    pub fn finish(self) -> ParseStats {
        ParseStats {
            lines: self.line,
            metadata: self.metadata.into_vec(),
            ..self.stats
        }
    }

    fn begin_line(&mut self, start: usize) {
        self.line += 1;
        self.line_start = start;
        let newline =
            memchr::memchr(b'\n', &self.bytes[start..]).map_or(self.bytes.len(), |i| start + i);
        self.eol = if self.opts.allow_crlf && newline > start && self.bytes[newline - 1] == b'\r' {
            newline - 1
        } else {
            newline
        };
    }

    /// Moves past the current line's terminator.
    fn end_line(&mut self) {
        self.pos = self.eol;
        if self.opts.allow_crlf && self.bytes.get(self.pos) == Some(&b'\r') {
            self.pos += 1;
        }
        if self.bytes.get(self.pos) == Some(&b'\n') {
            self.pos += 1;
        }
    }

    fn parse_line(&mut self) -> Result<Line, ParseError> {
        match self.format {
            Format::Text => {
                self.skip_blanks();
                match self.peek() {
                    None => Ok(Line::Skip),
                    Some(b'#') => self.text_comment(),
                    Some(_) => self.sample_line(),
                }
            }
            Format::OpenMetrics => match self.peek() {
                None => Err(self.err_here("empty line (openmetrics allows none)".to_owned())),
                Some(b'#') => self.openmetrics_comment(),
                Some(_) => self.sample_line(),
            },
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        if self.pos < self.eol {
            Some(self.bytes[self.pos])
        } else {
            None
        }
    }

    #[inline]
    fn skip_blanks(&mut self) {
        while self.pos < self.eol && matches!(self.bytes[self.pos], b' ' | b'\t') {
            self.pos += 1;
        }
    }

    /// Skips the text format's optional blanks; OpenMetrics allows none between these tokens.
    #[inline]
    fn skip_text_blanks(&mut self) {
        if self.format == Format::Text {
            self.skip_blanks();
        }
    }

    /// Describes what is at the cursor, for "expected X, got Y" messages.
    fn got(&self) -> String {
        if self.pos >= self.bytes.len() {
            return "end of input".to_owned();
        }
        if self.pos >= self.eol {
            return "end of line".to_owned();
        }
        let c = self.body[self.pos..].chars().next().unwrap_or('?');
        format!("{c:?}")
    }

    fn err_here(&self, problem: String) -> ParseError {
        self.err_at(self.pos, problem)
    }

    fn err_at(&self, pos: usize, mut problem: String) -> ParseError {
        let line_end = memchr::memchr(b'\n', &self.bytes[self.line_start..])
            .map_or(self.bytes.len(), |i| self.line_start + i);
        if !self.opts.allow_crlf && line_end > self.line_start && self.bytes[line_end - 1] == b'\r'
        {
            problem.push_str(" (the line ends with CRLF; only LF line endings are accepted)");
        }
        ParseError {
            line: self.line,
            column: Some((pos.saturating_sub(self.line_start)) as u32 + 1),
            problem,
        }
    }

    fn scan_metric_name(&mut self) -> StrRef {
        let start = self.pos;
        self.pos += 1;
        while self.pos < self.eol && METRIC_CHAR[self.bytes[self.pos] as usize] {
            self.pos += 1;
        }
        StrRef {
            start,
            end: self.pos,
            in_scratch: false,
        }
    }
}
