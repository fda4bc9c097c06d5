//! Applying relabel rules to a label set.

use std::sync::Arc;

use md5::{Digest, Md5};

use super::config::{RelabelAction, RelabelConfig};
use super::expand::{expand, expand_into};
use crate::labels::{Label, Labels, LabelsBuilder, is_valid_label_name};

/// A mutable label set for relabeling: names unique, order unspecified, an empty value means absent.
#[derive(Debug, Clone, Default)]
pub struct RelabelBuilder {
    labels: Vec<Label>,
}

impl RelabelBuilder {
    /// A builder holding `labels`.
    pub fn new(labels: &Labels) -> Self {
        RelabelBuilder {
            labels: labels.as_slice().to_vec(),
        }
    }

    /// The value of `name`, or `""` when absent.
    pub fn get(&self, name: &str) -> &str {
        self.labels
            .iter()
            .find(|l| &*l.name == name)
            .map_or("", |l| &*l.value)
    }

    /// Sets `name` to `value`; an empty value removes the label.
    pub fn set(&mut self, name: &str, value: &str) {
        if value.is_empty() {
            self.remove(name);
            return;
        }
        match self.labels.iter_mut().find(|l| &*l.name == name) {
            Some(l) => l.value = Arc::from(value),
            None => self.labels.push(Label::new(name, value)),
        }
    }

    /// Removes `name` if present.
    pub fn remove(&mut self, name: &str) {
        self.labels.retain(|l| &*l.name != name);
    }

    /// Keeps only the labels for which `keep` returns true.
    pub fn retain(&mut self, keep: impl FnMut(&Label) -> bool) {
        self.labels.retain(keep);
    }

    /// The labels currently held, in no particular order.
    pub fn labels(&self) -> &[Label] {
        &self.labels
    }

    /// The sorted label set (names are not re-validated: rules only ever write valid names).
    pub fn build(&self) -> Labels {
        let mut b = LabelsBuilder::with_capacity(self.labels.len());
        for l in &self.labels {
            b.push(l.name.clone(), l.value.clone());
        }
        b.build_unchecked()
    }
}

/// Applies `configs` in order; `None` when a keep/drop rule dropped the label set.
pub fn relabel(labels: &Labels, configs: &[RelabelConfig]) -> Option<Labels> {
    if configs.is_empty() {
        return Some(labels.clone());
    }
    let mut builder = RelabelBuilder::new(labels);
    relabel_builder(&mut builder, configs).then(|| builder.build())
}

/// Applies `configs` in order to `builder`; false when the label set is dropped (the builder is then partial).
pub fn relabel_builder(builder: &mut RelabelBuilder, configs: &[RelabelConfig]) -> bool {
    configs.iter().all(|c| apply_one(c, builder))
}

fn joined_source_value(config: &RelabelConfig, builder: &RelabelBuilder) -> String {
    let mut value = String::new();
    for (i, name) in config.source_labels.iter().enumerate() {
        if i > 0 {
            value.push_str(&config.separator);
        }
        value.push_str(builder.get(name));
    }
    value
}

/// The hashmod bucket: the last 8 bytes of MD5(value), big-endian, modulo `modulus`.
pub(crate) fn hashmod(value: &str, modulus: u64) -> u64 {
    let digest = Md5::digest(value.as_bytes());
    let mut tail = [0u8; 8];
    tail.copy_from_slice(&digest[8..16]);
    u64::from_be_bytes(tail) % modulus
}

fn apply_one(config: &RelabelConfig, builder: &mut RelabelBuilder) -> bool {
    let regex = config.regex.regex();
    match config.action {
        RelabelAction::Keep => regex.is_match(&joined_source_value(config, builder)),
        RelabelAction::Drop => !regex.is_match(&joined_source_value(config, builder)),
        RelabelAction::KeepEqual => {
            builder.get(&config.target_label) == joined_source_value(config, builder)
        }
        RelabelAction::DropEqual => {
            builder.get(&config.target_label) != joined_source_value(config, builder)
        }
        RelabelAction::Replace => {
            let value = joined_source_value(config, builder);
            let Some(caps) = regex.captures(&value) else {
                return true;
            };
            let names: Vec<Option<&str>> = regex.capture_names().collect();
            let target = expand(&config.target_label, &caps, &names);
            // Prometheus leaves the labels unchanged when the expanded target is not a valid name.
            if !is_valid_label_name(&target) {
                return true;
            }
            let replacement = expand(&config.replacement, &caps, &names);
            builder.set(&target, &replacement);
            true
        }
        RelabelAction::Lowercase => {
            let value: String = joined_source_value(config, builder)
                .chars()
                .flat_map(char::to_lowercase)
                .collect();
            builder.set(&config.target_label, &value);
            true
        }
        RelabelAction::Uppercase => {
            let value: String = joined_source_value(config, builder)
                .chars()
                .flat_map(char::to_uppercase)
                .collect();
            builder.set(&config.target_label, &value);
            true
        }
        RelabelAction::HashMod => {
            let bucket = hashmod(&joined_source_value(config, builder), config.modulus);
            builder.set(&config.target_label, &bucket.to_string());
            true
        }
        RelabelAction::LabelMap => {
            let names: Vec<Option<&str>> = regex.capture_names().collect();
            // Rules see the labels as they were before this rule: new names are not matched again.
            let snapshot = builder.labels.clone();
            let mut new_name = String::new();
            for label in &snapshot {
                if let Some(caps) = regex.captures(&label.name) {
                    new_name.clear();
                    expand_into(&mut new_name, &config.replacement, &caps, &names);
                    // An expansion that is not a label name (e.g. empty) is skipped rather than stored broken.
                    if is_valid_label_name(&new_name) {
                        builder.set(&new_name, &label.value);
                    }
                }
            }
            true
        }
        RelabelAction::LabelDrop => {
            builder.retain(|l| !regex.is_match(&l.name));
            true
        }
        RelabelAction::LabelKeep => {
            builder.retain(|l| regex.is_match(&l.name));
            true
        }
    }
}
