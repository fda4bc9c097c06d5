//! Success envelopes and bounded body reads.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use lookout_promql::{AnnotationKind, Annotations};

use crate::error::ApiError;
use crate::format::write_json_str;
use crate::params::Params;
use crate::{ApiState, format};

/// At most this many warnings/infos are listed, then one "N more … omitted" line (as Prometheus).
const MAX_ANNOTATIONS: usize = 10;

/// Wraps already-serialized `data` JSON in the success envelope with annotations.
pub fn success(data: &str, annotations: &Annotations, extra_warnings: &[String]) -> Response {
    let body = success_body(annotations, |s| {
        s.push_str(data);
        extra_warnings.to_vec()
    });
    json_response(StatusCode::OK, body)
}

/// The success envelope with the data written by `write_data` straight into it (a range answer can be tens of
/// megabytes: it is not copied); `write_data` returns warnings of its own, listed before the annotations'.
pub fn success_body(
    annotations: &Annotations,
    write_data: impl FnOnce(&mut String) -> Vec<String>,
) -> String {
    let mut s = String::with_capacity(256);
    s.push_str(r#"{"status":"success","data":"#);
    let extra_warnings = write_data(&mut s);
    let warnings: Vec<&str> = extra_warnings
        .iter()
        .map(String::as_str)
        .chain(
            annotations
                .iter()
                .filter(|a| a.kind == AnnotationKind::Warning)
                .map(|a| a.message.as_str()),
        )
        .collect();
    let infos: Vec<&str> = annotations
        .iter()
        .filter(|a| a.kind == AnnotationKind::Info)
        .map(|a| a.message.as_str())
        .collect();
    write_annotations(&mut s, "warnings", "warning", &warnings);
    write_annotations(&mut s, "infos", "info", &infos);
    s.push('}');
    s
}

fn write_annotations(s: &mut String, key: &str, noun: &str, list: &[&str]) {
    if list.is_empty() {
        return;
    }
    s.push_str(&format!(",\"{key}\":["));
    for (i, m) in list.iter().take(MAX_ANNOTATIONS).enumerate() {
        if i > 0 {
            s.push(',');
        }
        format::write_json_str(s, m);
    }
    if list.len() > MAX_ANNOTATIONS {
        s.push(',');
        write_json_str(
            s,
            &format!(
                "{} more {noun} annotations omitted",
                list.len() - MAX_ANNOTATIONS
            ),
        );
    }
    s.push(']');
}

/// A JSON response with the given status.
pub fn json_response(status: StatusCode, body: String) -> Response {
    (status, [("content-type", "application/json")], body).into_response()
}

/// Serializes a list of strings as a JSON array.
pub fn string_list(items: &[String]) -> String {
    let mut s = String::from("[");
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        write_json_str(&mut s, v);
    }
    s.push(']');
    s
}

/// Reads the URL query and (for form POSTs) the body, capped at `limits.max_form_body_bytes`.
pub async fn read_params(state: &ApiState, req: Request<Body>) -> Result<Params, ApiError> {
    let query = req.uri().query().map(str::to_owned);
    let is_form = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let body = if is_form {
        Some(
            read_body(
                state,
                req.into_body(),
                state.limits.max_form_body_bytes,
                "limits.max_form_body_bytes",
            )
            .await?,
        )
    } else {
        None
    };
    Ok(Params::new(query.as_deref(), body.as_deref()))
}

/// Reads a body with a hard cap; over the cap is a 413 naming the limit.
pub async fn read_body(
    state: &ApiState,
    body: Body,
    limit: usize,
    limit_name: &str,
) -> Result<axum::body::Bytes, ApiError> {
    match axum::body::to_bytes(body, limit).await {
        Ok(b) => Ok(b),
        Err(e) => {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.to_string().contains("length limit"))
                || e.to_string().contains("length limit");
            if too_large {
                state.metrics.limit_hit(limit_name);
                Err(ApiError::too_large(limit_name, limit))
            } else {
                Err(ApiError::bad_data(format!("cannot read request body: {e}")))
            }
        }
    }
}

/// A response body written in pieces (a large query answer is rendered a chunk of series per task) and sent
/// piece after piece, with its exact length, rather than copied into one string first.
pub struct BodyPieces {
    pieces: std::collections::VecDeque<axum::body::Bytes>,
    remaining: u64,
}

impl BodyPieces {
    /// A body of `pieces` in order.
    pub fn new(pieces: Vec<String>) -> Self {
        let remaining = pieces.iter().map(|p| p.len() as u64).sum();
        BodyPieces {
            pieces: pieces
                .into_iter()
                .filter(|p| !p.is_empty())
                .map(axum::body::Bytes::from)
                .collect(),
            remaining,
        }
    }

    /// A 200 response with this body as JSON.
    pub fn into_json_response(self) -> Response {
        (
            StatusCode::OK,
            [("content-type", "application/json")],
            Body::new(self),
        )
            .into_response()
    }
}

impl http_body::Body for BodyPieces {
    type Data = axum::body::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let next = self.pieces.pop_front();
        if let Some(p) = &next {
            self.remaining -= p.len() as u64;
        }
        std::task::Poll::Ready(next.map(|p| Ok(http_body::Frame::data(p))))
    }

    fn is_end_stream(&self) -> bool {
        self.pieces.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.remaining)
    }
}
