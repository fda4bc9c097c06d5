//! Methods of `time.Time` and `time.Duration` values, and how field chains take arguments.

use super::{check_err, prom_check, prom_check_err};
use crate::Value;
use crate::gotime::duration_string;

#[test]
fn duration_prints_like_go() {
    for (ns, want) in [
        (0, "0s"),
        (1, "1ns"),
        (1_100, "1.1µs"),
        (2_200_000, "2.2ms"),
        (3_300_000_000, "3.3s"),
        (-4_000_000_000, "-4s"),
        (60_000_000_000, "1m0s"),
        (90_500_000_000, "1m30.5s"),
        (1_800_000_000_000, "30m0s"),
        (3_600_000_000_000, "1h0m0s"),
        (-5_025_000_000_000, "-1h23m45s"),
        (i64::MAX, "2562047h47m16.854775807s"),
        (i64::MIN, "-2562047h47m16.854775808s"),
    ] {
        assert_eq!(duration_string(ns), want, "{ns}");
        assert_eq!(Value::Duration(ns).to_string(), want, "{ns}");
    }
}

#[test]
fn time_methods() {
    let t = "(1435065584.128 | toTime)";
    for (method, want) in [
        ("Unix", "1435065584"),
        ("UnixMilli", "1435065584128"),
        ("UnixMicro", "1435065584128000"),
        ("UnixNano", "1435065584128000000"),
        ("Year", "2015"),
        ("Day", "23"),
        ("Hour", "13"),
        ("Minute", "19"),
        ("Second", "44"),
        ("Nanosecond", "128000000"),
        ("YearDay", "174"),
        ("String", "2015-06-23 13:19:44.128 +0000 UTC"),
        ("UTC.Format \"15:04\"", "13:19"),
        ("Local", "2015-06-23 13:19:44.128 +0000 UTC"),
        (
            "Truncate (toDuration 3600)",
            "2015-06-23 13:00:00 +0000 UTC",
        ),
        ("Round (toDuration 60)", "2015-06-23 13:20:00 +0000 UTC"),
        ("Add (toDuration -0.128)", "2015-06-23 13:19:44 +0000 UTC"),
        ("Add 1000000", "2015-06-23 13:19:44.129 +0000 UTC"),
        ("Sub (now | toTime)", "22586h5m32.128s"),
        ("After (now | toTime)", "true"),
        ("Before (now | toTime)", "false"),
        ("Equal (1435065584.128 | toTime)", "true"),
    ] {
        prom_check(&format!("{{{{ {t}.{method} }}}}"), &Value::Nil, want);
    }
    // A method can take the piped value as its last argument.
    prom_check(
        "{{ \"2006-01-02\" | (now | toTime).Format }}",
        &Value::Nil,
        "2012-11-24",
    );
    prom_check(
        "{{ $t := now | toTime }}{{ $t.Format \"Jan 2\" }} {{ ($t.Add (toDuration 86400)).Day }}",
        &Value::Nil,
        "Nov 24 25",
    );
}

#[test]
fn duration_methods() {
    for (method, want) in [
        ("Seconds", "5400.5"),
        ("Minutes", "90.00833333333334"),
        ("Hours", "1.500138888888889"),
        ("Milliseconds", "5400500"),
        ("Microseconds", "5400500000"),
        ("Nanoseconds", "5400500000000"),
        ("String", "1h30m0.5s"),
        ("Round (toDuration 60)", "1h30m0s"),
        ("Truncate (toDuration 3600)", "1h0m0s"),
        ("Abs", "1h30m0.5s"),
    ] {
        prom_check(
            &format!("{{{{ (toDuration 5400.5).{method} }}}}"),
            &Value::Nil,
            want,
        );
    }
    prom_check(
        "{{ (toDuration -1.5).Abs }} {{ (toDuration -1.5).Round (toDuration 1) }}",
        &Value::Nil,
        "1.5s -2s",
    );
    // A duration is an int64 to printf's integer verbs and to comparisons.
    prom_check(
        "{{ printf \"%d %v %s\" (toDuration 1) (toDuration 1) (toDuration 1) }} {{ eq (toDuration 0.000000001) 1 }} {{ lt (toDuration 1) (toDuration 2) }}",
        &Value::Nil,
        "1000000000 1s 1s true true",
    );
    prom_check(
        "{{ humanizeDuration (toDuration 90) }}",
        &Value::Nil,
        "1m 30s",
    );
}

#[test]
fn method_errors() {
    let t = "(now | toTime)";
    for (method, want) in [
        ("Format", "wrong number of args for Format: want 1 got 0"),
        ("Format 1", "wrong type for value; expected string; got int"),
        ("Unix 1", "wrong number of args for Unix: want 0 got 1"),
        ("Add \"1h\"", "expected time.Duration; got string"),
        ("Month", "can't evaluate field Month in type time.Time"),
        (
            "Add 9223372036854775807",
            "error calling Add: time out of range",
        ),
    ] {
        prom_check_err(&format!("{{{{ {t}.{method} }}}}"), &Value::Nil, want);
    }
    prom_check_err(
        "{{ (toDuration 1).Nope }}",
        &Value::Nil,
        "can't evaluate field Nope in type time.Duration",
    );
    // Arguments to a map key, as Go words it.
    check_err(
        "{{ .nested.inner 1 }}",
        "inner is not a method but has arguments",
    );
    check_err(
        "{{ .app .status }}",
        "app is not a method but has arguments",
    );
    check_err("{{ 1 | .app }}", "app is not a method but has arguments");
    check_err(
        "{{ $x := 1 }}{{ 2 | $x }}",
        "can't give argument to non-function $x",
    );
    check_err("{{ 1 | (2) }}", "can't give argument to non-function");
    check_err(
        "{{ .app | . }}",
        "non executable command in pipeline stage 2",
    );
}
