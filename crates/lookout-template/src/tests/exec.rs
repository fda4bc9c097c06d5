//! Evaluation: data access, printing, control structures, variables, pipelines.

use super::{check, check_err, data, try_render_with};
use crate::{Functions, Template, Value};

#[test]
fn data_access() {
    check("{{ .app }}", "api");
    check("{{ .missing }}|", "|");
    check("{{ .nested.inner.leaf }}", "deep");
    check("{{ .nested.missing.leaf }}|", "|");
    check("{{ .none }}", "<no value>");
    check("{{ .none.x }}", "<no value>");
    check(
        "{{ with .nested }}{{ .inner.leaf }}{{ $.app }}{{ end }}",
        "deepapi",
    );
    check("{{ $.nested.inner.leaf }}", "deep");
    check_err("{{ .app.x }}", "can't evaluate field x in type string");
    check_err(
        "{{ .list.x }}",
        "can't evaluate field x in type []interface {}",
    );
    check_err("{{ __timestamp__.x }}", "unexpected . after term");
}

#[test]
fn values_print_as_go() {
    check("{{ .n }} {{ .f }} {{ .yes }}", "3 2.5 true");
    check("{{ .list }} {{ .nums }}", "[a b c] [1 2]");
    check("{{ .nested }}", "map[inner:map[leaf:deep]]");
    check(
        "{{ __timestamp__ }}",
        "2023-03-23 13:13:35.123456789 +0000 UTC",
    );
    check(
        "{{ fromJson .json }}",
        "map[foo:55 list:[1 x true <nil>] obj:map[k:v]]",
    );
    let d: Value = [("a", "x"), ("b", "y")].into_iter().collect();
    assert_eq!(try_render_with("{{ . }}", &d).unwrap(), "map[a:x b:y]");
    assert_eq!(
        try_render_with("{{ .a }}", &Value::Nil).unwrap(),
        "<no value>"
    );
    assert_eq!(
        try_render_with("{{ . }}", &Value::Float(-0.0)).unwrap(),
        "-0"
    );
    assert_eq!(
        try_render_with("{{ . }}", &Value::Float(f64::INFINITY)).unwrap(),
        "+Inf"
    );
    assert_eq!(
        try_render_with("{{ . }}", &Value::Float(f64::NAN)).unwrap(),
        "NaN"
    );
    assert_eq!(
        try_render_with("{{ . }}", &Value::Float(1.0 / 3.0)).unwrap(),
        "0.3333333333333333"
    );
    assert_eq!(Value::Float(1e20).to_string(), "1e+20");
}

#[test]
fn if_else_chains() {
    let t = "{{ if eq .status \"500\" }}error{{ else if eq .status \"200\" }}ok{{ else }}other{{ end }}";
    check(t, "ok");
    check("{{ if .empty }}a{{ else }}b{{ end }}", "b");
    check("{{ if .missing }}a{{ else }}b{{ end }}", "b");
    check("{{ if \"0\" }}a{{ end }}", "a");
    check("{{ if 0 }}a{{ else }}b{{ end }}", "b");
    check("{{ if 0.0 }}a{{ else }}b{{ end }}", "b");
    check("{{ if .list }}a{{ end }}", "a");
    check("{{ if (fromJson \"[]\") }}a{{ else }}b{{ end }}", "b");
    check("{{ if __timestamp__ }}a{{ end }}", "a");
    check(
        "{{ if .none }}a{{ else if false }}b{{ else if 1 }}c{{ end }}",
        "c",
    );
    check(
        "{{ if $x := .app }}{{ $x }}{{ else }}{{ $x }}none{{ end }}",
        "api",
    );
    check(
        "{{ if $x := .empty }}{{ $x }}{{ else }}[{{ $x }}]{{ end }}",
        "[]",
    );
}

#[test]
fn with_sets_dot() {
    check("{{ with .app }}[{{ . }}]{{ end }}", "[api]");
    check(
        "{{ with .empty }}x{{ else }}none:{{ .app }}{{ end }}",
        "none:api",
    );
    check("{{ with $v := .status }}{{ $v }}{{ . }}{{ end }}", "200200");
    check(
        "{{ with .empty }}a{{ else with .app }}{{ . }}{{ end }}",
        "api",
    );
}

#[test]
fn range_over_lists_maps_and_ints() {
    check("{{ range .list }}{{ . }},{{ end }}", "a,b,c,");
    check(
        "{{ range $i, $v := .list }}{{ $i }}={{ $v }} {{ end }}",
        "0=a 1=b 2=c ",
    );
    check("{{ range $v := .list }}{{ $v }}{{ end }}", "abc");
    check(
        "{{ range $k, $v := .nested.inner }}{{ $k }}:{{ $v }}{{ end }}",
        "leaf:deep",
    );
    check(
        "{{ range $k, $v := fromJson \"{\\\"b\\\":2,\\\"a\\\":1}\" }}{{ $k }}{{ $v }}{{ end }}",
        "a1b2",
    );
    check("{{ range 3 }}{{ . }}{{ end }}", "012");
    check("{{ range $i := 2 }}{{ $i }}{{ end }}", "01");
    check("{{ range .none }}x{{ else }}empty{{ end }}", "empty");
    check(
        "{{ range fromJson \"[]\" }}x{{ else }}empty:{{ .app }}{{ end }}",
        "empty:api",
    );
    check("{{ range 0 }}x{{ else }}none{{ end }}", "none");
    check("{{ range .list }}{{ $.app }}{{ end }}", "apiapiapi");
    check_err("{{ range .app }}{{ end }}", "range can't iterate over api");
    check_err(
        "{{ range $i, $v := 3 }}{{ end }}",
        "can't use two variables",
    );
}

#[test]
fn break_and_continue() {
    check(
        "{{ range .list }}{{ if eq . \"b\" }}{{ break }}{{ end }}{{ . }}{{ end }}",
        "a",
    );
    check(
        "{{ range .list }}{{ if eq . \"b\" }}{{ continue }}{{ end }}{{ . }}{{ end }}",
        "ac",
    );
    check(
        "{{ range .nums }}{{ range $.list }}{{ break }}{{ end }}{{ . }}{{ end }}",
        "12",
    );
    check(
        "{{ range .list }}{{ with . }}{{ continue }}{{ end }}x{{ end }}y",
        "y",
    );
}

#[test]
fn variables_and_scope() {
    check("{{ $x := \"a\" }}", "");
    check(
        "{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}",
        "2",
    );
    check(
        "{{ $x := 1 }}{{ with 2 }}{{ $x := . }}{{ $x }}{{ end }}{{ $x }}",
        "21",
    );
    check(
        "{{ $n := 0 }}{{ range .list }}{{ $n = add $n 1 }}{{ end }}{{ $n }}",
        "3",
    );
    check("{{ $m := .nested }}{{ $m.inner.leaf }}", "deep");
    check("{{ $ }}", &data().to_string());
    check(
        "{{ range $i, $v := .list }}{{ end }}{{ $x := 5 }}{{ $x }}",
        "5",
    );
}

#[test]
fn pipelines_pass_the_value_last() {
    check("{{ .app | upper }}", "API");
    check("{{ \"b\" | printf \"%s-%s\" \"a\" }}", "a-b");
    check(
        "{{ .path | replace \" \" \"_\" | trunc 5 | upper }}",
        "/A/B_",
    );
    check("{{ (print \"a\" \"b\") | upper }}", "AB");
    check("{{ (fromJson .json).obj.k }}", "v");
    check("{{ len (print 12345) }}", "5");
    check("{{ unixEpoch now | len }}", "10");
    check("{{ add 1 (add 2 (add 3 4)) }}", "10");
    check("{{ ($x := 5) }}{{ $x }}", "55");
}

#[test]
fn and_or_are_lazy_and_return_operands() {
    check("{{ and 0 (div 1 0) }}", "0");
    check("{{ or 1 (div 1 0) }}", "1");
    check(
        "{{ and 1 2 }} {{ and 1 \"\" }} {{ or 0 \"\" }} {{ or 0 \"x\" }}",
        "2   x",
    );
    check("{{ .app | and true }}", "api");
    check("{{ if and .app (eq .status \"200\") }}yes{{ end }}", "yes");
    check_err("{{ and }}", "want at least 1 got 0");
    check_err(
        "{{ and 1 (div 1 0) }}",
        "error calling div: runtime error: integer divide by zero",
    );
}

#[test]
fn loki_identifiers_read_the_root_map() {
    check("{{ __line__ | lower }}", "get /index.html 200");
    check(
        "{{ with .nested }}{{ __line__ }}{{ end }}",
        "GET /index.html 200",
    );
    check("{{ __timestamp__ | unixEpoch }}", "1679577215");
    let bare: Value = [("a", "b")].into_iter().collect();
    assert_eq!(try_render_with("[{{ __line__ }}]", &bare).unwrap(), "[]");
    check_err(
        "{{ __line__ 1 }}",
        "wrong number of args for __line__: want 0 got 1",
    );
}

#[test]
fn exec_errors_carry_positions() {
    assert_eq!(
        super::try_render("ab\n  {{ div 1 0 }}").unwrap_err(),
        "template: 2:6: error calling div: runtime error: integer divide by zero"
    );
}

#[test]
fn render_uses_the_given_function_table() {
    let full = Functions::loki();
    let t = Template::parse("{{ upper .a }}", &full).unwrap();
    let d: Value = [("a", "x")].into_iter().collect();
    assert_eq!(t.render(&d, &full).unwrap(), "X");
    let err = t.render(&d, &Functions::builtin()).unwrap_err();
    assert_eq!(err.message, "template: 1:4: function \"upper\" not defined");
    fn shout(_: &[Value]) -> Result<Value, String> {
        Ok(Value::from("!"))
    }
    let custom = Functions::builtin().with("upper", shout);
    assert_eq!(t.render(&d, &custom).unwrap(), "!");
    assert!(Template::parse("{{ upper 1 }}", &Functions::builtin()).is_err());
    assert!(full.contains("regexReplaceAll") && !Functions::builtin().contains("upper"));
}

#[test]
fn templates_are_shareable() {
    fn assert_traits<T: Send + Sync + Clone + 'static>() {}
    assert_traits::<Template>();
    assert_traits::<Functions>();
    let funcs = Functions::loki();
    let t = Template::parse("{{ .i }}", &funcs).unwrap();
    let handles: Vec<_> = (0..4i64)
        .map(|i| {
            let (t, funcs) = (t.clone(), funcs.clone());
            std::thread::spawn(move || t.render(&[("i", i)].into_iter().collect(), &funcs).unwrap())
        })
        .collect();
    let out: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(out, ["0", "1", "2", "3"]);
    assert_eq!(t.source(), "{{ .i }}");
}
