//! Float formatting as Go's `strconv.FormatFloat(f, 'g', -1, 64)` prints it, which is what Prometheus's text
//! exposition (and its label-value normalisation) produces: the shortest digits that round-trip, exponent form
//! (`1.5e+06`, `1e-05`) when the decimal exponent is below -4 or at least 6, plain decimals otherwise.

use std::fmt::Write as _;

/// A fixed buffer that `{:e}` formatting writes into without allocating.
struct StackBuf {
    bytes: [u8; 40],
    len: usize,
}

impl std::fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.bytes.len() {
            return Err(std::fmt::Error);
        }
        self.bytes[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Appends `v` the way Go's `FormatFloat(v, 'g', -1, 64)` does, with `+Inf`, `-Inf` and `NaN` as the exposition
/// formats spell them.
pub fn write_go_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    if v.is_sign_negative() {
        out.push('-');
    }
    if v == 0.0 {
        out.push('0');
        return;
    }
    // Rust's `{:e}` gives the shortest round-trip digits as `d[.ddd]e<exp>`; only the layout differs from Go.
    let mut buf = StackBuf {
        bytes: [0; 40],
        len: 0,
    };
    write!(buf, "{:e}", v.abs()).expect("a finite f64 fits in 40 bytes");
    let text = &buf.bytes[..buf.len];
    let e_at = text
        .iter()
        .position(|&c| c == b'e')
        .expect("{:e} output has an exponent");
    let mut digits = [0u8; 20];
    let mut nd = 0;
    for &c in &text[..e_at] {
        if c != b'.' {
            digits[nd] = c;
            nd += 1;
        }
    }
    let exp_text = std::str::from_utf8(&text[e_at + 1..]).expect("ascii");
    let exp: i32 = exp_text.parse().expect("{:e} exponent is an integer");
    let digits = &digits[..nd];
    if !(-4..6).contains(&exp) {
        write_exponent_form(out, digits, exp);
    } else {
        write_plain_form(out, digits, exp + 1);
    }
}

/// `d[.ddd]e±XX` with at least two exponent digits, as Go writes it.
fn write_exponent_form(out: &mut String, digits: &[u8], exp: i32) {
    out.push(digits[0] as char);
    if digits.len() > 1 {
        out.push('.');
        digits[1..].iter().for_each(|&d| out.push(d as char));
    }
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    let magnitude = exp.unsigned_abs();
    if magnitude < 10 {
        out.push('0');
    }
    write!(out, "{magnitude}").expect("writing to a String cannot fail");
}

/// Plain decimal with the point after `point` digits (`point` may be zero or negative: leading zeros).
fn write_plain_form(out: &mut String, digits: &[u8], point: i32) {
    if point <= 0 {
        out.push('0');
    } else {
        for i in 0..point as usize {
            out.push(digits.get(i).map_or('0', |&d| d as char));
        }
    }
    let fraction_digits = digits.len() as i32 - point;
    if fraction_digits > 0 {
        out.push('.');
        for i in 0..fraction_digits {
            let j = point + i;
            out.push(if j < 0 {
                '0'
            } else {
                digits[j as usize] as char
            });
        }
    }
}

/// Appends `v` as Prometheus's `FormatOpenMetricsFloat` does: Go formatting plus `.0` when the result has neither
/// a point nor an exponent (used to normalise `le` and `quantile` label values).
pub fn write_openmetrics_float(out: &mut String, v: f64) {
    let start = out.len();
    if v == 0.0 {
        // Go's helper special-cases zero before formatting, so -0 prints as 0.0 too.
        out.push_str("0.0");
        return;
    }
    write_go_float(out, v);
    let written = &out[start..];
    if !v.is_finite() || written.contains(['.', 'e']) {
        return;
    }
    out.push_str(".0");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn go(v: f64) -> String {
        let mut s = String::new();
        write_go_float(&mut s, v);
        s
    }

    fn om(v: f64) -> String {
        let mut s = String::new();
        write_openmetrics_float(&mut s, v);
        s
    }

    #[test]
    fn matches_go_layout() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-1.0, "-1"),
            (0.5, "0.5"),
            (100000.0, "100000"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (1.7e9, "1.7e+09"),
            (1700000017.0, "1.700000017e+09"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (123.456, "123.456"),
            (1e21, "1e+21"),
            (1e100, "1e+100"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
            (84442.23, "84442.23"),
            (-0.025, "-0.025"),
        ];
        for (v, want) in cases {
            assert_eq!(go(*v), *want, "{v:?}");
        }
    }

    #[test]
    fn openmetrics_floats_always_show_a_point() {
        assert_eq!(om(1.0), "1.0");
        assert_eq!(om(0.0), "0.0");
        assert_eq!(om(-0.0), "0.0");
        assert_eq!(om(0.005), "0.005");
        assert_eq!(om(250.0), "250.0");
        assert_eq!(om(1e6), "1e+06");
        assert_eq!(om(f64::INFINITY), "+Inf");
        assert_eq!(om(f64::NAN), "NaN");
    }

    proptest! {
        #[test]
        fn go_format_round_trips(bits: u64) {
            let v = f64::from_bits(bits);
            prop_assume!(v.is_finite());
            let text = go(v);
            let back: f64 = text.parse().unwrap();
            prop_assert_eq!(back.to_bits(), bits, "{}", text);
        }
    }
}
