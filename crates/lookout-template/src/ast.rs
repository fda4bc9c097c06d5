//! The parsed form of a template, shaped like Go's `text/template/parse` nodes. Positions are byte
//! offsets into the source, turned into line:column only when an error is reported.

use crate::value::Value;

/// A node of a template body.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// Literal text, written as is.
    Text(String),
    /// `{{ pipeline }}`: prints the pipeline's value unless it declares variables.
    Action(Pipe),
    /// `{{if}}`, `{{with}}` or `{{range}}` with its body and `{{else}}` body.
    Branch(Box<Branch>),
    /// `{{break}}` inside a range.
    Break,
    /// `{{continue}}` inside a range.
    Continue,
}

/// Which control structure a [`Branch`] is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum BranchKind {
    If,
    With,
    Range,
}

/// A control structure: `{{kind pipe}} list {{else}} else_list {{end}}`.
#[derive(Debug, Clone)]
pub(crate) struct Branch {
    pub kind: BranchKind,
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Vec<Node>,
}

/// Commands joined by `|`, optionally declaring (`:=`) or assigning (`=`) variables.
#[derive(Debug, Clone)]
pub(crate) struct Pipe {
    pub pos: usize,
    pub decl: Vec<String>,
    pub is_assign: bool,
    pub cmds: Vec<Cmd>,
}

/// One pipeline stage: a function and its arguments, or a single value.
#[derive(Debug, Clone)]
pub(crate) struct Cmd {
    pub pos: usize,
    pub args: Vec<Operand>,
}

/// A term followed by field accesses, e.g. `$x.a.b` or `(pipeline).a`.
#[derive(Debug, Clone)]
pub(crate) struct Operand {
    pub pos: usize,
    pub term: Term,
    pub fields: Vec<String>,
}

/// The start of an operand.
#[derive(Debug, Clone)]
pub(crate) enum Term {
    /// `.`, the current data.
    Dot,
    /// `$name` (or `$`, the root data).
    Var(String),
    /// A literal.
    Const(Value),
    /// A function name; called with the command's arguments, or with none as an argument.
    Func(String),
    /// `( pipeline )`.
    Pipe(Box<Pipe>),
}

impl Operand {
    /// How Go names an operand in "can't give argument to non-function" errors.
    pub(crate) fn describe(&self) -> String {
        let base = match &self.term {
            Term::Dot => {
                if self.fields.is_empty() {
                    ".".to_owned()
                } else {
                    String::new()
                }
            }
            Term::Var(v) => v.clone(),
            Term::Const(v) => v.to_string(),
            Term::Func(f) => f.clone(),
            Term::Pipe(_) => "(...)".to_owned(),
        };
        self.fields.iter().fold(base, |acc, f| format!("{acc}.{f}"))
    }
}
