//! Rule-file parsing and the errors `promtool check rules` reports.

use super::*;

fn ok_templates(t: &str) -> Result<(), String> {
    if t.contains("{{") && !t.contains("}}") {
        Err("unclosed action".into())
    } else {
        Ok(())
    }
}

fn errors(text: &str) -> Vec<String> {
    parse("r.yml", text, &ok_templates).unwrap_err().errors
}

#[test]
fn a_valid_file_loads_with_group_labels_merged_under_rule_labels() {
    let text = r#"
groups:
  - name: g
    interval: 30s
    query_offset: 1m
    limit: 10
    labels: {team: a, severity: low}
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: Down
        expr: up == 0
        for: 5m
        keep_firing_for: 1m
        labels: {severity: page, code: 7}
        annotations:
          summary: "{{ $labels.instance }} down"
"#;
    let (f, found) = parse("r.yml", text, &ok_templates).unwrap();
    assert!(found.warnings.is_empty());
    let g = &f.groups[0];
    assert_eq!(
        (g.interval, g.query_offset, g.limit),
        (
            Some(Duration::from_secs(30)),
            Some(Duration::from_secs(60)),
            10
        )
    );
    let down = &g.rules[1];
    assert_eq!(down.kind, RuleKind::Alerting);
    assert_eq!(down.hold, Duration::from_secs(300));
    assert_eq!(down.keep_firing_for, Duration::from_secs(60));
    assert_eq!(down.labels["severity"], "page");
    assert_eq!(down.labels["team"], "a");
    assert_eq!(down.labels["code"], "7", "scalars are text");
    assert_eq!(g.rules[0].labels["severity"], "low");
    // Empty files and files without groups are valid.
    assert!(
        parse("e.yml", "", &ok_templates)
            .unwrap()
            .0
            .groups
            .is_empty()
    );
    assert!(
        parse("e.yml", "groups: []\n", &ok_templates)
            .unwrap()
            .0
            .groups
            .is_empty()
    );
}

#[test]
fn errors_name_the_file_position_group_and_rule() {
    let text = "\
groups:
  - name: g
    rules:
      - record: job:up:sum
        expr: sum by (job) (up
      - alert: A
        record: b
        expr: up
      - expr: up
      - alert: C
        expr: up
        annotations:
          summary: '{{ $labels.x'
  - name: g
    rules: []
";
    let e = errors(text);
    assert!(
        e.iter().any(|m| m.starts_with(
            "r.yml: 5:15: group \"g\", rule 1, \"job:up:sum\": could not parse expression"
        )),
        "{e:#?}"
    );
    assert!(e.contains(&"r.yml: 7:17: group \"g\", rule 2, \"A\": only one of 'record' and 'alert' must be set".to_string()), "{e:#?}");
    assert!(
        e.iter()
            .any(|m| m.contains("rule 3, \"\": one of 'record' or 'alert' must be set")),
        "{e:#?}"
    );
    assert!(
        e.iter()
            .any(|m| m.contains("rule 4, \"C\": annotation \"summary\": unclosed action")),
        "{e:#?}"
    );
    assert!(
        e.contains(&"r.yml: 14:5: groupname: \"g\" is repeated in the same file".to_string()),
        "{e:#?}"
    );
}

#[test]
fn recording_rules_refuse_alerting_fields_and_bad_names() {
    let e = errors(
        "groups:\n- name: g\n  rules:\n  - record: 'a b'\n    expr: up\n    for: 1m\n    annotations: {x: y}\n    labels: {__name__: z, 'bad-name': v}\n",
    );
    for want in [
        "invalid field 'for' in recording rule",
        "invalid field 'annotations' in recording rule",
        "invalid recording rule name: a b",
        "invalid label name: __name__",
        "invalid label name: bad-name",
    ] {
        assert!(e.iter().any(|m| m.contains(want)), "{want}: {e:#?}");
    }
}

#[test]
fn unknown_keys_and_yaml_errors_are_refused() {
    let e = errors("groups:\n- name: g\n  rulez: []\n");
    assert!(
        e[0].starts_with("r.yml: ") && e[0].contains("rulez"),
        "{e:?}"
    );
    let e = errors("groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n    extra: 1\n");
    assert!(e[0].contains("extra"), "{e:?}");
    let e = errors("groups: [\n");
    assert!(e[0].starts_with("r.yml: "), "{e:?}");
    let e = errors("groups:\n- name: g\n  interval: 5x\n");
    assert!(e[0].contains("5x"), "{e:?}");
}

#[test]
fn duplicate_rules_are_warnings_not_errors() {
    let text =
        "groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n  - record: a\n    expr: up\n";
    let (_, found) = parse("r.yml", text, &ok_templates).unwrap();
    assert_eq!(found.warnings.len(), 1, "{found:?}");
}
