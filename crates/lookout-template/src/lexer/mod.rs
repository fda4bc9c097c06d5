//! Splits a template into text and action tokens, as Go's `text/template/parse` lexer does (same
//! delimiters `{{ }}`, trim markers `{{- ` / ` -}}`, comments `{{/* */}}`, literals and escapes),
//! but eagerly into a vector: no goroutine-style thread, and every error carries a byte offset.

mod literal;

use literal::{parse_number, unquote};

use crate::value::Value;

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// Literal text outside actions, already trimmed by neighbouring trim markers.
    Text(String),
    /// `{{` (with or without a trim marker).
    Open,
    /// `}}` (with or without a trim marker).
    Close,
    /// A function name.
    Ident(String),
    /// A keyword: if, else, end, range, with, break, continue, define, template, block.
    Keyword(&'static str),
    /// `.name`
    Field(String),
    /// `.`
    Dot,
    /// `$` or `$name` (the name includes the `$`).
    Var(String),
    /// A literal constant: string, number, character, boolean or nil.
    Const(Value),
    /// `|`
    Pipe,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `:=`
    Declare,
    /// `=`
    Assign,
    /// `,`
    Comma,
    /// End of input.
    Eof,
}

/// A token with its byte offset and whether whitespace preceded it (Go separates operands by
/// spaces and chains fields only when none intervenes).
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub pos: usize,
    pub space_before: bool,
}

/// A lexing error at a byte offset.
#[derive(Debug)]
pub(crate) struct LexError {
    pub pos: usize,
    pub msg: String,
}

const KEYWORDS: [&str; 10] = [
    "block", "break", "continue", "define", "else", "end", "if", "range", "template", "with",
];

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Tokenizes `src`.
pub(crate) fn lex(src: &str) -> Result<Vec<Token>, LexError> {
    let mut l = Lexer {
        src,
        pos: 0,
        out: Vec::new(),
        trim_next_text: false,
    };
    l.run()?;
    Ok(l.out)
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    out: Vec<Token>,
    /// The previous action ended with ` -}}`: drop the next text's leading whitespace.
    trim_next_text: bool,
}

impl<'a> Lexer<'a> {
    fn err<T>(&self, pos: usize, msg: impl Into<String>) -> Result<T, LexError> {
        Err(LexError {
            pos,
            msg: msg.into(),
        })
    }

    fn push(&mut self, tok: Tok, pos: usize, space_before: bool) {
        self.out.push(Token {
            tok,
            pos,
            space_before,
        });
    }

    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn run(&mut self) -> Result<(), LexError> {
        loop {
            let start = self.pos;
            let open = self.rest().find("{{").map(|i| start + i);
            let end = open.unwrap_or(self.src.len());
            let mut text = &self.src[start..end];
            if std::mem::take(&mut self.trim_next_text) {
                text = text.trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8));
            }
            let Some(open) = open else {
                if !text.is_empty() {
                    self.push(Tok::Text(text.to_owned()), start, false);
                }
                self.push(Tok::Eof, self.src.len(), false);
                return Ok(());
            };
            let after = &self.src.as_bytes()[open + 2..];
            let trim_left = after.len() >= 2 && after[0] == b'-' && is_space(after[1]);
            if trim_left {
                text = text.trim_end_matches(|c: char| c.is_ascii() && is_space(c as u8));
            }
            if !text.is_empty() {
                self.push(Tok::Text(text.to_owned()), start, false);
            }
            self.pos = open + 2 + if trim_left { 2 } else { 0 };
            if self.rest().starts_with("/*") {
                self.comment(open)?;
            } else {
                self.push(Tok::Open, open, false);
                self.action()?;
            }
        }
    }

    /// `{{/* ... */}}`: Go requires the comment to fill the whole action.
    fn comment(&mut self, open: usize) -> Result<(), LexError> {
        let Some(end) = self.rest()[2..].find("*/") else {
            return self.err(open, "unclosed comment");
        };
        self.pos += 2 + end + 2;
        match self.right_delim() {
            Some(len) => {
                self.pos += len;
                Ok(())
            }
            None => self.err(self.pos, "comment ends before closing delimiter"),
        }
    }

    /// At `}}` or ` -}}`: the delimiter's length, noting a trim marker.
    fn right_delim(&mut self) -> Option<usize> {
        let r = self.rest().as_bytes();
        if r.starts_with(b"}}") {
            return Some(2);
        }
        if r.len() >= 4 && is_space(r[0]) && &r[1..4] == b"-}}" {
            self.trim_next_text = true;
            return Some(4);
        }
        None
    }

    fn action(&mut self) -> Result<(), LexError> {
        let mut depth = 0usize;
        let mut space = false;
        loop {
            if let Some(len) = self.right_delim() {
                if depth > 0 {
                    return self.err(self.pos, "unclosed left paren");
                }
                self.push(Tok::Close, self.pos, space);
                self.pos += len;
                return Ok(());
            }
            let start = self.pos;
            let Some(c) = self.rest().chars().next() else {
                return self.err(start, "unclosed action");
            };
            if c.is_ascii() && is_space(c as u8) {
                self.pos += 1;
                space = true;
                continue;
            }
            let tok = match c {
                '|' => self.single(Tok::Pipe),
                ',' => self.single(Tok::Comma),
                '=' => self.single(Tok::Assign),
                ':' => {
                    if !self.rest().starts_with(":=") {
                        return self.err(start, "expected :=");
                    }
                    self.pos += 2;
                    Tok::Declare
                }
                '(' => {
                    depth += 1;
                    self.single(Tok::LParen)
                }
                ')' => {
                    if depth == 0 {
                        return self.err(start, "unexpected right paren");
                    }
                    depth -= 1;
                    self.single(Tok::RParen)
                }
                '"' => self.quoted()?,
                '`' => self.raw()?,
                '\'' => self.char_const()?,
                '$' => {
                    self.pos += 1;
                    let name = self.word();
                    self.terminator()?;
                    Tok::Var(format!("${name}"))
                }
                '.' if !self.rest()[1..].starts_with(|c: char| c.is_ascii_digit()) => {
                    self.pos += 1;
                    let name = self.word();
                    self.terminator()?;
                    if name.is_empty() {
                        Tok::Dot
                    } else {
                        Tok::Field(name.to_owned())
                    }
                }
                '.' | '+' | '-' | '0'..='9' => self.number()?,
                c if is_alnum(c) => {
                    let word = self.word();
                    self.terminator()?;
                    match word {
                        "true" => Tok::Const(Value::Bool(true)),
                        "false" => Tok::Const(Value::Bool(false)),
                        "nil" => Tok::Const(Value::Nil),
                        w => match KEYWORDS.iter().find(|k| **k == w) {
                            Some(k) => Tok::Keyword(k),
                            None => Tok::Ident(w.to_owned()),
                        },
                    }
                }
                c => return self.err(start, format!("unrecognized character in action: {c:?}")),
            };
            self.push(tok, start, space);
            space = false;
        }
    }

    fn single(&mut self, tok: Tok) -> Tok {
        self.pos += 1;
        tok
    }

    /// Consumes an identifier-like run of letters, digits and underscores.
    fn word(&mut self) -> &'a str {
        let start = self.pos;
        let len = self
            .rest()
            .find(|c: char| !is_alnum(c))
            .unwrap_or(self.rest().len());
        self.pos += len;
        &self.src[start..self.pos]
    }

    /// Go requires a word to end at a space, punctuation that can follow an operand, or `}}`.
    fn terminator(&self) -> Result<(), LexError> {
        match self.rest().chars().next() {
            None => Ok(()),
            Some(c) if c.is_ascii() && is_space(c as u8) => Ok(()),
            Some('.' | ',' | '|' | ':' | ')' | '(' | '=') => Ok(()),
            Some(_) if self.rest().starts_with("}}") => Ok(()),
            Some(c) => self.err(self.pos, format!("bad character {c:?}")),
        }
    }

    fn quoted(&mut self) -> Result<Tok, LexError> {
        let start = self.pos;
        let b = self.src.as_bytes();
        let mut i = start + 1;
        loop {
            match b.get(i) {
                None | Some(b'\n') => return self.err(start, "unterminated quoted string"),
                Some(b'\\') => i += 2,
                Some(b'"') => break,
                Some(_) => i += 1,
            }
        }
        self.pos = i + 1;
        let body = &self.src[start + 1..i];
        unquote(body, '"')
            .map(|s| Tok::Const(Value::Str(s)))
            .or_else(|m| self.err(start, m))
    }

    fn raw(&mut self) -> Result<Tok, LexError> {
        let start = self.pos;
        let Some(end) = self.rest()[1..].find('`') else {
            return self.err(start, "unterminated raw quoted string");
        };
        let body = &self.src[start + 1..start + 1 + end];
        self.pos = start + end + 2;
        // Go drops carriage returns from raw strings.
        Ok(Tok::Const(Value::Str(body.replace('\r', ""))))
    }

    fn char_const(&mut self) -> Result<Tok, LexError> {
        let start = self.pos;
        let b = self.src.as_bytes();
        let mut i = start + 1;
        loop {
            match b.get(i) {
                None | Some(b'\n') => return self.err(start, "unterminated character constant"),
                Some(b'\\') => i += 2,
                Some(b'\'') => break,
                Some(_) => i += 1,
            }
        }
        self.pos = i + 1;
        let s = unquote(&self.src[start + 1..i], '\'').or_else(|m| self.err(start, m))?;
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Ok(Tok::Const(Value::Int(i64::from(u32::from(c))))),
            _ => self.err(
                start,
                format!(
                    "malformed character constant: '{}'",
                    &self.src[start + 1..i]
                ),
            ),
        }
    }

    fn number(&mut self) -> Result<Tok, LexError> {
        let start = self.pos;
        let b = self.src.as_bytes();
        let mut i = start;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let mut radix = 10;
        if b.get(i) == Some(&b'0') {
            match b.get(i + 1).map(u8::to_ascii_lowercase) {
                Some(b'x') => radix = 16,
                Some(b'o') => radix = 8,
                Some(b'b') => radix = 2,
                _ => {}
            }
            if radix != 10 {
                i += 2;
            }
        }
        let digit = |c: u8| c == b'_' || (c as char).is_digit(radix);
        while b.get(i).is_some_and(|&c| digit(c)) {
            i += 1;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            while b.get(i).is_some_and(|&c| digit(c)) {
                i += 1;
            }
        }
        let exp: &[u8] = match radix {
            10 => b"eE",
            16 => b"pP",
            _ => b"",
        };
        if b.get(i).is_some_and(|c| exp.contains(c)) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            while b.get(i).is_some_and(|&c| c == b'_' || c.is_ascii_digit()) {
                i += 1;
            }
        }
        let text = &self.src[start..i];
        self.pos = i;
        if let Some(c) = self.rest().chars().next().filter(|&c| is_alnum(c)) {
            return self.err(start, format!("bad number syntax: \"{text}{c}\""));
        }
        parse_number(text, radix)
            .map(Tok::Const)
            .or_else(|m| self.err(start, m))
    }
}
