//! Sample values as Prometheus spells them, written fast: a range answer holds millions of them, and the
//! standard library's float formatting was the largest cost of writing one. `ryu` finds the shortest
//! round-trip digits; this module lays them out: plain decimal for magnitudes in `[1e-6, 1e21)`, otherwise Go's
//! exponent form (`1e-07`, `2.5e+21`).

/// Appends the finite, non-zero `v`.
pub(crate) fn write_finite(out: &mut String, v: f64) {
    let mut buf = ryu::Buffer::new();
    let text = buf.format_finite(v);
    // Most values: ryu's plain decimal (it uses one for magnitudes in [1e-5, 1e16)), which is Prometheus's
    // spelling once a whole number loses its `.0`.
    // A plain loop over these few bytes: `split_once` goes through the generic searcher and memchr, which
    // cost more than the search itself on a short string.
    let Some(e) = text.bytes().rposition(|b| b == b'e') else {
        out.push_str(text.strip_suffix(".0").unwrap_or(text));
        return;
    };
    let (mantissa, exp10) = (&text[..e], &text[e + 1..]);
    let exp10 = exp10.parse::<i32>().unwrap_or(0);
    let (mantissa, negative) = match mantissa.strip_prefix('-') {
        Some(t) => (t, true),
        None => (mantissa, false),
    };
    // ryu's exponent form is `d.dddeX` or `deX`: collect the digits and where the point goes.
    let mut digits = [0u8; 24];
    let mut len = 0usize;
    let mut point = mantissa.len() as i32;
    for (i, b) in mantissa.bytes().enumerate() {
        if b == b'.' {
            point = i as i32;
        } else if len < digits.len() {
            digits[len] = b;
            len += 1;
        }
    }
    // Leading zeros move the point left; trailing zeros carry nothing.
    let lead = digits[..len].iter().take_while(|&&d| d == b'0').count();
    let digits_end = len
        - digits[lead..len]
            .iter()
            .rev()
            .take_while(|&&d| d == b'0')
            .count();
    let digits = &digits[lead..digits_end.max(lead)];
    if digits.is_empty() {
        out.push('0');
        return;
    }
    // The value is 0.DIGITS × 10^n.
    let n = point - lead as i32 + exp10;
    if negative {
        out.push('-');
    }
    let a = v.abs();
    if (1e-6..1e21).contains(&a) {
        if n <= 0 {
            out.push_str("0.");
            for _ in 0..-n {
                out.push('0');
            }
            push_digits(out, digits);
        } else if n as usize >= digits.len() {
            push_digits(out, digits);
            for _ in 0..(n as usize - digits.len()) {
                out.push('0');
            }
        } else {
            push_digits(out, &digits[..n as usize]);
            out.push('.');
            push_digits(out, &digits[n as usize..]);
        }
        return;
    }
    push_digits(out, &digits[..1]);
    if digits.len() > 1 {
        out.push('.');
        push_digits(out, &digits[1..]);
    }
    let e = n - 1;
    out.push('e');
    out.push(if e < 0 { '-' } else { '+' });
    let e = e.unsigned_abs();
    if e < 10 {
        out.push('0');
    }
    let mut ibuf = itoa::Buffer::new();
    out.push_str(ibuf.format(e));
}

fn push_digits(out: &mut String, digits: &[u8]) {
    // Only ASCII digits were collected.
    out.push_str(std::str::from_utf8(digits).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spelling this module must reproduce, written with the standard library's formatting.
    fn reference(v: f64) -> String {
        let a = v.abs();
        if !(1e-6..1e21).contains(&a) {
            let s = format!("{v:e}");
            let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            return format!("{mantissa}e{sign}{digits:0>2}");
        }
        format!("{v}")
    }

    fn fast(v: f64) -> String {
        let mut s = String::new();
        write_finite(&mut s, v);
        s
    }

    /// The same text as the reference, or (on a tie in the last digit) text of the same shape that reads back
    /// as the same value.
    fn same_spelling(v: f64) {
        let (got, want) = (fast(v), reference(v));
        if got == want {
            return;
        }
        let why = format!("{v:e} ({:#x}): {got} vs {want}", v.to_bits());
        assert_eq!(got.len(), want.len(), "{why}");
        let last_digit = |s: &str| {
            s.rfind(|c: char| c.is_ascii_digit() && c != '0')
                .unwrap_or(0)
        };
        let (i, j) = (last_digit(&got), last_digit(&want));
        assert_eq!(
            (i, &got[..i], &got[i + 1..]),
            (j, &want[..j], &want[j + 1..]),
            "{why}"
        );
        let parse = |s: &str| s.replace("e+", "e").parse::<f64>().unwrap();
        assert_eq!(parse(&got).to_bits(), v.to_bits(), "{why}");
        assert_eq!(parse(&want).to_bits(), v.to_bits(), "{why}");
    }

    #[test]
    fn matches_the_reference_spelling() {
        let fixed = [
            1.0,
            0.1,
            1e6,
            123456789012345680.0,
            1e-7,
            2.5e21,
            -3.25,
            1e-6,
            f64::from_bits(1e-6f64.to_bits() - 1),
            1e21,
            f64::from_bits(1e21f64.to_bits() - 1),
            1e20,
            123.456,
            0.000123,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            1e100,
            -1e-100,
            1e15,
            1e16,
            1e17,
            12345678.9,
            0.30000000000000004,
        ];
        for v in fixed {
            assert_eq!(fast(v), reference(v), "{v:e}");
        }
        // A value exactly halfway between two shortest spellings may end in either digit (ryu and the standard
        // library break the tie differently); both read back as the same float.
        assert_eq!(
            fast(f64::from_bits(0x4304b88528f8a4b2)),
            "729047698969750.2"
        );
        // Random bit patterns (every magnitude) and random values in the plain range.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = if i % 2 == 0 {
                f64::from_bits(x)
            } else {
                (x >> 11) as f64 / (1u64 << 53) as f64 * 10f64.powi((i % 30) - 8)
            };
            if !v.is_finite() || v == 0.0 {
                continue;
            }
            same_spelling(v);
        }
    }
}
