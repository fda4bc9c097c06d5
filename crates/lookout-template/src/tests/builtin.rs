//! Go's builtin functions.

use super::{check, check_err};

#[test]
fn comparisons() {
    check(
        "{{ eq 1 1 }} {{ eq \"a\" \"b\" \"a\" }} {{ eq .status \"200\" }} {{ eq .missing \"\" }}",
        "true true true true",
    );
    check(
        "{{ eq 1.5 1.5 }} {{ eq true false }} {{ eq nil nil }} {{ eq .none \"x\" }}",
        "true false true false",
    );
    check("{{ eq __timestamp__ __timestamp__ }}", "true");
    check("{{ ne 1 2 }} {{ ne \"a\" \"a\" }}", "true false");
    check(
        "{{ lt 1 2 }} {{ le 2 2 }} {{ gt 3 2 }} {{ ge 1 2 }}",
        "true true true false",
    );
    check(
        "{{ lt \"a\" \"b\" }} {{ lt 1.5 2.5 }} {{ gt \"b\" \"a\" }}",
        "true true true",
    );
    check_err(
        "{{ eq 1 \"1\" }}",
        "error calling eq: incompatible types for comparison",
    );
    check_err("{{ eq .status 200 }}", "incompatible types for comparison");
    check_err("{{ lt 1 1.5 }}", "incompatible types for comparison");
    check_err("{{ lt true false }}", "invalid type for comparison");
    check_err("{{ eq .list .list }}", "non-comparable type");
    check_err("{{ eq 1 }}", "missing argument for comparison");
    check_err("{{ lt 1 }}", "wrong number of args: want 2 got 1");
}

#[test]
fn not_len_index() {
    check(
        "{{ not \"\" }} {{ not 1 }} {{ not .list }}",
        "true false false",
    );
    check(
        "{{ len \"héllo\" }} {{ len .list }} {{ len .nested }}",
        "6 3 1",
    );
    check_err("{{ len 3 }}", "len of type int");
    check_err("{{ len .none }}", "len of nil");
    check(
        "{{ index .list 1 }} {{ index .nested \"inner\" \"leaf\" }} {{ index \"abc\" 0 }}",
        "b deep 97",
    );
    check("[{{ index .nested \"nope\" }}]", "[]");
    check("{{ index (fromJson .json) \"list\" 1 }}", "x");
    check_err("{{ index .list 5 }}", "index out of range: 5");
    check_err("{{ index .list -1 }}", "index out of range: -1");
    check_err("{{ index .none 1 }}", "index of untyped nil");
    check_err("{{ index 5 1 }}", "can't index item of type int");
    check_err("{{ index .nested 1 }}", "should be string");
}

#[test]
fn escapers() {
    check(
        "{{ html \"<a href='x'>&\\\"\" }}",
        "&lt;a href=&#39;x&#39;&gt;&amp;&#34;",
    );
    check(
        "{{ js \"a'b\\\"<>&=\\\\\\n\" }}",
        "a\\'b\\\"\\u003C\\u003E\\u0026\\u003D\\\\\\u000A",
    );
    check("{{ js \"é\" }}", "é");
    check("{{ urlquery \"a b&c=d/é\" }}", "a+b%26c%3Dd%2F%C3%A9");
    check("{{ urlquery \"a\" 1 }}", "a1");
    check("{{ html 1 2 }}", "1 2");
}
