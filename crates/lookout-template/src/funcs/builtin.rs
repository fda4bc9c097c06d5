//! Go's `text/template` builtins (`and`/`or` are evaluated lazily by the executor itself).

use std::cmp::Ordering;

use super::{Table, at_least, int_arg, joined, str_arg, want};
use crate::gofmt;
use crate::value::Value;

/// The builtin table, minus `and`/`or`.
pub(crate) const FUNCS: Table = &[
    ("not", not),
    ("len", len),
    ("index", index),
    ("print", print),
    ("printf", printf),
    ("println", println),
    ("eq", eq),
    ("ne", ne),
    ("lt", lt),
    ("le", le),
    ("gt", gt),
    ("ge", ge),
    ("urlquery", urlquery),
    ("html", html),
    ("js", js),
];

fn not(args: &[Value]) -> Result<Value, String> {
    want(args, 1)?;
    Ok(Value::Bool(!args[0].is_true()))
}

fn len(args: &[Value]) -> Result<Value, String> {
    want(args, 1)?;
    let n = match &args[0] {
        Value::Str(s) => s.len(),
        Value::List(l) => l.len(),
        Value::Map(m) => m.len(),
        Value::Nil => return Err("len of nil pointer".into()),
        other => return Err(format!("len of type {}", other.type_name())),
    };
    Ok(Value::Int(n as i64))
}

/// `index x 1 "k"`: lists by position, maps by key (missing keys read as ""), strings by byte.
fn index(args: &[Value]) -> Result<Value, String> {
    at_least(args, 1)?;
    let mut cur = args[0].clone();
    for key in &args[1..] {
        cur = match cur {
            Value::List(mut l) => {
                let i = int_arg(key)?;
                if i < 0 || i as usize >= l.len() {
                    return Err(format!("index out of range: {i}"));
                }
                l.swap_remove(i as usize)
            }
            Value::Str(s) => {
                let i = int_arg(key)?;
                match usize::try_from(i).ok().and_then(|i| s.as_bytes().get(i)) {
                    Some(b) => Value::Int(i64::from(*b)),
                    None => return Err(format!("index out of range: {i}")),
                }
            }
            Value::Map(mut m) => {
                let k = match key {
                    Value::Str(k) => k,
                    other => {
                        return Err(format!(
                            "value has type {}; should be string",
                            other.type_name()
                        ));
                    }
                };
                m.remove(k.as_str())
                    .unwrap_or_else(|| Value::Str(String::new()))
            }
            Value::Nil => return Err("index of untyped nil".into()),
            other => return Err(format!("can't index item of type {}", other.type_name())),
        };
    }
    Ok(cur)
}

fn print(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Str(gofmt::sprint(args)))
}

fn println(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Str(gofmt::sprintln(args)))
}

fn printf(args: &[Value]) -> Result<Value, String> {
    at_least(args, 1)?;
    gofmt::sprintf(&str_arg(&args[0])?, &args[1..]).map(Value::Str)
}

/// Go's comparable basic kinds; `None` for nil, time, lists and maps.
#[derive(PartialEq, Clone, Copy)]
enum Kind {
    Bool,
    Int,
    Float,
    Str,
}

fn kind(v: &Value) -> Option<Kind> {
    match v {
        Value::Bool(_) => Some(Kind::Bool),
        // time.Duration is an int64 to Go's comparisons.
        Value::Int(_) | Value::Duration(_) => Some(Kind::Int),
        Value::Float(_) => Some(Kind::Float),
        Value::Str(_) => Some(Kind::Str),
        _ => None,
    }
}

/// The integer inside an `Int` or `Duration`.
fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) | Value::Duration(i) => Some(*i),
        _ => None,
    }
}

const INCOMPATIBLE: &str = "incompatible types for comparison";

/// Go's `eq` for one pair.
fn eq_pair(a: &Value, b: &Value) -> Result<bool, String> {
    match (kind(a), kind(b)) {
        (Some(k1), Some(k2)) if k1 != k2 => Err(INCOMPATIBLE.into()),
        (Some(Kind::Int), Some(_)) => Ok(int_of(a) == int_of(b)),
        (Some(_), Some(_)) => Ok(a == b),
        // Nil compares unequal to everything else without error.
        _ if matches!(a, Value::Nil) || matches!(b, Value::Nil) => {
            Ok(matches!(a, Value::Nil) && matches!(b, Value::Nil))
        }
        (Some(_), None) | (None, Some(_)) => Err(INCOMPATIBLE.into()),
        (None, None) => match (a, b) {
            (Value::Time(x), Value::Time(y)) => Ok(x == y),
            (Value::Time(_), _) | (_, Value::Time(_)) => Err(INCOMPATIBLE.into()),
            _ => Err(format!("non-comparable type {}: {a}", a.type_name())),
        },
    }
}

/// `eq a b c…`: whether `a` equals any of the rest.
fn eq(args: &[Value]) -> Result<Value, String> {
    if args.len() < 2 {
        return Err("missing argument for comparison".into());
    }
    for b in &args[1..] {
        if eq_pair(&args[0], b)? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn ne(args: &[Value]) -> Result<Value, String> {
    want(args, 2)?;
    Ok(Value::Bool(!eq_pair(&args[0], &args[1])?))
}

/// Go's `lt`: only ints, floats and strings of the same kind are ordered.
fn less(a: &Value, b: &Value) -> Result<bool, String> {
    let (Some(k1), Some(k2)) = (kind(a), kind(b)) else {
        return Err("invalid type for comparison".into());
    };
    if k1 != k2 {
        return Err(INCOMPATIBLE.into());
    }
    Ok(match (a, b) {
        _ if k1 == Kind::Int => int_of(a) < int_of(b),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y) == Some(Ordering::Less),
        (Value::Str(x), Value::Str(y)) => x < y,
        _ => return Err("invalid type for comparison".into()),
    })
}

fn lt(args: &[Value]) -> Result<Value, String> {
    want(args, 2)?;
    less(&args[0], &args[1]).map(Value::Bool)
}

fn le(args: &[Value]) -> Result<Value, String> {
    want(args, 2)?;
    Ok(Value::Bool(
        less(&args[0], &args[1])? || eq_pair(&args[0], &args[1])?,
    ))
}

fn gt(args: &[Value]) -> Result<Value, String> {
    want(args, 2)?;
    Ok(Value::Bool(
        !(less(&args[0], &args[1])? || eq_pair(&args[0], &args[1])?),
    ))
}

fn ge(args: &[Value]) -> Result<Value, String> {
    want(args, 2)?;
    Ok(Value::Bool(!less(&args[0], &args[1])?))
}

/// Go's `url.QueryEscape`: unreserved characters kept, space as `+`, the rest `%XX`.
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn urlquery(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Str(query_escape(&joined(args))))
}

/// Go's `template.HTMLEscapeString`.
fn html(args: &[Value]) -> Result<Value, String> {
    let s = joined(args);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    Ok(Value::Str(out))
}

/// Go's `template.JSEscapeString`.
fn js(args: &[Value]) -> Result<Value, String> {
    let s = joined(args);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if !c.is_ascii() && (c.is_control() || c.is_whitespace() || c == '\u{feff}') => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    Ok(Value::Str(out))
}
