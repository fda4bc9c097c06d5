//! The fixed labels every entry of a source carries (`job` plus configured ones), validated once at startup.

use std::collections::BTreeMap;

use lookout_model::LabelsBuilder;
use lookout_model::labels::is_valid_label_name;

use crate::HostLogsError;

/// Validated fixed labels.
#[derive(Debug, Clone)]
pub(crate) struct StaticLabels(Vec<(String, String)>);

impl StaticLabels {
    /// `job` (when not empty) and `labels` (which may override it); names must be valid label names.
    pub fn new(job: &str, labels: &BTreeMap<String, String>) -> Result<Self, HostLogsError> {
        let mut out = Vec::new();
        if !job.is_empty() && !labels.contains_key("job") {
            out.push(("job".to_string(), job.to_string()));
        }
        for (k, v) in labels {
            if !is_valid_label_name(k) || k.starts_with("__") {
                return Err(HostLogsError::Config(format!(
                    "{k:?} is not a valid label name"
                )));
            }
            out.push((k.clone(), v.clone()));
        }
        Ok(StaticLabels(out))
    }

    /// The labels, `job` first.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// A builder holding these labels.
    pub fn builder(&self) -> LabelsBuilder {
        let mut b = LabelsBuilder::with_capacity(self.0.len() + 6);
        for (k, v) in &self.0 {
            b.set(k, v);
        }
        b
    }
}
