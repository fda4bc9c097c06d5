//! Number syntax of the exposition formats: sample values and timestamps.
//!
//! Values follow Go's `strconv.ParseFloat` as Prometheus applies it: decimal and exponent forms, `Inf`,
//! `+Inf`, `-Inf`, `Infinity` and `NaN` in any case, no hex floats, no `_` separators, no signed NaN, and
//! overflow (`1e400`) is an error rather than infinity. Every NaN becomes Prometheus's canonical NaN.

/// The bit pattern of the NaN Prometheus stores for a parsed `NaN` (`value.NormalNaN`); every NaN read from an
/// exposition is normalised to it, so a plain NaN never collides with the staleness marker.
pub const NORMAL_NAN_BITS: u64 = 0x7ff8_0000_0000_0001;

/// Powers of ten that are exact in an `f64`, for the fast decimal path.
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// Parses a sample value; `None` when the text is not a number Prometheus accepts.
pub fn parse_value(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if let Some(v) = parse_simple_decimal(b) {
        return Some(v);
    }
    let (negative, unsigned) = match b.first()? {
        b'+' => (false, &b[1..]),
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    if unsigned.eq_ignore_ascii_case(b"inf") || unsigned.eq_ignore_ascii_case(b"infinity") {
        return Some(if negative {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if b.eq_ignore_ascii_case(b"nan") {
        return Some(f64::from_bits(NORMAL_NAN_BITS));
    }
    // Past the special words only digits, the point and an exponent are legal; this rules out Rust-only
    // spellings such as "+nan" before handing the text to the standard parser.
    if !unsigned
        .iter()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    // Go reports overflow as an error; Rust rounds it to infinity.
    if v.is_infinite() { None } else { Some(v) }
}

/// Exact fast path for `[+-]digits[.digits]` with at most 15 significant digits: the mantissa and the power of
/// ten are both exact, so one IEEE division is correctly rounded.
fn parse_simple_decimal(b: &[u8]) -> Option<f64> {
    let (negative, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    let mut mantissa: u64 = 0;
    let mut count = 0usize;
    let mut fraction_digits = 0usize;
    let mut seen_point = false;
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(c - b'0');
                count += 1;
                if seen_point {
                    fraction_digits += 1;
                }
                if count > 15 {
                    return None;
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => return None,
        }
    }
    if count == 0 {
        return None;
    }
    let v = mantissa as f64 / POW10[fraction_digits];
    Some(if negative { -v } else { v })
}

/// Parses a text-format timestamp: decimal digits only (milliseconds), as Prometheus's lexer accepts.
pub fn parse_text_timestamp(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses an OpenMetrics timestamp (seconds, possibly fractional or in exponent form) into milliseconds,
/// truncating sub-millisecond digits toward zero as Prometheus does.
pub fn parse_om_timestamp(s: &str) -> Result<i64, &'static str> {
    if let Some(ms) = parse_decimal_seconds(s.as_bytes()) {
        return ms;
    }
    let seconds = parse_value(s).ok_or("invalid timestamp")?;
    if !seconds.is_finite() {
        return Err("timestamp must be finite");
    }
    let ms = seconds * 1000.0;
    // i64::MAX is not exact in f64; staying strictly below 2^63 keeps the cast lossless in range.
    if !(-9.223_372_036_854_775e18..9.223_372_036_854_775e18).contains(&ms) {
        return Err("timestamp out of range");
    }
    Ok(ms as i64)
}

/// Exact conversion of `[+-]digits[.digits]` seconds to milliseconds; `None` when the text has another shape.
fn parse_decimal_seconds(b: &[u8]) -> Option<Result<i64, &'static str>> {
    let (negative, rest) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    let (int_part, frac_part) = match rest.iter().position(|&c| c == b'.') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &rest[rest.len()..]),
    };
    let all_digits = |p: &[u8]| p.iter().all(|c| c.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty())
        || !all_digits(int_part)
        || !all_digits(frac_part)
    {
        return None;
    }
    let mut ms: i64 = 0;
    for &c in int_part {
        ms = match ms
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(c - b'0')))
        {
            Some(m) => m,
            None => return Some(Err("timestamp out of range")),
        };
    }
    let mut millis = 0i64;
    for i in 0..3 {
        millis = millis * 10 + frac_part.get(i).map_or(0, |&c| i64::from(c - b'0'));
    }
    let total = ms.checked_mul(1000).and_then(|m| m.checked_add(millis));
    Some(match total {
        Some(t) if negative => Ok(-t),
        Some(t) => Ok(t),
        None => Err("timestamp out of range"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_go_float_syntax() {
        let cases: &[(&str, f64)] = &[
            ("1", 1.0),
            ("-1.5", -1.5),
            ("+2", 2.0),
            ("1e3", 1000.0),
            ("1E-3", 0.001),
            (".5", 0.5),
            ("5.", 5.0),
            ("Inf", f64::INFINITY),
            ("+Inf", f64::INFINITY),
            ("-Inf", f64::NEG_INFINITY),
            ("inf", f64::INFINITY),
            ("-infinity", f64::NEG_INFINITY),
            ("84442.23", 84442.23),
            ("1309925966.0", 1309925966.0),
            ("1e-400", 0.0),
            ("123456789012345678901234567890", 1.2345678901234568e29),
        ];
        for (text, want) in cases {
            assert_eq!(
                parse_value(text).map(f64::to_bits),
                Some(want.to_bits()),
                "{text}"
            );
        }
        assert_eq!(
            parse_value("-0").map(f64::to_bits),
            Some((-0.0f64).to_bits())
        );
        for nan in ["NaN", "nan", "NAN"] {
            assert_eq!(parse_value(nan).map(f64::to_bits), Some(NORMAL_NAN_BITS));
        }
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "", "0x10", "0x1p3", "1_000", "+NaN", "-nan", "1e400", "-1e400", "abc", "1.2.3", ".",
            "e5", "1e", "--1", "1 ",
        ] {
            assert_eq!(parse_value(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn timestamps() {
        assert_eq!(
            parse_text_timestamp("1700000000000"),
            Some(1_700_000_000_000)
        );
        assert_eq!(parse_text_timestamp("-5"), None);
        assert_eq!(parse_text_timestamp("99999999999999999999"), None);
        assert_eq!(parse_om_timestamp("1795608015"), Ok(1_795_608_015_000));
        assert_eq!(parse_om_timestamp("1795608015.123"), Ok(1_795_608_015_123));
        assert_eq!(parse_om_timestamp("1.0009"), Ok(1000));
        assert_eq!(parse_om_timestamp("-1.5"), Ok(-1500));
        assert_eq!(parse_om_timestamp("1.5e3"), Ok(1_500_000));
        assert!(parse_om_timestamp("NaN").is_err());
        assert!(parse_om_timestamp("+Inf").is_err());
        assert!(parse_om_timestamp("1e300").is_err());
        assert!(parse_om_timestamp("99999999999999999999").is_err());
        assert!(parse_om_timestamp("x").is_err());
    }

    proptest! {
        #[test]
        fn fast_path_matches_std(m in 0u64..1_000_000_000_000_000, point in 0usize..16, neg: bool) {
            let digits = m.to_string();
            let text = if point < digits.len() {
                format!("{}{}.{}", if neg { "-" } else { "" }, &digits[..digits.len() - point], &digits[digits.len() - point..])
            } else {
                format!("{}{}", if neg { "-" } else { "" }, digits)
            };
            let want: f64 = text.parse().unwrap();
            prop_assert_eq!(parse_value(&text).map(f64::to_bits), Some(want.to_bits()), "{}", text);
        }

        #[test]
        fn any_finite_display_round_trips(bits: u64) {
            let v = f64::from_bits(bits);
            prop_assume!(v.is_finite());
            prop_assert_eq!(parse_value(&v.to_string()).map(f64::to_bits), Some(bits));
            prop_assert_eq!(parse_value(&format!("{v:e}")).map(f64::to_bits), Some(bits));
        }
    }
}
