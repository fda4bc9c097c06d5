//! `/api/v1/query`, `/api/v1/query_range`, `/api/v1/query_exemplars`, `/api/v1/format_query`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::State;
use axum::http::Request;
use axum::response::Response;
use lookout_promql::{Engine, QueryContext, QueryOutput, Value};

use crate::ApiState;
use crate::error::ApiError;
use crate::format::{write_json_str, write_labels, write_point};
use crate::params::Params;
use crate::pool::CancelOnDrop;
use crate::respond::{BodyPieces, read_params, success, success_body};

/// Maximum points per series Prometheus allows in a range query.
const MAX_POINTS: i64 = 11_000;

/// Now in ms since the epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

struct Prepared {
    engine: Arc<Engine>,
    ctx: QueryContext,
    _cancel: CancelOnDrop,
    limit: usize,
}

fn prepare(state: &ApiState, p: &Params) -> Result<Prepared, ApiError> {
    let cancel = Arc::new(AtomicBool::new(false));
    let mut ctx = QueryContext {
        cancel: Some(cancel.clone()),
        deadline: None,
    };
    if let Some(ms) = p.duration("timeout")? {
        ctx.deadline = Some(Instant::now() + Duration::from_millis(ms.max(0) as u64));
    }
    let engine = match p.duration("lookback_delta")? {
        Some(ms) if ms > 0 => {
            let mut opts = state.engine.options().clone();
            opts.lookback_delta_ms = ms;
            Arc::new(Engine::new(opts))
        }
        _ => state.engine.clone(),
    };
    Ok(Prepared {
        engine,
        ctx,
        _cancel: CancelOnDrop(cancel),
        limit: p.limit()?,
    })
}

/// `GET|POST /api/v1/query`
pub async fn instant(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, ApiError> {
    let p = read_params(&state, req).await?;
    let query = p.require("query")?.to_owned();
    let t = p.time_or("time", now_ms())?;
    let prep = prepare(&state, &p)?;
    let (engine, ctx, storage) = (prep.engine.clone(), prep.ctx.clone(), state.storage.clone());
    let limit = prep.limit;
    let result = state
        .query_pool
        .run(move || {
            engine
                .instant_query(storage.as_ref(), &query, t, &ctx)
                .map(|out| render_answer(&out, limit))
        })
        .await?;
    answer(&state, result)
}

/// `GET|POST /api/v1/query_range`
pub async fn range(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, ApiError> {
    let p = read_params(&state, req).await?;
    let query = p.require("query")?.to_owned();
    let start = p.time_or("start", i64::MIN).and_then(|t| {
        if t == i64::MIN {
            Err(ApiError::bad_data("invalid parameter \"start\": missing"))
        } else {
            Ok(t)
        }
    })?;
    let end = p.time_or("end", i64::MIN).and_then(|t| {
        if t == i64::MIN {
            Err(ApiError::bad_data("invalid parameter \"end\": missing"))
        } else {
            Ok(t)
        }
    })?;
    if end < start {
        return Err(ApiError::bad_data(
            "invalid parameter \"end\": end timestamp must not be before start time",
        ));
    }
    let step = p
        .duration("step")?
        .ok_or_else(|| ApiError::bad_data("invalid parameter \"step\": missing"))?;
    if step <= 0 {
        return Err(ApiError::bad_data(
            "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    if (end - start) / step > MAX_POINTS {
        return Err(ApiError::bad_data(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ));
    }
    let prep = prepare(&state, &p)?;
    let (engine, ctx, storage) = (prep.engine.clone(), prep.ctx.clone(), state.storage.clone());
    let limit = prep.limit;
    let result = state
        .query_pool
        .run(move || {
            engine
                .range_query(storage.as_ref(), &query, start, end, step, &ctx)
                .map(|out| render_answer(&out, limit))
        })
        .await?;
    answer(&state, result)
}

/// The success body of a query's output, rendered on the query pool (never on the runtime's threads: a range
/// answer can take tens of milliseconds to write).
fn render_answer(out: &QueryOutput, limit: usize) -> BodyPieces {
    let mut pieces = Vec::new();
    let tail = success_body(&out.annotations, |s| {
        if render_value_into(s, &out.value, limit, &mut pieces) {
            vec!["results truncated due to limit".to_string()]
        } else {
            Vec::new()
        }
    });
    pieces.push(tail);
    BodyPieces::new(pieces)
}

fn answer(
    state: &ApiState,
    result: Result<BodyPieces, lookout_promql::QueryError>,
) -> Result<Response, ApiError> {
    let body = match result {
        Ok(b) => b,
        Err(e) => {
            state.metrics.query_error(e.error_type());
            match &e {
                lookout_promql::QueryError::TooManySamples { name, .. }
                | lookout_promql::QueryError::Limit { name, .. } => state.metrics.limit_hit(name),
                lookout_promql::QueryError::Timeout { .. } => {
                    state.metrics.limit_hit("query.timeout")
                }
                _ => {}
            }
            return Err(ApiError::from_query(&e));
        }
    };
    state.metrics.queries.fetch_add(1, Ordering::Relaxed);
    Ok(body.into_json_response())
}

/// Series of a matrix rendered by one task when the answer is written on the query threads.
const RENDER_CHUNK: usize = 32;

/// Appends `{"resultType":…,"result":…}` to `s`; returns whether `limit` cut the result.
/// A large matrix's series are left in the pieces they were written in: the text of `s` so far, then each
/// piece, are moved to `pieces` (joining them would copy the answer once more), and `s` goes on with what
/// follows them.
fn render_value_into(
    s: &mut String,
    value: &Value,
    limit: usize,
    pieces: &mut Vec<String>,
) -> bool {
    s.push_str(r#"{"resultType":""#);
    s.push_str(value.type_name());
    s.push_str(r#"","result":"#);
    let mut truncated = false;
    match value {
        Value::Scalar { t, v } => write_point(s, *t, *v),
        Value::String { t, s: text } => {
            s.push('[');
            crate::format::write_timestamp(s, *t);
            s.push(',');
            write_json_str(s, text);
            s.push(']');
        }
        Value::Vector(samples) => {
            let n = if limit > 0 && samples.len() > limit {
                limit
            } else {
                samples.len()
            };
            truncated = n < samples.len();
            s.push('[');
            for (i, smp) in samples[..n].iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                s.push_str(r#"{"metric":"#);
                write_labels(s, &smp.labels);
                s.push_str(r#","value":"#);
                write_point(s, smp.t, smp.v);
                s.push('}');
            }
            s.push(']');
        }
        Value::Matrix(series) => {
            let n = if limit > 0 && series.len() > limit {
                limit
            } else {
                series.len()
            };
            truncated = n < series.len();
            s.push('[');
            let series = &series[..n];
            let points: usize = series.iter().map(|x| x.samples.len()).sum();
            match lookout_promql::query_threads() {
                // Large answers are written a chunk of series per task on the query threads, then joined.
                Some(pool) if series.len() > RENDER_CHUNK && points > 10_000 => {
                    use rayon::prelude::*;
                    let parts: Vec<String> = pool.install(|| {
                        series
                            .par_chunks(RENDER_CHUNK)
                            .enumerate()
                            .map(|(i, chunk)| {
                                let mut part = String::with_capacity(rendered_size(chunk));
                                if i > 0 {
                                    part.push(',');
                                }
                                write_series_list(&mut part, chunk);
                                part
                            })
                            .collect()
                    });
                    pieces.push(std::mem::take(s));
                    pieces.extend(parts);
                }
                _ => write_series_list(s, series),
            }
            s.push(']');
        }
    }
    s.push('}');
    truncated
}

/// About how many bytes `series` take written: a point is ~30 bytes (`[1700000000.123,"12.5"]`), labels
/// ~40 bytes a pair; so a piece is allocated once rather than doubled a dozen times.
fn rendered_size(series: &[lookout_promql::MatrixSeries]) -> usize {
    series
        .iter()
        .map(|x| 32 + x.samples.len() * 30 + x.labels.len() * 40)
        .sum()
}

/// Appends matrix series as comma-separated `{"metric":…,"values":[…]}` objects.
fn write_series_list(s: &mut String, series: &[lookout_promql::MatrixSeries]) {
    for (i, ser) in series.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(r#"{"metric":"#);
        write_labels(s, &ser.labels);
        s.push_str(r#","values":["#);
        for (j, p) in ser.samples.iter().enumerate() {
            if j > 0 {
                s.push(',');
            }
            write_point(s, p.t, p.v);
        }
        s.push_str("]}");
    }
}

/// `GET|POST /api/v1/query_exemplars`: exemplars are parsed and dropped at ingest for now, so the answer is an
/// empty list once the query is known to parse.
pub async fn exemplars(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, ApiError> {
    let p = read_params(&state, req).await?;
    let q = p.require("query")?;
    lookout_promql::parse_query(q)
        .map_err(|e| ApiError::bad_data(format!("invalid parameter \"query\": {e}")))?;
    Ok(success("[]", &Vec::new(), &[]))
}

/// `GET|POST /api/v1/format_query`
pub async fn format_query(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, ApiError> {
    let p = read_params(&state, req).await?;
    let q = p.require("query")?;
    let formatted = lookout_promql::format_query(q)
        .map_err(|e| ApiError::bad_data(format!("invalid parameter \"query\": {e}")))?;
    let mut data = String::new();
    write_json_str(&mut data, &formatted);
    Ok(success(&data, &Vec::new(), &[]))
}
