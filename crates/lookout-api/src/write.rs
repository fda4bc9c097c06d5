//! `POST /api/v1/write` (remote_write 1.0 and 2.0) and `POST /api/v1/import/prometheus` (text lines with optional
//! millisecond timestamps, as VictoriaMetrics accepts).
//!
//! Acknowledgement: a 2xx answer means the whole request was committed as one batch — written to the TSDB's WAL
//! (page cache at least) and visible to queries — so a killed process loses none of it. A request with one bad
//! series or sample is rolled back whole and answered 400 naming it (senders drop 4xx); storage failures answer 500
//! and overload 503/429-like `unavailable` (senders retry 5xx).

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use lookout_collect::push::{ImportError, PushError, ingest_import, ingest_remote_write};
use lookout_storage::AppendError;
use lookout_wire::remote_write::{self, ErrorClass, SAMPLES_WRITTEN_HEADER, WireError, WireLimits};
use lookout_wire::{BodyError, decode_body};

use crate::ApiState;
use crate::error::ApiError;
use crate::query::now_ms;
use crate::respond::read_body;

/// Counters for the write paths (`lookout_api_write_*`).
#[derive(Debug, Default)]
pub struct WriteMetrics {
    /// Requests committed.
    pub requests: AtomicU64,
    /// Samples committed.
    pub samples: AtomicU64,
    /// Requests refused as invalid (4xx).
    pub rejected: AtomicU64,
    /// Requests failed by storage (5xx).
    pub failed: AtomicU64,
}

impl WriteMetrics {
    /// Counts one write request by its outcome: committed, refused (4xx) or failed by storage (5xx).
    pub fn count<T>(&self, result: &Result<T, ApiError>) {
        let counter = match result {
            Ok(_) => &self.requests,
            Err(e) if e.status.is_server_error() => &self.failed,
            Err(_) => &self.rejected,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Renders the counters through the shared self-metrics writer.
    pub fn write_metrics(&self, out: &mut lookout_model::MetricsWriter) {
        let rows = [
            (
                "lookout_api_write_requests_total",
                "Write requests committed (remote_write and import).",
                &self.requests,
            ),
            (
                "lookout_api_write_samples_total",
                "Samples committed by write requests.",
                &self.samples,
            ),
            (
                "lookout_api_write_rejected_total",
                "Write requests refused as invalid or too large.",
                &self.rejected,
            ),
            (
                "lookout_api_write_failed_total",
                "Write requests failed by storage.",
                &self.failed,
            ),
        ];
        for (name, help, v) in rows {
            out.counter(name, help, v.load(Ordering::Relaxed));
        }
    }
}

/// A header's value as text, if present and valid.
pub(crate) fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn wire_error(e: WireError) -> ApiError {
    let message = format!("remote write: {e}");
    match e.class() {
        ErrorClass::TooLarge => ApiError {
            error_type: "bad_data",
            message,
            status: StatusCode::PAYLOAD_TOO_LARGE,
        },
        ErrorClass::Unsupported => ApiError {
            error_type: "bad_data",
            message,
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        },
        ErrorClass::Invalid => ApiError::bad_data(message),
    }
}

fn append_error(labels: &lookout_model::Labels, t: i64, e: AppendError) -> ApiError {
    ApiError::bad_data(format!(
        "series {labels} sample at {t}: {e}; the whole request was rejected"
    ))
}

fn push_error(e: PushError, metrics: &crate::ApiMetrics) -> ApiError {
    match e {
        PushError::Wire(e) => {
            if let Some(name) = e.limit_name() {
                metrics.limit_hit(&format!("remote_write.{name}"));
            }
            wire_error(e)
        }
        PushError::Append(r) => append_error(&r.labels, r.t, r.source),
        PushError::Storage(e) => ApiError::internal(format!("storage commit failed: {e}")),
    }
}

/// `POST /api/v1/write`
pub async fn remote_write(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, ApiError> {
    let headers = req.headers().clone();
    let result = remote_write_inner(&state, &headers, req.into_body()).await;
    let wm = &state.write_metrics;
    wm.count(&result);
    let written = result?;
    wm.samples.fetch_add(written as u64, Ordering::Relaxed);
    Ok((
        StatusCode::NO_CONTENT,
        [(SAMPLES_WRITTEN_HEADER, written.to_string())],
    )
        .into_response())
}

async fn remote_write_inner(
    state: &ApiState,
    headers: &HeaderMap,
    body: Body,
) -> Result<usize, ApiError> {
    let version =
        remote_write::remote_write_version(header(headers, "content-type")).map_err(wire_error)?;
    remote_write::check_content_encoding(header(headers, "content-encoding"))
        .map_err(wire_error)?;
    let raw = read_write_body(state, body).await?;
    let limits = WireLimits {
        max_decompressed_bytes: state.limits.max_write_decoded_bytes,
        ..WireLimits::default()
    };
    let storage = state.storage.clone();
    let metrics = state.metrics.clone();
    let cache = state.push_cache.clone();
    state
        .ingest_pool
        .run(move || {
            ingest_remote_write(storage.as_ref(), &cache, &raw, version, &limits)
                .map_err(|e| push_error(e, &metrics))
        })
        .await?
}

/// A write request's body (remote_write, import, Loki push), read up to `limits.max_write_body`.
pub(crate) async fn read_write_body(
    state: &ApiState,
    body: Body,
) -> Result<axum::body::Bytes, ApiError> {
    read_body(
        state,
        body,
        state.limits.max_write_body_bytes,
        "limits.max_write_body",
    )
    .await
}

/// `POST /api/v1/import/prometheus`
pub async fn import(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, ApiError> {
    let headers = req.headers().clone();
    let raw = read_write_body(&state, req.into_body()).await?;
    let max_decoded = state.limits.max_write_decoded_bytes;
    let storage = state.storage.clone();
    let metrics = state.metrics.clone();
    let now = now_ms();
    let result = state
        .ingest_pool
        .run(move || -> Result<usize, ApiError> {
            let body = decode_body(&raw, header(&headers, "content-encoding"), max_decoded)
                .map_err(|e| match e {
                    BodyError::BodyTooLarge { limit } => {
                        metrics.limit_hit("limits.max_write_decoded");
                        ApiError::too_large("limits.max_write_decoded", limit)
                    }
                    other => ApiError::bad_data(format!("import: {other}")),
                })?;
            ingest_import(
                storage.as_ref(),
                &body,
                header(&headers, "content-type"),
                now,
            )
            .map_err(|e| match e {
                ImportError::Labels(m) => ApiError::bad_data(format!("import: {m}")),
                ImportError::Parse(m) => {
                    ApiError::bad_data(format!("import: {m}; nothing was stored"))
                }
                ImportError::Append(r) => append_error(&r.labels, r.t, r.source),
                ImportError::Storage(e) => {
                    ApiError::internal(format!("storage commit failed: {e}"))
                }
            })
        })
        .await
        .and_then(|r| r);
    let wm = &state.write_metrics;
    wm.count(&result);
    let written = result?;
    wm.samples.fetch_add(written as u64, Ordering::Relaxed);
    Ok(StatusCode::NO_CONTENT.into_response())
}
