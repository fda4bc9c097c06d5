//! The part of Go's `fmt` package templates reach: `%v` printing of values, `Sprint`, `Sprintln` and
//! `Sprintf` with Go's verbs, flags and its in-band error notation (`%!d(string=x)`, `%!s(MISSING)`).
//! Explicit argument indexes (`%[1]d`) are not supported.

mod num;

pub(crate) use num::{float_abs, quote};

use crate::MAX_OUTPUT_BYTES;
use crate::gotime;
use crate::value::Value;

/// Appends Go's `%v` rendering of `v`.
pub(crate) fn write_value(out: &mut String, v: &Value) {
    format_arg(out, v, 'v', &Spec::default());
}

/// Go's `fmt.Sprint`: a space between operands when neither side is a string.
pub(crate) fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::Str(_));
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        write_value(&mut out, a);
        prev_string = is_string;
    }
    out
}

/// Go's `fmt.Sprintln`: operands always separated by spaces, then a newline.
pub(crate) fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_value(&mut out, a);
    }
    out.push('\n');
    out
}

/// One conversion's flags, width and precision.
#[derive(Default, Clone)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// Reads a decimal number at `fmt[*i..]`; None when there are no digits.
fn parse_num(fmt: &[char], i: &mut usize) -> Option<usize> {
    let start = *i;
    let mut n: usize = 0;
    while *i < fmt.len() && fmt[*i].is_ascii_digit() {
        n = n
            .saturating_mul(10)
            .saturating_add(fmt[*i] as usize - '0' as usize);
        *i += 1;
    }
    (*i > start).then_some(n)
}

/// Takes a `*` width or precision from the arguments, as Go does; None when it is not an int.
fn star_arg(args: &[Value], next: &mut usize) -> Option<i64> {
    let v = match args.get(*next) {
        Some(Value::Int(n)) => Some(*n),
        _ => None,
    };
    *next += 1;
    v
}

fn check_limit(n: usize) -> Result<usize, String> {
    if n > MAX_OUTPUT_BYTES {
        return Err(format!(
            "width or precision {n} exceeds the limit of {MAX_OUTPUT_BYTES}"
        ));
    }
    Ok(n)
}

/// Go's `fmt.Sprintf`. Errors only when a width or precision would exceed the output limit;
/// everything else Go reports inside the output, and so do we.
pub(crate) fn sprintf(format: &str, args: &[Value]) -> Result<String, String> {
    let fmt: Vec<char> = format.chars().collect();
    let mut out = String::with_capacity(format.len() + 16);
    let mut next = 0usize;
    let mut i = 0usize;
    while i < fmt.len() {
        if fmt[i] != '%' {
            out.push(fmt[i]);
            i += 1;
            continue;
        }
        i += 1;
        let mut spec = Spec::default();
        while i < fmt.len() {
            match fmt[i] {
                '-' => {
                    spec.minus = true;
                    spec.zero = false; // Go: only pad with zeros on the left.
                }
                '+' => spec.plus = true,
                '#' => spec.sharp = true,
                ' ' => spec.space = true,
                '0' => spec.zero = !spec.minus,
                _ => break,
            }
            i += 1;
        }
        if i < fmt.len() && fmt[i] == '*' {
            i += 1;
            match star_arg(args, &mut next) {
                Some(w) => {
                    if w < 0 {
                        spec.minus = true;
                        spec.zero = false;
                    }
                    spec.width = Some(check_limit(w.unsigned_abs() as usize)?);
                }
                None => out.push_str("%!(BADWIDTH)"),
            }
        } else if let Some(w) = parse_num(&fmt, &mut i) {
            spec.width = Some(check_limit(w)?);
        }
        if i < fmt.len() && fmt[i] == '.' {
            i += 1;
            if i < fmt.len() && fmt[i] == '*' {
                i += 1;
                match star_arg(args, &mut next) {
                    Some(p) if p >= 0 => spec.prec = Some(check_limit(p as usize)?),
                    _ => out.push_str("%!(BADPREC)"),
                }
            } else {
                spec.prec = Some(check_limit(parse_num(&fmt, &mut i).unwrap_or(0))?);
            }
        }
        let Some(&verb) = fmt.get(i) else {
            out.push_str("%!(NOVERB)");
            break;
        };
        i += 1;
        if verb == '%' {
            out.push('%');
            continue;
        }
        match args.get(next) {
            Some(arg) => format_arg(&mut out, arg, verb, &spec),
            None => {
                out.push_str("%!");
                out.push(verb);
                out.push_str("(MISSING)");
            }
        }
        next += 1;
        if out.len() > MAX_OUTPUT_BYTES {
            return Err(format!(
                "output exceeds the limit of {MAX_OUTPUT_BYTES} bytes"
            ));
        }
    }
    if next < args.len() {
        out.push_str("%!(EXTRA ");
        for (k, a) in args[next..].iter().enumerate() {
            if k > 0 {
                out.push_str(", ");
            }
            if matches!(a, Value::Nil) {
                out.push_str("<nil>");
            } else {
                out.push_str(a.type_name());
                out.push('=');
                write_value(&mut out, a);
            }
        }
        out.push(')');
    }
    Ok(out)
}

/// Pads `s` to the spec's width (counted in characters), left or right, with spaces or zeros.
fn pad(out: &mut String, s: &str, spec: &Spec) {
    let n = s.chars().count();
    let fill = spec.width.unwrap_or(0).saturating_sub(n);
    if spec.minus {
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', fill));
    } else {
        out.extend(std::iter::repeat_n(if spec.zero { '0' } else { ' ' }, fill));
        out.push_str(s);
    }
}

/// Go's `%!verb(type=value)` for a verb the value's type does not support.
fn bad_verb(out: &mut String, v: &Value, verb: char) {
    out.push_str("%!");
    out.push(verb);
    out.push('(');
    if matches!(v, Value::Nil) {
        out.push_str("<nil>");
    } else {
        out.push_str(v.type_name());
        out.push('=');
        write_value(out, v);
    }
    out.push(')');
}

/// Formats one argument; lists and maps apply the verb to each element, as Go's `printValue` does.
fn format_arg(out: &mut String, v: &Value, verb: char, spec: &Spec) {
    if verb == 'T' {
        pad(out, v.type_name(), spec);
        return;
    }
    match v {
        Value::Nil => match verb {
            'v' => pad(out, "<nil>", spec),
            _ => bad_verb(out, v, verb),
        },
        Value::Bool(b) => match verb {
            'v' | 't' => pad(out, if *b { "true" } else { "false" }, spec),
            _ => bad_verb(out, v, verb),
        },
        Value::Int(n) => format_int(out, *n, verb, spec),
        Value::Float(f) => format_float(out, *f, verb, spec),
        Value::Str(s) => format_str(out, s, verb, spec),
        Value::Time(ns) => match verb {
            // time.Time is a Stringer, and fmt prints Stringers' String() for these verbs.
            'v' | 's' | 'q' | 'x' | 'X' => format_str(out, &gotime::time_string(*ns), verb, spec),
            _ => bad_verb(out, v, verb),
        },
        // time.Duration is a Stringer too, and an int64 for the integer verbs.
        Value::Duration(ns) => match verb {
            'v' | 's' | 'q' | 'x' | 'X' => {
                format_str(out, &gotime::duration_string(*ns), verb, spec)
            }
            _ => format_int(out, *ns, verb, spec),
        },
        Value::List(items) => {
            out.push('[');
            for (k, item) in items.iter().enumerate() {
                if k > 0 {
                    out.push(' ');
                }
                format_arg(out, item, verb, spec);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push_str("map[");
            for (k, (key, item)) in m.iter().enumerate() {
                if k > 0 {
                    out.push(' ');
                }
                format_str(out, key, verb, spec);
                out.push(':');
                format_arg(out, item, verb, spec);
            }
            out.push(']');
        }
    }
}

fn format_str(out: &mut String, s: &str, verb: char, spec: &Spec) {
    let truncated: String;
    let s = match spec.prec {
        Some(p) if s.chars().count() > p => {
            truncated = s.chars().take(p).collect();
            truncated.as_str()
        }
        _ => s,
    };
    match verb {
        'v' | 's' => pad(out, s, spec),
        'q' => {
            let q = if spec.sharp && num::can_backquote(s) {
                format!("`{s}`")
            } else {
                quote(s, spec.plus)
            };
            pad(out, &q, spec);
        }
        'x' | 'X' => {
            let mut h = String::with_capacity(s.len() * 2);
            for (k, b) in s.bytes().enumerate() {
                if spec.space && k > 0 {
                    h.push(' ');
                }
                if spec.sharp && (spec.space || k == 0) {
                    h.push_str(if verb == 'x' { "0x" } else { "0X" });
                }
                if verb == 'x' {
                    h.push_str(&format!("{b:02x}"));
                } else {
                    h.push_str(&format!("{b:02X}"));
                }
            }
            pad(out, &h, spec);
        }
        _ => bad_verb(out, &Value::Str(s.to_owned()), verb),
    }
}

fn format_int(out: &mut String, n: i64, verb: char, spec: &Spec) {
    let abs = n.unsigned_abs();
    let (mut digits, prefix) = match verb {
        'd' | 'v' => (abs.to_string(), ""),
        'b' => (format!("{abs:b}"), if spec.sharp { "0b" } else { "" }),
        'o' => (format!("{abs:o}"), if spec.sharp { "0" } else { "" }),
        'O' => (format!("{abs:o}"), "0o"),
        'x' => (format!("{abs:x}"), if spec.sharp { "0x" } else { "" }),
        'X' => (format!("{abs:X}"), if spec.sharp { "0X" } else { "" }),
        'c' => {
            let c = u32::try_from(n)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{fffd}');
            return pad(out, c.encode_utf8(&mut [0; 4]), spec);
        }
        'q' => return pad(out, &num::quote_rune(n, spec.plus), spec),
        'U' => {
            let mut s = format!("U+{abs:04X}");
            if spec.sharp
                && let Some(c) = u32::try_from(n).ok().and_then(char::from_u32)
            {
                s.push_str(&format!(" '{c}'"));
            }
            return pad(out, &s, spec);
        }
        _ => return bad_verb(out, &Value::Int(n), verb),
    };
    let sign = if n < 0 {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    // Go: an explicit precision is a minimum digit count (and %.0d of 0 prints nothing); without
    // one, the zero flag pads to the width, leaving room for the sign but not for the prefix.
    let min_digits = match spec.prec {
        Some(0) if n == 0 => {
            digits.clear();
            0
        }
        Some(p) => p,
        None if spec.zero && !spec.minus => spec.width.unwrap_or(0).saturating_sub(sign.len()),
        None => 0,
    };
    if digits.len() < min_digits {
        digits.insert_str(0, &"0".repeat(min_digits - digits.len()));
    }
    let spaced = Spec {
        zero: false,
        ..spec.clone()
    };
    pad(out, &format!("{sign}{prefix}{digits}"), &spaced);
}

fn format_float(out: &mut String, f: f64, verb: char, spec: &Spec) {
    let (conv, default_prec) = match verb {
        'v' | 'g' => ('g', None),
        'G' => ('G', None),
        'e' | 'E' | 'f' | 'F' => (verb, Some(6)),
        _ => return bad_verb(out, &Value::Float(f), verb),
    };
    let prec = spec.prec.or(default_prec);
    if !f.is_finite() {
        let s = if f.is_nan() {
            if spec.plus { "+NaN" } else { "NaN" }
        } else if f > 0.0 {
            "+Inf"
        } else {
            "-Inf"
        };
        // Go never zero-pads infinities and NaN.
        return pad(
            out,
            s,
            &Spec {
                zero: false,
                ..spec.clone()
            },
        );
    }
    let body = float_abs(f, conv, prec);
    let sign = if f.is_sign_negative() {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    if spec.zero && !spec.minus {
        let width = spec.width.unwrap_or(0);
        let fill = width.saturating_sub(sign.len() + body.len());
        out.push_str(sign);
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(&body);
    } else {
        pad(out, &format!("{sign}{body}"), spec);
    }
}
