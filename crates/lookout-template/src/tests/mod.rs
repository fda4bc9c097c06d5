//! Unit tests by area; expected outputs are what Go's text/template (with Loki's or Prometheus's
//! functions) prints.

mod adversarial;
mod alert;
mod builtin;
mod date;
mod exec;
mod loki;
mod methods;
mod printf;
mod prom_funcs;
mod prom_numbers;
mod syntax;

use std::collections::BTreeMap;

use crate::{Functions, Template, Value};

/// 2023-03-23 13:13:35.123456789 UTC.
pub(super) const TS: i64 = 1_679_577_215_123_456_789;

/// The data most tests render against: Loki-style string labels plus a few typed values.
pub(super) fn data() -> Value {
    let mut m: BTreeMap<String, Value> = BTreeMap::new();
    for (k, v) in [
        ("app", "api"),
        ("path", "/a/b c"),
        ("status", "200"),
        ("empty", ""),
        ("cluster", "prod-cluster"),
        (
            "json",
            r#"{"foo": 55, "list": [1, "x", true, null], "obj": {"k": "v"}}"#,
        ),
        ("queries", r#"[{"query": "up"}, {"query": "rate(x[5m])"}]"#),
        ("__line__", "GET /index.html 200"),
    ] {
        m.insert(k.to_owned(), Value::from(v));
    }
    m.insert("__timestamp__".to_owned(), Value::Time(TS));
    m.insert("n".to_owned(), Value::Int(3));
    m.insert("f".to_owned(), Value::Float(2.5));
    m.insert("yes".to_owned(), Value::Bool(true));
    m.insert(
        "list".to_owned(),
        Value::List(vec![Value::from("a"), Value::from("b"), Value::from("c")]),
    );
    m.insert(
        "nums".to_owned(),
        Value::List(vec![Value::Int(1), Value::Int(2)]),
    );
    m.insert(
        "nested".to_owned(),
        [("inner", [("leaf", "deep")].into_iter().collect::<Value>())]
            .into_iter()
            .collect(),
    );
    m.insert("none".to_owned(), Value::Nil);
    Value::Map(m)
}

/// Parses and renders `src` against [`data`] with Loki's functions.
pub(super) fn try_render(src: &str) -> Result<String, String> {
    try_render_with(src, &data())
}

/// Parses and renders `src` against `data` with Loki's functions.
pub(super) fn try_render_with(src: &str, data: &Value) -> Result<String, String> {
    let funcs = Functions::loki();
    let t = Template::parse(src, &funcs).map_err(|e| e.message)?;
    t.render(data, &funcs).map_err(|e| e.message)
}

/// Asserts that `src` renders to `want`.
#[track_caller]
pub(super) fn check(src: &str, want: &str) {
    match try_render(src) {
        Ok(got) => assert_eq!(got, want, "template {src:?}"),
        Err(e) => panic!("template {src:?} failed: {e}"),
    }
}

/// Asserts that `src` fails (to parse or render) with a message containing `want`.
#[track_caller]
pub(super) fn check_err(src: &str, want: &str) {
    match try_render(src) {
        Ok(got) => {
            panic!("template {src:?} rendered {got:?}, expected an error containing {want:?}")
        }
        Err(e) => assert!(
            e.contains(want),
            "template {src:?}: error {e:?} does not contain {want:?}"
        ),
    }
}

/// Prometheus's test setup: external URL `http://testhost:9090/path/prefix`, evaluation time
/// 2012-11-24 11:14:12 UTC, and a query engine answering with `samples` whatever the expression.
pub(super) fn prom_funcs(samples: Vec<crate::QuerySample>) -> Functions {
    let ctx = crate::PromContext::new("http://testhost:9090/path/prefix", 1_353_755_652_000)
        .with_query(move |_expr| Ok(samples.clone()));
    Functions::prometheus(ctx)
}

/// Parses and renders `src` against `data` with Prometheus's functions and a query engine that
/// returns `samples`.
pub(super) fn prom_render_with(
    src: &str,
    data: &Value,
    samples: Vec<crate::QuerySample>,
) -> Result<String, String> {
    let funcs = prom_funcs(samples);
    let t = Template::parse(src, &funcs).map_err(|e| e.message)?;
    t.render(data, &funcs).map_err(|e| e.message)
}

/// Asserts that `src` renders to `want` with Prometheus's functions, `data` as `.`.
#[track_caller]
pub(super) fn prom_check(src: &str, data: &Value, want: &str) {
    match prom_render_with(src, data, Vec::new()) {
        Ok(got) => assert_eq!(got, want, "template {src:?}"),
        Err(e) => panic!("template {src:?} failed: {e}"),
    }
}

/// Asserts that `src` fails with Prometheus's functions, with a message containing `want`.
#[track_caller]
pub(super) fn prom_check_err(src: &str, data: &Value, want: &str) {
    match prom_render_with(src, data, Vec::new()) {
        Ok(got) => {
            panic!("template {src:?} rendered {got:?}, expected an error containing {want:?}")
        }
        Err(e) => assert!(
            e.contains(want),
            "template {src:?}: error {e:?} does not contain {want:?}"
        ),
    }
}

/// A list value, for the `{{ range . }}` tables Prometheus's tests use.
pub(super) fn list<T: Into<Value>>(items: impl IntoIterator<Item = T>) -> Value {
    Value::List(items.into_iter().map(Into::into).collect())
}
