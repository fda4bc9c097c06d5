//! Alert label and annotation expansion as Prometheus's rule manager does it, and the promtool-style
//! check of a template.

use std::collections::BTreeMap;

use super::prom_funcs;
use crate::{
    ALERT_TEMPLATE_PREAMBLE, AlertTemplateData, QuerySample, expand_alert_template,
    parse_alert_template,
};

fn data(value: f64) -> AlertTemplateData {
    let labels = [
        ("alertname", "HighLatency"),
        ("instance", "node1.example.com:9100"),
        ("job", "node"),
    ];
    AlertTemplateData {
        labels: labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        external_labels: BTreeMap::from([("cluster".to_owned(), "eu-1".to_owned())]),
        external_url: "http://prom.example.com:9090".to_owned(),
        value,
    }
}

#[track_caller]
fn expand(text: &str, value: f64) -> String {
    let funcs = prom_funcs(vec![
        QuerySample {
            labels: BTreeMap::from([("instance".to_owned(), "b".to_owned())]),
            value: 2.0,
        },
        QuerySample {
            labels: BTreeMap::from([("instance".to_owned(), "a".to_owned())]),
            value: 0.25,
        },
    ]);
    match expand_alert_template(text, &data(value), &funcs) {
        Ok(s) => s,
        Err(e) => panic!("template {text:?} failed: {e}"),
    }
}

#[test]
fn predeclared_variables() {
    assert_eq!(
        expand(
            "{{ $labels.instance }} of job {{ $labels.job }} in {{ $externalLabels.cluster }}",
            1.0
        ),
        "node1.example.com:9100 of job node in eu-1"
    );
    assert_eq!(
        expand(
            "{{ .Labels.job }} {{ .ExternalURL }} {{ $externalURL }}",
            1.0
        ),
        "node http://prom.example.com:9090 http://prom.example.com:9090"
    );
    // Missing labels are "" (Prometheus's missingkey=zero on map[string]string).
    assert_eq!(
        expand("[{{ $labels.nope }}][{{ $externalLabels.nope }}]", 1.0),
        "[][]"
    );
    assert_eq!(expand("plain", 1.0), "plain");
    assert_eq!(expand("", 1.0), "");
}

#[test]
fn value_prints_as_a_go_float64() {
    for (v, want) in [
        (1.0, "1"),
        (0.5, "0.5"),
        (1e6, "1e+06"),
        (123_456.7, "123456.7"),
        (1e21, "1e+21"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (-2.5, "-2.5"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "+Inf"),
        (f64::NEG_INFINITY, "-Inf"),
    ] {
        assert_eq!(expand("{{ $value }}", v), want, "{v}");
        assert_eq!(expand("{{ .Value }}", v), want, "{v}");
        assert_eq!(crate::Value::from(v).to_string(), want, "{v}");
    }
}

#[test]
fn formatting_value() {
    assert_eq!(
        expand(
            "{{ $value | humanize }} {{ printf \"%.2f\" $value }}",
            1_234_567.891
        ),
        "1.235M 1234567.89"
    );
    assert_eq!(expand("{{ humanizePercentage $value }}", 0.1234), "12.34%");
    assert_eq!(expand("{{ humanizeDuration $value }}", 3601.0), "1h 0m 1s");
    assert_eq!(expand("{{ $value | humanize1024 }}B", 1024.0), "1kiB");
}

#[test]
fn control_structures() {
    let t = "{{ if gt $value 0.9 }}critical{{ else if gt $value 0.5 }}warning{{ else }}ok{{ end }}";
    assert_eq!(expand(t, 0.95), "critical");
    assert_eq!(expand(t, 0.6), "warning");
    assert_eq!(expand(t, 0.1), "ok");
    assert_eq!(
        expand(
            "{{ range query \"up == 0\" | sortByLabel \"instance\" }}{{ .Labels.instance }}={{ .Value }} {{ end }}",
            1.0
        ),
        "a=0.25 b=2 "
    );
    assert_eq!(
        expand(
            "{{ with query \"x\" }}{{ . | first | value | humanizePercentage }}{{ end }}",
            1.0
        ),
        "200%"
    );
    assert_eq!(
        expand(
            "{{ $labels.instance | stripPort }} {{ $labels.instance | stripDomain }} {{ $labels.job | title }}",
            1.0
        ),
        "node1.example.com node1:9100 Node"
    );
}

#[test]
fn failures_are_errors_not_panics() {
    let funcs = prom_funcs(Vec::new());
    let d = data(1.0);
    for (text, want) in [
        ("{{ $labels.instance", "unclosed action"),
        ("{{ nope }}", "function \"nope\" not defined"),
        ("{{ $undefined }}", "undefined variable"),
        ("{{ humanize $labels.job }}", "error calling humanize"),
        (
            "{{ query \"x\" | first }}",
            "first() called on vector with no elements",
        ),
        (
            "{{ $labels.instance.host }}",
            "can't evaluate field host in type string",
        ),
        ("{{ index $value 1 }}", "can't index item of type float64"),
        ("{{ range $value }}{{ end }}", "range can't iterate over 1"),
    ] {
        let err = expand_alert_template(text, &d, &funcs).unwrap_err();
        assert!(err.message.contains(want), "{text:?}: {}", err.message);
    }
}

#[test]
fn check_parses_without_rendering() {
    let funcs = prom_funcs(Vec::new());
    for ok in [
        "{{ $labels.instance }} {{ $value | humanize }}",
        "{{ query \"up\" | first | value }}",
        "{{ range query \"up\" }}{{ .Labels.job }}{{ end }}",
        "{{ (now | toTime).Format \"2006\" }}",
        "no template at all",
    ] {
        assert_eq!(parse_alert_template(ok, &funcs), Ok(()), "{ok}");
    }
    // Errors count the predeclarations in their column, as Prometheus's do.
    let col = ALERT_TEMPLATE_PREAMBLE.len() + 4;
    let err = parse_alert_template("{{ humanise $value }}", &funcs).unwrap_err();
    assert_eq!(
        err.message,
        format!("template: 1:{col}: function \"humanise\" not defined")
    );
    for bad in [
        "{{ if }}{{ end }}",
        "{{ end }}",
        "{{ $labels.x",
        "{{ upper \"loki only\" }}",
        "{{ $nope }}",
    ] {
        assert!(parse_alert_template(bad, &funcs).is_err(), "{bad}");
    }
}
