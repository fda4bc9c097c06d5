//! `query_range` and `query`: LogQL log and metric queries on the query pool (cancelled when the client goes
//! away), answered in Loki's shapes: streams (categorized or not), matrix, vector or scalar, with `stats`.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use lookout_logql::{ExecStats, LogqlEngine, MetricValue, QueryParams, QueryResult};
use serde_json::{Value, json};

use super::params::{checked_range, direction, limit, now_ns, step, time_param};
use super::streams_body::streams_body;
use super::{LokiError, logql_error, no_log_store};
use crate::ApiState;
use crate::params::Params;
use crate::pool::CancelOnDrop;
use crate::respond::read_params;

/// A JSON 200.
pub fn json_ok(v: Value) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        v.to_string(),
    )
        .into_response()
}

/// Labels as a JSON object.
pub fn pairs_json<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect(),
    )
}

/// A label set as a JSON object.
pub fn labels_json(l: &lookout_model::Labels) -> Value {
    pairs_json(l.iter().map(|l| (&*l.name, &*l.value)))
}

/// A timestamp in ms as Loki prints it: shortest decimal seconds.
pub fn loki_ts(ms: i64) -> Value {
    if ms % 1000 == 0 {
        json!(ms / 1000)
    } else {
        json!(ms as f64 / 1000.0)
    }
}

/// A value as Loki prints it: plain decimal, `NaN`, `+Inf`, `-Inf`.
pub fn loki_value(v: f64) -> Value {
    Value::String(lookout_model::format_plain(v))
}

/// Loki's `stats` object (the summary filled in; the store sections present with zeros).
pub fn stats_json(s: ExecStats, returned: usize, secs: f64) -> Value {
    let per_sec = |n: u64| {
        if secs > 0.0 {
            (n as f64 / secs) as u64
        } else {
            0
        }
    };
    let store = json!({"totalChunksRef": 0, "totalChunksDownloaded": 0, "chunksDownloadTime": 0,
        "chunk": {"headChunkBytes": 0, "headChunkLines": 0, "decompressedBytes": s.bytes,
        "decompressedLines": s.lines, "compressedBytes": 0, "totalDuplicates": 0}});
    json!({
        "summary": {
            "bytesProcessedPerSecond": per_sec(s.bytes), "linesProcessedPerSecond": per_sec(s.lines),
            "totalBytesProcessed": s.bytes, "totalLinesProcessed": s.lines, "execTime": secs,
            "queueTime": 0, "subqueries": 0, "totalEntriesReturned": returned, "splits": 0,
            "shards": 0, "totalPostFilterLines": returned, "totalStructuredMetadataBytesProcessed": 0
        },
        "querier": {"store": store},
        "ingester": {"totalReached": 0, "totalChunksMatched": 0, "totalBatches": 0, "totalLinesSent": 0,
            "store": store},
        "cache": {},
        "index": {"totalChunks": 0, "postFilterChunks": 0, "shardsDuration": 0}
    })
}

fn metric_json(v: MetricValue) -> (&'static str, Value, usize) {
    match v {
        MetricValue::Scalar(t, v) => ("scalar", json!([loki_ts(t), loki_value(v)]), 1),
        MetricValue::Vector(samples) => {
            let n = samples.len();
            let r = samples
                .into_iter()
                .map(|(l, t, v)| json!({"metric": labels_json(&l), "value": [loki_ts(t), loki_value(v)]}))
                .collect();
            ("vector", Value::Array(r), n)
        }
        MetricValue::Matrix(series) => {
            let n = series.iter().map(|s| s.1.len()).sum();
            let r = series
                .into_iter()
                .map(|(l, pts)| {
                    let values: Vec<Value> = pts
                        .into_iter()
                        .map(|(t, v)| json!([loki_ts(t), loki_value(v)]))
                        .collect();
                    json!({"metric": labels_json(&l), "values": values})
                })
                .collect();
            ("matrix", Value::Array(r), n)
        }
    }
}

async fn run(
    state: &ApiState,
    p: &Params,
    categorized: bool,
    params: QueryParams,
) -> Result<Response, LokiError> {
    let store = state.logs.clone().ok_or_else(no_log_store)?;
    let query = p.require("query")?.to_string();
    let cancel = Arc::new(AtomicBool::new(false));
    let guard = CancelOnDrop(cancel.clone());
    let limits = state.limits.logql.clone();
    let started = Instant::now();
    // The answer is serialised on the query pool too: a large one is real work the runtime must not do.
    let out = state
        .query_pool
        .run(move || -> Result<Vec<u8>, lookout_logql::LogqlError> {
            let (result, stats) =
                LogqlEngine::new(store.as_ref(), limits, Some(cancel)).query(&query, &params)?;
            let secs = started.elapsed().as_secs_f64();
            Ok(match result {
                QueryResult::Streams(lines) => {
                    let n = lines.len();
                    streams_body(lines, categorized, &stats_json(stats, n, secs))
                }
                QueryResult::Metric(m) => {
                    let (kind, result, n) = metric_json(m);
                    let data = json!({"resultType": kind, "result": result, "stats": stats_json(stats, n, secs)});
                    json!({"status": "success", "data": data})
                        .to_string()
                        .into_bytes()
                }
            })
        })
        .await?;
    drop(guard);
    let body = out.map_err(|e| logql_error(state, e))?;
    state
        .metrics
        .queries
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok((StatusCode::OK, [("content-type", "application/json")], body).into_response())
}

fn categorize(req: &Request<Body>) -> bool {
    req.headers()
        .get("x-loki-response-encoding-flags")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|f| f.trim() == "categorize-labels"))
}

/// `GET|POST /loki/api/v1/query_range`.
pub async fn query_range(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, LokiError> {
    let cat = categorize(&req);
    let p = read_params(&state, req).await?;
    let (start, end) = checked_range(&state, &p)?;
    let params = QueryParams {
        start,
        end,
        step: step(&p, start, end)?,
        limit: limit(&p)?,
        direction: direction(&p)?,
        instant: false,
    };
    run(&state, &p, cat, params).await
}

/// `GET|POST /loki/api/v1/query`: metric queries at `time` (log queries are refused as Loki refuses them).
pub async fn query_instant(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, LokiError> {
    let cat = categorize(&req);
    let p = read_params(&state, req).await?;
    let t = time_param(&p, "time")?.unwrap_or_else(now_ns);
    let params = QueryParams {
        start: t,
        end: t,
        step: 1,
        limit: limit(&p)?,
        direction: direction(&p)?,
        instant: true,
    };
    run(&state, &p, cat, params).await
}
