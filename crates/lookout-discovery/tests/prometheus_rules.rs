//! `run_rules` against a fake API server: selection by label selector and namespace, changes published as they
//! happen, and an absent CRD or forbidden RBAC reported without the watcher ending.

mod fake_api;

use std::sync::Arc;
use std::time::Duration;

use fake_api::{FakeApi, Reply};
use lookout_discovery::monitors::MonitorAvailability;
use lookout_discovery::prometheus_rules::{RuleObjects, run_rules};
use lookout_discovery::settings::RuleSettings;
use lookout_discovery::{KubernetesDiscovery, KubernetesSettings};
use serde_json::{Value, json};
use tokio::sync::watch;

const WAIT: Duration = Duration::from_secs(20);

fn rule(namespace: &str, name: &str, labels: Value, record: &str) -> Value {
    json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"namespace": namespace, "name": name, "uid": format!("uid-{name}"), "labels": labels},
        "spec": {"groups": [{"name": name, "partial_response_strategy": "abort", "rules": [{"record": record, "expr": "up"}]}]},
    })
}

async fn start(api: &FakeApi, rules: RuleSettings) -> watch::Receiver<RuleObjects> {
    let settings = KubernetesSettings {
        enabled: true,
        api_server: api.url.clone(),
        rules,
        ..KubernetesSettings::default()
    };
    let (tx, rx) = watch::channel(RuleObjects::default());
    tokio::spawn(run_rules(KubernetesDiscovery::new(), settings, tx));
    rx
}

async fn wait_for(
    rx: &mut watch::Receiver<RuleObjects>,
    what: &str,
    done: impl FnMut(&RuleObjects) -> bool,
) -> RuleObjects {
    let got = match tokio::time::timeout(WAIT, rx.wait_for(done)).await {
        Ok(Ok(v)) => Some(v.clone()),
        _ => None,
    };
    got.unwrap_or_else(|| panic!("timed out waiting for {what}: last {:?}", *rx.borrow()))
}

fn names(r: &RuleObjects) -> Vec<&str> {
    r.files.iter().map(|f| f.name.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selected_rules_are_published_and_followed() {
    let api = FakeApi::start("monitoring.coreos.com/v1", "prometheusrules", Reply::Serve).await;
    let lookout = json!({"release": "lookout"});
    api.apply(rule("a", "keep", lookout.clone(), "a_keep"));
    api.apply(rule("a", "unlabelled", json!({}), "a_unlabelled"));
    api.apply(rule("b", "elsewhere", lookout.clone(), "b_elsewhere"));
    api.apply(rule("c", "third", lookout.clone(), "c_third"));
    let settings = RuleSettings {
        enabled: true,
        selector: "release=lookout".into(),
        // A namespace named twice is watched once.
        namespaces: vec!["a".into(), "c".into(), "a".into()],
    };
    let mut rx = start(&api, settings).await;

    let first = wait_for(&mut rx, "the first rules", |r| r.objects > 0).await;
    assert_eq!(first.availability, MonitorAvailability::Watching);
    assert_eq!(
        names(&first),
        ["a-keep-uid-keep.yaml", "c-third-uid-third.yaml"]
    );
    assert_eq!((first.objects, first.invalid), (2, 0));
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&first.files[0].yaml).unwrap();
    let want: serde_yaml_ng::Value =
        serde_yaml_ng::from_str("groups: [{name: keep, rules: [{record: a_keep, expr: up}]}]")
            .unwrap();
    assert_eq!(doc, want);

    api.apply(rule("a", "added", lookout.clone(), "a_added"));
    let added = wait_for(&mut rx, "the added object", |r| r.objects == 3).await;
    assert_eq!(
        names(&added),
        [
            "a-added-uid-added.yaml",
            "a-keep-uid-keep.yaml",
            "c-third-uid-third.yaml"
        ]
    );

    // Relabelled out of the selection, then deleted: both leave the published set.
    api.apply(rule("a", "keep", json!({"release": "other"}), "a_keep"));
    api.delete("c", "third");
    let after = wait_for(&mut rx, "the removals", |r| r.objects == 1).await;
    assert_eq!(names(&after), ["a-added-uid-added.yaml"]);

    // An unreadable spec is counted, not published, and does not hide the others.
    let mut broken = rule("a", "broken", lookout.clone(), "x");
    broken["spec"] = json!({"groups": [{"name": "g", "rules": [{"expr": {"not": "a string"}}]}]});
    api.apply(broken);
    let r = wait_for(&mut rx, "the broken object", |r| r.invalid == 1).await;
    assert_eq!(names(&r), ["a-added-uid-added.yaml"]);
}

async fn reported_without_ending(reply: Reply, want: MonitorAvailability) {
    let api: Arc<FakeApi> =
        FakeApi::start("monitoring.coreos.com/v1", "prometheusrules", reply).await;
    let mut rx = start(&api, RuleSettings::default()).await;
    let r = wait_for(&mut rx, "the availability", |r| {
        r.availability != MonitorAvailability::Unknown
    })
    .await;
    assert_eq!(r.availability, want);
    assert!(r.files.is_empty());
    // The watcher keeps running (to check again later): the sender is still held.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(rx.has_changed().is_ok(), "run_rules ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absent_crd_is_reported() {
    reported_without_ending(Reply::NotFound, MonitorAvailability::CrdsAbsent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_rules_are_reported() {
    reported_without_ending(Reply::Forbidden, MonitorAvailability::Forbidden).await;
}
