//! Go's `time.Parse` for reference-time layouts, element by element as Go's `parse` does:
//! literal text must match (a space matches any run of spaces), numbers have Go's widths, names
//! are case-insensitive, and a fraction after the seconds is accepted even when the layout has none.

use super::{
    DAYS, MONTHS, NANOS, Std, civil_from_days, days_from_civil, days_in, is_leap, next_std,
};

/// Reads one or two digits (exactly two when `fixed`), as Go's `getnum`.
fn getnum(v: &str, fixed: bool) -> Option<(i64, &str)> {
    let b = v.as_bytes();
    let d0 = b.first().filter(|c| c.is_ascii_digit())?;
    match b.get(1).filter(|c| c.is_ascii_digit()) {
        Some(d1) => Some((i64::from(d0 - b'0') * 10 + i64::from(d1 - b'0'), &v[2..])),
        None if fixed => None,
        None => Some((i64::from(d0 - b'0'), &v[1..])),
    }
}

/// Matches a layout's literal text: a space matches any run of spaces, as Go's `skip`.
fn skip<'a>(mut value: &'a str, mut prefix: &str) -> Option<&'a str> {
    while let Some(p) = prefix.chars().next() {
        if p == ' ' {
            if !value.is_empty() && !value.starts_with(' ') {
                return None;
            }
            prefix = prefix.trim_start_matches(' ');
            value = value.trim_start_matches(' ');
            continue;
        }
        value = value.strip_prefix(p)?;
        prefix = &prefix[p.len_utf8()..];
    }
    Some(value)
}

/// Matches a month or weekday name (case-insensitive), returning its index.
fn lookup<'a>(names: &[&str], v: &'a str, short: bool) -> Option<(usize, &'a str)> {
    names.iter().enumerate().find_map(|(i, name)| {
        let name = if short { &name[..3] } else { name };
        let head = v.get(..name.len())?;
        head.eq_ignore_ascii_case(name)
            .then(|| (i, &v[name.len()..]))
    })
}

/// Nanoseconds from a fraction's digits (after the separator), truncated past nine digits.
fn nanos_of(digits: &str) -> i64 {
    let d = &digits[..digits.len().min(9)];
    let n: i64 = d.parse().unwrap_or(0);
    n * 10i64.pow(9 - d.len() as u32)
}

/// Length of a zone abbreviation at the start of `v` (Go's `parseTimeZone`, simplified), with its
/// offset: "UTC"/"GMT" (optionally "GMT+3") and other 3–5 letter abbreviations, taken as UTC.
fn zone_abbrev(v: &str) -> Option<(usize, i64)> {
    if let Some(rest) = v.strip_prefix("GMT") {
        let b = rest.as_bytes();
        if let (Some(&s @ (b'+' | b'-')), Some(d)) = (b.first(), getnum(&rest[1..], false)) {
            let off = d.0 * 3600 * if s == b'-' { -1 } else { 1 };
            return Some((v.len() - d.1.len(), off));
        }
        return Some((3, 0));
    }
    let upper = v.bytes().take_while(u8::is_ascii_uppercase).count();
    match upper {
        3 => Some((3, 0)),
        4 | 5 if v.as_bytes()[upper - 1] == b'T' => Some((upper, 0)),
        _ => None,
    }
}

/// Parses `value` with a Go layout, as `time.ParseInLocation` in a fixed zone `default_offset`
/// (seconds east of UTC) that applies when the layout has no zone. Returns Unix nanoseconds.
pub(crate) fn parse(layout: &str, value: &str, default_offset: i64) -> Result<i64, String> {
    let bad = |rest: &str, elem: &str| {
        format!("parsing time {value:?} as {layout:?}: cannot parse {rest:?} as {elem:?}")
    };
    let range = |what: &str| format!("parsing time {value:?}: {what} out of range");
    let (mut year, mut month, mut day, mut yday) = (0i64, -1i64, -1i64, -1i64);
    let (mut hour, mut min, mut sec, mut nsec) = (0i64, 0i64, 0i64, 0i64);
    let (mut pm, mut am, mut offset) = (false, false, None::<i64>);
    let mut rest_layout = layout;
    let mut v = value;
    loop {
        let (prefix, std, suffix) = next_std(rest_layout);
        let elem = &rest_layout[prefix.len()..rest_layout.len() - suffix.len()];
        v = skip(v, prefix).ok_or_else(|| bad(v, prefix))?;
        let Some((std, _)) = std else {
            if !v.is_empty() {
                return Err(format!("parsing time {value:?}: extra text: {v:?}"));
            }
            break;
        };
        rest_layout = suffix;
        let err = || bad(v, elem);
        match std {
            Std::Year => {
                let n: i64 = v
                    .get(..2)
                    .filter(|s| s.bytes().all(|c| c.is_ascii_digit()))
                    .ok_or_else(err)?
                    .parse()
                    .map_err(|_| err())?;
                year = if n >= 69 { 1900 + n } else { 2000 + n };
                v = &v[2..];
            }
            Std::LongYear => {
                year = v
                    .get(..4)
                    .filter(|s| s.bytes().all(|c| c.is_ascii_digit()))
                    .ok_or_else(err)?
                    .parse()
                    .map_err(|_| err())?;
                v = &v[4..];
            }
            Std::Month | Std::LongMonth => {
                let (i, r) = lookup(&MONTHS, v, std == Std::Month).ok_or_else(err)?;
                month = i as i64 + 1;
                v = r;
            }
            Std::WeekDay | Std::LongWeekDay => {
                // Go checks the name but does not use it.
                v = lookup(&DAYS, v, std == Std::WeekDay).ok_or_else(err)?.1;
            }
            Std::NumMonth | Std::ZeroMonth => {
                (month, v) = getnum(v, std == Std::ZeroMonth).ok_or_else(err)?;
                if !(1..=12).contains(&month) {
                    return Err(range("month"));
                }
            }
            Std::Day | Std::UnderDay | Std::ZeroDay => {
                if std == Std::UnderDay {
                    v = v.strip_prefix(' ').unwrap_or(v);
                }
                (day, v) = getnum(v, std == Std::ZeroDay).ok_or_else(err)?;
            }
            Std::UnderYearDay | Std::ZeroYearDay => {
                if std == Std::UnderYearDay {
                    for _ in 0..2 {
                        v = v.strip_prefix(' ').unwrap_or(v);
                    }
                }
                let n = v.bytes().take(3).take_while(u8::is_ascii_digit).count();
                if n == 0 || (std == Std::ZeroYearDay && n != 3) {
                    return Err(err());
                }
                yday = v[..n].parse().map_err(|_| err())?;
                v = &v[n..];
                if !(1..=366).contains(&yday) {
                    return Err(range("day-of-year"));
                }
            }
            Std::Hour => {
                (hour, v) = getnum(v, false).ok_or_else(err)?;
                if hour > 23 {
                    return Err(range("hour"));
                }
            }
            Std::Hour12 | Std::ZeroHour12 => {
                (hour, v) = getnum(v, std == Std::ZeroHour12).ok_or_else(err)?;
                if hour > 12 {
                    return Err(range("hour"));
                }
            }
            Std::Minute | Std::ZeroMinute => {
                (min, v) = getnum(v, std == Std::ZeroMinute).ok_or_else(err)?;
                if min > 59 {
                    return Err(range("minute"));
                }
            }
            Std::Second | Std::ZeroSecond => {
                (sec, v) = getnum(v, std == Std::ZeroSecond).ok_or_else(err)?;
                if sec > 59 {
                    return Err(range("second"));
                }
                // Go accepts a fraction after the seconds even when the layout has none.
                let b = v.as_bytes();
                let frac_next = matches!(next_std(rest_layout).1, Some((Std::Frac(..), _)));
                if b.len() >= 2
                    && matches!(b[0], b'.' | b',')
                    && b[1].is_ascii_digit()
                    && !frac_next
                {
                    let n = 1 + v[1..].bytes().take_while(u8::is_ascii_digit).count();
                    nsec = nanos_of(&v[1..n]);
                    v = &v[n..];
                }
            }
            Std::PmUpper | Std::PmLower => {
                let (p, a) = if std == Std::PmUpper {
                    ("PM", "AM")
                } else {
                    ("pm", "am")
                };
                match v.get(..2) {
                    Some(s) if s == p => pm = true,
                    Some(s) if s == a => am = true,
                    _ => return Err(err()),
                }
                v = &v[2..];
            }
            Std::Offset {
                z,
                secs,
                colon,
                short,
            } => {
                if z && v.starts_with('Z') {
                    v = &v[1..];
                    offset = Some(0);
                    continue;
                }
                let sign = match v.as_bytes().first() {
                    Some(b'+') => 1,
                    Some(b'-') => -1,
                    _ => return Err(err()),
                };
                let mut r = &v[1..];
                let (hh, r2) = getnum(r, true).ok_or_else(err)?;
                r = r2;
                let (mut mm, mut ss) = (0, 0);
                if !short {
                    if colon {
                        r = r.strip_prefix(':').ok_or_else(err)?;
                    }
                    (mm, r) = getnum(r, true).ok_or_else(err)?;
                    if secs {
                        if colon {
                            r = r.strip_prefix(':').ok_or_else(err)?;
                        }
                        (ss, r) = getnum(r, true).ok_or_else(err)?;
                    }
                }
                if hh > 24 || mm > 60 || ss > 60 {
                    return Err(range("time zone offset"));
                }
                offset = Some(sign * (hh * 3600 + mm * 60 + ss));
                v = r;
            }
            Std::Tz => {
                if let Some(r) = v.strip_prefix("UTC") {
                    offset = Some(0);
                    v = r;
                    continue;
                }
                let (n, off) = zone_abbrev(v).ok_or_else(err)?;
                offset = Some(off);
                v = &v[n..];
            }
            Std::Frac(_, n, trimmed) => {
                let b = v.as_bytes();
                if trimmed {
                    if b.len() < 2 || !matches!(b[0], b'.' | b',') || !b[1].is_ascii_digit() {
                        continue; // an optional fraction may be absent
                    }
                    let k = 1 + v[1..].bytes().take_while(u8::is_ascii_digit).count();
                    nsec = nanos_of(&v[1..k]);
                    v = &v[k..];
                } else {
                    let digits = v
                        .get(1..=n)
                        .filter(|d| d.bytes().all(|c| c.is_ascii_digit()));
                    if b.len() <= n || !matches!(b[0], b'.' | b',') || digits.is_none() {
                        return Err(err());
                    }
                    nsec = nanos_of(&v[1..=n]);
                    v = &v[n + 1..];
                }
            }
        }
    }
    if pm && hour < 12 {
        hour += 12;
    } else if am && hour == 12 {
        hour = 0;
    }
    if yday >= 0 {
        let start = days_from_civil(year, 1, 1);
        let (_, m, d) = civil_from_days(start + yday - 1);
        if (month >= 0 && month != m) || (day >= 0 && day != d) || (yday == 366 && !is_leap(year)) {
            return Err(range("day-of-year"));
        }
        (month, day) = (m, d);
    } else {
        month = month.max(1);
        if day < 0 {
            day = 1;
        }
    }
    if day < 1 || day > days_in(month, year) {
        return Err(range("day"));
    }
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec
        - offset.unwrap_or(default_offset);
    secs.checked_mul(NANOS)
        .and_then(|n| n.checked_add(nsec))
        .ok_or_else(|| {
            format!("parsing time {value:?}: year {year} outside the representable range 1678-2262")
        })
}
