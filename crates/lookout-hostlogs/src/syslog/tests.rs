use super::framing::{Frame, Framer};
use super::message::{ParseError, SyslogMessage, parse};

fn ns(rfc3339: &str) -> i64 {
    rfc3339.parse::<jiff::Timestamp>().unwrap().as_nanosecond() as i64
}

#[test]
fn rfc5424_full_message() {
    let raw = b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 \
[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 class=\"high\"] \
\xEF\xBB\xBFAn application event log entry...";
    let m = parse(raw, 0).unwrap();
    assert_eq!(m.pri, 165);
    assert_eq!((m.facility(), m.severity()), (20, 5));
    assert_eq!(m.timestamp, Some(ns("2003-10-11T22:14:15.003Z")));
    assert_eq!(m.hostname.as_deref(), Some("mymachine.example.com"));
    assert_eq!(m.app_name.as_deref(), Some("evntslog"));
    assert_eq!(m.proc_id, None);
    assert_eq!(m.msg_id.as_deref(), Some("ID47"));
    assert_eq!(m.structured_data.len(), 2);
    assert_eq!(m.structured_data[0].0, "exampleSDID@32473");
    assert_eq!(
        m.structured_data[0].1,
        vec![
            ("iut".to_string(), "3".to_string()),
            ("eventSource".into(), "Application".into()),
            ("eventID".into(), "1011".into())
        ]
    );
    assert_eq!(
        m.structured_data[1].1,
        vec![("class".into(), "high".into())]
    );
    // The BOM is not part of the message.
    assert_eq!(m.message, "An application event log entry...");
}

#[test]
fn rfc5424_nil_values_and_offsets() {
    let m = parse(b"<34>1 2003-08-24T05:14:15.000003-07:00 - - - - - hello", 0).unwrap();
    assert_eq!(m.timestamp, Some(ns("2003-08-24T12:14:15.000003Z")));
    assert_eq!(
        (m.hostname, m.app_name, m.proc_id, m.msg_id),
        (None, None, None, None)
    );
    assert!(m.structured_data.is_empty());
    assert_eq!(m.message, "hello");
    // Nil timestamp, no MSG at all.
    let m = parse(b"<0>1 - host app 123 - -", 0).unwrap();
    assert_eq!(m.timestamp, None);
    assert_eq!(m.proc_id.as_deref(), Some("123"));
    assert_eq!(m.message, "");
}

#[test]
fn rfc5424_sd_escapes() {
    let m = parse(
        br#"<14>1 2024-01-02T03:04:05Z h a - - [x@1 q="say \"hi\"" b="back\\slash" c="br\]acket" d="keep\n"] m"#,
        0,
    )
    .unwrap();
    let p = &m.structured_data[0].1;
    assert_eq!(p[0].1, r#"say "hi""#);
    assert_eq!(p[1].1, r"back\slash");
    assert_eq!(p[2].1, "br]acket");
    // A backslash before anything else stays.
    assert_eq!(p[3].1, r"keep\n");
    assert_eq!(m.message, "m");
}

#[test]
fn rfc5424_missing_fields_are_errors() {
    for bad in [
        &b"<34>1 2003-10-11T22:14:15.003Z host"[..],
        b"<34>1 2003-10-11T22:14:15.003Z host app pid msgid",
        b"<34>1 2003-10-11T22:14:15.003Z host app pid msgid [unterminated a=\"b\"",
        b"<34>1 notatime host app pid msgid - m",
        b"<34>1 - h a p m x trailing",
    ] {
        assert!(parse(bad, 0).is_err(), "{}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn pri_is_checked() {
    assert_eq!(parse(b"hello", 0), Err(ParseError("missing <PRI>")));
    assert!(parse(b"<192>1 - - - - - - x", 0).is_err());
    assert!(parse(b"<1a>x", 0).is_err());
    assert!(parse(b"<>x", 0).is_err());
}

/// Unix ns of a local civil time.
fn local(y: i16, mo: i8, d: i8, h: i8, mi: i8, s: i8) -> i64 {
    jiff::civil::DateTime::new(y, mo, d, h, mi, s, 0)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::system())
        .unwrap()
        .timestamp()
        .as_nanosecond() as i64
}

#[test]
fn rfc3164_with_host_tag_and_pid() {
    let now = local(2024, 6, 1, 12, 0, 0);
    let m = parse(
        b"<34>Oct 11 22:14:15 mymachine su[123]: 'su root' failed for lonvick",
        now,
    )
    .unwrap();
    assert_eq!((m.facility(), m.severity()), (4, 2));
    // October lies ahead of June by more than a week: last year's.
    assert_eq!(m.timestamp, Some(local(2023, 10, 11, 22, 14, 15)));
    assert_eq!(m.hostname.as_deref(), Some("mymachine"));
    assert_eq!(m.app_name.as_deref(), Some("su"));
    assert_eq!(m.proc_id.as_deref(), Some("123"));
    assert_eq!(m.message, "'su root' failed for lonvick");
    let m = parse(b"<13>Jun  1 11:59:00 host cron: job ran", now).unwrap();
    assert_eq!(m.timestamp, Some(local(2024, 6, 1, 11, 59, 0)));
    assert_eq!(m.app_name.as_deref(), Some("cron"));
    assert_eq!(m.proc_id, None);
}

#[test]
fn rfc3164_lenient_forms() {
    let now = local(2024, 1, 2, 0, 0, 0);
    // No hostname (local syslog(3) style).
    let m = parse(b"<13>Jan  1 10:00:00 sshd[7]: Accepted key", now).unwrap();
    assert_eq!(m.hostname, None);
    assert_eq!(m.app_name.as_deref(), Some("sshd"));
    assert_eq!(m.message, "Accepted key");
    // No timestamp at all: the receive time applies, no hostname.
    let m = parse(b"<13>kernel: oops", now).unwrap();
    assert_eq!((m.timestamp, m.hostname.as_deref()), (None, None));
    assert_eq!(m.app_name.as_deref(), Some("kernel"));
    // No tag either.
    let m = parse(b"<13>just some words", now).unwrap();
    assert_eq!(
        (m.app_name.as_deref(), m.message.as_str()),
        (None, "just some words")
    );
    // RFC 3339 timestamp in the BSD layout (rsyslog high-precision forwarding).
    let m = parse(b"<13>2024-01-01T10:00:00.5+01:00 host app: x", now).unwrap();
    assert_eq!(m.timestamp, Some(ns("2024-01-01T09:00:00.5Z")));
    assert_eq!(m.hostname.as_deref(), Some("host"));
    // A December message read in early January is last year's.
    let m = parse(b"<13>Dec 31 23:59:59 h a: y", now).unwrap();
    assert_eq!(m.timestamp, Some(local(2023, 12, 31, 23, 59, 59)));
    // Feb 30 is no date: no timestamp, but the message survives.
    let m = parse(b"<13>Feb 30 10:00:00 h a: z", now).unwrap();
    assert_eq!((m.timestamp, m.message.as_str()), (None, "z"));
}

fn frames(max: usize, reads: &[&[u8]], finish: bool) -> Vec<Frame> {
    let mut f = Framer::new(max);
    let mut out = Vec::new();
    for r in reads {
        f.push(r, &mut out);
    }
    if finish {
        f.finish(&mut out);
    }
    out
}

fn msg(s: &str) -> Frame {
    Frame::Message(s.as_bytes().to_vec())
}

#[test]
fn octet_counting_across_reads() {
    let out = frames(100, &[b"5 he", b"llo1", b"2 <13>hi ther", b"e3 abc"], true);
    assert_eq!(out, vec![msg("hello"), msg("<13>hi there"), msg("abc")]);
    // Message split mid-length.
    let out = frames(100, &[b"1", b"0 0123456789"], false);
    assert_eq!(out, vec![msg("0123456789")]);
}

#[test]
fn octet_counting_oversized_is_skipped_in_sync() {
    let out = frames(4, &[b"6 abcdef4 ab", b"cd"], true);
    assert_eq!(out, vec![Frame::TooLarge, msg("abcd")]);
}

#[test]
fn octet_counting_garbage_breaks_the_connection() {
    let out = frames(100, &[b"12x hello"], true);
    assert_eq!(out, vec![Frame::Broken("bad octet-counting length")]);
    let out = frames(100, &[b"3 ab"], true);
    assert_eq!(out, vec![Frame::Broken("connection closed mid-message")]);
}

#[test]
fn newline_framing() {
    let out = frames(100, &[b"<13>one\n<13>tw", b"o\r\n\n<13>three"], true);
    assert_eq!(out, vec![msg("<13>one"), msg("<13>two"), msg("<13>three")]);
    let out = frames(5, &[b"<1>abcdefgh", b"ij\n<1>ok\n"], true);
    assert_eq!(out, vec![Frame::TooLarge, msg("<1>ok")]);
}

#[test]
fn severity_and_facility_names() {
    use super::message::{facility_name, level_name, severity_name};
    let m = SyslogMessage {
        pri: 4 * 8 + 3,
        ..Default::default()
    };
    assert_eq!(severity_name(m.severity()), "error");
    assert_eq!(level_name(m.severity()), "error");
    assert_eq!(facility_name(m.facility()), "auth");
    assert_eq!(severity_name(6), "informational");
    assert_eq!(level_name(2), "crit");
    assert_eq!(facility_name(23), "local7");
    assert_eq!(facility_name(9), "clock daemon");
}
