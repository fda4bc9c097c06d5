//! Hostile templates: truncated input, deep nesting, huge counts and widths, runaway loops. Each must
//! end in an error (or output), never a panic, a stack overflow or an unbounded allocation.

use super::{check, check_err, data, try_render};
use crate::{Functions, MAX_NESTING, MAX_OUTPUT_BYTES, Template};

const COMPLEX: &str = r#"a {{- /* c */ -}} b{{ $x := .app | upper }}{{ if and (eq .status "200") (contains "a" $x) }}{{ range $i, $v := fromJson .queries }}{{ $i }}:{{ printf "%-5.2s|%q" $v.query `raw` }}{{ else }}none{{ end }}{{ else if .yes }}{{ with $y := 'a' }}{{ $y }}{{ end }}{{ end }}{{ "\u00e9\x41" | trunc -1 }} {{ 0x1F }} {{ -1.5e3 }}"#;

#[test]
fn every_prefix_of_a_template_fails_cleanly() {
    let funcs = Functions::loki();
    let d = data();
    let mut ok = 0;
    for (i, _) in COMPLEX.char_indices() {
        if let Ok(t) = Template::parse(&COMPLEX[..i], &funcs) {
            let _ = t.render(&d, &funcs);
            ok += 1;
        }
    }
    assert!(ok > 0);
    assert!(try_render(COMPLEX).is_ok(), "{:?}", try_render(COMPLEX));
}

#[test]
fn scrambled_templates_never_panic() {
    // A fixed pseudo-random mix of template fragments; any panic fails the test.
    let frags = [
        "{{",
        "}}",
        "{{-",
        "-}}",
        " ",
        ".",
        ".app",
        "$",
        "$x",
        ":=",
        "=",
        "|",
        "(",
        ")",
        "\"",
        "`",
        "'",
        "if",
        "else",
        "end",
        "range",
        "with",
        "break",
        "printf",
        "\"%d\"",
        "1",
        "-",
        "0x",
        "/*",
        "*/",
        ",",
        "upper",
        "nil",
        "\\",
        "\n",
        "é",
        "index",
        "repeat",
        "9999999999",
        "%",
        "e",
        "}",
        "{",
        "fromJson",
        "\"[[1]]\"",
        "date",
        "toDate",
        "\"2006-01-02 15:04:05.999 Z07:00 MST Jan Monday _2 002 PM\"",
        "\"2021-11-02\"",
        "%*.*x",
        "$i, $v",
        "0o",
        "_",
        "1e",
        "+",
        "range 5",
        "__timestamp__",
        "__line__",
        "and",
        "or",
        "(print)",
        "\"\\u00e9\"",
        "'é'",
        "=",
        ".Unix",
        ".Format",
        ".Add",
        ".nested.inner",
        "query",
        "first",
        "toTime",
        "toDuration",
        "humanize",
        "sortByLabel",
    ];
    let sample = crate::QuerySample {
        labels: [("instance".to_owned(), "a".to_owned())].into(),
        value: 1.0,
    };
    let prom = Functions::prometheus(
        crate::PromContext::new("", 0).with_query(move |_| Ok(vec![sample.clone()])),
    );
    let d = data();
    for funcs in [Functions::loki(), prom] {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let mut src = String::new();
            for _ in 0..(seed % 40) {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                src.push_str(frags[(seed >> 33) as usize % frags.len()]);
            }
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            if let Ok(t) = Template::parse(&src, &funcs) {
                let _ = t.render(&d, &funcs);
            }
        }
    }
}

#[test]
fn nesting_is_bounded() {
    let deep_if = format!(
        "{}x{}",
        "{{ if true }}".repeat(100_000),
        "{{ end }}".repeat(100_000)
    );
    check_err(&deep_if, "nesting exceeds the limit of 100 levels");
    let deep_paren = format!("{{{{ {}1{} }}}}", "(".repeat(100_000), ")".repeat(100_000));
    check_err(&deep_paren, "nesting exceeds the limit");
    let deep_range = format!(
        "{}x{}",
        "{{ range .list }}".repeat(1_000),
        "{{ end }}".repeat(1_000)
    );
    check_err(&deep_range, "nesting exceeds the limit");
    // Exactly at the limit still works.
    let at_limit = format!(
        "{}x{}",
        "{{ if true }}".repeat(MAX_NESTING),
        "{{ end }}".repeat(MAX_NESTING)
    );
    check(&at_limit, "x");
    let parens = format!(
        "{{{{ {}1{} }}}}",
        "(".repeat(MAX_NESTING),
        ")".repeat(MAX_NESTING)
    );
    check(&parens, "1");
    let unclosed = "{{ if true }}".repeat(10_000);
    check_err(&unclosed, "nesting exceeds the limit");
}

#[test]
fn deep_json_is_bounded() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let src = format!("{{{{ fromJson \"{deep}\" }}}}");
    check(&src, "<no value>");
    let ok = format!("{}1{}", "[".repeat(100), "]".repeat(100));
    check(
        &format!("{{{{ fromJson \"{ok}\" }}}}"),
        &format!("{}1{}", "[".repeat(100), "]".repeat(100)),
    );
}

#[test]
fn output_size_is_bounded() {
    check_err(
        "{{ repeat 1000000000 \"x\" }}",
        "error calling repeat: result of 1000000000 bytes exceeds the limit of 1048576 bytes",
    );
    check_err(
        "{{ repeat 9223372036854775807 \"ab\" }}",
        "exceeds the limit",
    );
    assert_eq!(
        try_render(&format!("{{{{ repeat {MAX_OUTPUT_BYTES} \"x\" }}}}"))
            .unwrap()
            .len(),
        MAX_OUTPUT_BYTES
    );
    check_err(
        &format!("{{{{ repeat {} \"x\" }}}}", MAX_OUTPUT_BYTES + 1),
        "exceeds the limit",
    );
    check_err(
        "{{ range 2000 }}{{ repeat 1000 \"x\" }}{{ end }}",
        "output exceeds the limit of 1048576 bytes",
    );
    check_err(
        "{{ $x := repeat 600000 \"x\" }}{{ print $x $x }}",
        "error calling print: result exceeds the limit",
    );
    check_err(
        "{{ printf \"%2000000d\" 1 }}",
        "width or precision 2000000 exceeds the limit",
    );
    check_err("{{ printf \"%.*f\" 2000000 1.0 }}", "exceeds the limit");
    check_err(
        "{{ indent 9223372036854775807 \"a\" }}",
        "exceeds the limit",
    );
    check_err(
        "{{ alignLeft 9223372036854775807 \"a\" }}",
        "exceeds the limit",
    );
    check_err(
        "{{ $x := repeat 2000 \"a\" }}{{ replace \"\" $x $x }}",
        "exceeds the limit",
    );
    check_err(
        "{{ $x := repeat 2000 \"a\" }}{{ regexReplaceAll \"\" $x $x }}",
        "exceeds the limit",
    );
    check("{{ repeat 9223372036854775807 \"\" }}|", "|");
}

#[test]
fn evaluation_steps_are_bounded() {
    check_err(
        "{{ range 1000000000 }}{{ end }}",
        "evaluation exceeds the limit of 1000000 steps",
    );
    check_err(
        "{{ range 1000 }}{{ range 1000 }}{{ range 1000 }}{{ end }}{{ end }}{{ end }}",
        "evaluation exceeds the limit",
    );
    // Producing many medium strings costs steps too.
    check_err(
        "{{ range 100000 }}{{ $x := repeat 100000 \"x\" }}{{ end }}",
        "evaluation exceeds the limit",
    );
    check("{{ range 1000 }}{{ end }}done", "done");
}

#[test]
fn extreme_numbers_do_not_panic() {
    check(
        "{{ div -9223372036854775808 -1 }} {{ mod -9223372036854775808 -1 }}",
        "-9223372036854775808 0",
    );
    check("{{ mul 9223372036854775807 2 }}", "-2");
    check("{{ round 1 400 }} {{ round 1 -400 }}", "NaN NaN");
    check(
        "{{ int \"99999999999999999999\" }} {{ int 1e300 }}",
        "0 9223372036854775807",
    );
    check(
        "{{ printf \"%.*f|%c\" -1 1.0 9999999999 }}",
        "%!(BADPREC)1.000000|\u{fffd}",
    );
    check(
        "{{ substr -9223372036854775808 9223372036854775807 \"abc\" }}",
        "abc",
    );
    check("{{ trunc 9223372036854775807 \"abc\" }}", "abc");
    check("{{ unixToTime \"-999999999\" | unixEpoch }}", "-999999999");
    check_err(
        "{{ unixToTime \"9999999999999999999\" }}",
        "unable to parse time",
    );
    check_err(
        "{{ index .list 9223372036854775807 }}",
        "index out of range",
    );
    check("{{ mulf 1e300 1e300 1e300 }}", "+Inf");
    check("{{ addf 1e-300 1e300 }}", "1e+300");
}

#[test]
fn unknown_data_shapes_are_errors_not_panics() {
    check_err("{{ range .f }}{{ end }}", "range can't iterate over 2.5");
    check_err("{{ len __timestamp__ }}", "len of type time.Time");
    check_err("{{ upper .list }}", "expected string; got []interface {}");
    check_err(
        "{{ trunc .list \"x\" }}",
        "expected int; got []interface {}",
    );
    check_err("{{ trunc \"x\" \"y\" }}", "expected int; got string \"x\"");
    check(
        "{{ upper 1.5 }} {{ lower true }} {{ trunc 2.0 \"abc\" }} {{ trunc \" 2 \" \"abc\" }}",
        "1.5 true ab ab",
    );
}

/// Values chosen to hit overflow, NaN, empty, non-ASCII and type-mismatch paths.
fn hostile_values() -> Vec<crate::Value> {
    use crate::Value;
    let mut v = vec![
        Value::Nil,
        Value::Bool(true),
        Value::Int(0),
        Value::Int(-1),
        Value::Int(7),
        Value::Int(i64::MAX),
        Value::Int(i64::MIN),
        Value::Int(1 << 20),
        Value::Float(-0.0),
        Value::Float(1.5),
        Value::Float(f64::NAN),
        Value::Float(f64::INFINITY),
        Value::Float(f64::MAX),
        Value::Float(-f64::MIN_POSITIVE),
        Value::from(""),
        Value::from("é\n%x"),
        Value::from("2006-01-02 15:04:05.000 Z07:00 MST Jan _2 002 PM"),
        Value::from("2021-11-02"),
        Value::from("1679577215"),
        Value::from("-9223372036854775808"),
        Value::from("(a*)"),
        Value::from("[["),
        Value::from("1.5h"),
        Value::from("%*.*d%!%-+# 0x%[1]q%"),
        Value::from(r#"{"a":[1,{"b":null}]}"#),
        Value::Time(0),
        Value::Time(i64::MAX),
        Value::Time(i64::MIN),
        Value::Duration(i64::MIN),
        Value::Duration(i64::MAX),
        Value::from("0x1.8p3"),
        Value::from("[::1]:80"),
    ];
    v.push(Value::List(v[..4].to_vec()));
    v.push([("k", Value::Int(1))].into_iter().collect());
    v
}

#[test]
fn every_function_survives_hostile_arguments() {
    use crate::functions::Entry;
    let funcs = Functions::loki();
    let mut names: Vec<&str> = crate::funcs::builtin::FUNCS
        .iter()
        .chain(crate::funcs::strings::FUNCS)
        .chain(crate::funcs::math::FUNCS)
        .chain(crate::funcs::date::FUNCS)
        .chain(crate::funcs::regex::FUNCS)
        .map(|(n, _)| *n)
        .collect();
    names.sort_unstable();
    for name in names {
        let Some(Entry::Func(f)) = funcs.get(name) else {
            panic!("{name} missing from Functions::loki()")
        };
        hammer(&|args| f(args));
    }
}

#[test]
fn every_prometheus_function_and_method_survives_hostile_arguments() {
    use crate::functions::Entry;
    let sample = crate::QuerySample {
        labels: [("instance".to_owned(), "a".to_owned())].into(),
        value: f64::NAN,
    };
    let funcs = Functions::prometheus(
        crate::PromContext::new("http://[::1]:9090/%zz", i64::MIN)
            .with_query(move |_| Ok(vec![sample.clone()])),
    );
    let mut names: Vec<&str> = crate::funcs::humanize::FUNCS
        .iter()
        .chain(crate::funcs::promtext::FUNCS)
        .chain(crate::funcs::samples::FUNCS)
        .map(|(n, _)| *n)
        .chain(["query", "now", "externalURL", "pathPrefix"])
        .collect();
    names.sort_unstable();
    for name in names {
        match funcs.get(name) {
            Some(Entry::Func(f)) => hammer(&|args| f(args)),
            Some(Entry::Closure(f)) => hammer(&|args| f(args)),
            _ => panic!("{name} missing from Functions::prometheus()"),
        }
    }
    let methods = [
        "String",
        "Format",
        "Unix",
        "UnixMilli",
        "UnixMicro",
        "UnixNano",
        "UTC",
        "Year",
        "Day",
        "Hour",
        "Minute",
        "Second",
        "YearDay",
        "Nanosecond",
        "Add",
        "Sub",
        "Before",
        "Truncate",
        "Round",
        "Seconds",
        "Minutes",
        "Hours",
        "Milliseconds",
        "Abs",
    ];
    for recv in hostile_values() {
        for m in methods {
            hammer(&|args| crate::methods::call(&recv, m, args).unwrap_or(Ok(crate::Value::Nil)));
        }
    }
}

/// Calls `f` with every combination of hostile arguments up to four; any panic fails the test.
fn hammer(f: &dyn Fn(&[crate::Value]) -> Result<crate::Value, String>) {
    let pool = hostile_values();
    let small = &pool[..12];
    let _ = f(&[]);
    for a in &pool {
        let _ = f(std::slice::from_ref(a));
        for b in &pool {
            let _ = f(&[a.clone(), b.clone()]);
        }
    }
    for a in small {
        for b in small {
            for c in &pool {
                let _ = f(&[a.clone(), b.clone(), c.clone()]);
                let _ = f(&[a.clone(), b.clone(), c.clone(), small[3].clone()]);
            }
        }
    }
}
