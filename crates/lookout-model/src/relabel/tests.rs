//! Table-driven tests of every relabel action, parsed from YAML as users write them.

use super::*;
use crate::Labels;

fn parse(yaml: &str) -> Vec<RelabelConfig> {
    let configs: Vec<RelabelConfig> =
        serde_yaml_ng::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
    RelabelConfig::validate_all(&configs).unwrap_or_else(|e| panic!("{yaml}: {e}"));
    configs
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs).unwrap()
}

struct Case {
    name: &'static str,
    input: &'static [(&'static str, &'static str)],
    rules: &'static str,
    /// `None` = dropped.
    output: Option<&'static [(&'static str, &'static str)]>,
}

const ABC: &[(&str, &str)] = &[("a", "foo"), ("b", "bar"), ("c", "baz")];

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "replace with two groups and a literal",
            input: ABC,
            rules: "- {source_labels: [a], regex: 'f(.*)', target_label: d, replacement: 'ch${1}-ch${1}'}",
            output: Some(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("d", "choo-choo")]),
        },
        Case {
            name: "replace joins sources with the separator",
            input: ABC,
            rules: "- {source_labels: [a, b], separator: '|', regex: '(.*)\\|(.*)', target_label: d, replacement: '$2-$1'}",
            output: Some(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("d", "bar-foo")]),
        },
        Case {
            name: "replace without a match changes nothing",
            input: ABC,
            rules: "- {source_labels: [a], regex: 'x(.*)', target_label: d}",
            output: Some(ABC),
        },
        Case {
            name: "regex is anchored at both ends",
            input: ABC,
            rules: "- {source_labels: [a], regex: 'o+', target_label: d, replacement: hit}",
            output: Some(ABC),
        },
        Case {
            name: "missing source label is the empty string and default replace copies it",
            input: ABC,
            rules: "- {source_labels: [missing], target_label: a}",
            output: Some(&[("b", "bar"), ("c", "baz")]),
        },
        Case {
            name: "replace with an empty result deletes the target",
            input: ABC,
            rules: "- {source_labels: [a], regex: '(f).*', target_label: b, replacement: '$2'}",
            output: Some(&[("a", "foo"), ("c", "baz")]),
        },
        Case {
            name: "target label expanded from a group",
            input: ABC,
            rules: "- {source_labels: [a], regex: '(f)(.*)', target_label: 'x_${2}', replacement: '$1'}",
            output: Some(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("x_oo", "f")]),
        },
        Case {
            name: "invalid expanded target name leaves labels unchanged",
            input: &[("a", "some-name-0")],
            rules: "- {source_labels: [a], regex: '(.*)', target_label: '${1}', replacement: v}",
            output: Some(&[("a", "some-name-0")]),
        },
        Case {
            name: "$1x names a group that does not exist",
            input: ABC,
            rules: "- {source_labels: [a], regex: '(.*)', target_label: d, replacement: '$1x'}",
            output: Some(ABC),
        },
        Case {
            name: "named groups and $$",
            input: ABC,
            rules: "- {source_labels: [a], regex: '(?P<head>f)(?P<tail>.*)', target_label: d, replacement: '$tail$$${head}'}",
            output: Some(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("d", "oo$f")]),
        },
        Case {
            name: "dot matches newline",
            input: &[("a", "line1\nline2")],
            rules: "- {source_labels: [a], regex: 'line1.(.*)', target_label: d}",
            output: Some(&[("a", "line1\nline2"), ("d", "line2")]),
        },
        Case {
            name: "replace with a fixed value when the source is empty",
            input: ABC,
            rules: "- {target_label: job, replacement: fixed}",
            output: Some(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("job", "fixed")]),
        },
        Case {
            name: "keep on match",
            input: ABC,
            rules: "- {source_labels: [a], regex: 'f.*', action: keep}",
            output: Some(ABC),
        },
        Case {
            name: "keep drops on miss",
            input: ABC,
            rules: "- {source_labels: [a], regex: 'b.*', action: keep}",
            output: None,
        },
        Case {
            name: "keep of a missing label matches the empty string",
            input: ABC,
            rules: "- {source_labels: [nope], regex: '', action: keep}",
            output: Some(ABC),
        },
        Case {
            name: "drop on match",
            input: ABC,
            rules: "- {source_labels: [a], regex: 'f.*', action: drop}",
            output: None,
        },
        Case {
            name: "drop keeps on miss, action name is case-insensitive",
            input: ABC,
            rules: "- {source_labels: [a], regex: 'x', action: Drop}",
            output: Some(ABC),
        },
        Case {
            name: "keepequal keeps equal values",
            input: &[("a", "1"), ("b", "1")],
            rules: "- {source_labels: [a], target_label: b, action: keepequal}",
            output: Some(&[("a", "1"), ("b", "1")]),
        },
        Case {
            name: "keepequal drops different values",
            input: &[("a", "1"), ("b", "2")],
            rules: "- {source_labels: [a], target_label: b, action: keepequal}",
            output: None,
        },
        Case {
            name: "dropequal drops equal values",
            input: &[("a", "1"), ("b", "1")],
            rules: "- {source_labels: [a], target_label: b, action: dropequal}",
            output: None,
        },
        Case {
            name: "dropequal keeps different values",
            input: &[("a", "1"), ("b", "2")],
            rules: "- {source_labels: [a], target_label: b, action: dropequal}",
            output: Some(&[("a", "1"), ("b", "2")]),
        },
        Case {
            name: "hashmod is md5 tail mod n",
            input: ABC,
            rules: "- {source_labels: [c], target_label: d, modulus: 1000, action: hashmod}",
            output: Some(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("d", "976")]),
        },
        Case {
            name: "hashmod of the empty string",
            input: ABC,
            rules: "- {source_labels: [zzz], target_label: d, modulus: 7, action: hashmod}",
            output: Some(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("d", "1")]),
        },
        Case {
            name: "labelmap copies matching names and keeps originals",
            input: &[
                ("__meta_x_app", "web"),
                ("__meta_x_tier", "db"),
                ("keep", "1"),
            ],
            rules: "- {regex: '__meta_x_(.+)', action: labelmap}",
            output: Some(&[
                ("__meta_x_app", "web"),
                ("__meta_x_tier", "db"),
                ("app", "web"),
                ("keep", "1"),
                ("tier", "db"),
            ]),
        },
        Case {
            name: "labelmap with a prefix replacement",
            input: &[("a", "1"), ("b", "2")],
            rules: "- {regex: '(a)', replacement: 'new_${1}', action: labelmap}",
            output: Some(&[("a", "1"), ("b", "2"), ("new_a", "1")]),
        },
        Case {
            name: "labeldrop removes matching names",
            input: ABC,
            rules: "- {regex: '[ab]', action: labeldrop}",
            output: Some(&[("c", "baz")]),
        },
        Case {
            name: "labelkeep keeps only matching names",
            input: ABC,
            rules: "- {regex: '[ab]', action: labelkeep}",
            output: Some(&[("a", "foo"), ("b", "bar")]),
        },
        Case {
            name: "labelkeep of nothing leaves an empty set",
            input: ABC,
            rules: "- {regex: 'zzz', action: labelkeep}",
            output: Some(&[]),
        },
        Case {
            name: "lowercase and uppercase",
            input: &[("a", "MiXeD"), ("b", "Ünï")],
            rules: "- {source_labels: [a, b], target_label: lo, action: lowercase}\n- {source_labels: [a], target_label: up, action: uppercase}",
            output: Some(&[
                ("a", "MiXeD"),
                ("b", "Ünï"),
                ("lo", "mixed;ünï"),
                ("up", "MIXED"),
            ]),
        },
        Case {
            name: "rules see earlier rules' output",
            input: ABC,
            rules: "- {source_labels: [a], target_label: d, replacement: 'x'}\n- {source_labels: [d], regex: 'x', action: drop}",
            output: None,
        },
        Case {
            name: "setting a label to empty removes it, later rules see it absent",
            input: ABC,
            rules: "- {target_label: a, replacement: ''}\n- {source_labels: [a], regex: '', target_label: e, replacement: gone}",
            output: Some(&[("b", "bar"), ("c", "baz"), ("e", "gone")]),
        },
    ]
}

#[test]
fn every_action_by_table() {
    for case in cases() {
        let rules = parse(case.rules);
        let got = relabel(&labels(case.input), &rules);
        let want = case.output.map(|o| Labels::from_pairs(o).unwrap());
        assert_eq!(got, want, "case {:?}", case.name);
    }
}

#[test]
fn defaults_match_prometheus() {
    let rules: Vec<RelabelConfig> = serde_yaml_ng::from_str("- {}").unwrap();
    let r = &rules[0];
    assert_eq!(r, &RelabelConfig::default());
    assert_eq!(r.action, RelabelAction::Replace);
    assert_eq!(r.separator, ";");
    assert_eq!(r.regex.as_str(), "(.*)");
    assert_eq!(r.replacement, "$1");
    assert!(r.source_labels.is_empty() && r.target_label.is_empty() && r.modulus == 0);
}

#[test]
fn empty_rules_return_the_input() {
    let l = labels(ABC);
    assert_eq!(relabel(&l, &[]), Some(l));
}

#[test]
fn invalid_configs_name_the_field() {
    let cases = [
        ("- {action: replace}", "target_label"),
        ("- {action: hashmod, target_label: x}", "modulus"),
        ("- {action: lowercase}", "target_label"),
        ("- {action: uppercase, target_label: '1x'}", "target_label"),
        ("- {action: keepequal, source_labels: [a]}", "target_label"),
        (
            "- {action: keepequal, source_labels: [a], target_label: b, regex: 'x'}",
            "action",
        ),
        (
            "- {action: lowercase, target_label: b, replacement: 'x'}",
            "replacement",
        ),
        (
            "- {action: labeldrop, regex: a, source_labels: [a]}",
            "action",
        ),
        ("- {action: labelkeep, regex: a, target_label: b}", "action"),
        (
            "- {action: labelmap, regex: a, replacement: 'bad-name'}",
            "replacement",
        ),
        ("- {target_label: 'bad-name'}", "target_label"),
        ("- {target_label: '${1'}", "target_label"),
        (
            "- {source_labels: ['bad-name'], target_label: a}",
            "source_labels",
        ),
        (
            "- {action: hashmod, modulus: 3, target_label: '$1'}",
            "target_label",
        ),
    ];
    for (yaml, field) in cases {
        let configs: Vec<RelabelConfig> = serde_yaml_ng::from_str(yaml).unwrap();
        let err = RelabelConfig::validate_all(&configs).expect_err(yaml);
        let RelabelError::InvalidField {
            field: got, index, ..
        } = &err;
        assert_eq!((*got, *index), (field, 0), "{yaml}: {err}");
        assert!(
            err.to_string()
                .starts_with(&format!("relabel_configs[0].{field}:")),
            "{err}"
        );
    }
}

#[test]
fn parse_errors_for_unknown_fields_actions_and_regexes() {
    for yaml in [
        "- {action: explode}",
        "- {regexp: a}",
        "- {regex: '(unclosed'}",
    ] {
        assert!(
            serde_yaml_ng::from_str::<Vec<RelabelConfig>>(yaml).is_err(),
            "{yaml}"
        );
    }
}

#[test]
fn regex_bombs_in_relabel_rules_are_refused_with_the_limit() {
    for pat in crate::regex_limits::tests::bombs() {
        let err = RelabelRegex::new(&pat).unwrap_err();
        assert!(err.is_limit(), "{err}");
        let err = RelabelConfig::replace(&["a"], &pat, "b", "$1").unwrap_err();
        assert!(err.is_limit(), "{err}");
        // As users write it: the YAML error says which limit, without echoing the pattern.
        let yaml = format!("- {{source_labels: [a], regex: '{pat}', target_label: b}}");
        let msg = serde_yaml_ng::from_str::<Vec<RelabelConfig>>(&yaml)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("regex of the relabel rule is too "), "{msg}");
        assert!(msg.contains("(limit "), "{msg}");
        assert!(msg.len() < 400, "{}", &msg[..400]);
    }
    // Ordinary rules still work, including a long alternation.
    let hosts: Vec<String> = (0..500).map(|i| format!("node-{i}")).collect();
    let yaml = format!(
        "- {{source_labels: [a], regex: '{}', action: keep}}",
        hosts.join("|")
    );
    let rules = parse(&yaml);
    assert!(relabel(&labels(&[("a", "node-499")]), &rules).is_some());
    assert!(relabel(&labels(&[("a", "node-500")]), &rules).is_none());
}

#[test]
fn serde_round_trip_keeps_meaning() {
    let rules = parse("- {source_labels: [a], regex: 'f(.*)', target_label: d, action: replace}");
    let yaml = serde_yaml_ng::to_string(&rules).unwrap();
    let back: Vec<RelabelConfig> = serde_yaml_ng::from_str(&yaml).unwrap();
    assert_eq!(back, rules);
}

#[test]
fn hashmod_spreads_values() {
    let mut buckets = [0usize; 4];
    for i in 0..400 {
        buckets[apply::hashmod(&format!("10.0.0.{i}:9100"), 4) as usize] += 1;
    }
    assert!(buckets.iter().all(|&n| n > 60), "{buckets:?}");
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn label_name() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("a".to_string()),
            Just("b".to_string()),
            Just("__meta_x".to_string()),
            "[a-z_][a-z0-9_]{0,6}"
        ]
    }

    fn rule() -> impl Strategy<Value = String> {
        let regex = prop_oneof![
            Just("(.*)"),
            Just("(a+)(.*)"),
            Just("__meta_(.+)"),
            Just("(?P<n>[a-z]*)"),
            Just("")
        ];
        let replacement = prop_oneof![
            Just("$1"),
            Just("${2}x"),
            Just("$n"),
            Just("lit"),
            Just(""),
            Just("$1$$")
        ];
        (0..8usize, label_name(), label_name(), regex, replacement, 1..10u64).prop_map(|(kind, src, target, re, rep, m)| {
            match kind {
                0 => format!("{{source_labels: [{src}], regex: '{re}', target_label: {target}, replacement: '{rep}'}}"),
                1 => format!("{{source_labels: [{src}], regex: '{re}', action: keep}}"),
                2 => format!("{{source_labels: [{src}, {target}], regex: '{re}', action: drop}}"),
                3 => format!("{{source_labels: [{src}], target_label: {target}, modulus: {m}, action: hashmod}}"),
                4 => format!("{{regex: '{re}', replacement: '{}', action: labelmap}}", if rep.is_empty() { "$1" } else { "${1}_c" }),
                5 => format!("{{regex: '{re}', action: labeldrop}}"),
                6 => format!("{{source_labels: [{src}], target_label: {target}, action: uppercase}}"),
                _ => format!("{{source_labels: [{src}], target_label: {target}, action: dropequal}}"),
            }
        })
    }

    proptest! {
        /// Whatever valid rules do to a valid label set, the result is a valid label set (or a drop).
        #[test]
        fn results_stay_valid(
            pairs in proptest::collection::vec((label_name(), "[a-zA-Z0-9 _:;-]{0,8}"), 0..6),
            rules in proptest::collection::vec(rule(), 1..5),
        ) {
            let input = Labels::from_pairs_unchecked(&pairs);
            let yaml = rules.iter().map(|r| format!("- {r}\n")).collect::<String>();
            let configs: Vec<RelabelConfig> = serde_yaml_ng::from_str(&yaml).unwrap();
            if RelabelConfig::validate_all(&configs).is_ok()
                && let Some(out) = relabel(&input, &configs)
            {
                prop_assert!(out.validate().is_ok(), "{out:?} from {input:?} with {yaml}");
                prop_assert!(out.iter().all(|l| !l.value.is_empty()));
            }
        }
    }
}
