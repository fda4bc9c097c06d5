//! A minimal text-format writer. `lookout_model::MetricsWriter` has no `untyped` kind, which node_exporter uses
//! for vmstat and netstat fields, so this one writes all three; it also lets a caller write a sample without
//! rebuilding a label slice per family.

use std::fmt::Write as _;

/// The `# TYPE` of a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Untyped,
}

/// One exposition being written; families must be written whole (all samples after their header). A header
/// that gets no sample is removed, so collectors may write headers before knowing whether data follows.
#[derive(Debug)]
pub(crate) struct Exposition {
    out: String,
    /// Where the current family's header starts, and whether it has a sample yet.
    family_start: usize,
    family_has_samples: bool,
}

impl Exposition {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Exposition {
            out: String::with_capacity(n),
            family_start: 0,
            family_has_samples: true,
        }
    }

    /// Drops the current family's header when no sample followed it.
    fn close_family(&mut self) {
        if !self.family_has_samples {
            self.out.truncate(self.family_start);
        }
    }

    /// Writes the HELP and TYPE lines of `name`.
    pub(crate) fn header(&mut self, name: &str, help: &str, kind: Kind) {
        self.close_family();
        self.family_start = self.out.len();
        self.family_has_samples = false;
        self.out.push_str("# HELP ");
        self.out.push_str(name);
        self.out.push(' ');
        for c in help.chars() {
            match c {
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                c => self.out.push(c),
            }
        }
        self.out.push_str("\n# TYPE ");
        self.out.push_str(name);
        self.out.push_str(match kind {
            Kind::Counter => " counter\n",
            Kind::Gauge => " gauge\n",
            Kind::Untyped => " untyped\n",
        });
    }

    /// One sample line; `labels` are (name, value) pairs in order.
    pub(crate) fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.family_has_samples = true;
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.out.push_str(k);
                self.out.push_str("=\"");
                for c in v.chars() {
                    match c {
                        '\\' => self.out.push_str("\\\\"),
                        '"' => self.out.push_str("\\\""),
                        '\n' => self.out.push_str("\\n"),
                        c => self.out.push(c),
                    }
                }
                self.out.push('"');
            }
            self.out.push('}');
        }
        self.out.push(' ');
        write_value(&mut self.out, value);
        self.out.push('\n');
    }

    /// A family with one unlabelled sample.
    pub(crate) fn single(&mut self, name: &str, help: &str, kind: Kind, value: f64) {
        self.header(name, help, kind);
        self.sample(name, &[], value);
    }

    pub(crate) fn finish(mut self) -> String {
        self.close_family();
        self.out
    }
}

/// Writes a value as the text format reads it: integers without a fraction, `NaN`, `+Inf`, `-Inf`.
fn write_value(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v == f64::INFINITY {
        out.push_str("+Inf");
    } else if v == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else if v.fract() == 0.0 && v.abs() < 1e21 {
        let _ = write!(out, "{v:.0}");
    } else {
        let _ = write!(out, "{v}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_kinds_escapes_and_values() {
        let mut e = Exposition::with_capacity(0);
        e.header("empty", "dropped", Kind::Gauge);
        e.header("a", "A \\ b\nc", Kind::Untyped);
        e.sample("a", &[("x", "q\"\\\n")], 1.5);
        e.sample("a", &[], 3e10);
        e.sample("a", &[], f64::NAN);
        e.sample("a", &[], f64::NEG_INFINITY);
        e.header("trailing", "dropped too", Kind::Counter);
        assert_eq!(
            e.finish(),
            "# HELP a A \\\\ b\\nc\n# TYPE a untyped\na{x=\"q\\\"\\\\\\n\"} 1.5\na 30000000000\na NaN\na -Inf\n"
        );
    }
}
