//! The `relabel_config` structure, its serde form and its load-time validation.

use std::fmt;

use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::labels::is_valid_label_name;
use crate::regex_limits::{RegexError, bounded_anchored_regex};

/// What a relabel rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RelabelAction {
    /// Set `target_label` to the expanded `replacement` when the regex matches (default).
    #[default]
    Replace,
    /// Drop the label set unless the regex matches.
    Keep,
    /// Drop the label set when the regex matches.
    Drop,
    /// Drop the label set unless the joined value equals the value of `target_label`.
    KeepEqual,
    /// Drop the label set when the joined value equals the value of `target_label`.
    DropEqual,
    /// Set `target_label` to the MD5 hash of the joined value modulo `modulus`.
    HashMod,
    /// Copy every label whose name matches the regex to the name given by `replacement`.
    LabelMap,
    /// Remove every label whose name matches the regex.
    LabelDrop,
    /// Remove every label whose name does not match the regex.
    LabelKeep,
    /// Set `target_label` to the joined value in lower case.
    Lowercase,
    /// Set `target_label` to the joined value in upper case.
    Uppercase,
}

impl RelabelAction {
    /// The name used in configuration files.
    pub fn as_str(self) -> &'static str {
        match self {
            RelabelAction::Replace => "replace",
            RelabelAction::Keep => "keep",
            RelabelAction::Drop => "drop",
            RelabelAction::KeepEqual => "keepequal",
            RelabelAction::DropEqual => "dropequal",
            RelabelAction::HashMod => "hashmod",
            RelabelAction::LabelMap => "labelmap",
            RelabelAction::LabelDrop => "labeldrop",
            RelabelAction::LabelKeep => "labelkeep",
            RelabelAction::Lowercase => "lowercase",
            RelabelAction::Uppercase => "uppercase",
        }
    }

    /// Parses an action name; case-insensitive as Prometheus is.
    pub fn parse(name: &str) -> Option<Self> {
        const ALL: [RelabelAction; 11] = [
            RelabelAction::Replace,
            RelabelAction::Keep,
            RelabelAction::Drop,
            RelabelAction::KeepEqual,
            RelabelAction::DropEqual,
            RelabelAction::HashMod,
            RelabelAction::LabelMap,
            RelabelAction::LabelDrop,
            RelabelAction::LabelKeep,
            RelabelAction::Lowercase,
            RelabelAction::Uppercase,
        ];
        ALL.into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for RelabelAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RelabelAction {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RelabelAction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        RelabelAction::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown relabel action {name:?}")))
    }
}

/// A relabel regex: the pattern as written plus its compiled, fully anchored form `^(?s:pattern)$`.
#[derive(Clone)]
pub struct RelabelRegex {
    source: String,
    compiled: Regex,
}

/// The default relabel regex pattern.
pub const DEFAULT_REGEX: &str = "(.*)";

impl RelabelRegex {
    /// Compiles `pattern`, anchored at both ends, with `.` matching newlines, within the limits of
    /// [`crate::regex_limits`].
    pub fn new(pattern: &str) -> Result<Self, RegexError> {
        let compiled = bounded_anchored_regex(pattern)?;
        Ok(RelabelRegex {
            source: pattern.to_string(),
            compiled,
        })
    }

    /// The pattern as written, without the anchors.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The anchored, compiled regex.
    pub fn regex(&self) -> &Regex {
        &self.compiled
    }

    /// True when the whole of `s` matches.
    pub fn is_match(&self, s: &str) -> bool {
        self.compiled.is_match(s)
    }
}

impl Default for RelabelRegex {
    fn default() -> Self {
        RelabelRegex::new(DEFAULT_REGEX).expect("the default relabel regex compiles")
    }
}

impl PartialEq for RelabelRegex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl fmt::Debug for RelabelRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.source)
    }
}

impl Serialize for RelabelRegex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for RelabelRegex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A YAML `regex:` with no value is the empty pattern, as in Prometheus.
        let pattern = Option::<String>::deserialize(d)?.unwrap_or_default();
        RelabelRegex::new(&pattern).map_err(|e| {
            serde::de::Error::custom(match e {
                RegexError::Invalid(reason) => format!("invalid regex {pattern:?}: {reason}"),
                // The pattern itself may be huge: the message names the limit, not the pattern.
                limit => limit.describe("of the relabel rule"),
            })
        })
    }
}

/// A relabel configuration is invalid; names the rule's field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelabelError {
    /// A field has a value the action cannot use.
    #[error("relabel_configs[{index}].{field}: {reason}")]
    InvalidField {
        /// Position of the rule in its list.
        index: usize,
        /// The YAML field name.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

fn default_separator() -> String {
    ";".to_string()
}

fn default_replacement() -> String {
    "$1".to_string()
}

/// One relabeling rule, as written in `relabel_configs` (Prometheus field names and defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelabelConfig {
    /// Labels whose values are joined with `separator` to form the input value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_labels: Vec<String>,
    /// Joins the source label values; default `;`.
    #[serde(default = "default_separator")]
    pub separator: String,
    /// The label written by replace, hashmod, lowercase and uppercase, and compared by keepequal/dropequal.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub target_label: String,
    /// Matched against the joined value (or label names for labelmap/labeldrop/labelkeep); default `(.*)`.
    #[serde(default)]
    pub regex: RelabelRegex,
    /// The hashmod divisor.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub modulus: u64,
    /// The replace and labelmap template; default `$1`.
    #[serde(default = "default_replacement")]
    pub replacement: String,
    /// What the rule does; default `replace`.
    #[serde(default)]
    pub action: RelabelAction,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

impl Default for RelabelConfig {
    fn default() -> Self {
        RelabelConfig {
            source_labels: Vec::new(),
            separator: default_separator(),
            target_label: String::new(),
            regex: RelabelRegex::default(),
            modulus: 0,
            replacement: default_replacement(),
            action: RelabelAction::Replace,
        }
    }
}

/// True for a label name that may contain `$1` / `${name}` references (legacy character set).
fn is_valid_label_template(s: &str) -> bool {
    // Equivalent to `^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$`: the first character is a letter, `_` or a reference,
    // and the rest is word characters and references.
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut first = true;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'$' {
            let rest = &bytes[i + 1..];
            let word = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
            if rest.first() == Some(&b'{') {
                let n = rest[1..].iter().take_while(|c| word(c)).count();
                if n == 0 || rest.get(1 + n) != Some(&b'}') {
                    return false;
                }
                i += 3 + n;
            } else {
                let n = rest.iter().take_while(|c| word(c)).count();
                if n == 0 {
                    return false;
                }
                i += 1 + n;
            }
        } else if b.is_ascii_alphabetic() || b == b'_' || (!first && b.is_ascii_digit()) {
            i += 1;
        } else {
            return false;
        }
        first = false;
    }
    !first
}

impl RelabelConfig {
    /// A `replace` rule with the defaults.
    pub fn replace(
        source_labels: &[&str],
        regex: &str,
        target_label: &str,
        replacement: &str,
    ) -> Result<Self, RegexError> {
        Ok(RelabelConfig {
            source_labels: source_labels.iter().map(|s| s.to_string()).collect(),
            regex: RelabelRegex::new(regex)?,
            target_label: target_label.to_string(),
            replacement: replacement.to_string(),
            ..RelabelConfig::default()
        })
    }

    /// Checks the rule as Prometheus does at load time; `index` is its position, for the error message.
    pub fn validate(&self, index: usize) -> Result<(), RelabelError> {
        use RelabelAction::*;
        let err = |field: &'static str, reason: String| {
            Err(RelabelError::InvalidField {
                index,
                field,
                reason,
            })
        };
        let action = self.action;
        for name in &self.source_labels {
            if !is_valid_label_name(name) {
                return err(
                    "source_labels",
                    format!("{name:?} is not a valid label name"),
                );
            }
        }
        if action == HashMod && self.modulus == 0 {
            return err("modulus", "hashmod requires a non-zero modulus".to_string());
        }
        let needs_target = matches!(
            action,
            Replace | HashMod | Lowercase | Uppercase | KeepEqual | DropEqual
        );
        if needs_target && self.target_label.is_empty() {
            return err("target_label", format!("required for the {action} action"));
        }
        if action == Replace {
            let ok = if self.target_label.contains('$') {
                is_valid_label_template(&self.target_label)
            } else {
                is_valid_label_name(&self.target_label)
            };
            if !ok {
                return err(
                    "target_label",
                    format!("{:?} is invalid for the {action} action", self.target_label),
                );
            }
        }
        if matches!(
            action,
            Lowercase | Uppercase | KeepEqual | DropEqual | HashMod
        ) && !is_valid_label_name(&self.target_label)
        {
            return err(
                "target_label",
                format!("{:?} is invalid for the {action} action", self.target_label),
            );
        }
        if matches!(action, Lowercase | Uppercase | KeepEqual | DropEqual)
            && self.replacement != default_replacement()
        {
            return err(
                "replacement",
                format!("can not be set for the {action} action"),
            );
        }
        if action == LabelMap && !is_valid_label_template(&self.replacement) {
            return err(
                "replacement",
                format!("{:?} is invalid for the {action} action", self.replacement),
            );
        }
        if matches!(action, KeepEqual | DropEqual) {
            let only_allowed = self.regex.as_str() == DEFAULT_REGEX
                && self.modulus == 0
                && self.separator == default_separator()
                && self.replacement == default_replacement();
            if !only_allowed {
                return err(
                    "action",
                    format!("{action} takes only source_labels and target_label, no other fields"),
                );
            }
        }
        if matches!(action, LabelDrop | LabelKeep) {
            let only_regex = self.source_labels.is_empty()
                && self.target_label.is_empty()
                && self.modulus == 0
                && self.separator == default_separator()
                && self.replacement == default_replacement();
            if !only_regex {
                return err(
                    "action",
                    format!("{action} takes only regex, no other fields"),
                );
            }
        }
        Ok(())
    }

    /// Validates every rule of a list.
    pub fn validate_all(configs: &[RelabelConfig]) -> Result<(), RelabelError> {
        configs
            .iter()
            .enumerate()
            .try_for_each(|(i, c)| c.validate(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_templates() {
        for ok in [
            "a",
            "_a1",
            "${1}",
            "$1",
            "foo_${1}",
            "$a$b",
            "x${name}y",
            "__param_$1",
        ] {
            assert!(is_valid_label_template(ok), "{ok}");
        }
        for bad in ["", "1a", "$", "${}", "a-b", "${1", "$-", "a.b"] {
            assert!(!is_valid_label_template(bad), "{bad}");
        }
    }
}
