//! API errors and their mapping to Prometheus's `errorType` and HTTP status (the one place that knows both).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::format::write_json_str;

/// An error answered with Prometheus's error envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// Prometheus's `errorType`.
    pub error_type: &'static str,
    /// The message.
    pub message: String,
    /// The HTTP status.
    pub status: StatusCode,
}

impl ApiError {
    /// `bad_data`, 400.
    pub fn bad_data(message: impl Into<String>) -> Self {
        ApiError {
            error_type: "bad_data",
            message: message.into(),
            status: StatusCode::BAD_REQUEST,
        }
    }

    /// `execution`, 422.
    pub fn execution(message: impl Into<String>) -> Self {
        ApiError {
            error_type: "execution",
            message: message.into(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    /// `internal`, 500.
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError {
            error_type: "internal",
            message: message.into(),
            status: StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// `unavailable`, 503: the server is overloaded or not ready.
    pub fn unavailable(message: impl Into<String>) -> Self {
        ApiError {
            error_type: "unavailable",
            message: message.into(),
            status: StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// `bad_data`, 413: a request body over its limit.
    pub fn too_large(limit_name: &str, limit: usize) -> Self {
        ApiError {
            error_type: "bad_data",
            message: format!("request body too large: limit {limit_name} = {limit} bytes"),
            status: StatusCode::PAYLOAD_TOO_LARGE,
        }
    }

    /// Maps a query error by its Prometheus error type.
    pub fn from_query(err: &lookout_promql::QueryError) -> Self {
        let message = err.to_string();
        let (error_type, status) = match err.error_type() {
            "bad_data" => ("bad_data", StatusCode::BAD_REQUEST),
            "execution" => ("execution", StatusCode::UNPROCESSABLE_ENTITY),
            "timeout" => ("timeout", StatusCode::SERVICE_UNAVAILABLE),
            // 499 is nginx's "client closed request", which Prometheus uses for canceled queries.
            "canceled" => (
                "canceled",
                StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            ),
            _ => ("internal", StatusCode::INTERNAL_SERVER_ERROR),
        };
        ApiError {
            error_type,
            message,
            status,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        let mut s = String::from(r#"{"status":"error","errorType":""#);
        s.push_str(self.error_type);
        s.push_str(r#"","error":"#);
        write_json_str(&mut s, &self.message);
        s.push('}');
        s
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            [("content-type", "application/json")],
            self.body(),
        )
            .into_response()
    }
}

impl From<lookout_storage::StorageError> for ApiError {
    fn from(e: lookout_storage::StorageError) -> Self {
        ApiError::internal(e.to_string())
    }
}
