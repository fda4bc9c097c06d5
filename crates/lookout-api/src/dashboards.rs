//! The shipped dashboards (`dashboards/*.json`, embedded by `lookout-dashboards`) for the built-in viewer:
//! `GET /api/lookout/v1/dashboards` lists them, `GET /api/lookout/v1/dashboards/{uid}` answers one as Grafana's
//! dashboard JSON, unchanged (the same file Grafana imports).

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use lookout_promql::Annotations;

use crate::error::ApiError;
use crate::respond::{json_response, success};

/// The list: `{"status":"success","data":[{"uid","title","tags","file"}]}`, sorted by title.
pub(crate) async fn list() -> Result<Response, ApiError> {
    let data = serde_json::to_string(&lookout_dashboards::all())
        .map_err(|e| ApiError::internal(format!("listing the dashboards: {e}")))?;
    Ok(success(&data, &Annotations::default(), &[]))
}

/// One dashboard's JSON, or 404 naming the uid.
pub(crate) async fn get_one(Path(uid): Path<String>) -> Result<Response, ApiError> {
    match lookout_dashboards::get(&uid) {
        Some(d) => Ok(json_response(StatusCode::OK, d.json.to_string())),
        None => Err(ApiError {
            error_type: "not_found",
            message: format!(
                "no dashboard with uid {uid:?} (GET /api/lookout/v1/dashboards lists them)"
            ),
            status: StatusCode::NOT_FOUND,
        }),
    }
}
