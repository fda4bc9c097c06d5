//! Walks the parsed nodes against data, as Go's `text/template` `exec.go`: truth, `with`/`range`
//! scoping, lazy `and`/`or`, variables on a stack popped at the end of each control structure.
//! Work is bounded: [`MAX_STEPS`](crate::MAX_STEPS) evaluation steps (producing a string costs a step
//! per 64 bytes) and [`MAX_OUTPUT_BYTES`](crate::MAX_OUTPUT_BYTES) for the output and any value.

use std::borrow::Cow;

use crate::ast::{Branch, BranchKind, Cmd, Node, Operand, Pipe, Term};
use crate::functions::{Entry, Functions};
use crate::gofmt;
use crate::value::Value;
use crate::{MAX_OUTPUT_BYTES, MAX_STEPS};

/// An evaluation error at a byte offset of the source.
#[derive(Debug)]
pub(crate) struct ExecError {
    pub pos: usize,
    pub msg: String,
}

type Result<T> = std::result::Result<T, ExecError>;

/// What a list asks its enclosing range to do.
#[derive(PartialEq)]
enum Flow {
    Normal,
    Break,
    Continue,
}

fn err<T>(pos: usize, msg: impl Into<String>) -> Result<T> {
    Err(ExecError {
        pos,
        msg: msg.into(),
    })
}

/// Renders `nodes` with `data` as both `.` and `$`.
pub(crate) fn render(nodes: &[Node], data: &Value, funcs: &Functions) -> Result<String> {
    let mut ex = Exec {
        funcs,
        root: data,
        vars: Vec::new(),
        out: String::new(),
        steps: 0,
    };
    ex.walk(nodes, data)?;
    Ok(ex.out)
}

struct Exec<'a> {
    funcs: &'a Functions,
    root: &'a Value,
    /// Declared variables, innermost last; `$` is `root` and never stored.
    vars: Vec<(&'a str, Value)>,
    out: String,
    steps: usize,
}

/// Looks up `.a.b` on `base` without copying it; a map's missing key reads as "" (Loki's
/// `missingkey=zero` on string maps) and any field of nil is nil.
fn fields<'v>(base: &'v Value, names: &[String], pos: usize) -> Result<Cow<'v, Value>> {
    let mut cur = base;
    for name in names {
        match cur {
            Value::Map(m) => match m.get(name) {
                Some(v) => cur = v,
                None => return Ok(Cow::Owned(Value::Str(String::new()))),
            },
            Value::Nil => return Ok(Cow::Owned(Value::Nil)),
            other => {
                return err(
                    pos,
                    format!("can't evaluate field {name} in type {}", other.type_name()),
                );
            }
        }
    }
    Ok(Cow::Borrowed(cur))
}

impl<'a> Exec<'a> {
    fn step(&mut self, pos: usize, n: usize) -> Result<()> {
        self.steps += n;
        if self.steps > MAX_STEPS {
            return err(
                pos,
                format!("evaluation exceeds the limit of {MAX_STEPS} steps"),
            );
        }
        Ok(())
    }

    fn walk(&mut self, nodes: &'a [Node], dot: &Value) -> Result<Flow> {
        for node in nodes {
            match node {
                Node::Text(s) => self.write(s, 0)?,
                Node::Action(pipe) => {
                    let v = self.pipe(pipe, dot, true)?;
                    if pipe.decl.is_empty() {
                        match &v {
                            Value::Str(s) => self.write(s, pipe.pos)?,
                            Value::Nil => self.write("<no value>", pipe.pos)?,
                            v => {
                                let mut s = String::new();
                                gofmt::write_value(&mut s, v);
                                self.write(&s, pipe.pos)?;
                            }
                        }
                    }
                }
                Node::Branch(b) => {
                    let flow = self.branch(b, dot)?;
                    if flow != Flow::Normal {
                        return Ok(flow);
                    }
                }
                Node::Break => return Ok(Flow::Break),
                Node::Continue => return Ok(Flow::Continue),
            }
        }
        Ok(Flow::Normal)
    }

    fn write(&mut self, s: &str, pos: usize) -> Result<()> {
        if self.out.len() + s.len() > MAX_OUTPUT_BYTES {
            return err(
                pos,
                format!("output exceeds the limit of {MAX_OUTPUT_BYTES} bytes"),
            );
        }
        self.out.push_str(s);
        Ok(())
    }

    fn branch(&mut self, b: &'a Branch, dot: &Value) -> Result<Flow> {
        let mark = self.vars.len();
        let flow = match b.kind {
            BranchKind::If => {
                let v = self.pipe(&b.pipe, dot, true)?;
                self.walk(if v.is_true() { &b.list } else { &b.else_list }, dot)?
            }
            BranchKind::With => {
                let v = self.pipe(&b.pipe, dot, true)?;
                if v.is_true() {
                    self.walk(&b.list, &v)?
                } else {
                    self.walk(&b.else_list, dot)?
                }
            }
            BranchKind::Range => self.range(b, dot)?,
        };
        self.vars.truncate(mark);
        Ok(flow)
    }

    fn range(&mut self, b: &'a Branch, dot: &Value) -> Result<Flow> {
        let pos = b.pipe.pos;
        let v = self.pipe(&b.pipe, dot, false)?;
        let empty = match &v {
            Value::List(l) => l.is_empty(),
            Value::Map(m) => m.is_empty(),
            // Go 1.22 ranges over an integer n as 0..n.
            Value::Int(n) => *n <= 0,
            Value::Nil => true,
            other => return err(pos, format!("range can't iterate over {other}")),
        };
        if empty {
            return self.walk(&b.else_list, dot);
        }
        match v {
            Value::List(l) => {
                for (i, elem) in l.into_iter().enumerate() {
                    if self.iteration(b, Value::Int(i as i64), elem)? == Flow::Break {
                        break;
                    }
                }
            }
            Value::Map(m) => {
                for (k, elem) in m {
                    if self.iteration(b, Value::Str(k), elem)? == Flow::Break {
                        break;
                    }
                }
            }
            Value::Int(n) => {
                if b.pipe.decl.len() > 1 {
                    return err(pos, "can't use two variables to range over an integer");
                }
                for i in 0..n {
                    if self.iteration(b, Value::Int(i), Value::Int(i))? == Flow::Break {
                        break;
                    }
                }
            }
            _ => {}
        }
        Ok(Flow::Normal)
    }

    /// One pass of a range body with `$k, $v` bound and `.` set to the element.
    fn iteration(&mut self, b: &'a Branch, key: Value, elem: Value) -> Result<Flow> {
        let pos = b.pipe.pos;
        self.step(pos, 1)?;
        let mark = self.vars.len();
        match b.pipe.decl.as_slice() {
            [] => {}
            [v] => self.bind(v, elem.clone(), b.pipe.is_assign, pos)?,
            [k, v, ..] => {
                self.bind(k, key, b.pipe.is_assign, pos)?;
                self.bind(v, elem.clone(), b.pipe.is_assign, pos)?;
            }
        }
        let flow = self.walk(&b.list, &elem)?;
        self.vars.truncate(mark);
        Ok(flow)
    }

    /// Declares (`:=`) or assigns (`=`) a variable.
    fn bind(&mut self, name: &'a str, v: Value, assign: bool, pos: usize) -> Result<()> {
        if !assign {
            self.vars.push((name, v));
            return Ok(());
        }
        match self.vars.iter_mut().rev().find(|(n, _)| *n == name) {
            Some(slot) => {
                slot.1 = v;
                Ok(())
            }
            None => err(pos, format!("undefined variable: {name}")),
        }
    }

    /// Evaluates a pipeline; binds its declarations when `declare` (range binds per element).
    fn pipe(&mut self, pipe: &'a Pipe, dot: &Value, declare: bool) -> Result<Value> {
        let mut val: Option<Value> = None;
        for cmd in &pipe.cmds {
            val = Some(self.cmd(cmd, dot, val)?);
        }
        let v = val.unwrap_or(Value::Nil);
        if declare {
            for name in &pipe.decl {
                self.bind(name, v.clone(), pipe.is_assign, pipe.pos)?;
            }
        }
        Ok(v)
    }

    fn cmd(&mut self, cmd: &'a Cmd, dot: &Value, piped: Option<Value>) -> Result<Value> {
        self.step(cmd.pos, 1)?;
        let first = &cmd.args[0];
        match &first.term {
            Term::Func(name) if first.fields.is_empty() => {
                self.call(name, first.pos, &cmd.args[1..], dot, piped)
            }
            // The parser only lets a non-function stand alone in the first stage.
            _ => self.operand(first, dot),
        }
    }

    fn call(
        &mut self,
        name: &'a str,
        pos: usize,
        args: &'a [Operand],
        dot: &Value,
        piped: Option<Value>,
    ) -> Result<Value> {
        let Some(entry) = self.funcs.get(name) else {
            return err(pos, format!("function {name:?} not defined"));
        };
        let given = args.len() + usize::from(piped.is_some());
        match entry {
            Entry::DataKey => {
                if given > 0 {
                    return err(
                        pos,
                        format!("wrong number of args for {name}: want 0 got {given}"),
                    );
                }
                Ok(match self.root {
                    Value::Map(m) => m
                        .get(name)
                        .cloned()
                        .unwrap_or_else(|| Value::Str(String::new())),
                    _ => Value::Str(String::new()),
                })
            }
            Entry::And | Entry::Or => {
                if given == 0 {
                    return err(
                        pos,
                        format!("wrong number of args for {name}: want at least 1 got 0"),
                    );
                }
                let stop_when = matches!(entry, Entry::Or);
                let mut last = Value::Nil;
                for a in args {
                    last = self.operand(a, dot)?;
                    if last.is_true() == stop_when {
                        return Ok(last);
                    }
                }
                Ok(piped.unwrap_or(last))
            }
            Entry::Func(f) => {
                let mut vals = Vec::with_capacity(given);
                for a in args {
                    vals.push(self.operand(a, dot)?);
                }
                vals.extend(piped);
                let v = f(&vals).map_err(|m| ExecError {
                    pos,
                    msg: format!("error calling {name}: {m}"),
                })?;
                let weight = v.weight();
                if weight > MAX_OUTPUT_BYTES {
                    return err(
                        pos,
                        format!(
                            "error calling {name}: result exceeds the limit of {MAX_OUTPUT_BYTES} bytes"
                        ),
                    );
                }
                self.step(pos, weight / 64)?;
                Ok(v)
            }
        }
    }

    /// An operand's value; a function name here is called with no arguments, as in Go.
    fn operand(&mut self, op: &'a Operand, dot: &Value) -> Result<Value> {
        match &op.term {
            Term::Dot => Ok(fields(dot, &op.fields, op.pos)?.into_owned()),
            Term::Var(name) if name == "$" => {
                Ok(fields(self.root, &op.fields, op.pos)?.into_owned())
            }
            Term::Var(name) => {
                let Some((_, v)) = self.vars.iter().rev().find(|(n, _)| n == name) else {
                    return err(op.pos, format!("undefined variable: {name}"));
                };
                Ok(fields(v, &op.fields, op.pos)?.into_owned())
            }
            Term::Const(v) => Ok(v.clone()),
            Term::Func(name) => {
                let v = self.call(name, op.pos, &[], dot, None)?;
                Ok(fields(&v, &op.fields, op.pos)?.into_owned())
            }
            Term::Pipe(p) => {
                // A parenthesised pipeline's declarations live until the enclosing scope ends.
                let v = self.pipe(p, dot, true)?;
                Ok(fields(&v, &op.fields, op.pos)?.into_owned())
            }
        }
    }
}
