//! Function libraries, one module per family, each exporting a `FUNCS` table of (name, function):
//! Go's builtins; Loki's strings, maths, dates and regexes; Prometheus's humanize family, strings
//! and query-result helpers (its functions that need the caller's context live in `prometheus`).
//!
//! Argument conversion is deliberately a little more lenient than Go's reflection: where a Go
//! function takes a `string`, numbers and booleans are accepted and printed as `%v` would; where it
//! takes an `int`, integral floats and numeric strings are accepted. Loki's data is all strings, so
//! this only ever turns what would be a Go type error into the obvious answer.

pub(crate) mod builtin;
pub(crate) mod date;
pub(crate) mod humanize;
pub(crate) mod math;
pub(crate) mod promtext;
pub(crate) mod regex;
pub(crate) mod samples;
pub(crate) mod strings;

use std::borrow::Cow;

use crate::MAX_OUTPUT_BYTES;
use crate::functions::Func;
use crate::gofmt;
use crate::value::Value;

/// A family's functions.
pub(crate) type Table = &'static [(&'static str, Func)];

/// Exactly `n` arguments.
pub(crate) fn want(args: &[Value], n: usize) -> Result<(), String> {
    if args.len() != n {
        return Err(format!("wrong number of args: want {n} got {}", args.len()));
    }
    Ok(())
}

/// At least `n` arguments.
pub(crate) fn at_least(args: &[Value], n: usize) -> Result<(), String> {
    if args.len() < n {
        return Err(format!(
            "wrong number of args: want at least {n} got {}",
            args.len()
        ));
    }
    Ok(())
}

/// A string argument; scalars are printed as Go's `%v`.
pub(crate) fn str_arg(v: &Value) -> Result<Cow<'_, str>, String> {
    match v {
        Value::Str(s) => Ok(Cow::Borrowed(s)),
        Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::Time(_) | Value::Duration(_) => {
            Ok(Cow::Owned(v.to_string()))
        }
        other => Err(format!(
            "wrong type for value; expected string; got {}",
            other.type_name()
        )),
    }
}

/// An integer argument: an int, an integral float, or a string holding an integer.
pub(crate) fn int_arg(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Ok(*f as i64),
        Value::Str(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("wrong type for value; expected int; got string {s:?}")),
        other => Err(format!(
            "wrong type for value; expected int; got {}",
            other.type_name()
        )),
    }
}

/// A size a function is about to allocate, refused past the output limit so that `repeat 1e9`
/// fails before allocating anything.
pub(crate) fn check_size(n: u128) -> Result<usize, String> {
    if n > MAX_OUTPUT_BYTES as u128 {
        return Err(format!(
            "result of {n} bytes exceeds the limit of {MAX_OUTPUT_BYTES} bytes"
        ));
    }
    Ok(n as usize)
}

/// Go's `strconv.ParseInt(s, 0, 64)`: optional sign, `0x`/`0o`/`0b`/leading-0 octal, underscores.
fn parse_int_base0(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (digits, radix) = if let Some(d) = lower.strip_prefix("0x") {
        (d.to_owned(), 16)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (d.to_owned(), 8)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (d.to_owned(), 2)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (lower[1..].to_owned(), 8)
    } else {
        (lower.clone(), 10)
    };
    // Go allows underscores only with a base prefix (including the leading-0 octal one).
    if digits.contains('_') && radix == 10 {
        return None;
    }
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let mag = u64::from_str_radix(&digits, radix).ok()?;
    if neg {
        0i64.checked_sub_unsigned(mag)
    } else {
        i64::try_from(mag).ok()
    }
}

/// `12.000` → `12`, as spf13/cast's `trimZeroDecimal` before parsing integers.
fn trim_zero_decimal(s: &str) -> &str {
    let b = s.as_bytes();
    let mut found_zero = false;
    for i in (1..=b.len()).rev() {
        match b[i - 1] {
            b'.' if found_zero => return &s[..i - 1],
            b'.' => return s,
            b'0' => found_zero = true,
            _ => return s,
        }
    }
    s
}

/// spf13/cast's `ToInt64`, which Sprig's integer maths uses: strings parse as Go integer literals
/// (so "010" is octal 8), floats truncate, bools are 0/1, and anything unparsable is 0.
pub(crate) fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Float(f) => *f as i64,
        Value::Bool(b) => i64::from(*b),
        Value::Str(s) => parse_int_base0(trim_zero_decimal(s)).unwrap_or(0),
        _ => 0,
    }
}

/// spf13/cast's `ToFloat64`: strings via `ParseFloat`, bools 0/1, anything unparsable 0.
pub(crate) fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Str(s) => s.parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// Go's `evalArgs` for html/js/urlquery: a lone string as is, otherwise `fmt.Sprint`.
pub(crate) fn joined(args: &[Value]) -> Cow<'_, str> {
    match args {
        [Value::Str(s)] => Cow::Borrowed(s),
        _ => Cow::Owned(gofmt::sprint(args)),
    }
}
