//! Duration expressions (Prometheus's experimental `[5m+30s]`, `[step()*2:1m]`, `offset (1h/2)`).
//!
//! `promql-parser` accepts only literal durations, so a query it refuses is rewritten: every arithmetic
//! duration inside brackets, and the operand of `offset`, is evaluated (with `step()` and `range()` of
//! the query) and replaced by a literal in milliseconds. Queries that parse as written are never touched.

/// Values of `step()` and `range()` for the query being rewritten, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueryTiming {
    pub step_ms: i64,
    pub range_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A number or duration, in seconds.
    Num(f64),
    Op(char),
    LParen,
    RParen,
    Comma,
    Ident(String),
}

fn unit_seconds(unit: &str) -> Option<f64> {
    Some(match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        "w" => 604_800.0,
        "y" => 31_536_000.0,
        _ => return None,
    })
}

fn tokenize(s: &str) -> Option<Vec<Tok>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            // A number, then optionally unit-suffixed segments such as 1h30m or 500ms.
            let mut total = 0.0;
            let mut any_unit = false;
            loop {
                let start = i;
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                    i += 1;
                }
                let n: f64 = s[start..i].parse().ok()?;
                let ustart = i;
                while i < b.len() && b[i].is_ascii_lowercase() {
                    i += 1;
                }
                let unit = &s[ustart..i];
                if unit.is_empty() {
                    if any_unit {
                        return None;
                    }
                    total = n;
                    break;
                }
                // "ms" may be followed by more segments; a unit run like "mh" is invalid.
                total += n * unit_seconds(unit)?;
                any_unit = true;
                if !(i < b.len() && b[i].is_ascii_digit()) {
                    break;
                }
            }
            out.push(Tok::Num(total));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(s[start..i].to_ascii_lowercase()));
        } else {
            out.push(match c {
                '(' => Tok::LParen,
                ')' => Tok::RParen,
                ',' => Tok::Comma,
                '+' | '-' | '*' | '/' | '%' | '^' => Tok::Op(c),
                _ => return None,
            });
            i += 1;
        }
    }
    Some(out)
}

/// Recursive-descent evaluation of a tokenized duration expression, in seconds.
struct Eval<'t> {
    toks: &'t [Tok],
    pos: usize,
    timing: QueryTiming,
}

impl Eval<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> Option<f64> {
        let mut v = self.term()?;
        loop {
            if self.eat(&Tok::Op('+')) {
                v += self.term()?;
            } else if self.eat(&Tok::Op('-')) {
                v -= self.term()?;
            } else {
                return Some(v);
            }
        }
    }

    fn term(&mut self) -> Option<f64> {
        let mut v = self.unary()?;
        loop {
            if self.eat(&Tok::Op('*')) {
                v *= self.unary()?;
            } else if self.eat(&Tok::Op('/')) {
                v /= self.unary()?;
            } else if self.eat(&Tok::Op('%')) {
                v %= self.unary()?;
            } else {
                return Some(v);
            }
        }
    }

    /// A sign applies to the whole power: `-2^2` is -4.
    fn unary(&mut self) -> Option<f64> {
        if self.eat(&Tok::Op('-')) {
            return Some(-self.unary()?);
        }
        if self.eat(&Tok::Op('+')) {
            return self.unary();
        }
        self.power()
    }

    fn power(&mut self) -> Option<f64> {
        let base = self.primary()?;
        if self.eat(&Tok::Op('^')) {
            return Some(base.powf(self.unary()?));
        }
        Some(base)
    }

    fn primary(&mut self) -> Option<f64> {
        match self.peek()?.clone() {
            Tok::Num(n) => {
                self.pos += 1;
                Some(n)
            }
            Tok::LParen => {
                self.pos += 1;
                let v = self.expr()?;
                self.eat(&Tok::RParen).then_some(v)
            }
            Tok::Ident(name) => {
                self.pos += 1;
                if !self.eat(&Tok::LParen) {
                    return None;
                }
                let mut args = Vec::new();
                if !self.eat(&Tok::RParen) {
                    loop {
                        args.push(self.expr()?);
                        if self.eat(&Tok::RParen) {
                            break;
                        }
                        if !self.eat(&Tok::Comma) {
                            return None;
                        }
                    }
                }
                match (name.as_str(), args.as_slice()) {
                    ("step", []) => Some(self.timing.step_ms as f64 / 1000.0),
                    ("range", []) => Some(self.timing.range_ms as f64 / 1000.0),
                    ("min_of", [a, b]) => Some(a.min(*b)),
                    ("max_of", [a, b]) => Some(a.max(*b)),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// Evaluates a whole duration expression to milliseconds.
fn eval_ms(s: &str, timing: QueryTiming) -> Option<i64> {
    let toks = tokenize(s)?;
    let mut e = Eval {
        toks: &toks,
        pos: 0,
        timing,
    };
    let v = e.expr()?;
    (e.pos == toks.len() && v.is_finite()).then(|| (v * 1000.0).round() as i64)
}

/// True for a literal the parser accepts as is (`5m`, `1h30m`, `300`).
fn is_plain_duration(s: &str) -> bool {
    let s = s.trim();
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'.')
}

/// Rewrites the contents of one `[...]`: each `:`-separated part that is not a literal.
fn rewrite_brackets(inner: &str, timing: QueryTiming) -> Option<String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ':' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    let mut out = Vec::new();
    for p in parts {
        if p.trim().is_empty() || is_plain_duration(p) {
            out.push(p.to_string());
        } else {
            out.push(format!("{}ms", eval_ms(p, timing)?));
        }
    }
    Some(out.join(":"))
}

/// The end of the `offset` operand starting at `i` (after spaces): an optional sign, then a
/// parenthesised expression or a call of step/range/min_of/max_of. `None` when it is a literal.
fn offset_operand_end(b: &[u8], mut i: usize) -> Option<usize> {
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    if i < b.len() && b[i] == b'(' {
        return crate::literals::closing_bracket(b, i).map(|e| e + 1);
    }
    let start = i;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
        i += 1;
    }
    let name = std::str::from_utf8(&b[start..i]).ok()?.to_ascii_lowercase();
    if !matches!(name.as_str(), "step" | "range" | "min_of" | "max_of") {
        return None;
    }
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    if i < b.len() && b[i] == b'(' {
        return crate::literals::closing_bracket(b, i).map(|e| e + 1);
    }
    None
}

/// Rewrites the duration expressions of `query`, or `None` when there is nothing to rewrite or an
/// expression does not evaluate.
pub(crate) fn rewrite(query: &str, timing: QueryTiming) -> Option<String> {
    let b = query.as_bytes();
    let mut out = String::with_capacity(query.len());
    let mut changed = false;
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' | b'`' => i = crate::literals::skip_quoted(b, i),
            b'[' => {
                let close = crate::literals::closing_bracket(b, i)?;
                let inner = &query[i + 1..close];
                let new = rewrite_brackets(inner, timing)?;
                if new != inner {
                    out.push_str(&query[copied..=i]);
                    out.push_str(&new);
                    copied = close;
                    changed = true;
                }
                i = close + 1;
            }
            c if c.is_ascii_alphabetic() => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                let word_start_ok =
                    start == 0 || !(b[start - 1].is_ascii_alphanumeric() || b[start - 1] == b'_');
                if word_start_ok && query[start..i].eq_ignore_ascii_case("offset") {
                    let mut j = i;
                    while j < b.len() && b[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    if let Some(end) = offset_operand_end(b, j) {
                        let ms = eval_ms(&query[j..end], timing)?;
                        out.push_str(&query[copied..j]);
                        // The parser refuses a zero duration literal but takes a plain 0.
                        if ms == 0 {
                            out.push('0');
                        } else {
                            out.push_str(&format!("{ms}ms"));
                        }
                        copied = end;
                        changed = true;
                        i = end;
                    }
                }
            }
            _ => i += 1,
        }
    }
    if !changed {
        return None;
    }
    out.push_str(&query[copied.min(query.len())..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: QueryTiming = QueryTiming {
        step_ms: 5000,
        range_ms: 10_000,
    };

    #[test]
    fn evaluates_duration_arithmetic() {
        assert_eq!(eval_ms("26m+4m", T), Some(1_800_000));
        assert_eq!(eval_ms("60*30", T), Some(1_800_000));
        assert_eq!(eval_ms("1h30m % 1h", T), Some(1_800_000));
        assert_eq!(eval_ms("30m1s-30m1s % 1m", T), Some(1_800_000));
        assert_eq!(
            eval_ms("((((8 - 2) / 3) * 7s) % 4) + 8000ms", T),
            Some(10_000)
        );
        assert_eq!(eval_ms("-2 ^ 2", T), Some(-4000));
        assert_eq!(eval_ms("max_of(min_of(STep()+1,1h),1ms)", T), Some(6000));
        assert_eq!(eval_ms("1 +", T), None);
    }

    #[test]
    fn rewrites_brackets_and_offset_operands_only() {
        assert_eq!(
            rewrite("changes(x[26m+4m])", T).as_deref(),
            Some("changes(x[1800000ms])")
        );
        assert_eq!(
            rewrite("s(x[29s+1s:5s+5s])", T).as_deref(),
            Some("s(x[30000ms:10000ms])")
        );
        assert_eq!(
            rewrite("x offset (100 + 2)", T).as_deref(),
            Some("x offset 102000ms")
        );
        assert_eq!(
            rewrite("x offset -step()*2", T).as_deref(),
            Some("x offset -5000ms*2")
        );
        assert_eq!(
            rewrite("x offset -min_of(step(), 1s)+8000", T).as_deref(),
            Some("x offset -1000ms+8000")
        );
        assert_eq!(rewrite(r#"x{a="[1+1]"} offset 5m"#, T), None);
        assert_eq!(rewrite("rate(x[5m])", T), None);
        let instant = QueryTiming {
            step_ms: 0,
            range_ms: 0,
        };
        assert_eq!(
            rewrite("x offset range()", instant).as_deref(),
            Some("x offset 0")
        );
    }
}
