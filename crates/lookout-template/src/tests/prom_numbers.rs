//! Prometheus's number and time functions. Expected strings are Prometheus's own test cases
//! (template/template_test.go, common's helpers/templates) plus edge cases worked out from its code.

use super::{list, prom_check, prom_check_err};
use crate::Value;

const EACH_HUMANIZE: &str = "{{ range . }}{{ humanize . }}:{{ end }}";
const EACH_1024: &str = "{{ range . }}{{ humanize1024 . }}:{{ end }}";
const EACH_DURATION: &str = "{{ range . }}{{ humanizeDuration . }}:{{ end }}";
const EACH_PERCENT: &str = "{{ range . }}{{ humanizePercentage . }}:{{ end }}";
const EACH_TIMESTAMP: &str = "{{ range . }}{{ humanizeTimestamp . }}:{{ end }}";

#[test]
fn humanize_uses_metric_prefixes() {
    prom_check(
        EACH_HUMANIZE,
        &list([0.0, 1.0, 1_234_567.0, 0.12]),
        "0:1:1.235M:120m:",
    );
    prom_check(
        EACH_HUMANIZE,
        &list(["0.0", "1.0", "1234567.0", ".12"]),
        "0:1:1.235M:120m:",
    );
    prom_check(
        EACH_HUMANIZE,
        &list([0, -1, 1, 1_234_567, i64::MAX]),
        "0:-1:1:1.235M:9.223E:",
    );
    prom_check(
        EACH_HUMANIZE,
        &list([-1_234_567.0, 0.0001, -0.0025, 1e30, 1e-30, 999.95, 1e27]),
        "-1.235M:100u:-2.5m:1e+06Y:1e-06y:1000:1000Y:",
    );
    prom_check("{{ humanize 1234567.0 }}", &Value::Nil, "1.235M");
    prom_check("{{ 1000 | humanize }}", &Value::Nil, "1k");
    prom_check_err(
        "{{ humanize \"one\" }}",
        &Value::Nil,
        "error calling humanize: strconv.ParseFloat: parsing \"one\": invalid syntax",
    );
    prom_check_err(
        "{{ humanize \"1e400\" }}",
        &Value::Nil,
        "strconv.ParseFloat: parsing \"1e400\": value out of range",
    );
    prom_check_err(
        "{{ humanize true }}",
        &Value::Nil,
        "can't convert bool to float",
    );
}

#[test]
fn humanize1024_uses_binary_prefixes() {
    prom_check(
        EACH_1024,
        &list([0.0, 1.0, 1_048_576.0, 0.12]),
        "0:1:1Mi:0.12:",
    );
    prom_check(
        EACH_1024,
        &list(["0.0", "1.0", "1048576.0", ".12"]),
        "0:1:1Mi:0.12:",
    );
    prom_check(
        EACH_1024,
        &list([0, -1, 1, 1_234_567, i64::MAX]),
        "0:-1:1:1.177Mi:8Ei:",
    );
    // Prometheus spells kibi "ki".
    prom_check(EACH_1024, &list([1024, -2048, 1536]), "1ki:-2ki:1.5ki:");
    prom_check_err(
        "{{ humanize1024 \"one\" }}",
        &Value::Nil,
        "error calling humanize1024: strconv.ParseFloat: parsing \"one\": invalid syntax",
    );
}

#[test]
fn humanize_duration_counts_days_to_nanoseconds() {
    prom_check(
        EACH_DURATION,
        &list([
            0.0,
            1.0,
            60.0,
            3600.0,
            86400.0,
            86400.0 + 3600.0,
            -(86400.0 * 2.0 + 3600.0 * 3.0 + 60.0 * 4.0 + 5.0),
            899.99,
        ]),
        "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:",
    );
    prom_check(
        EACH_DURATION,
        &list(["0", "1", "60", "3600", "86400"]),
        "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:",
    );
    prom_check(
        EACH_DURATION,
        &list([0.1, 0.0001, 0.12345, 60.1, 60.5, 1.2345, 12.345]),
        "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:",
    );
    prom_check(
        EACH_DURATION,
        &list([".1", ".0001", ".12345", "60.1", "60.5", "1.2345", "12.345"]),
        "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:",
    );
    prom_check(
        EACH_DURATION,
        &list([0, -1, 1, 1_234_567]),
        "0s:-1s:1s:14d 6h 56m 7s:",
    );
    prom_check(
        EACH_DURATION,
        &list([-0.5, -1.5, 3601.0, 1e-10]),
        "-500ms:-1.5s:1h 0m 1s:100ps:",
    );
    prom_check_err(
        "{{ humanizeDuration \"one\" }}",
        &Value::Nil,
        "error calling humanizeDuration: strconv.ParseFloat: parsing \"one\": invalid syntax",
    );
}

#[test]
fn humanize_family_passes_inf_and_nan_through() {
    let src = "{{ range . }}{{ humanize . }}:{{ humanize1024 . }}:{{ humanizeDuration . }}:{{ humanizeTimestamp . }}:{{ end }}";
    let want = "+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:";
    prom_check(
        src,
        &list([f64::INFINITY, f64::NEG_INFINITY, f64::NAN]),
        want,
    );
    prom_check(src, &list(["+Inf", "-Inf", "NaN"]), want);
    // Go's spellings, any case; a signed NaN is not one of them.
    prom_check(
        "{{ humanize \"inf\" }} {{ humanize \"-Infinity\" }} {{ humanize \"nan\" }}",
        &Value::Nil,
        "+Inf -Inf NaN",
    );
    prom_check_err("{{ humanize \"+NaN\" }}", &Value::Nil, "invalid syntax");
    prom_check_err("{{ humanize \"1_000\" }}", &Value::Nil, "invalid syntax");
    prom_check_err("{{ humanize \"+-1\" }}", &Value::Nil, "invalid syntax");
    prom_check_err("{{ humanize \" 1\" }}", &Value::Nil, "invalid syntax");
    prom_check(
        "{{ humanize \"-1.5e3\" }} {{ humanize \"5.\" }}",
        &Value::Nil,
        "-1.5k 5",
    );
    prom_check("{{ humanize \"0x1p-2\" }}", &Value::Nil, "250m");
}

#[test]
fn humanize_percentage_scales_by_100() {
    prom_check(
        "{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:{{ 0.1234567 | humanizePercentage }}:{{ 1.23456 | humanizePercentage }}",
        &Value::Nil,
        "-22.22%:0%:12.35%:123.5%",
    );
    prom_check(
        EACH_PERCENT,
        &list([0, -1, 1, 1_234_567, i64::MAX]),
        "0%:-100%:100%:1.235e+08%:9.223e+20%:",
    );
    prom_check(
        "{{ \"-0.22222\" | humanizePercentage }}:{{ \"0.0\" | humanizePercentage }}:{{ \"0.1234567\" | humanizePercentage }}:{{ \"1.23456\" | humanizePercentage }}",
        &Value::Nil,
        "-22.22%:0%:12.35%:123.5%",
    );
    prom_check("{{ humanizePercentage 0.1234 }}", &Value::Nil, "12.34%");
    prom_check(
        EACH_PERCENT,
        &list([f64::NAN, f64::INFINITY]),
        "NaN%:+Inf%:",
    );
    prom_check_err(
        "{{ \"one\" | humanizePercentage }}",
        &Value::Nil,
        "error calling humanizePercentage: strconv.ParseFloat: parsing \"one\": invalid syntax",
    );
}

#[test]
fn humanize_timestamp_prints_utc_time() {
    prom_check(
        EACH_TIMESTAMP,
        &list([0, -1, 1, 1_234_567, 9_223_372_036]),
        "1970-01-01 00:00:00 +0000 UTC:1969-12-31 23:59:59 +0000 UTC:1970-01-01 00:00:01 +0000 UTC:1970-01-15 06:56:07 +0000 UTC:2262-04-11 23:47:16 +0000 UTC:",
    );
    prom_check(
        "{{ 1435065584.128 | humanizeTimestamp }}",
        &Value::Nil,
        "2015-06-23 13:19:44.128 +0000 UTC",
    );
    prom_check(
        "{{ \"1435065584.128\" | humanizeTimestamp }}",
        &Value::Nil,
        "2015-06-23 13:19:44.128 +0000 UTC",
    );
    // Prometheus goes through milliseconds, so finer digits are dropped.
    prom_check(
        "{{ humanizeTimestamp 1.0019999 }} {{ humanizeTimestamp -0.5 }}",
        &Value::Nil,
        "1970-01-01 00:00:01.001 +0000 UTC 1969-12-31 23:59:59.5 +0000 UTC",
    );
    prom_check_err(
        EACH_TIMESTAMP,
        &list([i64::MIN, i64::MAX]),
        "error calling humanizeTimestamp: -9.223372036854776e+18 cannot be represented as a nanoseconds timestamp since it overflows int64",
    );
}

#[test]
fn to_time_and_to_duration() {
    prom_check(
        "{{ (1435065584.128 | toTime).Format \"2006\" }}",
        &Value::Nil,
        "2015",
    );
    prom_check(
        "{{ (\"1435065584.128\" | toTime).Format \"2006\" }}",
        &Value::Nil,
        "2015",
    );
    prom_check(
        "{{ 1435065584.128 | toTime }}",
        &Value::Nil,
        "2015-06-23 13:19:44.128 +0000 UTC",
    );
    prom_check("{{ (1800 | toDuration).String }}", &Value::Nil, "30m0s");
    prom_check("{{ (\"1800\" | toDuration).String }}", &Value::Nil, "30m0s");
    prom_check(
        "{{ 1800 | toDuration }} {{ toDuration 0.0015 }} {{ toDuration -90.5 }}",
        &Value::Nil,
        "30m0s 1.5ms -1m30.5s",
    );
    prom_check_err("{{ toTime \"NaN\" }}", &Value::Nil, "value is NaN or Inf");
    prom_check_err(
        "{{ toTime 1e300 }}",
        &Value::Nil,
        "1e+300 cannot be represented as a nanoseconds timestamp since it overflows int64",
    );
    prom_check_err(
        "{{ toTime -1e300 }}",
        &Value::Nil,
        "-1e+300 cannot be represented",
    );
    prom_check(
        "{{ (1657155181 | toTime).Format \"2006-01-02T15:04:05Z07:00\" }}",
        &Value::Nil,
        "2022-07-07T00:53:01Z",
    );
}

#[test]
fn now_is_the_evaluation_time() {
    prom_check("{{ now }}", &Value::Nil, "1.353755652e+09");
    prom_check(
        "{{ (now | toTime).Format \"Mon Jan 2 15:04:05 2006\" }}",
        &Value::Nil,
        "Sat Nov 24 11:14:12 2012",
    );
    prom_check(
        "{{ (\"-30m\" | parseDuration | toDuration | (now | toTime).Add).UnixMilli }}",
        &Value::Nil,
        "1353753852000",
    );
}

#[test]
fn parse_duration_takes_prometheus_durations() {
    prom_check(
        "{{ printf \"%0.2f\" (parseDuration \"1h2m10ms\") }}",
        &Value::Nil,
        "3720.01",
    );
    prom_check(
        "{{ printf \"%0.2f\" (parseDuration \"-1h2m10ms\") }}",
        &Value::Nil,
        "-3720.01",
    );
    prom_check(
        "{{ parseDuration \"1y2w3d\" }} {{ parseDuration \"0\" }} {{ parseDuration \"90s\" }}",
        &Value::Nil,
        "3.30048e+07 0 90",
    );
    for (src, want) in [
        ("", "empty duration string"),
        ("1.5h", "unknown unit \".\" in duration \"1.5h\""),
        ("1x", "unknown unit \"x\" in duration \"1x\""),
        ("1m1h", "not a valid duration string: \"1m1h\""),
        ("1h1h", "not a valid duration string: \"1h1h\""),
        ("h", "not a valid duration string: \"h\""),
        ("5", "not a valid duration string: \"5\""),
        ("300y", "duration out of range"),
    ] {
        prom_check_err(
            &format!("{{{{ parseDuration {src:?} }}}}"),
            &Value::Nil,
            want,
        );
    }
}
