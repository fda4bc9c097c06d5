//! Loki's metadata endpoints: labels, label values, series, index stats and volume (from the stream index and
//! the line index's fast fields, no line read), detected labels and fields (Drilldown), patterns, format_query and
//! build info. Reads run on the query pool.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use lookout_logql::{LogqlEngine, QueryParams, QueryResult};
use lookout_model::Matcher;
use lookout_storage::logs::{LogStorage, QueryDirection, StreamVolume};
use serde_json::{Value, json};

use super::params::{checked_range, matchers_of, range, selector_matchers, step};
use super::query::{json_ok, labels_json, loki_ts, pairs_json};
use super::{LokiError, logql_error, no_log_store};
use crate::params::Params;
use crate::respond::read_params;
use crate::{ApiError, ApiState};

/// Labels Grafana hides from the label browser.
const HIDDEN: [&str; 3] = ["__aggregated_metric__", "__tenant_id__", "__stream_shard__"];

/// The store and the `[start, end)` range of a metadata request, read from its parameters.
async fn metadata_request(
    state: &ApiState,
    req: Request<Body>,
) -> Result<(Arc<dyn LogStorage>, Params, i64, i64), LokiError> {
    let store = state.logs.clone().ok_or_else(no_log_store)?;
    let p = read_params(state, req).await?;
    let (start, end) = range(&p)?;
    Ok((store, p, start, end))
}

async fn on_pool<T: Send + 'static>(
    state: &ApiState,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, LokiError> {
    Ok(state.query_pool.run(f).await?)
}

/// `GET|POST /loki/api/v1/labels`.
pub async fn labels(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, LokiError> {
    let (store, p, start, end) = metadata_request(&state, req).await?;
    let m = matchers_of(&p, "query")?;
    let mut names = on_pool(&state, move || store.label_names(&m, start, end)).await?;
    names.retain(|n| !HIDDEN.contains(&n.as_str()));
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
    let values = on_pool(&state, move || store.label_values(&name, &m, start, end)).await?;
    Ok(json_ok(json!({"status": "success", "data": values})))
}

/// `GET|POST /loki/api/v1/series` (`match[]` or `match`, repeated; none or `{}` = all).
pub async fn series(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, LokiError> {
    let (store, p, start, end) = metadata_request(&state, req).await?;
    let mut selectors: Vec<&str> = p.get_all("match[]");
    selectors.extend(p.get_all("match"));
    let sets: Vec<Vec<Matcher>> = if selectors.is_empty() {
        vec![Vec::new()]
    } else {
        selectors
            .iter()
            .map(|s| {
                if s.trim() == "{}" {
                    return Ok(Vec::new());
                }
                lookout_logql::parse_selector(s)
                    .map_err(|e| ApiError::bad_data(format!("invalid match[] {s:?}: {e}")))
            })
            .collect::<Result<_, _>>()?
    };
    let out = on_pool(&state, move || {
        let mut seen = BTreeSet::new();
        for m in sets {
            for l in store.series(&m, start, end) {
                seen.insert(l);
            }
        }
        seen.iter().map(labels_json).collect::<Vec<_>>()
    })
    .await?;
    Ok(json_ok(json!({"status": "success", "data": out})))
}

async fn volumes(
    state: &ApiState,
    p: &Params,
    start: i64,
    end: i64,
    step: i64,
) -> Result<Vec<StreamVolume>, LokiError> {
    let store = state.logs.clone().ok_or_else(no_log_store)?;
    let q = p.require("query")?;
    let m = selector_matchers(q)
        .map_err(|e| ApiError::bad_data(format!("invalid parameter \"query\": {e}")))?;
    on_pool(state, move || store.volume(&m, start, end, step))
        .await?
        .map_err(|e| logql_error(state, e.into()))
}

/// `GET|POST /loki/api/v1/index/stats`: streams, chunks (stream × time buckets here), bytes and entries.
pub async fn index_stats(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, LokiError> {
    let p = read_params(&state, req).await?;
    let (start, end) = checked_range(&state, &p)?;
    let vols = volumes(&state, &p, start, end, (end - start).max(1)).await?;
    let (mut entries, mut bytes) = (0u64, 0u64);
    for v in &vols {
        for (_, n, b) in &v.buckets {
            entries += n;
            bytes += b;
        }
    }
    Ok(json_ok(json!({
        "streams": vols.len(), "chunks": vols.len(), "bytes": bytes, "entries": entries
    })))
}

/// The label set a stream's volume is counted under.
fn volume_key(
    p: &Params,
    matchers_names: &[String],
    labels: &lookout_model::Labels,
) -> Vec<Vec<(String, String)>> {
    let targets: Vec<String> = p
        .get("targetLabels")
        .map(|t| {
            t.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let by_labels = p.get("aggregateBy") == Some("labels");
    let names: Vec<&String> = if targets.is_empty() {
        matchers_names.iter().collect()
    } else {
        targets.iter().collect()
    };
    if by_labels {
        // One entry per label name present in the stream.
        let all: Vec<String> = if targets.is_empty() {
            labels.iter().map(|l| l.name.to_string()).collect()
        } else {
            targets
        };
        return all
            .into_iter()
            .filter(|n| labels.get(n).is_some())
            .map(|n| vec![(n, String::new())])
            .collect();
    }
    vec![
        names
            .into_iter()
            .filter_map(|n| labels.get(n).map(|v| (n.clone(), v.to_string())))
            .collect(),
    ]
}

fn volume_limit(p: &Params) -> Result<usize, ApiError> {
    match p.get("limit") {
        None => Ok(100),
        Some(l) => l.parse().map_err(|_| {
            ApiError::bad_data("invalid parameter \"limit\": expected a positive integer")
        }),
    }
}

fn matcher_names(p: &Params) -> Result<Vec<String>, ApiError> {
    let q = p.require("query")?;
    let m = selector_matchers(q)
        .map_err(|e| ApiError::bad_data(format!("invalid parameter \"query\": {e}")))?;
    let mut names: Vec<String> = m.into_iter().map(|m| m.name).collect();
    names.dedup();
    Ok(names)
}

/// `GET|POST /loki/api/v1/index/volume`: bytes per label set, largest first, at `end`.
pub async fn index_volume(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, LokiError> {
    let p = read_params(&state, req).await?;
    let (start, end) = checked_range(&state, &p)?;
    let names = matcher_names(&p)?;
    let vols = volumes(&state, &p, start, end, (end - start).max(1)).await?;
    let mut totals: BTreeMap<Vec<(String, String)>, u64> = BTreeMap::new();
    for v in &vols {
        let bytes: u64 = v.buckets.iter().map(|b| b.2).sum();
        for key in volume_key(&p, &names, &v.labels) {
            *totals.entry(key).or_default() += bytes;
        }
    }
    let mut rows: Vec<(Vec<(String, String)>, u64)> = totals.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    rows.truncate(volume_limit(&p)?);
    let t = loki_ts(end / 1_000_000);
    let result: Vec<Value> = rows
        .into_iter()
        .map(|(k, bytes)| {
            json!({"metric": pairs_json(k.iter().map(|(a, b)| (a.as_str(), b.as_str()))),
                "value": [t.clone(), bytes.to_string()]})
        })
        .collect();
    Ok(json_ok(
        json!({"status": "success", "data": {"resultType": "vector", "result": result}}),
    ))
}

/// `GET|POST /loki/api/v1/index/volume_range`: bytes per label set per step bucket (timestamp = bucket end).
pub async fn index_volume_range(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, LokiError> {
    let p = read_params(&state, req).await?;
    let (start, end) = checked_range(&state, &p)?;
    let step = step(&p, start, end)?;
    let names = matcher_names(&p)?;
    let vols = volumes(&state, &p, start, end, step).await?;
    let mut series: BTreeMap<Vec<(String, String)>, BTreeMap<i64, u64>> = BTreeMap::new();
    for v in &vols {
        for key in volume_key(&p, &names, &v.labels) {
            let s = series.entry(key).or_default();
            for (b, _, bytes) in &v.buckets {
                *s.entry(*b + step).or_default() += bytes;
            }
        }
    }
    let mut rows: Vec<_> = series.into_iter().collect();
    rows.sort_by(|a, b| {
        let (x, y): (u64, u64) = (a.1.values().sum(), b.1.values().sum());
        y.cmp(&x).then(a.0.cmp(&b.0))
    });
    rows.truncate(volume_limit(&p)?);
    let result: Vec<Value> = rows
        .into_iter()
        .map(|(k, pts)| {
            let values: Vec<Value> = pts
                .into_iter()
                .map(|(t, b)| json!([loki_ts(t.min(end) / 1_000_000), b.to_string()]))
                .collect();
            json!({"metric": pairs_json(k.iter().map(|(a, b)| (a.as_str(), b.as_str()))), "values": values})
        })
        .collect();
    Ok(json_ok(
        json!({"status": "success", "data": {"resultType": "matrix", "result": result}}),
    ))
}

/// `GET|POST /loki/api/v1/detected_labels`: stream label names of the query's streams with their cardinality.
pub async fn detected_labels(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, LokiError> {
    let (store, p, start, end) = metadata_request(&state, req).await?;
    let m = matchers_of(&p, "query")?;
    let rows = on_pool(&state, move || {
        let mut values: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for l in store.series(&m, start, end) {
            for x in l.iter() {
                values
                    .entry(x.name.to_string())
                    .or_default()
                    .insert(x.value.to_string());
            }
        }
        values
            .into_iter()
            .filter(|(n, _)| !HIDDEN.contains(&n.as_str()))
            .map(|(n, v)| json!({"label": n, "cardinality": v.len()}))
            .collect::<Vec<_>>()
    })
    .await?;
    Ok(json_ok(json!({"detectedLabels": rows})))
}

/// The type Loki reports for a field value.
fn field_type(v: &str) -> &'static str {
    if v.parse::<i64>().is_ok() {
        "int"
    } else if v.parse::<f64>().is_ok() {
        "float"
    } else if v == "true" || v == "false" {
        "boolean"
    } else if lookout_logql::ast::parse_duration_text(v).is_some() {
        "duration"
    } else if lookout_logql::ast::parse_bytes_text(v).is_some()
        && v.ends_with(|c: char| c.is_ascii_alphabetic())
    {
        "bytes"
    } else {
        "string"
    }
}

struct Field {
    kind: &'static str,
    values: BTreeSet<String>,
    parsers: BTreeSet<&'static str>,
}

/// Samples up to `line_limit` lines of the query and collects their fields (parsed by json or logfmt, and
/// structured metadata).
async fn sample_fields(
    state: &ApiState,
    p: &Params,
) -> Result<(BTreeMap<String, Field>, usize), LokiError> {
    let store = state.logs.clone().ok_or_else(no_log_store)?;
    let (start, end) = checked_range(state, p)?;
    let q = p.require("query")?;
    let m = selector_matchers(q)
        .map_err(|e| ApiError::bad_data(format!("invalid parameter \"query\": {e}")))?;
    let line_limit: usize = p
        .get("line_limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(100);
    let limit: usize = p
        .get("limit")
        .or(p.get("field_limit"))
        .and_then(|l| l.parse().ok())
        .unwrap_or(1000);
    let limits = state.limits.logql.clone();
    let sel = format!(
        "{{{}}}",
        m.iter()
            .map(|m| format!("{}{}{}", m.name, m.op, lookout_logql::ast::quote(&m.value)))
            .collect::<Vec<_>>()
            .join(",")
    );
    let fields = on_pool(
        state,
        move || -> Result<BTreeMap<String, Field>, lookout_logql::LogqlError> {
            let params = QueryParams {
                start,
                end,
                step: 1,
                limit: line_limit.min(limits.max_entries),
                direction: QueryDirection::Backward,
                instant: false,
            };
            let engine = LogqlEngine::new(store.as_ref(), limits, None);
            let mut fields: BTreeMap<String, Field> = BTreeMap::new();
            for (parser, stage) in [("json", "| json"), ("logfmt", "| logfmt")] {
                let (res, _) = engine.query(&format!("{sel} {stage} | __error__=\"\""), &params)?;
                let QueryResult::Streams(lines) = res else {
                    continue;
                };
                for l in lines {
                    for (k, v) in &l.parsed {
                        let f = fields.entry(k.clone()).or_insert_with(|| Field {
                            kind: field_type(v),
                            values: BTreeSet::new(),
                            parsers: BTreeSet::new(),
                        });
                        f.values.insert(v.clone());
                        f.parsers.insert(parser);
                    }
                    for (k, v) in &l.metadata {
                        let f = fields.entry(k.clone()).or_insert_with(|| Field {
                            kind: field_type(v),
                            values: BTreeSet::new(),
                            parsers: BTreeSet::new(),
                        });
                        f.values.insert(v.clone());
                    }
                }
            }
            Ok(fields)
        },
    )
    .await?
    .map_err(|e| logql_error(state, e))?;
    Ok((fields, limit))
}

/// `GET|POST /loki/api/v1/detected_fields`.
pub async fn detected_fields(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, LokiError> {
    let p = read_params(&state, req).await?;
    let (fields, limit) = sample_fields(&state, &p).await?;
    let rows: Vec<Value> = fields
        .into_iter()
        .take(limit)
        .map(|(name, f)| {
            let parsers: Option<Vec<&str>> =
                (!f.parsers.is_empty()).then(|| f.parsers.into_iter().collect());
            json!({"label": name, "type": f.kind, "cardinality": f.values.len(), "parsers": parsers})
        })
        .collect();
    Ok(json_ok(json!({"fields": rows, "limit": limit})))
}

/// `GET|POST /loki/api/v1/detected_field/<name>/values`.
pub async fn detected_field_values(
    State(state): State<ApiState>,
    Path(name): Path<String>,
    req: Request<Body>,
) -> Result<Response, LokiError> {
    let p = read_params(&state, req).await?;
    let (fields, limit) = sample_fields(&state, &p).await?;
    let values: Vec<String> = fields
        .get(&name)
        .map(|f| f.values.iter().take(limit).cloned().collect())
        .unwrap_or_default();
    Ok(json_ok(json!({"values": values, "limit": limit})))
}

/// `GET|POST /loki/api/v1/patterns`: Lookout runs no pattern ingester, so (as Loki without one) the list is empty.
pub async fn patterns(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, LokiError> {
    let p = read_params(&state, req).await?;
    selector_matchers(p.require("query")?)
        .map_err(|e| ApiError::bad_data(format!("invalid parameter \"query\": {e}")))?;
    Ok(json_ok(json!({"status": "success", "data": []})))
}

/// `GET|POST /loki/api/v1/format_query`.
pub async fn format_query(State(state): State<ApiState>, req: Request<Body>) -> Response {
    let p = match read_params(&state, req).await {
        Ok(p) => p,
        Err(e) => return LokiError(e).into_response(),
    };
    match lookout_logql::format_query(p.get("query").unwrap_or("")) {
        Ok(s) => json_ok(json!({"status": "success", "data": s})),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/json")],
            json!({"status": "invalid-query", "error": e.to_string()}).to_string(),
        )
            .into_response(),
    }
}

/// `GET /loki/api/v1/status/buildinfo` (no envelope, as Loki).
pub async fn buildinfo() -> Response {
    json_ok(json!({
        "version": "3.0.0", "revision": env!("CARGO_PKG_VERSION"), "branch": "lookout",
        "buildUser": "lookout", "buildDate": "", "goVersion": ""
    }))
}
