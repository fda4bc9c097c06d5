//! Function names older Prometheus versions accept that the parser no longer knows: `holt_winters` (Prometheus 2.x,
//! renamed `double_exponential_smoothing` in 3.0). Dashboards written for 2.x still use it.

/// Old name → current name.
const FUNCTION_ALIASES: &[(&str, &str)] = &[("holt_winters", "double_exponential_smoothing")];

/// Rewrites aliased function calls outside string literals; `None` when nothing changed.
pub fn rewrite_function_aliases(query: &str) -> Option<String> {
    let bytes = query.as_bytes();
    let mut out = String::with_capacity(query.len() + 16);
    let mut changed = false;
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == b'\\' && q != b'`' && i + 1 < bytes.len() {
                // The escaped character may be several bytes long.
                let escaped = query[i + 1..].chars().next().unwrap_or(' ');
                out.push('\\');
                out.push(escaped);
                i += 1 + escaped.len_utf8();
                continue;
            }
            if b == q {
                quote = None;
            }
        } else if b == b'"' || b == b'\'' || b == b'`' {
            quote = Some(b);
        } else if b.is_ascii_alphabetic() || b == b'_' {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b':')
            {
                i += 1;
            }
            let word = &query[start..i];
            let is_call = query[i..].trim_start().starts_with('(');
            match FUNCTION_ALIASES.iter().find(|(old, _)| *old == word) {
                Some((_, new)) if is_call => {
                    out.push_str(new);
                    changed = true;
                }
                _ => out.push_str(word),
            }
            continue;
        }
        let ch = query[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::rewrite_function_aliases;

    #[test]
    fn holt_winters_calls_are_renamed_outside_strings() {
        assert_eq!(
            rewrite_function_aliases("holt_winters(x[5m], 0.5, 0.5)").as_deref(),
            Some("double_exponential_smoothing(x[5m], 0.5, 0.5)")
        );
        assert_eq!(
            rewrite_function_aliases(r#"sum(holt_winters (m{a="holt_winters("}[1m], 0.1, 0.9))"#)
                .as_deref(),
            Some(r#"sum(double_exponential_smoothing (m{a="holt_winters("}[1m], 0.1, 0.9))"#)
        );
        assert_eq!(rewrite_function_aliases("holt_winters_total"), None);
        assert_eq!(
            rewrite_function_aliases("holt_winters(m{a=\"\\é\"}[1m], 0.1, 0.9)").as_deref(),
            Some("double_exponential_smoothing(m{a=\"\\é\"}[1m], 0.1, 0.9)")
        );
        assert_eq!(rewrite_function_aliases("rate(x[5m])"), None);
    }
}
