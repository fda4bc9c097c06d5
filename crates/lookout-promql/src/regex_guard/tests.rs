use lookout_model::Labels;
use lookout_storage::Storage;
use lookout_storage::mem::MemStorage;

use super::*;
use crate::{
    Engine, EngineOptions, QueryContext, Value, format_query, parse_metric_selector, parse_query,
};

fn bombs() -> Vec<String> {
    vec![
        "(((a{100}){100}){100})".to_string(),
        "(a{1000}){1000}".to_string(),
        ".{65535}".to_string(),
        "a".repeat(1 << 20),
    ]
}

fn store() -> MemStorage {
    let s = MemStorage::new();
    let mut a = s.appender();
    let l = Labels::from_pairs(&[
        ("__name__", "up"),
        ("job", "node"),
        ("long", &"x".repeat(1000)),
    ])
    .unwrap();
    a.append(&l, 0, 1.0).unwrap();
    a.commit().unwrap();
    s
}

fn instant(opts: EngineOptions, q: &str) -> Result<crate::QueryOutput, QueryError> {
    Engine::new(opts).instant_query(&store(), q, 0, &QueryContext::default())
}

fn assert_limit_error(e: &QueryError, what: &str) {
    let msg = e.to_string();
    assert!(msg.contains(&format!("regex {what} is too ")), "{msg:.300}");
    assert!(msg.contains("(limit "), "{msg:.300}");
    assert!(
        msg.len() < 400,
        "the pattern must not be echoed: {msg:.400}"
    );
}

#[test]
fn matcher_regex_bombs_are_refused_before_the_parser_compiles_them() {
    for bomb in bombs() {
        for q in [
            format!(r#"up{{job=~"{bomb}"}}"#),
            format!(r#"sum(rate(up{{job!~'{bomb}'}}[5m]))"#),
            format!("up{{job =~ `{bomb}`}}"),
        ] {
            let e = parse_query(&q).unwrap_err();
            assert_eq!(e.error_type(), "bad_data");
            assert_limit_error(&e, "for label \"job\"");
            assert_limit_error(&format_query(&q).unwrap_err(), "for label \"job\"");
            assert_limit_error(
                &instant(EngineOptions::default(), &q).unwrap_err(),
                "for label \"job\"",
            );
        }
        let e = parse_metric_selector(&format!(r#"{{"my.label"=~"{bomb}"}}"#)).unwrap_err();
        assert_limit_error(&e, "for label \"my.label\"");
        // Also with experimental syntax the engine rewrites before parsing again.
        let q = format!(r#"increase(up{{job=~"{bomb}"}}[1m] anchored)"#);
        assert_limit_error(
            &instant(EngineOptions::default(), &q).unwrap_err(),
            "for label \"job\"",
        );
    }
}

#[test]
fn the_guard_position_points_at_the_pattern() {
    let q = r#"up{a="b", job=~"(a{1000}){1000}"}"#;
    match parse_query(q).unwrap_err() {
        QueryError::Parse { position, .. } => assert_eq!(&q[position..position + 2], "\"("),
        other => panic!("{other:?}"),
    }
}

#[test]
fn ordinary_regexes_and_strings_that_look_like_matchers_still_work() {
    let out = instant(EngineOptions::default(), r#"up{job=~"no.*|x"}"#).unwrap();
    assert!(matches!(out.value, Value::Vector(v) if v.len() == 1));
    // `=~` inside strings and comments is not a matcher.
    parse_query("label_replace(up, \"a\", \"=~\", \"job\", \"(.*)\") # x=~\"(a{1000}){1000}\"\n")
        .unwrap();
    parse_query(r#"up{job="=~(a{1000}){1000}"}"#).unwrap();
}

#[test]
fn the_scanner_finds_each_matcher_with_its_label() {
    let q =
        "sum(up{a=\"x\", b =~ \"p1\", \"c.d\"!~'p2'}) # e=~\"no\"\n + on() x{f=~`p\\3`, g=\"=~\"}";
    let found: Vec<(&str, &str)> = regex_matchers(q)
        .iter()
        .map(|m| (m.label, m.quoted))
        .collect();
    assert_eq!(
        found,
        vec![("b", "\"p1\""), ("c.d", "'p2'"), ("f", "`p\\3`")]
    );
}

#[test]
fn label_replace_refuses_a_regex_bomb() {
    for bomb in bombs() {
        let q = format!(r#"label_replace(up, "d", "$1", "job", "{bomb}")"#);
        let e = instant(EngineOptions::default(), &q).unwrap_err();
        assert_eq!(e.error_type(), "execution");
        assert_limit_error(&e, "in label_replace()");
    }
    let q = r#"label_replace(up, "d", "<$1>", "job", "n(o)de")"#;
    let out = instant(EngineOptions::default(), q).unwrap();
    let Value::Vector(v) = out.value else {
        panic!()
    };
    assert_eq!(v[0].labels.get("d"), Some("<o>"));
}

#[test]
fn label_functions_charge_the_bytes_they_add_to_the_samples_budget() {
    let small = EngineOptions {
        max_samples: 1000,
        ..EngineOptions::default()
    };
    // 100 copies of a 1000-byte value: 100 kB of new label, 6250 samples at 16 bytes each.
    let many = vec!["\"long\""; 100].join(", ");
    let join = format!(r#"label_join(up, "d", "", {many})"#);
    let e = instant(small.clone(), &join).unwrap_err();
    assert!(matches!(e, QueryError::TooManySamples { .. }), "{e}");
    let out = instant(EngineOptions::default(), &join).unwrap();
    let Value::Vector(v) = out.value else {
        panic!()
    };
    assert_eq!(v[0].labels.get("d").map(str::len), Some(100_000));
    assert!(out.stats.peak_samples >= 6250, "{:?}", out.stats);

    let replace = format!(
        r#"label_replace(up, "d", "{}", "long", "(.*)")"#,
        "$1".repeat(100)
    );
    let e = instant(small.clone(), &replace).unwrap_err();
    assert!(matches!(e, QueryError::TooManySamples { .. }), "{e}");
    let out = instant(EngineOptions::default(), &replace).unwrap();
    let Value::Vector(v) = out.value else {
        panic!()
    };
    assert_eq!(v[0].labels.get("d").map(str::len), Some(100_000));
    // Copies and small rewrites cost nothing extra.
    instant(
        small.clone(),
        r#"label_replace(up, "d", "$1", "long", "(.*)")"#,
    )
    .unwrap();
    instant(small, r#"label_join(up, "d", "-", "job", "job")"#).unwrap();
}

#[test]
fn info_joins_on_more_values_than_a_client_regex_may_hold() {
    let s = MemStorage::new();
    let mut a = s.appender();
    let n = 4000;
    for i in 0..n {
        let instance = format!("host-{i}.example.org:9100");
        let up =
            Labels::from_pairs(&[("__name__", "up"), ("instance", &instance), ("job", "node")])
                .unwrap();
        let info = Labels::from_pairs(&[
            ("__name__", "target_info"),
            ("instance", &instance),
            ("job", "node"),
            ("version", "1"),
        ])
        .unwrap();
        a.append(&up, 0, 1.0).unwrap();
        a.append(&info, 0, 1.0).unwrap();
    }
    a.commit().unwrap();
    // The values joined on, escaped and joined with `|`, are longer than a client's regex may be.
    assert!(
        n * r"host-0000\.example\.org:9100|".len() > lookout_model::regex_limits::MAX_PATTERN_BYTES
    );
    let out = Engine::default()
        .instant_query(&s, "info(up)", 0, &QueryContext::default())
        .unwrap();
    let Value::Vector(v) = out.value else {
        panic!()
    };
    assert_eq!(v.len(), n);
    assert!(v.iter().all(|s| s.labels.get("version") == Some("1")));
}
