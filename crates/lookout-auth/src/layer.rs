//! `RequireRole`: the tower layer each route group (or the whole router, by route) is wrapped with. Missing or
//! wrong credentials get 401 with `WWW-Authenticate` (Basic, and Bearer when tokens exist), the wrong role
//! gets 403, a blocked address 429 with `Retry-After`; bodies use Prometheus's JSON error envelope. On success
//! the [`Principal`] is added to the request's extensions.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, Request, StatusCode, header};
use tower::{Layer, Service};

use crate::authenticator::{Authenticator, Denial, Principal};
use crate::role::Role;
use crate::routes::lookout_route_role;

#[derive(Clone, Copy, Debug)]
enum Needed {
    Fixed(Role),
    ByRoute,
}

/// Layer requiring a role (see the module docs).
#[derive(Clone, Debug)]
pub struct RequireRole {
    auth: Authenticator,
    needed: Needed,
    prefix: Arc<str>,
}

impl RequireRole {
    /// Every request through this layer needs `role`.
    pub fn new(auth: Authenticator, role: Role) -> Self {
        RequireRole {
            auth,
            needed: Needed::Fixed(role),
            prefix: Arc::from(""),
        }
    }

    /// Each request needs the role [`lookout_route_role`] gives its method and path.
    pub fn by_route(auth: Authenticator) -> Self {
        RequireRole {
            auth,
            needed: Needed::ByRoute,
            prefix: Arc::from(""),
        }
    }

    /// Paths may start with the route prefix (`server.route_prefix`, e.g. `/prometheus`); it is removed before
    /// the route is classified and public paths are matched.
    pub fn with_route_prefix(mut self, prefix: &str) -> Self {
        self.prefix = Arc::from(prefix.trim_end_matches('/'));
        self
    }
}

impl<S> Layer<S> for RequireRole {
    type Service = RequireRoleService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireRoleService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service made by [`RequireRole`].
#[derive(Clone, Debug)]
pub struct RequireRoleService<S> {
    inner: S,
    layer: RequireRole,
}

impl<S, B> Service<Request<B>> for RequireRoleService<S>
where
    S: Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // Take the service that was driven to readiness; leave a fresh clone in its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            let path = parts.uri.path();
            let route_path = match path.strip_prefix(&*layer.prefix) {
                Some(rest)
                    if !layer.prefix.is_empty() && (rest.is_empty() || rest.starts_with('/')) =>
                {
                    if rest.is_empty() {
                        "/"
                    } else {
                        rest
                    }
                }
                _ => path,
            }
            .to_string();
            let needed = match layer.needed {
                Needed::Fixed(r) => r,
                Needed::ByRoute => lookout_route_role(&parts.method, &route_path),
            };
            match layer.auth.check(&parts, &route_path, needed).await {
                Ok(principal) => {
                    parts.extensions.insert::<Principal>(principal);
                    inner.call(Request::from_parts(parts, body)).await
                }
                Err(denial) => Ok(denial_response(&denial)),
            }
        })
    }
}

/// The response for a refusal.
pub fn denial_response(denial: &Denial) -> Response {
    let (status, error_type, message) = match denial {
        Denial::Unauthorized { message, .. } => {
            (StatusCode::UNAUTHORIZED, "unauthorized", message.clone())
        }
        Denial::Forbidden { message } => (StatusCode::FORBIDDEN, "forbidden", message.clone()),
        Denial::TooManyRequests { retry_after } => (
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            format!(
                "too many failed authentication attempts from this address; retry in {}s",
                retry_seconds(*retry_after)
            ),
        ),
    };
    let body = serde_json::json!({"status": "error", "errorType": error_type, "error": message});
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    match denial {
        Denial::Unauthorized { offer_bearer, .. } => {
            h.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Lookout\""),
            );
            if *offer_bearer {
                h.append(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"Lookout\""),
                );
            }
        }
        Denial::TooManyRequests { retry_after } => {
            h.insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_seconds(*retry_after)),
            );
        }
        Denial::Forbidden { .. } => {}
    }
    resp
}

/// Whole seconds to wait, at least one.
fn retry_seconds(d: std::time::Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}
