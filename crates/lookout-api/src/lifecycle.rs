//! `/-/healthy`, `/-/ready`, `/-/reload`, `/metrics`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::ApiState;

/// `GET|HEAD /-/healthy`
pub async fn healthy() -> Response {
    (StatusCode::OK, "Prometheus is Healthy.\n").into_response()
}

/// `GET|HEAD /-/ready`
pub async fn ready(State(state): State<ApiState>) -> Response {
    if state.services.is_ready() {
        (StatusCode::OK, "Prometheus is Ready.\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response()
    }
}

/// `POST|PUT /-/reload`: a bad new configuration is refused and the old one keeps running.
pub async fn reload(State(state): State<ApiState>) -> Response {
    let services = state.services.clone();
    match state.query_pool.run(move || services.reload()).await {
        Ok(Ok(())) => (StatusCode::OK, "").into_response(),
        Ok(Err(e)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to reload config: {e}\n"),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /-/reload`
pub async fn reload_wrong_method() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        "Only POST or PUT requests allowed\n",
    )
        .into_response()
}

/// `GET /metrics`: every component's self-metrics in Prometheus text format.
pub async fn metrics(State(state): State<ApiState>) -> Response {
    let mut out = String::with_capacity(8192);
    state
        .metrics
        .write_metrics(&mut out, &state.query_pool, &state.ingest_pool);
    state.services.write_metrics(&mut out);
    (
        StatusCode::OK,
        [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
        out,
    )
        .into_response()
}
