//! Loki's read endpoints: `query_range` and `query` (log queries: a selector and line filters), `labels`,
//! `label/<name>/values`, `series`, `status/buildinfo`.

use std::collections::BTreeMap;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use lookout_logs::logql::parse_log_selector;
use lookout_logs::{LogQuery, QueryDirection, StreamEntries};
use lookout_model::Matcher;
use serde_json::{Value, json};

use super::{LokiError, no_log_store, parse_loki_time};
use crate::params::Params;
use crate::respond::read_params;
use crate::{ApiError, ApiState};

const HOUR_NS: i64 = 3_600_000_000_000;

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

fn time_param(p: &Params, name: &str) -> Result<Option<i64>, ApiError> {
    p.get(name)
        .map(|s| {
            parse_loki_time(s)
                .map_err(|e| ApiError::bad_data(format!("invalid parameter {name:?}: {e}")))
        })
        .transpose()
}

/// `start`/`end` (or `since`) as Loki defaults them: end now, start one hour (or `since`) before.
fn range(p: &Params) -> Result<(i64, i64), ApiError> {
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

fn json_ok(v: Value) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        v.to_string(),
    )
        .into_response()
}

fn labels_json(l: &lookout_model::Labels) -> Value {
    Value::Object(
        l.iter()
            .map(|l| (l.name.to_string(), Value::String(l.value.to_string())))
            .collect(),
    )
}

/// Streams as Loki encodes them; without `categorize`, structured metadata is folded into the stream labels.
fn streams_json(result: Vec<StreamEntries>, categorize: bool) -> Value {
    let mut out = Vec::new();
    for s in result {
        if categorize {
            let values: Vec<Value> = s
                .entries
                .iter()
                .map(|e| {
                    let mut extra = serde_json::Map::new();
                    if !e.metadata.is_empty() {
                        let m: serde_json::Map<String, Value> = e
                            .metadata
                            .iter()
                            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                            .collect();
                        extra.insert("structuredMetadata".into(), Value::Object(m));
                    }
                    json!([e.ts.to_string(), e.line, extra])
                })
                .collect();
            out.push(json!({"stream": labels_json(&s.labels), "values": values}));
            continue;
        }
        let mut groups: BTreeMap<Vec<(String, String)>, Vec<Value>> = BTreeMap::new();
        for e in &s.entries {
            let mut key: Vec<(String, String)> = s
                .labels
                .iter()
                .map(|l| (l.name.to_string(), l.value.to_string()))
                .collect();
            for (k, v) in &e.metadata {
                key.retain(|(n, _)| n != k);
                key.push((k.clone(), v.clone()));
            }
            key.sort();
            groups
                .entry(key)
                .or_default()
                .push(json!([e.ts.to_string(), e.line]));
        }
        for (key, values) in groups {
            let stream: serde_json::Map<String, Value> = key
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            out.push(json!({"stream": stream, "values": values}));
        }
    }
    Value::Array(out)
}

fn stats(lines: usize, bytes: usize, secs: f64) -> Value {
    json!({"summary": {
        "bytesProcessedPerSecond": if secs > 0.0 { (bytes as f64 / secs) as u64 } else { 0 },
        "linesProcessedPerSecond": if secs > 0.0 { (lines as f64 / secs) as u64 } else { 0 },
        "totalBytesProcessed": bytes, "totalLinesProcessed": lines, "execTime": secs, "queueTime": 0,
        "subqueries": 0, "totalEntriesReturned": lines, "splits": 0, "shards": 0,
        "totalPostFilterLines": lines, "totalStructuredMetadataBytesProcessed": 0}})
}

async fn run_log_query(
    state: &ApiState,
    p: &Params,
    categorize: bool,
) -> Result<Response, LokiError> {
    let store = state.logs.clone().ok_or_else(no_log_store)?;
    let q = p.require("query")?;
    let sel = parse_log_selector(q).map_err(|e| {
        ApiError::bad_data(format!(
            "{e} (supported so far: a stream selector with line filters; metric queries and parser stages are not yet)"
        ))
    })?;
    let (start, end) = range(p)?;
    if end < start {
        return Err(
            ApiError::bad_data("end timestamp must not be before or equal to start time").into(),
        );
    }
    let limit = match p.get("limit") {
        None => 100,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| *l > 0)
            .ok_or_else(|| ApiError::bad_data("limit must be a positive value"))?,
    };
    let direction = match p.get("direction").map(str::to_ascii_lowercase).as_deref() {
        None | Some("backward") => QueryDirection::Backward,
        Some("forward") => QueryDirection::Forward,
        Some(other) => {
            return Err(ApiError::bad_data(format!(
                "invalid direction {other:?}: forward or backward"
            ))
            .into());
        }
    };
    let query = LogQuery {
        matchers: sel.matchers,
        filters: sel.filters,
        start,
        end,
        limit,
        direction,
    };
    let started = Instant::now();
    let result = state
        .query_pool
        .run(move || store.query(&query))
        .await?
        .map_err(|e| ApiError::internal(format!("log store: {e}")))?;
    let lines: usize = result.iter().map(|s| s.entries.len()).sum();
    let bytes: usize = result
        .iter()
        .flat_map(|s| s.entries.iter().map(|e| e.line.len()))
        .sum();
    let mut data = json!({
        "resultType": "streams",
        "result": streams_json(result, categorize),
        "stats": stats(lines, bytes, started.elapsed().as_secs_f64()),
    });
    if categorize {
        data["encodingFlags"] = json!(["categorize-labels"]);
    }
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
    run_log_query(&state, &p, cat).await
}

/// `GET|POST /loki/api/v1/query`: log queries are refused as Loki refuses them; metric queries are not yet
/// supported.
pub async fn query_instant(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, LokiError> {
    let p = read_params(&state, req).await?;
    let q = p.require("query")?;
    if parse_log_selector(q).is_ok() {
        return Err(ApiError::bad_data(
            "log queries are not supported as an instant query type, please change your query to a range query type",
        )
        .into());
    }
    Err(ApiError::bad_data(format!("LogQL metric queries are not supported yet: {q}")).into())
}

fn matchers_of(p: &Params, name: &str) -> Result<Vec<Matcher>, ApiError> {
    match p
        .get(name)
        .filter(|q| !q.trim().is_empty() && q.trim() != "{}")
    {
        None => Ok(Vec::new()),
        Some(q) => parse_log_selector(q)
            .map(|s| s.matchers)
            .map_err(|e| ApiError::bad_data(format!("invalid parameter {name:?}: {e}"))),
    }
}

/// The store and the `[start, end)` range of a metadata request, read from its parameters.
async fn metadata_request(
    state: &ApiState,
    req: Request<Body>,
) -> Result<(std::sync::Arc<lookout_logs::LogStore>, Params, i64, i64), LokiError> {
    let store = state.logs.clone().ok_or_else(no_log_store)?;
    let p = read_params(state, req).await?;
    let (start, end) = range(&p)?;
    Ok((store, p, start, end))
}

/// `GET|POST /loki/api/v1/labels`.
pub async fn labels(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, LokiError> {
    let (store, p, start, end) = metadata_request(&state, req).await?;
    let m = matchers_of(&p, "query")?;
    let names = store.label_names(&m, start, end);
    Ok(json_ok(json!({"status": "success", "data": names})))
}

/// `GET|POST /loki/api/v1/label/<name>/values`.
pub async fn label_values(
    State(state): State<ApiState>,
    Path(name): Path<String>,
    req: Request<Body>,
) -> Result<Response, LokiError> {
    let (store, p, start, end) = metadata_request(&state, req).await?;
    let m = matchers_of(&p, "query")?;
    let values = store.label_values(&name, &m, start, end);
    Ok(json_ok(json!({"status": "success", "data": values})))
}

/// `GET|POST /loki/api/v1/series` (`match[]` or `match`, repeated; none = all).
pub async fn series(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, LokiError> {
    let (store, p, start, end) = metadata_request(&state, req).await?;
    let mut selectors: Vec<&str> = p.get_all("match[]");
    selectors.extend(p.get_all("match"));
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    let sets: Vec<Vec<Matcher>> = if selectors.is_empty() {
        vec![Vec::new()]
    } else {
        selectors
            .iter()
            .map(|s| {
                parse_log_selector(s)
                    .map(|x| x.matchers)
                    .map_err(|e| ApiError::bad_data(format!("invalid match[] {s:?}: {e}")))
            })
            .collect::<Result<_, _>>()?
    };
    for m in sets {
        for l in store.series(&m, start, end) {
            if seen.insert(l.clone()) {
                out.push(labels_json(&l));
            }
        }
    }
    Ok(json_ok(json!({"status": "success", "data": out})))
}

/// `GET /loki/api/v1/status/buildinfo` (no envelope, as Loki).
pub async fn buildinfo() -> Response {
    json_ok(json!({
        "version": "3.0.0", "revision": env!("CARGO_PKG_VERSION"), "branch": "lookout",
        "buildUser": "lookout", "buildDate": "", "goVersion": ""
    }))
}
