//! `query_range` and `query`: LogQL log and metric queries on the query pool (cancelled when the client goes
//! away), answered in Loki's shapes: streams (categorized or not), matrix, vector or scalar, with `stats`.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use lookout_logql::{
    ExecStats, LogLine, LogqlEngine, MetricValue, QueryParams, QueryResult, group_streams,
};
use serde_json::{Map, Value, json};

use super::params::{checked_range, direction, limit, now_ns, step, time_param};
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

fn kv_json(pairs: &[(String, String)]) -> Value {
    pairs_json(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
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

fn streams_json(lines: Vec<LogLine>, categorized: bool) -> Value {
    let groups = group_streams(lines, categorized);
    Value::Array(
        groups
            .into_iter()
            .map(|(labels, entries)| {
                let values: Vec<Value> = entries
                    .into_iter()
                    .map(|e| {
                        if categorized {
                            let mut extra = Map::new();
                            if !e.metadata.is_empty() {
                                extra.insert("structuredMetadata".into(), kv_json(&e.metadata));
                            }
                            if !e.parsed.is_empty() {
                                extra.insert("parsed".into(), kv_json(&e.parsed));
                            }
                            json!([e.ts.to_string(), e.line, extra])
                        } else {
                            json!([e.ts.to_string(), e.line])
                        }
                    })
                    .collect();
                json!({"stream": labels_json(&labels), "values": values})
            })
            .collect(),
    )
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
    let out = state
        .query_pool
        .run(move || LogqlEngine::new(store.as_ref(), limits, Some(cancel)).query(&query, &params))
        .await?;
    drop(guard);
    let (result, stats) = out.map_err(|e| logql_error(state, e))?;
    let secs = started.elapsed().as_secs_f64();
    let mut data = match result {
        QueryResult::Streams(lines) => {
            let n = lines.len();
            json!({"resultType": "streams", "result": streams_json(lines, categorized),
                "stats": stats_json(stats, n, secs)})
        }
        QueryResult::Metric(m) => {
            let (kind, result, n) = metric_json(m);
            json!({"resultType": kind, "result": result, "stats": stats_json(stats, n, secs)})
        }
    };
    if categorized && data["resultType"] == "streams" {
        data["encodingFlags"] = json!(["categorize-labels"]);
    }
    state
        .metrics
        .queries
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(json_ok(json!({"status": "success", "data": data})))
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
