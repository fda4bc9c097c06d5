//! Date and duration functions, Go layouts for formatting and parsing.

use super::{check, check_err};
use crate::gotime;

#[test]
fn date_formats_go_layouts() {
    check(
        "{{ __timestamp__ | date \"2006-01-02T15:04:05.00Z07:00\" }}",
        "2023-03-23T13:13:35.12Z",
    );
    check(
        "{{ __timestamp__ | date \"2006-01-02T15:04:05.00Z-07:00\" }}",
        "2023-03-23T13:13:35.12Z+00:00",
    );
    check(
        "{{ date \"Mon Jan _2 15:04:05 MST 2006\" __timestamp__ }}",
        "Thu Mar 23 13:13:35 UTC 2023",
    );
    check(
        "{{ date \"Monday, January 2, 2006 3:04PM\" __timestamp__ }}",
        "Thursday, March 23, 2023 1:13PM",
    );
    check(
        "{{ date \"06/1/2 03pm .000 002 __2\" __timestamp__ }}",
        "23/3/23 01pm .123 082  82",
    );
    check(
        "{{ date \"-07:00 Z0700 -0700 Z07 .999 ,000 -07:00:00\" __timestamp__ }}",
        "+00:00 Z +0000 Z .123 ,123 +00:00:00",
    );
    check(
        "{{ date \"15:04:05.999\" 0 }}|{{ date \"2006\" 0 }}",
        "00:00:00|1970",
    );
    check(
        "{{ date \"2006-01-02 15:04:05\" -1 }}",
        "1969-12-31 23:59:59",
    );
    check("{{ date \"_2006 Jan\" 0 }}", "_1970 Jan");
    // Sprig formats the current time when given something that is not a time.
    check(
        "{{ date \"2006\" \"garbage\" | len }} {{ date \"2006\" now | len }}",
        "4 4",
    );
    check_err("{{ date \"2006\" 9223372036854775807 }}", "out of range");
}

#[test]
fn epochs() {
    check(
        "{{ unixEpoch __timestamp__ }} {{ unixEpochMillis __timestamp__ }} {{ unixEpochNanos __timestamp__ }}",
        "1679577215 1679577215123 1679577215123456789",
    );
    check("{{ now | unixEpoch | len }}", "10");
    check_err("{{ unixEpoch \"1\" }}", "expected time.Time; got string");
    check_err("{{ now 1 }}", "wrong number of args");
}

#[test]
fn unix_to_time_reads_the_unit_from_the_length() {
    check(
        "{{ date \"2006-01-02\" (unixToTime \"1679577215\") }}",
        "2023-03-23",
    );
    check(
        "{{ unixToTime \"19439\" }}",
        "2023-03-23 00:00:00 +0000 UTC",
    );
    check(
        "{{ unixToTime \"1679577215123\" | date \"15:04:05.000\" }}",
        "13:13:35.123",
    );
    check(
        "{{ unixToTime \"1679577215123456\" | unixEpochNanos }}",
        "1679577215123456000",
    );
    check(
        "{{ unixToTime \"1679577215123456789\" | unixEpochNanos }}",
        "1679577215123456789",
    );
    check_err(
        "{{ unixToTime \"123\" }}",
        "unable to parse time '123': unrecognized format",
    );
    check_err("{{ unixToTime \"abcdefghij\" }}", "unable to parse time");
}

#[test]
fn to_date_parses_go_layouts() {
    check(
        "{{ toDate \"2006-01-02\" \"2021-11-02\" | unixEpoch }}",
        "1635811200",
    );
    check(
        "{{ \"2021-11-02T10:00:00.5Z\" | toDate \"2006-01-02T15:04:05.999999999Z\" | unixEpochMillis }}",
        "1635847200500",
    );
    check(
        "{{ toDate \"2006-01-02T15:04:05Z07:00\" \"2021-11-02T10:00:00+01:00\" | unixEpoch }}",
        "1635843600",
    );
    check(
        "{{ toDate \"2006-01-02T15:04:05Z07:00\" \"2021-11-02T10:00:00Z\" | unixEpoch }}",
        "1635847200",
    );
    check(
        "{{ toDate \"2006-01-02 15:04:05\" \"2021-11-02 10:00:00.25\" | unixEpochMillis }}",
        "1635847200250",
    );
    check(
        "{{ toDate \"2006-01-02 15:04:05.000\" \"2021-11-02 10:00:00.250\" | unixEpochMillis }}",
        "1635847200250",
    );
    check(
        "{{ toDate \"Jan 2 2006\" \"nov 2 2021\" | unixEpoch }} {{ toDate \"Jan _2 2006\" \"Nov  2 2021\" | unixEpoch }}",
        "1635811200 1635811200",
    );
    check(
        "{{ toDate \"Mon, 02 Jan 2006\" \"Tue, 02 Nov 2021\" | unixEpoch }}",
        "1635811200",
    );
    check(
        "{{ toDate \"2006-01-02 3:04PM\" \"2021-11-02 1:00PM\" | unixEpoch }}",
        "1635858000",
    );
    check(
        "{{ toDate \"2006-01-02 3:04PM\" \"2021-11-02 12:30AM\" | unixEpoch }}",
        "1635813000",
    );
    check(
        "{{ toDate \"2006-01-02 MST\" \"2021-11-02 UTC\" | unixEpoch }} {{ toDate \"2006-01-02 MST\" \"2021-11-02 CET\" | unixEpoch }}",
        "1635811200 1635811200",
    );
    check(
        "{{ toDate \"2006-01-02 MST\" \"2021-11-02 GMT+2\" | unixEpoch }}",
        "1635804000",
    );
    check(
        "{{ toDate \"2006 002\" \"2023 082\" | unixEpoch }}",
        "1679529600",
    );
    check(
        "{{ toDate \"06-01-02\" \"68-01-01\" | date \"2006\" }} {{ toDate \"06-01-02\" \"69-01-01\" | date \"2006\" }}",
        "2068 1969",
    );
}

#[test]
fn to_date_errors() {
    check_err(
        "{{ toDate \"2006-01-02\" \"nope\" }}",
        "parsing time \"nope\" as \"2006-01-02\": cannot parse \"nope\" as \"2006\"",
    );
    check_err(
        "{{ toDate \"2006-01-02\" \"2021-13-01\" }}",
        "month out of range",
    );
    check_err(
        "{{ toDate \"2006-01-02\" \"2021-02-29\" }}",
        "day out of range",
    );
    check_err(
        "{{ toDate \"2006-01-02\" \"2021-11-02x\" }}",
        "extra text: \"x\"",
    );
    check_err(
        "{{ toDate \"15:04\" \"10:00\" }}",
        "outside the representable range",
    );
    check_err(
        "{{ toDate \"2006-01-02 15:04\" \"2021-11-02 25:00\" }}",
        "hour out of range",
    );
    check_err(
        "{{ toDate \"2006-01-02T15:04:05.000\" \"2021-11-02T10:00:00.5\" }}",
        "cannot parse",
    );
}

#[test]
fn to_date_in_zone() {
    check(
        "{{ toDateInZone \"2006-01-02 15:04\" \"+02:00\" \"2021-11-02 10:00\" | unixEpoch }}",
        "1635840000",
    );
    check(
        "{{ toDateInZone \"2006-01-02\" \"UTC\" \"2021-11-02\" | unixEpoch }}",
        "1635811200",
    );
    check(
        "{{ \"2021-11-02\" | toDateInZone \"2006-01-02\" \"Europe/Berlin\" | unixEpoch }}",
        "1635811200",
    );
    check(
        "{{ toDateInZone \"2006-01-02\" \"Etc/GMT+2\" \"2021-11-02\" | unixEpoch }}",
        "1635818400",
    );
    check(
        "{{ toDateInZone \"2006-01-02\" \"-0530\" \"2021-11-02\" | unixEpoch }}",
        "1635831000",
    );
    // An offset in the text wins over the zone.
    check(
        "{{ toDateInZone \"2006-01-02Z07:00\" \"+05:00\" \"2021-11-02Z\" | unixEpoch }}",
        "1635811200",
    );
}

#[test]
fn zone_names() {
    for (name, want) in [
        ("UTC", Some(0)),
        ("Local", Some(0)),
        ("", Some(0)),
        ("+02:00", Some(7200)),
        ("-0530", Some(-19800)),
        ("UTC+3", Some(10800)),
        ("Etc/GMT-14", Some(50400)),
        ("+25:00", None),
        ("Europe/Paris", None),
        ("+1:2:3", None),
    ] {
        assert_eq!(gotime::zone_offset(name), want, "{name}");
    }
}

#[test]
fn durations() {
    check(
        "{{ duration \"1h30m\" }} {{ duration_seconds \"250ms\" }} {{ \"1.5s\" | duration }} {{ duration \"-1m\" }}",
        "5400 0.25 1.5 -60",
    );
    check(
        "{{ duration \"1µs\" }} {{ duration \"0\" }} {{ duration \"1h0.5m\" }}",
        "1e-06 0 3630",
    );
    check_err(
        "{{ duration \"1d\" }}",
        "time: unknown unit \"d\" in duration \"1d\"",
    );
    check_err(
        "{{ duration \"5\" }}",
        "time: missing unit in duration \"5\"",
    );
    check_err("{{ duration \"\" }}", "time: invalid duration \"\"");
    check_err("{{ duration \".s\" }}", "time: invalid duration");
    check_err("{{ duration \"9999999999h\" }}", "time: invalid duration");
}

#[test]
fn civil_calendar_round_trips() {
    for days in (-800_000i64..800_000).step_by(997) {
        let (y, m, d) = gotime::civil_from_days(days);
        assert_eq!(gotime::days_from_civil(y, m, d), days);
        assert!((1..=12).contains(&m) && (1..=31).contains(&d));
    }
    assert_eq!(gotime::days_from_civil(2000, 3, 1), 11_017);
    assert_eq!(gotime::civil_from_days(-1), (1969, 12, 31));
}
