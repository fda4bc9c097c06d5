//! `/-/healthy`, `/-/ready`, `/-/reload`, `/metrics`, `/exporters/<name>/metrics`.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use lookout_model::{ExportError, MetricsWriter};

use crate::ApiState;

/// `GET|HEAD /-/healthy`
pub async fn healthy() -> Response {
    (StatusCode::OK, "Prometheus is Healthy.\n").into_response()
}

/// `GET|HEAD /-/ready`
pub async fn ready(State(state): State<ApiState>) -> Response {
    if state.services.runtime.is_ready() {
        (StatusCode::OK, "Prometheus is Ready.\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response()
    }
}

/// `POST|PUT /-/reload`: a bad new configuration is refused and the old one keeps running.
pub async fn reload(State(state): State<ApiState>) -> Response {
    let config = state.services.config.clone();
    match state.query_pool.run(move || config.reload()).await {
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
    let mut w = MetricsWriter::new();
    state
        .metrics
        .write_metrics(&mut w, &state.query_pool, &state.ingest_pool);
    state.write_metrics.write_metrics(&mut w);
    state.push_cache.write_metrics(&mut w);
    for source in &state.services.self_metrics {
        source.write_metrics(&mut w);
    }
    let out = w.finish();
    (
        StatusCode::OK,
        [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
        out,
    )
        .into_response()
}

/// `GET /exporters/{name}/metrics?…`: a built-in exporter's exposition; the query parameters are its parameters
/// (`target`, `module`, … for multi-target exporters). A bad request is 400 and a failed collection 500 with the
/// reason, as the separate exporters answer.
pub async fn exporter(
    State(state): State<ApiState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(exporter) = state
        .services
        .exporters
        .iter()
        .find(|e| e.name() == name)
        .cloned()
    else {
        return (
            StatusCode::NOT_FOUND,
            format!("no built-in exporter named {name:?}\n"),
        )
            .into_response();
    };
    let params: Vec<(String, String)> =
        form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    match exporter.collect(&params).await {
        Ok(out) => (
            StatusCode::OK,
            [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
            out,
        )
            .into_response(),
        Err(e @ ExportError::BadRequest(_)) => {
            (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response()
        }
        Err(e @ ExportError::Failed(_)) => {
            (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response()
        }
    }
}
