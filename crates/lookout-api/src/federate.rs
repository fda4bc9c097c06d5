//! `GET /federate`: the newest sample of every matching series within the lookback delta, in the text format.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use lookout_model::{Labels, TimeRange};
use lookout_storage::SelectHints;
use lookout_wire::exposition::{
    MetricKind, TEXT_CONTENT_TYPE, write_family_header, write_sample_line,
};

use crate::ApiState;
use crate::error::ApiError;
use crate::params::parse_match;
use crate::query::now_ms;
use crate::respond::read_params;

/// `GET /federate?match[]=…`
pub async fn federate(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, ApiError> {
    let p = read_params(&state, req).await?;
    let selectors = p
        .get_all("match[]")
        .into_iter()
        .map(parse_match)
        .collect::<Result<Vec<_>, _>>()?;
    if selectors.is_empty() {
        return Err(ApiError::bad_data("no match[] parameter provided"));
    }
    let now = now_ms();
    let lookback = state.engine.options().lookback_delta_ms;
    let range = TimeRange::new(now - lookback, now);
    let storage = state.storage.clone();
    let external = state.services.config.external_labels();
    let body = state
        .query_pool
        .run(move || -> Result<String, ApiError> {
            let q = storage.querier(range)?;
            // Newest non-stale sample per series, series grouped by metric name.
            let mut newest: BTreeMap<Labels, (i64, f64)> = BTreeMap::new();
            for matchers in &selectors {
                for s in q.select(matchers, SelectHints::samples(range))? {
                    let mut s = s?;
                    let mut last = None;
                    while let Some(x) = s.samples.next() {
                        last = Some(x);
                    }
                    if let Some(x) = last.filter(|x| !x.is_stale()) {
                        newest.insert(s.labels, (x.t, x.v));
                    }
                }
            }
            let mut out = String::new();
            let mut family = String::new();
            for (labels, (t, v)) in newest {
                let mut b = labels.to_builder();
                for l in external.iter() {
                    if labels.get(&l.name).is_none() {
                        b.set(&l.name, &l.value);
                    }
                }
                let labels = b.build_unchecked();
                let name = labels.metric_name().unwrap_or("");
                if name != family {
                    family = name.to_string();
                    write_family_header(&mut out, &family, MetricKind::Unknown, None);
                }
                write_sample_line(&mut out, &labels, v, Some(t));
            }
            Ok(out)
        })
        .await??;
    Ok((StatusCode::OK, [("content-type", TEXT_CONTENT_TYPE)], body).into_response())
}
