//! LogQL's string and logic functions: Sprig's (`trunc n s`: the subject comes last, so it can be
//! piped) and the deprecated Go `strings` ones Loki still offers (`Replace s old new n`: the
//! subject comes first). Lengths and positions count characters, as Loki does for trunc, substr
//! and align*.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{Table, at_least, check_size, int_arg, str_arg, want};
use crate::value::Value;

/// String and logic functions.
pub(crate) const FUNCS: Table = &[
    ("alignLeft", align_left),
    ("alignRight", align_right),
    ("b64enc", b64enc),
    ("b64dec", b64dec),
    ("bytes", bytes),
    ("default", default),
    ("fromJson", from_json),
    ("lower", lower),
    ("ToLower", lower),
    ("upper", upper),
    ("ToUpper", upper),
    ("indent", indent),
    ("nindent", nindent),
    ("repeat", repeat),
    ("replace", replace),
    ("Replace", go_replace),
    ("substr", substr),
    ("title", title),
    ("Title", title),
    ("trim", trim_space),
    ("TrimSpace", trim_space),
    ("Trim", go_trim),
    ("TrimLeft", go_trim_left),
    ("TrimRight", go_trim_right),
    ("TrimPrefix", go_trim_prefix),
    ("TrimSuffix", go_trim_suffix),
    ("trimAll", trim_all),
    ("trimPrefix", trim_prefix),
    ("trimSuffix", trim_suffix),
    ("trunc", trunc),
    ("urlencode", urlencode),
    ("urldecode", urldecode),
    ("contains", contains),
    ("hasPrefix", has_prefix),
    ("hasSuffix", has_suffix),
];

fn ok(s: impl Into<String>) -> Result<Value, String> {
    Ok(Value::Str(s.into()))
}

/// The single argument of a one-string function.
fn one(args: &[Value]) -> Result<std::borrow::Cow<'_, str>, String> {
    want(args, 1)?;
    str_arg(&args[0])
}

/// `(int, string)` arguments: `trunc 5 s`.
fn int_str(args: &[Value]) -> Result<(i64, std::borrow::Cow<'_, str>), String> {
    want(args, 2)?;
    Ok((int_arg(&args[0])?, str_arg(&args[1])?))
}

fn align(args: &[Value], left: bool) -> Result<Value, String> {
    let (count, src) = int_str(args)?;
    let chars: Vec<char> = src.chars().collect();
    let l = chars.len() as i64;
    if count < 0 || count == l {
        return ok(src);
    }
    if count > l {
        let pad = " ".repeat(check_size((count - l) as u128 + src.len() as u128)? - src.len());
        return ok(if left {
            format!("{src}{pad}")
        } else {
            format!("{pad}{src}")
        });
    }
    let c = count as usize;
    ok(if left {
        chars[..c].iter().collect::<String>()
    } else {
        chars[chars.len() - c..].iter().collect()
    })
}

fn align_left(args: &[Value]) -> Result<Value, String> {
    align(args, true)
}

fn align_right(args: &[Value]) -> Result<Value, String> {
    align(args, false)
}

fn b64enc(args: &[Value]) -> Result<Value, String> {
    ok(STANDARD.encode(one(args)?.as_bytes()))
}

/// Sprig returns a decoding error's text as the result instead of failing.
fn b64dec(args: &[Value]) -> Result<Value, String> {
    // Go's decoder skips newlines.
    let s: String = one(args)?
        .chars()
        .filter(|&c| c != '\r' && c != '\n')
        .collect();
    match STANDARD.decode(s.as_bytes()) {
        Ok(b) => ok(String::from_utf8_lossy(&b)),
        Err(e) => {
            let at = match e {
                base64::DecodeError::InvalidByte(i, _)
                | base64::DecodeError::InvalidLastSymbol(i, _) => i,
                _ => s.len(),
            };
            ok(format!("illegal base64 data at input byte {at}"))
        }
    }
}

/// go-humanize's `ParseBytes` ("1.5 KiB", "10MB", "1,000"), as a float like Loki returns.
fn bytes(args: &[Value]) -> Result<Value, String> {
    let s = one(args)?;
    let num_len = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(s.len());
    let num: String = s[..num_len].chars().filter(|&c| c != ',').collect();
    let f: f64 = num
        .parse()
        .map_err(|_| format!("strconv.ParseFloat: parsing {num:?}: invalid syntax"))?;
    let unit = s[num_len..].trim().to_ascii_lowercase();
    let mult: f64 = match unit.as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "ki" | "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mi" | "mib" => 1024f64.powi(2),
        "g" | "gb" => 1e9,
        "gi" | "gib" => 1024f64.powi(3),
        "t" | "tb" => 1e12,
        "ti" | "tib" => 1024f64.powi(4),
        "p" | "pb" => 1e15,
        "pi" | "pib" => 1024f64.powi(5),
        "e" | "eb" => 1e18,
        "ei" | "eib" => 1024f64.powi(6),
        _ => return Err(format!("unhandled size name: {unit}")),
    };
    let v = f * mult;
    if v >= u64::MAX as f64 {
        return Err(format!("too large: {s}"));
    }
    // go-humanize truncates to whole bytes.
    Ok(Value::Float(v.trunc()))
}

/// `default d given`: `given` unless it is empty (Sprig's `empty`, the inverse of Go's truth).
fn default(args: &[Value]) -> Result<Value, String> {
    at_least(args, 1)?;
    match args.get(1) {
        Some(given) if given.is_true() => Ok(given.clone()),
        _ => Ok(args[0].clone()),
    }
}

fn from_serde(v: serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(b),
        // Go decodes every JSON number into a float64.
        serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => Value::Str(s),
        serde_json::Value::Array(a) => Value::List(a.into_iter().map(from_serde).collect()),
        serde_json::Value::Object(o) => Value::Map(
            o.into_iter()
                .map(|(k, v)| (k, from_serde(v)))
                .collect::<BTreeMap<_, _>>(),
        ),
    }
}

/// Decodes JSON into maps, lists and floats; invalid JSON gives nil, as Sprig's `fromJson`.
fn from_json(args: &[Value]) -> Result<Value, String> {
    // serde_json's recursion limit (128) bounds the nesting depth.
    Ok(serde_json::from_str(&one(args)?)
        .map(from_serde)
        .unwrap_or(Value::Nil))
}

fn lower(args: &[Value]) -> Result<Value, String> {
    ok(one(args)?.to_lowercase())
}

fn upper(args: &[Value]) -> Result<Value, String> {
    ok(one(args)?.to_uppercase())
}

fn indent_str(spaces: i64, s: &str) -> Result<String, String> {
    if spaces < 0 {
        return Err("strings: negative Repeat count".into());
    }
    let lines = s.bytes().filter(|&b| b == b'\n').count() as u128 + 1;
    check_size(s.len() as u128 + lines * spaces as u128)?;
    let pad = " ".repeat(spaces as usize);
    Ok(format!("{pad}{}", s.replace('\n', &format!("\n{pad}"))))
}

fn indent(args: &[Value]) -> Result<Value, String> {
    let (n, s) = int_str(args)?;
    ok(indent_str(n, &s)?)
}

fn nindent(args: &[Value]) -> Result<Value, String> {
    let (n, s) = int_str(args)?;
    ok(format!("\n{}", indent_str(n, &s)?))
}

fn repeat(args: &[Value]) -> Result<Value, String> {
    let (n, s) = int_str(args)?;
    if n < 0 {
        return Err("strings: negative Repeat count".into());
    }
    check_size(s.len() as u128 * n as u128)?;
    ok(s.repeat(n as usize))
}

/// Replaces the first `n` (all if negative) occurrences, refusing results past the limit.
fn replace_n(s: &str, old: &str, new: &str, n: i64) -> Result<String, String> {
    let found = if old.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(old).count()
    };
    let count = if n < 0 { found } else { found.min(n as usize) };
    check_size(s.len() as u128 + count as u128 * new.len() as u128)?;
    Ok(if n < 0 {
        s.replace(old, new)
    } else {
        s.replacen(old, new, count)
    })
}

/// Sprig's `replace old new s`: every occurrence.
fn replace(args: &[Value]) -> Result<Value, String> {
    want(args, 3)?;
    ok(replace_n(
        &str_arg(&args[2])?,
        &str_arg(&args[0])?,
        &str_arg(&args[1])?,
        -1,
    )?)
}

/// Go's `strings.Replace s old new n`.
fn go_replace(args: &[Value]) -> Result<Value, String> {
    want(args, 4)?;
    ok(replace_n(
        &str_arg(&args[0])?,
        &str_arg(&args[1])?,
        &str_arg(&args[2])?,
        int_arg(&args[3])?,
    )?)
}

/// Loki's `substr start end s`, clamped to the string rather than failing.
fn substr(args: &[Value]) -> Result<Value, String> {
    want(args, 3)?;
    let (start, end) = (int_arg(&args[0])?, int_arg(&args[1])?);
    let chars: Vec<char> = str_arg(&args[2])?.chars().collect();
    let l = chars.len() as i64;
    let end = end.min(l);
    let start = start.min(l);
    let pick = |a: i64, b: i64| -> String { chars[a as usize..b as usize].iter().collect() };
    ok(if start < 0 {
        if end < 0 { String::new() } else { pick(0, end) }
    } else if end < 0 {
        pick(start, l)
    } else if start > end {
        String::new()
    } else {
        pick(start, end)
    })
}

/// Go's `strings.Title`: upper-cases each letter that starts a word.
fn title(args: &[Value]) -> Result<Value, String> {
    let s = one(args)?;
    let mut out = String::with_capacity(s.len());
    let mut prev_sep = true;
    for c in s.chars() {
        if prev_sep {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        // Go: ASCII letters, digits and '_' join words; other ASCII separates; Unicode letters and
        // digits join, Unicode spaces separate.
        prev_sep = if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else {
            c.is_whitespace()
        };
    }
    ok(out)
}

fn trim_space(args: &[Value]) -> Result<Value, String> {
    ok(one(args)?.trim())
}

/// Two string arguments, in the order given.
fn two(args: &[Value]) -> Result<(std::borrow::Cow<'_, str>, std::borrow::Cow<'_, str>), String> {
    want(args, 2)?;
    Ok((str_arg(&args[0])?, str_arg(&args[1])?))
}

fn go_trim(args: &[Value]) -> Result<Value, String> {
    let (s, cut) = two(args)?;
    ok(s.trim_matches(|c| cut.contains(c)))
}

fn go_trim_left(args: &[Value]) -> Result<Value, String> {
    let (s, cut) = two(args)?;
    ok(s.trim_start_matches(|c| cut.contains(c)))
}

fn go_trim_right(args: &[Value]) -> Result<Value, String> {
    let (s, cut) = two(args)?;
    ok(s.trim_end_matches(|c| cut.contains(c)))
}

fn go_trim_prefix(args: &[Value]) -> Result<Value, String> {
    let (s, p) = two(args)?;
    ok(s.strip_prefix(p.as_ref()).unwrap_or(&s))
}

fn go_trim_suffix(args: &[Value]) -> Result<Value, String> {
    let (s, p) = two(args)?;
    ok(s.strip_suffix(p.as_ref()).unwrap_or(&s))
}

/// Sprig's `trimAll cutset s`.
fn trim_all(args: &[Value]) -> Result<Value, String> {
    let (cut, s) = two(args)?;
    ok(s.trim_matches(|c| cut.contains(c)))
}

fn trim_prefix(args: &[Value]) -> Result<Value, String> {
    let (p, s) = two(args)?;
    ok(s.strip_prefix(p.as_ref()).unwrap_or(&s))
}

fn trim_suffix(args: &[Value]) -> Result<Value, String> {
    let (p, s) = two(args)?;
    ok(s.strip_suffix(p.as_ref()).unwrap_or(&s))
}

/// `trunc n s`: the first n characters, or the last -n when n is negative.
fn trunc(args: &[Value]) -> Result<Value, String> {
    let (c, s) = int_str(args)?;
    let chars: Vec<char> = s.chars().collect();
    let l = chars.len() as i64;
    if c < 0 && l + c > 0 {
        return ok(chars[(l + c) as usize..].iter().collect::<String>());
    }
    if c >= 0 && l > c {
        return ok(chars[..c as usize].iter().collect::<String>());
    }
    ok(s)
}

fn urlencode(args: &[Value]) -> Result<Value, String> {
    ok(super::builtin::query_escape(&one(args)?))
}

/// Go's `url.QueryUnescape`: `+` is a space, `%XX` a byte, a malformed escape an error.
fn urldecode(args: &[Value]) -> Result<Value, String> {
    let s = one(args)?;
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                let Some(v) =
                    hex.filter(|_| b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit())
                else {
                    let bad: String = s[i..].chars().take(3).collect();
                    return Err(format!("invalid URL escape {bad:?}"));
                };
                out.push(v);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    ok(String::from_utf8_lossy(&out))
}

/// `contains substr s`.
fn contains(args: &[Value]) -> Result<Value, String> {
    let (sub, s) = two(args)?;
    Ok(Value::Bool(s.contains(sub.as_ref())))
}

fn has_prefix(args: &[Value]) -> Result<Value, String> {
    let (p, s) = two(args)?;
    Ok(Value::Bool(s.starts_with(p.as_ref())))
}

fn has_suffix(args: &[Value]) -> Result<Value, String> {
    let (p, s) = two(args)?;
    Ok(Value::Bool(s.ends_with(p.as_ref())))
}
