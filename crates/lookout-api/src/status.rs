//! `/api/v1/targets`, `/api/v1/scrape_pools` and `/api/v1/status/*`.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::Request;
use axum::response::Response;

use crate::ApiState;
use crate::error::ApiError;
use crate::format::{rfc3339, write_json_str, write_labels};
use crate::respond::{read_params, string_list, success};

/// The Prometheus version Lookout reports. Grafana maps it onto its list of known Prometheus versions (which ends at
/// 2.50.x) to switch features on; every feature it gates (labels match API, etc.) needs ≥ 2.24, and Lookout serves
/// the 2.50 API surface, so 2.50.1 turns everything on without claiming Prometheus 3's newer endpoints.
pub const PROMETHEUS_COMPAT_VERSION: &str = "2.50.1";

/// `GET /api/v1/targets` (`state=active|dropped|any`, `scrapePool`)
pub async fn targets(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, ApiError> {
    let p = read_params(&state, req).await?;
    let which = p.get("state").unwrap_or("any").to_ascii_lowercase();
    let pool = p.get("scrapePool").map(str::to_owned);
    let snap = state.services.scrape.targets();
    let show_active = which == "any" || which == "active";
    let show_dropped = which == "any" || which == "dropped";
    let in_pool = |p: &str| pool.as_deref().is_none_or(|want| want == p);
    let mut s = String::from(r#"{"activeTargets":["#);
    let mut first = true;
    for t in snap
        .active
        .iter()
        .filter(|t| show_active && in_pool(&t.scrape_pool))
    {
        if !first {
            s.push(',');
        }
        first = false;
        s.push_str(r#"{"discoveredLabels":"#);
        write_labels(&mut s, &t.discovered_labels);
        s.push_str(r#","labels":"#);
        write_labels(&mut s, &t.labels);
        s.push_str(r#","scrapePool":"#);
        write_json_str(&mut s, &t.scrape_pool);
        s.push_str(r#","scrapeUrl":"#);
        write_json_str(&mut s, &t.scrape_url);
        s.push_str(r#","globalUrl":"#);
        write_json_str(&mut s, &t.scrape_url);
        s.push_str(r#","lastError":"#);
        write_json_str(&mut s, &t.last_error);
        s.push_str(r#","lastScrape":"#);
        write_json_str(
            &mut s,
            &t.last_scrape_ms
                .map(rfc3339)
                .unwrap_or_else(|| "0001-01-01T00:00:00Z".into()),
        );
        s.push_str(&format!(
            r#","lastScrapeDuration":{}"#,
            t.last_scrape_duration_s
        ));
        s.push_str(&format!(r#","health":"{}""#, t.health));
        s.push_str(r#","scrapeInterval":"#);
        write_json_str(&mut s, &t.scrape_interval);
        s.push_str(r#","scrapeTimeout":"#);
        write_json_str(&mut s, &t.scrape_timeout);
        s.push('}');
    }
    s.push_str(r#"],"droppedTargets":["#);
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    let mut first = true;
    for t in snap.dropped.iter().filter(|t| in_pool(&t.scrape_pool)) {
        *counts.entry(&t.scrape_pool).or_default() += 1;
        if !show_dropped {
            continue;
        }
        if !first {
            s.push(',');
        }
        first = false;
        s.push_str(r#"{"discoveredLabels":"#);
        write_labels(&mut s, &t.discovered_labels);
        s.push_str(r#","scrapePool":"#);
        write_json_str(&mut s, &t.scrape_pool);
        s.push('}');
    }
    s.push_str(r#"],"droppedTargetCounts":{"#);
    for (i, (pool, n)) in counts.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        write_json_str(&mut s, pool);
        s.push_str(&format!(":{n}"));
    }
    s.push_str("}}");
    Ok(success(&s, &Vec::new(), &[]))
}

/// `GET /api/v1/scrape_pools`
pub async fn scrape_pools(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let mut pools: Vec<String> = state
        .services
        .scrape
        .targets()
        .active
        .into_iter()
        .map(|t| t.scrape_pool)
        .collect();
    pools.sort();
    pools.dedup();
    Ok(success(
        &format!(r#"{{"scrapePools":{}}}"#, string_list(&pools)),
        &Vec::new(),
        &[],
    ))
}

/// `GET /api/v1/status/buildinfo`
pub async fn buildinfo() -> Response {
    let data = format!(
        r#"{{"version":"{PROMETHEUS_COMPAT_VERSION}","revision":"lookout-{}","branch":"lookout","buildUser":"lookout","buildDate":"","goVersion":"rust"}}"#,
        env!("CARGO_PKG_VERSION")
    );
    success(&data, &Vec::new(), &[])
}

/// `GET /api/v1/status/config`
pub async fn config(State(state): State<ApiState>) -> Response {
    let mut s = String::from(r#"{"yaml":"#);
    write_json_str(&mut s, &state.services.config.config_yaml());
    s.push('}');
    success(&s, &Vec::new(), &[])
}

/// `GET /api/v1/status/flags`
pub async fn flags(State(state): State<ApiState>) -> Response {
    let mut s = String::from("{");
    for (i, (k, v)) in state.services.config.flags().iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        write_json_str(&mut s, k);
        s.push(':');
        write_json_str(&mut s, v);
    }
    s.push('}');
    success(&s, &Vec::new(), &[])
}

/// `GET /api/v1/status/runtimeinfo`
pub async fn runtimeinfo(State(state): State<ApiState>) -> Response {
    let map: serde_json::Map<String, serde_json::Value> =
        state.services.runtime.runtime_info().into_iter().collect();
    success(
        &serde_json::Value::Object(map).to_string(),
        &Vec::new(),
        &[],
    )
}

fn pairs(s: &mut String, key: &str, list: &[(String, u64)]) {
    s.push_str(&format!(r#","{key}":["#));
    for (i, (name, v)) in list.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(r#"{"name":"#);
        write_json_str(s, name);
        s.push_str(&format!(r#","value":{v}}}"#));
    }
    s.push(']');
}

/// `GET /api/v1/status/tsdb` (`limit`, default 10, at most 10,000)
pub async fn tsdb(State(state): State<ApiState>, req: Request<Body>) -> Result<Response, ApiError> {
    let p = read_params(&state, req).await?;
    let limit = match p.limit()? {
        0 => 10,
        n if n > 10_000 => {
            return Err(ApiError::bad_data(
                "invalid parameter \"limit\": must be at most 10000",
            ));
        }
        n => n,
    };
    let runtime = state.services.runtime.clone();
    let st = state
        .query_pool
        .run(move || runtime.tsdb_status(limit))
        .await?;
    let mut s = format!(
        r#"{{"headStats":{{"numSeries":{},"numLabelPairs":{},"chunkCount":{},"minTime":{},"maxTime":{}}}"#,
        st.num_series, st.num_label_pairs, st.chunk_count, st.min_time, st.max_time
    );
    pairs(
        &mut s,
        "seriesCountByMetricName",
        &st.series_count_by_metric_name,
    );
    pairs(
        &mut s,
        "labelValueCountByLabelName",
        &st.label_value_count_by_label_name,
    );
    pairs(
        &mut s,
        "memoryInBytesByLabelName",
        &st.memory_in_bytes_by_label_name,
    );
    pairs(
        &mut s,
        "seriesCountByLabelValuePair",
        &st.series_count_by_label_value_pair,
    );
    s.push('}');
    Ok(success(&s, &Vec::new(), &[]))
}
