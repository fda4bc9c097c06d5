//! Lookout's own metrics in the Prometheus text format. Every component renders its counters and gauges through
//! [`MetricsWriter`], so `# HELP`/`# TYPE` lines, number formatting and label escaping are written once, and
//! `/metrics` is one document no matter how many components contribute to it.

use std::fmt::Write as _;

/// The type line of a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Only goes up (names end in `_total`).
    Counter,
    /// Goes up and down.
    Gauge,
}

impl MetricKind {
    fn as_str(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
        }
    }
}

/// Collects families into one exposition text.
#[derive(Debug, Default)]
pub struct MetricsWriter {
    out: String,
}

/// Samples of one family being written; created by [`MetricsWriter::family`].
#[derive(Debug)]
pub struct Family<'a> {
    writer: &'a mut MetricsWriter,
    name: &'a str,
}

impl MetricsWriter {
    /// An empty document.
    pub fn new() -> Self {
        MetricsWriter::default()
    }

    /// Starts a family: writes its HELP and TYPE lines; add samples with [`Family::sample`].
    pub fn family<'a>(&'a mut self, name: &'a str, kind: MetricKind, help: &str) -> Family<'a> {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.as_str());
        Family { writer: self, name }
    }

    /// A counter without labels.
    pub fn counter(&mut self, name: &str, help: &str, value: impl Into<MetricValue>) {
        self.family(name, MetricKind::Counter, help)
            .sample(&[], value);
    }

    /// A gauge without labels.
    pub fn gauge(&mut self, name: &str, help: &str, value: impl Into<MetricValue>) {
        self.family(name, MetricKind::Gauge, help)
            .sample(&[], value);
    }

    /// The text written so far.
    pub fn as_str(&self) -> &str {
        &self.out
    }

    /// The finished document.
    pub fn finish(self) -> String {
        self.out
    }
}

impl Family<'_> {
    /// One sample with `labels` (name, value) in the given order.
    pub fn sample(&mut self, labels: &[(&str, &str)], value: impl Into<MetricValue>) -> &mut Self {
        let out = &mut self.writer.out;
        out.push_str(self.name);
        if !labels.is_empty() {
            out.push('{');
            for (i, (name, value)) in labels.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(name);
                out.push_str("=\"");
                for c in value.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '"' => out.push_str("\\\""),
                        '\n' => out.push_str("\\n"),
                        c => out.push(c),
                    }
                }
                out.push('"');
            }
            out.push('}');
        }
        let _ = writeln!(out, " {}", value.into());
        self
    }
}

/// A sample value: integers print exactly, floats as Prometheus prints them (`+Inf`, `NaN`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MetricValue {
    /// An exact count.
    Int(u64),
    /// Anything else.
    Float(f64),
}

impl From<u64> for MetricValue {
    fn from(v: u64) -> Self {
        MetricValue::Int(v)
    }
}

impl From<usize> for MetricValue {
    fn from(v: usize) -> Self {
        MetricValue::Int(v as u64)
    }
}

impl From<f64> for MetricValue {
    fn from(v: f64) -> Self {
        MetricValue::Float(v)
    }
}

impl From<bool> for MetricValue {
    fn from(v: bool) -> Self {
        MetricValue::Int(u64::from(v))
    }
}

impl std::fmt::Display for MetricValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            MetricValue::Int(v) => write!(f, "{v}"),
            MetricValue::Float(v) if v.is_nan() => f.write_str("NaN"),
            MetricValue::Float(v) if v == f64::INFINITY => f.write_str("+Inf"),
            MetricValue::Float(v) if v == f64::NEG_INFINITY => f.write_str("-Inf"),
            MetricValue::Float(v) => write!(f, "{v}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_families_with_escaped_labels() {
        let mut w = MetricsWriter::new();
        w.counter("a_total", "Things.\nMore", 3u64);
        w.family("b", MetricKind::Gauge, "B.")
            .sample(&[("k", "x\"y\\z")], 1.5)
            .sample(&[("k", "n"), ("j", "m")], f64::INFINITY);
        assert_eq!(
            w.finish(),
            "# HELP a_total Things.\\nMore\n# TYPE a_total counter\na_total 3\n\
             # HELP b B.\n# TYPE b gauge\nb{k=\"x\\\"y\\\\z\"} 1.5\nb{k=\"n\",j=\"m\"} +Inf\n"
        );
    }
}
