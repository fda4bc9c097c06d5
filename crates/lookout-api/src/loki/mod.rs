//! Loki's HTTP API on the Prometheus API's port: push (protobuf + snappy, JSON), log range queries, labels, label
//! values, series and build info. Errors are plain text as Loki sends them (Grafana shows the body).
//!
//! Acknowledgement: a 204 to a push means every entry of the request is in the log store's WAL (the OS page
//! cache at least) and visible to queries; a 400 means none of it was stored.

mod meta;
mod params;
mod push;
mod query;
mod streams_body;
mod tail;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::ApiError;

pub use meta::{
    buildinfo, detected_field_values, detected_fields, detected_labels, format_query, index_stats,
    index_volume, index_volume_range, label_values, labels, patterns, series,
};
pub use push::{decode_json as decode_push_json, decode_protobuf as decode_push_protobuf, push};
pub use query::{query_instant, query_range};
pub use tail::tail;

/// An error answered as Loki does: the status and a plain-text reason.
pub struct LokiError(pub ApiError);

impl From<ApiError> for LokiError {
    fn from(e: ApiError) -> Self {
        LokiError(e)
    }
}

impl IntoResponse for LokiError {
    fn into_response(self) -> Response {
        (
            self.0.status,
            [("content-type", "text/plain; charset=utf-8")],
            format!("{}\n", self.0.message),
        )
            .into_response()
    }
}

/// Maps a LogQL error to Loki's status, counting limit hits.
fn logql_error(state: &crate::ApiState, e: lookout_logql::LogqlError) -> LokiError {
    use lookout_logql::LogqlError as E;
    let (status, message) = match e {
        E::Parse(p) => (StatusCode::BAD_REQUEST, p.to_string()),
        E::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
        E::Limit { name, message, .. } => {
            state.metrics.limit_hit(name);
            (StatusCode::BAD_REQUEST, message)
        }
        E::Cancelled => (
            StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            "context canceled".into(),
        ),
        E::Timeout(d) => (
            StatusCode::GATEWAY_TIMEOUT,
            format!("the query timed out after {d:?}"),
        ),
        E::Store(m) => (StatusCode::INTERNAL_SERVER_ERROR, m),
    };
    LokiError(ApiError {
        error_type: "bad_data",
        message,
        status,
    })
}

fn no_log_store() -> LokiError {
    LokiError(ApiError {
        error_type: "unavailable",
        message: "the log store is not enabled on this server".into(),
        status: StatusCode::NOT_FOUND,
    })
}

/// Parses a Loki timestamp parameter into Unix ns: a float with a `.` is seconds; an integer of at most 10
/// digits is seconds, a longer one nanoseconds; anything else RFC 3339.
pub fn parse_loki_time(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if s.contains('.')
        && let Ok(f) = s.parse::<f64>()
    {
        return Ok((f * 1e3).round() as i64 * 1_000_000);
    }
    if let Ok(i) = s.parse::<i64>() {
        let digits = s.trim_start_matches('-').len();
        return Ok(if digits <= 10 {
            i.saturating_mul(1_000_000_000)
        } else {
            i
        });
    }
    crate::params::parse_time(s)
        .map(|ms| ms * 1_000_000)
        .map_err(|_| {
            format!("cannot parse {s:?} as a timestamp (Unix seconds, nanoseconds or RFC 3339)")
        })
}

#[cfg(test)]
mod tests {
    use super::parse_loki_time;

    #[test]
    fn timestamps_parse_as_loki_reads_them() {
        assert_eq!(parse_loki_time("1700000000"), Ok(1_700_000_000_000_000_000));
        assert_eq!(
            parse_loki_time("1700000000000000001"),
            Ok(1_700_000_000_000_000_001)
        );
        assert_eq!(
            parse_loki_time("1700000000.5"),
            Ok(1_700_000_000_500_000_000)
        );
        assert_eq!(
            parse_loki_time("2023-11-14T22:13:20Z"),
            Ok(1_700_000_000_000_000_000)
        );
        assert!(parse_loki_time("yesterday").is_err());
    }
}
