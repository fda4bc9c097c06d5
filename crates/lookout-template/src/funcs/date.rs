//! LogQL's date functions over [`Value::Time`] (Unix nanoseconds). Formatting is in UTC: Loki
//! formats in the server's local zone, which for Lookout is UTC. `toDate` and `toDateInZone` fail on
//! text the layout does not match, where Go would return year 1 (not representable in nanoseconds).

use std::time::{SystemTime, UNIX_EPOCH};

use super::{Table, str_arg, want};
use crate::gotime::{self, NANOS};
use crate::value::Value;

/// Date and duration functions.
pub(crate) const FUNCS: Table = &[
    ("date", date),
    ("duration", duration_seconds),
    ("duration_seconds", duration_seconds),
    ("now", now),
    ("toDate", to_date),
    ("toDateInZone", to_date_in_zone),
    ("unixEpoch", unix_epoch),
    ("unixEpochMillis", unix_epoch_millis),
    ("unixEpochNanos", unix_epoch_nanos),
    ("unixToTime", unix_to_time),
];

fn now_ns() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_nanos()).unwrap_or(i64::MAX),
    }
}

fn time_arg(v: &Value) -> Result<i64, String> {
    match v {
        Value::Time(ns) => Ok(*ns),
        other => Err(format!(
            "wrong type for value; expected time.Time; got {}",
            other.type_name()
        )),
    }
}

/// `date layout t`: a time, or an integer of Unix seconds; Sprig uses the current time for
/// anything else (a string included).
fn date(args: &[Value]) -> Result<Value, String> {
    want(args, 2)?;
    let layout = str_arg(&args[0])?;
    let ns = match &args[1] {
        Value::Time(ns) => *ns,
        Value::Int(secs) => secs
            .checked_mul(NANOS)
            .ok_or_else(|| format!("unix time {secs} out of range"))?,
        _ => now_ns(),
    };
    Ok(Value::Str(gotime::format(ns, &layout)))
}

/// A Go duration ("1h30m", "250ms") in seconds.
fn duration_seconds(args: &[Value]) -> Result<Value, String> {
    want(args, 1)?;
    let ns = gotime::parse_duration(&str_arg(&args[0])?)?;
    Ok(Value::Float(
        (ns / NANOS) as f64 + (ns % NANOS) as f64 / 1e9,
    ))
}

fn now(args: &[Value]) -> Result<Value, String> {
    want(args, 0)?;
    Ok(Value::Time(now_ns()))
}

/// `toDate layout s`, in the server's zone (UTC).
fn to_date(args: &[Value]) -> Result<Value, String> {
    want(args, 2)?;
    gotime::parse(&str_arg(&args[0])?, &str_arg(&args[1])?, 0).map(Value::Time)
}

/// `toDateInZone layout zone s`: zone is UTC, Local (= UTC), Etc/GMT±N or a fixed offset such as
/// "+02:00"; other names (IANA regions) fall back to UTC, as Loki does for zones it cannot load.
fn to_date_in_zone(args: &[Value]) -> Result<Value, String> {
    want(args, 3)?;
    let offset = gotime::zone_offset(&str_arg(&args[1])?).unwrap_or(0);
    gotime::parse(&str_arg(&args[0])?, &str_arg(&args[2])?, offset).map(Value::Time)
}

fn unix_epoch(args: &[Value]) -> Result<Value, String> {
    want(args, 1)?;
    Ok(Value::Str(
        time_arg(&args[0])?.div_euclid(NANOS).to_string(),
    ))
}

fn unix_epoch_millis(args: &[Value]) -> Result<Value, String> {
    want(args, 1)?;
    Ok(Value::Str(
        time_arg(&args[0])?.div_euclid(1_000_000).to_string(),
    ))
}

fn unix_epoch_nanos(args: &[Value]) -> Result<Value, String> {
    want(args, 1)?;
    Ok(Value::Str(time_arg(&args[0])?.to_string()))
}

/// An epoch string whose length says its unit: 5 digits days, 10 seconds, 13 milliseconds,
/// 16 microseconds, 19 nanoseconds.
fn unix_to_time(args: &[Value]) -> Result<Value, String> {
    want(args, 1)?;
    let s = str_arg(&args[0])?;
    let n: i64 = s
        .parse()
        .map_err(|_| format!("unable to parse time '{s}': invalid syntax"))?;
    let ns = match s.len() {
        5 => n.checked_mul(86_400 * NANOS),
        10 => n.checked_mul(NANOS),
        13 => n.checked_mul(1_000_000),
        16 => n.checked_mul(1_000),
        19 => Some(n),
        _ => return Err(format!("unable to parse time '{s}': unrecognized format")),
    };
    ns.map(Value::Time)
        .ok_or_else(|| format!("unable to parse time '{s}': out of range"))
}
