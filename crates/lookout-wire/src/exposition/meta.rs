//! Metric family metadata: the `# TYPE`, `# HELP` and `# UNIT` lines, and the same facts as remote_write sends them.

use rustc_hash::FxHashMap;

/// The type of a metric family, as declared by `# TYPE` or remote_write metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MetricKind {
    /// A monotonically increasing count.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// A classic histogram (`_bucket`, `_sum`, `_count`).
    Histogram,
    /// An OpenMetrics gauge histogram.
    GaugeHistogram,
    /// A summary (`quantile` series, `_sum`, `_count`).
    Summary,
    /// An OpenMetrics info metric.
    Info,
    /// An OpenMetrics state set.
    StateSet,
    /// No type declared (`untyped` in the text format, `unknown` in OpenMetrics).
    #[default]
    Unknown,
}

impl MetricKind {
    /// Parses a text-format (0.0.4) `# TYPE` word.
    pub fn from_text_format(word: &str) -> Option<Self> {
        Some(match word {
            "counter" => MetricKind::Counter,
            "gauge" => MetricKind::Gauge,
            "histogram" => MetricKind::Histogram,
            "summary" => MetricKind::Summary,
            "untyped" => MetricKind::Unknown,
            _ => return None,
        })
    }

    /// Parses an OpenMetrics `# TYPE` word.
    pub fn from_openmetrics(word: &str) -> Option<Self> {
        Some(match word {
            "counter" => MetricKind::Counter,
            "gauge" => MetricKind::Gauge,
            "histogram" => MetricKind::Histogram,
            "gaugehistogram" => MetricKind::GaugeHistogram,
            "summary" => MetricKind::Summary,
            "info" => MetricKind::Info,
            "stateset" => MetricKind::StateSet,
            "unknown" => MetricKind::Unknown,
            _ => return None,
        })
    }

    /// The word the text format (0.0.4) writes; kinds it lacks are written as `untyped`, as Prometheus does.
    pub fn text_format_word(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
            MetricKind::Summary => "summary",
            _ => "untyped",
        }
    }

    /// The word OpenMetrics and the Prometheus metadata API use.
    pub fn openmetrics_word(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
            MetricKind::GaugeHistogram => "gaugehistogram",
            MetricKind::Summary => "summary",
            MetricKind::Info => "info",
            MetricKind::StateSet => "stateset",
            MetricKind::Unknown => "unknown",
        }
    }

    /// The remote_write `MetricType` enum value (1.0 and 2.0 share the numbering).
    pub fn remote_write_code(self) -> i32 {
        match self {
            MetricKind::Unknown => 0,
            MetricKind::Counter => 1,
            MetricKind::Gauge => 2,
            MetricKind::Histogram => 3,
            MetricKind::GaugeHistogram => 4,
            MetricKind::Summary => 5,
            MetricKind::Info => 6,
            MetricKind::StateSet => 7,
        }
    }

    /// The kind for a remote_write `MetricType` value; unknown numbers map to `Unknown`.
    pub fn from_remote_write_code(code: i32) -> Self {
        match code {
            1 => MetricKind::Counter,
            2 => MetricKind::Gauge,
            3 => MetricKind::Histogram,
            4 => MetricKind::GaugeHistogram,
            5 => MetricKind::Summary,
            6 => MetricKind::Info,
            7 => MetricKind::StateSet,
            _ => MetricKind::Unknown,
        }
    }
}

/// What an exposition or a remote_write sender says about one metric family.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetricMetadata {
    /// The family name (for histograms and summaries, without `_bucket`/`_sum`/`_count`).
    pub family: String,
    /// The declared type (`Unknown` when only HELP or UNIT was given).
    pub kind: MetricKind,
    /// The help text, unescaped; empty when none was given.
    pub help: String,
    /// The unit (OpenMetrics `# UNIT`); empty when none was given.
    pub unit: String,
}

/// Merges HELP/TYPE/UNIT lines into one entry per family, in first-seen order.
#[derive(Debug, Default)]
pub(crate) struct MetadataCollector {
    items: Vec<MetricMetadata>,
    index: FxHashMap<String, usize>,
}

impl MetadataCollector {
    /// The entry for `family`, created on first use.
    pub(crate) fn entry(&mut self, family: &str) -> &mut MetricMetadata {
        // HELP and TYPE for one family are almost always adjacent: check the newest entry before hashing.
        if self.items.last().is_some_and(|m| m.family == family) {
            return self.items.last_mut().expect("checked non-empty");
        }
        let next = self.items.len();
        let i = *self.index.entry(family.to_owned()).or_insert(next);
        if i == next {
            self.items.push(MetricMetadata {
                family: family.to_owned(),
                ..MetricMetadata::default()
            });
        }
        &mut self.items[i]
    }

    /// The collected entries in first-seen order.
    pub(crate) fn into_vec(self) -> Vec<MetricMetadata> {
        self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_words_and_codes() {
        for k in [
            MetricKind::Counter,
            MetricKind::Gauge,
            MetricKind::Histogram,
            MetricKind::GaugeHistogram,
            MetricKind::Summary,
            MetricKind::Info,
            MetricKind::StateSet,
            MetricKind::Unknown,
        ] {
            assert_eq!(MetricKind::from_openmetrics(k.openmetrics_word()), Some(k));
            assert_eq!(MetricKind::from_remote_write_code(k.remote_write_code()), k);
        }
        assert_eq!(
            MetricKind::from_text_format("untyped"),
            Some(MetricKind::Unknown)
        );
        assert_eq!(MetricKind::from_text_format("info"), None);
        assert_eq!(MetricKind::Info.text_format_word(), "untyped");
    }

    #[test]
    fn collector_merges_by_family() {
        let mut c = MetadataCollector::default();
        c.entry("a").help = "help a".into();
        c.entry("b").kind = MetricKind::Gauge;
        c.entry("a").kind = MetricKind::Counter;
        let v = c.into_vec();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].family, "a");
        assert_eq!(v[0].kind, MetricKind::Counter);
        assert_eq!(v[0].help, "help a");
        assert_eq!(v[1].kind, MetricKind::Gauge);
    }
}
