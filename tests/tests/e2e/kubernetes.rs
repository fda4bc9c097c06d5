//! Kubernetes discovery, Operator monitors and kube-state metrics against the fake API server: add, update and
//! delete propagate; a relist (410 Gone) or an API-server restart does not flap targets; ten users of pods share one
//! watch; the appliance scrapes what it discovers and stops (with staleness) when a pod goes away.

use std::sync::Arc;
use std::time::Duration;

use lookout_discovery::{KubernetesDiscovery, KubernetesSdConfig, KubernetesTargets};
use lookout_e2e::fake_kube::FakeKube;
use lookout_e2e::fake_kube::objects::{self, Backend};
use lookout_e2e::{Lookout, get_json, instant_query, scrape_pools, serve_fixed, wait_for};
use lookout_model::TargetGroup;
use parking_lot::Mutex;
use serde_json::json;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(30);

/// Every message a discovery sent, in order.
type Sent = Arc<Mutex<Vec<Vec<TargetGroup>>>>;

fn discover(
    fake: &FakeKube,
    d: &KubernetesDiscovery,
    yaml: &str,
) -> (Sent, tokio::task::JoinHandle<()>) {
    let mut cfg: KubernetesSdConfig = serde_yaml_ng::from_str(yaml).unwrap();
    cfg.api_server = Some(fake.url());
    let (tx, mut rx) = mpsc::channel(16);
    let run = d.run(cfg, tx);
    let sent: Sent = Arc::default();
    let s = sent.clone();
    let task = tokio::spawn(async move {
        let collect = async move {
            while let Some(groups) = rx.recv().await {
                s.lock().push(groups);
            }
        };
        tokio::join!(run, collect);
    });
    (sent, task)
}

fn sources(groups: &[TargetGroup]) -> Vec<String> {
    groups.iter().map(|g| g.source.clone()).collect()
}

async fn until_last(sent: &Sent, what: &str, f: impl Fn(&[TargetGroup]) -> bool) {
    wait_for(what, WAIT, || async {
        sent.lock().last().is_some_and(|g| f(g)).then_some(())
    })
    .await;
}

fn pod(name: &str, labels: &[(&str, &str)]) -> serde_json::Value {
    objects::pod(
        "default",
        name,
        "127.0.0.1",
        "n1",
        labels,
        &[("app", &[("metrics", 9)])],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pod_discovery_follows_the_cluster_without_flapping() {
    let fake = FakeKube::start().await;
    fake.apply("pods", pod("a", &[("app", "x")]));
    let d = KubernetesDiscovery::new();
    let (sent, task) = discover(&fake, &d, "role: pod\n");
    until_last(&sent, "pod a", |g| sources(g) == ["pod/default/a"]).await;
    assert_eq!(
        sent.lock()[0].len(),
        1,
        "the first message is the complete list, not a partial one"
    );

    fake.apply("pods", pod("b", &[]));
    until_last(&sent, "pod b", |g| {
        sources(g) == ["pod/default/a", "pod/default/b"]
    })
    .await;
    fake.apply("pods", pod("a", &[("app", "y")]));
    until_last(&sent, "a's new label", |g| {
        g[0].labels.get("__meta_kubernetes_pod_label_app") == Some("y")
    })
    .await;
    fake.delete("pods", "default", "b");
    until_last(&sent, "b deleted", |g| sources(g) == ["pod/default/a"]).await;

    // A relist after 410 Gone, then an API-server restart: targets never go missing in between.
    let before = sent.lock().len();
    let lists = fake.list_requests("pods");
    fake.expire_history();
    wait_for("a relist", WAIT, || async {
        (fake.list_requests("pods") > lists).then_some(())
    })
    .await;
    let watches = fake.watch_requests("pods");
    fake.disconnect_watches();
    wait_for("a new watch", WAIT, || async {
        (fake.watch_requests("pods") > watches).then_some(())
    })
    .await;
    fake.apply("pods", pod("c", &[]));
    until_last(&sent, "pod c after reconnects", |g| {
        sources(g) == ["pod/default/a", "pod/default/c"]
    })
    .await;
    for msg in &sent.lock()[before..] {
        assert!(
            sources(msg).contains(&"pod/default/a".to_string()),
            "flapped: {:?}",
            sources(msg)
        );
    }
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_users_of_pods_share_one_watch() {
    let fake = FakeKube::start().await;
    fake.apply("pods", pod("a", &[]));
    let d = KubernetesDiscovery::new();
    let mut runs = Vec::new();
    for _ in 0..10 {
        runs.push(discover(&fake, &d, "role: pod\n"));
    }
    for (sent, _) in &runs {
        until_last(sent, "pod a", |g| sources(g) == ["pod/default/a"]).await;
    }
    assert_eq!(
        fake.list_requests("pods"),
        1,
        "one list for ten discoveries"
    );
    // The fake ends watches after 30 s and kube re-watches: count the watches open now.
    assert_eq!(
        fake.open_watches("pods"),
        1,
        "one watch for ten discoveries"
    );
    // A different selector is a different watch.
    let (other, _t) = discover(
        &fake,
        &d,
        "role: pod\nselectors: [{role: pod, label: app=none}]\n",
    );
    until_last(&other, "empty selection", |g| g.is_empty()).await;
    assert_eq!(fake.list_requests("pods"), 2);
    runs.into_iter().for_each(|(_, t)| t.abort());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appliance_scrapes_discovered_targets_monitors_and_kube_state() {
    let exporter = serve_fixed("demo_metric 1\n").await;
    let port = exporter.port();
    let fake = FakeKube::start().await;
    fake.apply("nodes", objects::node("n1", "127.0.0.1", true));
    fake.apply("namespaces", objects::namespace("default", &[]));
    let demo = objects::with_annotations(
        objects::pod(
            "default",
            "demo",
            "127.0.0.1",
            "n1",
            &[("app", "demo")],
            &[("app", &[("metrics", port)])],
        ),
        &[
            ("prometheus.io/scrape", "true"),
            ("prometheus.io/port", &port.to_string()),
        ],
    );
    fake.apply("pods", demo);
    fake.apply(
        "services",
        objects::service(
            "default",
            "demo",
            &[("app", "demo")],
            &[("app", "demo")],
            &[("metrics", port)],
        ),
    );
    fake.apply(
        "endpoints",
        objects::endpoints(
            "default",
            "demo",
            &[Backend::ready("127.0.0.1", "demo", "n1")],
            &[("metrics", port)],
        ),
    );

    let config = format!(
        "global: {{scrape_interval: 1s, scrape_timeout: 1s}}\nkubernetes: {{enabled: true, api_server: \"{}\"}}\n",
        fake.url()
    );
    let lo = Lookout::start(Some(&config)).await;
    let url = lo.url.clone();
    wait_for("the annotated pod scraped", WAIT, || async {
        let r = instant_query(&url, r#"up{job="kubernetes-pods",pod="demo"} == 1"#).await;
        (!r.is_empty()).then_some(())
    })
    .await;
    wait_for("kube-state metrics scraped", WAIT, || async {
        let r = instant_query(
            &url,
            r#"kube_pod_info{job="kube-state-metrics",pod="demo",node="n1"}"#,
        )
        .await;
        (!r.is_empty()).then_some(())
    })
    .await;
    let (code, _) = get_json(&format!("{url}/exporters/kube-state-metrics/metrics")).await;
    assert_eq!(code, 200);

    // A ServiceMonitor becomes a job without a restart, labeled as the Operator does.
    fake.apply(
        "servicemonitors",
        objects::service_monitor("default", "demo", json!({"selector": {"matchLabels": {"app": "demo"}}, "endpoints": [{"port": "metrics"}]})),
    );
    wait_for("the monitor's target scraped", WAIT, || async {
        let r = instant_query(&url, r#"up{job="demo",endpoint="metrics",service="demo",pod="demo",namespace="default"} == 1"#).await;
        (!r.is_empty()).then_some(())
    })
    .await;
    assert!(
        scrape_pools(&url)
            .await
            .contains(&"serviceMonitor/default/demo/0".to_string())
    );
    let (_, metrics) = get_json(&format!("{url}/metrics")).await;
    let metrics = metrics.as_str().unwrap_or_default().to_string();
    assert!(
        metrics.contains(r#"lookout_kubernetes_monitors_available{state="watching"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"lookout_kubernetes_monitors{state="honoured"} 1"#),
        "{metrics}"
    );

    // A PrometheusRule loads like a rule file named as the Operator names it, and goes when deleted.
    fake.apply(
        "prometheusrules",
        objects::prometheus_rule(
            "default",
            "demo-rules",
            json!({"groups": [{"name": "demo.rules", "interval": "1s", "rules": [
                {"record": "demo:metric:sum", "expr": "sum(demo_metric)"},
                {"alert": "DemoUp", "expr": "demo_metric > 0", "labels": {"severity": "info"}}
            ]}]}),
        ),
    );
    let rule_groups = |url: String| async move {
        let (_, j) = get_json(&format!("{url}/api/v1/rules")).await;
        j["data"]["groups"].as_array().cloned().unwrap_or_default()
    };
    let groups = wait_for("the PrometheusRule's group loaded", WAIT, || async {
        let g = rule_groups(url.clone()).await;
        (!g.is_empty()).then_some(g)
    })
    .await;
    assert_eq!(groups[0]["name"], "demo.rules");
    let file = groups[0]["file"].as_str().unwrap();
    assert!(
        file.starts_with("default-demo-rules-") && file.ends_with(".yaml"),
        "{file}"
    );
    wait_for(
        "the PrometheusRule's recording rule evaluated",
        WAIT,
        || async {
            let r = instant_query(&url, "demo:metric:sum").await;
            (!r.is_empty()).then_some(())
        },
    )
    .await;
    fake.delete("prometheusrules", "default", "demo-rules");
    wait_for("the PrometheusRule's group removed", WAIT, || async {
        rule_groups(url.clone()).await.is_empty().then_some(())
    })
    .await;

    // Deleting the monitor removes its job; deleting the pod stops its target and marks its series stale.
    fake.delete("servicemonitors", "default", "demo");
    wait_for("the monitor's job removed", WAIT, || async {
        (!scrape_pools(&url)
            .await
            .iter()
            .any(|p| p.starts_with("serviceMonitor/")))
        .then_some(())
    })
    .await;
    fake.delete("pods", "default", "demo");
    wait_for("the pod's series stale", WAIT, || async {
        instant_query(&url, r#"demo_metric{job="kubernetes-pods"}"#)
            .await
            .is_empty()
            .then_some(())
    })
    .await;
    lo.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absent_monitor_crds_are_a_condition_not_a_retry_storm() {
    let fake = FakeKube::start().await;
    fake.set_missing("servicemonitors");
    fake.set_missing("podmonitors");
    let config = format!(
        "global: {{scrape_interval: 1s, scrape_timeout: 1s}}\nkubernetes: {{enabled: true, api_server: \"{}\", default_scrape_jobs: false}}\n",
        fake.url()
    );
    let lo = Lookout::start(Some(&config)).await;
    let url = lo.url.clone();
    wait_for("the condition reported", WAIT, || async {
        let (_, m) = get_json(&format!("{url}/metrics")).await;
        m.as_str()
            .is_some_and(|m| {
                m.contains(r#"lookout_kubernetes_monitors_available{state="crds_absent"} 1"#)
            })
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        fake.list_requests("servicemonitors"),
        1,
        "checked once, again only after minutes"
    );
    let (code, _) = get_json(&format!("{url}/-/ready")).await;
    assert_eq!(code, 200);
    lo.server.stop().await.unwrap();
}

/// Serves `auth_metric 1` only to requests carrying `Authorization: Basic base64(scraper:s3cret)`.
async fn serve_with_basic_auth() -> std::net::SocketAddr {
    use axum::http::{HeaderMap, StatusCode};
    let expected = format!("Basic {}", objects::base64(b"scraper:s3cret"));
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move |headers: HeaderMap| {
            let ok = headers
                .get("authorization")
                .is_some_and(|v| v.as_bytes() == expected.as_bytes());
            async move {
                if ok {
                    (StatusCode::OK, "auth_metric 1\n")
                } else {
                    (StatusCode::UNAUTHORIZED, "")
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitors_use_secret_credentials_and_follow_the_selector() {
    let exporter = serve_with_basic_auth().await;
    let port = exporter.port();
    let fake = FakeKube::start().await;
    fake.apply(
        "pods",
        objects::pod(
            "apps",
            "db",
            "127.0.0.1",
            "",
            &[("app", "db")],
            &[("db", &[("metrics", port)])],
        ),
    );
    fake.apply(
        "secrets",
        objects::secret(
            "apps",
            "db-auth",
            &[("user", "scraper"), ("password", "s3cret")],
        ),
    );
    let spec = |release: &str| {
        objects::with_labels(
            objects::pod_monitor(
                "apps",
                &format!("db-{release}"),
                json!({"selector": {"matchLabels": {"app": "db"}}, "podMetricsEndpoints": [{"port": "metrics",
                    "basicAuth": {"username": {"name": "db-auth", "key": "user"}, "password": {"name": "db-auth", "key": "password"}}}]}),
            ),
            &[("release", release)],
        )
    };
    fake.apply("podmonitors", spec("lookout"));
    fake.apply("podmonitors", spec("other"));
    let config = format!(
        "global: {{scrape_interval: 1s, scrape_timeout: 1s}}\nkubernetes: {{enabled: true, api_server: \"{}\", default_scrape_jobs: false, monitors: {{selector: release=lookout}}}}\n",
        fake.url()
    );
    let lo = Lookout::start(Some(&config)).await;
    let url = lo.url.clone();
    wait_for("the monitor's target scraped with the Secret's credentials", WAIT, || async {
        let r = instant_query(&url, r#"auth_metric{job="apps/db-lookout",namespace="apps",pod="db",endpoint="metrics"}"#).await;
        (!r.is_empty()).then_some(())
    })
    .await;
    let pools = scrape_pools(&url).await;
    assert!(
        pools.contains(&"podMonitor/apps/db-lookout/0".to_string()),
        "{pools:?}"
    );
    assert!(
        !pools.iter().any(|p| p.contains("db-other")),
        "the selector excludes release=other: {pools:?}"
    );
    lo.server.stop().await.unwrap();
}

/// Alertmanagers found by `kubernetes_sd_configs` (a pod's port kept by relabeling) receive the alerts, and
/// `/api/v1/alertmanagers` lists them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanagers_are_discovered_from_kubernetes() {
    let received = Arc::new(Mutex::new(Vec::<serde_json::Value>::new()));
    let r = received.clone();
    let app = axum::Router::new().route(
        "/api/v2/alerts",
        axum::routing::post(move |body: String| {
            r.lock()
                .push(serde_json::from_str(&body).unwrap_or_default());
            async { "" }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let fake = FakeKube::start().await;
    fake.apply("nodes", objects::node("n1", "127.0.0.1", true));
    fake.apply(
        "pods",
        objects::pod(
            "monitoring",
            "alertmanager-0",
            "127.0.0.1",
            "n1",
            &[("app", "alertmanager")],
            &[("alertmanager", &[("web", port), ("cluster", 1)])],
        ),
    );
    let config = format!(
        r#"
global: {{evaluation_interval: 1s}}
rule_files: [always.rules.yml]
# Alerts sent before discovery found the Alertmanager are dropped, as in Prometheus; the next resend reaches it.
rules: {{resend_delay: 1s}}
alerting:
  alertmanagers:
    - kubernetes_sd_configs: [{{role: pod, api_server: "{}"}}]
      relabel_configs:
        - {{source_labels: [__meta_kubernetes_pod_container_port_name], regex: web, action: keep}}
"#,
        fake.url()
    );
    let rules =
        "groups:\n  - name: a\n    rules:\n      - alert: Always\n        expr: vector(1)\n";
    let lo = Lookout::start_with_files(Some(&config), &[("always.rules.yml", rules)]).await;
    let url = lo.url.clone();
    let got = received.clone();
    wait_for("the alert at the discovered Alertmanager", WAIT, || async {
        got.lock()
            .iter()
            .flat_map(|b| b.as_array().cloned().unwrap_or_default())
            .any(|a| a["labels"]["alertname"] == "Always")
            .then_some(())
    })
    .await;
    let (_, j) = get_json(&format!("{url}/api/v1/alertmanagers")).await;
    let active: Vec<String> = j["data"]["activeAlertmanagers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["url"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(active, [format!("http://127.0.0.1:{port}/api/v2/alerts")]);
    assert_eq!(
        j["data"]["droppedAlertmanagers"].as_array().unwrap().len(),
        1,
        "{j}"
    );
    lo.server.stop().await.unwrap();
}
