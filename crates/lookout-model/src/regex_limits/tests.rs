use super::*;

/// Patterns whose compiled form explodes; each must be refused for its size, not compiled.
pub(crate) fn bombs() -> Vec<String> {
    vec![
        "(((a{100}){100}){100})".to_string(),
        "(a{1000}){1000}".to_string(),
        ".{65535}".to_string(),
        "(.{65535}){3}".to_string(),
        "[\\p{L}]{5000}".to_string(),
        "a".repeat(1 << 20),
    ]
}

#[test]
fn bombs_are_refused_for_their_size() {
    for p in bombs() {
        for result in [bounded_regex(&p), bounded_anchored_regex(&p)] {
            let err = result.expect_err("a regex bomb must not compile");
            assert!(err.is_limit(), "{err}");
            let msg = err.describe("for label \"job\"");
            assert!(msg.starts_with("regex for label \"job\" is too "), "{msg}");
            assert!(msg.contains("(limit "), "{msg}");
            assert!(
                msg.len() < 300,
                "the message must not echo the pattern: {msg}"
            );
        }
    }
}

#[test]
fn the_length_limit_is_exact_and_reported() {
    let at_limit = "a".repeat(MAX_PATTERN_BYTES);
    assert!(
        bounded_anchored_regex(&at_limit)
            .unwrap()
            .is_match(&at_limit)
    );
    let over = "a".repeat(MAX_PATTERN_BYTES + 1);
    assert_eq!(
        bounded_regex(&over).unwrap_err(),
        RegexError::TooLong {
            len: MAX_PATTERN_BYTES + 1,
            limit: MAX_PATTERN_BYTES
        }
    );
    assert!(check_length(&over).is_err());
    assert!(check_length(&at_limit).is_ok());
}

#[test]
fn ordinary_patterns_compile_with_their_usual_meaning() {
    let re = bounded_anchored_regex("fo+|ba[rz]").unwrap();
    assert!(re.is_match("foo") && re.is_match("baz") && !re.is_match("xfoo"));
    assert!(bounded_anchored_regex("a.b").unwrap().is_match("a\nb"));
    let unanchored = bounded_regex("err(or)?").unwrap();
    assert!(unanchored.is_match("an error here"));
    // Large but reasonable: a long alternation and a repetition in the thousands.
    let hosts: Vec<String> = (0..2000).map(|i| format!("host-{i}.example.org")).collect();
    let alternation = hosts.join("|");
    assert!(alternation.len() < MAX_PATTERN_BYTES);
    let re = bounded_anchored_regex(&alternation).unwrap();
    assert!(re.is_match("host-1999.example.org") && !re.is_match("host-2000.example.org"));
    assert!(bounded_regex("x{1000}").is_ok());
}

#[test]
fn syntax_errors_are_not_limits_and_keep_the_compiler_message() {
    let err = bounded_regex("(").unwrap_err();
    assert!(!err.is_limit());
    assert!(
        matches!(&err, RegexError::Invalid(m) if m.contains("unclosed group")),
        "{err}"
    );
}

#[test]
fn refusals_are_counted_and_exposed() {
    let before = refused_total();
    let _ = bounded_regex("(a{1000}){1000}");
    let _ = bounded_regex("(");
    // Other tests refuse patterns concurrently: the counter grows by at least this test's one refusal.
    assert!(refused_total() > before);
    let mut out = MetricsWriter::new();
    write_metrics(&mut out);
    let text = out.finish();
    assert!(
        text.contains("# TYPE lookout_regex_refused_total counter"),
        "{text}"
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("lookout_regex_refused_total "))
        .unwrap();
    let n: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(n > before, "{text}");
}
