//! A parsed syslog message and the names of its PRI parts: `severity` and `facility` as Promtail's syslog target
//! sets them (influxdata go-syslog's `SeverityLevel` and `FacilityLevel`), and `level` as the journal's
//! `__journal_priority_keyword`, so host logs from both sources share one level vocabulary.

use super::{rfc3164, rfc5424};

/// One syslog message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyslogMessage {
    /// The PRI value (facility * 8 + severity).
    pub pri: u8,
    /// The timestamp, Unix ns, when the message had a usable one.
    pub timestamp: Option<i64>,
    /// HOSTNAME.
    pub hostname: Option<String>,
    /// APP-NAME (5424) or TAG (3164).
    pub app_name: Option<String>,
    /// PROCID (5424) or the TAG's `[pid]` (3164).
    pub proc_id: Option<String>,
    /// MSGID (5424).
    pub msg_id: Option<String>,
    /// SD-ELEMENTs in message order.
    pub structured_data: Vec<SdElement>,
    /// MSG.
    pub message: String,
}

/// One SD-ELEMENT: its SD-ID and its (PARAM-NAME, value) pairs in order.
pub type SdElement = (String, Vec<(String, String)>);

/// Why a message could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed syslog message: {0}")]
pub struct ParseError(pub &'static str);

impl SyslogMessage {
    /// Severity code 0..=7.
    pub fn severity(&self) -> u8 {
        self.pri % 8
    }

    /// Facility code 0..=23.
    pub fn facility(&self) -> u8 {
        self.pri / 8
    }
}

/// Parses one message: RFC 5424 when `<PRI>` is followed by version `1`, RFC 3164 otherwise. `now_ns` is the
/// receive time, used to complete 3164 timestamps (which have no year and no zone).
pub fn parse(raw: &[u8], now_ns: i64) -> Result<SyslogMessage, ParseError> {
    let (pri, rest) = parse_pri(raw)?;
    if rest.len() >= 2 && rest[0] == b'1' && rest[1] == b' ' {
        rfc5424::parse_after_pri(pri, &rest[2..])
    } else {
        Ok(rfc3164::parse_after_pri(pri, rest, now_ns))
    }
}

/// `<PRI>`: 1 to 3 digits, at most 191.
fn parse_pri(raw: &[u8]) -> Result<(u8, &[u8]), ParseError> {
    if raw.first() != Some(&b'<') {
        return Err(ParseError("missing <PRI>"));
    }
    let digits = raw[1..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 3 || raw.get(1 + digits) != Some(&b'>') {
        return Err(ParseError("bad <PRI>"));
    }
    let v: u16 = std::str::from_utf8(&raw[1..1 + digits])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(ParseError("bad <PRI>"))?;
    if v > 191 {
        return Err(ParseError("PRI above 191"));
    }
    Ok((v as u8, &raw[2 + digits..]))
}

/// go-syslog's `SeverityLevel` (Promtail's `__syslog_message_severity`).
pub fn severity_name(sev: u8) -> &'static str {
    [
        "emergency",
        "alert",
        "critical",
        "error",
        "warning",
        "notice",
        "informational",
        "debug",
    ][(sev % 8) as usize]
}

/// The journal's priority keyword (Promtail/Alloy's `__journal_priority_keyword`), used as `level`.
pub fn level_name(sev: u8) -> &'static str {
    [
        "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
    ][(sev % 8) as usize]
}

/// go-syslog's `FacilityLevel` (Promtail's `__syslog_message_facility`): the syslog(3) keyword, or the RFC's
/// description for the codes without one.
pub fn facility_name(fac: u8) -> &'static str {
    match fac {
        0 => "kern",
        1 => "user",
        2 => "mail",
        3 => "daemon",
        4 => "auth",
        5 => "syslog",
        6 => "lpr",
        7 => "news",
        8 => "uucp",
        9 => "clock daemon",
        10 => "authpriv",
        11 => "ftp",
        12 => "NTP subsystem",
        13 => "log audit",
        14 => "log alert",
        15 => "cron",
        16 => "local0",
        17 => "local1",
        18 => "local2",
        19 => "local3",
        20 => "local4",
        21 => "local5",
        22 => "local6",
        _ => "local7",
    }
}
