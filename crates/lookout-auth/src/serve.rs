//! The accept loop, for plain HTTP and HTTPS alike: axum's own `serve` speaks no TLS and sets no limits, so
//! connections are accepted here, capped in number, handshaken with the [`TlsReloader`]'s configuration of the
//! moment when TLS is on (a reloaded certificate applies to the next connection while open ones keep theirs),
//! and served by hyper-util's HTTP/1 + HTTP/2 connection builder with bounded headers and a header read
//! timeout, so slow or hostile clients cannot hold the server. Handlers see the peer address as axum's
//! `ConnectInfo<SocketAddr>`, as with `into_make_service_with_connect_info`.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use lookout_model::MetricsWriter;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tower::Service;

use crate::body_deadline::DeadlineBody;
use crate::watcher::TlsReloader;

/// Longest TLS handshake: a client that opens a connection and says nothing must not hold it forever.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long shutdown waits for open connections to finish their requests.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Limits on what connections may hold (`server.max_connections` and friends in the configuration).
#[derive(Debug, Clone)]
pub struct ServeLimits {
    /// Connections open at once; beyond it new connections wait in the kernel's backlog (Prometheus's
    /// `--web.max-connections`, default 512).
    pub max_connections: usize,
    /// Longest time a client may take to send a request's headers (slowloris).
    pub header_read_timeout: Duration,
    /// Largest request head (request line and headers), bytes; larger ones get 431.
    pub max_header_bytes: usize,
    /// Most header fields in one request.
    pub max_headers: usize,
    /// Most requests in flight on one HTTP/2 connection.
    pub max_concurrent_streams: u32,
    /// Longest time from a request's start until its whole body has arrived (a body trickled in would hold a
    /// handler and its buffers).
    pub body_read_timeout: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            max_connections: 512,
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 64 << 10,
            max_headers: 100,
            max_concurrent_streams: 100,
            body_read_timeout: Duration::from_secs(120),
        }
    }
}

/// Connection counters of one server (`lookout_http_*`).
#[derive(Debug, Default)]
pub struct ServeMetrics {
    accepted: AtomicU64,
    open: AtomicU64,
    waits: AtomicU64,
    handshake_failures: AtomicU64,
    errors: AtomicU64,
    limit: AtomicU64,
}

impl ServeMetrics {
    /// Connections open now.
    pub fn open(&self) -> u64 {
        self.open.load(Ordering::Relaxed)
    }

    /// Renders the counters.
    pub fn write_metrics(&self, out: &mut MetricsWriter) {
        out.counter(
            "lookout_http_connections_accepted_total",
            "TCP connections accepted by the HTTP server.",
            self.accepted.load(Ordering::Relaxed),
        );
        out.gauge(
            "lookout_http_connections_open",
            "Connections open now.",
            self.open(),
        );
        out.gauge(
            "lookout_http_connections_limit",
            "Connections allowed open at once (server.max_connections).",
            self.limit.load(Ordering::Relaxed),
        );
        out.counter(
            "lookout_http_connection_limit_waits_total",
            "Times accepting waited because the connection limit was reached.",
            self.waits.load(Ordering::Relaxed),
        );
        out.counter(
            "lookout_http_tls_handshake_failures_total",
            "TLS handshakes that failed or timed out.",
            self.handshake_failures.load(Ordering::Relaxed),
        );
        out.counter(
            "lookout_http_connection_errors_total",
            "Connections that ended with a protocol error or timeout (bad requests, slow headers).",
            self.errors.load(Ordering::Relaxed),
        );
    }
}

/// Serves `router` over TLS on `listener` until `shutdown` completes (see [`serve`]); kept for callers that
/// always speak TLS.
pub async fn serve_tls<F>(
    listener: TcpListener,
    router: Router,
    tls: TlsReloader,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    serve(
        listener,
        router,
        Some(tls),
        ServeLimits::default(),
        Arc::new(ServeMetrics::default()),
        shutdown,
    )
    .await
}

/// Serves `router` on `listener` (over TLS when `tls` is given) until `shutdown` completes; then stops
/// accepting, lets open connections finish for up to [`SHUTDOWN_GRACE`] and returns. Accept errors (out of file
/// descriptors) are logged and retried; failed handshakes are counted on `tls` and `metrics`.
pub async fn serve<F>(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsReloader>,
    limits: ServeLimits,
    metrics: Arc<ServeMetrics>,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    metrics
        .limit
        .store(limits.max_connections.max(1) as u64, Ordering::Relaxed);
    let limits = Arc::new(limits);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // Wait for a free slot before accepting: a full server leaves new connections in the backlog instead of
        // accepting and dropping them.
        let permit = match slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                metrics.waits.fetch_add(1, Ordering::Relaxed);
                tokio::select! {
                    biased;
                    () = &mut shutdown => break,
                    p = slots.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                }
            }
        };
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            r = listener.accept() => r,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "accepting a connection failed");
                // EMFILE and friends: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        metrics.accepted.fetch_add(1, Ordering::Relaxed);
        let _ = tcp.set_nodelay(true);
        let router = router.clone();
        let tls = tls.clone();
        let watcher = graceful.watcher();
        let limits = limits.clone();
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let _permit = permit;
            metrics.open.fetch_add(1, Ordering::Relaxed);
            let _open = OpenGuard(&metrics);
            let body_limit = limits.body_read_timeout;
            let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
                let mut req = req.map(|b| axum::body::Body::new(DeadlineBody::new(b, body_limit)));
                req.extensions_mut().insert(ConnectInfo(peer));
                // A Router is always ready, so calling it without polling readiness is fine.
                router.clone().call(req)
            });
            let Some(tls) = tls else {
                serve_connection(
                    TokioIo::new(tcp),
                    service,
                    true,
                    &limits,
                    &metrics,
                    watcher,
                    peer,
                )
                .await;
                return;
            };
            let acceptor = tls.acceptor();
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tls.handshake_failed();
                    metrics.handshake_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tls.handshake_failed();
                    metrics.handshake_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let http2 = tls.http2();
            serve_connection(
                TokioIo::new(stream),
                service,
                http2,
                &limits,
                &metrics,
                watcher,
                peer,
            )
            .await;
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "connections still open after the shutdown grace period; returning without them"
        );
    }
    Ok(())
}

/// Decrements the open-connection gauge when a connection task ends, however it ends.
struct OpenGuard<'a>(&'a ServeMetrics);

impl Drop for OpenGuard<'_> {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Runs one connection with the limits.
async fn serve_connection<I, S>(
    io: TokioIo<I>,
    service: S,
    http2: bool,
    limits: &ServeLimits,
    metrics: &ServeMetrics,
    watcher: hyper_util::server::graceful::Watcher,
    peer: std::net::SocketAddr,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<http::Request<Incoming>, Response = axum::response::Response>
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        // hyper's read buffer bounds the request head; at least its minimum of 8 KiB.
        .max_buf_size(limits.max_header_bytes.max(8192))
        .max_headers(limits.max_headers);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(limits.max_header_bytes as u32)
        .max_concurrent_streams(limits.max_concurrent_streams);
    if !http2 {
        builder = builder.http1_only();
    }
    let conn = builder
        .serve_connection_with_upgrades(io, service)
        .into_owned();
    if let Err(e) = watcher.watch(conn).await {
        metrics.errors.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}
