//! Template expansion with the rules of Go's `regexp.Expand`, which relabeling configurations are written against.
//!
//! `$1`, `${1}`, `$name` and `${name}` insert a capture group; `$$` is a literal `$`. A reference takes the longest
//! run of letters, digits and `_`, so `$1x` names the (absent) group `1x` and expands to nothing. A number with a
//! leading zero is a name, not an index. A `$` not followed by a valid reference is copied as is.

use regex::Captures;

/// A parsed `$` reference: a group index or a group name.
#[derive(Debug, PartialEq, Eq)]
enum Reference<'a> {
    Index(usize),
    Name(&'a str),
}

/// Parses the reference after a `$`; returns it and the rest of the template, or `None` when malformed.
fn parse_reference(after_dollar: &str) -> Option<(Reference<'_>, &str)> {
    let (braced, body) = match after_dollar.strip_prefix('{') {
        Some(rest) => (true, rest),
        None => (false, after_dollar),
    };
    let name_len = body
        .char_indices()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '_'))
        .map_or(body.len(), |(i, _)| i);
    if name_len == 0 {
        return None;
    }
    let name = &body[..name_len];
    let rest = if braced {
        body[name_len..].strip_prefix('}')?
    } else {
        &body[name_len..]
    };
    let is_index =
        name.bytes().all(|b| b.is_ascii_digit()) && !(name.len() > 1 && name.starts_with('0'));
    // Go caps indexes at 1e8; anything longer is treated as a name, which can never match a group.
    let reference = match name.parse::<usize>() {
        Ok(i) if is_index && i < 100_000_000 => Reference::Index(i),
        _ => Reference::Name(name),
    };
    Some((reference, rest))
}

/// Appends `template` to `out`, replacing references with the groups captured in `caps`.
pub(crate) fn expand_into(
    out: &mut String,
    template: &str,
    caps: &Captures<'_>,
    group_names: &[Option<&str>],
) {
    let mut rest = template;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        let Some((reference, after)) = parse_reference(rest) else {
            out.push('$');
            continue;
        };
        rest = after;
        let group = match reference {
            Reference::Index(i) => caps.get(i),
            Reference::Name(name) => group_names
                .iter()
                .position(|n| *n == Some(name))
                .and_then(|i| caps.get(i)),
        };
        if let Some(m) = group {
            out.push_str(m.as_str());
        }
    }
    out.push_str(rest);
}

/// Expands `template` into a new string.
pub(crate) fn expand(template: &str, caps: &Captures<'_>, group_names: &[Option<&str>]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    expand_into(&mut out, template, caps, group_names);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    fn run(pattern: &str, input: &str, template: &str) -> String {
        let re = Regex::new(pattern).unwrap();
        let names: Vec<Option<&str>> = re.capture_names().collect();
        let caps = re.captures(input).unwrap();
        expand(template, &caps, &names)
    }

    #[test]
    fn expands_like_go() {
        let cases = [
            // (pattern, input, template, expected)
            (r"^(a)(b)$", "ab", "$1-$2", "a-b"),
            (r"^(a)(b)$", "ab", "${1}x", "ax"),
            (r"^(a)(b)$", "ab", "$1x", ""),
            (r"^(a)(b)$", "ab", "$$1", "$1"),
            (r"^(a)(b)$", "ab", "$", "$"),
            (r"^(a)(b)$", "ab", "x$-y", "x$-y"),
            (r"^(a)(b)$", "ab", "${1", "${1"),
            (r"^(a)(b)$", "ab", "${}", "${}"),
            (r"^(a)(b)$", "ab", "$01", ""),
            (r"^(a)(b)$", "ab", "$0", "ab"),
            (r"^(a)(b)$", "ab", "$3", ""),
            (
                r"^(?P<first>a)(?P<second>b)$",
                "ab",
                "$second.${first}",
                "b.a",
            ),
            (r"^(?P<first>a)(?P<second>b)$", "ab", "$nope", ""),
            (r"^(a)|(b)$", "a", "[$2]", "[]"),
            (r"^(a)(b)$", "ab", "plain", "plain"),
        ];
        for (pattern, input, template, expected) in cases {
            assert_eq!(
                run(pattern, input, template),
                expected,
                "{pattern} {input} {template}"
            );
        }
    }
}
