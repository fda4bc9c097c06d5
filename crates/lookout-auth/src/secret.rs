//! A string that is never printed: `Debug`, `Display` and `Serialize` all show `<secret>`, as Prometheus's
//! `config.Secret` does in `/api/v1/status/config`. Only [`Secret::expose`] reveals the value, so every place that
//! uses one is easy to find.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a secret prints as.
pub const REDACTED: &str = "<secret>";

/// A password, password hash, token or private key.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself; the only way to read it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True for the empty string (an unset secret in Prometheus's files).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The placeholder a redacted view shows instead (empty stays empty, so "unset" stays visible).
    pub fn redacted(&self) -> Secret {
        if self.0.is_empty() {
            Secret::default()
        } else {
            Secret(REDACTED.to_string())
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A null (`key:` with nothing after it) is an unset secret, as in Go's YAML decoding.
        Ok(Secret(
            Option::<String>::deserialize(d)?.unwrap_or_default(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "<secret> <secret>");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"<secret>\"");
        assert_eq!(s.expose(), "hunter2");
        assert_eq!(s.redacted().expose(), REDACTED);
        assert!(Secret::default().redacted().is_empty());
        let parsed: Secret = serde_yaml_ng::from_str("abc").unwrap();
        assert_eq!(parsed.expose(), "abc");
    }
}
