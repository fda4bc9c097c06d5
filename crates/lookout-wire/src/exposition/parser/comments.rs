//! `#` lines: free comments, `# HELP`, `# TYPE`, `# UNIT` and OpenMetrics `# EOF`.

use std::borrow::Cow;

use super::{Line, METRIC_START, Parser};
use crate::exposition::meta::MetricKind;
use crate::exposition::{Format, ParseError};

impl Parser<'_> {
    /// Text format `#` lines: `# HELP` and `# TYPE` are metadata, anything else is a free comment.
    pub(super) fn text_comment(&mut self) -> Result<Line, ParseError> {
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
    pub(super) fn openmetrics_comment(&mut self) -> Result<Line, ParseError> {
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
