//! Tokens → [`Node`]s, with Go's parse-time checks: unknown functions, undefined variables, misplaced
//! `{{else}}`/`{{end}}`/`{{break}}`, non-executable pipeline stages. Nesting is bounded by
//! [`MAX_NESTING`](crate::MAX_NESTING) so hostile input cannot exhaust the stack.

use crate::MAX_NESTING;
use crate::ast::{Branch, BranchKind, Cmd, Node, Operand, Pipe, Term};
use crate::functions::Functions;
use crate::lexer::{Tok, Token};
use crate::value::Value;

/// A parse error at a byte offset.
#[derive(Debug)]
pub(crate) struct ParseError {
    pub pos: usize,
    pub msg: String,
}

type Result<T> = std::result::Result<T, ParseError>;

/// How a list of nodes ended.
enum Stop {
    End,
    Else,
    Eof,
}

/// Parses the tokens of a whole template.
pub(crate) fn parse(tokens: Vec<Token>, funcs: &Functions) -> Result<Vec<Node>> {
    let mut p = Parser {
        tokens,
        i: 0,
        funcs,
        vars: vec!["$".to_owned()],
        depth: 0,
        ranges: 0,
    };
    let (nodes, stop) = p.list()?;
    match stop {
        Stop::Eof => Ok(nodes),
        Stop::End => p.fail_prev("unexpected {{end}}"),
        Stop::Else => p.fail_prev("unexpected {{else}}"),
    }
}

struct Parser<'a> {
    tokens: Vec<Token>,
    i: usize,
    funcs: &'a Functions,
    /// Variables in scope, innermost last (Go's `t.vars`).
    vars: Vec<String>,
    depth: usize,
    /// How many `{{range}}`s enclose the current position, for `{{break}}`/`{{continue}}`.
    ranges: usize,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Text(_) => "text".into(),
        Tok::Open => "\"{{\"".into(),
        Tok::Close => "\"}}\"".into(),
        Tok::Ident(s) | Tok::Field(s) | Tok::Var(s) => format!("{s:?}"),
        Tok::Keyword(k) => format!("<{k}>"),
        Tok::Dot => "\".\"".into(),
        Tok::Const(v) => format!("{:?}", v.to_string()),
        Tok::Pipe => "\"|\"".into(),
        Tok::LParen => "\"(\"".into(),
        Tok::RParen => "\")\"".into(),
        Tok::Declare => "\":=\"".into(),
        Tok::Assign => "\"=\"".into(),
        Tok::Comma => "\",\"".into(),
        Tok::Eof => "EOF".into(),
    }
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        // The lexer always ends with Eof, and `next` never moves past it.
        &self.tokens[self.i.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.i < self.tokens.len() - 1 {
            self.i += 1;
        }
        t
    }

    fn fail<T>(&self, pos: usize, msg: impl Into<String>) -> Result<T> {
        Err(ParseError {
            pos,
            msg: msg.into(),
        })
    }

    fn fail_prev<T>(&self, msg: &str) -> Result<T> {
        let pos = self.tokens[self.i.saturating_sub(1)].pos;
        self.fail(pos, msg)
    }

    fn enter(&mut self, pos: usize) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return self.fail(
                pos,
                format!("nesting exceeds the limit of {MAX_NESTING} levels"),
            );
        }
        Ok(())
    }

    fn expect_close(&mut self, context: &str) -> Result<()> {
        let t = self.next();
        match t.tok {
            Tok::Close => Ok(()),
            other => self.fail(
                t.pos,
                format!("unexpected {} in {context}", describe(&other)),
            ),
        }
    }

    /// Nodes up to `{{end}}`, `{{else}}` or the end of input; consumes the `{{end}}`/`{{else` tokens.
    fn list(&mut self) -> Result<(Vec<Node>, Stop)> {
        let mut nodes = Vec::new();
        loop {
            let t = self.next();
            match t.tok {
                Tok::Text(s) => nodes.push(Node::Text(s)),
                Tok::Eof => return Ok((nodes, Stop::Eof)),
                Tok::Open => {
                    let kw = self.peek().clone();
                    match kw.tok {
                        Tok::Keyword("end") => {
                            self.next();
                            self.expect_close("end")?;
                            return Ok((nodes, Stop::End));
                        }
                        Tok::Keyword("else") => {
                            self.next();
                            return Ok((nodes, Stop::Else));
                        }
                        Tok::Keyword(k @ ("if" | "with" | "range")) => {
                            self.next();
                            nodes.push(self.branch(k, kw.pos)?);
                        }
                        Tok::Keyword(k @ ("break" | "continue")) => {
                            self.next();
                            if self.ranges == 0 {
                                return self
                                    .fail(kw.pos, format!("{{{{{k}}}}} outside {{{{range}}}}"));
                            }
                            self.expect_close(k)?;
                            nodes.push(if k == "break" {
                                Node::Break
                            } else {
                                Node::Continue
                            });
                        }
                        Tok::Keyword(k) => {
                            return self.fail(kw.pos, format!("{{{{{k}}}}} is not supported"));
                        }
                        _ => {
                            let pipe = self.pipeline("command", false)?;
                            nodes.push(Node::Action(pipe));
                        }
                    }
                }
                other => return self.fail(t.pos, format!("unexpected {}", describe(&other))),
            }
        }
    }

    /// `{{if|with|range pipeline}} list [{{else}} list | {{else if ...}}] {{end}}`, after the keyword.
    fn branch(&mut self, kw: &'static str, pos: usize) -> Result<Node> {
        self.enter(pos)?;
        let kind = match kw {
            "if" => BranchKind::If,
            "with" => BranchKind::With,
            _ => BranchKind::Range,
        };
        let mark = self.vars.len();
        let pipe = self.pipeline(kw, kind == BranchKind::Range)?;
        if kind == BranchKind::Range {
            self.ranges += 1;
        }
        let (list, stop) = self.list()?;
        if kind == BranchKind::Range {
            self.ranges -= 1;
        }
        let else_list = match stop {
            Stop::End => Vec::new(),
            Stop::Eof => return self.fail_prev("unexpected EOF"),
            Stop::Else => {
                let next = self.peek().clone();
                match next.tok {
                    // `{{else if}}` / `{{else with}}` nest a branch that owns the shared `{{end}}`.
                    Tok::Keyword(k @ ("if" | "with")) if k == kw => {
                        self.next();
                        vec![self.branch(k, next.pos)?]
                    }
                    _ => {
                        self.expect_close("else")?;
                        match self.list()? {
                            (l, Stop::End) => l,
                            (_, Stop::Else) => {
                                return self.fail_prev("expected end; found {{else}}");
                            }
                            (_, Stop::Eof) => return self.fail_prev("unexpected EOF"),
                        }
                    }
                }
            }
        };
        self.vars.truncate(mark);
        self.depth -= 1;
        Ok(Node::Branch(Box::new(Branch {
            kind,
            pipe,
            list,
            else_list,
        })))
    }

    /// Optional declarations, then commands separated by `|`, up to `}}` (or `)` when `paren`).
    fn pipeline_until(&mut self, context: &str, range: bool, paren: bool) -> Result<Pipe> {
        let pos = self.peek().pos;
        let mut decl = Vec::new();
        let mut is_assign = false;
        // Declarations: `$x :=`, `$x =`, and in range `$i, $v :=`.
        let save = self.i;
        while let Tok::Var(name) = self.peek().tok.clone() {
            let vpos = self.next().pos;
            match self.peek().tok {
                Tok::Declare | Tok::Assign => {
                    is_assign = self.next().tok == Tok::Assign;
                    decl.push((name, vpos));
                    break;
                }
                Tok::Comma if range && decl.is_empty() => {
                    self.next();
                    decl.push((name, vpos));
                    if !matches!(self.peek().tok, Tok::Var(_)) {
                        return self.fail(self.peek().pos, "range can only initialize variables");
                    }
                }
                Tok::Comma => {
                    return self.fail(vpos, format!("too many declarations in {context}"));
                }
                _ => {
                    if !decl.is_empty() {
                        return self.fail(vpos, format!("missing := after variables in {context}"));
                    }
                    self.i = save; // not a declaration: the variable is an operand
                    break;
                }
            }
        }
        let mut cmds = Vec::new();
        loop {
            let cmd = self.command(cmds.len() + 1)?;
            cmds.push(cmd);
            let t = self.next();
            match t.tok {
                Tok::Pipe => continue,
                Tok::Close if !paren => break,
                Tok::RParen if paren => break,
                other => {
                    return self.fail(t.pos, format!("unexpected {} in operand", describe(&other)));
                }
            }
        }
        // Declared after the pipeline is parsed: `{{$x := $x}}` reads the outer `$x`.
        for (name, vpos) in &decl {
            if is_assign {
                if !self.vars.contains(name) {
                    return self.fail(*vpos, format!("undefined variable {name:?}"));
                }
            } else {
                self.vars.push(name.clone());
            }
        }
        let decl = decl.into_iter().map(|(n, _)| n).collect();
        Ok(Pipe {
            pos,
            decl,
            is_assign,
            cmds,
        })
    }

    fn pipeline(&mut self, context: &str, range: bool) -> Result<Pipe> {
        let start = self.peek().clone();
        if matches!(start.tok, Tok::Close) {
            return self.fail(start.pos, format!("missing value for {context}"));
        }
        self.pipeline_until(context, range, false)
    }

    /// Operands separated by spaces, up to `|`, `}}` or `)`.
    fn command(&mut self, stage: usize) -> Result<Cmd> {
        let pos = self.peek().pos;
        let mut args: Vec<Operand> = Vec::new();
        loop {
            let t = self.peek().clone();
            if matches!(t.tok, Tok::Pipe | Tok::Close | Tok::RParen | Tok::Eof) {
                break;
            }
            if !args.is_empty() && !t.space_before {
                return self.fail(t.pos, format!("unexpected {} in operand", describe(&t.tok)));
            }
            match self.operand()? {
                Some(op) => args.push(op),
                None => {
                    return self.fail(t.pos, format!("unexpected {} in operand", describe(&t.tok)));
                }
            }
        }
        let Some(first) = args.first() else {
            return self.fail(pos, "missing value for command");
        };
        let is_func = matches!(first.term, Term::Func(_)) && first.fields.is_empty();
        if !is_func {
            // Go lets field chains (`.a.Method`, `$x.Method`, `(pipe).Method`), variables and
            // parenthesised pipelines into later stages; only literals and `.` can never execute.
            let literal = matches!(first.term, Term::Const(_))
                || (matches!(first.term, Term::Dot) && first.fields.is_empty());
            if stage > 1 && literal {
                return self.fail(
                    pos,
                    format!("non executable command in pipeline stage {stage}"),
                );
            }
            // A field chain may end in a method that takes the arguments; the executor decides.
            if args.len() > 1 && first.fields.is_empty() {
                return self.fail(
                    pos,
                    format!("can't give argument to non-function {}", first.describe()),
                );
            }
            if matches!(first.term, Term::Const(Value::Nil)) {
                return self.fail(pos, "nil is not a command");
            }
        }
        Ok(Cmd { pos, args })
    }

    /// A term and the fields chained onto it without spaces; None if no operand starts here.
    fn operand(&mut self) -> Result<Option<Operand>> {
        let t = self.peek().clone();
        let mut fields = Vec::new();
        let term = match t.tok {
            Tok::Ident(name) => {
                if !self.funcs.contains(&name) {
                    return self.fail(t.pos, format!("function {name:?} not defined"));
                }
                Term::Func(name)
            }
            Tok::Dot => Term::Dot,
            Tok::Field(f) => {
                fields.push(f);
                Term::Dot
            }
            Tok::Var(name) => {
                if !self.vars.contains(&name) {
                    return self.fail(t.pos, format!("undefined variable {name:?}"));
                }
                Term::Var(name)
            }
            Tok::Const(v) => Term::Const(v),
            Tok::LParen => {
                self.next();
                self.enter(t.pos)?;
                let pipe = self.pipeline_until("parenthesized pipeline", false, true)?;
                self.depth -= 1;
                return self
                    .chain(t.pos, Term::Pipe(Box::new(pipe)), fields)
                    .map(Some);
            }
            _ => return Ok(None),
        };
        self.next();
        self.chain(t.pos, term, fields).map(Some)
    }

    /// Collects `.a.b` directly after a term; Go rejects fields on literals, `.` and functions.
    fn chain(&mut self, pos: usize, term: Term, mut fields: Vec<String>) -> Result<Operand> {
        while let Tok::Field(f) = &self.peek().tok {
            if self.peek().space_before {
                break;
            }
            if matches!(term, Term::Const(_) | Term::Func(_))
                || (matches!(term, Term::Dot) && fields.is_empty())
            {
                let op = Operand { pos, term, fields };
                return self.fail(
                    self.peek().pos,
                    format!("unexpected . after term {:?}", op.describe()),
                );
            }
            fields.push(f.clone());
            self.next();
        }
        Ok(Operand { pos, term, fields })
    }
}
