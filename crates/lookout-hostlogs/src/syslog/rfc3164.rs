//! RFC 3164 (BSD syslog) after `<PRI>`: `[TIMESTAMP [HOSTNAME ]]TAG[PID]: MSG`, parsed leniently as rsyslog does.
//!
//! The timestamp `Mmm dd hh:mm:ss` has no year and no zone: it is read in the receiver's local time zone and the
//! current year, or the previous year when that would put it more than a week in the future (a December message
//! read in January), as rsyslog does. An RFC 3339 timestamp in its place (rsyslog's high-precision forwarding
//! format) is accepted too. Without a usable timestamp the message gets none (the receive time is used) and the
//! rest is read as `TAG: MSG` without a hostname. A word after the timestamp is the hostname unless it ends with
//! `:` (then it is the tag: local senders often leave the hostname out).

use super::message::SyslogMessage;
use super::rfc5424::parse_timestamp;

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Parses the rest of a 3164 message; never fails (the whole rest becomes the message at worst).
pub fn parse_after_pri(pri: u8, rest: &[u8], now_ns: i64) -> SyslogMessage {
    let mut msg = SyslogMessage {
        pri,
        ..SyslogMessage::default()
    };
    let mut rest = rest;
    if let Some((ts, after)) = bsd_timestamp(rest, now_ns).or_else(|| rfc3339_timestamp(rest)) {
        msg.timestamp = ts;
        rest = after;
        let word_end = rest.iter().position(|&b| b == b' ');
        if let Some(end) = word_end
            && end > 0
            && rest[end - 1] != b':'
        {
            msg.hostname = Some(String::from_utf8_lossy(&rest[..end]).into_owned());
            rest = &rest[end + 1..];
        }
    }
    if let Some((tag, pid, after)) = tag(rest) {
        msg.app_name = Some(tag);
        msg.proc_id = pid;
        rest = after;
    }
    msg.message = String::from_utf8_lossy(rest).into_owned();
    msg
}

/// `Mmm dd hh:mm:ss ` (day space-padded or not): the time (None when it names no real date) and the rest.
fn bsd_timestamp(s: &[u8], now_ns: i64) -> Option<(Option<i64>, &[u8])> {
    let month = MONTHS.iter().position(|m| s.starts_with(*m))? as i8 + 1;
    let mut i = 3;
    if s.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    if s.get(i) == Some(&b' ') {
        i += 1;
    }
    let day_len = s[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    if day_len == 0 || day_len > 2 {
        return None;
    }
    let day: i8 = std::str::from_utf8(&s[i..i + day_len]).ok()?.parse().ok()?;
    i += day_len;
    if s.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    let t = s.get(i..i + 8)?;
    if t[2] != b':' || t[5] != b':' {
        return None;
    }
    let num = |a: usize| -> Option<i8> { std::str::from_utf8(&t[a..a + 2]).ok()?.parse().ok() };
    let (h, m, sec) = (num(0)?, num(3)?, num(6)?);
    i += 8;
    let rest = match s.get(i) {
        Some(b' ') => &s[i + 1..],
        None => &s[i..],
        Some(_) => return None,
    };
    Some((local_time(month, day, h, m, sec, now_ns), rest))
}

/// The time in the local zone in the current year (or the previous one when it would lie > 7 days ahead).
fn local_time(month: i8, day: i8, h: i8, m: i8, s: i8, now_ns: i64) -> Option<i64> {
    let tz = jiff::tz::TimeZone::system();
    let now = jiff::Timestamp::from_nanosecond(now_ns as i128).ok()?;
    let year = now.to_zoned(tz.clone()).year();
    let at = |year: i16| -> Option<i64> {
        let dt = jiff::civil::DateTime::new(year, month, day, h, m, s, 0).ok()?;
        let z = dt.to_zoned(tz.clone()).ok()?;
        i64::try_from(z.timestamp().as_nanosecond()).ok()
    };
    let week = 7 * 24 * 3600 * 1_000_000_000i64;
    match at(year) {
        Some(t) if t > now_ns + week => at(year - 1),
        Some(t) => Some(t),
        None => at(year - 1),
    }
}

/// An RFC 3339 word (`2024-05-01T10:00:00Z `) in the timestamp's place.
fn rfc3339_timestamp(s: &[u8]) -> Option<(Option<i64>, &[u8])> {
    if !s.first()?.is_ascii_digit() {
        return None;
    }
    let end = s.iter().position(|&b| b == b' ').unwrap_or(s.len());
    let ts = parse_timestamp(&s[..end])?;
    Some((Some(ts), s.get(end + 1..).unwrap_or(&[])))
}

/// `TAG[PID]: ` or `TAG: ` at the start: (tag, pid, the message after the colon and one space).
fn tag(s: &[u8]) -> Option<(String, Option<String>, &[u8])> {
    let end = s
        .iter()
        .position(|&b| b == b'[' || b == b':' || b == b' ')?;
    if end == 0 || end > 48 {
        return None;
    }
    let name = String::from_utf8_lossy(&s[..end]).into_owned();
    let mut i = end;
    let mut pid = None;
    if s[i] == b'[' {
        let close = s[i..].iter().position(|&b| b == b']')? + i;
        pid = Some(String::from_utf8_lossy(&s[i + 1..close]).into_owned());
        i = close + 1;
    }
    if s.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    if s.get(i) == Some(&b' ') {
        i += 1;
    }
    Some((name, pid.filter(|p| !p.is_empty()), &s[i..]))
}
