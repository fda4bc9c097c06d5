use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::json;

use super::*;
use crate::settings::RuleSettings;

fn yaml(text: &str) -> serde_yaml_ng::Value {
    serde_yaml_ng::from_str(text).unwrap()
}

fn object(namespace: &str, name: &str, uid: &str, spec: serde_json::Value) -> Arc<PrometheusRule> {
    Arc::new(PrometheusRule {
        metadata: ObjectMeta {
            namespace: Some(namespace.into()),
            name: Some(name.into()),
            uid: Some(uid.into()),
            resource_version: Some("1".into()),
            ..ObjectMeta::default()
        },
        spec,
    })
}

#[test]
fn files_are_named_as_the_operator_names_them() {
    assert_eq!(
        rule_file_name("monitoring", "kube-rules", "7d3c-11ef"),
        "monitoring-kube-rules-7d3c-11ef.yaml"
    );
    // Namespace and name alone would collide here; the UID keeps the files apart.
    assert_ne!(
        rule_file_name("foo-bar", "fred", "a"),
        rule_file_name("foo", "bar-fred", "b")
    );
}

#[test]
fn spec_becomes_a_rule_file() {
    let spec = json!({
        "groups": [
            {
                "name": "node",
                "interval": "30s",
                "query_offset": "1m",
                "limit": 10,
                "labels": {"team": "infra"},
                "partial_response_strategy": "warn",
                "unknownGroupField": true,
                "rules": [
                    {"record": "node:cpu:rate5m", "expr": "rate(node_cpu_seconds_total[5m])", "labels": {"a": "b"}},
                    {
                        "alert": "NodeDown",
                        "expr": "up{job=\"node\"} == 0",
                        "for": "5m",
                        "keep_firing_for": "1m",
                        "labels": {"severity": "critical"},
                        "annotations": {"summary": "{{ $labels.instance }} is down"},
                    },
                ],
            },
            {"name": "constant", "interval": "", "rules": [{"record": "one", "expr": 1, "for": ""}]},
        ],
    });
    let text = rule_file_yaml(&spec).unwrap();
    assert!(!text.contains("partial_response_strategy"), "{text}");
    assert!(!text.contains("unknownGroupField"), "{text}");
    let want = yaml(
        r#"
groups:
  - name: node
    interval: 30s
    query_offset: 1m
    limit: 10
    labels: {team: infra}
    rules:
      - record: node:cpu:rate5m
        expr: rate(node_cpu_seconds_total[5m])
        labels: {a: b}
      - alert: NodeDown
        expr: up{job="node"} == 0
        for: 5m
        keep_firing_for: 1m
        labels: {severity: critical}
        annotations: {summary: "{{ $labels.instance }} is down"}
  - name: constant
    rules:
      - record: one
        expr: "1"
"#,
    );
    assert_eq!(yaml(&text), want, "{text}");
}

#[test]
fn empty_and_null_specs_give_no_groups() {
    for spec in [
        json!({}),
        json!({"groups": null}),
        json!({"groups": []}),
        json!(null),
    ] {
        let text = rule_file_yaml(&spec).unwrap();
        assert_eq!(yaml(&text), yaml("groups: []"), "{spec}");
    }
}

#[test]
fn unreadable_specs_are_errors() {
    for spec in [
        json!({"groups": "nope"}),
        json!({"groups": [{"name": "g", "rules": [{"expr": {"a": 1}}]}]}),
        json!({"groups": [{"name": "g", "limit": "ten"}]}),
        json!({"groups": [{"name": "g", "labels": {"a": 1}}]}),
    ] {
        assert!(rule_file_yaml(&spec).is_err(), "{spec}");
    }
}

#[test]
fn objects_become_sorted_files_and_broken_ones_are_counted() {
    let good = json!({"groups": [{"name": "g", "rules": [{"record": "r", "expr": "up"}]}]});
    let objects = [
        object("b", "rules", "u2", good.clone()),
        object("a", "rules", "u1", good.clone()),
        object("a", "broken", "u3", json!({"groups": 3})),
    ];
    let (out, errors) = rule_objects(&objects);
    assert_eq!(out.availability, MonitorAvailability::Watching);
    assert_eq!((out.objects, out.invalid), (2, 1));
    let names: Vec<&str> = out.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a-rules-u1.yaml", "b-rules-u2.yaml"]);
    assert_eq!(
        yaml(&out.files[0].yaml),
        yaml("groups: [{name: g, rules: [{record: r, expr: up}]}]")
    );
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].file, "a-broken-u3.yaml");
}

#[test]
fn rule_settings_parse_with_defaults() {
    let s: KubernetesSettings = serde_yaml_ng::from_str("enabled: true").unwrap();
    assert_eq!(s.rules, RuleSettings::default());
    assert!(s.rules.enabled && s.rules.selector.is_empty() && s.rules.namespaces.is_empty());
    let s: KubernetesSettings = serde_yaml_ng::from_str(
        "rules: {enabled: false, selector: release=lookout, namespaces: [monitoring]}",
    )
    .unwrap();
    assert_eq!(
        s.rules,
        RuleSettings {
            enabled: false,
            selector: "release=lookout".into(),
            namespaces: vec!["monitoring".into()],
        }
    );
    assert!(serde_yaml_ng::from_str::<KubernetesSettings>("rules: {selectr: x}").is_err());
}
