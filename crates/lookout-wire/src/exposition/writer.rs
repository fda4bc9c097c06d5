//! Writing the text format 0.0.4 for `/federate` and `/metrics`: HELP and TYPE lines, escaped label values,
//! Go-style floats and millisecond timestamps.

use std::fmt::Write as _;

use lookout_model::{Labels, METRIC_NAME, Sample};

use super::float_fmt::write_go_float;
use super::meta::MetricKind;

/// Appends `# HELP` (when `help` is given) and `# TYPE` for one family.
pub fn write_family_header(out: &mut String, family: &str, kind: MetricKind, help: Option<&str>) {
    if let Some(help) = help {
        out.push_str("# HELP ");
        out.push_str(family);
        out.push(' ');
        escape_into(out, help, false);
        out.push('\n');
    }
    out.push_str("# TYPE ");
    out.push_str(family);
    out.push(' ');
    out.push_str(kind.text_format_word());
    out.push('\n');
}

/// Appends one sample line: `name{a="b"} value [timestamp]`. Labels other than `__name__` are written in
/// the set's (sorted) order; braces are left out when there are none. Stale markers are written as `NaN`, so
/// callers that must not expose them (federation) drop them first.
pub fn write_sample_line(out: &mut String, labels: &Labels, value: f64, timestamp_ms: Option<i64>) {
    out.push_str(labels.metric_name().unwrap_or(""));
    let mut first = true;
    for label in labels.iter().filter(|l| &*l.name != METRIC_NAME) {
        out.push(if first { '{' } else { ',' });
        first = false;
        out.push_str(&label.name);
        out.push_str("=\"");
        escape_into(out, &label.value, true);
        out.push('"');
    }
    if !first {
        out.push('}');
    }
    out.push(' ');
    write_go_float(out, value);
    if let Some(t) = timestamp_ms {
        write!(out, " {t}").expect("writing to a String cannot fail");
    }
    out.push('\n');
}

/// Appends a whole family: its header, then every sample of every series, with timestamps when asked.
pub fn write_text<'s>(
    out: &mut String,
    family: &str,
    kind: MetricKind,
    help: Option<&str>,
    series: impl IntoIterator<Item = (&'s Labels, &'s [Sample])>,
    with_timestamps: bool,
) {
    write_family_header(out, family, kind, help);
    for (labels, samples) in series {
        for s in samples {
            write_sample_line(out, labels, s.v, with_timestamps.then_some(s.t));
        }
    }
}

/// Escapes `\` and line feeds, and `"` too in label values (HELP text leaves quotes alone).
fn escape_into(out: &mut String, s: &str, quotes: bool) {
    if !s
        .bytes()
        .any(|b| b == b'\\' || b == b'\n' || (quotes && b == b'"'))
    {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quotes => out.push_str("\\\""),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_prometheus_text() {
        let a = Labels::from_pairs(&[
            ("__name__", "http_requests_total"),
            ("path", "/a\"b\\c\nd"),
            ("code", "200"),
        ])
        .unwrap();
        let b = Labels::from_pairs(&[("__name__", "http_requests_total")]).unwrap();
        let sa = [Sample::new(1_700_000_000_000, 1027.0)];
        let sb = [
            Sample::new(1_700_000_000_500, f64::INFINITY),
            Sample::new(1_700_000_001_000, 1.5e-7),
        ];
        let mut out = String::new();
        write_text(
            &mut out,
            "http_requests_total",
            MetricKind::Counter,
            Some("Requests \\ by\npath"),
            [(&a, &sa[..]), (&b, &sb[..])],
            true,
        );
        let want = "# HELP http_requests_total Requests \\\\ by\\npath\n\
                    # TYPE http_requests_total counter\n\
                    http_requests_total{code=\"200\",path=\"/a\\\"b\\\\c\\nd\"} 1027 1700000000000\n\
                    http_requests_total +Inf 1700000000500\n\
                    http_requests_total 1.5e-07 1700000001000\n";
        assert_eq!(out, want);
    }

    #[test]
    fn header_without_help_and_untyped_kinds() {
        let mut out = String::new();
        write_family_header(&mut out, "x", MetricKind::Info, None);
        assert_eq!(out, "# TYPE x untyped\n");
        let mut out = String::new();
        write_sample_line(
            &mut out,
            &Labels::from_pairs(&[("__name__", "x")]).unwrap(),
            f64::NAN,
            None,
        );
        assert_eq!(out, "x NaN\n");
    }
}
