//! Go's text forms that end up in Alertmanager's webhook body: `strconv.Quote` (inside group keys),
//! `model.LabelSet.String`, `regexp.QuoteMeta` (the receiver name) and `encoding/json`'s HTML-safe escaping.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Go's `unicode.IsPrint`, approximated: Rust's standard library does not know Unicode categories, so control,
/// format, private-use and non-space separator characters are treated as unprintable and everything else as
/// printable. Unassigned code points therefore print as themselves where Go would escape them.
fn is_go_print(c: char) -> bool {
    if c.is_control() {
        return false;
    }
    if c == ' ' {
        return true;
    }
    if c.is_whitespace() {
        return false;
    }
    let format_or_private = matches!(c as u32,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E
        | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF | 0xFFFE | 0xFFFF
        | 0xF0000..);
    !format_or_private
}

/// Go's `strconv.Quote`: double quotes, `\"` and `\\`, the C escapes, `\xNN`/`\uNNNN`/`\UNNNNNNNN` for the rest
/// of what does not print.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if is_go_print(c) => out.push(c),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// `model.LabelSet.String`: `{a="1", b="2"}`, names sorted, values Go-quoted.
pub(crate) fn label_set_string(labels: &BTreeMap<String, String>) -> String {
    let parts: Vec<String> = labels
        .iter()
        .map(|(name, value)| format!("{name}={}", go_quote(value)))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// Go's `regexp.QuoteMeta`, which Alertmanager applies to the receiver name in the payload.
pub(crate) fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Makes serde_json output byte-identical to Go's `json.Encoder`, which escapes `<`, `>`, `&`, U+2028 and U+2029
/// inside strings. Those characters can only occur inside strings in JSON text, so replacing them anywhere is safe.
pub(crate) fn go_html_safe(json: Vec<u8>) -> Vec<u8> {
    let text = String::from_utf8(json).expect("serde_json writes UTF-8");
    if !text.contains(['<', '>', '&', '\u{2028}', '\u{2029}']) {
        return text.into_bytes();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_strconv() {
        assert_eq!(go_quote("plain"), r#""plain""#);
        assert_eq!(go_quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(go_quote("l1\nl2\t\u{7}"), r#""l1\nl2\t\a""#);
        assert_eq!(go_quote("\u{1}\u{7f}"), r#""\x01\x7f""#);
        assert_eq!(go_quote("ünï 日本"), "\"ünï 日本\"");
        assert_eq!(go_quote("\u{a0}\u{200b}"), r#""\u00a0\u200b""#);
    }

    #[test]
    fn label_set_and_quote_meta() {
        let mut m = BTreeMap::new();
        m.insert("b".to_string(), "x\"y".to_string());
        m.insert("a".to_string(), "1".to_string());
        assert_eq!(label_set_string(&m), r#"{a="1", b="x\"y"}"#);
        assert_eq!(label_set_string(&BTreeMap::new()), "{}");
        assert_eq!(quote_meta("team.a (ops)"), r"team\.a \(ops\)");
    }

    #[test]
    fn html_safe_json() {
        let out = go_html_safe(br#"{"a":"<b>&</b>"}"#.to_vec());
        assert_eq!(
            out,
            br#"{"a":"\u003cb\u003e\u0026\u003c/b\u003e"}"#.to_vec()
        );
    }
}
