//! Number and JSON formatting exactly as Prometheus emits it (timestamps, sample values, label maps).

use std::fmt::Write as _;

use lookout_model::Labels;

/// Formats a millisecond timestamp as Prometheus's JSON number: whole seconds, plus `.mmm` when ms ≠ 0.
pub fn write_timestamp(out: &mut String, t_ms: i64) {
    let neg = t_ms < 0;
    let abs = t_ms.unsigned_abs();
    if neg {
        out.push('-');
    }
    let secs = abs / 1000;
    let ms = abs % 1000;
    let mut buf = itoa::Buffer::new();
    out.push_str(buf.format(secs));
    if ms != 0 {
        out.push('.');
        let digits = [
            b'0' + (ms / 100) as u8,
            b'0' + (ms / 10 % 10) as u8,
            b'0' + (ms % 10) as u8,
        ];
        out.push_str(std::str::from_utf8(&digits).unwrap_or("000"));
    }
}

/// Prometheus's spelling of NaN and the infinities, `None` for finite values.
pub(crate) fn non_finite(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v.is_infinite() {
        Some(if v > 0.0 { "+Inf" } else { "-Inf" })
    } else {
        None
    }
}

/// Formats a sample value as Prometheus does: shortest round-trip decimal, exponent only for tiny or huge values.
pub fn format_value(v: f64) -> String {
    let mut s = String::new();
    write_value(&mut s, v);
    s
}

/// Appends a sample value as [`format_value`] spells it, without an allocation of its own (a range answer
/// writes millions of them).
pub fn write_value(out: &mut String, v: f64) {
    if let Some(s) = non_finite(v) {
        out.push_str(s);
        return;
    }
    if v == 0.0 {
        out.push_str(if v.is_sign_negative() { "-0" } else { "0" });
        return;
    }
    crate::float_text::write_finite(out, v);
}

/// Appends `s` as a JSON string literal.
pub fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends a label set as a JSON object in label order.
pub fn write_labels(out: &mut String, labels: &Labels) {
    out.push('{');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_str(out, &l.name);
        out.push(':');
        write_json_str(out, &l.value);
    }
    out.push('}');
}

/// Appends `[ts,"value"]`.
pub fn write_point(out: &mut String, t_ms: i64, v: f64) {
    out.push('[');
    write_timestamp(out, t_ms);
    out.push_str(",\"");
    write_value(out, v);
    out.push_str("\"]");
}

/// Formats a ms timestamp as RFC 3339 in UTC with milliseconds (`2015-07-01T20:10:51.781Z`).
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86400);
    let sod = secs.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(t: i64) -> String {
        let mut s = String::new();
        write_timestamp(&mut s, t);
        s
    }

    #[test]
    fn timestamps_have_three_ms_digits_when_needed() {
        assert_eq!(ts(1500), "1.500");
        assert_eq!(ts(1050), "1.050");
        assert_eq!(ts(1435781451781), "1435781451.781");
        assert_eq!(ts(4000), "4");
        assert_eq!(ts(-1500), "-1.500");
    }

    #[test]
    fn values_follow_prometheus_formatting() {
        let cases = [
            (1.0, "1"),
            (0.1, "0.1"),
            (1e6, "1000000"),
            (123456789012345680.0, "123456789012345680"),
            (1e-7, "1e-07"),
            (2.5e21, "2.5e+21"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (-0.0, "-0"),
            (-3.25, "-3.25"),
            (1e-6, "0.000001"),
        ];
        for (v, want) in cases {
            assert_eq!(format_value(v), want, "{v}");
        }
    }

    #[test]
    fn rfc3339_formats_utc_millis() {
        assert_eq!(rfc3339(1435781451781), "2015-07-01T20:10:51.781Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn json_strings_escape_controls() {
        let mut s = String::new();
        write_json_str(&mut s, "a\"b\\c\nd\u{1}");
        assert_eq!(s, r#""a\"b\\c\nd\u0001""#);
        let parsed: String = serde_json::from_str(&s).unwrap();
        assert_eq!(parsed, "a\"b\\c\nd\u{1}");
    }
}
