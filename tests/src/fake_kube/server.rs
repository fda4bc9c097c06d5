//! The HTTP side of the fake API server: routing, list with paging, watch streams, selectors.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::pin::Pin;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use tokio::time::{Instant, Interval, Sleep};

use super::selectors::Filter;
use super::{Live, REQUEST_LOG_LIMIT, Resource, Shared, lock};

/// Longest watch served; longer `timeoutSeconds` (kube asks for 290) are cut to this.
const MAX_WATCH: Duration = Duration::from_secs(30);
/// Interval between BOOKMARK events on watches that allow them.
const BOOKMARK_EVERY: Duration = Duration::from_secs(1);

/// The router: every path goes to one handler that understands the Kubernetes API layout.
pub(super) fn router(state: Shared) -> axum::Router {
    axum::Router::new().fallback(move |req: Request| std::future::ready(handle(&state, &req)))
}

/// A `Status` failure response.
fn status(code: StatusCode, reason: &str, message: &str, details: Value) -> Response {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "details": details, "code": code.as_u16(),
    });
    json_response(code, &body)
}

fn json_response(code: StatusCode, body: &Value) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn bad_request(message: &str) -> Response {
    status(StatusCode::BAD_REQUEST, "BadRequest", message, json!({}))
}

fn not_found() -> Response {
    let message = "the server could not find the requested resource";
    status(StatusCode::NOT_FOUND, "NotFound", message, json!({}))
}

/// The `410 Gone` status the API server sends for a compacted resourceVersion.
fn gone_status() -> Value {
    json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "too old resource version", "reason": "Expired", "code": 410,
    })
}

/// What a request path names.
struct Target {
    key: String,
    namespace: Option<String>,
    name: Option<String>,
}

/// Parses `/api/v1/...` and `/apis/GROUP/VERSION/...` paths.
fn parse_path(path: &str) -> Option<Target> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (prefix, rest) = match segments.as_slice() {
        ["api", version, rest @ ..] => (format!("/api/{version}"), rest),
        ["apis", group, version, rest @ ..] => (format!("/apis/{group}/{version}"), rest),
        _ => return None,
    };
    let (plural, namespace, name) = match rest {
        [plural] => (*plural, None, None),
        ["namespaces", name] => ("namespaces", None, Some(*name)),
        [plural, name] => (*plural, None, Some(*name)),
        ["namespaces", ns, plural] => (*plural, Some(*ns), None),
        ["namespaces", ns, plural, name] => (*plural, Some(*ns), Some(*name)),
        _ => return None,
    };
    Some(Target {
        key: format!("{prefix}/{plural}"),
        namespace: namespace.map(str::to_owned),
        name: name.map(str::to_owned),
    })
}

/// Answers one request (synchronously: watch streams are built under the lock, then run on their own).
fn handle(shared: &Shared, req: &Request) -> Response {
    let uri = req.uri();
    let path_and_query = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    let mut state = lock(shared);
    if state.requests.len() >= REQUEST_LOG_LIMIT {
        state.requests.pop_front();
    }
    let entry = (req.method().to_string(), path_and_query.to_owned());
    state.requests.push_back(entry);
    if uri.path() == "/version" {
        return json_response(StatusCode::OK, &version());
    }
    let Some(target) = parse_path(uri.path()) else {
        return not_found();
    };
    let query: BTreeMap<String, String> =
        form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let watch = matches!(query.get("watch").map(String::as_str), Some("true" | "1"));
    let rv = state.rv;
    let Some(res) = state.resources.get_mut(&target.key) else {
        return not_found();
    };
    if req.method() != Method::GET {
        let message = format!("the fake API server only serves GET, not {}", req.method());
        return status(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            &message,
            json!({}),
        );
    }
    if target.name.is_none() {
        if watch {
            res.watches += 1;
        } else {
            res.lists += 1;
        }
    }
    if res.missing || (target.namespace.is_some() && !res.namespaced) {
        return not_found();
    }
    if res.forbidden {
        return forbidden(res, target.namespace.as_deref());
    }
    let filter = match Filter::parse(target.namespace.as_deref(), &query, &res.plural) {
        Ok(filter) => filter,
        Err(message) => return bad_request(&message),
    };
    match target.name {
        Some(name) => get_one(res, target.namespace.as_deref().unwrap_or(""), &name),
        None if watch => start_watch(shared, rv, res, filter, &query),
        None => list(res, rv, &filter, &query),
    }
}

/// What `/version` answers (`kube::Client::apiserver_version`).
fn version() -> Value {
    json!({
        "major": "1", "minor": "33", "gitVersion": "v1.33.0-fake", "gitCommit": "0", "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.24", "compiler": "gc", "platform": "linux/amd64",
    })
}

fn forbidden(res: &Resource, namespace: Option<&str>) -> Response {
    let scope = namespace.map_or_else(
        || "at the cluster scope".to_owned(),
        |ns| format!("in the namespace \"{ns}\""),
    );
    let qualified = match res.group() {
        "" => res.plural.clone(),
        group => format!("{}.{group}", res.plural),
    };
    let message = format!(
        "{qualified} is forbidden: User \"system:serviceaccount:monitoring:lookout\" cannot list resource \"{}\" \
         in API group \"{}\" {scope}",
        res.plural,
        res.group()
    );
    let details = json!({"group": res.group(), "kind": res.plural});
    status(StatusCode::FORBIDDEN, "Forbidden", &message, details)
}

fn get_one(res: &Resource, namespace: &str, name: &str) -> Response {
    let namespace = if res.namespaced { namespace } else { "" };
    match res.objects.get(&(namespace.to_owned(), name.to_owned())) {
        Some(obj) => json_response(StatusCode::OK, obj),
        None => {
            let message = format!("{} \"{name}\" not found", res.plural);
            let details = json!({"name": name, "group": res.group(), "kind": res.plural});
            status(StatusCode::NOT_FOUND, "NotFound", &message, details)
        }
    }
}

/// A list (one page when `limit` is set). The continue token is `RV:NAMESPACE/NAME` of the last item returned;
/// every page reports the first page's resourceVersion, so a watch from it replays whatever changed meanwhile.
fn list(res: &Resource, rv: u64, filter: &Filter, query: &BTreeMap<String, String>) -> Response {
    let limit = match query.get("limit").map(|l| l.parse::<usize>()) {
        None => None,
        Some(Ok(limit)) => Some(limit).filter(|l| *l > 0),
        Some(Err(_)) => return bad_request("limit must be a non-negative integer"),
    };
    let (snapshot, after) = match query.get("continue").filter(|c| !c.is_empty()) {
        None => (rv, None),
        Some(token) => {
            let parsed = token.split_once(':').and_then(|(rv, key)| {
                let (ns, name) = key.split_once('/')?;
                Some((rv.parse::<u64>().ok()?, (ns.to_owned(), name.to_owned())))
            });
            let Some((snapshot, key)) = parsed else {
                return bad_request("continue key is not valid");
            };
            if snapshot < res.floor {
                let message = "The provided continue parameter is too old to display a consistent list result. \
                               You can start a new list without the continue parameter.";
                return status(StatusCode::GONE, "Expired", message, json!({}));
            }
            (snapshot, Some(key))
        }
    };
    let range = match &after {
        Some(key) => res
            .objects
            .range((Bound::Excluded(key.clone()), Bound::Unbounded)),
        None => res.objects.range::<(String, String), _>(..),
    };
    let mut items = Vec::new();
    let mut last = None;
    let mut remaining = 0usize;
    for (key, obj) in range.filter(|(_, obj)| filter.matches(obj)) {
        if limit.is_some_and(|limit| items.len() >= limit) {
            remaining += 1;
        } else {
            items.push(obj.clone());
            last = Some(key);
        }
    }
    let mut metadata = json!({"resourceVersion": snapshot.to_string()});
    if let (true, Some((ns, name))) = (remaining > 0, last) {
        metadata["continue"] = format!("{snapshot}:{ns}/{name}").into();
        metadata["remainingItemCount"] = remaining.into();
    }
    let body = json!({
        "apiVersion": res.api_version(), "kind": format!("{}List", res.kind), "metadata": metadata, "items": items,
    });
    json_response(StatusCode::OK, &body)
}

/// Starts a watch: replays history after `resourceVersion` (or the current objects as ADDED when it is absent or
/// "0"), then streams live events, bookmarks when allowed, until `timeoutSeconds` (at most [`MAX_WATCH`]).
fn start_watch(
    shared: &Shared,
    rv: u64,
    res: &Resource,
    filter: Filter,
    query: &BTreeMap<String, String>,
) -> Response {
    let timeout = match query.get("timeoutSeconds").map(|t| t.parse::<u64>()) {
        None => MAX_WATCH,
        Some(Ok(secs)) => Duration::from_secs(secs.max(1)).min(MAX_WATCH),
        Some(Err(_)) => return bad_request("timeoutSeconds must be an integer"),
    };
    let from = match query.get("resourceVersion").map(String::as_str) {
        None | Some("" | "0") => None,
        Some(rv) => match rv.parse::<u64>() {
            Ok(rv) => Some(rv),
            Err(_) => return bad_request(&format!("invalid resourceVersion {rv:?}")),
        },
    };
    let mut pending = VecDeque::new();
    match from {
        None => {
            for obj in res.objects.values().filter(|obj| filter.matches(obj)) {
                pending.push_back(format!("{}\n", json!({"type": "ADDED", "object": obj})));
            }
        }
        Some(from) if from < res.floor => {
            let line = format!("{}\n", json!({"type": "ERROR", "object": gone_status()}));
            return stream_response(futures_util::stream::iter([Ok::<_, std::io::Error>(line)]));
        }
        Some(from) => {
            let replay = res.history.iter().filter(|change| change.rv > from);
            pending.extend(replay.filter_map(|change| filter.event_line(change)));
        }
    }
    let bookmarks = matches!(
        query.get("allowWatchBookmarks").map(String::as_str),
        Some("true" | "1")
    )
    .then(|| {
        let mut interval =
            tokio::time::interval_at(Instant::now() + BOOKMARK_EVERY, BOOKMARK_EVERY);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval
    });
    let watch = Watch {
        shared: shared.clone(),
        filter,
        pending,
        live: res.live.subscribe(),
        last_rv: from.unwrap_or(0).max(rv),
        bookmark_head: json!({"kind": res.kind, "apiVersion": res.api_version()}),
        bookmarks,
        deadline: Box::pin(tokio::time::sleep(timeout)),
        end: End::No,
    };
    stream_response(futures_util::stream::unfold(watch, Watch::next))
}

fn stream_response<S>(stream: S) -> Response
where
    S: futures_util::Stream<Item = Result<String, std::io::Error>> + Send + 'static,
{
    let mut resp = Response::new(Body::from_stream(stream));
    let content_type = header::HeaderValue::from_static("application/json");
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    resp
}

/// How a watch stream ends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    /// Still streaming.
    No,
    /// End the response normally.
    Clean,
    /// Fail the body so the connection is dropped mid-stream.
    Abort,
}

/// One open watch stream.
struct Watch {
    shared: Shared,
    filter: Filter,
    /// Lines ready to send (history replay, then live events); bounded by the history and live channel sizes.
    pending: VecDeque<String>,
    live: broadcast::Receiver<Live>,
    /// Every change of the resource up to this resourceVersion has been seen (sent or filtered out).
    last_rv: u64,
    bookmark_head: Value,
    bookmarks: Option<Interval>,
    deadline: Pin<Box<Sleep>>,
    end: End,
}

impl Watch {
    /// The next chunk of the response body.
    async fn next(mut self) -> Option<(Result<String, std::io::Error>, Watch)> {
        loop {
            if let Some(line) = self.pending.pop_front() {
                return Some((Ok(line), self));
            }
            match self.end {
                End::No => {}
                End::Clean => return None,
                End::Abort => {
                    self.end = End::Clean;
                    let err = std::io::Error::new(
                        std::io::ErrorKind::ConnectionAborted,
                        "API server restarted",
                    );
                    return Some((Err(err), self));
                }
            }
            tokio::select! {
                biased;
                () = &mut self.deadline => self.end = End::Clean,
                msg = self.live.recv() => self.on_live(msg),
                () = tick(&mut self.bookmarks) => self.bookmark(),
            }
        }
    }

    fn on_live(&mut self, msg: Result<Live, RecvError>) {
        match msg {
            Ok(Live::Event(change)) => {
                if change.rv > self.last_rv {
                    self.last_rv = change.rv;
                    self.pending.extend(self.filter.event_line(&change));
                }
            }
            Ok(Live::Expire) | Err(RecvError::Lagged(_)) => {
                let line = format!("{}\n", json!({"type": "ERROR", "object": gone_status()}));
                self.pending.push_back(line);
                self.end = End::Clean;
            }
            Ok(Live::Disconnect) => self.end = End::Abort,
            Err(RecvError::Closed) => self.end = End::Clean,
        }
    }

    /// Queues a BOOKMARK at the global resourceVersion, after the changes broadcast before it.
    fn bookmark(&mut self) {
        let shared = self.shared.clone();
        let state = lock(&shared);
        while self.end == End::No {
            match self.live.try_recv() {
                Ok(msg) => self.on_live(Ok(msg)),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Lagged(n)) => self.on_live(Err(RecvError::Lagged(n))),
                Err(TryRecvError::Closed) => self.on_live(Err(RecvError::Closed)),
            }
        }
        if self.end == End::No {
            self.last_rv = self.last_rv.max(state.rv);
            let mut object = self.bookmark_head.clone();
            object["metadata"] = json!({"resourceVersion": self.last_rv.to_string()});
            let line = format!("{}\n", json!({"type": "BOOKMARK", "object": object}));
            self.pending.push_back(line);
        }
    }
}

async fn tick(interval: &mut Option<Interval>) {
    match interval {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}
