//! kube-state series for a fixed object set, compared line by line with what kube-state-metrics prints.

use std::collections::BTreeMap;
use std::sync::Arc;

use lookout_model::MetricsWriter;
use serde_json::json;

use super::*;
use crate::cache::Snapshot;
use crate::settings::KubeStateSettings;

fn from<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Arc<T> {
    Arc::new(serde_json::from_value(v).unwrap())
}

fn snapshot() -> Snapshot {
    Snapshot {
        pods: vec![from(json!({
            "metadata": {"name": "web-1", "namespace": "shop", "uid": "u1", "labels": {"app": "web", "tier": "front"},
                "creationTimestamp": "2026-12-01T00:00:00Z",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d", "uid": "r", "controller": true}]},
            "spec": {"nodeName": "n1", "initContainers": [{"name": "migrate", "image": "migrate:1", "restartPolicy": "Always"}], "containers": [
                {"name": "app", "image": "web:1", "resources": {"requests": {"cpu": "250m", "memory": "128Mi"}, "limits": {"memory": "1Gi"}}},
                {"name": "sidecar", "image": "side:1"}]},
            "status": {"phase": "Running", "podIP": "10.1.0.5", "hostIP": "192.168.1.10", "qosClass": "Burstable",
                "conditions": [{"type": "Ready", "status": "False"}],
                "initContainerStatuses": [
                    {"name": "migrate", "image": "migrate:1", "imageID": "sha3", "ready": true, "restartCount": 2,
                     "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}],
                "containerStatuses": [
                    {"name": "app", "image": "web:1", "imageID": "sha", "containerID": "containerd://a", "ready": false, "restartCount": 7,
                     "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                     "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}},
                    {"name": "sidecar", "image": "side:1", "imageID": "sha2", "ready": true, "restartCount": 0,
                     "state": {"running": {"startedAt": "2026-12-01T00:00:05Z"}}}]}
        }))],
        nodes: vec![
            from(
                json!({"metadata": {"name": "n1", "labels": {"node-role.kubernetes.io/control-plane": ""}},
                "status": {"conditions": [{"type": "Ready", "status": "True"}], "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                    "allocatable": {"cpu": "3800m", "memory": "7Gi", "pods": "110"}}}),
            ),
            from(
                json!({"metadata": {"name": "n2"}, "spec": {"unschedulable": true},
                "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}}),
            ),
        ],
        deployments: vec![from(
            json!({"metadata": {"name": "web", "namespace": "shop", "generation": 3},
            "spec": {"replicas": 3, "selector": {}, "template": {}},
            "status": {"replicas": 3, "availableReplicas": 2, "updatedReplicas": 3, "observedGeneration": 3,
                "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"},
                    {"type": "Available", "status": "True", "reason": "SomethingNew"}]}}),
        )],
        jobs: vec![
            from(
                json!({"metadata": {"name": "backup-1", "namespace": "shop", "creationTimestamp": "2026-12-01T00:00:00Z"},
                "spec": {"template": {}}, "status": {"failed": 3,
                "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}}),
            ),
            from(
                json!({"metadata": {"name": "ok-1", "namespace": "shop"}, "spec": {"template": {}}, "status": {"succeeded": 1}}),
            ),
        ],
        horizontal_pod_autoscalers: vec![from(
            json!({"metadata": {"name": "web", "namespace": "shop", "generation": 2},
            "spec": {"maxReplicas": 5, "scaleTargetRef": {"kind": "Deployment", "name": "web"},
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]},
            "status": {"currentReplicas": 3, "desiredReplicas": 4,
                "conditions": [{"type": "ScalingLimited", "status": "False"}]}}),
        )],
        persistent_volume_claims: vec![from(
            json!({"metadata": {"name": "data", "namespace": "shop", "labels": {"excluded-from-alerts": "true"}},
            "spec": {"storageClassName": "glusterfs-nfs", "volumeName": "pv-1", "accessModes": ["ReadWriteMany"],
                "resources": {"requests": {"storage": "10Gi"}}}, "status": {"phase": "Bound"}}),
        )],
        namespaces: vec![from(
            json!({"metadata": {"name": "shop"}, "status": {"phase": "Active"}}),
        )],
        ..Snapshot::default()
    }
}

fn render_text(settings: &KubeStateSettings) -> String {
    let mut w = MetricsWriter::new();
    render(&snapshot(), settings, &mut w);
    w.finish()
}

#[test]
fn fixed_objects_give_kube_state_metrics_lines() {
    let text = render_text(&KubeStateSettings::default());
    let pod = r#"namespace="shop",pod="web-1",uid="u1""#;
    for line in [
        format!(r#"kube_pod_info{{{pod},host_ip="192.168.1.10",pod_ip="10.1.0.5",node="n1",created_by_kind="ReplicaSet",created_by_name="web-7d",priority_class="",host_network="false"}} 1"#),
        format!(r#"kube_pod_owner{{{pod},owner_kind="ReplicaSet",owner_name="web-7d",owner_is_controller="true"}} 1"#),
        format!(r#"kube_pod_status_phase{{{pod},phase="Running"}} 1"#),
        format!(r#"kube_pod_status_phase{{{pod},phase="Pending"}} 0"#),
        format!(r#"kube_pod_status_ready{{{pod},condition="false"}} 1"#),
        format!(r#"kube_pod_status_ready{{{pod},condition="true"}} 0"#),
        format!(r#"kube_pod_created{{{pod}}} 1796083200"#),
        format!(r#"kube_pod_container_resource_requests{{{pod},container="app",node="n1",resource="cpu",unit="core"}} 0.25"#),
        format!(r#"kube_pod_container_resource_requests{{{pod},container="app",node="n1",resource="memory",unit="byte"}} 134217728"#),
        format!(r#"kube_pod_container_resource_limits{{{pod},container="app",node="n1",resource="memory",unit="byte"}} 1073741824"#),
        format!(r#"kube_pod_container_status_waiting_reason{{{pod},container="app",reason="CrashLoopBackOff"}} 1"#),
        format!(r#"kube_pod_container_status_last_terminated_reason{{{pod},container="app",reason="OOMKilled"}} 1"#),
        format!(r#"kube_pod_container_status_restarts_total{{{pod},container="app"}} 7"#),
        format!(r#"kube_pod_container_status_running{{{pod},container="sidecar"}} 1"#),
        format!(r#"kube_pod_container_status_ready{{{pod},container="app"}} 0"#),
        format!(r#"kube_pod_container_state_started{{{pod},container="sidecar"}} 1796083205"#),
        format!(r#"kube_pod_status_reason{{{pod},reason="Evicted"}} 0"#),
        r#"kube_node_status_condition{node="n1",condition="Ready",status="true"} 1"#.into(),
        r#"kube_node_status_condition{node="n2",condition="Ready",status="unknown"} 1"#.into(),
        r#"kube_node_status_condition{node="n2",condition="Ready",status="true"} 0"#.into(),
        r#"kube_node_status_allocatable{node="n1",resource="cpu",unit="core"} 3.8"#.into(),
        r#"kube_node_status_capacity{node="n1",resource="pods",unit="integer"} 110"#.into(),
        r#"kube_node_spec_unschedulable{node="n2"} 1"#.into(),
        r#"kube_node_role{node="n1",role="control-plane"} 1"#.into(),
        r#"kube_deployment_spec_replicas{namespace="shop",deployment="web"} 3"#.into(),
        r#"kube_deployment_status_replicas_available{namespace="shop",deployment="web"} 2"#.into(),
        r#"kube_deployment_status_observed_generation{namespace="shop",deployment="web"} 3"#.into(),
        r#"kube_deployment_metadata_generation{namespace="shop",deployment="web"} 3"#.into(),
        r#"kube_persistentvolumeclaim_info{namespace="shop",persistentvolumeclaim="data",storageclass="glusterfs-nfs",volumename="pv-1",volumemode=""} 1"#.into(),
        r#"kube_persistentvolumeclaim_status_phase{namespace="shop",persistentvolumeclaim="data",phase="Bound"} 1"#.into(),
        r#"kube_persistentvolumeclaim_resource_requests_storage_bytes{namespace="shop",persistentvolumeclaim="data"} 10737418240"#.into(),
        r#"kube_persistentvolumeclaim_access_mode{namespace="shop",persistentvolumeclaim="data",access_mode="ReadWriteMany"} 1"#.into(),
        r#"kube_namespace_status_phase{namespace="shop",phase="Active"} 1"#.into(),
        format!(r#"kube_pod_init_container_info{{{pod},container="migrate",image_spec="migrate:1",image="migrate:1",image_id="sha3",container_id="",restart_policy="Always"}} 1"#),
        format!(r#"kube_pod_init_container_status_terminated_reason{{{pod},container="migrate",reason="Completed"}} 1"#),
        format!(r#"kube_pod_init_container_status_restarts_total{{{pod},container="migrate"}} 2"#),
        format!(r#"kube_pod_init_container_status_ready{{{pod},container="migrate"}} 1"#),
        r#"kube_deployment_status_condition{namespace="shop",deployment="web",reason="ProgressDeadlineExceeded",condition="Progressing",status="false"} 1"#.into(),
        r#"kube_deployment_status_condition{namespace="shop",deployment="web",reason="unknown",condition="Available",status="true"} 1"#.into(),
        r#"kube_job_status_failed{namespace="shop",job_name="backup-1",reason="BackoffLimitExceeded"} 1"#.into(),
        r#"kube_job_status_failed{namespace="shop",job_name="backup-1",reason="DeadlineExceeded"} 0"#.into(),
        r#"kube_job_status_failed{namespace="shop",job_name="ok-1"} 0"#.into(),
        r#"kube_job_failed{namespace="shop",job_name="backup-1",condition="true"} 1"#.into(),
        r#"kube_job_created{namespace="shop",job_name="backup-1"} 1796083200"#.into(),
        r#"kube_horizontalpodautoscaler_spec_min_replicas{namespace="shop",horizontalpodautoscaler="web"} 1"#.into(),
        r#"kube_horizontalpodautoscaler_spec_max_replicas{namespace="shop",horizontalpodautoscaler="web"} 5"#.into(),
        r#"kube_horizontalpodautoscaler_status_current_replicas{namespace="shop",horizontalpodautoscaler="web"} 3"#.into(),
        r#"kube_horizontalpodautoscaler_status_desired_replicas{namespace="shop",horizontalpodautoscaler="web"} 4"#.into(),
        r#"kube_horizontalpodautoscaler_metadata_generation{namespace="shop",horizontalpodautoscaler="web"} 2"#.into(),
        r#"kube_horizontalpodautoscaler_spec_target_metric{namespace="shop",horizontalpodautoscaler="web",metric_name="cpu",metric_target_type="utilization"} 80"#.into(),
        r#"kube_horizontalpodautoscaler_status_condition{namespace="shop",horizontalpodautoscaler="web",condition="ScalingLimited",status="false"} 1"#.into(),
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line}\nin\n{text}");
    }
    assert!(
        !text.contains("kube_pod_labels"),
        "no labels family without an allowlist (KSM >= 2.10)"
    );
    // Every family's samples are contiguous under exactly one HELP and TYPE line.
    let mut seen = std::collections::HashSet::new();
    let mut current = String::new();
    for l in text.lines() {
        if let Some(rest) = l.strip_prefix("# TYPE ") {
            current = rest.split(' ').next().unwrap().to_string();
            assert!(seen.insert(current.clone()), "{current} twice");
        } else if !l.starts_with('#') {
            let name = l.split(['{', ' ']).next().unwrap();
            assert_eq!(name, current, "{l}");
            let value = l.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{l}");
        }
    }
}

#[test]
fn labels_follow_the_allowlist() {
    let mut s = KubeStateSettings {
        metric_labels_allowlist: BTreeMap::from([("pods".to_string(), vec!["app".to_string()])]),
        ..KubeStateSettings::default()
    };
    let text = render_text(&s);
    assert!(
        text.contains(
            r#"kube_pod_labels{namespace="shop",pod="web-1",uid="u1",label_app="web"} 1"#
        ),
        "{text}"
    );
    assert!(!text.contains("label_tier"));
    s.metric_labels_allowlist = BTreeMap::from([
        ("pods".to_string(), vec!["*".to_string()]),
        (
            "persistentvolumeclaims".to_string(),
            vec!["excluded-from-alerts".to_string()],
        ),
    ]);
    let text = render_text(&s);
    assert!(
        text.contains(r#"label_app="web",label_tier="front"} 1"#),
        "{text}"
    );
    // The mixin's KubePersistentVolumeFillingUp reads this exact series.
    assert!(
        text.contains(r#"kube_persistentvolumeclaim_labels{namespace="shop",persistentvolumeclaim="data",label_excluded_from_alerts="true"} 1"#),
        "{text}"
    );
    assert!(
        !text.contains("kube_deployment_labels"),
        "no allowlist for deployments"
    );
}

#[test]
fn quantities_parse_like_kubernetes() {
    for (q, v) in [
        ("250m", 0.25),
        ("128Mi", 134217728.0),
        ("1G", 1e9),
        ("2e3", 2000.0),
        ("1.5", 1.5),
        ("4", 4.0),
    ] {
        assert_eq!(parse_quantity(q), Some(v), "{q}");
    }
    assert_eq!(parse_quantity("abc"), None);
}
