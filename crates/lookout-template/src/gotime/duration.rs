//! Go's `time.Duration.String()`: `0s`, `1.5µs`, `2ms`, `1m30.5s`, `1h0m0s`. Sub-second spans use
//! the largest unit below a second that keeps an integer part; longer ones count hours, minutes and
//! seconds (never days, whose length varies), with the seconds' fraction trimmed of zeros.

/// Appends `v / 10^prec` as a decimal fraction (digits after the point, trailing zeros dropped,
/// no point at all when the fraction is zero) and returns the integer part.
fn push_frac(out: &mut Vec<u8>, v: u64, prec: u32) -> u64 {
    let scale = 10u64.pow(prec);
    let frac = v % scale;
    if frac != 0 {
        let digits = format!("{frac:0width$}", width = prec as usize);
        // Built back to front, like the rest of the string.
        for b in digits.trim_end_matches('0').bytes().rev() {
            out.push(b);
        }
        out.push(b'.');
    }
    v / scale
}

fn push_int(out: &mut Vec<u8>, v: u64) {
    for b in v.to_string().bytes().rev() {
        out.push(b);
    }
}

/// `time.Duration(ns).String()`.
pub(crate) fn duration_string(ns: i64) -> String {
    let mut u = ns.unsigned_abs();
    // Reversed: units and fractions are known before the integer parts that precede them.
    let mut rev: Vec<u8> = Vec::with_capacity(24);
    if u < 1_000_000_000 {
        if u == 0 {
            return "0s".to_owned();
        }
        rev.push(b's');
        let prec = if u < 1_000 {
            rev.push(b'n');
            0
        } else if u < 1_000_000 {
            // "µ" (U+00B5) in UTF-8, reversed.
            rev.extend_from_slice(&[0xB5, 0xC2]);
            3
        } else {
            rev.push(b'm');
            6
        };
        u = push_frac(&mut rev, u, prec);
        push_int(&mut rev, u);
    } else {
        rev.push(b's');
        u = push_frac(&mut rev, u, 9);
        push_int(&mut rev, u % 60);
        u /= 60;
        if u > 0 {
            rev.push(b'm');
            push_int(&mut rev, u % 60);
            u /= 60;
            if u > 0 {
                rev.push(b'h');
                push_int(&mut rev, u);
            }
        }
    }
    if ns < 0 {
        rev.push(b'-');
    }
    rev.reverse();
    String::from_utf8(rev).unwrap_or_default()
}
