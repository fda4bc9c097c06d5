//! The pull parser: one pass over the body with a cursor, no allocation per line once its buffers are warm.
//!
//! Names and values without escapes are borrowed from the body; escaped ones are unescaped into one scratch
//! string that is reset per line. The body is checked for UTF-8 once up front, so every slice taken at an ASCII
//! delimiter is a valid `&str` without further checks.

use std::borrow::Cow;

use super::meta::{MetadataCollector, MetricKind};
use super::number::{parse_om_timestamp, parse_text_timestamp, parse_value};
use super::sample::{LabelSpan, ParsedSample, StrRef};
use super::{Format, ParseError, ParseOptions, ParseStats};

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
#[derive(Debug)]
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

    fn sample_line(&mut self) -> Result<Line, ParseError> {
        self.spans.clear();
        self.scratch.clear();
        let line = self.line;
        let series_start = self.pos;
        let first = self.bytes[self.pos];
        let mut name = None;
        if METRIC_START[first as usize] {
            name = Some(self.scan_metric_name());
        } else if first != b'{' {
            return Err(self.err_here(format!("expected metric name, got {}", self.got())));
        }
        let mut series_end = self.pos;
        self.skip_text_blanks();
        if self.peek() == Some(b'{') {
            self.pos += 1;
            self.label_set(&mut name, false)?;
            series_end = self.pos;
        }
        let Some(name) = name else {
            return Err(self.err_at(
                series_start,
                "metric name missing: quote it inside the braces or write it before them"
                    .to_owned(),
            ));
        };
        let value = self.value("metric name and labels")?;
        let timestamp_ms = match self.format {
            Format::Text => self.text_timestamp()?,
            Format::OpenMetrics => self.openmetrics_tail()?,
        };
        if self.format == Format::OpenMetrics
            && self.opts.skip_created_series
            && self.is_created_series(name)
        {
            self.stats.created_series_skipped += 1;
            return Ok(Line::Skip);
        }
        Ok(Line::Sample(SampleLine {
            name,
            series: (series_start, series_end),
            value,
            timestamp_ms,
            line,
        }))
    }

    fn is_created_series(&self, name: StrRef) -> bool {
        matches!(
            self.kind,
            MetricKind::Counter | MetricKind::Summary | MetricKind::Histogram
        ) && name.resolve(self.body, &self.scratch).ends_with("_created")
    }

    /// The label pairs after `{`, through `}`. A quoted string followed by `,` or `}` is the metric name
    /// (text format 1.0.0 and OpenMetrics 1.x allow UTF-8 names that way); exemplars may not name a metric.
    fn label_set(&mut self, name: &mut Option<StrRef>, exemplar: bool) -> Result<(), ParseError> {
        let om = self.format == Format::OpenMetrics;
        loop {
            self.skip_text_blanks();
            let name_pos = self.pos;
            let label_name = match self.peek() {
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                    self.pos += 1;
                    while self.pos < self.eol && LABEL_CHAR[self.bytes[self.pos] as usize] {
                        self.pos += 1;
                    }
                    StrRef {
                        start: name_pos,
                        end: self.pos,
                        in_scratch: false,
                    }
                }
                Some(b'"') => {
                    let quoted = self.quoted()?;
                    self.skip_text_blanks();
                    if !exemplar && matches!(self.peek(), Some(b',' | b'}')) {
                        if name.is_some() {
                            return Err(self.err_at(name_pos, "metric name already set".to_owned()));
                        }
                        *name = Some(quoted);
                        if self.peek() == Some(b',') {
                            self.pos += 1;
                        }
                        continue;
                    }
                    quoted
                }
                _ => {
                    return Err(
                        self.err_here(format!("expected label name or '}}', got {}", self.got()))
                    );
                }
            };
            self.skip_text_blanks();
            if self.peek() != Some(b'=') {
                let n = label_name.resolve(self.body, &self.scratch).to_owned();
                return Err(self.err_here(format!(
                    "expected '=' after label name {n:?}, got {}",
                    self.got()
                )));
            }
            self.pos += 1;
            self.skip_text_blanks();
            if self.peek() != Some(b'"') {
                return Err(self.err_here(format!(
                    "expected label value in quotes, got {}",
                    self.got()
                )));
            }
            let value = self.quoted()?;
            self.spans.push(LabelSpan {
                name: label_name,
                value,
            });
            if om {
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b'}') => {}
                    _ => {
                        return Err(self.err_here(format!(
                            "expected ',' or '}}' after label value, got {}",
                            self.got()
                        )));
                    }
                }
            } else {
                // Prometheus's text parser makes the comma optional; so does this one.
                self.skip_blanks();
                if self.peek() == Some(b',') {
                    self.pos += 1;
                }
            }
        }
    }

    /// A `"..."` string at the cursor, unescaping `\\`, `\"` and `\n` (other escapes stay as written, as in
    /// Prometheus). The text format allows a raw line break inside; OpenMetrics does not.
    fn quoted(&mut self) -> Result<StrRef, ParseError> {
        let open = self.pos;
        let (open_line, open_line_start) = (self.line, self.line_start);
        self.pos += 1;
        let start = self.pos;
        let mut segment = start;
        let mut scratch_start = None;
        loop {
            let Some(i) =
                memchr::memchr3(b'"', b'\\', b'\n', &self.bytes[self.pos..]).map(|i| self.pos + i)
            else {
                // Report where the string opened, not where the body ran out.
                self.line = open_line;
                self.line_start = open_line_start;
                return Err(self.err_at(open, "unterminated quoted string".to_owned()));
            };
            match self.bytes[i] {
                b'"' => {
                    self.pos = i + 1;
                    return Ok(match scratch_start {
                        None => StrRef {
                            start,
                            end: i,
                            in_scratch: false,
                        },
                        Some(s) => {
                            self.scratch.push_str(&self.body[segment..i]);
                            StrRef {
                                start: s,
                                end: self.scratch.len(),
                                in_scratch: true,
                            }
                        }
                    });
                }
                b'\\' => {
                    if scratch_start.is_none() {
                        scratch_start = Some(self.scratch.len());
                    }
                    self.scratch.push_str(&self.body[segment..i]);
                    match self.bytes.get(i + 1) {
                        Some(b'\\') => self.scratch.push('\\'),
                        Some(b'"') => self.scratch.push('"'),
                        Some(b'n') => self.scratch.push('\n'),
                        Some(b'\n') | None => {
                            self.pos = i;
                            return Err(self.err_here(
                                "backslash at end of line inside quoted string".to_owned(),
                            ));
                        }
                        Some(_) => {
                            // Unknown escape: keep the backslash, let the next segment copy the character.
                            self.scratch.push('\\');
                            segment = i + 1;
                            self.pos = i + 1;
                            continue;
                        }
                    }
                    segment = i + 2;
                    self.pos = i + 2;
                }
                _ => {
                    if self.format == Format::OpenMetrics {
                        self.pos = i;
                        return Err(self.err_at(open, "line break inside quoted string".to_owned()));
                    }
                    // The string continues on the next line; keep line numbers right for later errors.
                    self.begin_line(i + 1);
                    self.pos = i + 1;
                }
            }
        }
    }

    /// The value token, after the separator the format requires.
    fn value(&mut self, after: &str) -> Result<f64, ParseError> {
        let start = match self.format {
            Format::Text => {
                self.skip_blanks();
                let start = self.pos;
                while self.pos < self.eol && !matches!(self.bytes[self.pos], b' ' | b'\t' | b'{') {
                    self.pos += 1;
                }
                start
            }
            Format::OpenMetrics => {
                if self.peek() != Some(b' ') {
                    return Err(self.err_here(format!(
                        "expected ' ' and a value after {after}, got {}",
                        self.got()
                    )));
                }
                self.pos += 1;
                let start = self.pos;
                while self.pos < self.eol && self.bytes[self.pos] != b' ' {
                    self.pos += 1;
                }
                start
            }
        };
        if start == self.pos {
            return Err(self.err_here(format!("expected value after {after}, got {}", self.got())));
        }
        let token = &self.body[start..self.pos];
        parse_value(token).ok_or_else(|| self.err_at(start, format!("invalid value {token:?}")))
    }

    /// Text format: an optional integer millisecond timestamp, then the end of the line.
    fn text_timestamp(&mut self) -> Result<Option<i64>, ParseError> {
        self.skip_blanks();
        let start = self.pos;
        match self.peek() {
            None => return Ok(None),
            Some(c) if c.is_ascii_digit() => {}
            Some(_) => {
                return Err(self.err_here(format!(
                    "expected timestamp or end of line, got {}",
                    self.got()
                )));
            }
        }
        while self.pos < self.eol && self.bytes[self.pos].is_ascii_digit() {
            self.pos += 1;
        }
        let token = &self.body[start..self.pos];
        let ts = parse_text_timestamp(token)
            .ok_or_else(|| self.err_at(start, format!("timestamp {token} out of range")))?;
        self.skip_blanks();
        if self.peek().is_some() {
            return Err(self.err_here(format!(
                "expected end of line after timestamp, got {}",
                self.got()
            )));
        }
        Ok(Some(ts))
    }

    /// OpenMetrics: an optional float-seconds timestamp, an optional exemplar, then the end of the line.
    fn openmetrics_tail(&mut self) -> Result<Option<i64>, ParseError> {
        if self.peek().is_none() {
            return Ok(None);
        }
        if self.peek() != Some(b' ') {
            return Err(self.err_here(format!(
                "expected ' ' before timestamp or exemplar, got {}",
                self.got()
            )));
        }
        self.pos += 1;
        if self.at_exemplar() {
            self.exemplar()?;
            return Ok(None);
        }
        let ts = self.openmetrics_timestamp()?;
        match self.peek() {
            None => {}
            Some(b' ') => {
                self.pos += 1;
                if !self.at_exemplar() {
                    return Err(self.err_here(format!(
                        "expected exemplar '# {{' after timestamp, got {}",
                        self.got()
                    )));
                }
                self.exemplar()?;
            }
            Some(_) => {
                return Err(self.err_here(format!(
                    "expected end of line after timestamp, got {}",
                    self.got()
                )));
            }
        }
        Ok(Some(ts))
    }

    fn openmetrics_timestamp(&mut self) -> Result<i64, ParseError> {
        let start = self.pos;
        while self.pos < self.eol && self.bytes[self.pos] != b' ' {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(self.err_here(format!("expected timestamp, got {}", self.got())));
        }
        let token = &self.body[start..self.pos];
        parse_om_timestamp(token).map_err(|why| self.err_at(start, format!("{why}: {token:?}")))
    }

    fn at_exemplar(&self) -> bool {
        self.bytes[self.pos..self.eol].starts_with(b"# {")
    }

    /// `# {labels} value [timestamp]`: checked for syntax, then dropped.
    fn exemplar(&mut self) -> Result<(), ParseError> {
        self.pos += 3;
        let keep = self.spans.len();
        self.label_set(&mut None, true)?;
        self.spans.truncate(keep);
        self.value("exemplar labels")?;
        if self.peek() == Some(b' ') {
            self.pos += 1;
            self.openmetrics_timestamp()?;
        }
        if self.peek().is_some() {
            return Err(self.err_here(format!(
                "expected end of line after exemplar, got {}",
                self.got()
            )));
        }
        self.stats.exemplars_dropped += 1;
        Ok(())
    }

    /// Text format `#` lines: `# HELP` and `# TYPE` are metadata, anything else is a free comment.
    fn text_comment(&mut self) -> Result<Line, ParseError> {
        self.pos += 1;
        if !matches!(self.peek(), Some(b' ' | b'\t')) {
            return Ok(Line::Skip);
        }
        self.skip_blanks();
        let rest = &self.bytes[self.pos..self.eol];
        let keyword_ends = rest.len() > 4 && matches!(rest[4], b' ' | b'\t');
        let keyword = match &rest[..rest.len().min(4)] {
            b"HELP" if keyword_ends => "HELP",
            b"TYPE" if keyword_ends => "TYPE",
            _ => return Ok(Line::Skip),
        };
        self.pos += 4;
        self.skip_blanks();
        self.metadata_line(keyword)
    }

    /// OpenMetrics `#` lines: only `# HELP`, `# TYPE`, `# UNIT` and `# EOF` exist.
    fn openmetrics_comment(&mut self) -> Result<Line, ParseError> {
        self.pos += 1;
        if self.peek() != Some(b' ') {
            return Err(self.err_here(format!("expected ' ' after '#', got {}", self.got())));
        }
        self.pos += 1;
        let rest = &self.bytes[self.pos..self.eol];
        if rest == b"EOF" {
            return Ok(Line::Eof);
        }
        let keyword = match rest.get(..5) {
            Some(b"HELP ") => "HELP",
            Some(b"TYPE ") => "TYPE",
            Some(b"UNIT ") => "UNIT",
            _ => {
                let shown: String = self.body[self.pos..self.eol].chars().take(20).collect();
                return Err(self.err_here(format!(
                    "expected HELP, TYPE, UNIT or EOF after '# ', got {shown:?}"
                )));
            }
        };
        self.pos += 5;
        self.metadata_line(keyword)
    }

    /// The metric name and text of a HELP/TYPE/UNIT line, applied to the family's metadata.
    fn metadata_line(&mut self, keyword: &'static str) -> Result<Line, ParseError> {
        self.scratch.clear();
        let family = match self.peek() {
            Some(b'"') => self.quoted()?,
            Some(c) if METRIC_START[c as usize] => self.scan_metric_name(),
            _ => {
                return Err(self.err_here(format!(
                    "expected metric name after {keyword}, got {}",
                    self.got()
                )));
            }
        };
        let text_start = match (self.format, self.peek()) {
            (Format::Text, None) => self.pos,
            (Format::Text, Some(b' ' | b'\t')) | (Format::OpenMetrics, Some(b' ')) => self.pos + 1,
            _ => {
                return Err(self.err_here(format!(
                    "expected ' ' and text after the metric name in {keyword}, got {}",
                    self.got()
                )));
            }
        };
        let text = &self.body[text_start..self.eol];
        let family: Cow<'_, str> = if family.in_scratch {
            Cow::Owned(family.resolve(self.body, &self.scratch).to_owned())
        } else {
            Cow::Borrowed(&self.body[family.start..family.end])
        };
        match keyword {
            "TYPE" => {
                let kind = match self.format {
                    Format::Text => MetricKind::from_text_format(text),
                    Format::OpenMetrics => MetricKind::from_openmetrics(text),
                };
                let Some(kind) = kind else {
                    return Err(self.err_at(text_start, format!("invalid metric type {text:?}")));
                };
                self.kind = kind;
                if !self.opts.skip_metadata {
                    self.metadata.entry(&family).kind = kind;
                }
            }
            "HELP" => {
                if !self.opts.skip_metadata {
                    let help = unescape_help(text, self.format);
                    self.metadata.entry(&family).help = help;
                }
            }
            _ => {
                let suffix_ok = family.len() > text.len()
                    && family.ends_with(text)
                    && family.as_bytes()[family.len() - text.len() - 1] == b'_';
                if !text.is_empty() && !suffix_ok {
                    return Err(self.err_at(
                        text_start,
                        format!("unit {text:?} is not a suffix of metric {family:?}"),
                    ));
                }
                if !self.opts.skip_metadata {
                    self.metadata.entry(&family).unit = text.to_owned();
                }
            }
        }
        self.pos = self.eol;
        Ok(Line::Skip)
    }
}

/// HELP text escapes: `\\` and `\n` in the text format, plus `\"` in OpenMetrics; others stay as written.
fn unescape_help(text: &str, format: Format) -> String {
    if !text.contains('\\') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.clone().next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if format == Format::OpenMetrics => out.push('"'),
            _ => {
                out.push('\\');
                continue;
            }
        }
        chars.next();
    }
    out
}
