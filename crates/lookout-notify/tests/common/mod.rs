//! A recording HTTP receiver on 127.0.0.1 for the delivery tests, and small alert helpers.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use lookout_model::Labels;
use lookout_notify::Alert;
use parking_lot::Mutex;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub at: Instant,
    pub path: String,
    pub headers: HeaderMap,
    pub raw: Vec<u8>,
    pub body: serde_json::Value,
}

/// How the receiver answers.
#[derive(Debug, Clone)]
pub struct Behavior {
    /// Statuses for the first requests, in order.
    pub first: VecDeque<u16>,
    /// Status once `first` is used up.
    pub then: u16,
    /// Wait before answering (the request is recorded on arrival).
    pub delay: Duration,
}

impl Default for Behavior {
    fn default() -> Self {
        Behavior {
            first: VecDeque::new(),
            then: 200,
            delay: Duration::ZERO,
        }
    }
}

struct Inner {
    requests: Mutex<Vec<Recorded>>,
    behavior: Mutex<Behavior>,
}

/// A running receiver; it stops with the test's runtime.
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let parsed = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    inner.requests.lock().push(Recorded {
        at: Instant::now(),
        path: uri.path().to_string(),
        headers,
        raw: body.to_vec(),
        body: parsed,
    });
    let (status, delay) = {
        let mut b = inner.behavior.lock();
        let status = b.first.pop_front().unwrap_or(b.then);
        (status, b.delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    StatusCode::from_u16(status).unwrap()
}

impl Receiver {
    pub async fn start(behavior: Behavior) -> Receiver {
        let inner = Arc::new(Inner {
            requests: Mutex::new(Vec::new()),
            behavior: Mutex::new(behavior),
        });
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver { addr, inner }
    }

    pub async fn ok() -> Receiver {
        Self::start(Behavior::default()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.requests.lock().clone()
    }

    /// Waits until at least `n` requests arrived (panics after `timeout`).
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        let until = Instant::now() + timeout;
        loop {
            let got = self.requests();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < until,
                "expected {n} requests within {timeout:?}, got {}: {got:#?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// Polls `cond` every 5 ms until it holds (panics after `timeout`).
pub async fn eventually(timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs).unwrap()
}

/// A firing alert that started now, valid for an hour.
pub fn alert(pairs: &[(&str, &str)]) -> Alert {
    let now = SystemTime::now();
    let mut a = Alert::new(labels(pairs), now);
    a.ends_at = Some(now + Duration::from_secs(3600));
    a
}
