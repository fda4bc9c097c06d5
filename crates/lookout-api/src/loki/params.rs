//! Loki's request parameters: times (seconds, nanoseconds or RFC 3339), `since`, `limit`, `direction`, `step`,
//! and the `[start, end)` range check against `limits.max_log_query_range`.

use lookout_model::Matcher;
use lookout_storage::logs::QueryDirection;

use super::parse_loki_time;
use crate::params::Params;
use crate::{ApiError, ApiState};

const HOUR_NS: i64 = 3_600_000_000_000;

/// Now, Unix ns.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// A time parameter, if given.
pub fn time_param(p: &Params, name: &str) -> Result<Option<i64>, ApiError> {
    p.get(name)
        .map(|s| {
            parse_loki_time(s)
                .map_err(|e| ApiError::bad_data(format!("invalid parameter {name:?}: {e}")))
        })
        .transpose()
}

/// `start`/`end` (or `since`) as Loki defaults them: end now, start one hour (or `since`) before.
pub fn range(p: &Params) -> Result<(i64, i64), ApiError> {
    let end = time_param(p, "end")?.unwrap_or_else(now_ns);
    let since = match p.get("since") {
        Some(s) => crate::params::parse_duration(s)
            .map_err(|e| ApiError::bad_data(format!("invalid parameter \"since\": {e}")))?
            .saturating_mul(1_000_000),
        None => HOUR_NS,
    };
    let start = time_param(p, "start")?.unwrap_or(end.min(now_ns()) - since);
    Ok((start, end))
}

/// A range checked against the order rule and the configured maximum length (counted when refused).
pub fn checked_range(state: &ApiState, p: &Params) -> Result<(i64, i64), ApiError> {
    let (start, end) = range(p)?;
    if end < start {
        return Err(ApiError::bad_data(
            "end timestamp must not be before or equal to start time",
        ));
    }
    let max = state.limits.max_log_query_range_ns;
    if end - start > max {
        state.metrics.limit_hit("logs.max_query_range");
        return Err(ApiError::bad_data(format!(
            "the query time range exceeds the limit (query length: {}h, limit: {}h, logs.max_query_range)",
            (end - start) / HOUR_NS,
            max / HOUR_NS
        )));
    }
    Ok((start, end))
}

/// `limit`: default 100, must be positive.
pub fn limit(p: &Params) -> Result<usize, ApiError> {
    match p.get("limit") {
        None => Ok(100),
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| *l > 0)
            .ok_or_else(|| ApiError::bad_data("limit must be a positive value")),
    }
}

/// `direction`, case-insensitive, default backward.
pub fn direction(p: &Params) -> Result<QueryDirection, ApiError> {
    match p.get("direction").map(str::to_ascii_lowercase).as_deref() {
        None | Some("backward") | Some("") => Ok(QueryDirection::Backward),
        Some("forward") => Ok(QueryDirection::Forward),
        Some(other) => Err(ApiError::bad_data(format!(
            "invalid direction {other:?}: forward or backward"
        ))),
    }
}

/// `step` (float seconds or a duration) in ns; default `max(floor((end − start) / 250 s), 1 s)`.
pub fn step(p: &Params, start: i64, end: i64) -> Result<i64, ApiError> {
    let ns = match p.get("step") {
        None => ((end - start) / 250 / 1_000_000_000).max(1) * 1_000_000_000,
        Some(s) => {
            if let Ok(f) = s.trim().parse::<f64>() {
                (f * 1e9) as i64
            } else {
                crate::params::parse_duration(s)
                    .map_err(|e| ApiError::bad_data(format!("invalid parameter \"step\": {e}")))?
                    .saturating_mul(1_000_000)
            }
        }
    };
    if ns <= 0 {
        return Err(ApiError::bad_data(
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    if (end - start) / ns > 11_000 {
        return Err(ApiError::bad_data(
            "exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter",
        ));
    }
    Ok(ns)
}

/// Matchers of a selector parameter (absent, empty or `{}`: all streams).
pub fn matchers_of(p: &Params, name: &str) -> Result<Vec<Matcher>, ApiError> {
    match p
        .get(name)
        .filter(|q| !q.trim().is_empty() && q.trim() != "{}")
    {
        None => Ok(Vec::new()),
        Some(q) => selector_matchers(q)
            .map_err(|e| ApiError::bad_data(format!("invalid parameter {name:?}: {e}"))),
    }
}

/// The stream matchers of a selector or of any query (its first selector), as the index endpoints take them.
pub fn selector_matchers(q: &str) -> Result<Vec<Matcher>, lookout_logql::ParseError> {
    if let Ok(m) = lookout_logql::parse_selector(q) {
        return Ok(m);
    }
    match lookout_logql::parse(q)? {
        lookout_logql::ast::Expr::Log(l) => Ok(l.matchers),
        lookout_logql::ast::Expr::Metric(m) => Ok(first_selector(&m)
            .map(|l| l.matchers.clone())
            .unwrap_or_default()),
    }
}

fn first_selector(m: &lookout_logql::ast::MetricExpr) -> Option<&lookout_logql::ast::LogExpr> {
    use lookout_logql::ast::MetricExpr as M;
    match m {
        M::Range { range, .. } => Some(&range.log),
        M::Vector { expr, .. } | M::Paren(expr) | M::LabelReplace { expr, .. } => {
            first_selector(expr)
        }
        M::Binary { lhs, rhs, .. } => first_selector(lhs).or_else(|| first_selector(rhs)),
        M::Literal(_) | M::VectorLit(_) => None,
    }
}
