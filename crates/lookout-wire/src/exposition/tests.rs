//! Golden inputs for every syntax corner of both formats, error positions, and round-trip properties.

use super::*;
use lookout_model::{Labels, Sample};
use proptest::prelude::*;

/// One sample as the tests compare it.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    series: String,
    labels: String,
    bits: u64,
    ts: Option<i64>,
}

fn row(series: &str, labels: &str, v: f64, ts: Option<i64>) -> Row {
    Row {
        series: series.to_owned(),
        labels: labels.to_owned(),
        bits: v.to_bits(),
        ts,
    }
}

fn run(
    body: &str,
    format: Format,
    opts: &ParseOptions,
) -> Result<(Vec<Row>, ParseStats), ParseError> {
    let mut rows = Vec::new();
    let mut label_error = None;
    let stats = parse_format(body.as_bytes(), format, opts, &mut |s| {
        let labels = match s.to_labels() {
            Ok(l) => l.to_string(),
            Err(e) => {
                label_error.get_or_insert(e);
                String::new()
            }
        };
        rows.push(Row {
            series: String::from_utf8(s.series_text.to_vec()).unwrap(),
            labels,
            bits: s.value.to_bits(),
            ts: s.timestamp_ms,
        });
    })?;
    match label_error {
        Some(e) => Err(e),
        None => Ok((rows, stats)),
    }
}

fn text(body: &str) -> Result<(Vec<Row>, ParseStats), ParseError> {
    run(body, Format::Text, &ParseOptions::default())
}

fn om(body: &str) -> Result<(Vec<Row>, ParseStats), ParseError> {
    run(body, Format::OpenMetrics, &ParseOptions::default())
}

fn text_err(body: &str) -> String {
    text(body).expect_err("body must be rejected").to_string()
}

fn om_err(body: &str) -> String {
    om(body).expect_err("body must be rejected").to_string()
}

const NAN: f64 = f64::from_bits(NORMAL_NAN_BITS);

#[test]
fn text_format_golden() {
    let body = "# HELP http_requests_total The total number of HTTP requests.\n\
                # TYPE http_requests_total counter\n\
                http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n\
                http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n\
                \n\
                # A free comment\n\
                #no space comment\n\
                msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n\
                metric_without_timestamp_and_labels 12.47\n\
                something_weird{problem=\"division by zero\"} +Inf -3982045\n\
                \t  spaced  { a = \"1\" , b=\"2\" ,  }\t-Inf\t 7  \n\
                nan_metric NaN\n\
                inf_metric Inf\n\
                exp_metric 1e3\n\
                empty_braces{} 0\n\
                no_comma{a=\"1\" b=\"2\"} 5";
    let err = text(body).expect_err("negative timestamp is not text-format syntax");
    assert_eq!(err.line, 10);
    let fixed = body.replace(" -3982045", " 3982045");
    let (rows, stats) = text(&fixed).unwrap();
    let want = vec![
        row(
            "http_requests_total{method=\"post\",code=\"200\"}",
            "http_requests_total{code=\"200\", method=\"post\"}",
            1027.0,
            Some(1395066363000),
        ),
        row(
            "http_requests_total{method=\"post\",code=\"400\"}",
            "http_requests_total{code=\"400\", method=\"post\"}",
            3.0,
            Some(1395066363000),
        ),
        row(
            "msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"}",
            "msdos_file_access_time_seconds{error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\", path=\"C:\\\\DIR\\\\FILE.TXT\"}",
            1.458255915e9,
            None,
        ),
        row(
            "metric_without_timestamp_and_labels",
            "metric_without_timestamp_and_labels{}",
            12.47,
            None,
        ),
        row(
            "something_weird{problem=\"division by zero\"}",
            "something_weird{problem=\"division by zero\"}",
            f64::INFINITY,
            Some(3982045),
        ),
        row(
            "spaced  { a = \"1\" , b=\"2\" ,  }",
            "spaced{a=\"1\", b=\"2\"}",
            f64::NEG_INFINITY,
            Some(7),
        ),
        row("nan_metric", "nan_metric{}", NAN, None),
        row("inf_metric", "inf_metric{}", f64::INFINITY, None),
        row("exp_metric", "exp_metric{}", 1000.0, None),
        row("empty_braces{}", "empty_braces{}", 0.0, None),
        row(
            "no_comma{a=\"1\" b=\"2\"}",
            "no_comma{a=\"1\", b=\"2\"}",
            5.0,
            None,
        ),
    ];
    assert_eq!(rows, want);
    assert_eq!(stats.samples, 11);
    assert_eq!(stats.lines, 16);
    assert_eq!(
        stats.metadata,
        vec![MetricMetadata {
            family: "http_requests_total".into(),
            kind: MetricKind::Counter,
            help: "The total number of HTTP requests.".into(),
            unit: String::new(),
        }]
    );
}

#[test]
fn text_format_help_escapes_and_types() {
    let body = "# HELP a Help with \\\\ and \\n and \\\" kept\n# TYPE a gauge\n# TYPE b untyped\n# HELP c\na 1\n";
    let (_, stats) = text(body).unwrap();
    assert_eq!(stats.metadata[0].help, "Help with \\ and \n and \\\" kept");
    assert_eq!(stats.metadata[0].kind, MetricKind::Gauge);
    assert_eq!(stats.metadata[1].kind, MetricKind::Unknown);
    assert_eq!(stats.metadata[2].help, "");
    assert_eq!(
        text_err("# TYPE a info\n"),
        "line 1, column 10: invalid metric type \"info\""
    );
    assert_eq!(
        text_err("# TYPE a counter \n"),
        "line 1, column 10: invalid metric type \"counter \""
    );
    // "# HELPER" and "#HELP" are ordinary comments, as in Prometheus.
    assert!(text("# HELPER x\n#HELP y z\n").unwrap().0.is_empty());
}

#[test]
fn text_format_errors_name_line_and_column() {
    let cases: &[(&str, &str)] = &[
        (
            "a 1\nb 2\nc{x=y} 3\n",
            "line 3, column 5: expected label value in quotes, got 'y'",
        ),
        (
            "a{x=\"1\"\n",
            "line 1, column 8: expected label name or '}', got end of line",
        ),
        (
            "a{x=\"1} 2\n",
            "line 1, column 5: unterminated quoted string",
        ),
        (
            "a{1x=\"1\"} 2\n",
            "line 1, column 3: expected label name or '}', got '1'",
        ),
        (
            "a{x \"1\"} 2\n",
            "line 1, column 5: expected '=' after label name \"x\", got '\"'",
        ),
        (
            "a\n",
            "line 1, column 2: expected value after metric name and labels, got end of line",
        ),
        (
            "a{} \n",
            "line 1, column 5: expected value after metric name and labels, got end of line",
        ),
        ("a 0x10\n", "line 1, column 3: invalid value \"0x10\""),
        ("a 1_000\n", "line 1, column 3: invalid value \"1_000\""),
        (
            "a 1 2 3\n",
            "line 1, column 7: expected end of line after timestamp, got '3'",
        ),
        (
            "a 1 1.5\n",
            "line 1, column 6: expected end of line after timestamp, got '.'",
        ),
        (
            "a 1 x\n",
            "line 1, column 5: expected timestamp or end of line, got 'x'",
        ),
        (
            "a 1 99999999999999999999\n",
            "line 1, column 5: timestamp 99999999999999999999 out of range",
        ),
        (
            "{x=\"1\"} 1\n",
            "line 1, column 1: metric name missing: quote it inside the braces or write it before them",
        ),
        ("-a 1\n", "line 1, column 1: expected metric name, got '-'"),
        ("a{\"n\"} 1\n", "line 1, column 3: metric name already set"),
        (
            "{\"n\",\"m\"} 1\n",
            "line 1, column 6: metric name already set",
        ),
        (
            "a{x=\"\\\n\"} 1\n",
            "line 1, column 6: backslash at end of line inside quoted string",
        ),
        (
            "# HELP 1a x\n",
            "line 1, column 8: expected metric name after HELP, got '1'",
        ),
        (
            "# TYPE a{ counter\n",
            "line 1, column 9: expected ' ' and text after the metric name in TYPE, got '{'",
        ),
        (
            "ok 1\n\u{e9}t\u{e9} 1\n",
            "line 2, column 1: expected metric name, got '\u{e9}'",
        ),
    ];
    for (body, want) in cases {
        assert_eq!(text_err(body), *want, "body {body:?}");
    }
}

#[test]
fn invalid_utf8_is_located() {
    let err = Parser::new(
        b"a 1\nb{x=\"\xff\"} 1\n",
        Format::Text,
        ParseOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "line 2, column 6: invalid utf-8");
}

#[test]
fn label_set_problems_surface_in_to_labels() {
    assert_eq!(
        text_err("a 1\nb{x=\"1\",x=\"2\"} 1\n"),
        "line 2: invalid series b{x=\"1\",x=\"2\"}: duplicate label name \"x\""
    );
    assert!(text_err("a{__name__=\"b\"} 1\n").contains("duplicate label name \"__name__\""));
    // A quoted UTF-8 metric name parses, but Lookout's label sets hold legacy names only.
    assert!(text_err("{\"my.metric\"} 1\n").contains("invalid metric name \"my.metric\""));
    let (rows, _) = text("{\"quoted_name\", a=\"b\"} 1\nx{\"quoted_label\"=\"v\"} 2\n").unwrap();
    assert_eq!(rows[0].labels, "quoted_name{a=\"b\"}");
    assert_eq!(rows[1].labels, "x{quoted_label=\"v\"}");
    // Empty values are dropped, as Prometheus drops them.
    assert_eq!(text("a{x=\"\"} 1\n").unwrap().0[0].labels, "a{}");
}

#[test]
fn text_allows_raw_line_breaks_in_label_values() {
    let (rows, stats) = text("a{x=\"one\ntwo\"} 1\nb 2\n").unwrap();
    assert_eq!(rows[0].labels, "a{x=\"one\\ntwo\"}");
    assert_eq!(rows[1].labels, "b{}");
    assert_eq!(stats.lines, 3);
    assert_eq!(
        text_err("a{x=\"one\ntwo\"} 1\nb{ 2\n"),
        "line 3, column 4: expected label name or '}', got '2'"
    );
}

#[test]
fn unknown_escapes_are_kept_like_prometheus() {
    let (rows, _) = text("a{x=\"tab\\there\"} 1\n").unwrap();
    assert_eq!(rows[0].labels, "a{x=\"tab\\\\there\"}");
}

#[test]
fn crlf_is_rejected_with_a_hint_unless_allowed() {
    let body = "# TYPE a gauge\r\na 1\r\nb{x=\"y\"} 2 1000\r\n";
    let err = text_err(body);
    assert!(
        err.starts_with("line 1, column 10: invalid metric type \"gauge\\r\""),
        "{err}"
    );
    assert!(
        err.ends_with("(the line ends with CRLF; only LF line endings are accepted)"),
        "{err}"
    );
    let opts = ParseOptions {
        allow_crlf: true,
        ..ParseOptions::default()
    };
    let (rows, _) = run(body, Format::Text, &opts).unwrap();
    assert_eq!(
        rows,
        vec![
            row("a", "a{}", 1.0, None),
            row("b{x=\"y\"}", "b{x=\"y\"}", 2.0, Some(1000))
        ]
    );
    let om_body = "a 1 1.5\r\n# EOF\r\n";
    assert_eq!(
        run(om_body, Format::OpenMetrics, &opts).unwrap().0,
        vec![row("a", "a{}", 1.0, Some(1500))]
    );
}

#[test]
fn histogram_and_summary_bounds_are_normalized() {
    let body = "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"0.5\"} 1\nh_bucket{le=\"+Inf\"} 2\n\
                # TYPE s summary\ns{quantile=\"1e-1\"} 3\ns_count{le=\"1\"} 3\n\
                # TYPE g gauge\ng{le=\"1\"} 4\n";
    let (rows, _) = text(body).unwrap();
    let labels: Vec<_> = rows.iter().map(|r| r.labels.as_str()).collect();
    assert_eq!(
        labels,
        vec![
            "h_bucket{le=\"1.0\"}",
            "h_bucket{le=\"0.5\"}",
            "h_bucket{le=\"+Inf\"}",
            "s{quantile=\"0.1\"}",
            "s_count{le=\"1\"}",
            "g{le=\"1\"}",
        ]
    );
    // The cache key stays the text as written.
    assert_eq!(rows[0].series, "h_bucket{le=\"1\"}");
}

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

#[test]
fn content_type_and_import_format_choice() {
    assert_eq!(Format::from_content_type(None), Format::Text);
    assert_eq!(
        Format::from_content_type(Some("text/plain; version=0.0.4")),
        Format::Text
    );
    assert_eq!(
        Format::from_content_type(Some(
            "Application/OpenMetrics-Text; version=1.0.0; charset=utf-8"
        )),
        Format::OpenMetrics
    );
    assert_eq!(
        Format::from_content_type(Some("application/json")),
        Format::Text
    );
    assert_eq!(
        Format::sniff(b"a 1 1700000000\n# EOF\n"),
        Format::OpenMetrics
    );
    assert_eq!(Format::sniff(b"a 1 1700000000\n# EOF"), Format::OpenMetrics);
    assert_eq!(Format::sniff(b"a 1 1700000000000\n"), Format::Text);
    assert!(SCRAPE_ACCEPT_HEADER.starts_with("application/openmetrics-text;version=1.0.0;"));
    assert!(SCRAPE_ACCEPT_HEADER.ends_with("text/plain;version=0.0.4;q=0.3,*/*;q=0.2"));
}

#[test]
fn import_accepts_text_with_ms_and_nodegen_openmetrics() {
    let text_body =
        b"node_load1{instance=\"a\"} 0.5 1700000000000\nnode_load1{instance=\"a\"} 0.7\n";
    let mut got = Vec::new();
    parse_import(text_body, None, &ParseOptions::default(), &mut |s| {
        got.push((s.timestamp_ms, s.value))
    })
    .unwrap();
    assert_eq!(got, vec![(Some(1_700_000_000_000), 0.5), (None, 0.7)]);

    // The shape `nodegen.py dataset` writes: OpenMetrics, no metadata, seconds timestamps, '# EOF' last.
    let dataset = "node_cpu_seconds_total{job=\"node\",instance=\"host0000:9100\",cpu=\"0\",mode=\"idle\"} 84442.23 1795608000\n\
                   node_cpu_seconds_total{job=\"node\",instance=\"host0000:9100\",cpu=\"0\",mode=\"idle\"} 84454.98 1795608015\n\
                   node_scrape_latency_seconds_bucket{job=\"node\",instance=\"host0000:9100\",le=\"+Inf\"} 4.0 1795608015\n\
                   node_intr_total{job=\"node\",instance=\"host0000:9100\"} 1309925966.0 1795611540\n\
                   # EOF\n";
    let mut got = Vec::new();
    let stats = parse_import(
        dataset.as_bytes(),
        Some("application/x-www-form-urlencoded"),
        &ParseOptions::default(),
        &mut |s| got.push((s.to_labels().unwrap().to_string(), s.timestamp_ms, s.value)),
    )
    .unwrap();
    assert_eq!(stats.samples, 4);
    assert_eq!(got[1].1, Some(1_795_608_015_000));
    assert_eq!(got[1].2, 84454.98);
    assert_eq!(
        got[3].0,
        "node_intr_total{instance=\"host0000:9100\", job=\"node\"}"
    );
}

#[test]
fn pull_parser_stops_after_an_error() {
    let mut p = Parser::new(b"a 1\nb x\nc 3\n", Format::Text, ParseOptions::default()).unwrap();
    assert!(p.next_sample().unwrap().is_some());
    assert!(p.next_sample().is_err());
    assert!(p.next_sample().unwrap().is_none());
}

#[test]
fn samples_borrow_label_values_without_escapes() {
    let mut p = Parser::new(
        b"a{x=\"plain\",y=\"esc\\\"aped\"} 1\n",
        Format::Text,
        ParseOptions::default(),
    )
    .unwrap();
    let s = p.next_sample().unwrap().unwrap();
    let labels: Vec<_> = s.labels().collect();
    assert!(matches!(labels[0].1, std::borrow::Cow::Borrowed("plain")));
    assert_eq!(labels[1].1, "esc\"aped");
    assert_eq!(s.metric_name(), "a");
    assert_eq!(s.label_count(), 2);
}

/// Label names: legacy syntax, avoiding `__name__` and the `le`/`quantile` names the parser normalises.
fn label_name() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z0-9_]{0,12}".prop_filter("reserved", |n| {
        n != "__name__" && n != "le" && n != "quantile"
    })
}

fn any_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<u64>().prop_map(f64::from_bits),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        (-1_000_000i64..1_000_000).prop_map(|i| i as f64 / 100.0),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn write_then_parse_round_trips(
        name in "[a-zA-Z_:][a-zA-Z0-9_:]{0,20}",
        pairs in proptest::collection::btree_map(label_name(), "\\PC{1,12}|[\"\\\\\n]{1,4}", 0..6),
        values in proptest::collection::vec((any_value(), proptest::option::of(0i64..4_000_000_000_000)), 1..5),
    ) {
        let mut all: Vec<(String, String)> = pairs.into_iter().collect();
        all.push(("__name__".into(), name));
        let labels = Labels::from_pairs(&all).unwrap();
        let mut out = String::new();
        write_family_header(&mut out, labels.metric_name().unwrap(), MetricKind::Gauge, Some("help \\ with\nbreaks"));
        for (v, ts) in &values {
            write_sample_line(&mut out, &labels, *v, *ts);
        }
        let mut seen = Vec::new();
        let stats = parse(out.as_bytes(), Some(TEXT_CONTENT_TYPE), &ParseOptions::default(), &mut |s| {
            seen.push((s.to_labels().unwrap(), s.value.to_bits(), s.timestamp_ms));
        }).unwrap();
        prop_assert_eq!(&stats.metadata[0].help, "help \\ with\nbreaks");
        prop_assert_eq!(seen.len(), values.len());
        for ((got_labels, bits, ts), (v, want_ts)) in seen.iter().zip(&values) {
            prop_assert_eq!(got_labels, &labels);
            let want_bits = if v.is_nan() { NORMAL_NAN_BITS } else { v.to_bits() };
            prop_assert_eq!(*bits, want_bits, "value {:?} written as {}", v, out);
            prop_assert_eq!(ts, want_ts);
        }
    }

    #[test]
    fn write_text_round_trips_sample_batches(v in any_value(), t in -1i64..i64::MAX) {
        let labels = Labels::from_pairs(&[("__name__", "m"), ("a", "b")]).unwrap();
        let samples = [Sample::new(t.max(0), v)];
        let mut out = String::new();
        write_text(&mut out, "m", MetricKind::Counter, None, [(&labels, &samples[..])], true);
        let mut seen = None;
        parse(out.as_bytes(), None, &ParseOptions::default(), &mut |s| seen = Some((s.value.to_bits(), s.timestamp_ms))).unwrap();
        let want = if v.is_nan() { NORMAL_NAN_BITS } else { v.to_bits() };
        prop_assert_eq!(seen, Some((want, Some(t.max(0)))));
    }

    #[test]
    fn garbage_never_panics(body in proptest::collection::vec(any::<u8>(), 0..300), om_format: bool) {
        let format = if om_format { Format::OpenMetrics } else { Format::Text };
        let _ = parse_format(&body, format, &ParseOptions::default(), &mut |s| { let _ = s.to_labels(); });
    }

    #[test]
    fn mutated_expositions_never_panic(pos in 0usize..200, byte in prop::sample::select(b"{}\"\\=, #\n\r\t.1e+-x".to_vec()), om_format: bool, crlf: bool) {
        let mut body = b"# TYPE h histogram\nh_bucket{le=\"1\",a=\"x\\\"y\"} 1 1000 # {t=\"1\"} 1 2\n# UNIT h_x x\nh_sum 2\n# EOF\n".to_vec();
        let at = pos % body.len();
        body[at] = byte;
        let format = if om_format { Format::OpenMetrics } else { Format::Text };
        let opts = ParseOptions { allow_crlf: crlf, ..ParseOptions::default() };
        let _ = parse_format(&body, format, &opts, &mut |s| { let _ = s.to_labels(); let _ = s.labels().count(); });
    }
}
