//! Sample lines: metric name, label set, quoted strings, value, timestamp and exemplar.

use super::{LABEL_CHAR, Line, METRIC_START, Parser, SampleLine};
use crate::exposition::meta::MetricKind;
use crate::exposition::number::{parse_om_timestamp, parse_text_timestamp, parse_value};
use crate::exposition::sample::{LabelSpan, StrRef};
use crate::exposition::{Format, ParseError};

impl Parser<'_> {
    pub(super) fn sample_line(&mut self) -> Result<Line, ParseError> {
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
    pub(super) fn quoted(&mut self) -> Result<StrRef, ParseError> {
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
}
