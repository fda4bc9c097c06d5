//! A minimal fake Kubernetes API server for one namespaced custom resource: list and watch over plain HTTP on
//! 127.0.0.1, with namespace paths and equality label selectors, or a 404/403 answer to everything (absent CRD,
//! forbidden RBAC). Every change bumps one resourceVersion, as etcd does; watches replay what came after theirs.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// How long one watch request is served; kube's watcher then watches again from its last resourceVersion.
const WATCH_FOR: Duration = Duration::from_secs(5);

/// How the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// Serve the resource.
    Serve,
    /// 404 for everything: the CRD is not installed.
    NotFound,
    /// 403 for everything: RBAC forbids it.
    Forbidden,
}

/// One change: the object after it (None: deleted) and before it (None: created).
struct Change {
    rv: u64,
    obj: Option<Value>,
    prev: Option<Value>,
}

impl Change {
    /// The event a watch with this filter sees, as the API server's watch cache decides it: by whether the old and
    /// the new object pass the filter.
    fn event(&self, wanted: &impl Fn(&Value) -> bool) -> Option<Value> {
        let old = self.prev.as_ref().filter(|o| wanted(o));
        let new = self.obj.as_ref().filter(|o| wanted(o));
        let (kind, obj) = match (old, new) {
            (None, Some(n)) => ("ADDED", n.clone()),
            (Some(_), Some(n)) => ("MODIFIED", n.clone()),
            (Some(o), None) => {
                let mut gone = self.obj.clone().unwrap_or_else(|| o.clone());
                gone["metadata"]["resourceVersion"] = json!(self.rv.to_string());
                ("DELETED", gone)
            }
            (None, None) => return None,
        };
        Some(json!({"type": kind, "object": obj}))
    }
}

struct State {
    rv: u64,
    objects: BTreeMap<(String, String), Value>,
    events: Vec<Change>,
    reply: Reply,
}

/// A running fake server (it stops with the test's runtime).
pub struct FakeApi {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// `/apis/GROUP/VERSION`.
    prefix: String,
    plural: String,
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
}

impl FakeApi {
    /// Serves `plural` under `/apis/{group_version}`.
    pub async fn start(group_version: &str, plural: &str, reply: Reply) -> Arc<FakeApi> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api = Arc::new(FakeApi {
            url: format!("http://{}", listener.local_addr().unwrap()),
            prefix: format!("/apis/{group_version}"),
            plural: plural.to_owned(),
            state: Arc::new(Mutex::new(State {
                rv: 1,
                objects: BTreeMap::new(),
                events: Vec::new(),
                reply,
            })),
            changed: Arc::new(Notify::new()),
        });
        let server = api.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(server.clone().serve(stream));
            }
        });
        api
    }

    /// Creates or replaces an object (its `metadata.namespace` and `metadata.name` say which).
    pub fn apply(&self, mut obj: Value) {
        let mut s = self.state.lock().unwrap();
        s.rv += 1;
        obj["metadata"]["resourceVersion"] = json!(s.rv.to_string());
        let prev = s.objects.insert(key_of(&obj), obj.clone());
        let rv = s.rv;
        s.events.push(Change {
            rv,
            obj: Some(obj),
            prev,
        });
        drop(s);
        self.changed.notify_waiters();
    }

    /// Deletes an object.
    pub fn delete(&self, namespace: &str, name: &str) {
        let mut s = self.state.lock().unwrap();
        let Some(prev) = s.objects.remove(&(namespace.to_owned(), name.to_owned())) else {
            return;
        };
        s.rv += 1;
        let rv = s.rv;
        s.events.push(Change {
            rv,
            obj: None,
            prev: Some(prev),
        });
        drop(s);
        self.changed.notify_waiters();
    }

    async fn serve(self: Arc<Self>, mut stream: TcpStream) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let head = String::from_utf8_lossy(&buf).into_owned();
        let target = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let query: HashMap<String, String> = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (decode(k), decode(v)))
            .collect();
        let reply = self.state.lock().unwrap().reply;
        let scope = self.scope(path);
        let (code, reason) = match (reply, &scope) {
            (Reply::Forbidden, _) => (403, "Forbidden"),
            (Reply::NotFound, _) | (_, None) => (404, "NotFound"),
            (Reply::Serve, Some(_)) => (200, ""),
        };
        if code != 200 {
            let body = json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": format!("{reason} (fake)"), "reason": reason, "details": {}, "code": code,
            });
            respond(&mut stream, code, &body.to_string()).await;
            return;
        }
        let namespace = scope.flatten();
        let selector = query.get("labelSelector").cloned().unwrap_or_default();
        let wanted = |obj: &Value| {
            namespace
                .as_deref()
                .is_none_or(|ns| obj["metadata"]["namespace"] == ns)
                && selects(&selector, &obj["metadata"]["labels"])
        };
        if query.get("watch").is_some_and(|w| w == "true" || w == "1") {
            let from = query
                .get("resourceVersion")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            self.watch(stream, from, wanted).await;
        } else {
            let body = {
                let s = self.state.lock().unwrap();
                let items: Vec<&Value> = s.objects.values().filter(|o| wanted(o)).collect();
                json!({
                    "kind": "List", "apiVersion": "v1",
                    "metadata": {"resourceVersion": s.rv.to_string()}, "items": items,
                })
            };
            respond(&mut stream, 200, &body.to_string()).await;
        }
    }

    /// The namespace a path names (Some(None): all namespaces), or None for another resource.
    fn scope(&self, path: &str) -> Option<Option<String>> {
        let rest = path.strip_prefix(&self.prefix)?;
        if rest == format!("/{}", self.plural) {
            return Some(None);
        }
        let rest = rest.strip_prefix("/namespaces/")?;
        let (ns, plural) = rest.split_once('/')?;
        (plural == self.plural).then(|| Some(ns.to_owned()))
    }

    /// Streams events after `from` (from 0: the current objects first) until [`WATCH_FOR`] has passed.
    async fn watch(&self, mut stream: TcpStream, mut from: u64, wanted: impl Fn(&Value) -> bool) {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
        if stream.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let mut lines = String::new();
        if from == 0 {
            let s = self.state.lock().unwrap();
            for obj in s.objects.values().filter(|o| wanted(o)) {
                lines.push_str(&json!({"type": "ADDED", "object": obj}).to_string());
                lines.push('\n');
            }
            from = s.rv;
        }
        let deadline = tokio::time::Instant::now() + WATCH_FOR;
        loop {
            // Registered before the state is read, so a change made in between still wakes this watch.
            let changed = self.changed.notified();
            {
                let s = self.state.lock().unwrap();
                let after = from;
                for change in s.events.iter().filter(|c| c.rv > after) {
                    if let Some(event) = change.event(&wanted) {
                        lines.push_str(&event.to_string());
                        lines.push('\n');
                    }
                    from = change.rv;
                }
            }
            if !lines.is_empty() && stream.write_all(lines.as_bytes()).await.is_err() {
                return;
            }
            lines.clear();
            tokio::select! {
                () = changed => {}
                () = tokio::time::sleep_until(deadline) => break,
            }
        }
        let _ = stream.shutdown().await;
    }
}

fn key_of(obj: &Value) -> (String, String) {
    let m = &obj["metadata"];
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    (s(&m["namespace"]), s(&m["name"]))
}

async fn respond(stream: &mut TcpStream, code: u16, body: &str) {
    let head = format!(
        "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Equality (`k=v`, `k==v`, `k!=v`) and existence (`k`, `!k`) terms, comma-separated.
fn selects(selector: &str, labels: &Value) -> bool {
    let get = |k: &str| labels.get(k).and_then(Value::as_str);
    selector
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .all(|term| {
            if let Some((k, v)) = term.split_once("!=") {
                get(k.trim()) != Some(v.trim())
            } else if let Some((k, v)) = term.split_once('=') {
                get(k.trim()) == Some(v.trim_start_matches('=').trim())
            } else if let Some(k) = term.strip_prefix('!') {
                get(k).is_none()
            } else {
                get(term).is_some()
            }
        })
}

/// Percent-decoding of one query component.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => out.push(b),
                    Err(_) => out.extend_from_slice(&bytes[i..i + 3]),
                }
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
