//! Golden inputs for every syntax corner of both formats, error positions, and round-trip properties.

use super::*;

mod openmetrics;
mod properties;

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
    let shown = format!("{s:?}");
    assert!(
        shown.contains("series_text") && !shown.contains("body"),
        "{shown}"
    );
    assert_eq!(s.label_count(), 2);
}
