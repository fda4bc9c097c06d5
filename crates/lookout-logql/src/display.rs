//! The canonical text of a query (Loki's `String()` form): what `format_query` answers and what error messages
//! quote.

use std::fmt;

use crate::ast::*;

/// Go-quoted string (as Loki prints strings).
pub fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// A duration as Prometheus prints it (`1h30m`, `500ms`).
pub fn duration_text(ns: i64) -> String {
    let mut ms = ns / 1_000_000;
    if ms == 0 {
        return if ns == 0 {
            "0s".into()
        } else {
            format!("{ns}ns")
        };
    }
    let mut out = String::new();
    for (unit, size) in [
        ("y", 365 * 24 * 3_600_000i64),
        ("w", 7 * 24 * 3_600_000),
        ("d", 24 * 3_600_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        if ms >= size {
            out.push_str(&format!("{}{unit}", ms / size));
            ms %= size;
        }
    }
    out
}

fn list(labels: &[String]) -> String {
    labels.join(", ")
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Log(l) => l.fmt(f),
            Expr::Metric(m) => m.fmt(f),
        }
    }
}

impl fmt::Display for LogExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, m) in self.matchers.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}{}{}", m.name, m.op, quote(&m.value))?;
        }
        f.write_str("}")?;
        for s in &self.pipeline {
            write!(f, " {s}")?;
        }
        Ok(())
    }
}

impl fmt::Display for FilterValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterValue::Text(s) => f.write_str(&quote(s)),
            FilterValue::Regex(r) => f.write_str(&quote(r.as_str())),
            FilterValue::Pattern(p) => f.write_str(&quote(p.source())),
            FilterValue::Ip(ip) => write!(f, "ip({})", quote(ip.source())),
        }
    }
}

impl fmt::Display for LabelFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelFilter::And(a, b) => write!(f, "{a}, {b}"),
            LabelFilter::Or(a, b) => write!(f, "({a} or {b})"),
            LabelFilter::Matcher(m) => write!(f, "{}{}{}", m.name, m.op, quote(&m.value)),
            LabelFilter::Compare { name, op, text, .. } => write!(f, "{name}{}{text}", op.text()),
            LabelFilter::Ip { name, negated, ip } => write!(
                f,
                "{name}{}ip({})",
                if *negated { "!=" } else { "=" },
                quote(ip.source())
            ),
        }
    }
}

fn sel_list(items: &[LabelSel]) -> String {
    items
        .iter()
        .map(|i| match i {
            LabelSel::Name(n) => n.clone(),
            LabelSel::Matcher(m) => format!("{}{}{}", m.name, m.op, quote(&m.value)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn params(p: &[(String, String)]) -> String {
    p.iter()
        .map(|(l, e)| {
            if l == e {
                l.clone()
            } else {
                format!("{l}={}", quote(e))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stage::Line { op, values } => {
                let op = match op {
                    LineOp::Contains => "|=",
                    LineOp::NotContains => "!=",
                    LineOp::Regex => "|~",
                    LineOp::NotRegex => "!~",
                    LineOp::Pattern => "|>",
                    LineOp::NotPattern => "!>",
                };
                let vals: Vec<String> = values.iter().map(|v| v.to_string()).collect();
                write!(f, "{op} {}", vals.join(" or "))
            }
            Stage::Json(p) if p.is_empty() => f.write_str("| json"),
            Stage::Json(p) => write!(f, "| json {}", params(p)),
            Stage::Logfmt {
                strict,
                keep_empty,
                params: p,
            } => {
                f.write_str("| logfmt")?;
                if *strict {
                    f.write_str(" --strict")?;
                }
                if *keep_empty {
                    f.write_str(" --keep-empty")?;
                }
                if !p.is_empty() {
                    write!(f, " {}", params(p))?;
                }
                Ok(())
            }
            Stage::Regexp(r) => write!(f, "| regexp {}", quote(r.as_str())),
            Stage::Pattern(p) => write!(f, "| pattern {}", quote(p.source())),
            Stage::Unpack => f.write_str("| unpack"),
            Stage::LabelFilter(l) => write!(f, "| {l}"),
            Stage::LineFormat { src, .. } => write!(f, "| line_format {}", quote(src)),
            Stage::LabelFormat(items) => {
                let items: Vec<String> = items
                    .iter()
                    .map(|i| match i {
                        LabelFmt::Rename { dst, src } => format!("{dst}={src}"),
                        LabelFmt::Template { dst, src, .. } => format!("{dst}={}", quote(src)),
                    })
                    .collect();
                write!(f, "| label_format {}", items.join(", "))
            }
            Stage::Drop(items) => write!(f, "| drop {}", sel_list(items)),
            Stage::Keep(items) => write!(f, "| keep {}", sel_list(items)),
            Stage::Decolorize => f.write_str("| decolorize"),
        }
    }
}

/// ` by (…)`/` without (…)`, or nothing.
pub(crate) fn grouping_text(g: &Option<Grouping>) -> String {
    match g {
        None => String::new(),
        Some(g) => format!(
            " {} ({})",
            if g.without { "without" } else { "by" },
            list(&g.labels)
        ),
    }
}

/// What follows a binary operator: ` bool`, ` on(…)`/` ignoring(…)`, ` group_left(…)`/` group_right(…)` (the same
/// text in LogQL and PromQL).
pub(crate) fn binary_modifiers(return_bool: bool, matching: &Matching) -> String {
    let mut s = String::new();
    if return_bool {
        s.push_str(" bool");
    }
    if matching.on || !matching.labels.is_empty() {
        let kind = if matching.on { "on" } else { "ignoring" };
        s.push_str(&format!(" {kind}({})", list(&matching.labels)));
    }
    if let Some((right, labels)) = &matching.group {
        let kind = if *right { "group_right" } else { "group_left" };
        s.push_str(&format!(" {kind}({})", list(labels)));
    }
    s
}

/// A number as PromQL and LogQL read it back.
pub(crate) fn number(v: f64) -> String {
    lookout_model::format_plain(v)
}

impl fmt::Display for MetricExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricExpr::Range {
                op,
                param,
                range,
                grouping,
            } => {
                write!(f, "{}(", op.name())?;
                if let Some(p) = param {
                    write!(f, "{}, ", number(*p))?;
                }
                write!(f, "{}", range.log)?;
                if let Some(u) = &range.unwrap {
                    match u.conversion {
                        Conversion::Float => write!(f, " | unwrap {}", u.label)?,
                        _ => write!(f, " | unwrap {}({})", u.conversion_name, u.label)?,
                    }
                    for p in &u.post_filters {
                        write!(f, " | {p}")?;
                    }
                }
                write!(f, " [{}]", duration_text(range.range_ns))?;
                if range.offset_ns != 0 {
                    write!(f, " offset {}", duration_text(range.offset_ns))?;
                }
                write!(f, "){}", grouping_text(grouping))
            }
            MetricExpr::Vector {
                op,
                param,
                grouping,
                expr,
            } => {
                write!(f, "{}{}(", op.name(), grouping_text(grouping))?;
                if let Some(p) = param {
                    write!(f, "{}, ", number(*p))?;
                }
                write!(f, "{expr})")
            }
            MetricExpr::Binary {
                op,
                return_bool,
                matching,
                lhs,
                rhs,
            } => {
                write!(
                    f,
                    "{lhs} {}{}",
                    op.text(),
                    binary_modifiers(*return_bool, matching)
                )?;
                write!(f, " {rhs}")
            }
            MetricExpr::Literal(v) => f.write_str(&number(*v)),
            MetricExpr::VectorLit(v) => write!(f, "vector({})", number(*v)),
            MetricExpr::LabelReplace { expr, args } => {
                write!(f, "label_replace({expr}")?;
                for a in args {
                    write!(f, ", {}", quote(a))?;
                }
                f.write_str(")")
            }
            MetricExpr::Paren(e) => write!(f, "({e})"),
        }
    }
}
