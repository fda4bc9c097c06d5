//! Prometheus's query, string and link functions, and the closure plumbing behind `query`, `now`,
//! `externalURL` and `pathPrefix`. Expected outputs follow Prometheus's template_test.go.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{list, prom_check, prom_check_err, prom_render_with};
use crate::{Functions, PromContext, QuerySample, Template, Value};

fn sample(labels: &[(&str, &str)], value: f64) -> QuerySample {
    QuerySample {
        labels: labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        value,
    }
}

fn render_q(src: &str, samples: Vec<QuerySample>) -> Result<String, String> {
    prom_render_with(src, &Value::Nil, samples)
}

#[test]
fn query_results_read_through_helpers_and_fields() {
    let one = || vec![sample(&[("__name__", "metric"), ("instance", "a")], 11.0)];
    let cases = [
        ("{{ query \"metric{instance='a'}\" | first | value }}", "11"),
        (
            "{{ query \"metric{instance='a'}\" | first | label \"instance\" }}",
            "a",
        ),
        (
            "{{ query \"metric{instance='a'}\" | first | label \"foo\" }}",
            "",
        ),
        (
            "{{ $x := query \"metric\" | first }}{{ $x.Labels.foo }}",
            "",
        ),
        (
            "{{ with query \"metric\" }}{{ . | first | value | humanize }}{{ end }}",
            "11",
        ),
        ("{{ (query \"m\" | first).Labels.instance }}", "a"),
        ("{{ len (query \"m\") }}", "1"),
    ];
    for (src, want) in cases {
        assert_eq!(render_q(src, one()).as_deref(), Ok(want), "{src}");
    }
    assert_eq!(
        render_q(
            "{{ query \"1.5\" | first | value }}",
            vec![sample(&[], 1.5)]
        )
        .as_deref(),
        Ok("1.5")
    );
    assert_eq!(
        render_q(
            "{{ query \"metric{__value__='a'}\" | first | strvalue }}",
            vec![sample(&[("__value__", "a")], 11.0)]
        )
        .as_deref(),
        Ok("a")
    );
}

#[test]
fn range_over_sorted_query_results() {
    let samples = vec![
        sample(&[("__name__", "metric"), ("instance", "b")], 21.0),
        sample(&[("__name__", "metric"), ("instance", "a")], 11.0),
        sample(
            &[("__name__", "metric"), ("instance", "a"), ("x", "2")],
            12.0,
        ),
    ];
    assert_eq!(
        render_q(
            "{{ range query \"metric\" | sortByLabel \"instance\" }}{{.Labels.instance}}:{{.Value}}: {{end}}",
            samples.clone()
        )
        .as_deref(),
        Ok("a:11: a:12: b:21: ")
    );
    // Stable, and a missing label sorts as "".
    assert_eq!(
        render_q(
            "{{ range sortByLabel \"x\" (query \"m\") }}{{ .Value }} {{ end }}",
            samples
        )
        .as_deref(),
        Ok("21 11 12 ")
    );
}

#[test]
fn query_errors() {
    let err = render_q("{{ query \"missing\" | first }}", vec![]).unwrap_err();
    assert!(
        err.contains("error calling first: first() called on vector with no elements"),
        "{err}"
    );
    let err = render_q("{{ (query \"missing\").banana }}", vec![]).unwrap_err();
    assert!(err.contains("can't evaluate field banana"), "{err}");

    // The engine's error becomes the template's.
    let funcs = Functions::prometheus(
        PromContext::default().with_query(|expr| Err(format!("parse error in {expr:?}"))),
    );
    let t = Template::parse("{{ query \"up{\" }}", &funcs).unwrap();
    let err = t.render(&Value::Nil, &funcs).unwrap_err();
    assert!(
        err.message
            .contains("error calling query: parse error in \"up{\""),
        "{}",
        err.message
    );

    // Without an engine, `query` parses (promtool) but fails to run.
    let funcs = Functions::prometheus(PromContext::new("", 0));
    let t = Template::parse("{{ query \"up\" }}", &funcs).unwrap();
    let err = t.render(&Value::Nil, &funcs).unwrap_err();
    assert!(
        err.message.contains("error calling query: no query engine"),
        "{}",
        err.message
    );
}

#[test]
fn closures_see_the_callers_context() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let ctx = PromContext::new("https://example.com/prom/", 0)
        .with_eval_time_ns(1_500_999_999)
        .with_query(move |expr| {
            seen.fetch_add(1, Ordering::SeqCst);
            Ok(vec![QuerySample {
                labels: BTreeMap::from([("q".to_owned(), expr.to_owned())]),
                value: 1.0,
            }])
        });
    let funcs = Functions::prometheus(ctx);
    // Clones share the table and the closures.
    let copy = funcs.clone();
    let t = Template::parse(
        "{{ now }} {{ externalURL }} {{ pathPrefix }} {{ (query \"up\" | first).Labels.q }}",
        &funcs,
    )
    .unwrap();
    assert_eq!(
        t.render(&Value::Nil, &copy).unwrap(),
        "1.5 https://example.com/prom/ /prom/ up"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    fn send_sync<T: Send + Sync>(_: &T) {}
    send_sync(&funcs);

    let shout = Functions::builtin().with_closure("shout", {
        let suffix = "!".repeat(3);
        move |args| Ok(Value::Str(format!("{}{suffix}", args[0])))
    });
    let t = Template::parse("{{ \"hi\" | shout }}", &shout).unwrap();
    assert_eq!(t.render(&Value::Nil, &shout).unwrap(), "hi!!!");
}

#[test]
fn urls_and_links() {
    prom_check("{{ pathPrefix }}", &Value::Nil, "/path/prefix");
    prom_check(
        "{{ externalURL }}",
        &Value::Nil,
        "http://testhost:9090/path/prefix",
    );
    prom_check(
        "{{ graphLink \"up\" }}",
        &Value::Nil,
        "/graph?g0.expr=up&g0.tab=0",
    );
    prom_check(
        "{{ tableLink \"up\" }}",
        &Value::Nil,
        "/graph?g0.expr=up&g0.tab=1",
    );
    prom_check(
        "{{ graphLink \"rate(x{a=\\\"b c\\\"}[5m])\" }}",
        &Value::Nil,
        "/graph?g0.expr=rate%28x%7Ba%3D%22b+c%22%7D%5B5m%5D%29&g0.tab=0",
    );
    prom_check(
        "{{ urlQueryEscape \"a b&c/é\" }}",
        &Value::Nil,
        "a+b%26c%2F%C3%A9",
    );
    for (url, prefix) in [
        ("", ""),
        ("http://host", ""),
        ("http://host:9090/", "/"),
        ("https://host/a%20b/c?x=1#f", "/a b/c"),
        ("/relative/path", "/relative/path"),
    ] {
        let funcs = Functions::prometheus(PromContext::new(url, 0));
        let t = Template::parse("{{ pathPrefix }}", &funcs).unwrap();
        assert_eq!(t.render(&Value::Nil, &funcs).unwrap(), prefix, "{url}");
    }
}

#[test]
fn case_functions() {
    prom_check("{{ \"aa bb CC\" | title }}", &Value::Nil, "Aa Bb CC");
    prom_check("{{ \"aa bb CC\" | toUpper }}", &Value::Nil, "AA BB CC");
    prom_check("{{ \"aA bB CC\" | toLower }}", &Value::Nil, "aa bb cc");
    // x/text's word breaking: `-` and spaces break, `_` and digits join, one `.`/`'`/`:` joins.
    for (input, want) in [
        ("o'neil is here", "O'neil Is Here"),
        ("foo-bar_baz.qux", "Foo-Bar_baz.qux"),
        ("hello..world", "Hello..World"),
        ("node_exporter:9100 down", "Node_exporter:9100 Down"),
        ("1st place", "1St Place"),
        ("ǆemal straße", "ǅemal Straße"),
        ("ßa ﬁx", "Ssa Fix"),
        ("élan ÉTÉ", "Élan ÉTÉ"),
        ("", ""),
    ] {
        prom_check(&format!("{{{{ title {input:?} }}}}"), &Value::Nil, want);
    }
    // Go's simple case mappings: one character for one.
    prom_check(
        "{{ toUpper \"straße ǆ\" }} {{ toLower \"İSTANBUL ΣΑΣ\" }}",
        &Value::Nil,
        "STRAßE Ǆ istanbul σασ",
    );
}

#[test]
fn regex_functions() {
    prom_check(
        "{{ match \"a+\" \"aa\" }} {{ match \"a+\" \"b\" }} {{ match \"^b\" \"ab\" }}",
        &Value::Nil,
        "true false false",
    );
    prom_check(
        "{{ reReplaceAll \"(a)b\" \"x$1\" \"ab\" }}",
        &Value::Nil,
        "xa",
    );
    prom_check(
        "{{ reReplaceAll \"(?P<host>[^:]+):(\\\\d+)\" \"${host} port $2, $$\" \"web:80\" }}",
        &Value::Nil,
        "web port 80, $",
    );
    prom_check(
        "{{ $labels := . }}{{ reReplaceAll \"^(.*?)\\\\..*$\" \"$1\" $labels.instance }}",
        &[("instance", "node1.example.com:9100")]
            .into_iter()
            .collect(),
        "node1",
    );
    // Go skips an empty match right after a match.
    prom_check(
        "{{ reReplaceAll \"a*\" \"-\" \"baaac\" }}|{{ reReplaceAll \"x*\" \"-\" \"\" }}|{{ reReplaceAll \"\" \"-\" \"é\" }}",
        &Value::Nil,
        "-b-c-|-|-é-",
    );
    prom_check_err(
        "{{ match \"(\" \"x\" }}",
        &Value::Nil,
        "error calling match: error parsing regexp",
    );
    prom_check_err(
        "{{ reReplaceAll \"(\" \"x\" \"y\" }}",
        &Value::Nil,
        "error calling reReplaceAll: regexp: Compile(\"(\"): error parsing regexp",
    );
}

#[test]
fn strip_port() {
    for (input, want) in [
        ("foo.example.com", "foo.example.com"),
        ("foo.example.com:12345", "foo.example.com"),
        ("192.0.2.1", "192.0.2.1"),
        ("192.0.2.1:12345", "192.0.2.1"),
        ("2001:0DB8::1", "2001:0DB8::1"),
        ("[2001:0DB8::1]:12345", "2001:0DB8::1"),
        ("[2001:0DB8::1]::12345", "[2001:0DB8::1]::12345"),
        ("host:", "host"),
        (":80", ""),
        ("[host]", "[host]"),
        ("a]:80", "a]:80"),
        ("", ""),
    ] {
        prom_check(
            &format!("{{{{ {input:?} | stripPort }}}}"),
            &Value::Nil,
            want,
        );
    }
}

#[test]
fn strip_domain() {
    for (input, want) in [
        ("foo.example.com", "foo"),
        ("foo.example.com:12345", "foo:12345"),
        ("192.0.2.1", "192.0.2.1"),
        ("192.0.2.1:12345", "192.0.2.1:12345"),
        ("2001:0DB8::1", "2001:0DB8::1"),
        ("[2001:0DB8::1]:12345", "[2001:0DB8::1]:12345"),
        ("[2001:0DB8::1]::12345", "[2001:0DB8::1]::12345"),
        ("localhost", "localhost"),
        ("[a:b.c]:80", "[a:b]:80"),
    ] {
        prom_check(
            &format!("{{{{ {input:?} | stripDomain }}}}"),
            &Value::Nil,
            want,
        );
    }
}

#[test]
fn args_and_safe_html() {
    prom_check(
        "{{ $a := args 1 \"2\" }}{{ $a.arg0 }} {{ $a.arg1 }} {{ len (args) }}",
        &Value::Nil,
        "1 2 0",
    );
    prom_check("{{ \"<b>\" | safeHtml }}", &Value::Nil, "<b>");
    prom_check("{{ \"<b>\" }}", &Value::Nil, "<b>");
}

#[test]
fn go_basics_under_prometheus_functions() {
    prom_check("plain text", &Value::Nil, "plain text");
    prom_check("{{ 1 }}", &Value::Nil, "1");
    // Prometheus's test data is nil here: a field of nil prints <no value>.
    prom_check("{{ .Foo }}", &Value::Nil, "<no value>");
    prom_check_err("{{", &Value::Nil, "unclosed action");
    prom_check_err(
        "{{ upper \"x\" }}",
        &Value::Nil,
        "function \"upper\" not defined",
    );
    prom_check(
        "{{ range . }}{{ . }} {{ end }}",
        &list([1.0, 0.5, 1e6, 1e21, 1e-5, f64::NAN, f64::NEG_INFINITY]),
        "1 0.5 1e+06 1e+21 1e-05 NaN -Inf ",
    );
}
