//! Prometheus durations: `15s`, `1m30s`, `2h`, `500ms`, `1d`, `1w`, `1y`, written and printed as Prometheus does.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration in whole milliseconds with Prometheus's text form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PromDuration(Duration);

/// A duration string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {text:?}: {reason}")]
pub struct DurationError {
    /// The text as written.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

impl PromDuration {
    /// From milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        PromDuration(Duration::from_millis(ms))
    }

    /// From seconds.
    pub const fn from_secs(s: u64) -> Self {
        PromDuration(Duration::from_secs(s))
    }

    /// As a std duration.
    pub fn as_duration(self) -> Duration {
        self.0
    }

    /// Whole milliseconds.
    pub fn as_millis(self) -> u64 {
        self.0.as_millis() as u64
    }

    /// True for zero.
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
}

impl From<Duration> for PromDuration {
    fn from(d: Duration) -> Self {
        PromDuration(Duration::from_millis(d.as_millis() as u64))
    }
}

impl FromStr for PromDuration {
    type Err = DurationError;

    /// Parses units in decreasing order, each at most once (`1h30m`, not `30m1h`), as Prometheus requires.
    fn from_str(text: &str) -> Result<Self, DurationError> {
        let err = |reason| DurationError {
            text: text.to_string(),
            reason,
        };
        if text.is_empty() {
            return Err(err("empty duration string"));
        }
        if text == "0" {
            return Ok(PromDuration::default());
        }
        let mut rest = text;
        let mut total: u64 = 0;
        let mut last_unit = None::<usize>;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(err(
                    "expected a number followed by a unit (ms, s, m, h, d, w, y)",
                ));
            }
            let n: u64 = rest[..digits]
                .parse()
                .map_err(|_| err("number too large"))?;
            rest = &rest[digits..];
            // "ms" must be tried before "m".
            let unit = [6usize, 0, 1, 2, 3, 4, 5]
                .into_iter()
                .find(|&i| rest.starts_with(UNITS[i].0));
            let Some(unit) = unit else {
                return Err(err("unknown or missing unit; use ms, s, m, h, d, w or y"));
            };
            if last_unit.is_some_and(|last| unit <= last) {
                return Err(err("units must appear once each, largest first"));
            }
            last_unit = Some(unit);
            rest = &rest[UNITS[unit].0.len()..];
            total = n
                .checked_mul(UNITS[unit].1)
                .and_then(|v| total.checked_add(v))
                .filter(|&v| v <= i64::MAX as u64)
                .ok_or_else(|| err("duration out of range"))?;
        }
        Ok(PromDuration::from_millis(total))
    }
}

impl fmt::Display for PromDuration {
    /// Years and weeks only when exact, then days down to milliseconds; `0s` for zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.as_millis();
        if ms == 0 {
            return f.write_str("0s");
        }
        for (i, (unit, size)) in UNITS.iter().enumerate() {
            let exact_only = i < 2;
            if exact_only && !ms.is_multiple_of(*size) {
                continue;
            }
            let n = ms / size;
            if n > 0 {
                write!(f, "{n}{unit}")?;
                ms -= n * size;
            }
        }
        Ok(())
    }
}

impl Serialize for PromDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for PromDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_like_prometheus() {
        let cases = [
            ("15s", 15_000, "15s"),
            ("1m30s", 90_000, "1m30s"),
            ("90s", 90_000, "1m30s"),
            ("500ms", 500, "500ms"),
            ("1h", 3_600_000, "1h"),
            ("2d", 172_800_000, "2d"),
            ("1w", 604_800_000, "1w"),
            ("8d", 691_200_000, "8d"),
            ("1y", 31_536_000_000, "1y"),
            ("0", 0, "0s"),
            ("0s", 0, "0s"),
            ("1h0m1s5ms", 3_601_005, "1h1s5ms"),
        ];
        for (text, ms, printed) in cases {
            let d: PromDuration = text.parse().unwrap();
            assert_eq!(d.as_millis(), ms, "{text}");
            assert_eq!(d.to_string(), printed, "{text}");
        }
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "s",
            "10",
            "1.5s",
            "30m1h",
            "1s1s",
            "-1s",
            "1x",
            "5 s",
            "99999999999999999999y",
        ] {
            assert!(bad.parse::<PromDuration>().is_err(), "{bad}");
        }
    }
}
