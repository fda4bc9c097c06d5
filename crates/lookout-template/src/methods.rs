//! Methods of Go's `time.Time` and `time.Duration` that templates call as fields, e.g.
//! `{{ (now | toTime).Format "2006-01-02" }}` or `{{ ($d | toDuration).Seconds }}` in Prometheus
//! alert templates. Go finds methods by reflection; here each receiver type has a fixed table of the
//! methods that make sense without a time zone database (times are in UTC).

use crate::gotime::{self, NANOS};
use crate::value::Value;

/// Nanoseconds from Go's zero time (0001-01-01 UTC) to the Unix epoch: `Truncate` and `Round` on a
/// time count from the zero time, not from 1970.
const ZERO_TO_UNIX_NS: i128 = 62_135_596_800 * NANOS as i128;

/// Calls method `name` of `recv` with `args`; None when the receiver's type has no such method
/// (the caller then treats `name` as a field). Errors are complete messages.
pub(crate) fn call(recv: &Value, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
    match recv {
        Value::Time(ns) => time_method(*ns, name, args),
        Value::Duration(d) => duration_method(*d, name, args),
        _ => None,
    }
}

/// Go's arity check for a method taking `n` arguments.
fn arity(name: &str, args: &[Value], n: usize) -> Result<(), String> {
    if args.len() != n {
        return Err(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        ));
    }
    Ok(())
}

/// A `time.Duration` argument; an integer constant converts, as Go converts untyped constants.
fn duration_arg(v: &Value) -> Result<i64, String> {
    match v {
        Value::Duration(d) | Value::Int(d) => Ok(*d),
        other => Err(format!(
            "wrong type for value; expected time.Duration; got {}",
            other.type_name()
        )),
    }
}

fn time_arg(v: &Value) -> Result<i64, String> {
    match v {
        Value::Time(t) => Ok(*t),
        other => Err(format!(
            "wrong type for value; expected time.Time; got {}",
            other.type_name()
        )),
    }
}

fn string_arg(v: &Value) -> Result<&str, String> {
    match v {
        Value::Str(s) => Ok(s),
        other => Err(format!(
            "wrong type for value; expected string; got {}",
            other.type_name()
        )),
    }
}

/// Civil fields of a UTC time: (year, month, day, hour, minute, second, day of year).
fn civil(ns: i64) -> (i64, i64, i64, i64, i64, i64, i64) {
    let secs = ns.div_euclid(NANOS);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = gotime::civil_from_days(days);
    let yday = days - gotime::days_from_civil(y, 1, 1) + 1;
    (y, m, d, sod / 3600, sod / 60 % 60, sod % 60, yday)
}

/// A time back in nanoseconds, or an error when it left the representable range (Go's times reach
/// further; ours are i64 nanoseconds, as Prometheus's `toTime` also requires).
fn time_in_range(ns: i128) -> Result<Value, String> {
    i64::try_from(ns)
        .map(Value::Time)
        .map_err(|_| "time out of range".to_owned())
}

fn time_method(ns: i64, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
    let int = |v: i64| Ok(Value::Int(v));
    let result =
        match name {
            "String" => arity(name, args, 0).map(|()| Value::Str(gotime::time_string(ns))),
            "Format" => arity(name, args, 1)
                .and_then(|()| string_arg(&args[0]))
                .map(|layout| Value::Str(gotime::format(ns, layout))),
            "Unix" => arity(name, args, 0).and_then(|()| int(ns.div_euclid(NANOS))),
            "UnixMilli" => arity(name, args, 0).and_then(|()| int(ns.div_euclid(1_000_000))),
            "UnixMicro" => arity(name, args, 0).and_then(|()| int(ns.div_euclid(1_000))),
            "UnixNano" => arity(name, args, 0).and_then(|()| int(ns)),
            "UTC" | "Local" => arity(name, args, 0).map(|()| Value::Time(ns)),
            "Year" | "Day" | "Hour" | "Minute" | "Second" | "YearDay" => arity(name, args, 0)
                .and_then(|()| {
                    let (y, _, d, h, mi, s, yd) = civil(ns);
                    int(match name {
                        "Year" => y,
                        "Day" => d,
                        "Hour" => h,
                        "Minute" => mi,
                        "Second" => s,
                        _ => yd,
                    })
                }),
            "Nanosecond" => arity(name, args, 0).and_then(|()| int(ns.rem_euclid(NANOS))),
            "Add" => arity(name, args, 1)
                .and_then(|()| duration_arg(&args[0]))
                .and_then(|d| time_in_range(i128::from(ns) + i128::from(d))),
            // Go saturates a difference that does not fit a Duration.
            "Sub" => arity(name, args, 1)
                .and_then(|()| time_arg(&args[0]))
                .map(|u| Value::Duration(ns.saturating_sub(u))),
            "Before" | "After" | "Equal" => arity(name, args, 1)
                .and_then(|()| time_arg(&args[0]))
                .map(|u| {
                    Value::Bool(match name {
                        "Before" => ns < u,
                        "After" => ns > u,
                        _ => ns == u,
                    })
                }),
            "Truncate" | "Round" => arity(name, args, 1)
                .and_then(|()| duration_arg(&args[0]))
                .and_then(|d| {
                    if d <= 0 {
                        return Ok(Value::Time(ns));
                    }
                    let since_zero = i128::from(ns) + ZERO_TO_UNIX_NS;
                    let r = since_zero.rem_euclid(i128::from(d));
                    // Round halves away from zero time, as Go does.
                    let up = name == "Round" && r + r >= i128::from(d);
                    let t = i128::from(ns) - r + if up { i128::from(d) } else { 0 };
                    time_in_range(t)
                }),
            _ => return None,
        };
    Some(result)
}

/// Go's `Duration.Round`/`Truncate`: `m <= 0` leaves the duration unchanged, halves round away
/// from zero, and rounding past the range saturates.
fn round_duration(d: i64, m: i64, round: bool) -> i64 {
    if m <= 0 {
        return d;
    }
    let r = d % m;
    if !round {
        return d - r;
    }
    let (d, m, r) = (i128::from(d), i128::from(m), i128::from(r).abs());
    let t = if r + r < m {
        if d < 0 { d + r } else { d - r }
    } else if d < 0 {
        d - m + r
    } else {
        d + m - r
    };
    t.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Go's `Duration.Seconds`-style conversion: whole units plus the remainder's fraction.
fn in_units(d: i64, unit: i64) -> f64 {
    (d / unit) as f64 + (d % unit) as f64 / unit as f64
}

fn duration_method(d: i64, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
    let result = match name {
        "String" => arity(name, args, 0).map(|()| Value::Str(gotime::duration_string(d))),
        "Seconds" => arity(name, args, 0).map(|()| Value::Float(in_units(d, NANOS))),
        "Minutes" => arity(name, args, 0).map(|()| Value::Float(in_units(d, 60 * NANOS))),
        "Hours" => arity(name, args, 0).map(|()| Value::Float(in_units(d, 3600 * NANOS))),
        "Milliseconds" => arity(name, args, 0).map(|()| Value::Int(d / 1_000_000)),
        "Microseconds" => arity(name, args, 0).map(|()| Value::Int(d / 1_000)),
        "Nanoseconds" => arity(name, args, 0).map(|()| Value::Int(d)),
        // Go: the absolute value, with math.MinInt64 mapped to math.MaxInt64.
        "Abs" => arity(name, args, 0).map(|()| Value::Duration(d.saturating_abs())),
        "Round" | "Truncate" => arity(name, args, 1)
            .and_then(|()| duration_arg(&args[0]))
            .map(|m| Value::Duration(round_duration(d, m, name == "Round"))),
        _ => return None,
    };
    Some(result)
}
