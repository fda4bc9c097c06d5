//! The dynamic values templates read, pass between functions and print.
//!
//! Go templates work on reflected Go values; Loki hands them a `map[string]string` of labels plus
//! whatever its functions return (strings, `int64`, `float64`, `time.Time`, decoded JSON), and
//! Prometheus adds `time.Duration` and query samples (maps with `Labels` and `Value`). This enum
//! covers exactly those shapes, and `Display` prints them as Go's `fmt.Print` would.

use std::collections::BTreeMap;
use std::fmt;

use crate::gofmt;

/// A template value: what `.`, variables, literals and function results are.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Go's `nil`; an action printing it writes `<no value>`, as Go does.
    Nil,
    /// A boolean.
    Bool(bool),
    /// An integer (Go's `int`/`int64`).
    Int(i64),
    /// A float (Go's `float64`).
    Float(f64),
    /// A string.
    Str(String),
    /// A list (Go's `[]interface{}`), e.g. a decoded JSON array.
    List(Vec<Value>),
    /// A map with string keys, iterated in key order as Go's `range` and printing do.
    Map(BTreeMap<String, Value>),
    /// A point in time (Go's `time.Time`): nanoseconds since the Unix epoch, always shown in UTC.
    Time(i64),
    /// A span of time in nanoseconds (Go's `time.Duration`), printed as Go does (`1h2m3.5s`).
    Duration(i64),
}

impl Value {
    /// Go's truth: false, 0, "", nil and empty lists/maps are false; everything else is true.
    pub fn is_true(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            // A struct in Go, and structs are always true.
            Value::Time(_) => true,
            Value::Duration(d) => *d != 0,
        }
    }

    /// The Go type name used in error messages and by `printf "%T"`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "<nil>",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::List(_) => "[]interface {}",
            Value::Map(_) => "map[string]interface {}",
            Value::Time(_) => "time.Time",
            Value::Duration(_) => "time.Duration",
        }
    }

    /// The string inside a `Str`, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Bytes of string data held, used to charge the render's work budget.
    pub(crate) fn weight(&self) -> usize {
        match self {
            Value::Str(s) => s.len(),
            Value::List(l) => l.iter().map(Value::weight).sum::<usize>() + l.len(),
            Value::Map(m) => m.iter().map(|(k, v)| k.len() + v.weight()).sum::<usize>() + m.len(),
            _ => 0,
        }
    }
}

/// Prints as Go's `%v`: nested nils as `<nil>`, lists as `[a b]`, maps as `map[k:v]`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        gofmt::write_value(&mut s, self);
        f.write_str(&s)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

/// A `Float`, which prints as Go prints a `float64` (`1`, `0.5`, `1e+06`, `NaN`, `+Inf`).
impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<Vec<Value>> for Value {
    fn from(l: Vec<Value>) -> Self {
        Value::List(l)
    }
}

impl From<BTreeMap<String, Value>> for Value {
    fn from(m: BTreeMap<String, Value>) -> Self {
        Value::Map(m)
    }
}

/// Builds a `Map` from `(key, value)` pairs, e.g. a stream's labels.
impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for Value {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Value::Map(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}
