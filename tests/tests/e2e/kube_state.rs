//! Built-in kube-state metrics in the running appliance: a fixed object set of every kind the fake API server
//! serves (pods with init containers, nodes, deployments, statefulsets, daemonsets, replicasets, jobs, cronjobs,
//! PVCs, PVs, HPAs) gives kube-state-metrics' series on `/exporters/kube-state-metrics/metrics` and, scraped as
//! `job="kube-state-metrics"`, through PromQL; a changed object changes its series without a restart.

use std::time::Duration;

use lookout_e2e::fake_kube::FakeKube;
use lookout_e2e::fake_kube::objects;
use lookout_e2e::{Lookout, get_text, instant_query, wait_for};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(30);

fn meta(ns: &str, name: &str) -> serde_json::Value {
    json!({"namespace": ns, "name": name, "uid": format!("uid-{name}"), "resourceVersion": "1",
        "creationTimestamp": "2026-12-01T00:00:00Z", "generation": 2})
}

fn apply_fixed_objects(fake: &FakeKube) {
    fake.apply("nodes", objects::node("n1", "127.0.0.1", true));
    fake.apply("namespaces", objects::namespace("shop", &[]));
    let mut pod = objects::pod(
        "shop",
        "web-0",
        "10.1.0.5",
        "n1",
        &[("app", "web")],
        &[("app", &[("http", 8080)])],
    );
    pod["spec"]["initContainers"] = json!([{"name": "migrate", "image": "migrate:1"}]);
    pod["status"]["initContainerStatuses"] = json!([{"name": "migrate", "image": "migrate:1", "imageID": "sha",
        "ready": false, "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]);
    fake.apply("pods", pod);
    fake.apply("deployments", objects::deployment("shop", "web", 3, 2));
    fake.apply("statefulsets", json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta("shop", "db"),
        "spec": {"replicas": 3, "selector": {}, "serviceName": "db", "template": {}},
        "status": {"replicas": 3, "readyReplicas": 1, "currentReplicas": 3, "updatedReplicas": 3, "availableReplicas": 1,
            "observedGeneration": 2, "currentRevision": "db-1", "updateRevision": "db-2"}}));
    fake.apply("daemonsets", json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta("shop", "agent"),
        "spec": {"selector": {}, "template": {}},
        "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2, "numberAvailable": 2,
            "numberUnavailable": 1, "numberMisscheduled": 0, "updatedNumberScheduled": 3, "observedGeneration": 2}}));
    fake.apply("replicasets", json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"namespace": "shop",
        "name": "web-7d", "uid": "rs", "resourceVersion": "1", "ownerReferences": [{"apiVersion": "apps/v1",
        "kind": "Deployment", "name": "web", "uid": "d", "controller": true}]},
        "spec": {"replicas": 3, "selector": {}}, "status": {"replicas": 3, "readyReplicas": 2}}));
    fake.apply(
        "jobs",
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta("shop", "backup-1"),
        "spec": {"template": {}}, "status": {"failed": 6, "startTime": "2026-12-01T01:00:00Z",
        "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}}),
    );
    fake.apply("cronjobs", json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta("shop", "backup"),
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {}}, "status": {"active": [{"name": "backup-1"}]}}));
    fake.apply("persistentvolumeclaims", json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": meta("shop", "data"), "spec": {"storageClassName": "glusterfs-nfs", "volumeName": "pv-1",
        "accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "10Gi"}}}, "status": {"phase": "Bound"}}));
    fake.apply(
        "persistentvolumes",
        json!({"apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": "pv-1", "uid": "pv", "resourceVersion": "1"},
        "spec": {"capacity": {"storage": "10Gi"}, "storageClassName": "glusterfs-nfs",
            "persistentVolumeReclaimPolicy": "Retain"}, "status": {"phase": "Bound"}}),
    );
    fake.apply("horizontalpodautoscalers", json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": meta("shop", "web"), "spec": {"minReplicas": 2, "maxReplicas": 3,
        "scaleTargetRef": {"kind": "Deployment", "name": "web"}}, "status": {"currentReplicas": 3, "desiredReplicas": 3}}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appliance_reports_kube_state_for_every_kind() {
    let fake = FakeKube::start().await;
    apply_fixed_objects(&fake);
    let config = format!(
        "global: {{scrape_interval: 1s, scrape_timeout: 1s}}\nkubernetes: {{enabled: true, api_server: \"{}\"}}\n",
        fake.url()
    );
    let lo = Lookout::start(Some(&config)).await;
    let url = lo.url.clone();
    let exporter = format!("{url}/exporters/kube-state-metrics/metrics");
    let expected = [
        r#"kube_pod_init_container_status_waiting_reason{namespace="shop",pod="web-0",uid="#,
        r#"kube_deployment_spec_replicas{namespace="shop",deployment="web"} 3"#,
        r#"kube_deployment_status_replicas_available{namespace="shop",deployment="web"} 2"#,
        r#"kube_statefulset_status_replicas_ready{namespace="shop",statefulset="db"} 1"#,
        r#"kube_statefulset_status_update_revision{namespace="shop",statefulset="db",revision="db-2"} 1"#,
        r#"kube_daemonset_status_number_unavailable{namespace="shop",daemonset="agent"} 1"#,
        r#"kube_replicaset_owner{namespace="shop",replicaset="web-7d",owner_kind="Deployment",owner_name="web",owner_is_controller="true"} 1"#,
        r#"kube_job_status_failed{namespace="shop",job_name="backup-1",reason="BackoffLimitExceeded"} 1"#,
        r#"kube_job_failed{namespace="shop",job_name="backup-1",condition="true"} 1"#,
        r#"kube_job_status_start_time{namespace="shop",job_name="backup-1"} 1796086800"#,
        r#"kube_cronjob_status_active{namespace="shop",cronjob="backup"} 1"#,
        r#"kube_cronjob_info{namespace="shop",cronjob="backup",schedule="0 3 * * *",concurrency_policy="Allow",timezone="local"} 1"#,
        r#"kube_persistentvolumeclaim_access_mode{namespace="shop",persistentvolumeclaim="data",access_mode="ReadWriteMany"} 1"#,
        r#"kube_persistentvolume_status_phase{persistentvolume="pv-1",phase="Bound"} 1"#,
        r#"kube_persistentvolume_capacity_bytes{persistentvolume="pv-1"} 10737418240"#,
        r#"kube_horizontalpodautoscaler_spec_min_replicas{namespace="shop",horizontalpodautoscaler="web"} 2"#,
        r#"kube_horizontalpodautoscaler_status_desired_replicas{namespace="shop",horizontalpodautoscaler="web"} 3"#,
        r#"kube_node_status_condition{node="n1",condition="Ready",status="true"} 1"#,
        r#"kube_namespace_status_phase{namespace="shop",phase="Active"} 1"#,
    ];
    let text = wait_for("every kind's series", WAIT, || async {
        let (_, text) = get_text(&exporter).await;
        expected.iter().all(|e| text.contains(e)).then_some(text)
    })
    .await;
    assert!(
        text.contains(
            r#"kube_pod_init_container_status_restarts_total{namespace="shop",pod="web-0""#
        ),
        "{text}"
    );

    // Scraped as job="kube-state-metrics", readable through PromQL (the KubeHpaMaxedOut alert's expression).
    wait_for("the HPA maxed out through PromQL", WAIT, || async {
        let q = "kube_horizontalpodautoscaler_status_current_replicas{job=\"kube-state-metrics\"} == kube_horizontalpodautoscaler_spec_max_replicas{job=\"kube-state-metrics\"}";
        (instant_query(&url, q).await.len() == 1).then_some(())
    })
    .await;

    // The watch stores are charged to discovery's share of the memory budget.
    wait_for("discovery memory reported", WAIT, || async {
        let (_, m) = get_text(&format!("{url}/metrics")).await;
        let used = m
            .lines()
            .find_map(|l| l.strip_prefix(r#"lookout_memory_used_bytes{component="discovery"} "#))
            .and_then(|v| v.parse::<f64>().ok())?;
        let ok = used > 0.0
            && m.contains(r#"lookout_memory_budget_bytes{component="discovery"}"#)
            && m.contains(r#"lookout_memory_over_budget{component="discovery"} 0"#);
        ok.then_some(())
    })
    .await;

    // An update changes the series without a restart.
    fake.apply("deployments", objects::deployment("shop", "web", 3, 3));
    wait_for("the updated deployment", WAIT, || async {
        let (_, text) = get_text(&exporter).await;
        text.contains(
            r#"kube_deployment_status_replicas_available{namespace="shop",deployment="web"} 3"#,
        )
        .then_some(())
    })
    .await;
    lo.server.stop().await.unwrap();
}
