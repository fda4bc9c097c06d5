//! Go's `strconv` number and quoting rules, which differ from Rust's `Display` (`1e+06` vs `1000000`,
//! `\x01` vs `\u{1}`), so templates print byte-for-byte what Loki prints.

/// The decimal digits of a float's magnitude: value = 0.d₁d₂… × 10^dp; empty digits mean zero.
struct Digits {
    d: Vec<u8>,
    dp: i32,
}

/// Splits Rust's `{:e}` rendering ("1.2345e6") into digits and decimal point position.
fn digits_of(rendered: &str) -> Digits {
    let (mant, exp) = rendered.split_once('e').unwrap_or((rendered, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let d: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    if d.iter().all(|&c| c == b'0') {
        return Digits {
            d: Vec::new(),
            dp: 0,
        };
    }
    Digits { d, dp: exp + 1 }
}

/// Shortest digits that round-trip, as Go's precision -1.
fn shortest(abs: f64) -> Digits {
    let mut d = digits_of(&format!("{abs:e}"));
    trim_zeros(&mut d);
    d
}

/// `n` significant digits, correctly rounded (ties to even, like Go).
fn significant(abs: f64, n: usize) -> Digits {
    digits_of(&format!("{abs:.prec$e}", prec = n.saturating_sub(1)))
}

fn trim_zeros(d: &mut Digits) {
    while d.d.last() == Some(&b'0') {
        d.d.pop();
    }
    if d.d.is_empty() {
        d.dp = 0;
    }
}

/// `%e` layout of already-rounded digits: d.ddddde±XX with `prec` fraction digits.
fn layout_e(out: &mut String, d: &Digits, prec: usize, upper: bool) {
    out.push(d.d.first().map_or('0', |&c| c as char));
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            out.push(d.d.get(i).map_or('0', |&c| c as char));
        }
    }
    out.push(if upper { 'E' } else { 'e' });
    let exp = if d.d.is_empty() { 0 } else { d.dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let exp = exp.unsigned_abs();
    if exp < 10 {
        out.push('0');
    }
    out.push_str(&exp.to_string());
}

/// `%f` layout of already-rounded digits with `prec` fraction digits.
fn layout_f(out: &mut String, d: &Digits, prec: usize) {
    let digit = |i: i32| -> char {
        if i >= 0 {
            d.d.get(i as usize).map_or('0', |&c| c as char)
        } else {
            '0'
        }
    };
    if d.dp > 0 {
        for i in 0..d.dp {
            out.push(digit(i));
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 0..prec as i32 {
            out.push(digit(d.dp + i));
        }
    }
}

/// Formats `|f|` (finite) as Go's `strconv.FormatFloat(f, verb, prec, 64)` without the sign;
/// `prec` None is Go's -1 (shortest).
pub(crate) fn float_abs(f: f64, verb: char, prec: Option<usize>) -> String {
    let abs = f.abs();
    let mut out = String::new();
    match verb {
        'e' | 'E' => match prec {
            Some(p) => {
                let d = significant(abs, p + 1);
                layout_e(&mut out, &d, p, verb == 'E');
            }
            None => {
                let d = shortest(abs);
                layout_e(&mut out, &d, d.d.len().saturating_sub(1), verb == 'E');
            }
        },
        'f' | 'F' => match prec {
            Some(p) => out = format!("{abs:.p$}"),
            None => {
                let d = shortest(abs);
                layout_f(&mut out, &d, (d.d.len() as i32 - d.dp).max(0) as usize);
            }
        },
        _ => {
            // 'g' / 'G': %e for large and small exponents, %f otherwise, trailing zeros dropped.
            let (d, eprec) = match prec {
                None => (shortest(abs), 6),
                Some(p) => {
                    let p = p.max(1);
                    let mut d = significant(abs, p);
                    trim_zeros(&mut d);
                    let nd = d.d.len() as i32;
                    let eprec = if p as i32 > nd && nd >= d.dp {
                        nd
                    } else {
                        p as i32
                    };
                    (d, eprec)
                }
            };
            let exp = d.dp - 1;
            if !d.d.is_empty() && (exp < -4 || exp >= eprec) {
                let p = d.d.len().saturating_sub(1);
                layout_e(&mut out, &d, p, verb == 'G');
            } else {
                layout_f(&mut out, &d, (d.d.len() as i32 - d.dp).max(0) as usize);
            }
        }
    }
    out
}

/// Go's `unicode.IsPrint`, approximated without the Unicode category tables: controls, format
/// characters, private use and non-ASCII spaces are not printable.
fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}'
            | '\u{e000}'..='\u{f8ff}'))
}

/// Appends `c` escaped as inside a Go quoted literal delimited by `quote`.
fn push_escaped(out: &mut String, c: char, quote: char, ascii: bool) {
    match c {
        _ if c == quote || c == '\\' => {
            out.push('\\');
            out.push(c);
        }
        _ if is_print(c) && (!ascii || c.is_ascii()) => out.push(c),
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        _ if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
        _ if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        _ => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// Go's `strconv.Quote` (or `QuoteToASCII` when `ascii`).
pub(crate) fn quote(s: &str, ascii: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c, '"', ascii);
    }
    out.push('"');
    out
}

/// Go's `strconv.QuoteRune`; invalid code points print as U+FFFD.
pub(crate) fn quote_rune(r: i64, ascii: bool) -> String {
    let c = u32::try_from(r)
        .ok()
        .and_then(char::from_u32)
        .unwrap_or('\u{fffd}');
    let mut out = String::from("'");
    push_escaped(&mut out, c, '\'', ascii);
    out.push('\'');
    out
}

/// Go's `strconv.CanBackquote`: a raw string literal can hold `s` unchanged.
pub(crate) fn can_backquote(s: &str) -> bool {
    s.chars()
        .all(|c| c == '\t' || (c != '`' && c != '\u{feff}' && !c.is_control()))
}
