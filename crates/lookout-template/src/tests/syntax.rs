//! Lexing and parsing: literals, trim markers, comments, and parse errors with their positions.

use super::{check, check_err, try_render};
use crate::{Functions, Template};

fn parse_err(src: &str) -> String {
    match Template::parse(src, &Functions::loki()) {
        Ok(_) => panic!("{src:?} parsed"),
        Err(e) => e.message,
    }
}

#[test]
fn parse_errors_carry_line_and_column() {
    assert_eq!(
        parse_err("{{ foo }}"),
        "template: 1:4: function \"foo\" not defined"
    );
    assert_eq!(
        parse_err("line one\nab {{ .a | bar }}"),
        "template: 2:12: function \"bar\" not defined"
    );
    assert_eq!(
        parse_err("{{ $x }}"),
        "template: 1:4: undefined variable \"$x\""
    );
    assert_eq!(
        parse_err("é{{ \"x }}"),
        "template: 1:5: unterminated quoted string"
    );
}

#[test]
fn parse_errors_match_go() {
    for (src, want) in [
        ("{{ .a", "unclosed action"),
        ("{{", "unclosed action"),
        ("x {{ if .a }}y", "unexpected EOF"),
        ("{{ if .a }}{{ else }}", "unexpected EOF"),
        ("{{ end }}", "unexpected {{end}}"),
        ("{{ else }}", "unexpected {{else}}"),
        (
            "{{ if 1 }}{{ else }}{{ else }}{{ end }}",
            "expected end; found {{else}}",
        ),
        ("{{ `raw }}", "unterminated raw quoted string"),
        ("{{ 'ab' }}", "malformed character constant"),
        ("{{ 'a }}", "unterminated character constant"),
        ("{{ \"\\q\" }}", "invalid syntax"),
        (
            "{{ .a | \"x\" }}",
            "non executable command in pipeline stage 2",
        ),
        (
            "{{ $x := 1 }}{{ $x 2 }}",
            "can't give argument to non-function $x",
        ),
        ("{{ nil }}", "nil is not a command"),
        ("{{ }}", "missing value for command"),
        ("{{ if }}{{ end }}", "missing value for if"),
        ("{{ range }}{{ end }}", "missing value for range"),
        ("{{ 1 | }}", "missing value for command"),
        ("{{ break }}", "{{break}} outside {{range}}"),
        (
            "{{ if 1 }}{{ continue }}{{ end }}",
            "{{continue}} outside {{range}}",
        ),
        ("{{ define \"x\" }}{{ end }}", "{{define}} is not supported"),
        ("{{ template \"x\" }}", "{{template}} is not supported"),
        ("{{ (1 }}", "unclosed left paren"),
        ("{{ 1) }}", "unexpected right paren"),
        ("{{ 3abc }}", "bad number syntax"),
        ("{{ 1e400 }}", "illegal number syntax"),
        ("{{ 99999999999999999999 }}", "overflows int"),
        ("{{ \"a\"\"b\" }}", "in operand"),
        ("{{ upper(\"a\") }}", "in operand"),
        ("{{/* x }}", "unclosed comment"),
        ("{{/* x */ .a }}", "comment ends before closing delimiter"),
        ("{{ \"x\".a }}", "unexpected . after term"),
        ("{{ ..a }}", "unexpected . after term"),
        ("{{ $x, $y := 1 }}", "too many declarations"),
        (
            "{{ range $a, $b, $c := .list }}{{ end }}",
            "too many declarations",
        ),
        (
            "{{ range $a, 1 := .list }}{{ end }}",
            "range can only initialize variables",
        ),
        ("{{ $x = 1 }}", "undefined variable \"$x\""),
        (
            "{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}",
            "undefined variable \"$y\"",
        ),
        ("{{ $x := $x }}", "undefined variable \"$x\""),
        ("{{ @ }}", "unrecognized character in action"),
        ("{{ a: }}", "expected :="),
        ("{{ .a\"x\" }}", "bad character"),
    ] {
        check_err(src, want);
    }
}

#[test]
fn literals_follow_go() {
    check(r#"{{ "a\tb\u00e9\x41\101\\\"" }}"#, "a\tbéAA\\\"");
    check("{{ `a\\n\"b` }}", "a\\n\"b");
    check("{{ `a\r\nb` }}", "a\nb");
    check("{{ 'a' }} {{ '\\n' }} {{ '\\'' }}", "97 10 39");
    check(
        "{{ 0x1F }} {{ 0o17 }} {{ 017 }} {{ 0b101 }} {{ 1_000 }} {{ 08 }}",
        "31 15 15 5 1000 8",
    );
    check(
        "{{ 1.5 }} {{ 1e3 }} {{ -2 }} {{ +3 }} {{ .5 }} {{ 1.0 }}",
        "1.5 1000 -2 3 0.5 1",
    );
    check(
        "{{ 1e6 }} {{ 123456.0 }} {{ 1e21 }} {{ 0.0001 }} {{ 0.00001 }}",
        "1e+06 123456 1e+21 0.0001 1e-05",
    );
    check("{{ true }} {{ false }} {{ print nil }}", "true false <nil>");
    check("{{ -9223372036854775808 }}", "-9223372036854775808");
}

#[test]
fn trim_markers_and_comments() {
    check("a  {{- .app -}}  b", "aapib");
    check("a \n\t{{- .app }} b", "aapi b");
    check("{{ .app -}}\n\n  x", "apix");
    check("a {{- /* comment */ -}} b", "ab");
    check("{{/* a\nmultiline comment */}}x", "x");
    check("a {{/* c */}} b", "a  b");
    // "{{-3}}" is the number -3, not a trim marker.
    check("a {{-3}}", "a -3");
    check("a {{ 3 }}-}}", "a 3-}}");
    check("{{- .app -}}", "api");
}

#[test]
fn actions_may_span_lines() {
    check("{{ if\n  eq .app \"api\"\n}}yes{{ end }}", "yes");
}

#[test]
fn text_without_actions_is_copied() {
    check("", "");
    check("plain } { text", "plain } { text");
    check("unicode ✓ text", "unicode ✓ text");
    assert_eq!(try_render("}}").unwrap(), "}}");
}
