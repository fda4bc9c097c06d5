//! A subset of Go's `text/template` with two function libraries, pure (no I/O):
//!
//! - Loki's LogQL template functions ([`Functions::loki`]), for `line_format` and `label_format`;
//! - Prometheus's alerting and recording-rule functions ([`Functions::prometheus`]): `query` and
//!   its helpers (`first`, `label`, `value`, `sortByLabel`), the `humanize` family, `toTime`,
//!   `toDuration`, `now`, string and link helpers. Functions that need the caller's context (the
//!   PromQL engine, evaluation time, external URL) come from a [`PromContext`] as closures
//!   ([`Functions::with_closure`]). [`expand_alert_template`] renders an alert label or
//!   annotation as Prometheus's rule manager does (`$labels`, `$externalLabels`, `$externalURL`,
//!   `$value` predeclared) and [`parse_alert_template`] checks one as `promtool check rules` does.
//!   Query samples are maps with `Labels` and `Value`; native histogram values are not modelled.
//!
//! Why not the `gtmpl` crate (0.7.1, "passively maintained")? It builds, but its lexer spawns a
//! thread per parse, deep parentheses overflow the stack (an abort, not an error), it accepts
//! `{{ 1 | }}`, mis-prints `%q`, and brings anyhow, thiserror 1 and its own value type. A small
//! engine (lexer → parser → evaluator) with bounded nesting, steps and output costs less.
//!
//! Supported: text and `{{ }}` actions with trim markers `{{- -}}` and comments `{{/* */}}`;
//! `.`, `$`, `.a.b`, `$x.a`, `(pipeline).a`; string (Go escapes and `raw`), number, character,
//! boolean and `nil` literals; pipelines (the piped value is the last argument); `$x :=`, `$x =`;
//! `if`/`else if`/`else`, `with`/`else with`, `range` over lists, maps (key order), integers and nil
//! with `$i, $v :=`, `break`, `continue`; methods of `time.Time` and `time.Duration` values
//! (`(now | toTime).Format "2006"`, `.Unix`, `.Add`, `.Seconds`, …; see `methods.rs`). Not
//! supported: `define`, `template`, `block`, other methods, the `call` and `slice` builtins,
//! `printf` argument indexes (`%[1]d`), time zones other than UTC and fixed offsets.
//!
//! Data: a map field that is missing reads as `""` (Loki's and Prometheus's `missingkey=zero` on
//! string maps). Floats print as Go prints a `float64` (`1`, `0.5`, `1e+06`, `NaN`, `+Inf`).
//! Loki's `__line__` and `__timestamp__` are identifiers, not fields: callers put them into the root
//! map, `"__line__"` as [`Value::Str`] and `"__timestamp__"` as [`Value::Time`] (Unix nanoseconds),
//! and [`Functions::loki`] resolves the bare names `{{ __line__ }}` to those keys.
//!
//! Errors name a line and column (`template: 1:12: function "foo" not defined`); rendering never
//! panics on any template or data, and is bounded by [`MAX_NESTING`], [`MAX_STEPS`] and
//! [`MAX_OUTPUT_BYTES`].

mod ast;
mod exec;
mod funcs;
mod functions;
mod gofmt;
mod gotime;
mod lexer;
mod methods;
mod parse;
mod prometheus;
mod value;

use std::sync::Arc;

pub use functions::{ClosureFunc, Func, Functions};
pub use prometheus::{
    ALERT_TEMPLATE_PREAMBLE, AlertTemplateData, PromContext, QueryFn, QuerySample,
    expand_alert_template, parse_alert_template,
};
pub use value::Value;

/// Maximum nesting of control structures and parentheses; deeper templates fail to parse.
pub const MAX_NESTING: usize = 100;

/// Maximum evaluation steps per render (commands, range iterations, and one per 64 bytes a function
/// produces); a render past it fails, so `{{range 1000000000}}` cannot hang a query.
pub const MAX_STEPS: usize = 1_000_000;

/// Maximum size in bytes of a render's output and of any string a function produces (1 MiB).
pub const MAX_OUTPUT_BYTES: usize = 1 << 20;

/// A parse or render error; the message carries the position in the template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    /// What went wrong and where, e.g. `template: 1:4: function "foo" not defined`.
    pub message: String,
}

impl TemplateError {
    fn at(src: &str, pos: usize, msg: &str) -> Self {
        let pos = pos.min(src.len());
        let before = src.get(..pos).unwrap_or(src);
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        TemplateError {
            message: format!("template: {line}:{col}: {msg}"),
        }
    }
}

/// A parsed template: parse once, render many times, share freely between threads.
#[derive(Debug, Clone)]
pub struct Template {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    src: String,
    nodes: Vec<ast::Node>,
}

impl Template {
    /// Parses `src`; function names not in `funcs` are an error, as in Go.
    pub fn parse(src: &str, funcs: &Functions) -> Result<Template, TemplateError> {
        let tokens = lexer::lex(src).map_err(|e| TemplateError::at(src, e.pos, &e.msg))?;
        let nodes =
            parse::parse(tokens, funcs).map_err(|e| TemplateError::at(src, e.pos, &e.msg))?;
        Ok(Template {
            inner: Arc::new(Inner {
                src: src.to_owned(),
                nodes,
            }),
        })
    }

    /// Renders with `data` as `.` and `$`, calling functions from `funcs` (normally the table the
    /// template was parsed with; a name missing from it is a render error).
    pub fn render(&self, data: &Value, funcs: &Functions) -> Result<String, TemplateError> {
        exec::render(&self.inner.nodes, data, funcs)
            .map_err(|e| TemplateError::at(&self.inner.src, e.pos, &e.msg))
    }

    /// The template's source text.
    pub fn source(&self) -> &str {
        &self.inner.src
    }
}

#[cfg(test)]
mod tests;
