//! The parser stages: `json`, `logfmt`, `regexp`, `pattern`, `unpack`. A malformed line keeps flowing, marked
//! with `__error__` (`JSONParserErr`, `LogfmtParserErr`) and `__error_details__`, as in Loki.

use serde_json::Value;

use crate::labels::LabelSet;

/// Makes a key a valid label name: other characters become `_`, a leading digit gets a `_` before it.
pub fn sanitize(key: &str) -> String {
    let mut out: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

fn flatten(prefix: &str, v: &Value, labels: &mut LabelSet) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let key = if prefix.is_empty() {
                    sanitize(k)
                } else {
                    format!("{prefix}_{}", sanitize(k))
                };
                flatten(&key, child, labels);
            }
        }
        // Arrays are skipped by the all-fields parser, as in Loki; select elements with `json a="x[0]"`.
        Value::Array(_) => {}
        other => {
            if let Some(t) = scalar_text(other) {
                labels.set_extracted(prefix, &t);
            }
        }
    }
}

/// `| json`: every field, nested keys joined with `_`.
pub fn json_all(line: &str, labels: &mut LabelSet) {
    match serde_json::from_str::<Value>(line) {
        Ok(v @ Value::Object(_)) => flatten("", &v, labels),
        Ok(_) => labels.set_error("JSONParserErr", "the line is not a JSON object"),
        Err(e) => labels.set_error("JSONParserErr", &e.to_string()),
    }
}

/// One step of a JSON expression (`a.b[0]["c d"]`).
#[derive(Debug, Clone, PartialEq)]
pub enum PathStep {
    /// An object key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// Parses a JSON expression of `| json l="expr"`.
pub fn parse_json_path(expr: &str) -> Result<Vec<PathStep>, String> {
    let bad = || format!("invalid JSON expression {expr:?}");
    let mut steps = Vec::new();
    let mut rest = expr.trim();
    let mut first = true;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').ok_or_else(bad)?;
            let inner = r[..end].trim();
            if let Some(q) = inner.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
                steps.push(PathStep::Key(q.to_string()));
            } else {
                steps.push(PathStep::Index(inner.parse().map_err(|_| bad())?));
            }
            rest = &r[end + 1..];
        } else {
            if !first {
                rest = rest.strip_prefix('.').ok_or_else(bad)?;
            }
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            if end == 0 {
                return Err(bad());
            }
            steps.push(PathStep::Key(rest[..end].to_string()));
            rest = &rest[end..];
        }
        first = false;
    }
    if steps.is_empty() {
        return Err(bad());
    }
    Ok(steps)
}

/// `| json a="x.y", …`: the selected fields (objects and arrays as their JSON text).
pub fn json_params(line: &str, params: &[(String, Vec<PathStep>)], labels: &mut LabelSet) {
    let v: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return labels.set_error("JSONParserErr", &e.to_string()),
    };
    for (name, path) in params {
        let mut cur = Some(&v);
        for step in path {
            cur = match (cur, step) {
                (Some(Value::Object(m)), PathStep::Key(k)) => m.get(k),
                (Some(Value::Array(a)), PathStep::Index(i)) => a.get(*i),
                _ => None,
            };
        }
        let text = match cur {
            Some(x @ (Value::Object(_) | Value::Array(_))) => x.to_string(),
            Some(x) => scalar_text(x).unwrap_or_default(),
            None => String::new(),
        };
        labels.set_extracted(name, &text);
    }
}

/// The key/value pairs of a logfmt line; `Err` at the first malformed pair (for `--strict`).
fn logfmt_pairs(
    line: &str,
    strict: bool,
    mut on: impl FnMut(&str, Option<String>),
) -> Result<(), String> {
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i] == b' ' || i < b.len() && b[i] == b'\t' {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let ks = i;
        while i < b.len() && b[i] != b'=' && b[i] != b' ' && b[i] != b'"' {
            i += 1;
        }
        let key = &line[ks..i];
        if key.is_empty() || (i < b.len() && b[i] == b'"') {
            // `=value` or a stray quote: an error when strict, else the word is skipped.
            if strict {
                return Err(format!(
                    "logfmt syntax error at pos {}: unexpected '{}'",
                    i + 1,
                    b[i] as char
                ));
            }
            while i < b.len() && b[i] != b' ' {
                i += 1;
            }
            continue;
        }
        if i >= b.len() || b[i] != b'=' {
            on(key, None);
            continue;
        }
        i += 1;
        if i < b.len() && b[i] == b'"' {
            let mut val = String::new();
            let mut j = i + 1;
            let mut closed = false;
            while j < b.len() {
                match b[j] {
                    b'\\' if j + 1 < b.len() => {
                        match b[j + 1] {
                            b'n' => val.push('\n'),
                            b't' => val.push('\t'),
                            b'r' => val.push('\r'),
                            b'"' => val.push('"'),
                            b'\\' => val.push('\\'),
                            other => {
                                val.push('\\');
                                val.push(other as char);
                            }
                        }
                        j += 2;
                    }
                    b'"' => {
                        closed = true;
                        j += 1;
                        break;
                    }
                    _ => {
                        let ch = line[j..].chars().next().unwrap_or(' ');
                        val.push(ch);
                        j += ch.len_utf8();
                    }
                }
            }
            if !closed && strict {
                return Err(format!(
                    "logfmt syntax error at pos {}: unterminated quoted value",
                    i + 1
                ));
            }
            on(key, Some(val));
            i = j;
        } else {
            let vs = i;
            while i < b.len() && b[i] != b' ' {
                i += 1;
            }
            on(key, Some(line[vs..i].to_string()));
        }
    }
    Ok(())
}

/// `| logfmt`.
pub fn logfmt(
    line: &str,
    strict: bool,
    keep_empty: bool,
    params: &[(String, String)],
    labels: &mut LabelSet,
) {
    let mut found: Vec<(String, String)> = Vec::new();
    let r = logfmt_pairs(line, strict, |k, v| {
        let v = match v {
            Some(v) => v,
            None if keep_empty => String::new(),
            None => return,
        };
        if v.is_empty() && !keep_empty {
            return;
        }
        found.push((k.to_string(), v));
    });
    if params.is_empty() {
        for (k, v) in &found {
            labels.set_extracted(&sanitize(k), v);
        }
    } else {
        for (name, key) in params {
            if let Some((_, v)) = found.iter().rev().find(|(k, _)| k == key) {
                labels.set_extracted(name, v);
            }
        }
    }
    if let Err(e) = r {
        labels.set_error("LogfmtParserErr", &e);
    }
}

/// `| regexp`: named groups become labels.
pub fn regexp(re: &regex::Regex, line: &str, labels: &mut LabelSet) {
    if let Some(c) = re.captures(line) {
        for name in re.capture_names().flatten() {
            if let Some(m) = c.name(name) {
                labels.set_extracted(name, m.as_str());
            }
        }
    }
}

/// `| unpack`: string fields of a JSON object become labels, `_entry` becomes the line.
pub fn unpack(line: &str, labels: &mut LabelSet) -> Option<String> {
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(map)) => {
            let mut entry = None;
            for (k, v) in map {
                if let Value::String(s) = v {
                    if k == "_entry" {
                        entry = Some(s);
                    } else {
                        labels.set_extracted(&sanitize(&k), &s);
                    }
                }
            }
            entry
        }
        Ok(_) => {
            labels.set_error("JSONParserErr", "the line is not a JSON object");
            None
        }
        Err(e) => {
            labels.set_error("JSONParserErr", &e.to_string());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lookout_model::Labels;

    fn set() -> LabelSet {
        LabelSet::new(&Labels::from_pairs_unchecked(&[("app", "x")]), &[])
    }

    #[test]
    fn json_flattens_and_renames_clashes() {
        let mut l = set();
        json_all(r#"{"app":"y","a":{"b-c":1,"d":[1]},"ok":true}"#, &mut l);
        assert_eq!(l.get("app_extracted"), Some("y"));
        assert_eq!(l.get("a_b_c"), Some("1"));
        assert_eq!(l.get("a_d"), None);
        assert_eq!(l.get("ok"), Some("true"));
        let mut l = set();
        json_all("nope", &mut l);
        assert_eq!(l.get("__error__"), Some("JSONParserErr"));
    }

    #[test]
    fn json_paths() {
        let p = parse_json_path(r#"a.b[1]["c d"]"#).unwrap();
        assert_eq!(p.len(), 4);
        let mut l = set();
        json_params(
            r#"{"a":{"b":[0,{"c d":"v"}]}}"#,
            &[("x".into(), p), ("y".into(), parse_json_path("a").unwrap())],
            &mut l,
        );
        assert_eq!(l.get("x"), Some("v"));
        assert_eq!(l.get("y"), Some(r#"{"b":[0,{"c d":"v"}]}"#));
    }

    #[test]
    fn logfmt_pairs_and_flags() {
        let mut l = set();
        logfmt(
            r#"level=info msg="a \"b\"" dur=5ms flag app=z"#,
            false,
            false,
            &[],
            &mut l,
        );
        assert_eq!(l.get("msg"), Some("a \"b\""));
        assert_eq!(l.get("dur"), Some("5ms"));
        assert_eq!(l.get("flag"), None);
        assert_eq!(l.get("app_extracted"), Some("z"));
        let mut l = set();
        logfmt("flag a=1", false, true, &[], &mut l);
        assert_eq!(l.get("flag"), Some(""));
        let mut l = set();
        logfmt(r#"a=1 b="x"#, true, false, &[], &mut l);
        assert_eq!(l.get("__error__"), Some("LogfmtParserErr"));
    }
}
