//! RFC 5424 after `<PRI>1 `: `TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]`, `-` for nil,
//! SD-PARAM values with `\"`, `\\` and `\]` escapes, an optional UTF-8 BOM before MSG.

use super::message::{ParseError, SdElement, SyslogMessage};

/// Parses the rest of a 5424 message.
pub fn parse_after_pri(pri: u8, rest: &[u8]) -> Result<SyslogMessage, ParseError> {
    let mut p = Cursor { s: rest, i: 0 };
    let ts = p.field().ok_or(ParseError("missing TIMESTAMP"))?;
    let timestamp = match ts {
        None => None,
        Some(t) => Some(parse_timestamp(t).ok_or(ParseError("bad TIMESTAMP"))?),
    };
    let hostname = p.field().ok_or(ParseError("missing HOSTNAME"))?;
    let app_name = p.field().ok_or(ParseError("missing APP-NAME"))?;
    let proc_id = p.field().ok_or(ParseError("missing PROCID"))?;
    let msg_id = p.field().ok_or(ParseError("missing MSGID"))?;
    let structured_data = p.structured_data()?;
    // MSG is optional; when present it follows one space.
    let msg = match p.s.get(p.i) {
        None => &[][..],
        Some(b' ') => &p.s[p.i + 1..],
        Some(_) => return Err(ParseError("garbage after STRUCTURED-DATA")),
    };
    let msg = msg.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(msg);
    Ok(SyslogMessage {
        pri,
        timestamp,
        hostname: hostname.map(lossy),
        app_name: app_name.map(lossy),
        proc_id: proc_id.map(lossy),
        msg_id: msg_id.map(lossy),
        structured_data,
        message: lossy(msg),
    })
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// RFC 3339 with the RFC 5424 restrictions (a `T`, an offset or `Z`), to Unix ns.
pub fn parse_timestamp(t: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(t).ok()?;
    let ts: jiff::Timestamp = s.parse().ok()?;
    i64::try_from(ts.as_nanosecond()).ok()
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    /// The next space-terminated header field: `Some(None)` for `-`, `None` when missing or empty.
    fn field(&mut self) -> Option<Option<&'a [u8]>> {
        let start = self.i;
        let end = self.s[start..]
            .iter()
            .position(|&b| b == b' ')
            .map_or(self.s.len(), |n| start + n);
        if end == start || end >= self.s.len() {
            return None;
        }
        self.i = end + 1;
        let f = &self.s[start..end];
        Some(if f == b"-" { None } else { Some(f) })
    }

    fn structured_data(&mut self) -> Result<Vec<SdElement>, ParseError> {
        match self.s.get(self.i) {
            None => return Err(ParseError("missing STRUCTURED-DATA")),
            Some(b'-') => {
                self.i += 1;
                return Ok(Vec::new());
            }
            Some(b'[') => {}
            Some(_) => return Err(ParseError("bad STRUCTURED-DATA")),
        }
        let mut out = Vec::new();
        while self.s.get(self.i) == Some(&b'[') {
            self.i += 1;
            let id = self.name(b"] ")?;
            let mut params = Vec::new();
            loop {
                match self.s.get(self.i) {
                    Some(b']') => {
                        self.i += 1;
                        break;
                    }
                    Some(b' ') => {
                        self.i += 1;
                        let name = self.name(b"=")?;
                        if self.s.get(self.i) != Some(&b'=')
                            || self.s.get(self.i + 1) != Some(&b'"')
                        {
                            return Err(ParseError("SD-PARAM without =\"value\""));
                        }
                        self.i += 2;
                        params.push((name, self.quoted()?));
                    }
                    _ => return Err(ParseError("unterminated SD-ELEMENT")),
                }
            }
            out.push((id, params));
        }
        Ok(out)
    }

    /// An SD-NAME: 1 to 32 printable ASCII characters except `=`, space, `]` and `"`.
    fn name(&mut self, stops: &[u8]) -> Result<String, ParseError> {
        let start = self.i;
        while let Some(&b) = self.s.get(self.i) {
            if stops.contains(&b) {
                break;
            }
            if !(33..=126).contains(&b) || b == b'"' || b == b'=' || b == b']' {
                return Err(ParseError("bad SD-NAME"));
            }
            self.i += 1;
        }
        let n = self.i - start;
        if n == 0 || n > 32 {
            return Err(ParseError("bad SD-NAME length"));
        }
        Ok(lossy(&self.s[start..self.i]))
    }

    /// A PARAM-VALUE up to its closing quote; `\"`, `\\` and `\]` unescape, other backslashes stay.
    fn quoted(&mut self) -> Result<String, ParseError> {
        let mut v = Vec::new();
        loop {
            match self.s.get(self.i) {
                None => return Err(ParseError("unterminated PARAM-VALUE")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(lossy(&v));
                }
                Some(b'\\') if matches!(self.s.get(self.i + 1), Some(b'"' | b'\\' | b']')) => {
                    v.push(self.s[self.i + 1]);
                    self.i += 2;
                }
                Some(&b) => {
                    v.push(b);
                    self.i += 1;
                }
            }
        }
    }
}
