//! OpenMetrics golden inputs and errors.

use super::*;

#[test]
fn openmetrics_golden() {
    let body = "# TYPE acme_http_router_request_seconds summary\n\
                # UNIT acme_http_router_request_seconds seconds\n\
                # HELP acme_http_router_request_seconds Latency \\\"quoted\\\" \\\\ \\n.\n\
                acme_http_router_request_seconds_sum{path=\"/api/v1\",method=\"GET\"} 9036.32\n\
                acme_http_router_request_seconds_count{path=\"/api/v1\",method=\"GET\"} 807283.0\n\
                acme_http_router_request_seconds_created{path=\"/api/v1\",method=\"GET\"} 1605281325.0\n\
                # TYPE foo counter\n\
                foo_total{a=\"b\",} 17.0 1520879607.789 # {trace_id=\"KOO5S4vxi0o\"} 0.67\n\
                foo_total 18 1520879608 # {trace_id=\"x\"} 1 1520879608.1\n\
                foo_total 19 # {} 1\n\
                foo_created 1520430000.123\n\
                # TYPE bar gauge\n\
                bar NaN\n\
                bar{\"x\"=\"y\"} -Inf 0.001\n\
                # EOF\n";
    let (rows, stats) = om(body).unwrap();
    let ts: Vec<_> = rows.iter().map(|r| r.ts).collect();
    assert_eq!(
        ts,
        vec![
            None,
            None,
            None,
            Some(1520879607789),
            Some(1520879608000),
            None,
            None,
            None,
            Some(1)
        ]
    );
    assert_eq!(
        rows[2].labels,
        "acme_http_router_request_seconds_created{method=\"GET\", path=\"/api/v1\"}"
    );
    assert_eq!(rows[3].labels, "foo_total{a=\"b\"}");
    assert_eq!(rows[3].series, "foo_total{a=\"b\",}");
    assert_eq!(rows[7].bits, NORMAL_NAN_BITS);
    assert_eq!(rows[8].labels, "bar{x=\"y\"}");
    assert_eq!(stats.exemplars_dropped, 3);
    assert_eq!(stats.samples, 9);
    assert_eq!(stats.metadata.len(), 3);
    assert_eq!(stats.metadata[0].unit, "seconds");
    assert_eq!(stats.metadata[0].help, "Latency \"quoted\" \\ \n.");
    assert_eq!(stats.metadata[0].kind, MetricKind::Summary);

    let opts = ParseOptions {
        skip_created_series: true,
        ..ParseOptions::default()
    };
    let (rows, stats) = run(body, Format::OpenMetrics, &opts).unwrap();
    assert_eq!(rows.len(), 7);
    assert_eq!(stats.created_series_skipped, 2);
    assert!(rows.iter().all(|r| !r.series.contains("_created")));
}

#[test]
fn openmetrics_errors() {
    let cases: &[(&str, &str)] = &[
        (
            "a 1\n",
            "line 1: openmetrics body does not end with '# EOF'",
        ),
        ("", "line 1: openmetrics body does not end with '# EOF'"),
        ("a 1\n# EOF\nb 2\n", "line 3: unexpected data after '# EOF'"),
        ("a 1\n# EOF\n\n", "line 3: unexpected data after '# EOF'"),
        (
            "a 1\n\nb 1\n# EOF\n",
            "line 2, column 1: empty line (openmetrics allows none)",
        ),
        (
            "a  1\n# EOF\n",
            "line 1, column 3: expected value after metric name and labels, got ' '",
        ),
        (
            "a\t1\n# EOF\n",
            "line 1, column 2: expected ' ' and a value after metric name and labels, got '\\t'",
        ),
        (
            "a{x=\"1\", y=\"2\"} 1\n# EOF\n",
            "line 1, column 9: expected label name or '}', got ' '",
        ),
        (
            "a{x=\"1\"y=\"2\"} 1\n# EOF\n",
            "line 1, column 8: expected ',' or '}' after label value, got 'y'",
        ),
        (
            "a 1 NaN\n# EOF\n",
            "line 1, column 5: timestamp must be finite: \"NaN\"",
        ),
        (
            "a 1 2 3\n# EOF\n",
            "line 1, column 7: expected exemplar '# {' after timestamp, got '3'",
        ),
        (
            "a 1 # {x=\"1\"}\n# EOF\n",
            "line 1, column 14: expected ' ' and a value after exemplar labels, got end of line",
        ),
        (
            "a 1 # {\"x\"} 1\n# EOF\n",
            "line 1, column 11: expected '=' after label name \"x\", got '}'",
        ),
        (
            "# comment\n# EOF\n",
            "line 1, column 3: expected HELP, TYPE, UNIT or EOF after '# ', got \"comment\"",
        ),
        (
            "#TYPE a counter\n# EOF\n",
            "line 1, column 2: expected ' ' after '#', got 'T'",
        ),
        (
            "# TYPE a untyped\n# EOF\n",
            "line 1, column 10: invalid metric type \"untyped\"",
        ),
        (
            "# HELP a\n# EOF\n",
            "line 1, column 9: expected ' ' and text after the metric name in HELP, got end of line",
        ),
        (
            "# UNIT a_bytes seconds\n# EOF\n",
            "line 1, column 16: unit \"seconds\" is not a suffix of metric \"a_bytes\"",
        ),
        (
            "# UNIT seconds seconds\n# EOF\n",
            "line 1, column 16: unit \"seconds\" is not a suffix of metric \"seconds\"",
        ),
        (
            " a 1\n# EOF\n",
            "line 1, column 1: expected metric name, got ' '",
        ),
        (
            "a{x=\"1\n\"} 1\n# EOF\n",
            "line 1, column 5: line break inside quoted string",
        ),
    ];
    for (body, want) in cases {
        assert_eq!(om_err(body), *want, "body {body:?}");
    }
    // An empty UNIT and a matching one are fine.
    assert!(om("# UNIT a_seconds seconds\n# UNIT b \n# EOF").is_ok());
}
