//! PromQL functions by family. The pure numeric kernels live in `range`, `histogram` and `math`;
//! this module dispatches calls to them or to the vector-level code (labels, sorting, absent, histograms).

pub mod histogram;
pub mod math;
pub mod range;

mod classic_histogram;
mod info;
mod label_fns;

use lookout_model::{Labels, LabelsBuilder, METRIC_NAME};
use promql_parser::label::MatchOp as PMatchOp;
use promql_parser::parser::{Call, Expr};

use crate::QueryError;
use crate::eval::{Elem, Evaluator, Matrix, Vector};

/// Date functions: on a vector, or on `vector(time())` without arguments.
const DATE_FNS: &[&str] = &[
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "days_in_month",
    "hour",
    "minute",
    "month",
    "year",
];

/// The labels `absent(sel)` / `absent_over_time(sel[..])` report: the selector's equality matchers.
pub(crate) fn absent_labels(arg: &Expr) -> Labels {
    let vs = match arg {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &ms.vs,
        _ => return Labels::empty(),
    };
    let mut b = LabelsBuilder::new();
    let mut seen: Vec<&str> = Vec::new();
    for m in &vs.matchers.matchers {
        if m.name == METRIC_NAME {
            continue;
        }
        if m.op == PMatchOp::Equal && !seen.contains(&m.name.as_str()) {
            b.set(&m.name, &m.value);
            seen.push(&m.name);
        } else {
            b.remove(&m.name);
        }
    }
    b.build_unchecked()
}

/// The string value of a string-literal argument.
pub(crate) fn string_arg(e: &Expr) -> Result<String, QueryError> {
    match e {
        Expr::StringLiteral(s) => Ok(s.val.clone()),
        Expr::Paren(p) => string_arg(&p.expr),
        other => Err(QueryError::Execution(format!(
            "expected a string argument, got {}",
            other.value_type()
        ))),
    }
}

/// The expression inside any number of parentheses.
pub(crate) fn unwrap_parens(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => unwrap_parens(&p.expr),
        other => other,
    }
}

/// Evaluates a function call.
pub(crate) fn eval_call(ev: &Evaluator<'_>, call: &Call) -> Result<Matrix, QueryError> {
    let name = call.func.name;
    let args = &call.args.args;
    if let Some(idx) = args.iter().position(|a| {
        matches!(
            unwrap_parens(a),
            Expr::MatrixSelector(_) | Expr::Subquery(_)
        )
    }) {
        return ev.eval_range_call(name, call, idx);
    }
    match name {
        "timestamp" => {
            if let Expr::VectorSelector(vs) = unwrap_parens(&args[0]) {
                let mut m = ev.vector_selector_points(vs, true)?;
                for s in &mut m {
                    s.drop_name = true;
                }
                return Ok(m);
            }
        }
        "label_replace" => return label_fns::label_replace(ev, args),
        "label_join" => return label_fns::label_join(ev, args),
        "info" => return info::info(ev, args),
        "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc" if !ev.is_instant() => {
            ev.env.annos.warn(
                "sort is ineffective for range queries since results are always ordered by labels",
            );
        }
        _ => {}
    }
    // Evaluate the non-string arguments, then apply the function step by step.
    let mut inputs: Vec<Matrix> = Vec::with_capacity(args.len());
    let mut strings: Vec<Option<String>> = Vec::with_capacity(args.len());
    for a in args {
        if a.value_type() == promql_parser::parser::value::ValueType::String {
            strings.push(Some(string_arg(a)?));
            inputs.push(Vec::new());
        } else {
            strings.push(None);
            inputs.push(ev.eval(a)?.into_matrix()?);
        }
    }
    let strs: Vec<String> = strings.into_iter().flatten().collect();
    ev.range_eval(&inputs, |ts, v| call_step(ev, name, ts, v, args, &strs))
}

fn scalar(v: &Vector) -> f64 {
    v.first().map(|e| e.v).unwrap_or(f64::NAN)
}

fn unlabelled(v: f64, ts: i64) -> Vector {
    vec![Elem {
        labels: Labels::empty(),
        v,
        t: ts,
        drop_name: false,
    }]
}

/// One step of a function without a range-vector argument.
fn call_step(
    ev: &Evaluator<'_>,
    name: &str,
    ts: i64,
    v: &mut [Vector],
    args: &[Box<Expr>],
    strs: &[String],
) -> Result<Vector, QueryError> {
    if DATE_FNS.contains(&name) && v.is_empty() {
        let secs = (ts / 1000) as f64;
        return Ok(unlabelled(
            math::eval_elementwise(name, secs, &[]).unwrap_or(f64::NAN),
            ts,
        ));
    }
    if math::is_elementwise(name) {
        let params: Vec<f64> = v[1..].iter().map(scalar).collect();
        if name == "clamp" && params.len() == 2 && params[1] < params[0] {
            return Ok(Vec::new());
        }
        return Ok(map_values(&v[0], |x| {
            math::eval_elementwise(name, x, &params)
        }));
    }
    Ok(match name {
        "time" => unlabelled(ts as f64 / 1000.0, ts),
        // Query-context functions refer to the whole query, also inside subqueries.
        "step" => unlabelled(ev.env.query_step as f64 / 1000.0, ts),
        "range" => unlabelled((ev.env.query_end - ev.env.query_start) as f64 / 1000.0, ts),
        "start" => unlabelled(ev.env.query_start as f64 / 1000.0, ts),
        "end" => unlabelled(ev.env.query_end as f64 / 1000.0, ts),
        "pi" => unlabelled(std::f64::consts::PI, ts),
        "vector" => unlabelled(scalar(&v[0]), ts),
        "scalar" => unlabelled(if v[0].len() == 1 { v[0][0].v } else { f64::NAN }, ts),
        "absent" => {
            if v[0].is_empty() {
                vec![Elem {
                    labels: absent_labels(&args[0]),
                    v: 1.0,
                    t: ts,
                    drop_name: false,
                }]
            } else {
                Vec::new()
            }
        }
        "timestamp" => std::mem::take(&mut v[0])
            .into_iter()
            .map(|e| Elem {
                v: e.t as f64 / 1000.0,
                drop_name: true,
                ..e
            })
            .collect(),
        "sort" | "sort_desc" => {
            let mut out = std::mem::take(&mut v[0]);
            let desc = name == "sort_desc";
            out.sort_by(|a, b| crate::eval::cmp_value_nan_last(a.v, b.v, desc));
            out
        }
        "sort_by_label" | "sort_by_label_desc" => {
            let mut out = std::mem::take(&mut v[0]);
            label_fns::sort_by_label(&mut out, strs, name == "sort_by_label_desc");
            out
        }
        "histogram_quantile" => {
            let q = scalar(&v[0]);
            let vec = std::mem::take(&mut v[1]);
            classic_histogram::histogram_quantile(ev, q, vec)
        }
        "histogram_quantiles" => {
            let qs: Vec<f64> = v[2..].iter().map(scalar).collect();
            let vec = std::mem::take(&mut v[0]);
            let label = strs.first().map(String::as_str).unwrap_or("quantile");
            classic_histogram::histogram_quantiles(ev, vec, label, &qs)
        }
        "histogram_fraction" => {
            let (lo, hi) = (scalar(&v[0]), scalar(&v[1]));
            let vec = std::mem::take(&mut v[2]);
            classic_histogram::histogram_fraction(ev, lo, hi, vec)
        }
        // Storage keeps no start timestamps, so there is nothing to report (as Prometheus without them).
        "start_timestamp" => Vec::new(),
        // Native-histogram functions: float samples give no output.
        "histogram_count" | "histogram_sum" | "histogram_avg" | "histogram_stddev"
        | "histogram_stdvar" => Vec::new(),
        _ => {
            return Err(QueryError::Execution(format!(
                "function {name:?} is not supported"
            )));
        }
    })
}

fn map_values(v: &Vector, f: impl Fn(f64) -> Option<f64>) -> Vector {
    v.iter()
        .filter_map(|e| {
            Some(Elem {
                labels: e.labels.clone(),
                v: f(e.v)?,
                t: e.t,
                drop_name: true,
            })
        })
        .collect()
}
