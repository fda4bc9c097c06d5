//! Prometheus's string functions: `title` (golang.org/x/text's title caser, which keeps the rest of
//! each word as is), Go's `strings.ToUpper`/`ToLower` (simple, one-to-one case mappings),
//! `stripPort`/`stripDomain` (Go's `net.SplitHostPort` rules), the regex pair `match` and
//! `reReplaceAll` (Go's replacement semantics), expression-browser links and escaping.

use std::net::IpAddr;

use super::builtin::query_escape;
use super::regex::compile;
use super::{Table, str_arg, want};
use crate::gofmt;
use crate::value::Value;

/// String functions.
pub(crate) const FUNCS: Table = &[
    ("title", title),
    ("toUpper", to_upper),
    ("toLower", to_lower),
    ("stripPort", strip_port),
    ("stripDomain", strip_domain),
    ("match", match_re),
    ("reReplaceAll", re_replace_all),
    ("graphLink", graph_link),
    ("tableLink", table_link),
    ("urlQueryEscape", url_query_escape),
    ("safeHtml", safe_html),
];

fn one(args: &[Value]) -> Result<std::borrow::Cow<'_, str>, String> {
    want(args, 1)?;
    str_arg(&args[0])
}

/// Word-break classes of x/text's title caser (its approximation of Unicode's UAX #29).
#[derive(PartialEq)]
enum Class {
    /// Letters, digits, `_`, combining marks: never break a word.
    Letter,
    /// `.`, `'`, `:` and kin: inside a word, but two in a row break it.
    Mid,
    /// Everything else (spaces, most punctuation, ideographs, kana): always breaks.
    Break,
}

fn class(c: char) -> Class {
    match c {
        '\'' | '.' | ':' | '\u{b7}' | '\u{387}' | '\u{55f}' | '\u{5f4}' | '\u{2018}'
        | '\u{2019}' | '\u{2024}' | '\u{2027}' | '\u{fe13}' | '\u{fe52}' | '\u{fe55}'
        | '\u{ff07}' | '\u{ff0e}' | '\u{ff1a}' => Class::Mid,
        // Scripts written without spaces are "Other" or "Katakana" to the word breaker.
        '\u{e00}'..='\u{eff}'
        | '\u{1000}'..='\u{109f}'
        | '\u{1780}'..='\u{17ff}'
        | '\u{3040}'..='\u{30ff}'
        | '\u{31f0}'..='\u{31ff}'
        | '\u{3400}'..='\u{4dbf}'
        | '\u{4e00}'..='\u{9fff}'
        | '\u{f900}'..='\u{faff}'
        | '\u{ff66}'..='\u{ff9f}'
        | '\u{20000}'..='\u{3ffff}' => Class::Break,
        // Connector punctuation, combining marks, variation selectors and format characters.
        '_'
        | '\u{203f}'
        | '\u{2040}'
        | '\u{2054}'
        | '\u{fe33}'
        | '\u{fe34}'
        | '\u{fe4d}'..='\u{fe4f}'
        | '\u{ff3f}'
        | '\u{300}'..='\u{36f}'
        | '\u{483}'..='\u{489}'
        | '\u{1ab0}'..='\u{1aff}'
        | '\u{1dc0}'..='\u{1dff}'
        | '\u{20d0}'..='\u{20ff}'
        | '\u{fe00}'..='\u{fe0f}'
        | '\u{fe20}'..='\u{fe2f}'
        | '\u{ad}'
        | '\u{200c}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}'
        | '\u{feff}' => Class::Letter,
        c if c.is_alphanumeric() => Class::Letter,
        _ => Class::Break,
    }
}

/// Whether `c` has case (Unicode's Cased: lowercase, uppercase or titlecase).
fn is_cased(c: char) -> bool {
    c.is_lowercase()
        || c.is_uppercase()
        || matches!(c, '\u{1c5}' | '\u{1c8}' | '\u{1cb}' | '\u{1f2}')
        || greek_iota(c) == Some(c)
}

/// Greek letters with iota subscript, whose single-character upper and title forms Rust's full
/// mapping (to two characters) does not give.
fn greek_iota(c: char) -> Option<char> {
    let u = c as u32;
    let up = match u {
        0x1f80..=0x1f87 | 0x1f90..=0x1f97 | 0x1fa0..=0x1fa7 => u + 8,
        0x1f88..=0x1f8f | 0x1f98..=0x1f9f | 0x1fa8..=0x1faf | 0x1fbc | 0x1fcc | 0x1ffc => u,
        0x1fb3 | 0x1fc3 | 0x1ff3 => u + 9,
        _ => return None,
    };
    char::from_u32(up)
}

/// Titlecase mappings that differ from the uppercase ones.
fn titlecase_special(c: char) -> Option<Vec<char>> {
    let s: &[char] = match c {
        'ß' => &['S', 's'],
        '\u{1c4}'..='\u{1c6}' => &['\u{1c5}'],
        '\u{1c7}'..='\u{1c9}' => &['\u{1c8}'],
        '\u{1ca}'..='\u{1cc}' => &['\u{1cb}'],
        '\u{1f1}'..='\u{1f3}' => &['\u{1f2}'],
        '\u{587}' => &['\u{535}', '\u{582}'],
        '\u{fb00}' => &['F', 'f'],
        '\u{fb01}' => &['F', 'i'],
        '\u{fb02}' => &['F', 'l'],
        '\u{fb03}' => &['F', 'f', 'i'],
        '\u{fb04}' => &['F', 'f', 'l'],
        '\u{fb05}' | '\u{fb06}' => &['S', 't'],
        '\u{fb13}' => &['\u{544}', '\u{576}'],
        '\u{fb14}' => &['\u{544}', '\u{565}'],
        '\u{fb15}' => &['\u{544}', '\u{56b}'],
        '\u{fb16}' => &['\u{54e}', '\u{576}'],
        '\u{fb17}' => &['\u{544}', '\u{56d}'],
        _ => return greek_iota(c).map(|t| vec![t]),
    };
    Some(s.to_vec())
}

fn push_titlecase(out: &mut String, c: char) {
    match titlecase_special(c) {
        Some(t) => out.extend(t),
        None => out.extend(c.to_uppercase()),
    }
}

/// `cases.Title(language.AmericanEnglish, cases.NoLower)`: the first cased letter after a word
/// break is titlecased; everything else is copied.
fn title(args: &[Value]) -> Result<Value, String> {
    let s = one(args)?;
    let mut out = String::with_capacity(s.len());
    let mut mid_word = false;
    let mut prev_mid = false;
    for c in s.chars() {
        let cls = class(c);
        if prev_mid && cls == Class::Mid {
            mid_word = false;
        }
        if is_cased(c) {
            if mid_word {
                out.push(c);
            } else {
                push_titlecase(&mut out, c);
                mid_word = true;
            }
        } else {
            out.push(c);
            if cls == Class::Break {
                mid_word = false;
            }
        }
        prev_mid = cls == Class::Mid;
    }
    Ok(Value::Str(out))
}

/// Go's `unicode.ToUpper`: one character for one, so `ß` stays `ß`.
fn upper_simple(c: char) -> char {
    if let Some(u) = greek_iota(c) {
        return u;
    }
    let mut it = c.to_uppercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// Go's `unicode.ToLower`: one character for one, so `İ` becomes `i`.
fn lower_simple(c: char) -> char {
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(l), None) => l,
        (Some(l), Some(_)) if c == '\u{130}' => l,
        _ => c,
    }
}

fn to_upper(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Str(one(args)?.chars().map(upper_simple).collect()))
}

fn to_lower(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Str(one(args)?.chars().map(lower_simple).collect()))
}

/// Go's `net.SplitHostPort`: the port follows the last colon; a host with colons must be in
/// brackets; stray brackets are errors. None when Go would return an error.
fn split_host_port(hp: &str) -> Option<(&str, &str)> {
    let i = hp.rfind(':')?;
    let (host, from, bracket_end) = if hp.starts_with('[') {
        let end = hp.find(']')?;
        // The closing bracket must sit right before the last colon.
        if end + 1 != i {
            return None;
        }
        (&hp[1..end], 1, end + 1)
    } else {
        let host = &hp[..i];
        if host.contains(':') {
            return None;
        }
        (host, 0, 0)
    };
    if hp[from..].contains('[') || hp[bracket_end..].contains(']') {
        return None;
    }
    Some((host, &hp[i + 1..]))
}

fn strip_port(args: &[Value]) -> Result<Value, String> {
    let hp = one(args)?;
    Ok(Value::Str(match split_host_port(&hp) {
        Some((host, _)) => host.to_owned(),
        None => hp.into_owned(),
    }))
}

/// `foo.example.com:9100` → `foo:9100`; IP addresses are left alone.
fn strip_domain(args: &[Value]) -> Result<Value, String> {
    let hp = one(args)?;
    let (host, port) = split_host_port(&hp).unwrap_or((&hp, ""));
    // Go's net.ParseIP takes IPv4 and IPv6 without zones, as Rust's parser does.
    if host.parse::<IpAddr>().is_ok() {
        return Ok(Value::Str(hp.into_owned()));
    }
    let host = host.split('.').next().unwrap_or("");
    Ok(Value::Str(match (port, host.contains(':')) {
        ("", _) => host.to_owned(),
        (_, true) => format!("[{host}]:{port}"),
        (_, false) => format!("{host}:{port}"),
    }))
}

/// `match pattern text`: whether the regex matches anywhere in the text.
fn match_re(args: &[Value]) -> Result<Value, String> {
    want(args, 2)?;
    let re = compile(&str_arg(&args[0])?)?;
    Ok(Value::Bool(re.is_match(&str_arg(&args[1])?)))
}

/// `reReplaceAll pattern replacement text`, as Go's `Regexp.ReplaceAllString`: `$1`/`${name}`
/// expand, and an empty match right after a previous match is not replaced.
fn re_replace_all(args: &[Value]) -> Result<Value, String> {
    want(args, 3)?;
    let pattern = str_arg(&args[0])?;
    // Prometheus uses MustCompile, whose panic the template reports as the call's error.
    let re = compile(&pattern)
        .map_err(|e| format!("regexp: Compile({}): {e}", gofmt::quote(&pattern, false)))?;
    let repl = str_arg(&args[1])?;
    let src = str_arg(&args[2])?;
    let mut out = String::with_capacity(src.len());
    let (mut last_end, mut pos) = (0, 0);
    while pos <= src.len() {
        let Some(caps) = re.captures_at(&src, pos) else {
            break;
        };
        let Some(m) = caps.get(0) else { break };
        out.push_str(&src[last_end..m.start()]);
        if m.end() > last_end || m.start() == 0 {
            caps.expand(&repl, &mut out);
        }
        last_end = m.end();
        super::check_size(out.len() as u128 + (src.len() - last_end) as u128)?;
        // Advance past the match, and by at least one character.
        let width = src[pos..].chars().next().map_or(1, char::len_utf8);
        pos = if pos + width > m.end() {
            pos + width
        } else {
            m.end()
        };
    }
    out.push_str(&src[last_end.min(src.len())..]);
    Ok(Value::Str(out))
}

/// The expression browser's graph tab for `expr`, relative to the external URL.
fn graph_link(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Str(format!(
        "/graph?g0.expr={}&g0.tab=0",
        query_escape(&one(args)?)
    )))
}

/// The expression browser's table tab for `expr`.
fn table_link(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Str(format!(
        "/graph?g0.expr={}&g0.tab=1",
        query_escape(&one(args)?)
    )))
}

fn url_query_escape(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Str(query_escape(&one(args)?)))
}

/// Marks HTML as safe in Prometheus's consoles; text templates print it unchanged.
fn safe_html(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Str(one(args)?.into_owned()))
}
