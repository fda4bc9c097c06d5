//! Walks the parsed nodes against data, as Go's `text/template` `exec.go`: truth, `with`/`range`
//! scoping, lazy `and`/`or`, variables on a stack popped at the end of each control structure.
//! Work is bounded: [`MAX_STEPS`](crate::MAX_STEPS) evaluation steps (producing a string costs a step
//! per 64 bytes) and [`MAX_OUTPUT_BYTES`](crate::MAX_OUTPUT_BYTES) for the output and any value.

use std::borrow::Cow;

use crate::ast::{Branch, BranchKind, Cmd, Node, Operand, Pipe, Term};
use crate::functions::{Entry, Functions};
use crate::gofmt;
use crate::methods;
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
/// `missingkey=zero` on string maps), any field of nil is nil, and a time's or duration's method
/// is called with no arguments.
fn fields<'v>(base: &'v Value, names: &[String], pos: usize) -> Result<Cow<'v, Value>> {
    let mut cur = Cow::Borrowed(base);
    for name in names {
        // A missing key ends the chain: `.a.b` with no `a` reads as "" too.
        if let Value::Map(m) = cur.as_ref()
            && !m.contains_key(name)
        {
            return Ok(Cow::Owned(Value::Str(String::new())));
        }
        cur = field(cur, name, None, pos)?;
    }
    Ok(cur)
}

/// One step of a field chain, as Go's `evalField`: a method of the receiver's type if it has one
/// (given `args` when this is the chain's last step), else a map key; arguments to anything but a
/// method are an error.
fn field<'v>(
    recv: Cow<'v, Value>,
    name: &str,
    args: Option<&[Value]>,
    pos: usize,
) -> Result<Cow<'v, Value>> {
    if let Some(result) = methods::call(&recv, name, args.unwrap_or(&[])) {
        return result.map(Cow::Owned).or_else(|m| {
            // Go reports arity and type mismatches bare, and failures of the method itself as
            // "error calling".
            if m.starts_with("wrong ") {
                err(pos, m)
            } else {
                err(pos, format!("error calling {name}: {m}"))
            }
        });
    }
    let has_args = args.is_some();
    match recv {
        Cow::Borrowed(Value::Map(_)) | Cow::Owned(Value::Map(_)) if has_args => {
            err(pos, format!("{name} is not a method but has arguments"))
        }
        Cow::Borrowed(Value::Map(m)) => Ok(m
            .get(name)
            .map_or_else(|| Cow::Owned(Value::Str(String::new())), Cow::Borrowed)),
        Cow::Owned(Value::Map(mut m)) => Ok(Cow::Owned(
            m.remove(name).unwrap_or_else(|| Value::Str(String::new())),
        )),
        Cow::Borrowed(Value::Nil) | Cow::Owned(Value::Nil) => Ok(Cow::Owned(Value::Nil)),
        other => err(
            pos,
            format!("can't evaluate field {name} in type {}", other.type_name()),
        ),
    }
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
        let args = &cmd.args[1..];
        match &first.term {
            Term::Func(name) if first.fields.is_empty() => {
                self.call(name, first.pos, args, dot, piped)
            }
            // `.a.Method x` / `(pipe).Method`: the chain's last field takes the arguments.
            _ if !first.fields.is_empty() && (!args.is_empty() || piped.is_some()) => {
                self.method_call(first, args, dot, piped)
            }
            _ => {
                if !args.is_empty() || piped.is_some() {
                    return err(
                        first.pos,
                        format!("can't give argument to non-function {}", first.describe()),
                    );
                }
                self.operand(first, dot)
            }
        }
    }

    /// Evaluates `op`'s chain up to its last field, then the arguments, then the last field with
    /// them (Go's order).
    fn method_call(
        &mut self,
        op: &'a Operand,
        args: &'a [Operand],
        dot: &Value,
        piped: Option<Value>,
    ) -> Result<Value> {
        let Some((last, init)) = op.fields.split_last() else {
            return self.operand(op, dot);
        };
        let recv = self.operand_fields(op, init, dot)?;
        let mut vals = Vec::with_capacity(args.len() + 1);
        for a in args {
            vals.push(self.operand(a, dot)?);
        }
        vals.extend(piped);
        Ok(field(Cow::Owned(recv), last, Some(&vals), op.pos)?.into_owned())
    }

    fn call(
        &mut self,
        name: &'a str,
        pos: usize,
        args: &'a [Operand],
        dot: &Value,
        piped: Option<Value>,
    ) -> Result<Value> {
        let funcs = self.funcs;
        let Some(entry) = funcs.get(name) else {
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
            Entry::Func(_) | Entry::Closure(_) => {
                let mut vals = Vec::with_capacity(given);
                for a in args {
                    vals.push(self.operand(a, dot)?);
                }
                vals.extend(piped);
                let result = match entry {
                    Entry::Func(f) => f(&vals),
                    Entry::Closure(f) => f(&vals),
                    _ => unreachable!("matched above"),
                };
                let v = result.map_err(|m| ExecError {
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
        self.operand_fields(op, &op.fields, dot)
    }

    /// `op`'s term followed by the field chain `names` (all of `op.fields`, or all but the last).
    fn operand_fields(&mut self, op: &'a Operand, names: &[String], dot: &Value) -> Result<Value> {
        match &op.term {
            Term::Dot => Ok(fields(dot, names, op.pos)?.into_owned()),
            Term::Var(name) if name == "$" => Ok(fields(self.root, names, op.pos)?.into_owned()),
            Term::Var(name) => {
                let Some((_, v)) = self.vars.iter().rev().find(|(n, _)| n == name) else {
                    return err(op.pos, format!("undefined variable: {name}"));
                };
                Ok(fields(v, names, op.pos)?.into_owned())
            }
            Term::Const(v) => Ok(v.clone()),
            Term::Func(name) => {
                let v = self.call(name, op.pos, &[], dot, None)?;
                Ok(fields(&v, names, op.pos)?.into_owned())
            }
            Term::Pipe(p) => {
                // A parenthesised pipeline's declarations live until the enclosing scope ends.
                let v = self.pipe(p, dot, true)?;
                Ok(fields(&v, names, op.pos)?.into_owned())
            }
        }
    }
}
