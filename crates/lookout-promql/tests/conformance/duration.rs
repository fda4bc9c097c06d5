//! Prometheus duration strings (`1h5m30s`, `10s53ms`, `0`) as the test files write times, steps and intervals.

/// Units in the only order Prometheus accepts them, each at most once, with their length in ms.
const UNITS: [(&str, i64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Parses a non-negative Prometheus duration into milliseconds.
pub fn parse_duration_ms(text: &str) -> Result<i64, String> {
    if text.is_empty() {
        return Err("empty duration string".into());
    }
    if text == "0" {
        return Ok(0);
    }
    let mut rest = text;
    let mut next_unit = 0;
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!("not a valid duration string: {text:?}"));
        }
        let number: i64 = rest[..digits]
            .parse()
            .map_err(|_| format!("duration out of range: {text:?}"))?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let position = UNITS[next_unit..]
            .iter()
            .position(|(name, _)| *name == unit)
            .ok_or_else(|| {
                format!(
                    "not a valid duration string: {text:?} (unit {unit:?} unknown or out of order)"
                )
            })?;
        let (_, unit_ms) = UNITS[next_unit + position];
        next_unit += position + 1;
        total = number
            .checked_mul(unit_ms)
            .and_then(|ms| total.checked_add(ms))
            .ok_or_else(|| format!("duration out of range: {text:?}"))?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_compound_durations() {
        assert_eq!(parse_duration_ms("0"), Ok(0));
        assert_eq!(parse_duration_ms("1h5m30s"), Ok(3_930_000));
        assert_eq!(parse_duration_ms("10s53ms"), Ok(10_053));
        assert_eq!(parse_duration_ms("50m"), Ok(3_000_000));
        assert_eq!(parse_duration_ms("1d"), Ok(86_400_000));
        assert_eq!(parse_duration_ms("2w"), Ok(14 * 86_400_000));
        assert_eq!(parse_duration_ms("1y"), Ok(365 * 86_400_000));
        assert_eq!(parse_duration_ms("1ms"), Ok(1));
        assert_eq!(parse_duration_ms("0s"), Ok(0));
    }

    #[test]
    fn rejects_malformed_durations() {
        for bad in ["", "5", "1m1h", "1s1s", "1x", "-1m", "m", "1.5m", "1h 5m"] {
            assert!(parse_duration_ms(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
