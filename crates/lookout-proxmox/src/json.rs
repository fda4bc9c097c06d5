//! Reading PVE's JSON the way the Python exporter does: label values are Python's `str()` of the field (`1`,
//! `True`, `None`, `1.0`), sample values are `float()` of the field (booleans → 1/0, numeric strings parsed), and a
//! missing required key is an error, as a Python `KeyError` fails the whole scrape.

use lookout_model::self_metrics::MetricValue;
use serde_json::{Map, Number, Value};

/// A JSON object (one PVE list entry or reply).
pub type Object = Map<String, Value>;

/// Why a PVE reply cannot be turned into series.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    /// A key the exporter reads unconditionally is absent.
    #[error("{what}: missing key {key:?}")]
    MissingKey {
        /// Which reply or entry.
        what: String,
        /// The key.
        key: String,
    },
    /// A reply or value has the wrong JSON type.
    #[error("{what}: {reason}")]
    Unexpected {
        /// Which reply or entry.
        what: String,
        /// What was wrong.
        reason: String,
    },
}

/// The value of `key`, or a missing-key error naming `what`.
pub fn required<'a>(obj: &'a Object, key: &str, what: &str) -> Result<&'a Value, ShapeError> {
    obj.get(key).ok_or_else(|| ShapeError::MissingKey {
        what: what.to_string(),
        key: key.to_string(),
    })
}

/// The reply as a list of objects (PVE list endpoints).
pub fn object_list<'a>(data: &'a Value, what: &str) -> Result<Vec<&'a Object>, ShapeError> {
    let unexpected = |reason: &str| ShapeError::Unexpected {
        what: what.to_string(),
        reason: reason.to_string(),
    };
    data.as_array()
        .ok_or_else(|| unexpected("expected a JSON list"))?
        .iter()
        .map(|v| {
            v.as_object()
                .ok_or_else(|| unexpected("expected a list of objects"))
        })
        .collect()
}

/// The reply as an object.
pub fn object<'a>(data: &'a Value, what: &str) -> Result<&'a Object, ShapeError> {
    data.as_object().ok_or_else(|| ShapeError::Unexpected {
        what: what.to_string(),
        reason: "expected a JSON object".to_string(),
    })
}

/// Python's truthiness of a JSON value (`local`, `online` flags come as 0/1 or true/false).
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Python's `str()` of a JSON value as `json.loads` returns it.
pub fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => py_repr(other),
    }
}

fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".to_string(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::Number(n) => py_number(n),
        Value::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(py_repr).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("'{k}': {}", py_repr(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

fn py_number(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    py_float(n.as_f64().unwrap_or(f64::NAN))
}

/// Python's `repr(float)`: the shortest round-trip digits, positional for exponents -4..16, else `1e+16` form.
pub fn py_float(v: f64) -> String {
    if v.is_nan() {
        return "nan".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let plain = format!("{v}");
        if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    }
}

/// Python's `float()` of a sample value: numbers as they are, booleans 1/0, numeric strings parsed; anything
/// else (null, lists) fails as it does upstream.
pub fn sample_value(v: &Value, what: &str) -> Result<MetricValue, ShapeError> {
    let unexpected = || ShapeError::Unexpected {
        what: what.to_string(),
        reason: format!("value {} is not a number", py_repr(v)),
    };
    match v {
        Value::Bool(b) => Ok(MetricValue::Int(u64::from(*b))),
        Value::Number(n) => Ok(match n.as_u64() {
            Some(u) => MetricValue::Int(u),
            None => MetricValue::Float(n.as_f64().ok_or_else(unexpected)?),
        }),
        Value::String(s) => parse_py_float(s.trim())
            .map(MetricValue::Float)
            .ok_or_else(unexpected),
        _ => Err(unexpected()),
    }
}

fn parse_py_float(s: &str) -> Option<f64> {
    match s.to_ascii_lowercase().trim_start_matches(['+', '-']) {
        "inf" | "infinity" | "nan" => {
            let neg = s.starts_with('-');
            let v = if s.to_ascii_lowercase().contains("nan") {
                f64::NAN
            } else {
                f64::INFINITY
            };
            Some(if neg { -v } else { v })
        }
        _ => s.replace('_', "").parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn str_matches_python() {
        assert_eq!(py_str(&json!("a b")), "a b");
        assert_eq!(py_str(&json!(3)), "3");
        assert_eq!(py_str(&json!(-3)), "-3");
        assert_eq!(py_str(&json!(true)), "True");
        assert_eq!(py_str(&json!(null)), "None");
        assert_eq!(py_str(&json!(1.0)), "1.0");
        assert_eq!(py_str(&json!(0.036)), "0.036");
        assert_eq!(py_str(&json!(1e16)), "1e+16");
        assert_eq!(py_str(&json!(1.5e-7)), "1.5e-07");
        assert_eq!(py_str(&json!(0.0001)), "0.0001");
        assert_eq!(py_str(&json!(123456789012345.6)), "123456789012345.6");
        assert_eq!(py_str(&json!([1, "a"])), "[1, 'a']");
    }

    #[test]
    fn values_follow_python_float() {
        let v = |j: Value| sample_value(&j, "t").map(|m| m.to_string());
        assert_eq!(v(json!(3)), Ok("3".to_string()));
        assert_eq!(v(json!(true)), Ok("1".to_string()));
        assert_eq!(v(json!(0.052)), Ok("0.052".to_string()));
        assert_eq!(v(json!(-1)), Ok("-1".to_string()));
        assert_eq!(v(json!(" 42 ")), Ok("42".to_string()));
        assert!(v(json!(null)).is_err());
        assert!(v(json!("x")).is_err());
    }

    #[test]
    fn truthiness() {
        assert!(truthy(&json!(1)));
        assert!(truthy(&json!(true)));
        assert!(!truthy(&json!(0)));
        assert!(!truthy(&json!(false)));
        assert!(!truthy(&json!(null)));
    }
}
