//! RFC 3339 timestamps written the way the Go programs we imitate write them.
//!
//! Two forms are needed: Prometheus posts alerts to Alertmanager through go-openapi's `strfmt.DateTime`, which always
//! prints three fractional digits (`2026-05-01T10:00:00.000Z`); Alertmanager's webhook payload uses Go's
//! `time.Time` JSON form, RFC 3339 with up to nine fractional digits and trailing zeros trimmed
//! (`2026-05-01T10:00:00.5Z`, `2026-05-01T10:00:00Z`). Go's zero time, which Alertmanager sends as the `endsAt` of a
//! firing alert, is `0001-01-01T00:00:00Z`. Everything is written in UTC.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds from 0001-01-01T00:00:00Z to the Unix epoch (Go's zero time).
const ZERO_TIME_UNIX_SECS: i64 = -62_135_596_800;

/// How many fractional digits to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fraction {
    /// Exactly three digits (`strfmt.DateTime`).
    Millis,
    /// Up to nine digits, trailing zeros and a bare dot dropped (Go's `RFC3339Nano`).
    NanosTrimmed,
}

/// `2026-05-01T10:00:00.000Z`: the form Prometheus uses in its Alertmanager v2 requests.
pub fn format_millis(t: SystemTime) -> String {
    let (secs, nanos) = split(t);
    format(secs, nanos, Fraction::Millis)
}

/// `2026-05-01T10:00:00.123456789Z` with trailing zeros trimmed: Go's JSON form of a `time.Time`.
pub fn format_nanos(t: SystemTime) -> String {
    let (secs, nanos) = split(t);
    format(secs, nanos, Fraction::NanosTrimmed)
}

/// Go's zero `time.Time` in JSON form, used for an unset end time.
pub fn zero_time() -> String {
    format(ZERO_TIME_UNIX_SECS, 0, Fraction::NanosTrimmed)
}

/// Whole seconds since the epoch (floored, so negative for earlier times) and the nanoseconds past them.
fn split(t: SystemTime) -> (i64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
        Err(e) => {
            let d: Duration = e.duration();
            let mut secs = -(d.as_secs() as i64);
            let mut nanos = d.subsec_nanos();
            if nanos > 0 {
                secs -= 1;
                nanos = 1_000_000_000 - nanos;
            }
            (secs, nanos)
        }
    }
}

fn format(secs: i64, nanos: u32, fraction: Fraction) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (year, month, day) = lookout_model::time::civil_from_days(days);
    let (h, m, s) = (sod / 3600, (sod / 60) % 60, sod % 60);
    let mut out = format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}");
    match fraction {
        Fraction::Millis => out.push_str(&format!(".{:03}", nanos / 1_000_000)),
        Fraction::NanosTrimmed if nanos > 0 => {
            let digits = format!("{nanos:09}");
            out.push('.');
            out.push_str(digits.trim_end_matches('0'));
        }
        Fraction::NanosTrimmed => {}
    }
    out.push('Z');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, nanos: u32) -> SystemTime {
        UNIX_EPOCH + Duration::new(secs, nanos)
    }

    #[test]
    fn millis_form_always_has_three_digits() {
        assert_eq!(format_millis(at(0, 0)), "1970-01-01T00:00:00.000Z");
        // 2026-05-01T10:00:00Z
        assert_eq!(
            format_millis(at(1_777_629_600, 123_456_789)),
            "2026-05-01T10:00:00.123Z"
        );
    }

    #[test]
    fn nano_form_trims_like_go() {
        assert_eq!(format_nanos(at(1_777_629_600, 0)), "2026-05-01T10:00:00Z");
        assert_eq!(
            format_nanos(at(1_777_629_600, 500_000_000)),
            "2026-05-01T10:00:00.5Z"
        );
        assert_eq!(
            format_nanos(at(1_777_629_600, 123_456_789)),
            "2026-05-01T10:00:00.123456789Z"
        );
        // A leap day and the end of a year.
        assert_eq!(format_nanos(at(951_782_400, 0)), "2000-02-29T00:00:00Z");
        assert_eq!(format_nanos(at(1_704_067_199, 0)), "2023-12-31T23:59:59Z");
    }

    #[test]
    fn zero_time_and_pre_epoch() {
        assert_eq!(zero_time(), "0001-01-01T00:00:00Z");
        let before = UNIX_EPOCH - Duration::from_millis(1500);
        assert_eq!(format_nanos(before), "1969-12-31T23:59:58.5Z");
    }
}
