//! The LogQL syntax tree, and its canonical text (what `format_query` answers).

use lookout_model::Matcher;
use regex::Regex;

use crate::filters::IpMatcher;
use crate::pattern::Pattern;

/// A parsed query: a log query or a metric query.
#[derive(Debug, Clone)]
pub enum Expr {
    /// Lines: a selector and a pipeline.
    Log(LogExpr),
    /// Numbers over time.
    Metric(MetricExpr),
}

/// A stream selector and its pipeline.
#[derive(Debug, Clone)]
pub struct LogExpr {
    /// Stream matchers.
    pub matchers: Vec<Matcher>,
    /// Stages in order.
    pub pipeline: Vec<Stage>,
}

/// Line filter operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineOp {
    /// `|=`
    Contains,
    /// `!=`
    NotContains,
    /// `|~`
    Regex,
    /// `!~`
    NotRegex,
    /// `|>`
    Pattern,
    /// `!>`
    NotPattern,
}

impl LineOp {
    /// Whether the operator negates.
    pub fn negated(self) -> bool {
        matches!(
            self,
            LineOp::NotContains | LineOp::NotRegex | LineOp::NotPattern
        )
    }
}

/// One value of a line filter (several are joined with `or`).
#[derive(Debug, Clone)]
pub enum FilterValue {
    /// A literal substring.
    Text(String),
    /// A regex (unanchored), with its source.
    Regex(Regex),
    /// A pattern (`<_> text <_>`).
    Pattern(Pattern),
    /// `ip("…")`.
    Ip(IpMatcher),
}

/// Comparison operators of label filters and binary expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `==` (or `=` with a number)
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

impl CmpOp {
    /// Applies the comparison.
    pub fn test(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
        }
    }
    /// The operator's text.
    pub fn text(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
        }
    }
}

/// What a typed label filter compares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Typed {
    /// A plain number.
    Number(f64),
    /// A duration, in seconds.
    Duration(f64),
    /// A byte size.
    Bytes(f64),
}

/// A label filter expression.
#[derive(Debug, Clone)]
pub enum LabelFilter {
    /// Both hold.
    And(Box<LabelFilter>, Box<LabelFilter>),
    /// Either holds.
    Or(Box<LabelFilter>, Box<LabelFilter>),
    /// A string matcher (`l="v"`, `=~`, …).
    Matcher(Matcher),
    /// A numeric, duration or bytes comparison; the literal's type decides how the label is converted.
    Compare {
        /// The label.
        name: String,
        /// The operator.
        op: CmpOp,
        /// The literal.
        value: Typed,
        /// The literal as written (for the canonical text).
        text: String,
    },
    /// `l = ip("…")` or `l != ip("…")`.
    Ip {
        /// The label.
        name: String,
        /// True for `!=`.
        negated: bool,
        /// The addresses.
        ip: IpMatcher,
    },
}

/// One `label_format` item.
#[derive(Debug, Clone)]
pub enum LabelFmt {
    /// `dst=src`: rename.
    Rename {
        /// New name.
        dst: String,
        /// Old name.
        src: String,
    },
    /// `dst="{{…}}"`: a template.
    Template {
        /// Target label.
        dst: String,
        /// The template source.
        src: String,
        /// The parsed template.
        tmpl: lookout_template::Template,
    },
}

/// One `drop`/`keep` item: a name, or a name with a value matcher.
#[derive(Debug, Clone)]
pub enum LabelSel {
    /// Just the name.
    Name(String),
    /// Only when the value matches.
    Matcher(Matcher),
}

/// A pipeline stage.
#[derive(Debug, Clone)]
pub enum Stage {
    /// A line filter; values are alternatives (`|= "a" or "b"`).
    Line {
        /// The operator.
        op: LineOp,
        /// The alternatives.
        values: Vec<FilterValue>,
    },
    /// `| json` (all fields) or `| json a="x.y", …`.
    Json(Vec<(String, String)>),
    /// `| logfmt [--strict] [--keep-empty] [a, b="c"]`.
    Logfmt {
        /// Stop at the first malformed pair with an error.
        strict: bool,
        /// Keep keys without values.
        keep_empty: bool,
        /// Extracted labels and the keys they come from (empty = all).
        params: Vec<(String, String)>,
    },
    /// `| regexp "(?P<name>…)"`.
    Regexp(Regex),
    /// `| pattern "<a> …"`.
    Pattern(Pattern),
    /// `| unpack`.
    Unpack,
    /// `| l = "v" …`.
    LabelFilter(LabelFilter),
    /// `| line_format "…"`.
    LineFormat {
        /// The source.
        src: String,
        /// The parsed template.
        tmpl: lookout_template::Template,
    },
    /// `| label_format …`.
    LabelFormat(Vec<LabelFmt>),
    /// `| drop …`.
    Drop(Vec<LabelSel>),
    /// `| keep …`.
    Keep(Vec<LabelSel>),
    /// `| decolorize`.
    Decolorize,
}

/// How an unwrapped label becomes a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// A float.
    Float,
    /// `bytes(l)`: a humanized byte size.
    Bytes,
    /// `duration(l)` / `duration_seconds(l)`: a Go duration, in seconds.
    Duration,
}

/// `| unwrap …` with the label filters after it.
#[derive(Debug, Clone)]
pub struct Unwrap {
    /// The label.
    pub label: String,
    /// The conversion.
    pub conversion: Conversion,
    /// How it was written (`duration_seconds` or `duration`).
    pub conversion_name: &'static str,
    /// Label filters after the unwrap.
    pub post_filters: Vec<LabelFilter>,
}

/// A log range: `{…} | … [5m] offset 1h`.
#[derive(Debug, Clone)]
pub struct LogRange {
    /// The selection and pipeline.
    pub log: LogExpr,
    /// The unwrap, for aggregations over values.
    pub unwrap: Option<Unwrap>,
    /// The window, ns.
    pub range_ns: i64,
    /// The offset, ns.
    pub offset_ns: i64,
}

/// Range aggregations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeOp {
    /// `count_over_time`
    CountOverTime,
    /// `rate`
    Rate,
    /// `rate_counter`
    RateCounter,
    /// `bytes_over_time`
    BytesOverTime,
    /// `bytes_rate`
    BytesRate,
    /// `absent_over_time`
    AbsentOverTime,
    /// `sum_over_time`
    SumOverTime,
    /// `avg_over_time`
    AvgOverTime,
    /// `min_over_time`
    MinOverTime,
    /// `max_over_time`
    MaxOverTime,
    /// `stdvar_over_time`
    StdvarOverTime,
    /// `stddev_over_time`
    StddevOverTime,
    /// `quantile_over_time`
    QuantileOverTime,
    /// `first_over_time`
    FirstOverTime,
    /// `last_over_time`
    LastOverTime,
}

impl RangeOp {
    /// By name.
    pub fn from_name(s: &str) -> Option<RangeOp> {
        Some(match s {
            "count_over_time" => RangeOp::CountOverTime,
            "rate" => RangeOp::Rate,
            "rate_counter" => RangeOp::RateCounter,
            "bytes_over_time" => RangeOp::BytesOverTime,
            "bytes_rate" => RangeOp::BytesRate,
            "absent_over_time" => RangeOp::AbsentOverTime,
            "sum_over_time" => RangeOp::SumOverTime,
            "avg_over_time" => RangeOp::AvgOverTime,
            "min_over_time" => RangeOp::MinOverTime,
            "max_over_time" => RangeOp::MaxOverTime,
            "stdvar_over_time" => RangeOp::StdvarOverTime,
            "stddev_over_time" => RangeOp::StddevOverTime,
            "quantile_over_time" => RangeOp::QuantileOverTime,
            "first_over_time" => RangeOp::FirstOverTime,
            "last_over_time" => RangeOp::LastOverTime,
            _ => return None,
        })
    }
    /// The name.
    pub fn name(self) -> &'static str {
        match self {
            RangeOp::CountOverTime => "count_over_time",
            RangeOp::Rate => "rate",
            RangeOp::RateCounter => "rate_counter",
            RangeOp::BytesOverTime => "bytes_over_time",
            RangeOp::BytesRate => "bytes_rate",
            RangeOp::AbsentOverTime => "absent_over_time",
            RangeOp::SumOverTime => "sum_over_time",
            RangeOp::AvgOverTime => "avg_over_time",
            RangeOp::MinOverTime => "min_over_time",
            RangeOp::MaxOverTime => "max_over_time",
            RangeOp::StdvarOverTime => "stdvar_over_time",
            RangeOp::StddevOverTime => "stddev_over_time",
            RangeOp::QuantileOverTime => "quantile_over_time",
            RangeOp::FirstOverTime => "first_over_time",
            RangeOp::LastOverTime => "last_over_time",
        }
    }
    /// Whether the operation needs `| unwrap`: `Some(true)` required, `Some(false)` forbidden, `None` either.
    pub fn unwrap_rule(self) -> Option<bool> {
        match self {
            RangeOp::CountOverTime
            | RangeOp::BytesOverTime
            | RangeOp::BytesRate
            | RangeOp::AbsentOverTime => Some(false),
            RangeOp::Rate => None,
            _ => Some(true),
        }
    }
}

/// `by (…)` or `without (…)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grouping {
    /// True for `without`.
    pub without: bool,
    /// The labels.
    pub labels: Vec<String>,
}

/// Vector aggregations and the sort functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorOp {
    /// `sum`
    Sum,
    /// `avg`
    Avg,
    /// `min`
    Min,
    /// `max`
    Max,
    /// `count`
    Count,
    /// `stddev`
    Stddev,
    /// `stdvar`
    Stdvar,
    /// `topk`
    Topk,
    /// `bottomk`
    Bottomk,
    /// `approx_topk` (answered exactly)
    ApproxTopk,
    /// `sort`
    Sort,
    /// `sort_desc`
    SortDesc,
}

impl VectorOp {
    /// By name.
    pub fn from_name(s: &str) -> Option<VectorOp> {
        Some(match s {
            "sum" => VectorOp::Sum,
            "avg" => VectorOp::Avg,
            "min" => VectorOp::Min,
            "max" => VectorOp::Max,
            "count" => VectorOp::Count,
            "stddev" => VectorOp::Stddev,
            "stdvar" => VectorOp::Stdvar,
            "topk" => VectorOp::Topk,
            "bottomk" => VectorOp::Bottomk,
            "approx_topk" => VectorOp::ApproxTopk,
            "sort" => VectorOp::Sort,
            "sort_desc" => VectorOp::SortDesc,
            _ => return None,
        })
    }
    /// The name.
    pub fn name(self) -> &'static str {
        match self {
            VectorOp::Sum => "sum",
            VectorOp::Avg => "avg",
            VectorOp::Min => "min",
            VectorOp::Max => "max",
            VectorOp::Count => "count",
            VectorOp::Stddev => "stddev",
            VectorOp::Stdvar => "stdvar",
            VectorOp::Topk => "topk",
            VectorOp::Bottomk => "bottomk",
            VectorOp::ApproxTopk => "approx_topk",
            VectorOp::Sort => "sort",
            VectorOp::SortDesc => "sort_desc",
        }
    }
    /// Whether it takes a numeric first argument (`topk(5, …)`).
    pub fn has_param(self) -> bool {
        matches!(
            self,
            VectorOp::Topk | VectorOp::Bottomk | VectorOp::ApproxTopk
        )
    }
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `unless`
    Unless,
    /// A comparison.
    Cmp(CmpOp),
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^`
    Pow,
}

impl BinOp {
    /// Precedence, higher binds tighter (Prometheus's).
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And | BinOp::Unless => 2,
            BinOp::Cmp(_) => 3,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div | BinOp::Mod => 5,
            BinOp::Pow => 6,
        }
    }
    /// The operator's text.
    pub fn text(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Unless => "unless",
            BinOp::Cmp(c) => c.text(),
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Pow => "^",
        }
    }
}

/// `on`/`ignoring` and `group_left`/`group_right` of a binary expression.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matching {
    /// `on (…)` when true, `ignoring (…)` when false and labels given.
    pub on: bool,
    /// The matching labels.
    pub labels: Vec<String>,
    /// `group_left` (`Some(false)`) or `group_right` (`Some(true)`) with their labels.
    pub group: Option<(bool, Vec<String>)>,
}

/// A metric expression.
#[derive(Debug, Clone)]
pub enum MetricExpr {
    /// A range aggregation over a log range.
    Range {
        /// The operation.
        op: RangeOp,
        /// `quantile_over_time`'s φ.
        param: Option<f64>,
        /// The log range.
        range: Box<LogRange>,
        /// `by`/`without` (unwrapped aggregations).
        grouping: Option<Grouping>,
    },
    /// A vector aggregation.
    Vector {
        /// The operation.
        op: VectorOp,
        /// `topk`'s k.
        param: Option<f64>,
        /// `by`/`without`.
        grouping: Option<Grouping>,
        /// The argument.
        expr: Box<MetricExpr>,
    },
    /// A binary operation.
    Binary {
        /// The operator.
        op: BinOp,
        /// `bool`.
        return_bool: bool,
        /// Vector matching.
        matching: Matching,
        /// Left side.
        lhs: Box<MetricExpr>,
        /// Right side.
        rhs: Box<MetricExpr>,
    },
    /// A number.
    Literal(f64),
    /// `vector(n)`.
    VectorLit(f64),
    /// `label_replace(v, dst, replacement, src, regex)`.
    LabelReplace {
        /// The argument.
        expr: Box<MetricExpr>,
        /// The other arguments in order.
        args: [String; 4],
    },
    /// `( … )`.
    Paren(Box<MetricExpr>),
}

pub use crate::display::{duration_text, quote};

pub use crate::lexer::{parse_bytes as parse_bytes_text, parse_duration as parse_duration_text};
