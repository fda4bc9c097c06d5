//! What the web config file asks of every response, as a tower layer over the whole router: the security
//! headers of `http_server_config.headers` and the global token bucket of `rate_limit` (429 when empty, as in
//! Prometheus). Both are read from the current configuration per request, so reloads apply at once.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::response::Response;
use http::{HeaderName, HeaderValue, Request, StatusCode};
use parking_lot::Mutex;
use tower::{Layer, Service};

use crate::watcher::WebConfigWatcher;

/// Layer applying the web config's headers and rate limit; made by [`WebConfigWatcher::layer`].
#[derive(Clone, Debug)]
pub struct WebConfigLayer {
    watcher: WebConfigWatcher,
    bucket: Arc<Mutex<TokenBucket>>,
}

impl WebConfigLayer {
    pub(crate) fn new(watcher: WebConfigWatcher) -> Self {
        WebConfigLayer {
            watcher,
            bucket: Arc::new(Mutex::new(TokenBucket::default())),
        }
    }
}

impl<S> Layer<S> for WebConfigLayer {
    type Service = WebConfigService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        WebConfigService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service made by [`WebConfigLayer`].
#[derive(Clone, Debug)]
pub struct WebConfigService<S> {
    inner: S,
    layer: WebConfigLayer,
}

impl<S, B> Service<Request<B>> for WebConfigService<S>
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
        let current = self.layer.watcher.current();
        let limit = current.config.rate_limit;
        if !limit.interval.is_zero()
            && !self
                .layer
                .bucket
                .lock()
                .take(limit.interval, limit.burst, Instant::now())
        {
            let mut resp = Response::new(Body::from("Too Many Requests\n"));
            *resp.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            add_headers(&mut resp, &current.config);
            return Box::pin(async move { Ok(resp) });
        }
        // Take the service that was driven to readiness; leave a fresh clone in its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let mut resp = inner.call(req).await?;
            add_headers(&mut resp, &current.config);
            Ok(resp)
        })
    }
}

/// Sets the configured headers (validated at load, so they parse).
fn add_headers(resp: &mut Response, config: &crate::web_config::WebConfig) {
    for (name, value) in config.response_headers() {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            resp.headers_mut().insert(n, v);
        }
    }
}

/// Go's `rate.Limiter`: refills one token per `interval` up to `burst`; starts full.
#[derive(Debug, Default)]
pub(crate) struct TokenBucket {
    tokens: f64,
    last: Option<Instant>,
}

impl TokenBucket {
    /// Takes a token if one is there.
    pub(crate) fn take(&mut self, interval: Duration, burst: u32, now: Instant) -> bool {
        let burst = f64::from(burst);
        self.tokens = match self.last {
            None => burst,
            Some(last) => {
                let refill =
                    now.saturating_duration_since(last).as_secs_f64() / interval.as_secs_f64();
                (self.tokens + refill).min(burst)
            }
        };
        self.last = Some(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_one_per_interval() {
        let mut b = TokenBucket::default();
        let t0 = Instant::now();
        let i = Duration::from_secs(1);
        assert!(b.take(i, 2, t0));
        assert!(b.take(i, 2, t0));
        assert!(!b.take(i, 2, t0));
        assert!(!b.take(i, 2, t0 + Duration::from_millis(500)));
        assert!(b.take(i, 2, t0 + Duration::from_millis(1000)));
        assert!(!b.take(i, 2, t0 + Duration::from_millis(1100)));
        // A long pause refills only up to the burst.
        let later = t0 + Duration::from_secs(60);
        assert!(b.take(i, 2, later) && b.take(i, 2, later));
        assert!(!b.take(i, 2, later));
    }
}
