//! `GET /loki/api/v1/tail` (WebSocket): backfills up to `limit` entries from `start`, then every second sends the
//! entries that arrived since, each frame `{"streams":[…]}` as Loki sends them. A session ends when the client
//! closes or a send fails; sessions beyond `logs.max_tail_sessions` are refused.
//!
//! Loki streams entries as they are pushed; Lookout polls its store by timestamp. So that an entry stamped a little
//! before it was stored (batching shippers such as Promtail and Alloy send lines seconds after they were stamped)
//! is still sent, each poll looks back `TAIL_LOOKBACK_NS` before the previous one's end and skips what it already
//! sent (a bounded set of the window's entries). An entry stored later than that after its timestamp is not tailed
//! (it is still queryable).

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, State};
use axum::http::Request;
use axum::response::Response;
use lookout_logql::{LogqlEngine, QueryParams, QueryResult, group_streams};
use lookout_storage::logs::QueryDirection;
use serde_json::json;

use super::params::{now_ns, time_param};
use super::query::labels_json;
use super::{LokiError, no_log_store};
use crate::respond::read_params;
use crate::{ApiError, ApiState};

/// How far each poll looks back before the previous poll's end.
const TAIL_LOOKBACK_NS: i64 = 10_000_000_000;

struct SessionSlot(std::sync::Arc<crate::ApiMetrics>);

/// What the session sent within the lookback window, by (timestamp, hash of stream and line).
#[derive(Default)]
struct Sent(std::collections::BTreeSet<(i64, u64)>);

impl Sent {
    fn key(l: &lookout_logql::LogLine) -> (i64, u64) {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        l.stream.hash(&mut h);
        l.line.hash(&mut h);
        (l.ts, h.finish())
    }

    /// Keeps the lines not sent yet and remembers them.
    fn keep_new(&mut self, lines: Vec<lookout_logql::LogLine>) -> Vec<lookout_logql::LogLine> {
        lines
            .into_iter()
            .filter(|l| self.0.insert(Self::key(l)))
            .collect()
    }

    /// Forgets entries older than `from` (no poll asks for them again).
    fn forget_before(&mut self, from: i64) {
        self.0 = self.0.split_off(&(from, 0));
    }
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        self.0.tails.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The tail handler.
pub async fn tail(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, LokiError> {
    let (mut parts, body) = req.into_parts();
    let ws = WebSocketUpgrade::from_request_parts(&mut parts, &state)
        .await
        .map_err(|e| ApiError::bad_data(format!("tail needs a WebSocket upgrade: {e}")))?;
    let p = read_params(&state, Request::from_parts(parts, body)).await?;
    state.logs.clone().ok_or_else(no_log_store)?;
    let query = p.require("query")?.to_string();
    lookout_logql::parse(&query).map_err(|e| ApiError::bad_data(e.to_string()))?;
    let delay_ns = match p.get("delay_for") {
        None => 0,
        Some(d) => {
            let s: i64 = d
                .parse()
                .map_err(|_| ApiError::bad_data("invalid parameter \"delay_for\": seconds 0–5"))?;
            if !(0..=5).contains(&s) {
                return Err(ApiError::bad_data("delay_for can't be greater than 5").into());
            }
            s * 1_000_000_000
        }
    };
    let limit: usize = p.get("limit").and_then(|l| l.parse().ok()).unwrap_or(100);
    let start = time_param(&p, "start")?.unwrap_or(now_ns() - 3_600_000_000_000);
    let max = state.limits.logql.max_tail_sessions;
    if state.metrics.tails.fetch_add(1, Ordering::Relaxed) >= max {
        state.metrics.tails.fetch_sub(1, Ordering::Relaxed);
        state.metrics.limit_hit("logs.max_tail_sessions");
        return Err(ApiError::bad_data(format!(
            "max concurrent tail requests limit exceeded ({max}, logs.max_tail_sessions)"
        ))
        .into());
    }
    let slot = SessionSlot(state.metrics.clone());
    Ok(ws.on_upgrade(move |socket| session(state, socket, query, start, delay_ns, limit, slot)))
}

async fn session(
    state: ApiState,
    mut socket: WebSocket,
    query: String,
    mut from: i64,
    delay_ns: i64,
    limit: usize,
    _slot: SessionSlot,
) {
    let Some(store) = state.logs.clone() else {
        return;
    };
    let mut first = true;
    // Never looked back past: the backfill's end (it sent the last `limit` lines before it, by choice).
    let mut floor = from;
    let mut sent = Sent::default();
    loop {
        let until = now_ns() - delay_ns;
        if until > from {
            let (store, q, limits) = (store.clone(), query.clone(), state.limits.logql.clone());
            // Backfill newest-first (the last `limit` lines), then everything new oldest-first.
            let params = QueryParams {
                start: from,
                end: until,
                step: 1,
                limit: if first {
                    limit.min(limits.max_entries)
                } else {
                    limits.max_entries
                },
                direction: if first {
                    QueryDirection::Backward
                } else {
                    QueryDirection::Forward
                },
                instant: false,
            };
            let res = state
                .query_pool
                .run(move || LogqlEngine::new(store.as_ref(), limits, None).query(&q, &params))
                .await;
            let lines = match res {
                Ok(Ok((QueryResult::Streams(mut lines), _))) => {
                    lines.sort_by_key(|l| l.ts);
                    lines
                }
                Ok(Ok(_)) => Vec::new(),
                Ok(Err(e)) => {
                    let _ = socket.send(Message::Close(None)).await;
                    tracing::debug!(error = %e, "tail query failed; closing the session");
                    return;
                }
                Err(_) => Vec::new(),
            };
            let lines = sent.keep_new(lines);
            // A full answer (the entry limit) resumes after its last line; otherwise the next poll looks back over
            // the lookback window before this one's end, for lines stored late.
            let full = lines.len() >= state.limits.logql.max_entries;
            from = match lines.last() {
                Some(last) if full || first => last.ts + 1,
                _ => until,
            }
            .saturating_sub(if full || first { 0 } else { TAIL_LOOKBACK_NS })
            .max(floor);
            if first {
                floor = from;
            }
            sent.forget_before(from);
            first = false;
            if !lines.is_empty() {
                let streams: Vec<serde_json::Value> = group_streams(lines, false)
                    .into_iter()
                    .map(|(labels, entries)| {
                        let values: Vec<serde_json::Value> = entries
                            .into_iter()
                            .map(|e| json!([e.ts.to_string(), e.line]))
                            .collect();
                        json!({"stream": labels_json(&labels), "values": values})
                    })
                    .collect();
                let frame = json!({"streams": streams}).to_string();
                if socket.send(Message::Text(frame.into())).await.is_err() {
                    return;
                }
            }
        }
        // Wait a second, or stop when the client closes.
        tokio::select! {
            msg = socket.recv() => match msg {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                _ => {}
            },
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}
