//! `POST /loki/api/v1/push`: protobuf (snappy block) as Alloy and Promtail send it, or JSON; gzip/deflate content
//! encoding; `service_name` derived as Loki 3 derives it. 204 when stored, 400 naming the stream and entry at
//! fault (nothing stored), 413 too large, 5xx only for storage faults, so shippers retry exactly then.

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use std::fmt::Write as _;

use lookout_logql::ingest::{StreamLabelsCache, add_detected_level_columns, add_service_name};
use lookout_model::{Labels, MatchOp};
use lookout_storage::logs::{ColumnPush, LogPushError, PushedStream};
use lookout_wire::loki::PushRequest;
use lookout_wire::loki_json::parse_json_push;
use lookout_wire::{BodyError, decode_body};
use prost::Message;

use super::{LokiError, no_log_store};
use crate::write::{header, read_write_body};
use crate::{ApiError, ApiState};

fn body_error(e: BodyError) -> ApiError {
    match e {
        BodyError::BodyTooLarge { limit } => {
            ApiError::too_large("limits.max_write_decoded_bytes", limit)
        }
        other => ApiError::bad_data(format!("push: {other}")),
    }
}

/// Parses a stream's label string (`{job="x", level="info"}`) into labels, with `service_name` added.
fn stream_labels(s: &str) -> Result<Labels, ApiError> {
    let matchers = lookout_logql::parse_selector(s)
        .map_err(|e| ApiError::bad_data(format!("push: invalid stream labels {s:?}: {e}")))?;
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(matchers.len() + 1);
    for m in &matchers {
        if m.op != MatchOp::Equal {
            return Err(ApiError::bad_data(format!(
                "push: invalid stream labels {s:?}: only name=\"value\" pairs are allowed"
            )));
        }
        if pairs.iter().any(|(n, _)| *n == m.name) {
            return Err(ApiError::bad_data(format!(
                "push: invalid stream labels {s:?}: duplicate label name {:?}",
                m.name
            )));
        }
        pairs.push((m.name.clone(), m.value.clone()));
    }
    with_service_name(pairs, format_args!("{s:?}"))
}

fn with_service_name(
    mut pairs: Vec<(String, String)>,
    what: impl std::fmt::Display,
) -> Result<Labels, ApiError> {
    // Checked before `service_name` is derived (it would give any stream a label), as Loki's distributor does.
    if pairs.is_empty() {
        return Err(ApiError::bad_data(format!(
            "push: invalid stream labels {what}: error at least one label pair is required per stream"
        )));
    }
    add_service_name(&mut pairs);
    Labels::from_pairs(&pairs)
        .map_err(|e| ApiError::bad_data(format!("push: invalid stream labels {what}: {e}")))
}

/// A protobuf push body (snappy-compressed `logproto.PushRequest`, at most `max` bytes decoded) as a push in
/// columns, `service_name` derived (label sets through `cache`); the handler adds `detected_level` before storing.
pub fn decode_protobuf(
    raw: &[u8],
    max: usize,
    cache: &StreamLabelsCache,
) -> Result<ColumnPush, ApiError> {
    let bytes = lookout_wire::body::decode_snappy(raw, max).map_err(body_error)?;
    let req = PushRequest::decode(bytes.as_slice())
        .map_err(|e| ApiError::bad_data(format!("push: invalid protobuf PushRequest: {e}")))?;
    let lines = req.streams.iter().map(|s| s.entries.len()).sum();
    let text = req
        .streams
        .iter()
        .flat_map(|s| &s.entries)
        .map(|e| e.line.len())
        .sum();
    let mut out = ColumnPush::with_capacity(req.streams.len(), lines, text);
    let mut key = String::new();
    for s in &req.streams {
        key.clear();
        key.push('p');
        key.push_str(&s.labels);
        let labels = cache.get_or_make(&key, || stream_labels(&s.labels))?;
        out.add_stream(labels, |cols| {
            for e in &s.entries {
                let t = e.timestamp.unwrap_or_default();
                let ts = t
                    .seconds
                    .saturating_mul(1_000_000_000)
                    .saturating_add(i64::from(t.nanos));
                let meta = e
                    .structured_metadata
                    .iter()
                    .map(|p| (p.name.as_str(), p.value.as_str()));
                cols.push(ts, &e.line, meta);
            }
        });
    }
    Ok(out)
}

/// A JSON push body as a push in columns, `service_name` derived (label sets through `cache`); the handler adds
/// `detected_level` before storing.
pub fn decode_json(bytes: &[u8], cache: &StreamLabelsCache) -> Result<ColumnPush, ApiError> {
    let body = parse_json_push(bytes)
        .map_err(|e| ApiError::bad_data(format!("push: invalid JSON body: {e}")))?;
    let mut streams = Vec::with_capacity(body.streams.len());
    let mut key = String::new();
    for (si, s) in body.streams.into_iter().enumerate() {
        // The pairs, each length-prefixed, so no two label sets spell the same key.
        key.clear();
        key.push('j');
        for (k, v) in &s.labels {
            let _ = write!(key, "{}:{k}{}:{v}", k.len(), v.len());
        }
        let labels = cache.get_or_make(&key, || {
            let pairs = s
                .labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            with_service_name(pairs, format_args!("of stream {si}"))
        })?;
        if let Some((ei, why)) = s.invalid {
            return Err(ApiError::bad_data(format!(
                "push: stream {labels} entry {ei}: {why}"
            )));
        }
        streams.push(PushedStream {
            labels,
            range: s.range,
        });
    }
    Ok(ColumnPush {
        entries: body.entries,
        streams,
    })
}

/// A store's refusal as the API answers it: 400 for bad input, 429 for limits, 500 for storage faults.
fn push_api_error(e: LogPushError) -> ApiError {
    match e {
        LogPushError::Invalid { message, .. } => ApiError::bad_data(format!(
            "push: {message}; nothing of this request was stored"
        )),
        LogPushError::RateLimited { message, .. } => ApiError {
            error_type: "rate_limited",
            message: format!("push: {message}; nothing of this request was stored, retry later"),
            status: StatusCode::TOO_MANY_REQUESTS,
        },
        LogPushError::Store(m) => ApiError::internal(format!("log store: {m}")),
    }
}

/// The push handler.
pub async fn push(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, LokiError> {
    let Some(store) = state.logs.clone() else {
        return Err(no_log_store());
    };
    let headers = req.headers().clone();
    let raw = read_write_body(&state, req.into_body()).await?;
    // A store that is behind refuses before the body is decoded: shippers retry, and a retry should cost little.
    if let Some(refusal) = store.refuses_now() {
        let result = Err(push_api_error(refusal));
        state.write_metrics.count(&result);
        result?;
    }
    let max = state.limits.max_write_decoded_bytes;
    let encoding = header(&headers, "content-encoding")
        .filter(|e| !e.eq_ignore_ascii_case("snappy"))
        .map(str::to_owned);
    let is_json =
        header(&headers, "content-type").is_some_and(|c| c.starts_with("application/json"));
    let wm = state.write_metrics.clone();
    let labels_cache = state.log_labels.clone();
    let result = state
        .ingest_pool
        .run(move || -> Result<usize, ApiError> {
            let body = decode_body(&raw, encoding.as_deref(), max).map_err(body_error)?;
            let mut streams = if is_json {
                decode_json(&body, &labels_cache)?
            } else {
                decode_protobuf(&body, max, &labels_cache)?
            };
            add_detected_level_columns(&mut streams);
            store.push_columns(streams).map_err(push_api_error)
        })
        .await
        .and_then(|r| r);
    wm.count(&result);
    result?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
