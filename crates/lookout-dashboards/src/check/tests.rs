use std::collections::BTreeMap;

use super::scan::fixed_ranges;
use super::template::expand;
use super::*;

fn values() -> BTreeMap<String, String> {
    [("job", "node"), ("instance", ".*")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn every_grafana_variable_syntax_expands() {
    let v = values();
    let cases = [
        ("up{job=\"$job\"}", "up{job=\"node\"}"),
        ("up{job=\"${job}\"}", "up{job=\"node\"}"),
        (
            "up{instance=~\"${instance:regex}\"}",
            "up{instance=~\".*\"}",
        ),
        ("up{job=\"[[job]]\"}", "up{job=\"node\"}"),
        ("up{job=\"[[job:raw]]\"}", "up{job=\"node\"}"),
        ("rate(x[$__rate_interval])", "rate(x[1m])"),
        ("x[$__interval] / $__interval_ms", "x[30s] / 30000"),
        (
            "increase(x[$__range]) / $__range_s",
            "increase(x[1h]) / 3600",
        ),
        ("a{b=~\"c$\"}", "a{b=~\"c$\"}"),
        ("x[5m]", "x[5m]"),
    ];
    for (raw, want) in cases {
        assert_eq!(expand(raw, &v).as_deref(), Ok(want), "{raw}");
    }
}

#[test]
fn unknown_and_malformed_references_are_errors() {
    let v = values();
    assert!(
        expand("up{job=\"$nope\"}", &v)
            .unwrap_err()
            .contains("$nope")
    );
    assert!(expand("up{job=\"${job\"}", &v).is_err());
    assert!(expand("up{job=\"${}\"}", &v).is_err());
}

#[test]
fn metric_names_skip_strings_numbers_and_comments() {
    let expr = "sum(rate(lookout_a_total{job=\"lookout_not_a_metric\"}[1m])) / 5e3 # lookout_comment\n\
                + lookout_b + on(x) lookout_a_total";
    assert_eq!(
        metric_names(expr, &["lookout_", "prometheus_"]),
        vec!["lookout_a_total".to_string(), "lookout_b".to_string()]
    );
    assert_eq!(
        metric_names("prometheus_x:rate5m", &["prometheus_"]),
        vec!["prometheus_x:rate5m".to_string()]
    );
}

#[test]
fn fixed_ranges_are_found_outside_strings_only() {
    assert_eq!(
        fixed_ranges("rate(x[5m]) + y{d=~\"sd[0-9]\"}"),
        vec!["[5m]".to_string()]
    );
    assert!(fixed_ranges("rate(x[$__rate_interval])").is_empty());
}

fn ok(_: &str) -> Result<(), String> {
    Ok(())
}

#[test]
fn a_minimal_dashboard_passes_and_its_queries_are_typed() {
    let json = r#"{
      "uid": "t", "title": "T", "tags": ["lookout"], "schemaVersion": 39,
      "time": {"from": "now-1h", "to": "now"}, "refresh": "30s",
      "links": [{"type": "dashboards", "tags": ["lookout"], "title": "x"}],
      "templating": {"list": [
        {"type": "datasource", "name": "datasource", "query": "prometheus"},
        {"type": "datasource", "name": "loki_datasource", "query": "loki"},
        {"type": "query", "name": "job", "datasource": {"type": "prometheus", "uid": "${datasource}"},
         "query": "label_values(up, job)"}
      ]},
      "panels": [
        {"id": 1, "type": "row", "title": "R", "collapsed": true, "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0},
         "panels": [
           {"id": 2, "type": "timeseries", "title": "P", "gridPos": {"h": 8, "w": 12, "x": 0, "y": 1},
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "fieldConfig": {"defaults": {"unit": "s"}, "overrides": []},
            "targets": [{"refId": "A", "expr": "up{job=\"$job\"}"}]}
         ]},
        {"id": 3, "type": "logs", "title": "L", "gridPos": {"h": 8, "w": 24, "x": 0, "y": 2},
         "datasource": {"type": "loki", "uid": "${loki_datasource}"},
         "targets": [{"refId": "A", "expr": "{job=\"x\"}"}]}
      ]
    }"#;
    let r = check_dashboard(
        "t.json",
        json,
        &Parsers {
            promql: &ok,
            logql: &ok,
        },
    );
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    let langs: Vec<(&str, Language)> = r
        .queries
        .iter()
        .map(|q| (q.expanded.as_str(), q.language))
        .collect();
    assert_eq!(
        langs,
        vec![
            ("up", Language::PromQl),
            ("up{job=\"value\"}", Language::PromQl),
            ("{job=\"x\"}", Language::LogQl),
        ]
    );
}
