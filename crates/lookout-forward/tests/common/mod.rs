//! A fake receiver for the integration tests: records every request and answers from a script.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use lookout_model::Labels;
use parking_lot::Mutex;

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Req {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The status answered.
    pub status: u16,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }
}

/// Shared state of a fake receiver.
#[derive(Debug, Default)]
pub struct State {
    pub requests: Vec<Req>,
    /// Answers for the next requests to the write path: (status, Retry-After).
    pub script: VecDeque<(u16, Option<String>)>,
    /// Answer when the script is empty (0 means 204).
    pub default_status: u16,
    pub token_requests: Vec<Req>,
}

pub struct Receiver {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<State>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

async fn handle(
    state: Arc<Mutex<State>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = Req {
        path: uri.path().to_string(),
        headers,
        body: body.to_vec(),
        status: 200,
    };
    let mut st = state.lock();
    if req.path == "/token" {
        st.token_requests.push(req);
        return (
            StatusCode::OK,
            [("Content-Type", "application/json")],
            r#"{"access_token":"tok-123","token_type":"bearer","expires_in":3600}"#,
        )
            .into_response();
    }
    let (status, retry_after) = st.script.pop_front().unwrap_or((st.default_status, None));
    let status = if status == 0 { 204 } else { status };
    let mut req = req;
    req.status = status;
    st.requests.push(req);
    let mut resp = (
        StatusCode::from_u16(status).unwrap(),
        format!("status {status}"),
    )
        .into_response();
    if let Some(ra) = retry_after {
        resp.headers_mut()
            .insert("Retry-After", ra.parse().unwrap());
    }
    resp
}

impl Receiver {
    pub async fn start() -> Receiver {
        Self::start_on("127.0.0.1:0".parse().unwrap(), Default::default()).await
    }

    pub async fn start_on(addr: SocketAddr, state: Arc<Mutex<State>>) -> Receiver {
        let mut listener = None;
        for _ in 0..100 {
            match tokio::net::TcpListener::bind(addr).await {
                Ok(l) => {
                    listener = Some(l);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        let listener = listener.expect("bind the fake receiver");
        let addr = listener.local_addr().unwrap();
        let st = state.clone();
        let app = axum::Router::new().fallback(axum::routing::any(
            move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
                handle(st.clone(), uri, headers, body)
            },
        ));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        Receiver {
            addr,
            state,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops serving and closes every connection (the port is then refused).
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let stopped = tokio::time::timeout(Duration::from_secs(5), t).await;
            assert!(stopped.is_ok(), "fake receiver did not stop");
        }
    }

    /// Serves again on the same port with the same state.
    pub async fn restart(&mut self) {
        self.stop().await;
        let r = Receiver::start_on(self.addr, self.state.clone()).await;
        *self = r;
    }

    pub fn requests(&self) -> Vec<Req> {
        self.state.lock().requests.clone()
    }
}

/// The decoded remote_write body of a request.
pub fn decode_rw(req: &Req) -> lookout_wire::remote_write::WriteBatch {
    let version =
        lookout_wire::remote_write::remote_write_version(req.header("content-type").as_deref())
            .unwrap();
    lookout_wire::remote_write::decode_write_request(
        &req.body,
        version,
        &Default::default(),
        lookout_wire::remote_write::InvalidSeriesPolicy::Reject,
    )
    .unwrap()
}

/// Sample timestamps per series, in arrival order, over the accepted (2xx) requests.
pub fn samples_by_series(reqs: &[Req]) -> BTreeMap<Labels, Vec<i64>> {
    let mut out: BTreeMap<Labels, Vec<i64>> = BTreeMap::new();
    for r in reqs.iter().filter(|r| (200..300).contains(&r.status)) {
        for s in decode_rw(r).series {
            out.entry(s.labels)
                .or_default()
                .extend(s.samples.iter().map(|x| x.t));
        }
    }
    out
}

/// Polls `cond` every 20 ms for at most `secs` seconds.
pub async fn wait_for(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..secs * 50 {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}
