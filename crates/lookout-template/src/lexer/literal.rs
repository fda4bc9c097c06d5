//! Go literal syntax: number literals typed as Go's `idealConstant` does, and the escapes of
//! quoted strings and characters (`strconv.Unquote`).

use crate::value::Value;

/// A number literal as Go's `idealConstant` types it: a float when written with `.`, an exponent or
/// as a hex float; an int otherwise (with Go's `0x`, `0o`, `0b` and leading-`0` octal forms).
pub(super) fn parse_number(text: &str, radix: u32) -> Result<Value, String> {
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    let (neg, body) = match clean.as_bytes().first() {
        Some(b'-') => (true, &clean[1..]),
        Some(b'+') => (false, &clean[1..]),
        _ => (false, clean.as_str()),
    };
    let is_float = if radix == 16 {
        body.contains(['p', 'P'])
    } else {
        radix == 10 && body.contains(['.', 'e', 'E'])
    };
    if is_float {
        if radix == 16 {
            return Err(format!(
                "hexadecimal floating-point literals are not supported: {text:?}"
            ));
        }
        // Go rejects literals out of float64 range rather than reading them as infinity.
        return match body.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float(if neg { -f } else { f })),
            _ => Err(format!("illegal number syntax: {text:?}")),
        };
    }
    let (digits, radix) = match radix {
        // Go reads "08" as the float 8 and then accepts it as an integer, so only all-octal
        // digits after a leading zero make an octal number.
        10 if body.len() > 1 && body.starts_with('0') && !body.contains(['8', '9']) => {
            (&body[1..], 8)
        }
        10 => (body, 10),
        _ => (&body[2..], radix),
    };
    let mag = u64::from_str_radix(digits, radix).map_err(|e| match e.kind() {
        std::num::IntErrorKind::PosOverflow => format!("{text} overflows int"),
        _ => format!("illegal number syntax: {text:?}"),
    })?;
    let n = if neg {
        0i64.checked_sub_unsigned(mag)
    } else {
        i64::try_from(mag).ok()
    };
    n.map(Value::Int)
        .ok_or_else(|| format!("{text} overflows int"))
}

/// Decodes a Go quoted literal body (between the quotes): `\n`, `\x41`, `\101`, `\u00e9`, ...
pub(super) fn unquote(body: &str, quote: char) -> Result<String, String> {
    if !body.contains('\\') {
        return Ok(body.to_owned());
    }
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let mut chars = body.char_indices().peekable();
    let bad = || format!("invalid syntax in quoted string: {quote}{body}{quote}");
    while let Some((_, c)) = chars.next() {
        if c != '\\' {
            out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            continue;
        }
        let (_, e) = chars.next().ok_or_else(bad)?;
        let mut hex = |n: usize| -> Result<u32, String> {
            let mut v = 0u32;
            for _ in 0..n {
                let (_, h) = chars.next().ok_or_else(bad)?;
                v = v * 16 + h.to_digit(16).ok_or_else(bad)?;
            }
            Ok(v)
        };
        let simple = match e {
            'a' => Some(7u8),
            'b' => Some(8),
            'f' => Some(12),
            'n' => Some(b'\n'),
            'r' => Some(b'\r'),
            't' => Some(b'\t'),
            'v' => Some(11),
            '\\' => Some(b'\\'),
            '"' if quote == '"' => Some(b'"'),
            '\'' if quote == '\'' => Some(b'\''),
            _ => None,
        };
        if let Some(b) = simple {
            out.push(b);
            continue;
        }
        match e {
            // \x and octal escapes are bytes; an invalid UTF-8 result is replaced below.
            'x' => out.push(u8::try_from(hex(2)?).map_err(|_| bad())?),
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    let (_, d) = chars.next().ok_or_else(bad)?;
                    v = v * 8 + d.to_digit(8).ok_or_else(bad)?;
                }
                out.push(u8::try_from(v).map_err(|_| bad())?);
            }
            'u' | 'U' => {
                let c = char::from_u32(hex(if e == 'u' { 4 } else { 8 })?).ok_or_else(bad)?;
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            }
            _ => return Err(bad()),
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}
