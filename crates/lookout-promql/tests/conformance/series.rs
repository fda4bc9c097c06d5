//! Series descriptions as the test files write them: a selector-like label set, then a value sequence
//! (`1+2x3`, `-2-1x2`, `_x3`, `stale`, `Inf`, `{{...}}` native histograms).

use lookout_model::{Labels, stale_nan};

/// One position of a value sequence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Point {
    /// `_`: no sample at this step.
    Omitted,
    /// A float (may be NaN, ±Inf or the stale marker).
    Float(f64),
    /// A native-histogram literal `{{...}}`; floats-only storage cannot hold it and the runner cannot compare it.
    Histogram,
}

/// A parsed series line: the full label set and its points, one per step.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesLine {
    /// Labels including `__name__` when written.
    pub labels: Labels,
    /// Points, one per step from the start.
    pub points: Vec<Point>,
}

/// Parses `<selector> <values>`.
pub fn parse_series_line(line: &str) -> Result<SeriesLine, String> {
    let (labels, rest) = parse_selector(line.trim())?;
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return Err(format!(
            "expected whitespace after the series selector in {line:?}"
        ));
    }
    let points = parse_values(rest)?;
    Ok(SeriesLine { labels, points })
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// Parses `name`, `name{...}` or `{...}` at the start of `text`; returns the labels and the remaining text.
pub fn parse_selector(text: &str) -> Result<(Labels, &str), String> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let name_len = if text.starts_with(is_name_start) {
        text.find(|c: char| !is_name_char(c)).unwrap_or(text.len())
    } else {
        0
    };
    if name_len > 0 {
        pairs.push(("__name__".into(), text[..name_len].to_string()));
    }
    let mut rest = &text[name_len..];
    if let Some(inner) = rest.strip_prefix('{') {
        rest = parse_label_list(inner, &mut pairs)?;
    } else if name_len == 0 {
        return Err(format!(
            "expected a metric name or '{{' at the start of {text:?}"
        ));
    }
    Ok((Labels::from_pairs_unchecked(&pairs), rest))
}

/// Parses the inside of `{...}` (after the brace) up to and including `}`; returns what follows.
fn parse_label_list<'a>(
    mut rest: &'a str,
    pairs: &mut Vec<(String, String)>,
) -> Result<&'a str, String> {
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix('}') {
            return Ok(after);
        }
        let (name, after_name) = if rest.starts_with(['"', '\'', '`']) {
            let (s, r) = take_quoted(rest)?;
            (s, r)
        } else {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if len == 0 {
                return Err(format!("expected a label name at {rest:?}"));
            }
            (rest[..len].to_string(), &rest[len..])
        };
        rest = after_name.trim_start();
        if let Some(after_eq) = rest.strip_prefix('=') {
            if after_eq.starts_with('~') {
                return Err(format!(
                    "only '=' matchers are allowed in a series description, at {rest:?}"
                ));
            }
            let (value, after_value) = take_quoted(after_eq.trim_start())?;
            pairs.push((name, value));
            rest = after_value;
        } else if pairs.is_empty() && matches!(rest.chars().next(), Some(',' | '}')) {
            // `{"metric.name", ...}`: a bare string is the metric name (UTF-8 names).
            pairs.push(("__name__".into(), name));
        } else {
            return Err(format!("expected '=' after label name {name:?}"));
        }
        rest = rest.trim_start();
        if let Some(after_comma) = rest.strip_prefix(',') {
            rest = after_comma;
        } else if !rest.starts_with('}') {
            return Err(format!("expected ',' or '}}' in label list at {rest:?}"));
        }
    }
}

/// Reads one quoted string (`"..."`, `'...'` with escapes, or raw `` `...` ``) at the start of `text`.
pub fn take_quoted(text: &str) -> Result<(String, &str), String> {
    let mut chars = text.char_indices();
    let quote = match chars.next() {
        Some((_, q @ ('"' | '\'' | '`'))) => q,
        _ => return Err(format!("expected a quoted string at {text:?}")),
    };
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            return Ok((out, &text[i + c.len_utf8()..]));
        }
        if c != '\\' || quote == '`' {
            out.push(c);
            continue;
        }
        let (_, esc) = chars.next().ok_or("unterminated escape sequence")?;
        let simple = match esc {
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'f' => Some('\x0c'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\x0b'),
            '\\' | '"' | '\'' => Some(esc),
            _ => None,
        };
        if let Some(s) = simple {
            out.push(s);
            continue;
        }
        let (digits, radix) = match esc {
            'x' => (2, 16),
            'u' => (4, 16),
            'U' => (8, 16),
            '0'..='7' => (2, 8),
            _ => return Err(format!("unknown escape sequence \\{esc}")),
        };
        let mut code = if radix == 8 {
            esc.to_digit(8).unwrap_or(0)
        } else {
            0
        };
        for _ in 0..digits {
            let (_, d) = chars.next().ok_or("unterminated escape sequence")?;
            code = code * radix
                + d.to_digit(radix)
                    .ok_or_else(|| format!("bad digit {d:?} in escape"))?;
        }
        if esc == 'x' || radix == 8 {
            // A byte escape; the files only use it for ASCII or to write invalid UTF-8 on purpose.
            out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
        } else {
            out.push(char::from_u32(code).ok_or_else(|| format!("invalid code point {code:#x}"))?);
        }
    }
    Err(format!("unterminated string {text:?}"))
}

/// Expands a value sequence into points.
pub fn parse_values(text: &str) -> Result<Vec<Point>, String> {
    let mut points = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if rest.starts_with("{{") {
            rest = take_histogram_item(rest, &mut points)?;
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            expand_item(&rest[..end], &mut points)?;
            rest = &rest[end..];
        }
        rest = rest.trim_start();
    }
    Ok(points)
}

/// Skips `{{...}}` plus an optional `+{{...}}xN` / `-{{...}}xN` / `xN` tail, pushing the right number of points.
fn take_histogram_item<'a>(text: &'a str, points: &mut Vec<Point>) -> Result<&'a str, String> {
    let close = |s: &'a str| -> Result<&'a str, String> {
        let end = s
            .find("}}")
            .ok_or_else(|| format!("unterminated histogram literal {s:?}"))?;
        Ok(&s[end + 2..])
    };
    let mut rest = close(text)?;
    if let Some(after_sign) = rest.strip_prefix(['+', '-'])
        && after_sign.starts_with("{{")
    {
        rest = close(after_sign)?;
    }
    let mut count = 1;
    if let Some(after_x) = rest.strip_prefix('x') {
        let digits = after_x.bytes().take_while(u8::is_ascii_digit).count();
        let n: usize = after_x[..digits]
            .parse()
            .map_err(|_| format!("bad repeat count in {text:?}"))?;
        count = n + 1;
        rest = &after_x[digits..];
    }
    points.extend(std::iter::repeat_n(Point::Histogram, count));
    Ok(rest)
}

/// Splits a signed series number (`-1.5e-3`, `+Inf`, `NaN`, `stale`) off the front of `s`.
fn take_number(s: &str) -> Result<(f64, &str), String> {
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let alpha = body.bytes().take_while(u8::is_ascii_alphabetic).count();
    let (value, rest) = if alpha > 0 {
        let word = &body[..alpha];
        let value = match word.to_ascii_lowercase().as_str() {
            "inf" => f64::INFINITY,
            "nan" => f64::NAN,
            "stale" if !negative => stale_nan(),
            _ => return Err(format!("unexpected word {word:?} in value sequence")),
        };
        (value, &body[alpha..])
    } else {
        let bytes = body.as_bytes();
        let mut end = 0;
        while end < bytes.len() {
            match bytes[end] {
                b'0'..=b'9' | b'.' | b'_' => end += 1,
                b'e' | b'E' => {
                    end += 1;
                    if matches!(bytes.get(end), Some(b'+' | b'-')) {
                        end += 1;
                    }
                }
                _ => break,
            }
        }
        if end == 0 {
            return Err(format!("expected a number at {s:?}"));
        }
        let literal: String = body[..end].chars().filter(|&c| c != '_').collect();
        let value: f64 = literal
            .parse()
            .map_err(|_| format!("invalid number {:?}", &body[..end]))?;
        (value, &body[end..])
    };
    Ok((if negative { -value } else { value }, rest))
}

fn take_repeat(s: &str) -> Result<usize, String> {
    let digits = s
        .strip_prefix('x')
        .ok_or_else(|| format!("expected 'x<count>' at {s:?}"))?;
    digits
        .parse()
        .map_err(|_| format!("invalid repeat count {digits:?}"))
}

/// Expands one whitespace-free item: `_`, `_xN`, `a`, `axN`, `a+bxN`, `a-bxN`.
fn expand_item(item: &str, points: &mut Vec<Point>) -> Result<(), String> {
    if item == "_" {
        points.push(Point::Omitted);
        return Ok(());
    }
    if let Some(tail) = item.strip_prefix('_') {
        // `_xN` is N empty steps (not N+1 as for values).
        points.extend(std::iter::repeat_n(Point::Omitted, take_repeat(tail)?));
        return Ok(());
    }
    let (start, rest) = take_number(item)?;
    if rest.is_empty() {
        points.push(Point::Float(start));
        return Ok(());
    }
    let (delta, rest) = match rest.as_bytes()[0] {
        b'+' | b'-' => take_number(rest)?,
        _ => (0.0, rest),
    };
    let repeat = take_repeat(rest)?;
    // Accumulate by repeated addition, as upstream does, so rounding matches its expectations.
    let mut value = start;
    for _ in 0..=repeat {
        points.push(Point::Float(value));
        value += delta;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lookout_model::is_stale_nan;

    fn floats(text: &str) -> Vec<Option<f64>> {
        parse_values(text)
            .unwrap()
            .into_iter()
            .map(|p| match p {
                Point::Float(v) => Some(v),
                Point::Omitted => None,
                Point::Histogram => panic!("unexpected histogram"),
            })
            .collect()
    }

    #[test]
    fn expands_sequences() {
        assert_eq!(
            floats("1+2x3"),
            vec![Some(1.0), Some(3.0), Some(5.0), Some(7.0)]
        );
        assert_eq!(floats("-2-1x2"), vec![Some(-2.0), Some(-3.0), Some(-4.0)]);
        assert_eq!(floats("1x3"), vec![Some(1.0); 4]);
        assert_eq!(
            floats("0x2 5"),
            vec![Some(0.0), Some(0.0), Some(0.0), Some(5.0)]
        );
        assert_eq!(
            floats("_ 1 _x3 2"),
            vec![None, Some(1.0), None, None, None, Some(2.0)]
        );
        assert_eq!(
            floats("1e3 .5 +3 1_000"),
            vec![Some(1000.0), Some(0.5), Some(3.0), Some(1000.0)]
        );
        assert_eq!(floats("1e-1+1e-1x1"), vec![Some(0.1), Some(0.2)]);
        assert_eq!(
            floats("Inf -Inf"),
            vec![Some(f64::INFINITY), Some(f64::NEG_INFINITY)]
        );
        assert_eq!(floats(""), vec![]);
    }

    #[test]
    fn special_values() {
        let pts = parse_values("NaN stale 1 -inf").unwrap();
        assert!(matches!(pts[0], Point::Float(v) if v.is_nan() && !is_stale_nan(v)));
        assert!(matches!(pts[1], Point::Float(v) if is_stale_nan(v)));
        assert!(matches!(pts[3], Point::Float(v) if v == f64::NEG_INFINITY));
    }

    #[test]
    fn histograms_are_counted_not_stored() {
        let pts = parse_values(
            "{{schema:0 sum:5 count:4 buckets:[1 2 1]}} _ {{count:1}}+{{count:2}}x2 3",
        )
        .unwrap();
        assert_eq!(pts.len(), 6);
        assert_eq!(pts[0], Point::Histogram);
        assert_eq!(pts[1], Point::Omitted);
        assert_eq!(&pts[2..5], &[Point::Histogram; 3]);
        assert_eq!(pts[5], Point::Float(3.0));
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["1+2", "abc", "1x", "1xx2", "_y", "1+x3", "1+-2x1"] {
            assert!(parse_values(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn parses_selectors() {
        let s = parse_series_line(r#"http_requests{job="api", instance='0', path=`/a\b`} 1 2"#)
            .unwrap();
        assert_eq!(
            s.labels.to_string(),
            r#"http_requests{instance="0", job="api", path="/a\\b"}"#
        );
        assert_eq!(s.points.len(), 2);
        let s = parse_series_line(r#"{__name__="m:x", a="b\n\"c\""} 1"#).unwrap();
        assert_eq!(s.labels.metric_name(), Some("m:x"));
        assert_eq!(s.labels.get("a"), Some("b\n\"c\""));
        let s = parse_series_line("{} 3").unwrap();
        assert!(s.labels.is_empty());
        let s = parse_series_line(r#"{"my.metric", "a.b"="c",} 3"#).unwrap();
        assert_eq!(s.labels.metric_name(), Some("my.metric"));
        assert_eq!(s.labels.get("a.b"), Some("c"));
        let s = parse_series_line("metric").unwrap();
        assert!(s.points.is_empty());
        assert!(parse_series_line(r#"m{a=~"b"} 1"#).is_err());
        assert!(parse_series_line(r#"m{a="b" 1"#).is_err());
        assert!(parse_series_line("1 2").is_err());
    }
}
