//! Applying relabel rules to a label set.

use md5::{Digest, Md5};

use super::config::{RelabelAction, RelabelConfig};
use super::expand::{expand, expand_into};
use crate::labels::{Labels, LabelsBuilder, is_valid_label_name};

/// The value of `name` in `builder`, `""` when absent (relabeling treats both alike).
fn value_of<'a>(builder: &'a LabelsBuilder, name: &str) -> &'a str {
    builder.get(name).unwrap_or("")
}

/// Applies `configs` in order; `None` when a keep/drop rule dropped the label set.
pub fn relabel(labels: &Labels, configs: &[RelabelConfig]) -> Option<Labels> {
    if configs.is_empty() {
        return Some(labels.clone());
    }
    let mut builder = labels.to_builder();
    relabel_builder(&mut builder, configs).then(|| builder.build_unchecked())
}

/// Applies `configs` in order to `builder`; false when the label set is dropped (the builder is then partial).
/// Rules only write valid names, so `builder.build_unchecked()` is safe afterwards.
pub fn relabel_builder(builder: &mut LabelsBuilder, configs: &[RelabelConfig]) -> bool {
    configs.iter().all(|c| apply_one(c, builder))
}

fn joined_source_value(config: &RelabelConfig, builder: &LabelsBuilder) -> String {
    let mut value = String::new();
    for (i, name) in config.source_labels.iter().enumerate() {
        if i > 0 {
            value.push_str(&config.separator);
        }
        value.push_str(value_of(builder, name));
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

fn apply_one(config: &RelabelConfig, builder: &mut LabelsBuilder) -> bool {
    let regex = config.regex.regex();
    match config.action {
        RelabelAction::Keep => regex.is_match(&joined_source_value(config, builder)),
        RelabelAction::Drop => !regex.is_match(&joined_source_value(config, builder)),
        RelabelAction::KeepEqual => {
            value_of(builder, &config.target_label) == joined_source_value(config, builder)
        }
        RelabelAction::DropEqual => {
            value_of(builder, &config.target_label) != joined_source_value(config, builder)
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
            let snapshot = builder.labels().to_vec();
            let mut new_name = String::new();
            // Labels set to "" by earlier rules are absent and must not be copied.
            for label in snapshot.iter().filter(|l| !l.value.is_empty()) {
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
