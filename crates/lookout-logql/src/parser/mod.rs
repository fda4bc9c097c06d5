//! The LogQL parser: log queries (selector and pipeline) and metric queries (range and vector aggregations,
//! binary operators with Prometheus's precedence and matching, `vector()`, `label_replace()`, literals).

use lookout_model::{MatchOp, Matcher};

use crate::ParseError;

mod metric;
use crate::ast::*;
use crate::filters::IpMatcher;
use crate::lexer::{Tok, Token, lex};
use crate::pattern::Pattern;
use crate::pipeline::template_functions;

/// Parses a query.
pub fn parse(q: &str) -> Result<Expr, ParseError> {
    parse_unlocated(q).map_err(|e| e.located(q))
}

fn parse_unlocated(q: &str) -> Result<Expr, ParseError> {
    let tokens = lex(q)?;
    crate::nesting::check(&tokens)?;
    let mut p = Parser {
        t: tokens,
        i: 0,
        len: q.len(),
    };
    if p.t.is_empty() {
        return p.err("empty query");
    }
    let e = if p.peek_op("{") {
        let log = p.log_expr()?;
        if p.i < p.t.len() && matches!(p.t[p.i].tok, Tok::Range(_)) {
            return p.err("a log range such as [5m] needs a range aggregation around it, e.g. count_over_time({…}[5m])");
        }
        Expr::Log(log)
    } else {
        Expr::Metric(p.metric_expr(0)?)
    };
    if p.i < p.t.len() {
        return p.err(format!("unexpected {:?}", p.t[p.i].text));
    }
    Ok(e)
}

/// Parses a stream selector alone (push labels, `match[]`, `query=` of the label endpoints).
pub fn parse_selector(q: &str) -> Result<Vec<Matcher>, ParseError> {
    parse_selector_unlocated(q).map_err(|e| e.located(q))
}

fn parse_selector_unlocated(q: &str) -> Result<Vec<Matcher>, ParseError> {
    let mut p = Parser {
        t: lex(q)?,
        i: 0,
        len: q.len(),
    };
    let m = p.selector()?;
    if p.i < p.t.len() {
        return p.err(format!("unexpected {:?} after the selector", p.t[p.i].text));
    }
    Ok(m)
}

struct Parser {
    t: Vec<Token>,
    i: usize,
    len: usize,
}

const STAGES: [&str; 12] = [
    "json",
    "logfmt",
    "regexp",
    "pattern",
    "unpack",
    "line_format",
    "label_format",
    "drop",
    "keep",
    "decolorize",
    "unwrap",
    "ip",
];

impl Parser {
    fn pos(&self) -> usize {
        self.t.get(self.i).map_or(self.len, |t| t.pos)
    }
    fn err<T>(&self, msg: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError::at(self.pos(), msg.into()))
    }
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i).map(|t| &t.tok)
    }
    fn peek_at(&self, k: usize) -> Option<&Tok> {
        self.t.get(self.i + k).map(|t| &t.tok)
    }
    fn peek_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Tok::Op(o)) if *o == op)
    }
    fn peek_ident(&self, id: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s == id)
    }
    fn eat_op(&mut self, op: &str) -> bool {
        if self.peek_op(op) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn eat_ident(&mut self, id: &str) -> bool {
        if self.peek_ident(id) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect_op(&mut self, op: &str) -> Result<(), ParseError> {
        if self.eat_op(op) {
            Ok(())
        } else {
            self.err(format!("expected {op:?}"))
        }
    }
    fn ident(&mut self, what: &str) -> Result<String, ParseError> {
        match self.peek() {
            Some(Tok::Ident(s)) => {
                let s = s.clone();
                self.i += 1;
                Ok(s)
            }
            _ => self.err(format!("expected {what}")),
        }
    }
    fn string(&mut self, what: &str) -> Result<String, ParseError> {
        match self.peek() {
            Some(Tok::Str(s)) => {
                let s = s.clone();
                self.i += 1;
                Ok(s)
            }
            _ => self.err(format!("expected {what} (a quoted string)")),
        }
    }
    fn number(&mut self) -> Result<f64, ParseError> {
        let neg = self.eat_op("-");
        match self.peek() {
            Some(Tok::Number(n)) => {
                let n = *n;
                self.i += 1;
                Ok(if neg { -n } else { n })
            }
            _ => self.err("expected a number"),
        }
    }
    fn at_err<T>(&self, pos: usize, msg: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError::at(pos, msg))
    }

    fn selector(&mut self) -> Result<Vec<Matcher>, ParseError> {
        self.expect_op("{")?;
        let mut matchers = Vec::new();
        if !self.eat_op("}") {
            loop {
                let name = self.ident("a label name")?;
                let op = self.match_op()?;
                let at = self.pos();
                let value = self.string("a label value")?;
                let m =
                    Matcher::new(op, name, value).map_err(|e| ParseError::at(at, e.to_string()))?;
                matchers.push(m);
                if self.eat_op("}") {
                    break;
                }
                self.expect_op(",")?;
                if self.eat_op("}") {
                    break;
                }
            }
        }
        Ok(matchers)
    }

    fn match_op(&mut self) -> Result<MatchOp, ParseError> {
        let op = match self.peek() {
            Some(Tok::Op("=")) => MatchOp::Equal,
            Some(Tok::Op("!=")) => MatchOp::NotEqual,
            Some(Tok::Op("=~")) => MatchOp::Regex,
            Some(Tok::Op("!~")) => MatchOp::NotRegex,
            _ => return self.err("expected one of =, !=, =~, !~"),
        };
        self.i += 1;
        Ok(op)
    }

    fn log_expr(&mut self) -> Result<LogExpr, ParseError> {
        let start = self.pos();
        let matchers = self.selector()?;
        if !matchers.iter().any(|m| !m.matches("")) {
            return self.at_err(start, "queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will");
        }
        let pipeline = self.pipeline()?;
        Ok(LogExpr { matchers, pipeline })
    }

    /// Stages until something that is not a stage (a range, `)`, `unwrap`, the end).
    fn pipeline(&mut self) -> Result<Vec<Stage>, ParseError> {
        let mut stages = Vec::new();
        loop {
            let op = match self.peek() {
                Some(Tok::Op("|=")) => LineOp::Contains,
                Some(Tok::Op("!=")) => LineOp::NotContains,
                Some(Tok::Op("|~")) => LineOp::Regex,
                Some(Tok::Op("!~")) => LineOp::NotRegex,
                Some(Tok::Op("|>")) => LineOp::Pattern,
                Some(Tok::Op("!>")) => LineOp::NotPattern,
                Some(Tok::Op("|")) => {
                    if matches!(self.peek_at(1), Some(Tok::Ident(s)) if s == "unwrap") {
                        return Ok(stages);
                    }
                    self.i += 1;
                    stages.push(self.stage()?);
                    continue;
                }
                _ => return Ok(stages),
            };
            self.i += 1;
            let mut values = vec![self.filter_value(op)?];
            while self.peek_ident("or")
                && matches!(self.peek_at(1), Some(Tok::Str(_)) | Some(Tok::Ident(_)))
                && (matches!(self.peek_at(1), Some(Tok::Str(_)))
                    || matches!(self.peek_at(1), Some(Tok::Ident(s)) if s == "ip"))
            {
                self.i += 1;
                values.push(self.filter_value(op)?);
            }
            stages.push(Stage::Line { op, values });
        }
    }

    fn filter_value(&mut self, op: LineOp) -> Result<FilterValue, ParseError> {
        let at = self.pos();
        if self.eat_ident("ip") {
            if matches!(
                op,
                LineOp::Regex | LineOp::NotRegex | LineOp::Pattern | LineOp::NotPattern
            ) {
                return self.at_err(at, "ip() works only with |= and !=");
            }
            return Ok(FilterValue::Ip(self.ip_arg()?));
        }
        let s = self.string("a filter value")?;
        Ok(match op {
            LineOp::Contains | LineOp::NotContains => FilterValue::Text(s),
            LineOp::Regex | LineOp::NotRegex => FilterValue::Regex(
                crate::filters::query_regex(&s, "of the line filter", |e| {
                    format!("invalid regex {s:?}: {e}")
                })
                .map_err(|msg| ParseError::at(at, msg))?,
            ),
            LineOp::Pattern | LineOp::NotPattern => FilterValue::Pattern(
                Pattern::parse(&s, false).map_err(|msg| ParseError::at(at, msg))?,
            ),
        })
    }

    fn ip_arg(&mut self) -> Result<IpMatcher, ParseError> {
        self.expect_op("(")?;
        let at = self.pos();
        let s = self.string("an address")?;
        self.expect_op(")")?;
        IpMatcher::parse(&s).map_err(|msg| ParseError::at(at, msg))
    }

    fn stage(&mut self) -> Result<Stage, ParseError> {
        let at = self.pos();
        if self.peek_op("(") {
            return Ok(Stage::LabelFilter(self.label_filter_or()?));
        }
        let name = match self.peek() {
            Some(Tok::Ident(s)) => s.clone(),
            _ => return self.err("expected a pipeline stage or a label filter after |"),
        };
        let next_is_cmp = matches!(
            self.peek_at(1),
            Some(Tok::Op(
                "=" | "!=" | "=~" | "!~" | "==" | ">" | ">=" | "<" | "<="
            ))
        );
        if !STAGES.contains(&name.as_str()) || next_is_cmp {
            return Ok(Stage::LabelFilter(self.label_filter_or()?));
        }
        self.i += 1;
        Ok(match name.as_str() {
            "json" => Stage::Json(self.params(false)?),
            "logfmt" => {
                let (mut strict, mut keep_empty) = (false, false);
                loop {
                    if self.eat_ident("--strict") {
                        strict = true;
                    } else if self.eat_ident("--keep-empty") {
                        keep_empty = true;
                    } else {
                        break;
                    }
                }
                Stage::Logfmt {
                    strict,
                    keep_empty,
                    params: self.params(true)?,
                }
            }
            "regexp" => {
                let at = self.pos();
                let s = self.string("a regular expression")?;
                let re = crate::filters::query_regex(&s, "of the regexp stage", |e| {
                    format!("invalid regex {s:?}: {e}")
                })
                .map_err(|msg| ParseError::at(at, msg))?;
                if re.capture_names().flatten().next().is_none() {
                    return self.at_err(at, "at least one named capture must be supplied");
                }
                Stage::Regexp(re)
            }
            "pattern" => {
                let at = self.pos();
                let s = self.string("a pattern")?;
                Stage::Pattern(Pattern::parse(&s, true).map_err(|msg| ParseError::at(at, msg))?)
            }
            "unpack" => Stage::Unpack,
            "decolorize" => Stage::Decolorize,
            "line_format" => {
                let at = self.pos();
                let src = self.string("a template")?;
                let tmpl = self.template(&src, at)?;
                Stage::LineFormat { src, tmpl }
            }
            "label_format" => {
                let mut items = Vec::new();
                loop {
                    let dst = self.ident("a label name")?;
                    self.expect_op("=")?;
                    let at = self.pos();
                    match self.peek().cloned() {
                        Some(Tok::Ident(src)) => {
                            self.i += 1;
                            items.push(LabelFmt::Rename { dst, src });
                        }
                        Some(Tok::Str(src)) => {
                            self.i += 1;
                            let tmpl = self.template(&src, at)?;
                            items.push(LabelFmt::Template { dst, src, tmpl });
                        }
                        _ => return self.err("expected a label name or a template"),
                    }
                    if !self.eat_op(",") {
                        break;
                    }
                }
                let mut seen = Vec::new();
                for i in &items {
                    let d = match i {
                        LabelFmt::Rename { dst, .. } | LabelFmt::Template { dst, .. } => dst,
                    };
                    if seen.contains(&d) {
                        return self.at_err(at, format!("multiple label_format items name {d:?}"));
                    }
                    seen.push(d);
                }
                Stage::LabelFormat(items)
            }
            "drop" | "keep" => {
                let mut items = Vec::new();
                loop {
                    let n = self.ident("a label name")?;
                    if matches!(self.peek(), Some(Tok::Op("=" | "!=" | "=~" | "!~"))) {
                        let op = self.match_op()?;
                        let at = self.pos();
                        let v = self.string("a label value")?;
                        items.push(LabelSel::Matcher(
                            Matcher::new(op, n, v)
                                .map_err(|e| ParseError::at(at, e.to_string()))?,
                        ));
                    } else {
                        items.push(LabelSel::Name(n));
                    }
                    if !self.eat_op(",") {
                        break;
                    }
                }
                if name == "drop" {
                    Stage::Drop(items)
                } else {
                    Stage::Keep(items)
                }
            }
            _ => return self.at_err(at, format!("{name} is not valid here")),
        })
    }

    fn template(&self, src: &str, at: usize) -> Result<lookout_template::Template, ParseError> {
        lookout_template::Template::parse(src, template_functions())
            .map_err(|e| ParseError::at(at, format!("invalid template {src:?}: {e}")))
    }

    /// `a, b="x.y"` after `json`/`logfmt` (none allowed).
    fn params(&mut self, logfmt: bool) -> Result<Vec<(String, String)>, ParseError> {
        let mut out = Vec::new();
        while let Some(Tok::Ident(name)) = self.peek().cloned() {
            if logfmt && name.starts_with("--") {
                return self.err("logfmt flags come before the parameters");
            }
            self.i += 1;
            if self.eat_op("=") {
                let e = self.string("an expression")?;
                out.push((name, e));
            } else {
                out.push((name.clone(), name));
            }
            if !self.eat_op(",") {
                break;
            }
        }
        Ok(out)
    }

    fn label_filter_or(&mut self) -> Result<LabelFilter, ParseError> {
        let mut lhs = self.label_filter_and()?;
        while self.peek_ident("or") {
            self.i += 1;
            let rhs = self.label_filter_and()?;
            lhs = LabelFilter::Or(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn label_filter_and(&mut self) -> Result<LabelFilter, ParseError> {
        let mut lhs = self.label_filter_primary()?;
        loop {
            let explicit = self.peek_ident("and") || self.peek_op(",");
            let implicit = matches!(self.peek(), Some(Tok::Ident(s)) if s != "or" && s != "and")
                && matches!(
                    self.peek_at(1),
                    Some(Tok::Op(
                        "=" | "!=" | "=~" | "!~" | "==" | ">" | ">=" | "<" | "<="
                    ))
                );
            let paren = self.peek_op("(");
            if explicit {
                self.i += 1;
            } else if !(implicit || paren) {
                return Ok(lhs);
            }
            let rhs = self.label_filter_primary()?;
            lhs = LabelFilter::And(Box::new(lhs), Box::new(rhs));
        }
    }

    fn label_filter_primary(&mut self) -> Result<LabelFilter, ParseError> {
        if self.eat_op("(") {
            let f = self.label_filter_or()?;
            self.expect_op(")")?;
            return Ok(f);
        }
        let name = self.ident("a label name")?;
        let at = self.pos();
        let op_tok = match self.peek() {
            Some(Tok::Op(o)) => *o,
            _ => return self.err("expected a comparison operator"),
        };
        self.i += 1;
        let cmp = match op_tok {
            "=" | "==" => Some(CmpOp::Eq),
            "!=" => Some(CmpOp::Ne),
            ">" => Some(CmpOp::Gt),
            ">=" => Some(CmpOp::Ge),
            "<" => Some(CmpOp::Lt),
            "<=" => Some(CmpOp::Le),
            _ => None,
        };
        let value_at = self.pos();
        let value = self.peek().cloned();
        let text = self
            .t
            .get(self.i)
            .map(|t| t.text.clone())
            .unwrap_or_default();
        match (value, cmp) {
            (Some(Tok::Str(s)), _) if matches!(op_tok, "=" | "!=" | "=~" | "!~") => {
                self.i += 1;
                let op = match op_tok {
                    "=" => MatchOp::Equal,
                    "!=" => MatchOp::NotEqual,
                    "=~" => MatchOp::Regex,
                    _ => MatchOp::NotRegex,
                };
                Ok(LabelFilter::Matcher(Matcher::new(op, name, s).map_err(|e| {
                    ParseError::at(value_at, e.to_string())
                })?))
            }
            (Some(Tok::Ident(s)), Some(c)) if s == "ip" && matches!(c, CmpOp::Eq | CmpOp::Ne) => {
                self.i += 1;
                let ip = self.ip_arg()?;
                Ok(LabelFilter::Ip {
                    name,
                    negated: c == CmpOp::Ne,
                    ip,
                })
            }
            (Some(Tok::Number(_) | Tok::Op("-")), Some(op)) => {
                let n = self.number()?;
                let text = if n < 0.0 { format!("-{text}") } else { text };
                Ok(LabelFilter::Compare {
                    name,
                    op,
                    value: Typed::Number(n),
                    text,
                })
            }
            (Some(Tok::Duration(d)), Some(op)) => {
                self.i += 1;
                Ok(LabelFilter::Compare {
                    name,
                    op,
                    value: Typed::Duration(d as f64 / 1e9),
                    text,
                })
            }
            (Some(Tok::Bytes(b)), Some(op)) => {
                self.i += 1;
                Ok(LabelFilter::Compare {
                    name,
                    op,
                    value: Typed::Bytes(b),
                    text,
                })
            }
            _ => self.at_err(
                at,
                format!("invalid label filter on {name:?}: expected a string, a number, a duration, a byte size or ip(\"…\") after {op_tok}"),
            ),
        }
    }
}
