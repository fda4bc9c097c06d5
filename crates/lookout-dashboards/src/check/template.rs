//! Grafana's template-variable interpolation, as far as checking a query needs it: the syntaxes `$var`, `${var}`,
//! `${var:format}`, `${var.path}` and `[[var]]` / `[[var:format]]` (Grafana's `templateSrv` regex), with `var` made
//! of `[A-Za-z0-9_]`. Each name is replaced by one stand-in value (see `variables.rs` and [`BUILTINS`]); the format
//! is ignored, because the stand-ins are the same under every format. A name that is neither a dashboard variable
//! nor a built-in is an error: Grafana would send it as it is and the server would refuse the query.

use std::collections::BTreeMap;

/// Grafana's global variables and the value each stands for while checking (a 1 h range, 30 s interval, 15 s
/// scrape interval).
pub const BUILTINS: &[(&str, &str)] = &[
    ("__rate_interval", "1m"),
    ("__rate_interval_ms", "60000"),
    ("__interval", "30s"),
    ("__interval_ms", "30000"),
    ("__range", "1h"),
    ("__range_s", "3600"),
    ("__range_ms", "3600000"),
    ("__auto", "30s"),
    ("__from", "1700000000000"),
    ("__to", "1700003600000"),
];

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Looks a variable up among the dashboard's values, then the built-ins.
fn value_of<'a>(name: &str, values: &'a BTreeMap<String, String>) -> Result<&'a str, String> {
    if let Some(v) = values.get(name) {
        return Ok(v);
    }
    BUILTINS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .ok_or_else(|| format!("unknown template variable ${name}"))
}

/// Replaces every variable reference in `text` by its stand-in value.
pub fn expand(text: &str, values: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(['$', '[']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(inner) = tail.strip_prefix("${") {
            let end = inner
                .find('}')
                .ok_or_else(|| format!("unterminated ${{ in {text:?}"))?;
            let spec = &inner[..end];
            let name_end = spec.find(['.', ':']).unwrap_or(spec.len());
            let name = &spec[..name_end];
            if name.is_empty() || !name.chars().all(is_word) {
                return Err(format!("bad variable reference ${{{spec}}}"));
            }
            out.push_str(value_of(name, values)?);
            rest = &inner[end + 1..];
        } else if let Some(after) = tail.strip_prefix('$') {
            let len = after.find(|c: char| !is_word(c)).unwrap_or(after.len());
            if len == 0 {
                out.push('$');
            } else {
                out.push_str(value_of(&after[..len], values)?);
            }
            rest = &after[len..];
        } else if let Some(inner) = tail.strip_prefix("[[") {
            let bracketed = inner.find("]]").map(|end| (end, &inner[..end]));
            match bracketed {
                Some((end, spec)) => {
                    let name = spec.split(':').next().unwrap_or_default();
                    if name.is_empty() || !name.chars().all(is_word) {
                        return Err(format!("bad variable reference [[{spec}]]"));
                    }
                    out.push_str(value_of(name, values)?);
                    rest = &inner[end + 2..];
                }
                None => {
                    out.push('[');
                    rest = &tail[1..];
                }
            }
        } else {
            out.push('[');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}
