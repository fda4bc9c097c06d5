//! Configuration errors that name the offending field, and YAML loading that keeps the field path.

use serde::de::DeserializeOwned;

/// A configuration problem at a dotted field path such as `route.routes[1].matchers[0]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ConfigError {
    /// Where the problem is; `.` for the document itself.
    pub path: String,
    /// What is wrong.
    pub reason: String,
}

impl ConfigError {
    /// An error at `path`.
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        ConfigError {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// Joins a parent path and a field name, leaving out an empty parent.
pub(crate) fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_string()
    } else {
        format!("{prefix}.{field}")
    }
}

/// Reads YAML into `T`, reporting the path of the field serde stopped at; `prefix` is prepended to that path
/// so errors read as they would inside the whole configuration file.
pub fn from_yaml<T: DeserializeOwned>(text: &str, prefix: &str) -> Result<T, ConfigError> {
    let de = serde_yaml_ng::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.path().to_string();
        let path = match (prefix.is_empty(), inner.as_str()) {
            (true, p) => p.to_string(),
            (false, ".") => prefix.to_string(),
            (false, p) if p.starts_with('[') => format!("{prefix}{p}"),
            (false, p) => format!("{prefix}.{p}"),
        };
        // serde_yaml_ng prefixes its message with its own (shorter) idea of the path; ours is better, so drop it.
        let message = e.into_inner().to_string();
        let message = match message.split_once(": ") {
            Some((head, rest)) if !head.contains(' ') && inner.starts_with(head) => {
                rest.to_string()
            }
            _ => message,
        };
        ConfigError::new(path, message)
    })
}
