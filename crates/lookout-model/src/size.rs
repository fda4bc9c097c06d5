//! Byte sizes, parsed once for every setting and flag: as Prometheus writes them for `body_size_limit` (`512`,
//! `100KB`, `10MiB`, `1GB`, all powers of 1024) and as Kubernetes writes memory quantities (`512Mi`, `1Gi`), so a
//! pod's memory limit can be passed through unchanged.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A size in bytes; zero means "no limit" where used as a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ByteSize(pub u64);

/// A size string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid size {text:?}: expected a whole number with an optional unit B, KB, KiB, Ki, MB, MiB, Mi, GB, GiB, Gi, TB, TiB or Ti"
)]
pub struct SizeError {
    /// The text as written.
    pub text: String,
}

const UNITS: [(&str, u64); 13] = [
    ("KiB", 1 << 10),
    ("Ki", 1 << 10),
    ("Mi", 1 << 20),
    ("Gi", 1 << 30),
    ("Ti", 1 << 40),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
    ("KB", 1 << 10),
    ("MB", 1 << 20),
    ("GB", 1 << 30),
    ("TB", 1 << 40),
    ("B", 1),
];

impl FromStr for ByteSize {
    type Err = SizeError;

    fn from_str(text: &str) -> Result<Self, SizeError> {
        let err = || SizeError {
            text: text.to_string(),
        };
        let digits = text.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(err());
        }
        let n: u64 = text[..digits].parse().map_err(|_| err())?;
        let unit = &text[digits..];
        let mult = if unit.is_empty() {
            1
        } else {
            UNITS
                .iter()
                .find(|(u, _)| *u == unit)
                .map(|(_, m)| *m)
                .ok_or_else(err)?
        };
        n.checked_mul(mult).map(ByteSize).ok_or_else(err)
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (unit, size) in [
            ("TiB", 1u64 << 40),
            ("GiB", 1 << 30),
            ("MiB", 1 << 20),
            ("KiB", 1 << 10),
        ] {
            if self.0 >= size && self.0.is_multiple_of(size) {
                return write!(f, "{}{unit}", self.0 / size);
            }
        }
        write!(f, "{}B", self.0)
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => Ok(ByteSize(n)),
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes() {
        for (text, n) in [
            ("0", 0),
            ("512", 512),
            ("100KB", 102_400),
            ("10MiB", 10 << 20),
            ("1GB", 1 << 30),
            ("7B", 7),
            ("512Mi", 512 << 20),
            ("1Gi", 1 << 30),
        ] {
            assert_eq!(text.parse::<ByteSize>().unwrap().0, n, "{text}");
        }
        for bad in ["", "MB", "1.5MB", "10 MB", "10mb", "-1"] {
            assert!(bad.parse::<ByteSize>().is_err(), "{bad}");
        }
        assert_eq!(ByteSize(10 << 20).to_string(), "10MiB");
    }
}
