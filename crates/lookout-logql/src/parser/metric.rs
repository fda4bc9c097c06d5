//! Metric expressions: range and vector aggregations, binary operators (Prometheus's precedence, `^` to the right)
//! with `bool`, `on`/`ignoring`, `group_left`/`group_right`, literals, `vector()`, `label_replace()`.

use crate::ParseError;
use crate::ast::*;
use crate::lexer::Tok;

use super::Parser;

impl Parser {
    pub(super) fn metric_expr(&mut self, min_prec: u8) -> Result<MetricExpr, ParseError> {
        let mut lhs = self.unary()?;
        while let Some(op) = self.binop() {
            let prec = op.precedence();
            if prec < min_prec {
                break;
            }
            self.i += 1;
            let return_bool = self.eat_ident("bool");
            if return_bool && !matches!(op, BinOp::Cmp(_)) {
                return self.err("bool modifier can only be used on comparison operators");
            }
            let matching = self.matching()?;
            // `^` is right-associative; the others left.
            let next = if op == BinOp::Pow { prec } else { prec + 1 };
            let rhs = self.metric_expr(next)?;
            lhs = MetricExpr::Binary {
                op,
                return_bool,
                matching,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            };
        }
        Ok(lhs)
    }

    fn binop(&self) -> Option<BinOp> {
        Some(match self.peek()? {
            Tok::Ident(s) if s == "or" => BinOp::Or,
            Tok::Ident(s) if s == "and" => BinOp::And,
            Tok::Ident(s) if s == "unless" => BinOp::Unless,
            Tok::Op("==") => BinOp::Cmp(CmpOp::Eq),
            Tok::Op("!=") => BinOp::Cmp(CmpOp::Ne),
            Tok::Op(">") => BinOp::Cmp(CmpOp::Gt),
            Tok::Op(">=") => BinOp::Cmp(CmpOp::Ge),
            Tok::Op("<") => BinOp::Cmp(CmpOp::Lt),
            Tok::Op("<=") => BinOp::Cmp(CmpOp::Le),
            Tok::Op("+") => BinOp::Add,
            Tok::Op("-") => BinOp::Sub,
            Tok::Op("*") => BinOp::Mul,
            Tok::Op("/") => BinOp::Div,
            Tok::Op("%") => BinOp::Mod,
            Tok::Op("^") => BinOp::Pow,
            _ => return None,
        })
    }

    fn label_list(&mut self) -> Result<Vec<String>, ParseError> {
        self.expect_op("(")?;
        let mut out = Vec::new();
        if self.eat_op(")") {
            return Ok(out);
        }
        loop {
            out.push(self.ident("a label name")?);
            if self.eat_op(")") {
                return Ok(out);
            }
            self.expect_op(",")?;
        }
    }

    fn matching(&mut self) -> Result<Matching, ParseError> {
        let mut m = Matching::default();
        if self.eat_ident("on") {
            m.on = true;
            m.labels = self.label_list()?;
        } else if self.eat_ident("ignoring") {
            m.labels = self.label_list()?;
        }
        let right = if self.eat_ident("group_left") {
            Some(false)
        } else if self.eat_ident("group_right") {
            Some(true)
        } else {
            None
        };
        if let Some(r) = right {
            let labels = if self.peek_op("(") {
                self.label_list()?
            } else {
                Vec::new()
            };
            m.group = Some((r, labels));
        }
        Ok(m)
    }

    fn unary(&mut self) -> Result<MetricExpr, ParseError> {
        if self.peek_op("-") || self.peek_op("+") {
            let neg = self.eat_op("-");
            if !neg {
                self.i += 1;
            }
            let e = self.unary()?;
            return Ok(match e {
                MetricExpr::Literal(v) => MetricExpr::Literal(if neg { -v } else { v }),
                other if neg => MetricExpr::Binary {
                    op: BinOp::Mul,
                    return_bool: false,
                    matching: Matching::default(),
                    lhs: Box::new(MetricExpr::Literal(-1.0)),
                    rhs: Box::new(other),
                },
                other => other,
            });
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<MetricExpr, ParseError> {
        let at = self.pos();
        match self.peek().cloned() {
            Some(Tok::Number(n)) => {
                self.i += 1;
                Ok(MetricExpr::Literal(n))
            }
            Some(Tok::Op("(")) => {
                self.i += 1;
                let e = self.metric_expr(0)?;
                self.expect_op(")")?;
                Ok(MetricExpr::Paren(Box::new(e)))
            }
            Some(Tok::Op("{")) => self.at_err(
                at,
                "a log query cannot be used here; wrap it in a range aggregation such as count_over_time({…}[5m])",
            ),
            Some(Tok::Ident(name)) => {
                self.i += 1;
                if let Some(op) = RangeOp::from_name(&name) {
                    return self.range_agg(op, at);
                }
                if let Some(op) = VectorOp::from_name(&name) {
                    return self.vector_agg(op);
                }
                match name.as_str() {
                    "vector" => {
                        self.expect_op("(")?;
                        let n = self.number()?;
                        self.expect_op(")")?;
                        Ok(MetricExpr::VectorLit(n))
                    }
                    "label_replace" => {
                        self.expect_op("(")?;
                        let e = self.metric_expr(0)?;
                        let mut args: [String; 4] = Default::default();
                        for a in &mut args {
                            self.expect_op(",")?;
                            *a = self.string("a label_replace argument")?;
                        }
                        self.expect_op(")")?;
                        if let Err(msg) =
                            crate::filters::query_regex(&args[3], "of label_replace", |e| {
                                format!("invalid regex in label_replace: {e}")
                            })
                        {
                            return self.at_err(at, msg);
                        }
                        Ok(MetricExpr::LabelReplace {
                            expr: Box::new(e),
                            args,
                        })
                    }
                    "NaN" | "nan" => Ok(MetricExpr::Literal(f64::NAN)),
                    "Inf" | "inf" => Ok(MetricExpr::Literal(f64::INFINITY)),
                    _ => self.at_err(at, format!("unknown function or aggregation {name:?}")),
                }
            }
            _ => self.err("expected a metric expression"),
        }
    }

    fn grouping(&mut self) -> Result<Option<Grouping>, ParseError> {
        if self.eat_ident("by") {
            Ok(Some(Grouping {
                without: false,
                labels: self.label_list()?,
            }))
        } else if self.eat_ident("without") {
            Ok(Some(Grouping {
                without: true,
                labels: self.label_list()?,
            }))
        } else {
            Ok(None)
        }
    }

    fn vector_agg(&mut self, op: VectorOp) -> Result<MetricExpr, ParseError> {
        let mut grouping = self.grouping()?;
        self.expect_op("(")?;
        let param = if op.has_param() {
            let n = self.number()?;
            self.expect_op(",")?;
            if n.fract() != 0.0 || n <= 0.0 {
                return self.err(format!(
                    "{}: k must be a positive integer, got {n}",
                    op.name()
                ));
            }
            Some(n)
        } else {
            None
        };
        let expr = self.metric_expr(0)?;
        self.expect_op(")")?;
        if let Some(g) = self.grouping()? {
            if grouping.is_some() {
                return self.err("grouping given twice");
            }
            grouping = Some(g);
        }
        if matches!(op, VectorOp::Sort | VectorOp::SortDesc) && grouping.is_some() {
            return self.err(format!("{} takes no grouping", op.name()));
        }
        Ok(MetricExpr::Vector {
            op,
            param,
            grouping,
            expr: Box::new(expr),
        })
    }

    fn range_agg(&mut self, op: RangeOp, at: usize) -> Result<MetricExpr, ParseError> {
        self.expect_op("(")?;
        let param = if op == RangeOp::QuantileOverTime {
            let n = self.number()?;
            self.expect_op(",")?;
            Some(n)
        } else {
            None
        };
        if !self.peek_op("{") {
            return self.err(format!(
                "{} expects a log range such as {{app=\"x\"}}[5m]",
                op.name()
            ));
        }
        let sel_at = self.pos();
        let mut log = self.log_expr()?;
        let mut range_ns = None;
        if let Some(Tok::Range(r)) = self.peek() {
            range_ns = Some(*r);
            self.i += 1;
            // The range may come before the pipeline: `{app="x"} [5m] | json`.
            let more = self.pipeline()?;
            log.pipeline.extend(more);
        }
        let unwrap = if self.peek_op("|")
            && matches!(self.peek_at(1), Some(Tok::Ident(s)) if s == "unwrap")
        {
            self.i += 2;
            Some(self.unwrap_spec()?)
        } else {
            None
        };
        if range_ns.is_none() {
            match self.peek() {
                Some(Tok::Range(r)) => {
                    range_ns = Some(*r);
                    self.i += 1;
                }
                _ => return self.err("expected a range such as [5m]"),
            }
        }
        let offset_ns = if self.eat_ident("offset") {
            match self.peek() {
                Some(Tok::Duration(d)) => {
                    let d = *d;
                    self.i += 1;
                    d
                }
                Some(Tok::Number(n)) if *n == 0.0 => {
                    self.i += 1;
                    0
                }
                _ => return self.err("expected a duration after offset"),
            }
        } else {
            0
        };
        self.expect_op(")")?;
        let grouping = self.grouping()?;
        match (op.unwrap_rule(), unwrap.is_some()) {
            (Some(true), false) => {
                return self.at_err(
                    sel_at,
                    format!(
                        "{} requires an unwrapped label: add | unwrap <label>",
                        op.name()
                    ),
                );
            }
            (Some(false), true) => {
                return self.at_err(
                    sel_at,
                    format!("{} does not take an unwrapped label", op.name()),
                );
            }
            _ => {}
        }
        if grouping.is_some() && unwrap.is_none() {
            return self.at_err(
                at,
                format!(
                    "grouping on {} is only allowed with an unwrapped label",
                    op.name()
                ),
            );
        }
        Ok(MetricExpr::Range {
            op,
            param,
            range: Box::new(LogRange {
                log,
                unwrap,
                range_ns: range_ns.unwrap_or(0),
                offset_ns,
            }),
            grouping,
        })
    }

    fn unwrap_spec(&mut self) -> Result<Unwrap, ParseError> {
        let first = self.ident("a label name to unwrap")?;
        let (label, conversion, conversion_name) = if self.eat_op("(") {
            let (conv, name) = match first.as_str() {
                "bytes" => (Conversion::Bytes, "bytes"),
                "duration" => (Conversion::Duration, "duration"),
                "duration_seconds" => (Conversion::Duration, "duration_seconds"),
                other => return self.err(format!(
                    "unknown unwrap conversion {other:?}: use bytes, duration or duration_seconds"
                )),
            };
            let l = self.ident("a label name")?;
            self.expect_op(")")?;
            (l, conv, name)
        } else {
            (first, Conversion::Float, "")
        };
        let mut post_filters = Vec::new();
        while self.peek_op("|") {
            self.i += 1;
            post_filters.push(self.label_filter_or()?);
        }
        Ok(Unwrap {
            label,
            conversion,
            conversion_name,
            post_filters,
        })
    }
}
