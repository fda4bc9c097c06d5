//! `/api/v1/series`, `/api/v1/labels`, `/api/v1/label/<name>/values`, `/api/v1/metadata`.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::Request;
use axum::response::Response;
use lookout_model::{Labels, Matcher, TimeRange};
use lookout_storage::SelectHints;

use crate::ApiState;
use crate::error::ApiError;
use crate::format::{write_json_str, write_labels};
use crate::params::{MAX_TIME_MS, MIN_TIME_MS, Params, parse_match};
use crate::respond::{read_params, string_list, success};

struct Listing {
    range: TimeRange,
    matchers: Vec<Vec<Matcher>>,
    limit: usize,
}

fn listing(state: &ApiState, p: &Params, require_match: bool) -> Result<Listing, ApiError> {
    let start = p.time_or("start", MIN_TIME_MS)?;
    let end = p.time_or("end", MAX_TIME_MS)?;
    if end < start {
        return Err(ApiError::bad_data(
            "invalid parameter \"end\": end timestamp must not be before start time",
        ));
    }
    let matchers = p
        .get_all("match[]")
        .into_iter()
        .map(parse_match)
        .collect::<Result<Vec<_>, _>>()?;
    if require_match && matchers.is_empty() {
        return Err(ApiError::bad_data("no match[] parameter provided"));
    }
    let mut limit = p.limit()?;
    if limit == 0 {
        limit = state.limits.max_listing_results;
    }
    Ok(Listing {
        range: TimeRange::new(start, end),
        matchers,
        limit,
    })
}

fn truncate<T>(items: &mut Vec<T>, limit: usize) -> Vec<String> {
    if limit > 0 && items.len() > limit {
        items.truncate(limit);
        vec!["results truncated due to limit".to_string()]
    } else {
        Vec::new()
    }
}

/// `GET|POST /api/v1/series`
pub async fn series(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, ApiError> {
    let p = read_params(&state, req).await?;
    let l = listing(&state, &p, true)?;
    let storage = state.storage.clone();
    let found = state
        .query_pool
        .run(move || -> Result<Vec<Labels>, ApiError> {
            let q = storage.querier(l.range)?;
            let mut all = BTreeSet::new();
            for ms in &l.matchers {
                for s in q.select(ms, SelectHints::series_only(l.range))? {
                    all.insert(s?.labels);
                    if l.limit > 0 && all.len() > l.limit {
                        break;
                    }
                }
            }
            Ok(all.into_iter().collect())
        })
        .await??;
    let mut found = found;
    let warnings = truncate(&mut found, l.limit);
    let mut data = String::from("[");
    for (i, labels) in found.iter().enumerate() {
        if i > 0 {
            data.push(',');
        }
        write_labels(&mut data, labels);
    }
    data.push(']');
    Ok(success(&data, &Vec::new(), &warnings))
}

/// `GET|POST /api/v1/labels`
pub async fn labels(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, ApiError> {
    let p = read_params(&state, req).await?;
    let l = listing(&state, &p, false)?;
    let storage = state.storage.clone();
    let mut names = state
        .query_pool
        .run(move || -> Result<Vec<String>, ApiError> {
            let q = storage.querier(l.range)?;
            if l.matchers.is_empty() {
                return Ok(q.label_names(&[])?);
            }
            let mut all = BTreeSet::new();
            for ms in &l.matchers {
                all.extend(q.label_names(ms)?);
            }
            Ok(all.into_iter().collect())
        })
        .await??;
    let warnings = truncate(&mut names, l.limit);
    Ok(success(&string_list(&names), &Vec::new(), &warnings))
}

/// Decodes Prometheus's escaping of label names in the path (`U__` prefix, `_xx_` hex, `__` for `_`).
fn unescape_label_name(name: &str) -> String {
    let Some(rest) = name.strip_prefix("U__") else {
        return name.to_string();
    };
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '_' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'_') {
            chars.next();
            out.push('_');
            continue;
        }
        let hex: String = chars.by_ref().take_while(|&c| c != '_').collect();
        match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
            Some(ch) => out.push(ch),
            None => return name.to_string(),
        }
    }
    out
}

/// `GET /api/v1/label/<name>/values`
pub async fn label_values(
    State(state): State<ApiState>,
    Path(name): Path<String>,
    req: Request<Body>,
) -> Result<Response, ApiError> {
    let p = read_params(&state, req).await?;
    let l = listing(&state, &p, false)?;
    let name = unescape_label_name(&name);
    let storage = state.storage.clone();
    let mut values = state
        .query_pool
        .run(move || -> Result<Vec<String>, ApiError> {
            let q = storage.querier(l.range)?;
            if l.matchers.is_empty() {
                return Ok(q.label_values(&name, &[])?);
            }
            let mut all = BTreeSet::new();
            for ms in &l.matchers {
                all.extend(q.label_values(&name, ms)?);
            }
            Ok(all.into_iter().collect())
        })
        .await??;
    let warnings = truncate(&mut values, l.limit);
    Ok(success(&string_list(&values), &Vec::new(), &warnings))
}

/// `GET /api/v1/metadata` (`metric`, `limit`, `limit_per_metric`)
pub async fn metadata(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, ApiError> {
    let p = read_params(&state, req).await?;
    let metric = p.get("metric").map(str::to_owned);
    let limit = p.limit()?;
    let per_metric: usize = match p.get("limit_per_metric") {
        None => 0,
        Some(s) => s
            .parse()
            .map_err(|_| ApiError::bad_data("invalid parameter \"limit_per_metric\""))?,
    };
    let mut by_name: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
    for m in state.services.scrape.metadata() {
        if metric.as_ref().is_some_and(|want| *want != m.metric) {
            continue;
        }
        let entry = by_name.entry(m.metric).or_default();
        let row = (m.kind, m.help, m.unit);
        if !entry.contains(&row) && (per_metric == 0 || entry.len() < per_metric) {
            entry.push(row);
        }
    }
    let mut data = String::from("{");
    for (i, (name, rows)) in by_name.iter().enumerate() {
        if limit > 0 && i >= limit {
            break;
        }
        if i > 0 {
            data.push(',');
        }
        write_json_str(&mut data, name);
        data.push_str(":[");
        for (j, (kind, help, unit)) in rows.iter().enumerate() {
            if j > 0 {
                data.push(',');
            }
            data.push_str(r#"{"type":"#);
            write_json_str(&mut data, kind);
            data.push_str(r#","help":"#);
            write_json_str(&mut data, help);
            data.push_str(r#","unit":"#);
            write_json_str(&mut data, unit);
            data.push('}');
        }
        data.push(']');
    }
    data.push('}');
    Ok(success(&data, &Vec::new(), &[]))
}

#[cfg(test)]
mod tests {
    use super::unescape_label_name;

    #[test]
    fn label_names_in_paths_unescape() {
        assert_eq!(unescape_label_name("job"), "job");
        assert_eq!(unescape_label_name("U__my_2e_label"), "my.label");
        assert_eq!(unescape_label_name("U__a__b"), "a_b");
    }
}
