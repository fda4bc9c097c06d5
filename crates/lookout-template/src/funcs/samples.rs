//! Prometheus's functions over query results: `first`, `label`, `value`, `strvalue`, `sortByLabel`,
//! and `args`. A sample is a map with `Labels` (a map of strings) and `Value` (a float), the shape
//! Prometheus's `query` returns, so `.Labels.instance` and `.Value` read it directly too.

use std::collections::BTreeMap;

use super::{Table, str_arg, want};
use crate::value::Value;

/// Query-result and argument-packing functions.
pub(crate) const FUNCS: Table = &[
    ("first", first),
    ("label", label),
    ("value", value),
    ("strvalue", strvalue),
    ("sortByLabel", sort_by_label),
    ("args", args),
];

/// Builds the template value of one query result.
pub(crate) fn sample(labels: &BTreeMap<String, String>, value: f64) -> Value {
    let labels: BTreeMap<String, Value> = labels
        .iter()
        .map(|(k, v)| (k.clone(), Value::Str(v.clone())))
        .collect();
    let mut m = BTreeMap::new();
    m.insert("Labels".to_owned(), Value::Map(labels));
    m.insert("Value".to_owned(), Value::Float(value));
    Value::Map(m)
}

fn sample_arg(v: &Value) -> Result<&BTreeMap<String, Value>, String> {
    match v {
        Value::Map(m) => Ok(m),
        other => Err(format!(
            "wrong type for value; expected *template.sample; got {}",
            other.type_name()
        )),
    }
}

/// A sample's label, "" when absent (Prometheus reads a `map[string]string`).
fn label_of(sample: &BTreeMap<String, Value>, name: &str) -> String {
    match sample.get("Labels") {
        Some(Value::Map(l)) => match l.get(name) {
            Some(Value::Str(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        },
        _ => String::new(),
    }
}

fn list_arg(v: &Value) -> Result<&[Value], String> {
    match v {
        Value::List(l) => Ok(l),
        // A nil queryResult is an empty one.
        Value::Nil => Ok(&[]),
        other => Err(format!(
            "wrong type for value; expected template.queryResult; got {}",
            other.type_name()
        )),
    }
}

fn first(args: &[Value]) -> Result<Value, String> {
    want(args, 1)?;
    list_arg(&args[0])?
        .first()
        .cloned()
        .ok_or_else(|| "first() called on vector with no elements".to_owned())
}

/// `label "instance" sample`.
fn label(args: &[Value]) -> Result<Value, String> {
    want(args, 2)?;
    let name = str_arg(&args[0])?;
    Ok(Value::Str(label_of(sample_arg(&args[1])?, &name)))
}

fn value(args: &[Value]) -> Result<Value, String> {
    want(args, 1)?;
    Ok(sample_arg(&args[0])?
        .get("Value")
        .cloned()
        .unwrap_or(Value::Nil))
}

/// The `__value__` label, which Prometheus's consoles use for string results.
fn strvalue(args: &[Value]) -> Result<Value, String> {
    want(args, 1)?;
    Ok(Value::Str(label_of(sample_arg(&args[0])?, "__value__")))
}

/// `sortByLabel "instance" results`: a stable sort by one label's value (byte order).
fn sort_by_label(args: &[Value]) -> Result<Value, String> {
    want(args, 2)?;
    let name = str_arg(&args[0])?;
    let mut keyed: Vec<(String, Value)> = list_arg(&args[1])?
        .iter()
        .map(|s| {
            let key = match s {
                Value::Map(m) => label_of(m, &name),
                _ => String::new(),
            };
            (key, s.clone())
        })
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Value::List(keyed.into_iter().map(|(_, s)| s).collect()))
}

/// `args 1 "x"` → `map[arg0:1 arg1:x]`, so several values can be passed as one.
fn args(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Map(
        args.iter()
            .enumerate()
            .map(|(i, a)| (format!("arg{i}"), a.clone()))
            .collect(),
    ))
}
