//! One parsed sample, borrowing from the body and the parser's scratch space until the next sample.

use std::borrow::Cow;

use lookout_model::{Labels, LabelsBuilder, METRIC_NAME};

use super::ParseError;
use super::float_fmt::write_openmetrics_float;
use super::meta::MetricKind;
use super::number::parse_value;

/// Where a name or value lives: a slice of the body (no escapes) or of the parser's unescape buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StrRef {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) in_scratch: bool,
}

impl StrRef {
    /// The text this reference points at.
    #[inline]
    pub(crate) fn resolve<'a>(self, body: &'a str, scratch: &'a str) -> &'a str {
        if self.in_scratch {
            &scratch[self.start..self.end]
        } else {
            &body[self.start..self.end]
        }
    }
}

/// One `name="value"` pair inside the braces, in written order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LabelSpan {
    pub(crate) name: StrRef,
    pub(crate) value: StrRef,
}

/// A sample as read from an exposition line. Borrowed from the parser: valid until the next sample is pulled.
#[derive(Clone, Copy)]
pub struct ParsedSample<'p> {
    /// The series exactly as written, `name{...}` (no leading whitespace, no value): a scrape cache key that
    /// maps to a series reference without rebuilding [`Labels`].
    pub series_text: &'p [u8],
    /// The value; every NaN is Prometheus's canonical NaN ([`super::NORMAL_NAN_BITS`]).
    pub value: f64,
    /// The explicit timestamp in milliseconds, if the line had one.
    pub timestamp_ms: Option<i64>,
    /// The 1-based line the sample starts on.
    pub line: u32,
    /// The type from the most recent `# TYPE` line (Prometheus applies it to whatever follows).
    pub kind: MetricKind,
    pub(crate) name: &'p str,
    pub(crate) body: &'p str,
    pub(crate) scratch: &'p str,
    pub(crate) spans: &'p [LabelSpan],
}

impl<'p> ParsedSample<'p> {
    /// The metric name, unescaped.
    pub fn metric_name(&self) -> &'p str {
        self.name
    }

    /// Number of labels inside the braces (the metric name not counted).
    pub fn label_count(&self) -> usize {
        self.spans.len()
    }

    /// The labels inside the braces in written order, unescaped, with `le` (histograms) and `quantile`
    /// (summaries) normalised to OpenMetrics float form as Prometheus does (`le="1"` becomes `1.0`).
    pub fn labels(&self) -> LabelIter<'p> {
        let normalized = match self.kind {
            MetricKind::Histogram => Some("le"),
            MetricKind::Summary => Some("quantile"),
            _ => None,
        };
        LabelIter {
            spans: self.spans.iter(),
            body: self.body,
            scratch: self.scratch,
            normalized,
        }
    }

    /// Builds the validated, sorted label set including `__name__`. Call it once per new series (key a cache
    /// by [`Self::series_text`]); fails on duplicate or invalid names, naming the line and the series.
    pub fn to_labels(&self) -> Result<Labels, ParseError> {
        let mut builder = LabelsBuilder::with_capacity(self.spans.len() + 1);
        builder.push(METRIC_NAME, self.name);
        for (name, value) in self.labels() {
            builder.push(name, value.as_ref());
        }
        builder.build().map_err(|e| ParseError {
            line: self.line,
            column: None,
            problem: format!(
                "invalid series {}: {e}",
                String::from_utf8_lossy(self.series_text)
            ),
        })
    }
}

impl std::fmt::Debug for ParsedSample<'_> {
    /// Shows the series and value, not the whole body the sample borrows from.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedSample")
            .field("series_text", &String::from_utf8_lossy(self.series_text))
            .field("value", &self.value)
            .field("timestamp_ms", &self.timestamp_ms)
            .field("line", &self.line)
            .field("kind", &self.kind)
            .finish()
    }
}

/// Iterator over a sample's `(name, value)` pairs; see [`ParsedSample::labels`].
#[derive(Clone)]
pub struct LabelIter<'p> {
    spans: std::slice::Iter<'p, LabelSpan>,
    body: &'p str,
    scratch: &'p str,
    normalized: Option<&'static str>,
}

impl<'p> Iterator for LabelIter<'p> {
    type Item = (&'p str, Cow<'p, str>);

    fn next(&mut self) -> Option<Self::Item> {
        let span = self.spans.next()?;
        let name = span.name.resolve(self.body, self.scratch);
        let value = span.value.resolve(self.body, self.scratch);
        if self.normalized == Some(name) {
            return Some((name, normalize_float_label(value)));
        }
        Some((name, Cow::Borrowed(value)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.spans.size_hint()
    }
}

impl std::fmt::Debug for LabelIter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// Rewrites a numeric `le`/`quantile` value in OpenMetrics float form; leaves non-numbers alone.
fn normalize_float_label(value: &str) -> Cow<'_, str> {
    let Some(v) = parse_value(value) else {
        return Cow::Borrowed(value);
    };
    let mut formatted = String::with_capacity(value.len() + 2);
    write_openmetrics_float(&mut formatted, v);
    if formatted == value {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(formatted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_bucket_bounds() {
        assert_eq!(normalize_float_label("1"), "1.0");
        assert_eq!(normalize_float_label("0.005"), "0.005");
        assert!(matches!(normalize_float_label("0.005"), Cow::Borrowed(_)));
        assert_eq!(normalize_float_label("+Inf"), "+Inf");
        assert_eq!(normalize_float_label("Inf"), "+Inf");
        assert_eq!(normalize_float_label("1e3"), "1000.0");
        assert_eq!(normalize_float_label("abc"), "abc");
    }
}
