//! Range-vector functions (`rate(x[5m])`, `avg_over_time(x[1h])`, …): the numeric kernel that
//! turns one series' window of float samples into at most one output value.
//!
//! The engine selects the window, removes staleness markers and native histograms, reports
//! annotations and errors, and calls [`eval_range_fn`] per series and step.

pub(crate) mod counter;
mod extended;
mod over_time;
mod regression;

pub use crate::functions::math::kahan_sum_inc;
pub use extended::{RangeModifier, eval_extended_range_fn};
pub use regression::predict_linear_at;

use lookout_model::Sample;

/// A PromQL function that takes a range vector and yields one float per series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeFn {
    /// `rate`: per-second increase of a counter, extrapolated to the window.
    Rate,
    /// `increase`: increase of a counter over the window, extrapolated.
    Increase,
    /// `delta`: difference of a gauge over the window, extrapolated.
    Delta,
    /// `irate`: per-second rate from the last two samples.
    Irate,
    /// `idelta`: difference of the last two samples.
    Idelta,
    /// `deriv`: per-second slope of a least-squares line.
    Deriv,
    /// `predict_linear`: value of the least-squares line `args[0]` seconds after evaluation.
    PredictLinear,
    /// `double_exponential_smoothing` (formerly `holt_winters`).
    DoubleExponentialSmoothing,
    /// `resets`: number of counter resets.
    Resets,
    /// `changes`: number of value changes.
    Changes,
    /// `avg_over_time`.
    AvgOverTime,
    /// `sum_over_time`.
    SumOverTime,
    /// `min_over_time`.
    MinOverTime,
    /// `max_over_time`.
    MaxOverTime,
    /// `count_over_time`.
    CountOverTime,
    /// `last_over_time`.
    LastOverTime,
    /// `present_over_time`.
    PresentOverTime,
    /// `stddev_over_time` (population standard deviation).
    StddevOverTime,
    /// `stdvar_over_time` (population variance).
    StdvarOverTime,
    /// `quantile_over_time`: φ-quantile with φ = `args[0]`.
    QuantileOverTime,
    /// `mad_over_time`: median absolute deviation from the median.
    MadOverTime,
    /// `first_over_time`.
    FirstOverTime,
    /// `ts_of_min_over_time`: timestamp (seconds) of the last occurrence of the minimum.
    TsOfMinOverTime,
    /// `ts_of_max_over_time`: timestamp (seconds) of the last occurrence of the maximum.
    TsOfMaxOverTime,
    /// `ts_of_last_over_time`: timestamp (seconds) of the last sample.
    TsOfLastOverTime,
    /// `ts_of_first_over_time`: timestamp (seconds) of the first sample.
    TsOfFirstOverTime,
}

/// Every range function with its Prometheus name (the canonical one for aliases).
const NAMES: &[(RangeFn, &str)] = &[
    (RangeFn::Rate, "rate"),
    (RangeFn::Increase, "increase"),
    (RangeFn::Delta, "delta"),
    (RangeFn::Irate, "irate"),
    (RangeFn::Idelta, "idelta"),
    (RangeFn::Deriv, "deriv"),
    (RangeFn::PredictLinear, "predict_linear"),
    (
        RangeFn::DoubleExponentialSmoothing,
        "double_exponential_smoothing",
    ),
    (RangeFn::Resets, "resets"),
    (RangeFn::Changes, "changes"),
    (RangeFn::AvgOverTime, "avg_over_time"),
    (RangeFn::SumOverTime, "sum_over_time"),
    (RangeFn::MinOverTime, "min_over_time"),
    (RangeFn::MaxOverTime, "max_over_time"),
    (RangeFn::CountOverTime, "count_over_time"),
    (RangeFn::LastOverTime, "last_over_time"),
    (RangeFn::PresentOverTime, "present_over_time"),
    (RangeFn::StddevOverTime, "stddev_over_time"),
    (RangeFn::StdvarOverTime, "stdvar_over_time"),
    (RangeFn::QuantileOverTime, "quantile_over_time"),
    (RangeFn::MadOverTime, "mad_over_time"),
    (RangeFn::FirstOverTime, "first_over_time"),
    (RangeFn::TsOfMinOverTime, "ts_of_min_over_time"),
    (RangeFn::TsOfMaxOverTime, "ts_of_max_over_time"),
    (RangeFn::TsOfLastOverTime, "ts_of_last_over_time"),
    (RangeFn::TsOfFirstOverTime, "ts_of_first_over_time"),
];

impl RangeFn {
    /// The function called `name` in PromQL (`holt_winters` is accepted as an alias of
    /// `double_exponential_smoothing`).
    pub fn from_name(name: &str) -> Option<RangeFn> {
        if name == "holt_winters" {
            return Some(RangeFn::DoubleExponentialSmoothing);
        }
        NAMES.iter().find(|(_, n)| *n == name).map(|(f, _)| *f)
    }

    /// The canonical PromQL name.
    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(f, _)| *f == self)
            .map(|(_, n)| *n)
            .unwrap_or("unknown")
    }

    /// How many scalar parameters the function takes after the range vector.
    pub fn scalar_arg_count(self) -> usize {
        match self {
            RangeFn::PredictLinear | RangeFn::QuantileOverTime => 1,
            RangeFn::DoubleExponentialSmoothing => 2,
            _ => 0,
        }
    }
}

/// Why a range function's scalar parameters make the whole query fail (Prometheus panics
/// with these messages, failing the query).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RangeFnArgError {
    /// The smoothing factor of `double_exponential_smoothing` is not in (0, 1).
    #[error("invalid smoothing factor. Expected: 0 < sf < 1, got: {0:.6}")]
    InvalidSmoothingFactor(f64),
    /// The trend factor of `double_exponential_smoothing` is not in (0, 1).
    #[error("invalid trend factor. Expected: 0 < tf < 1, got: {0:.6}")]
    InvalidTrendFactor(f64),
    /// Fewer scalar parameters than the function needs.
    #[error("{function}: expected {expected} scalar argument(s), got {got}")]
    MissingArgument {
        /// The function's name.
        function: &'static str,
        /// How many it needs.
        expected: usize,
        /// How many were given.
        got: usize,
    },
}

/// Checks the scalar parameters that turn into query errors rather than empty results.
/// The engine calls this once per evaluation step, before [`eval_range_fn`], but only when
/// the range vector has at least one series (Prometheus never calls the function otherwise).
pub fn check_range_fn_args(f: RangeFn, args: &[f64]) -> Result<(), RangeFnArgError> {
    if args.len() < f.scalar_arg_count() {
        return Err(RangeFnArgError::MissingArgument {
            function: f.name(),
            expected: f.scalar_arg_count(),
            got: args.len(),
        });
    }
    if f == RangeFn::DoubleExponentialSmoothing {
        let (sf, tf) = (args[0], args[1]);
        // NaN factors pass these comparisons (and yield NaN), exactly as in Prometheus.
        if sf <= 0.0 || sf >= 1.0 {
            return Err(RangeFnArgError::InvalidSmoothingFactor(sf));
        }
        if tf <= 0.0 || tf >= 1.0 {
            return Err(RangeFnArgError::InvalidTrendFactor(tf));
        }
    }
    Ok(())
}

/// Evaluates range function `f` over one series' `window`: the float samples with
/// `range_start_ms < t <= range_end_ms`, oldest first, staleness markers removed.
/// `range_start_ms`/`range_end_ms` are the window bounds after `offset` and `@` are applied
/// (rate/increase/delta extrapolate to them; their difference is the range). `args` holds
/// the scalar parameters (`quantile_over_time`'s φ, `predict_linear`'s seconds, the smoothing
/// and trend factors).
///
/// Returns `None` when Prometheus emits no sample for the series: an empty window; fewer
/// than two samples for rate/increase/delta/irate/idelta/deriv/predict_linear/
/// double_exponential_smoothing; a missing scalar parameter.
///
/// What the engine must handle itself:
/// - `double_exponential_smoothing` factors outside (0, 1) fail the query: call
///   [`check_range_fn_args`] first (this function returns `None` for them).
/// - `quantile_over_time` with φ outside [0, 1] or NaN still yields ±Inf/NaN here, and the
///   engine adds the "quantile value should be between 0 and 1" warning.
/// - `predict_linear` anchors its line at the *evaluation* timestamp, which differs from
///   `range_end_ms` under `offset`/`@`: use [`predict_linear_at`] in that case (this function
///   anchors at `range_end_ms`).
/// - Native histogram samples (not supported here) and the info annotation for histograms
///   ignored in a mixed range.
pub fn eval_range_fn(
    f: RangeFn,
    window: &[Sample],
    range_start_ms: i64,
    range_end_ms: i64,
    args: &[f64],
) -> Option<f64> {
    if window.is_empty() || check_range_fn_args(f, args).is_err() {
        return None;
    }
    let first = window[0];
    let last = window[window.len() - 1];
    let value = match f {
        RangeFn::Rate => {
            counter::extrapolated_rate(window, range_start_ms, range_end_ms, true, true)?
        }
        RangeFn::Increase => {
            counter::extrapolated_rate(window, range_start_ms, range_end_ms, true, false)?
        }
        RangeFn::Delta => {
            counter::extrapolated_rate(window, range_start_ms, range_end_ms, false, false)?
        }
        RangeFn::Irate => counter::instant_value(window, true)?,
        RangeFn::Idelta => counter::instant_value(window, false)?,
        RangeFn::Resets => counter::resets(window),
        RangeFn::Changes => counter::changes(window),
        RangeFn::Deriv => regression::deriv(window)?,
        RangeFn::PredictLinear => predict_linear_at(window, range_end_ms, args[0])?,
        RangeFn::DoubleExponentialSmoothing => {
            regression::double_exponential_smoothing(window, args[0], args[1])?
        }
        RangeFn::AvgOverTime => over_time::avg(window),
        RangeFn::SumOverTime => over_time::sum(window),
        RangeFn::MinOverTime => over_time::extreme(window, |cur, best| cur < best).v,
        RangeFn::MaxOverTime => over_time::extreme(window, |cur, best| cur > best).v,
        RangeFn::TsOfMinOverTime => {
            ms_to_seconds(over_time::extreme(window, |cur, best| cur <= best).t)
        }
        RangeFn::TsOfMaxOverTime => {
            ms_to_seconds(over_time::extreme(window, |cur, best| cur >= best).t)
        }
        RangeFn::CountOverTime => window.len() as f64,
        RangeFn::PresentOverTime => 1.0,
        RangeFn::LastOverTime => last.v,
        RangeFn::FirstOverTime => first.v,
        RangeFn::TsOfLastOverTime => ms_to_seconds(last.t),
        RangeFn::TsOfFirstOverTime => ms_to_seconds(first.t),
        RangeFn::StdvarOverTime => over_time::variance(window),
        RangeFn::StddevOverTime => over_time::variance(window).sqrt(),
        RangeFn::QuantileOverTime => {
            let mut values: Vec<f64> = window.iter().map(|s| s.v).collect();
            crate::functions::math::quantile(args[0], &mut values)
        }
        RangeFn::MadOverTime => over_time::median_absolute_deviation(window),
    };
    Some(value)
}

/// A millisecond timestamp as float seconds.
fn ms_to_seconds(t_ms: i64) -> f64 {
    t_ms as f64 / 1000.0
}

/// A millisecond duration as float seconds, rounded the way Go's `Duration.Seconds` rounds
/// (whole seconds plus the fractional part), so rates divide by exactly the same number.
fn duration_seconds(ms: i64) -> f64 {
    let whole = ms / 1000;
    let nanos = (ms % 1000) * 1_000_000;
    whole as f64 + nanos as f64 / 1e9
}

#[cfg(test)]
mod tests;
