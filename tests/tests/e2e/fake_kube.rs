//! The fake Kubernetes API server (`lookout_e2e::fake_kube`) against kube's own client, watcher and reflector, and
//! its wire format checked by hand.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Endpoints, Namespace, Node, Pod, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Api;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use lookout_e2e::fake_kube::FakeKube;
use lookout_e2e::fake_kube::objects::{self, Backend};
use lookout_e2e::wait_for;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

fn web_pod(name: &str, node: &str, labels: &[(&str, &str)]) -> Value {
    objects::pod(
        "default",
        name,
        "10.244.0.10",
        node,
        labels,
        &[("app", &[("http", 8080)])],
    )
}

/// A reflector over all pods, driven by a background task (aborted when the handle drops).
struct Reflected {
    store: Store<Pod>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Reflected {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn reflect_pods(kube: &FakeKube, config: watcher::Config) -> Reflected {
    let api: Api<Pod> = Api::all(kube.client());
    let (store, writer) = reflector::store();
    let stream = reflector::reflector(writer, watcher(api, config).default_backoff());
    let task = tokio::spawn(stream.for_each(|_| std::future::ready(())));
    Reflected { store, task }
}

fn names(store: &Store<Pod>) -> BTreeSet<String> {
    store
        .state()
        .iter()
        .filter_map(|p| p.metadata.name.clone())
        .collect()
}

async fn wait_names(store: &Store<Pod>, want: &[&str]) {
    let want: BTreeSet<String> = want.iter().map(|s| (*s).to_owned()).collect();
    let what = format!("the store to hold {want:?}");
    wait_for(&what, WAIT, || async {
        (names(store) == want).then_some(())
    })
    .await;
}

fn api_code(err: &kube::Error) -> u16 {
    match err {
        kube::Error::Api(status) => status.code,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflector_follows_changes_relists_after_410_and_resumes_after_restart() {
    let kube = FakeKube::start().await;
    for name in ["a", "b", "c"] {
        kube.apply("pods", web_pod(name, "node-1", &[("app", "web")]));
    }
    let pods = reflect_pods(&kube, watcher::Config::default().page_size(2));
    wait_names(&pods.store, &["a", "b", "c"]).await;
    assert_eq!(
        kube.list_requests("pods"),
        2,
        "two pages of two: {:?}",
        kube.requests()
    );
    let lists: Vec<String> = kube
        .requests()
        .into_iter()
        .map(|(_, path)| path)
        .filter(|p| p.starts_with("/api/v1/pods?") && !p.contains("watch="))
        .collect();
    assert!(
        lists[0].contains("limit=2") && !lists[0].contains("continue="),
        "{lists:?}"
    );
    assert!(lists[1].contains("continue="), "{lists:?}");

    // Updates and deletes arrive over the watch.
    kube.apply(
        "pods",
        web_pod("a", "node-1", &[("app", "web"), ("version", "2")]),
    );
    wait_for("the update", WAIT, || async {
        let pods = pods.store.state();
        let a = pods
            .iter()
            .find(|p| p.metadata.name.as_deref() == Some("a"))?;
        (a.metadata.labels.as_ref()?.get("version")? == "2").then_some(())
    })
    .await;
    kube.delete("pods", "default", "b").expect("b existed");
    kube.apply("pods", web_pod("d", "node-1", &[]));
    wait_names(&pods.store, &["a", "c", "d"]).await;
    assert_eq!(
        kube.list_requests("pods"),
        2,
        "no relist while the watch lives"
    );
    assert_eq!(kube.watch_requests("pods"), 1);
    assert_eq!(kube.open_watches("pods"), 1);

    // 410 Gone: the watcher relists, and its store matches the server afterwards.
    let lists_before = kube.list_requests("pods");
    kube.expire_history();
    kube.delete("pods", "default", "a").expect("a existed");
    kube.apply("pods", web_pod("e", "node-1", &[]));
    wait_for("a relist", WAIT, || async {
        (kube.list_requests("pods") >= lists_before + 2).then_some(())
    })
    .await;
    wait_names(&pods.store, &["c", "d", "e"]).await;

    // An API-server restart: the watcher resumes from its resourceVersion without relisting.
    let (lists_before, watches_before) = (kube.list_requests("pods"), kube.watch_requests("pods"));
    kube.disconnect_watches();
    kube.apply("pods", web_pod("f", "node-1", &[]));
    wait_names(&pods.store, &["c", "d", "e", "f"]).await;
    wait_for("a new watch", WAIT, || async {
        (kube.watch_requests("pods") > watches_before).then_some(())
    })
    .await;
    assert_eq!(
        kube.list_requests("pods"),
        lists_before,
        "resumed, not relisted: {:?}",
        kube.requests()
    );
    let last_watch = kube
        .requests()
        .into_iter()
        .rev()
        .find(|(_, p)| p.contains("watch=true"));
    let (_, last_watch) = last_watch.expect("a watch request");
    assert!(
        last_watch.contains("allowWatchBookmarks=true") && last_watch.contains("resourceVersion="),
        "{last_watch}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selectors_filter_lists_and_watches() {
    let kube = FakeKube::start().await;
    kube.apply(
        "pods",
        web_pod("a", "node-1", &[("app", "web"), ("tier", "front")]),
    );
    kube.apply(
        "pods",
        web_pod("b", "node-1", &[("app", "web"), ("tier", "back")]),
    );
    kube.apply("pods", web_pod("c", "node-1", &[("app", "db")]));
    kube.apply("pods", web_pod("d", "node-2", &[]));
    let other = objects::pod("other", "o", "10.244.1.1", "node-2", &[("app", "web")], &[]);
    kube.apply("pods", other);
    let client = kube.client();
    let default_pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let list = async |lp: ListParams| -> BTreeSet<String> {
        let list = default_pods.list(&lp).await.expect("list");
        list.items
            .into_iter()
            .filter_map(|p| p.metadata.name)
            .collect()
    };
    let cases: &[(&str, &str, &[&str])] = &[
        ("app=web", "", &["a", "b"]),
        ("app==web", "", &["a", "b"]),
        ("app!=web", "", &["c", "d"]),
        ("tier", "", &["a", "b"]),
        ("!tier", "", &["c", "d"]),
        ("tier in (front, x)", "", &["a"]),
        ("tier notin (front)", "", &["b", "c", "d"]),
        ("app=web,tier notin (front,x)", "", &["b"]),
        ("", "spec.nodeName=node-2", &["d"]),
        ("", "metadata.name=a", &["a"]),
        ("", "metadata.name!=a,spec.nodeName=node-1", &["b", "c"]),
        ("app", "metadata.namespace=default", &["a", "b", "c"]),
    ];
    for (labels, fields, want) in cases {
        let mut lp = ListParams::default();
        if !labels.is_empty() {
            lp = lp.labels(labels);
        }
        if !fields.is_empty() {
            lp = lp.fields(fields);
        }
        let want: BTreeSet<String> = want.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(list(lp).await, want, "labels {labels:?} fields {fields:?}");
    }
    let all: Api<Pod> = Api::all(client.clone());
    assert_eq!(
        all.list(&ListParams::default())
            .await
            .expect("list")
            .items
            .len(),
        5
    );
    let err = all
        .list(&ListParams::default().fields("spec.schedulerName=x"))
        .await
        .expect_err("unsupported field");
    assert_eq!(api_code(&err), 400, "{err:?}");
    let err = all
        .list(&ListParams::default().labels("a in b"))
        .await
        .expect_err("bad selector");
    assert_eq!(api_code(&err), 400, "{err:?}");

    // A watch sees objects enter and leave its selector as ADDED and DELETED.
    let web = reflect_pods(&kube, watcher::Config::default().labels("app=web"));
    wait_names(&web.store, &["a", "b", "o"]).await;
    kube.apply("pods", web_pod("e", "node-1", &[("app", "web")]));
    kube.apply("pods", web_pod("f", "node-1", &[("app", "db")]));
    kube.apply("pods", web_pod("a", "node-1", &[("app", "db")]));
    kube.apply("pods", web_pod("c", "node-1", &[("app", "web")]));
    wait_names(&web.store, &["b", "c", "e", "o"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_and_forbidden_resources_answer_with_a_status() {
    let kube = FakeKube::start().await;
    let client = kube.client();
    let gvk = GroupVersionKind::gvk("monitoring.coreos.com", "v1", "ServiceMonitor");
    let ar = ApiResource::from_gvk_with_plural(&gvk, "servicemonitors");
    let monitors: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    assert!(
        monitors
            .list(&ListParams::default())
            .await
            .expect("served")
            .items
            .is_empty()
    );

    kube.set_missing("servicemonitors");
    let err = monitors
        .list(&ListParams::default())
        .await
        .expect_err("missing CRD");
    assert_eq!(api_code(&err), 404, "{err:?}");
    // The ListWatch watcher announces `Init` before it even tries to list, then reports the failed list.
    let mut stream = watcher(monitors.clone(), watcher::Config::default()).boxed();
    let first = tokio::time::timeout(WAIT, stream.next())
        .await
        .expect("an event");
    assert!(matches!(first, Some(Ok(watcher::Event::Init))), "{first:?}");
    let second = tokio::time::timeout(WAIT, stream.next())
        .await
        .expect("an event");
    match second {
        Some(Err(watcher::Error::InitialListFailed(err))) => {
            assert_eq!(api_code(&err), 404, "{err:?}")
        }
        other => panic!("expected InitialListFailed(404), got {other:?}"),
    }

    kube.set_forbidden("deployments");
    let deployments: Api<Deployment> = Api::all(client.clone());
    let err = deployments
        .list(&ListParams::default())
        .await
        .expect_err("forbidden");
    match &err {
        kube::Error::Api(status) => {
            assert_eq!(
                (status.code, status.reason.as_str()),
                (403, "Forbidden"),
                "{status:?}"
            );
            assert!(status.is_forbidden());
        }
        other => panic!("expected 403, got {other:?}"),
    }

    kube.set_served("servicemonitors");
    let spec =
        json!({"selector": {"matchLabels": {"app": "web"}}, "endpoints": [{"port": "http"}]});
    kube.apply(
        "servicemonitors",
        objects::service_monitor("default", "web", spec),
    );
    let list = monitors
        .list(&ListParams::default())
        .await
        .expect("served again");
    assert_eq!(list.items.len(), 1);
    assert_eq!(
        list.items[0].types.as_ref().map(|t| t.kind.as_str()),
        Some("ServiceMonitor")
    );
    assert_eq!(list.items[0].data["spec"]["endpoints"][0]["port"], "http");

    let (code, body) =
        lookout_e2e::get_json(&format!("{}/apis/example.com/v1/widgets", kube.url())).await;
    assert_eq!(
        (code, body["kind"].as_str()),
        (404, Some("Status")),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_secret_get() {
    let kube = FakeKube::start().await;
    let data = [("username", "lookout"), ("password", "s3cr3t!")];
    kube.apply(
        "secrets",
        objects::secret("monitoring", "basic-auth", &data),
    );
    let secrets: Api<Secret> = Api::namespaced(kube.client(), "monitoring");
    let secret = secrets.get("basic-auth").await.expect("the secret");
    let data = secret.data.expect("data");
    assert_eq!(data["password"].0, b"s3cr3t!");
    assert_eq!(data["username"].0, b"lookout");
    let err = secrets.get("nope").await.expect_err("no such secret");
    assert_eq!(api_code(&err), 404, "{err:?}");
    assert!(secrets.get_opt("nope").await.expect("get_opt").is_none());
    let elsewhere: Api<Secret> = Api::namespaced(kube.client(), "default");
    assert!(
        elsewhere
            .get_opt("basic-auth")
            .await
            .expect("get_opt")
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helper_objects_round_trip_through_kube() {
    let kube = FakeKube::start().await;
    let client = kube.client();
    let ports = [("http", 8080)];
    let backends = [
        Backend::ready("10.244.0.10", "web-1", "node-1"),
        Backend::not_ready("10.244.0.11", "web-2", "node-1"),
    ];
    kube.apply(
        "pods",
        objects::pod(
            "default",
            "web-1",
            "10.244.0.10",
            "node-1",
            &[("app", "web")],
            &[("app", &ports)],
        ),
    );
    kube.apply(
        "pods",
        objects::pod("default", "pending", "", "", &[], &[("app", &[])]),
    );
    kube.apply("nodes", objects::node("node-1", "192.168.0.10", true));
    kube.apply(
        "services",
        objects::service(
            "default",
            "web",
            &[("app", "web")],
            &[("app", "web")],
            &ports,
        ),
    );
    kube.apply(
        "endpoints",
        objects::endpoints("default", "web", &backends, &ports),
    );
    kube.apply(
        "endpointslices",
        objects::endpoint_slice("default", "web", &backends, &ports),
    );
    kube.apply("deployments", objects::deployment("default", "web", 3, 2));
    kube.apply(
        "namespaces",
        objects::namespace("default", &[("team", "a")]),
    );
    kube.apply(
        "podmonitors",
        objects::pod_monitor("default", "web", json!({"podMetricsEndpoints": []})),
    );

    let lp = ListParams::default();
    let pods = Api::<Pod>::all(client.clone())
        .list(&lp)
        .await
        .expect("pods")
        .items;
    let running = pods
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some("web-1"))
        .expect("web-1");
    let status = running.status.as_ref().expect("status");
    assert_eq!(
        (status.phase.as_deref(), status.pod_ip.as_deref()),
        (Some("Running"), Some("10.244.0.10"))
    );
    assert!(running.metadata.uid.is_some() && running.metadata.creation_timestamp.is_some());
    let nodes = Api::<Node>::all(client.clone())
        .list(&lp)
        .await
        .expect("nodes")
        .items;
    assert_eq!(
        nodes[0]
            .status
            .as_ref()
            .and_then(|s| s.addresses.as_ref())
            .map(Vec::len),
        Some(2)
    );
    let services = Api::<Service>::all(client.clone())
        .list(&lp)
        .await
        .expect("services")
        .items;
    assert!(
        services[0]
            .spec
            .as_ref()
            .and_then(|s| s.cluster_ip.as_ref())
            .is_some()
    );
    let endpoints = Api::<Endpoints>::all(client.clone())
        .list(&lp)
        .await
        .expect("endpoints")
        .items;
    let subset = &endpoints[0].subsets.as_ref().expect("subsets")[0];
    assert_eq!(subset.not_ready_addresses.as_ref().map(Vec::len), Some(1));
    let slices = Api::<EndpointSlice>::all(client.clone())
        .list(&lp)
        .await
        .expect("slices")
        .items;
    assert_eq!(slices[0].endpoints.len(), 2);
    let deployments = Api::<Deployment>::all(client.clone())
        .list(&lp)
        .await
        .expect("deployments")
        .items;
    assert_eq!(
        deployments[0]
            .status
            .as_ref()
            .and_then(|s| s.available_replicas),
        Some(2)
    );
    let namespaces = Api::<Namespace>::all(client.clone())
        .list(&lp)
        .await
        .expect("namespaces")
        .items;
    assert_eq!(
        namespaces[0]
            .metadata
            .labels
            .as_ref()
            .map(|l| l["team"].as_str()),
        Some("a")
    );
    assert_eq!(
        kube.get("namespaces", "", "default").expect("stored")["kind"],
        "Namespace"
    );
    let version = client.apiserver_version().await.expect("version");
    assert_eq!(version.major, "1");
}

/// Reads a raw watch response to its end as JSON lines.
async fn watch_lines(url: &str) -> (Vec<Value>, Duration) {
    let started = Instant::now();
    let resp = reqwest::get(url).await.expect("watch request");
    assert_eq!(resp.status(), 200);
    let text = tokio::time::timeout(WAIT * 2, resp.text())
        .await
        .expect("stream ends")
        .expect("body");
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    (lines, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_wire_format_paging_bookmarks_and_gone() {
    let kube = FakeKube::start().await;
    let u = kube.url();
    for name in ["a", "b", "c"] {
        kube.apply("pods", web_pod(name, "node-1", &[]));
    }

    // Paging: the continue token leads through all items; every page has the first page's resourceVersion.
    let (code, page1) = lookout_e2e::get_json(&format!("{u}/api/v1/pods?limit=2")).await;
    assert_eq!(code, 200, "{page1}");
    assert_eq!(
        (
            page1["kind"].as_str(),
            page1["items"].as_array().map(Vec::len)
        ),
        (Some("PodList"), Some(2))
    );
    assert_eq!(page1["items"][0]["kind"], "Pod");
    assert_eq!(page1["metadata"]["remainingItemCount"], 1);
    kube.apply("pods", web_pod("d", "node-1", &[]));
    let token = lookout_e2e::enc(page1["metadata"]["continue"].as_str().expect("continue"));
    let (_, page2) =
        lookout_e2e::get_json(&format!("{u}/api/v1/pods?limit=2&continue={token}")).await;
    assert_eq!(page2["items"].as_array().map(Vec::len), Some(2), "{page2}");
    assert_eq!(
        page2["metadata"]["resourceVersion"],
        page1["metadata"]["resourceVersion"]
    );
    assert!(page2["metadata"].get("continue").is_none(), "{page2}");

    // Watch from a resourceVersion: history replay, bookmarks, the end after timeoutSeconds.
    let rv = page1["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_owned();
    let url = format!(
        "{u}/api/v1/pods?watch=true&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=3"
    );
    let (lines, took) = watch_lines(&url).await;
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(15),
        "{took:?}"
    );
    assert_eq!(
        (
            lines[0]["type"].as_str(),
            lines[0]["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("d"))
    );
    let bookmark = lines
        .iter()
        .find(|l| l["type"] == "BOOKMARK")
        .expect("a bookmark");
    assert_eq!(bookmark["object"]["kind"], "Pod");
    assert_eq!(
        bookmark["object"]["metadata"]["resourceVersion"],
        kube.resource_version()
    );

    // Without a resourceVersion: the current objects as ADDED; no bookmarks unless asked.
    let (lines, _) = watch_lines(&format!(
        "{u}/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=1"
    ))
    .await;
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(lines.iter().all(|l| l["type"] == "ADDED"), "{lines:?}");

    // An open watch gets 410 and is closed when history expires; a new one from an old version gets 410 at once.
    let open = reqwest::get(format!(
        "{u}/api/v1/pods?watch=true&resourceVersion={rv}&timeoutSeconds=30"
    ))
    .await;
    let open = open.expect("watch");
    kube.expire_history();
    let text = tokio::time::timeout(WAIT, open.text())
        .await
        .expect("closed")
        .expect("body");
    let last: Value = serde_json::from_str(text.lines().last().expect("a line")).expect("JSON");
    assert_eq!(
        (last["type"].as_str(), last["object"]["code"].as_u64()),
        (Some("ERROR"), Some(410)),
        "{text}"
    );
    let (lines, took) =
        watch_lines(&format!("{u}/api/v1/pods?watch=true&resourceVersion={rv}")).await;
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["object"]["reason"], "Expired");
}

/// On a current-thread runtime nothing reads the watch while 5000 changes are applied: the watch lags behind its
/// bounded buffer and gets `410 Gone` instead of unbounded memory.
#[tokio::test]
async fn a_lagging_watch_gets_410() {
    let kube = FakeKube::start().await;
    let resp = reqwest::get(format!("{}/api/v1/configmaps?watch=true", kube.url()))
        .await
        .expect("watch");
    for i in 0..5000 {
        kube.apply(
            "configmaps",
            json!({"metadata": {"name": format!("cm-{i}")}, "data": {"i": i.to_string()}}),
        );
    }
    let text = tokio::time::timeout(WAIT, resp.text())
        .await
        .expect("closed")
        .expect("body");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(lines.len(), 1, "only the error: {} lines", lines.len());
    assert_eq!(lines[0]["object"]["code"], 410);
}
