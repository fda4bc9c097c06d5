//! Turning a scraped series' own labels into the stored label set: target labels (`honor_labels`), metric
//! relabeling, then the label limits.

use lookout_model::Labels;
use lookout_model::relabel::{RelabelConfig, relabel_builder};

use super::error::ScrapeError;

/// Prefix given to a scraped label that clashes with a target label when `honor_labels` is false.
pub const EXPORTED_LABEL_PREFIX: &str = "exported_";

/// Per-series limits of a job (0 = no limit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LabelLimits {
    /// Labels per series, `__name__` included.
    pub label_limit: u64,
    /// Bytes per label name.
    pub name_length_limit: u64,
    /// Bytes per label value.
    pub value_length_limit: u64,
}

/// Merges target labels into scraped ones and applies `rules`; `None` when relabeling dropped the series.
///
/// With `honor_labels` the scraped value wins; otherwise the target's does, and the scraped value moves to
/// `exported_<name>` (or `exported_exported_<name>` … if that is taken), shortest names first, as Prometheus does.
pub fn mutate_sample_labels(
    scraped: &Labels,
    target: &Labels,
    honor_labels: bool,
    rules: &[RelabelConfig],
) -> Option<Labels> {
    let mut b = scraped.to_builder();
    if honor_labels {
        for l in target {
            if scraped.get(&l.name).is_none() {
                b.set(&l.name, &l.value);
            }
        }
    } else {
        let mut conflicts = Vec::new();
        for l in target {
            if let Some(v) = scraped.get(&l.name) {
                conflicts.push((l.name.clone(), v.to_string()));
            }
            b.set(&l.name, &l.value);
        }
        conflicts.sort_by_key(|(name, _)| name.len());
        for (name, value) in conflicts {
            let mut new_name = name.to_string();
            loop {
                new_name.insert_str(0, EXPORTED_LABEL_PREFIX);
                if b.get(&new_name).is_none_or(str::is_empty) {
                    b.set(&new_name, &value);
                    break;
                }
            }
        }
    }
    if !relabel_builder(&mut b, rules) {
        return None;
    }
    let labels = b.build_unchecked();
    (!labels.is_empty()).then_some(labels)
}

/// Checks a stored label set: it must keep its metric name and respect the job's limits.
pub fn check_series_labels(labels: &Labels, limits: &LabelLimits) -> Result<(), ScrapeError> {
    let Some(metric) = labels.metric_name() else {
        return Err(ScrapeError::MissingMetricName {
            series: labels.to_string(),
        });
    };
    let metric: String = metric.chars().take(50).collect();
    if limits.label_limit > 0 && labels.len() as u64 > limits.label_limit {
        return Err(ScrapeError::LabelLimit {
            metric,
            count: labels.len(),
            limit: limits.label_limit,
        });
    }
    for l in labels {
        if limits.name_length_limit > 0 && l.name.len() as u64 > limits.name_length_limit {
            return Err(ScrapeError::LabelNameLength {
                metric,
                name: l.name.to_string(),
                length: l.name.len(),
                limit: limits.name_length_limit,
            });
        }
        if limits.value_length_limit > 0 && l.value.len() as u64 > limits.value_length_limit {
            return Err(ScrapeError::LabelValueLength {
                metric,
                name: l.name.to_string(),
                length: l.value.len(),
                limit: limits.value_length_limit,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs).unwrap()
    }

    #[test]
    fn honor_labels_false_moves_clashes_to_exported() {
        let scraped = l(&[
            ("__name__", "m"),
            ("job", "inner"),
            ("instance", "i2"),
            ("exported_job", "taken"),
            ("x", "1"),
        ]);
        let target = l(&[("job", "outer"), ("instance", "t:1")]);
        let got = mutate_sample_labels(&scraped, &target, false, &[]).unwrap();
        assert_eq!(
            got,
            l(&[
                ("__name__", "m"),
                ("job", "outer"),
                ("instance", "t:1"),
                ("exported_instance", "i2"),
                ("exported_job", "taken"),
                ("exported_exported_job", "inner"),
                ("x", "1"),
            ])
        );
    }

    #[test]
    fn honor_labels_true_keeps_scraped_values() {
        let scraped = l(&[("__name__", "m"), ("job", "inner")]);
        let target = l(&[("job", "outer"), ("instance", "t:1")]);
        let got = mutate_sample_labels(&scraped, &target, true, &[]).unwrap();
        assert_eq!(
            got,
            l(&[("__name__", "m"), ("job", "inner"), ("instance", "t:1")])
        );
    }

    #[test]
    fn metric_relabeling_runs_after_merging() {
        let rules: Vec<RelabelConfig> = serde_yaml_ng::from_str(
            "- {source_labels: [__name__], regex: 'go_.*', action: drop}\n- {source_labels: [job], target_label: j2}",
        )
        .unwrap();
        let target = l(&[("job", "outer")]);
        assert_eq!(
            mutate_sample_labels(&l(&[("__name__", "go_x")]), &target, false, &rules),
            None
        );
        let kept = mutate_sample_labels(&l(&[("__name__", "m")]), &target, false, &rules).unwrap();
        assert_eq!(kept.get("j2"), Some("outer"));
    }

    #[test]
    fn limits_and_missing_name() {
        let labels = l(&[("__name__", "metric"), ("a", "12345"), ("longname", "v")]);
        let ok = LabelLimits {
            label_limit: 3,
            name_length_limit: 8,
            value_length_limit: 6,
        };
        assert!(check_series_labels(&labels, &ok).is_ok());
        let e = check_series_labels(
            &labels,
            &LabelLimits {
                label_limit: 2,
                ..ok
            },
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "label_limit exceeded (metric: metric, number of labels: 3, limit: 2)"
        );
        let e = check_series_labels(
            &labels,
            &LabelLimits {
                name_length_limit: 7,
                ..ok
            },
        )
        .unwrap_err();
        assert!(
            matches!(e, ScrapeError::LabelNameLength { ref name, length: 8, .. } if name == "__name__")
        );
        let e = check_series_labels(
            &labels,
            &LabelLimits {
                value_length_limit: 5,
                ..ok
            },
        )
        .unwrap_err();
        assert!(matches!(e, ScrapeError::LabelValueLength { length: 6, .. }));
        assert!(matches!(
            check_series_labels(&l(&[("a", "b")]), &ok),
            Err(ScrapeError::MissingMetricName { .. })
        ));
    }
}
