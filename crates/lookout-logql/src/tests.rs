//! Parser round trips and error positions (the data-format suite in `tests/` covers evaluation).

use crate::{format_query, parse};

#[test]
fn canonical_text_round_trips() {
    for q in [
        r#"{app="api"} |= "a" or "b" != "c" |~ "(?i)x" |> "<_> y <_>" |= ip("10.0.0.0/8")"#,
        r#"{app="api"} | json | logfmt --strict a, b="c" | regexp "(?P<x>\\d+)" | pattern "<a> <_>" | unpack"#,
        r#"{app="api"} | json foo="a.b[0]" | status >= 400, dur > 250ms or size <= 20MB | level=~"err.*""#,
        r#"{app="api"} | line_format "{{.a}}" | label_format x=y, z="{{.q}}" | drop a, b="v" | keep c | decolorize"#,
        r#"sum by (level) (count_over_time({app="api"} | json [1m]))"#,
        r#"quantile_over_time(0.99, {app="api"} | logfmt | unwrap duration(d) | __error__="" [5m] offset 1h) by (path)"#,
        r#"topk(3, sum by (a) (rate({app="x"}[5m]))) / on(a) group_left(b) sum by (a, b) (bytes_rate({app="y"}[1m])) > bool 2"#,
        r#"label_replace(vector(1), "dst", "$1", "src", "(.*)") + 1"#,
    ] {
        let once = format_query(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        let twice = format_query(&once).unwrap_or_else(|e| panic!("{once}: {e}"));
        assert_eq!(once, twice, "{q}");
    }
}

#[test]
fn errors_say_where_and_why() {
    let e = parse(r#"{app=~".*"}"#).unwrap_err();
    assert!(e.msg.contains("at least one"), "{e}");
    let e = parse(r#"{app="a"} | json | x > "#).unwrap_err();
    assert!(e.pos > 10, "{e}");
    let e = parse(r#"sum_over_time({app="a"}[5m])"#).unwrap_err();
    assert!(e.msg.contains("unwrap"), "{e}");
    let e = parse(r#"{app="a"} |~ "(""#).unwrap_err();
    assert!(e.msg.contains("invalid regex"), "{e}");
    assert!(parse(r#"{app="a"}[5m]"#).is_err());
    assert!(parse(r#"count_over_time({app="a"})"#).is_err());
    assert!(parse("").is_err());
    // A regex bomb is refused by the regex crate's size limit, not run.
    let bomb = format!(r#"{{app="a"}} |~ "{}""#, "(a{1000}){1000}");
    assert!(parse(&bomb).is_err());
}

#[test]
fn metric_queries_stop_at_the_sample_limit_and_say_which() {
    use lookout_model::Labels;
    use lookout_storage::logs::mem::MemLogs;
    use lookout_storage::logs::{Entry, LogSink, PushStream, QueryDirection};

    use crate::{LogqlEngine, LogqlError, LogqlLimits, QueryParams};

    let store = MemLogs::new();
    let entries = (1..=5)
        .map(|i| Entry {
            ts: i * 1_000_000_000,
            line: format!("line {i}"),
            metadata: Vec::new(),
        })
        .collect();
    store
        .push(vec![PushStream {
            labels: Labels::from_pairs_unchecked(&[("app", "a")]),
            entries,
        }])
        .unwrap();
    let params = QueryParams {
        start: 10_000_000_000,
        end: 10_000_000_000,
        step: 1,
        limit: 100,
        direction: QueryDirection::Backward,
        instant: true,
    };
    let q = r#"count_over_time({app="a"}[10s])"#;
    let limits = LogqlLimits {
        max_samples: 3,
        ..LogqlLimits::default()
    };
    let err = LogqlEngine::new(&store, limits, None)
        .query(q, &params)
        .unwrap_err();
    assert!(
        matches!(
            &err,
            LogqlError::Limit {
                name: "query.max_samples",
                limit: 3,
                ..
            }
        ),
        "{err:?}"
    );
    let ok = LogqlEngine::new(&store, LogqlLimits::default(), None).query(q, &params);
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn parse_errors_name_line_and_column_as_loki_does() {
    let e = crate::parse(r#"{job="x"} |= "#).unwrap_err();
    assert_eq!((e.line, e.col), (1, 14), "{e}");
    assert!(
        e.to_string().starts_with("parse error at line 1, col 14: "),
        "{e}"
    );
    // A second line: the column counts characters from that line's start.
    let e = crate::parse("{job=\"é\"}\n  | json |= ").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    assert!(e.col > 1, "{e}");
}
