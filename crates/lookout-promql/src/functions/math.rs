//! Element-wise math and date functions, PromQL's `quantile`, and Kahan–Neumaier summation.
//!
//! Everything here works on plain `f64`s; the engine applies these per sample and owns the
//! label handling (dropping `__name__`, skipping histogram samples).

use std::cmp::Ordering;

/// One step of Kahan–Neumaier compensated summation: adds `inc` to the running `sum` whose
/// lost low-order bits are carried in `c`. Returns the new `(sum, c)`; the final value is
/// `sum + c` (unless `sum` is infinite, where the compensation is meaningless and reset to 0).
///
/// Rust never fuses `a * b + c` into an FMA on its own, so the rounding here is the plain
/// IEEE-754 rounding Prometheus forces with explicit conversions.
pub fn kahan_sum_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        // Neumaier's variant: compensate with whichever operand is smaller in magnitude.
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// The φ-quantile of `values` as PromQL's `quantile` aggregation and `quantile_over_time`
/// compute it: NaN for no values or a NaN `q`, -Inf for `q < 0`, +Inf for `q > 1`, otherwise
/// the weighted average of the two closest ranks (`rank = q × (n − 1)`). NaN values sort
/// before every number. `values` is sorted in place.
// The engine-facing signature takes the Vec it already owns.
#[allow(clippy::ptr_arg)]
pub fn quantile(q: f64, values: &mut Vec<f64>) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_unstable_by(nan_first_cmp);
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

/// Ascending order with every NaN before every number (Prometheus's value-heap order).
fn nan_first_cmp(a: &f64, b: &f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
    }
}

/// Go's `math.Max`: +Inf wins over everything (even NaN), then NaN propagates, and +0 beats -0.
pub fn go_max(x: f64, y: f64) -> f64 {
    if x == f64::INFINITY || y == f64::INFINITY {
        return f64::INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && y == 0.0 {
        return if x.is_sign_negative() { y } else { x };
    }
    if x > y { x } else { y }
}

/// Go's `math.Min`: -Inf wins over everything (even NaN), then NaN propagates, and -0 beats +0.
pub fn go_min(x: f64, y: f64) -> f64 {
    if x == f64::NEG_INFINITY || y == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && y == 0.0 {
        return if x.is_sign_negative() { x } else { y };
    }
    if x < y { x } else { y }
}

/// True when `name` is a function [`eval_elementwise`] implements.
pub fn is_elementwise(name: &str) -> bool {
    ELEMENTWISE_NAMES.contains(&name)
}

/// Names of the functions [`eval_elementwise`] implements.
pub const ELEMENTWISE_NAMES: &[&str] = &[
    "abs",
    "ceil",
    "floor",
    "exp",
    "ln",
    "log2",
    "log10",
    "sqrt",
    "sgn",
    "round",
    "clamp",
    "clamp_min",
    "clamp_max",
    "max_of",
    "min_of",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "tanh",
    "asinh",
    "acosh",
    "atanh",
    "deg",
    "rad",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "days_in_month",
    "hour",
    "minute",
    "month",
    "year",
];

/// Applies the element-wise PromQL function `name` to the sample value `v`, with the
/// function's scalar parameters in `args`:
/// - `round`: `args[0]` = to_nearest (default 1); `floor(v / to_nearest + 0.5) × to_nearest`
///   computed through the inverse as Prometheus does;
/// - `clamp`: `args = [min, max]`; `clamp_min`/`clamp_max`: `args[0]`; `max_of`/`min_of`:
///   `args[0]` is the other operand;
/// - date functions: `v` is Unix seconds (truncated toward zero), evaluated in UTC. For the
///   zero-argument form the engine passes `eval_ts_ms / 1000` (integer division, as Prometheus).
///   Non-finite input gives NaN (Prometheus would convert NaN to an undefined integer).
///
/// Returns `None` when no sample must be emitted: an unknown name (check with
/// [`is_elementwise`]), a missing required argument, or `clamp` with `max < min` (Prometheus
/// returns an empty vector then).
pub fn eval_elementwise(name: &str, v: f64, args: &[f64]) -> Option<f64> {
    let arg = |i: usize| args.get(i).copied();
    let out = match name {
        "abs" => v.abs(),
        "ceil" => v.ceil(),
        "floor" => v.floor(),
        "exp" => v.exp(),
        "ln" => v.ln(),
        "log2" => v.log2(),
        "log10" => v.log10(),
        "sqrt" => v.sqrt(),
        "sgn" => sgn(v),
        "round" => {
            let inverse = 1.0 / arg(0).unwrap_or(1.0);
            (v * inverse + 0.5).floor() / inverse
        }
        "clamp" => {
            let (min, max) = (arg(0)?, arg(1)?);
            if max < min {
                return None;
            }
            go_max(min, go_min(max, v))
        }
        "clamp_min" => go_max(arg(0)?, go_min(f64::INFINITY, v)),
        "clamp_max" => go_max(f64::NEG_INFINITY, go_min(arg(0)?, v)),
        "max_of" => go_max(v, arg(0)?),
        "min_of" => go_min(v, arg(0)?),
        "sin" => v.sin(),
        "cos" => v.cos(),
        "tan" => v.tan(),
        "asin" => v.asin(),
        "acos" => v.acos(),
        "atan" => v.atan(),
        "sinh" => v.sinh(),
        "cosh" => v.cosh(),
        "tanh" => v.tanh(),
        "asinh" => v.asinh(),
        "acosh" => v.acosh(),
        "atanh" => v.atanh(),
        "deg" => v * 180.0 / std::f64::consts::PI,
        "rad" => v * std::f64::consts::PI / 180.0,
        "day_of_month" | "day_of_week" | "day_of_year" | "days_in_month" | "hour" | "minute"
        | "month" | "year" => date_part(name, v),
        _ => return None,
    };
    Some(out)
}

/// -1, 1, or the input itself for zeros and NaN.
fn sgn(v: f64) -> f64 {
    if v < 0.0 {
        -1.0
    } else if v > 0.0 {
        1.0
    } else {
        v
    }
}

const SECONDS_PER_DAY: i64 = 86_400;

/// One date component of the UTC instant `unix_seconds`; NaN for non-finite input.
fn date_part(name: &str, unix_seconds: f64) -> f64 {
    if !unix_seconds.is_finite() {
        return f64::NAN;
    }
    // Go converts with truncation toward zero; `as` saturates far outside any sane date.
    let secs = unix_seconds as i64;
    let days = secs.div_euclid(SECONDS_PER_DAY);
    let second_of_day = secs.rem_euclid(SECONDS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let value = match name {
        "year" => year,
        "month" => month,
        "day_of_month" => day,
        // 1970-01-01 was a Thursday (4, with Sunday = 0).
        "day_of_week" => (days + 4).rem_euclid(7),
        "day_of_year" => days - days_from_civil(year, 1, 1) + 1,
        "days_in_month" => days_in_month(year, month),
        "hour" => second_of_day / 3600,
        "minute" => second_of_day % 3600 / 60,
        _ => return f64::NAN,
    };
    value as f64
}

/// Days since 1970-01-01 of the proleptic Gregorian date `year-month-day` (Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let shifted_month = (month + 9) % 12; // March = 0 … February = 11
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian `(year, month, day)` of `days` since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ew(name: &str, v: f64, args: &[f64]) -> f64 {
        eval_elementwise(name, v, args).expect("function must emit a value")
    }

    #[test]
    fn kahan_recovers_lost_low_bits() {
        // 1 + 1e100 + 1 - 1e100 is 2 exactly; naive summation gives 0.
        let mut state = (0.0, 0.0);
        for inc in [1.0, 1e100, 1.0, -1e100] {
            state = kahan_sum_inc(inc, state.0, state.1);
        }
        assert_eq!(state.0 + state.1, 2.0);
        let (sum, c) = kahan_sum_inc(f64::INFINITY, 1.0, 0.5);
        assert_eq!((sum, c), (f64::INFINITY, 0.0));
    }

    #[test]
    fn quantile_edges_and_interpolation() {
        assert!(quantile(0.5, &mut vec![]).is_nan());
        assert!(quantile(f64::NAN, &mut vec![1.0]).is_nan());
        assert_eq!(quantile(-0.1, &mut vec![1.0]), f64::NEG_INFINITY);
        assert_eq!(quantile(1.1, &mut vec![1.0]), f64::INFINITY);
        // 0, 10, 20, 30: q=0.5 → rank 1.5 → 15; q=0.8 → rank 2.4 → 24.
        assert_eq!(quantile(0.5, &mut vec![30.0, 0.0, 20.0, 10.0]), 15.0);
        assert!((quantile(0.8, &mut vec![30.0, 0.0, 20.0, 10.0]) - 24.0).abs() < 1e-12);
        assert_eq!(quantile(1.0, &mut vec![3.0, 1.0, 2.0]), 3.0);
        assert_eq!(quantile(0.0, &mut vec![3.0, 1.0, 2.0]), 1.0);
        // NaN sorts first: with [NaN, 1, 2] the median is 1 and the minimum is NaN.
        assert_eq!(quantile(0.5, &mut vec![2.0, f64::NAN, 1.0]), 1.0);
        assert!(quantile(0.0, &mut vec![2.0, f64::NAN, 1.0]).is_nan());
    }

    #[test]
    fn rounding_follows_prometheus_rule() {
        assert_eq!(ew("round", 2.5, &[]), 3.0);
        assert_eq!(ew("round", -2.5, &[]), -2.0);
        assert_eq!(ew("round", 7.0, &[5.0]), 5.0);
        assert_eq!(ew("round", 8.0, &[5.0]), 10.0);
        assert!((ew("round", 1.26, &[0.1]) - 1.3).abs() < 1e-12);
        assert!(ew("round", f64::NAN, &[]).is_nan());
    }

    #[test]
    fn clamp_semantics() {
        assert_eq!(eval_elementwise("clamp", 5.0, &[3.0, 1.0]), None);
        assert_eq!(ew("clamp", 5.0, &[1.0, 3.0]), 3.0);
        assert_eq!(ew("clamp", -5.0, &[1.0, 3.0]), 1.0);
        assert!(ew("clamp", f64::NAN, &[1.0, 3.0]).is_nan());
        assert!(ew("clamp", 2.0, &[f64::NAN, 3.0]).is_nan());
        assert_eq!(ew("clamp_min", -5.0, &[0.0]), 0.0);
        assert_eq!(ew("clamp_max", 5.0, &[0.0]), 0.0);
        assert_eq!(ew("clamp_max", f64::INFINITY, &[7.0]), 7.0);
        assert!(ew("clamp_min", f64::NAN, &[0.0]).is_nan());
        assert_eq!(eval_elementwise("clamp", 1.0, &[0.0]), None);
    }

    #[test]
    fn simple_functions() {
        assert_eq!(ew("sgn", -3.0, &[]), -1.0);
        assert_eq!(ew("sgn", 0.0, &[]), 0.0);
        assert!(ew("sgn", f64::NAN, &[]).is_nan());
        assert_eq!(ew("abs", -2.0, &[]), 2.0);
        assert!((ew("deg", std::f64::consts::PI, &[]) - 180.0).abs() < 1e-12);
        assert!((ew("rad", 180.0, &[]) - std::f64::consts::PI).abs() < 1e-12);
        assert_eq!(ew("ln", 0.0, &[]), f64::NEG_INFINITY);
        assert!(ew("sqrt", -1.0, &[]).is_nan());
        assert_eq!(ew("log2", 8.0, &[]), 3.0);
        assert!(ew("acosh", 0.5, &[]).is_nan());
        assert_eq!(ew("atanh", 1.0, &[]), f64::INFINITY);
        assert_eq!(ew("max_of", 1.0, &[2.0]), 2.0);
        assert_eq!(ew("min_of", 1.0, &[2.0]), 1.0);
        assert_eq!(eval_elementwise("no_such_fn", 1.0, &[]), None);
        assert!(is_elementwise("year") && !is_elementwise("pi"));
    }

    #[test]
    fn trig_matches_trig_functions_test() {
        let cases: [(&str, f64, f64); 16] = [
            ("sin", 10.0, -0.5440211108893699),
            ("cos", 20.0, 0.40808206181339196),
            ("tan", 20.0, 2.2371609442247427),
            ("asin", 10.0 - 10.1, -0.10016742116155944),
            ("acos", 10.0 - 10.1, 1.670963747956456),
            ("atan", 20.0, 1.5208379310729538),
            ("sinh", 20.0, 2.4258259770489514e+08),
            ("cosh", 10.0, 11013.232920103324),
            ("tanh", 10.0, 0.9999999958776927),
            ("tanh", 20.0, 1.0),
            ("asinh", 10.0, 2.99822295029797),
            ("acosh", 20.0, 3.6882538673612966),
            ("atanh", 10.0 - 10.1, -0.10033534773107522),
            ("rad", 20.0, 0.3490658503988659),
            ("deg", 10.0, 572.9577951308232),
            ("deg", -10.0, -572.9577951308232),
        ];
        for (name, v, want) in cases {
            let got = ew(name, v, &[]);
            assert!(
                ((got - want) / want).abs() < 1e-12,
                "{name}({v}) = {got}, want {want}"
            );
        }
        for name in ["asin", "acos", "atanh"] {
            assert!(ew(name, 20.0 - 10.1, &[]).is_nan(), "{name} out of domain");
        }
        for name in ELEMENTWISE_NAMES {
            if !matches!(
                *name,
                "clamp" | "clamp_min" | "clamp_max" | "max_of" | "min_of"
            ) {
                assert!(ew(name, f64::NAN, &[]).is_nan(), "{name}(NaN)");
            }
        }
    }

    #[test]
    fn date_functions_match_functions_test() {
        // 2006-01-02 22:04:05 UTC, a Monday (functions.test).
        let t = 1_136_239_445.0;
        assert_eq!(ew("year", t, &[]), 2006.0);
        assert_eq!(ew("month", t, &[]), 1.0);
        assert_eq!(ew("day_of_month", t, &[]), 2.0);
        assert_eq!(ew("day_of_year", t, &[]), 2.0);
        assert_eq!(ew("day_of_week", t, &[]), 1.0);
        assert_eq!(ew("hour", t, &[]), 22.0);
        assert_eq!(ew("minute", t, &[]), 4.0);
        assert_eq!(ew("year", 1_230_767_999.0, &[]), 2008.0);
        assert_eq!(ew("year", 1_230_768_000.0, &[]), 2009.0);
        assert_eq!(ew("month", 1_456_790_399.0, &[]), 2.0);
        assert_eq!(ew("day_of_month", 1_456_790_399.0, &[]), 29.0);
        assert_eq!(ew("month", 1_456_790_400.0, &[]), 3.0);
        assert_eq!(ew("day_of_year", 1_483_191_420.0, &[]), 366.0);
        assert_eq!(ew("day_of_year", 1_672_493_820.0, &[]), 365.0);
        assert_eq!(ew("days_in_month", 1_454_284_800.0, &[]), 29.0);
        assert_eq!(ew("days_in_month", 1_485_907_200.0, &[]), 28.0);
        // Epoch defaults and negative times: 1969-12-31 23:59:59 was a Wednesday.
        assert_eq!(ew("year", 0.0, &[]), 1970.0);
        assert_eq!(ew("day_of_week", 0.0, &[]), 4.0);
        assert_eq!(ew("year", -1.0, &[]), 1969.0);
        assert_eq!(ew("hour", -1.0, &[]), 23.0);
        assert_eq!(ew("day_of_week", -1.0, &[]), 3.0);
        assert!(ew("year", f64::NAN, &[]).is_nan());
        assert!(ew("hour", f64::INFINITY, &[]).is_nan());
    }

    #[test]
    fn civil_round_trip() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
            assert!((1..=days_in_month(y, m)).contains(&d));
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
