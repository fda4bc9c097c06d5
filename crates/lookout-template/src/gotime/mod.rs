//! Go's `time` package as far as Loki's and Prometheus's functions need it: reference-time layouts
//! ("2006-01-02 15:04:05.000 Z07:00") for formatting and parsing, `time.Time.String`,
//! `time.ParseDuration`, `time.Duration.String`, and fixed zone offsets. There is no time zone database: times are formatted in UTC (the server's
//! `Local` in Loki; Lookout treats `Local` as UTC) and zones are UTC or fixed offsets.

mod duration;
mod parse;

pub(crate) use duration::duration_string;
pub(crate) use parse::parse;

/// Nanoseconds per second.
pub(crate) const NANOS: i64 = 1_000_000_000;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Days since 1970-01-01 of a proleptic Gregorian date (the era-based civil-days algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day count since 1970-01-01; inverse of [`days_from_civil`].
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in(m: i64, y: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// One element of a layout: Go's `std*` constants.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PmUpper,
    PmLower,
    Tz,
    /// Numeric zone offset: (`Z` for UTC allowed, show seconds, colons, hours only).
    Offset {
        z: bool,
        secs: bool,
        colon: bool,
        short: bool,
    },
    /// Fractional seconds: (separator, digit count, trailing zeros trimmed).
    Frac(u8, usize, bool),
}

/// Splits `layout` at its first element: (literal prefix, element, rest), as Go's `nextStdChunk`.
fn next_std(layout: &str) -> (&str, Option<(Std, usize)>, &str) {
    let b = layout.as_bytes();
    let has = |i: usize, s: &str| layout.get(i..).is_some_and(|r| r.starts_with(s));
    let lower_at = |i: usize| b.get(i).is_some_and(u8::is_ascii_lowercase);
    for i in 0..b.len() {
        let found: Option<(Std, usize)> = match b[i] {
            b'J' if has(i, "January") => Some((Std::LongMonth, 7)),
            b'J' if has(i, "Jan") && !lower_at(i + 3) => Some((Std::Month, 3)),
            b'M' if has(i, "Monday") => Some((Std::LongWeekDay, 6)),
            b'M' if has(i, "Mon") && !lower_at(i + 3) => Some((Std::WeekDay, 3)),
            b'M' if has(i, "MST") => Some((Std::Tz, 3)),
            b'0' if has(i, "002") => Some((Std::ZeroYearDay, 3)),
            b'0' => match b.get(i + 1) {
                Some(b'1') => Some((Std::ZeroMonth, 2)),
                Some(b'2') => Some((Std::ZeroDay, 2)),
                Some(b'3') => Some((Std::ZeroHour12, 2)),
                Some(b'4') => Some((Std::ZeroMinute, 2)),
                Some(b'5') => Some((Std::ZeroSecond, 2)),
                Some(b'6') => Some((Std::Year, 2)),
                _ => None,
            },
            b'1' if has(i, "15") => Some((Std::Hour, 2)),
            b'1' => Some((Std::NumMonth, 1)),
            b'2' if has(i, "2006") => Some((Std::LongYear, 4)),
            b'2' => Some((Std::Day, 1)),
            // "_2006" is a literal underscore followed by the year.
            b'_' if has(i, "_2006") => {
                return (&layout[..=i], Some((Std::LongYear, 4)), &layout[i + 5..]);
            }
            b'_' if has(i, "_2") => Some((Std::UnderDay, 2)),
            b'_' if has(i, "__2") => Some((Std::UnderYearDay, 3)),
            b'3' => Some((Std::Hour12, 1)),
            b'4' => Some((Std::Minute, 1)),
            b'5' => Some((Std::Second, 1)),
            b'P' if has(i, "PM") => Some((Std::PmUpper, 2)),
            b'p' if has(i, "pm") => Some((Std::PmLower, 2)),
            c @ (b'-' | b'Z') => {
                let z = c == b'Z';
                let off = |secs, colon, short| Std::Offset {
                    z,
                    secs,
                    colon,
                    short,
                };
                [
                    ("070000", off(true, false, false)),
                    ("07:00:00", off(true, true, false)),
                    ("0700", off(false, false, false)),
                    ("07:00", off(false, true, false)),
                    ("07", off(false, false, true)),
                ]
                .into_iter()
                .find(|(s, _)| has(i + 1, s))
                .map(|(s, std)| (std, s.len() + 1))
            }
            c @ (b'.' | b',') if matches!(b.get(i + 1), Some(b'0' | b'9')) => {
                let ch = b[i + 1];
                let mut j = i + 1;
                while j < b.len() && b[j] == ch {
                    j += 1;
                }
                // Only a fraction if the run of digits ends here.
                if b.get(j).is_some_and(u8::is_ascii_digit) {
                    None
                } else {
                    Some((Std::Frac(c, j - i - 1, ch == b'9'), j - i))
                }
            }
            _ => None,
        };
        if let Some((std, len)) = found {
            return (&layout[..i], Some((std, len)), &layout[i + len..]);
        }
    }
    (layout, None, "")
}

/// Formats `ns` (Unix nanoseconds) in UTC with a Go reference-time layout.
pub(crate) fn format(ns: i64, layout: &str) -> String {
    let secs = ns.div_euclid(NANOS);
    let nanos = ns.rem_euclid(NANOS);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let (hour, min, sec) = (sod / 3600, sod / 60 % 60, sod % 60);
    let yday = days - days_from_civil(year, 1, 1) + 1;
    let weekday = (days + 4).rem_euclid(7) as usize;
    let mut out = String::with_capacity(layout.len() + 8);
    let mut rest = layout;
    while !rest.is_empty() {
        let (prefix, std, suffix) = next_std(rest);
        out.push_str(prefix);
        rest = suffix;
        let Some((std, _)) = std else { break };
        let s = match std {
            Std::LongMonth => MONTHS[month as usize - 1].to_owned(),
            Std::Month => MONTHS[month as usize - 1][..3].to_owned(),
            Std::NumMonth => month.to_string(),
            Std::ZeroMonth => format!("{month:02}"),
            Std::LongWeekDay => DAYS[weekday].to_owned(),
            Std::WeekDay => DAYS[weekday][..3].to_owned(),
            Std::Day => day.to_string(),
            Std::UnderDay => format!("{day:>2}"),
            Std::ZeroDay => format!("{day:02}"),
            Std::UnderYearDay => format!("{yday:>3}"),
            Std::ZeroYearDay => format!("{yday:03}"),
            Std::Hour => format!("{hour:02}"),
            Std::Hour12 => (if hour % 12 == 0 { 12 } else { hour % 12 }).to_string(),
            Std::ZeroHour12 => format!("{:02}", if hour % 12 == 0 { 12 } else { hour % 12 }),
            Std::Minute => min.to_string(),
            Std::ZeroMinute => format!("{min:02}"),
            Std::Second => sec.to_string(),
            Std::ZeroSecond => format!("{sec:02}"),
            Std::LongYear => format!("{year:04}"),
            Std::Year => format!("{:02}", year.rem_euclid(100)),
            Std::PmUpper => (if hour >= 12 { "PM" } else { "AM" }).to_owned(),
            Std::PmLower => (if hour >= 12 { "pm" } else { "am" }).to_owned(),
            Std::Tz => "UTC".to_owned(),
            // Always UTC, so the offset is zero.
            Std::Offset { z: true, .. } => "Z".to_owned(),
            Std::Offset {
                secs, colon, short, ..
            } => match (short, colon, secs) {
                (true, _, _) => "+00".to_owned(),
                (_, true, true) => "+00:00:00".to_owned(),
                (_, true, false) => "+00:00".to_owned(),
                (_, false, true) => "+000000".to_owned(),
                (_, false, false) => "+0000".to_owned(),
            },
            Std::Frac(sep, n, trim) => {
                let digits = format!("{nanos:09}");
                let mut d = &digits[..n.min(9)];
                if trim {
                    d = d.trim_end_matches('0');
                }
                if d.is_empty() {
                    String::new()
                } else {
                    format!("{}{d}", sep as char)
                }
            }
        };
        out.push_str(&s);
    }
    out
}

/// Go's `time.Time.String()` for a UTC time.
pub(crate) fn time_string(ns: i64) -> String {
    format(ns, "2006-01-02 15:04:05.999999999 -0700 MST")
}

/// A zone name as seconds east of UTC: "UTC", "Local" (taken as UTC), "", "Etc/GMT±N", and fixed
/// offsets "±HH", "±HHMM", "±HH:MM" (optionally after "UTC"/"GMT"). None for anything else.
pub(crate) fn zone_offset(name: &str) -> Option<i64> {
    let n = name.trim();
    if matches!(
        n,
        "" | "UTC"
            | "Local"
            | "GMT"
            | "Z"
            | "Etc/UTC"
            | "Etc/GMT"
            | "Etc/Universal"
            | "Etc/Zulu"
            | "Universal"
            | "Zulu"
    ) {
        return Some(0);
    }
    if let Some(r) = n.strip_prefix("Etc/GMT") {
        // POSIX style: Etc/GMT+2 is two hours *behind* UTC.
        let h: i64 = r.parse().ok().filter(|h: &i64| (-14..=14).contains(h))?;
        return Some(-h * 3600);
    }
    let r = n
        .strip_prefix("UTC")
        .or_else(|| n.strip_prefix("GMT"))
        .unwrap_or(n);
    let (sign, r) = match r.as_bytes().first() {
        Some(b'+') => (1, &r[1..]),
        Some(b'-') => (-1, &r[1..]),
        _ => return None,
    };
    let digits: String = r.chars().filter(|&c| c != ':').collect();
    if !digits.bytes().all(|c| c.is_ascii_digit()) || r.matches(':').count() > 1 {
        return None;
    }
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i64>().ok()?, 0),
        4 => (
            digits[..2].parse::<i64>().ok()?,
            digits[2..].parse::<i64>().ok()?,
        ),
        _ => return None,
    };
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

/// Go's `time.ParseDuration`, in nanoseconds.
pub(crate) fn parse_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {orig:?}");
    let (neg, mut s) = match orig.as_bytes().first() {
        Some(b'-') => (true, &orig[1..]),
        Some(b'+') => (false, &orig[1..]),
        _ => (false, orig),
    };
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let limit: u128 = 1 << 63;
    let mut total: u128 = 0;
    while !s.is_empty() {
        if !(s.starts_with('.') || s.as_bytes()[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let mut whole: u128 = 0;
        for c in s[..int_len].bytes() {
            whole = whole * 10 + u128::from(c - b'0');
            if whole > limit {
                return Err(invalid());
            }
        }
        s = &s[int_len..];
        let (mut frac, mut scale) = (0u128, 1u128);
        if let Some(r) = s.strip_prefix('.') {
            let frac_len = r.bytes().take_while(u8::is_ascii_digit).count();
            for c in r[..frac_len].bytes() {
                // Like Go, stop accumulating (but keep consuming) once more digits cannot matter.
                if scale < 1_000_000_000_000_000_000 {
                    frac = frac * 10 + u128::from(c - b'0');
                    scale *= 10;
                }
            }
            s = &r[frac_len..];
            if int_len == 0 && frac_len == 0 {
                return Err(invalid());
            }
        } else if int_len == 0 {
            return Err(invalid());
        }
        let unit_len = s
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {orig:?}"));
        }
        let unit: u128 = match &s[..unit_len] {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            u => return Err(format!("time: unknown unit {u:?} in duration {orig:?}")),
        };
        s = &s[unit_len..];
        let mut v = whole
            .checked_mul(unit)
            .filter(|v| *v <= limit)
            .ok_or_else(invalid)?;
        if frac > 0 {
            v += (frac as f64 * (unit as f64 / scale as f64)) as u128;
        }
        total += v;
        if total > limit {
            return Err(invalid());
        }
    }
    if neg {
        Ok((total as i128).wrapping_neg() as i64)
    } else if total > limit - 1 {
        Err(invalid())
    } else {
        Ok(total as i64)
    }
}
