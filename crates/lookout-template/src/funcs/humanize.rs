//! Prometheus's number and time functions: the `humanize` family, `toTime`, `toDuration` and
//! `parseDuration`. Arguments go through Prometheus's `ConvertToFloat` (floats, integers, numeric
//! strings parsed as Go's `strconv.ParseFloat`, durations as seconds), and results are formatted
//! with Go's `%.4g`, so the strings match Prometheus's byte for byte.

use super::{Table, str_arg, want};
use crate::gofmt;
use crate::gotime::{self, NANOS};
use crate::value::Value;

/// Number and time functions.
pub(crate) const FUNCS: Table = &[
    ("humanize", humanize),
    ("humanize1024", humanize1024),
    ("humanizeDuration", humanize_duration),
    ("humanizePercentage", humanize_percentage),
    ("humanizeTimestamp", humanize_timestamp),
    ("toTime", to_time),
    ("toDuration", to_duration),
    ("parseDuration", parse_duration),
];

/// Go's `fmt.Sprintf("%.4g", v)`.
fn g4(v: f64) -> String {
    gofmt::sprintf("%.4g", &[Value::Float(v)]).unwrap_or_default()
}

/// Whether `s` starts with `prefix`, ignoring ASCII case.
fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Go's special values: `[+-]inf`, `[+-]infinity` and `nan`, any case (a sign before NaN is not
/// accepted, unlike Rust's parser).
fn special_float(s: &str) -> Option<f64> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1.0, &s[1..]),
        b'-' => (-1.0, &s[1..]),
        _ => {
            if s.eq_ignore_ascii_case("nan") {
                return Some(f64::NAN);
            }
            (1.0, s)
        }
    };
    (rest.eq_ignore_ascii_case("inf") || rest.eq_ignore_ascii_case("infinity"))
        .then_some(sign * f64::INFINITY)
}

/// A hexadecimal float literal body (after `0x`): hex digits with an optional point, then a
/// mandatory binary exponent `p±N`; underscores may separate digits.
fn hex_float(body: &str) -> Option<f64> {
    let (mant, exp) = body.split_once(['p', 'P'])?;
    let exp: i32 = exp.parse().ok()?;
    let mant: String = mant.chars().filter(|&c| c != '_').collect();
    let (int, frac) = mant.split_once('.').unwrap_or((&mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars().chain(frac.chars()) {
        v = v * 16.0 + f64::from(c.to_digit(16)?);
    }
    let shift = exp.checked_sub(4 * i32::try_from(frac.len()).ok()?)?;
    Some(v * 2f64.powi(shift))
}

/// Go's `strconv.ParseFloat(s, 64)`, with its error texts.
pub(crate) fn parse_go_float(s: &str) -> Result<f64, String> {
    let syntax = || {
        format!(
            "strconv.ParseFloat: parsing {}: invalid syntax",
            gofmt::quote(s, false)
        )
    };
    if let Some(v) = special_float(s) {
        return Ok(v);
    }
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let negative = s.starts_with('-');
    if unsigned.starts_with(['+', '-']) {
        return Err(syntax());
    }
    let v = if starts_with_ignore_case(unsigned, "0x") {
        hex_float(&unsigned[2..]).ok_or_else(syntax)?
    } else {
        // Rust also takes "inf"/"nan" spellings, which Go's special cases have already handled, and
        // refuses underscores in decimals, as Go does.
        let ok = unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
        if !ok {
            return Err(syntax());
        }
        unsigned.parse::<f64>().map_err(|_| syntax())?
    };
    if v.is_infinite() {
        return Err(format!(
            "strconv.ParseFloat: parsing {}: value out of range",
            gofmt::quote(s, false)
        ));
    }
    Ok(if negative { -v } else { v })
}

/// Prometheus's `ConvertToFloat`: float, integer, numeric string or duration (in seconds).
pub(crate) fn to_float(v: &Value) -> Result<f64, String> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::Str(s) => parse_go_float(s),
        Value::Duration(d) => Ok((d / NANOS) as f64 + (d % NANOS) as f64 / 1e9),
        other => Err(format!("can't convert {} to float", other.type_name())),
    }
}

/// The single argument of a numeric function, converted.
fn one_float(args: &[Value]) -> Result<f64, String> {
    want(args, 1)?;
    to_float(&args[0])
}

fn humanize(args: &[Value]) -> Result<Value, String> {
    let mut v = one_float(args)?;
    if v == 0.0 || !v.is_finite() {
        return Ok(Value::Str(g4(v)));
    }
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    Ok(Value::Str(format!("{}{prefix}", g4(v))))
}

/// Binary prefixes; Prometheus spells kibi "ki", not "Ki".
fn humanize1024(args: &[Value]) -> Result<Value, String> {
    let mut v = one_float(args)?;
    if v.abs() <= 1.0 || !v.is_finite() {
        return Ok(Value::Str(g4(v)));
    }
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    Ok(Value::Str(format!("{}{prefix}", g4(v))))
}

/// Seconds as `1d 2h 3m 4s` (whole seconds from a minute up), `1.234s`, or `100ms`-style below a
/// second.
fn humanize_duration(args: &[Value]) -> Result<Value, String> {
    let mut v = one_float(args)?;
    if !v.is_finite() {
        return Ok(Value::Str(g4(v)));
    }
    if v == 0.0 {
        return Ok(Value::Str(format!("{}s", g4(v))));
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        v = v.abs();
        // Go's int64 conversion; beyond its range Rust saturates where Go's result is undefined.
        let total = v as i64;
        let (secs, mins, hours, days) = (
            total % 60,
            total / 60 % 60,
            total / 3600 % 24,
            total / 86_400,
        );
        return Ok(Value::Str(if days != 0 {
            format!("{sign}{days}d {hours}h {mins}m {secs}s")
        } else if hours != 0 {
            format!("{sign}{hours}h {mins}m {secs}s")
        } else if mins != 0 {
            format!("{sign}{mins}m {secs}s")
        } else {
            format!("{sign}{}s", g4(v))
        }));
    }
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    Ok(Value::Str(format!("{}{prefix}s", g4(v))))
}

fn humanize_percentage(args: &[Value]) -> Result<Value, String> {
    let v = one_float(args)?;
    Ok(Value::Str(format!("{}%", g4(v * 100.0))))
}

/// Why a float is no timestamp.
enum TimeError {
    NanOrInf,
    Overflow(String),
}

/// Prometheus's `FloatToTime`: Unix seconds to nanoseconds, truncated to the millisecond (it goes
/// through `model.Time`).
fn float_to_time(v: f64) -> Result<i64, TimeError> {
    if !v.is_finite() {
        return Err(TimeError::NanOrInf);
    }
    let ns = v * 1e9;
    if ns > i64::MAX as f64 || ns < i64::MIN as f64 {
        return Err(TimeError::Overflow(format!(
            "{} cannot be represented as a nanoseconds timestamp since it overflows int64",
            Value::Float(v)
        )));
    }
    // Integer division truncates toward zero, as Go's does.
    Ok((ns as i64) / 1_000_000 * 1_000_000)
}

fn humanize_timestamp(args: &[Value]) -> Result<Value, String> {
    let v = one_float(args)?;
    match float_to_time(v) {
        Ok(ns) => Ok(Value::Str(gotime::time_string(ns))),
        Err(TimeError::NanOrInf) => Ok(Value::Str(g4(v))),
        Err(TimeError::Overflow(m)) => Err(m),
    }
}

fn to_time(args: &[Value]) -> Result<Value, String> {
    match float_to_time(one_float(args)?) {
        Ok(ns) => Ok(Value::Time(ns)),
        Err(TimeError::NanOrInf) => Err("value is NaN or Inf".to_owned()),
        Err(TimeError::Overflow(m)) => Err(m),
    }
}

fn to_duration(args: &[Value]) -> Result<Value, String> {
    let v = one_float(args)?;
    // Go's float-to-int64 conversion; Rust saturates (and maps NaN to 0) where Go's is undefined.
    Ok(Value::Duration((v * 1e9) as i64))
}

/// Units of Prometheus durations, largest first; each may appear once, in this order.
const PROM_UNITS: [(&str, u64); 7] = [
    ("y", 365 * 86_400 * NANOS as u64),
    ("w", 7 * 86_400 * NANOS as u64),
    ("d", 86_400 * NANOS as u64),
    ("h", 3_600 * NANOS as u64),
    ("m", 60 * NANOS as u64),
    ("s", NANOS as u64),
    ("ms", 1_000_000),
];

/// Prometheus's `model.ParseDuration`: integer amounts of y, w, d, h, m, s, ms in that order
/// (`1h30m`, `90s`), or `0`; in nanoseconds.
fn parse_prom_duration(orig: &str) -> Result<i64, String> {
    match orig {
        "0" => return Ok(0),
        "" => return Err("empty duration string".to_owned()),
        _ => {}
    }
    let invalid = || format!("not a valid duration string: {}", gofmt::quote(orig, false));
    let mut s = orig;
    let mut total: u64 = 0;
    let mut next_unit = 0;
    while !s.is_empty() {
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        let n: u64 = s[..digits].parse().map_err(|_| invalid())?;
        s = &s[digits..];
        let unit_len = s.bytes().take_while(|b| !b.is_ascii_digit()).count();
        if unit_len == 0 {
            return Err(invalid());
        }
        let unit = &s[..unit_len];
        s = &s[unit_len..];
        let Some(idx) = PROM_UNITS.iter().position(|(u, _)| *u == unit) else {
            return Err(format!(
                "unknown unit {} in duration {}",
                gofmt::quote(unit, false),
                gofmt::quote(orig, false)
            ));
        };
        if idx < next_unit {
            return Err(invalid());
        }
        next_unit = idx + 1;
        let mult = PROM_UNITS[idx].1;
        if n > (1u64 << 63) / mult {
            return Err("duration out of range".to_owned());
        }
        total += n * mult;
        if total > i64::MAX as u64 {
            return Err("duration out of range".to_owned());
        }
    }
    Ok(total as i64)
}

/// `parseDuration "1h2m"` → 3720: a Prometheus duration, optionally negative, in seconds.
fn parse_duration(args: &[Value]) -> Result<Value, String> {
    want(args, 1)?;
    let s = str_arg(&args[0])?;
    let ns = match s.strip_prefix('-') {
        Some(rest) => -parse_prom_duration(rest)?,
        None => parse_prom_duration(&s)?,
    };
    Ok(Value::Float(ns as f64 / 1e9))
}
