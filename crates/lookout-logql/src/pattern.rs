//! Loki's pattern syntax (`<ip> - <_> [<ts>] "<method> <path> <_>"`): literals and captures, `<_>` captures
//! nothing. Used by the `| pattern` parser and the `|>`/`!>` line filters.

/// One piece of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    /// A capture; `None` for `<_>`.
    Capture(Option<String>),
}

/// A parsed pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    parts: Vec<Part>,
}

impl Pattern {
    /// Parses a pattern; `needs_names` asks for at least one named capture (the parser stage).
    pub fn parse(src: &str, needs_names: bool) -> Result<Pattern, String> {
        let mut parts = Vec::new();
        let mut rest = src;
        let mut lit = String::new();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('<')
                && let Some(end) = after.find('>')
            {
                let name = &after[..end];
                let valid = name == "_"
                    || (!name.is_empty()
                        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                        && !name.starts_with(|c: char| c.is_ascii_digit()));
                if valid {
                    if !lit.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut lit)));
                    }
                    if matches!(parts.last(), Some(Part::Capture(_))) {
                        return Err(format!(
                            "invalid pattern {src:?}: consecutive captures are not allowed"
                        ));
                    }
                    parts.push(Part::Capture((name != "_").then(|| name.to_string())));
                    rest = &after[end + 1..];
                    continue;
                }
            }
            let c = rest.chars().next().unwrap_or(' ');
            lit.push(c);
            rest = &rest[c.len_utf8()..];
        }
        if !lit.is_empty() {
            parts.push(Part::Literal(lit));
        }
        let names: Vec<&String> = parts
            .iter()
            .filter_map(|p| match p {
                Part::Capture(Some(n)) => Some(n),
                _ => None,
            })
            .collect();
        if !parts.iter().any(|p| matches!(p, Part::Capture(_))) {
            return Err(format!(
                "invalid pattern {src:?}: at least one capture is required"
            ));
        }
        if needs_names && names.is_empty() {
            return Err(format!(
                "invalid pattern {src:?}: at least one named capture is required"
            ));
        }
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(format!("invalid pattern {src:?}: duplicate capture <{n}>"));
            }
        }
        Ok(Pattern {
            source: src.to_string(),
            parts,
        })
    }

    /// The pattern as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Matches `line`: the named captures in order, or `None` when a literal is not found.
    pub fn captures<'a>(&self, line: &'a str) -> Option<Vec<(&str, &'a str)>> {
        let mut out = Vec::new();
        let mut rest = line;
        let mut i = 0;
        while i < self.parts.len() {
            match &self.parts[i] {
                Part::Literal(l) => {
                    // Only a leading literal must sit at the very start; later ones follow a capture.
                    rest = rest.strip_prefix(l.as_str())?;
                    i += 1;
                }
                Part::Capture(name) => {
                    let (value, next) = match self.parts.get(i + 1) {
                        Some(Part::Literal(l)) => {
                            let at = rest.find(l.as_str())?;
                            (&rest[..at], &rest[at + l.len()..])
                        }
                        _ => (rest, ""),
                    };
                    if let Some(n) = name {
                        out.push((n.as_str(), value));
                    }
                    rest = next;
                    i += 2;
                }
            }
        }
        Some(out)
    }

    /// Whether `line` matches.
    pub fn is_match(&self, line: &str) -> bool {
        self.captures(line).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_follow_literals() {
        let p = Pattern::parse(r#"<ip> - <_> "<method> <path> <_>" <status>"#, true).unwrap();
        let c = p
            .captures(r#"10.0.0.1 - - "GET /a HTTP/1.1" 200 extra"#)
            .unwrap();
        assert_eq!(
            c,
            vec![
                ("ip", "10.0.0.1"),
                ("method", "GET"),
                ("path", "/a"),
                ("status", "200 extra")
            ]
        );
        assert!(p.captures("nothing").is_none());
        assert!(Pattern::parse("<a><b>", true).is_err());
        assert!(Pattern::parse("plain", false).is_err());
        assert!(Pattern::parse("<_> x", true).is_err());
    }
}
