//! Metric families as the collectors build them (name, type, help, labelled samples) before rendering. Rendering
//! goes through [`MetricsWriter`] with label names sorted, as client_python writes them; a family with no samples
//! still gets its HELP and TYPE lines, because upstream always yields those families.

use lookout_model::self_metrics::{MetricKind, MetricValue, MetricsWriter};

/// One sample: label pairs and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Label name/value pairs (any order; sorted on output).
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: MetricValue,
}

/// One family: what a Python `GaugeMetricFamily`/`CounterMetricFamily` holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// Metric name (for counters, the full `_total` name).
    pub name: &'static str,
    /// Gauge or counter.
    pub kind: MetricKind,
    /// HELP text, as upstream.
    pub help: &'static str,
    /// The samples in collection order.
    pub samples: Vec<Sample>,
}

impl Family {
    /// An empty gauge family.
    pub fn gauge(name: &'static str, help: &'static str) -> Self {
        Family {
            name,
            kind: MetricKind::Gauge,
            help,
            samples: Vec::new(),
        }
    }

    /// An empty counter family.
    pub fn counter(name: &'static str, help: &'static str) -> Self {
        Family {
            name,
            kind: MetricKind::Counter,
            help,
            samples: Vec::new(),
        }
    }

    /// Adds a sample; label values are owned strings.
    pub fn add<L: Into<String>>(
        &mut self,
        labels: impl IntoIterator<Item = (&'static str, L)>,
        value: impl Into<MetricValue>,
    ) {
        self.samples.push(Sample {
            labels: labels
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.into()))
                .collect(),
            value: value.into(),
        });
    }
}

impl Family {
    /// Adds a sample whose label names are only known at run time.
    pub fn add_owned(&mut self, labels: Vec<(String, String)>, value: impl Into<MetricValue>) {
        self.samples.push(Sample {
            labels,
            value: value.into(),
        });
    }
}

/// Renders families as one text exposition (format 0.0.4).
pub fn render(families: &[Family]) -> String {
    let mut out = MetricsWriter::new();
    for family in families {
        let mut writer = out.family(family.name, family.kind, family.help);
        for sample in &family.samples {
            let mut labels: Vec<(&str, &str)> = sample
                .labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            labels.sort_by(|a, b| a.0.cmp(b.0));
            writer.sample(&labels, sample.value);
        }
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_sorted_labels_and_empty_families() {
        let mut up = Family::gauge("pve_up", "Node/VM/CT-Status is online/running");
        up.add([("id", "node/pve1")], true);
        let mut info = Family::gauge("pve_x_info", "X.");
        info.add([("name", "a"), ("id", "b")], 1u64);
        let empty = Family::counter("pve_y_total", "Y.");
        assert_eq!(
            render(&[up, info, empty]),
            "# HELP pve_up Node/VM/CT-Status is online/running\n# TYPE pve_up gauge\npve_up{id=\"node/pve1\"} 1\n\
             # HELP pve_x_info X.\n# TYPE pve_x_info gauge\npve_x_info{id=\"b\",name=\"a\"} 1\n\
             # HELP pve_y_total Y.\n# TYPE pve_y_total counter\n"
        );
    }
}
