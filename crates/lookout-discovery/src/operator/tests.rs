//! Generated jobs compared with what the Operator writes for the same objects (written out by hand from
//! `promcfg.go` and the reference), and checked against Lookout's relabel parser.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::*;
use crate::settings::KubernetesSettings;

struct Secrets(HashMap<(String, String, String), String>);

impl SecretSource for Secrets {
    fn secret_value(&self, ns: &str, name: &str, key: &str) -> Result<String, String> {
        self.0
            .get(&(ns.into(), name.into(), key.into()))
            .cloned()
            .ok_or_else(|| format!("secret {ns}/{name} has no key {key:?}"))
    }
    fn write_tls_file(&self, ns: &str, name: &str, key: &str) -> Result<String, String> {
        self.secret_value(ns, name, key)?;
        Ok(format!("/tls/{ns}_{name}_{key}"))
    }
}

fn secrets() -> Secrets {
    Secrets(HashMap::from([
        (
            ("shop".into(), "web-auth".into(), "password".into()),
            "s3cret".into(),
        ),
        (
            ("shop".into(), "web-auth".into(), "user".into()),
            "scraper".into(),
        ),
    ]))
}

fn yaml(text: &str) -> Value {
    serde_yaml_ng::from_str(text).unwrap()
}

fn relabels_parse(job: &Value) {
    for key in ["relabel_configs", "metric_relabel_configs"] {
        for r in job[key].as_array().into_iter().flatten() {
            let parsed: Result<lookout_model::relabel::RelabelConfig, _> =
                serde_json::from_value(r.clone());
            assert!(parsed.is_ok(), "{key} entry {r} does not parse: {parsed:?}");
        }
    }
}

#[test]
fn service_monitor_job_matches_the_operator() {
    let spec = json!({
        "selector": {"matchLabels": {"app": "web"},
                     "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]},
                                          {"key": "canary", "operator": "DoesNotExist"}]},
        "namespaceSelector": {"any": true},
        "jobLabel": "app.kubernetes.io/name",
        "targetLabels": ["team"],
        "podTargetLabels": ["version"],
        "sampleLimit": 5000,
        "endpoints": [
            {"port": "metrics", "interval": "30s", "path": "/m",
             "basicAuth": {"username": {"name": "web-auth", "key": "user"}, "password": {"name": "web-auth", "key": "password"}},
             "metricRelabelings": [{"sourceLabels": ["__name__"], "regex": "go_.*", "action": "Drop"}]},
            {"port": "admin", "scheme": "HTTPS", "relabelings": [{"targetLabel": "extra", "replacement": "x"}]}
        ]
    });
    let jobs = service_monitor_jobs("shop", "web", &spec, &secrets()).unwrap();
    assert_eq!(jobs.len(), 2);
    let expected = yaml(
        r#"
job_name: serviceMonitor/shop/web/0
metrics_path: /m
scrape_interval: 30s
honor_labels: false
basic_auth: {username: scraper, password: s3cret}
metric_relabel_configs:
  - {source_labels: [__name__], regex: go_.*, action: drop}
sample_limit: 5000
kubernetes_sd_configs:
  - {role: endpoints}
relabel_configs:
  - {source_labels: [job], target_label: __tmp_prometheus_job_name, action: replace}
  - {source_labels: [__meta_kubernetes_service_label_app, __meta_kubernetes_service_labelpresent_app], regex: (web);true, action: keep}
  - {source_labels: [__meta_kubernetes_service_label_tier, __meta_kubernetes_service_labelpresent_tier], regex: (a|b);true, action: keep}
  - {source_labels: [__meta_kubernetes_service_labelpresent_canary], regex: "true", action: drop}
  - {source_labels: [__meta_kubernetes_endpoint_port_name], regex: metrics, action: keep}
  - {source_labels: [__meta_kubernetes_endpoint_address_target_kind, __meta_kubernetes_endpoint_address_target_name], target_label: node, regex: Node;(.*), replacement: "${1}", action: replace}
  - {source_labels: [__meta_kubernetes_endpoint_address_target_kind, __meta_kubernetes_endpoint_address_target_name], target_label: pod, regex: Pod;(.*), replacement: "${1}", action: replace}
  - {source_labels: [__meta_kubernetes_namespace], target_label: namespace, action: replace}
  - {source_labels: [__meta_kubernetes_service_name], target_label: service, action: replace}
  - {source_labels: [__meta_kubernetes_pod_name], target_label: pod, action: replace}
  - {source_labels: [__meta_kubernetes_pod_container_name], target_label: container, action: replace}
  - {source_labels: [__meta_kubernetes_pod_phase], regex: (Failed|Succeeded), action: drop}
  - {source_labels: [__meta_kubernetes_service_label_team], target_label: team, regex: (.+), replacement: "${1}", action: replace}
  - {source_labels: [__meta_kubernetes_pod_label_version], target_label: version, regex: (.+), replacement: "${1}", action: replace}
  - {source_labels: [__meta_kubernetes_service_name], target_label: job, replacement: "${1}", action: replace}
  - {source_labels: [__meta_kubernetes_service_label_app_kubernetes_io_name], target_label: job, regex: (.+), replacement: "${1}", action: replace}
  - {target_label: endpoint, replacement: metrics, action: replace}
"#,
    );
    assert_eq!(
        jobs[0],
        expected,
        "got:\n{}",
        serde_yaml_ng::to_string(&jobs[0]).unwrap()
    );
    assert_eq!(jobs[1]["scheme"], "https");
    let last = jobs[1]["relabel_configs"]
        .as_array()
        .unwrap()
        .last()
        .unwrap();
    assert_eq!(
        last,
        &json!({"target_label": "extra", "replacement": "x", "action": "replace"})
    );
    jobs.iter().for_each(relabels_parse);
}

#[test]
fn empty_namespace_selector_means_the_monitors_own_namespace() {
    let jobs = service_monitor_jobs(
        "shop",
        "web",
        &json!({"endpoints": [{"port": "m"}]}),
        &secrets(),
    )
    .unwrap();
    assert_eq!(
        jobs[0]["kubernetes_sd_configs"],
        json!([{"role": "endpoints", "namespaces": {"names": ["shop"]}}])
    );
    let jobs = service_monitor_jobs(
        "shop",
        "web",
        &json!({"namespaceSelector": {"matchNames": ["a", "b"]}, "serviceDiscoveryRole": "EndpointSlice", "endpoints": [{"port": "m"}]}),
        &secrets(),
    )
    .unwrap();
    assert_eq!(
        jobs[0]["kubernetes_sd_configs"],
        json!([{"role": "endpointslice", "namespaces": {"names": ["a", "b"]}}])
    );
    assert_eq!(
        jobs[0]["relabel_configs"][1]["source_labels"],
        json!(["__meta_kubernetes_endpointslice_port_name"])
    );
}

#[test]
fn pod_monitor_job_matches_the_operator() {
    let spec = json!({"selector": {"matchLabels": {"app": "db"}}, "podMetricsEndpoints": [{"portNumber": 9187}]});
    let jobs = pod_monitor_jobs("data", "pg", &spec, &secrets()).unwrap();
    let expected = yaml(
        r#"
job_name: podMonitor/data/pg/0
honor_labels: false
kubernetes_sd_configs:
  - {role: pod, namespaces: {names: [data]}}
relabel_configs:
  - {source_labels: [job], target_label: __tmp_prometheus_job_name, action: replace}
  - {source_labels: [__meta_kubernetes_pod_label_app, __meta_kubernetes_pod_labelpresent_app], regex: (db);true, action: keep}
  - {source_labels: [__meta_kubernetes_pod_container_port_number], regex: "9187", action: keep}
  - {source_labels: [__meta_kubernetes_namespace], target_label: namespace, action: replace}
  - {source_labels: [__meta_kubernetes_pod_container_name], target_label: container, action: replace}
  - {source_labels: [__meta_kubernetes_pod_name], target_label: pod, action: replace}
  - {source_labels: [__meta_kubernetes_pod_phase], regex: (Failed|Succeeded), action: drop}
  - {target_label: job, replacement: data/pg, action: replace}
  - {target_label: endpoint, replacement: "9187", action: replace}
"#,
    );
    assert_eq!(
        jobs[0],
        expected,
        "got:\n{}",
        serde_yaml_ng::to_string(&jobs[0]).unwrap()
    );
    relabels_parse(&jobs[0]);
}

#[test]
fn missing_secrets_and_config_maps_name_the_field() {
    let spec = json!({"endpoints": [{"port": "m"}, {"port": "n", "bearerTokenSecret": {"name": "nope", "key": "token"}}]});
    let e = service_monitor_jobs("shop", "web", &spec, &secrets())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "ServiceMonitor shop/web: endpoints[1].bearerTokenSecret: secret shop/nope has no key \"token\""
    );
    let spec = json!({"endpoints": [{"port": "m", "tlsConfig": {"ca": {"configMap": {"name": "ca", "key": "ca.crt"}}}}]});
    let e = service_monitor_jobs("shop", "web", &spec, &secrets())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("endpoints[0].tlsConfig.ca") && e.contains("ConfigMap"),
        "{e}"
    );
}

#[test]
fn node_local_default_jobs_select_this_node_and_its_pods_and_exclusions_apply() {
    let agent = KubernetesSettings {
        node_name: "worker-2".into(),
        ..KubernetesSettings::default()
    };
    let jobs = default_jobs(&agent, "127.0.0.1:9090");
    let names: Vec<&str> = jobs
        .iter()
        .map(|j| j["job_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "kubelet",
            "kubelet-cadvisor",
            "kubelet-probes",
            "kubernetes-pods"
        ]
    );
    assert_eq!(
        jobs[0]["kubernetes_sd_configs"][0]["selectors"],
        json!([{"role": "node", "field": "metadata.name=worker-2"}])
    );
    assert_eq!(
        jobs[3]["kubernetes_sd_configs"][0]["selectors"],
        json!([{"role": "pod", "field": "spec.nodeName=worker-2"}])
    );
    jobs.iter().for_each(relabels_parse);
    let server = KubernetesSettings {
        exclude_default_jobs: vec![
            "kubelet".into(),
            "kubelet-cadvisor".into(),
            "kubelet-probes".into(),
            "kubernetes-pods".into(),
        ],
        ..KubernetesSettings::default()
    };
    let names: Vec<String> = default_jobs(&server, "127.0.0.1:9090")
        .iter()
        .map(|j| j["job_name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "apiserver",
            "kubernetes-service-endpoints",
            "kube-state-metrics"
        ]
    );
    let bad = KubernetesSettings {
        exclude_default_jobs: vec!["kubelets".into()],
        ..KubernetesSettings::default()
    };
    let e = bad.check().unwrap_err();
    assert!(
        e.contains("exclude_default_jobs[0]") && e.contains("kubelets"),
        "{e}"
    );
    assert!(server.check().is_ok());
}

#[test]
fn default_jobs_carry_kube_prometheus_stack_names_and_parse() {
    let jobs = default_jobs(&KubernetesSettings::default(), "127.0.0.1:9090");
    let names: Vec<&str> = jobs
        .iter()
        .map(|j| j["job_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "apiserver",
            "kubelet",
            "kubelet-cadvisor",
            "kubelet-probes",
            "kubernetes-pods",
            "kubernetes-service-endpoints",
            "kube-state-metrics"
        ]
    );
    let cadvisor = &jobs[2]["relabel_configs"];
    assert!(cadvisor.as_array().unwrap().contains(&json!({"target_label": "metrics_path", "replacement": "/metrics/cadvisor", "action": "replace"})));
    assert!(
        cadvisor.as_array().unwrap().contains(
            &json!({"target_label": "job", "replacement": "kubelet", "action": "replace"})
        )
    );
    jobs.iter().for_each(relabels_parse);
    let proxied = KubernetesSettings {
        kubelet: crate::settings::KubeletSettings {
            via_apiserver_proxy: true,
        },
        ..KubernetesSettings::default()
    };
    let jobs = default_jobs(&proxied, "127.0.0.1:9090");
    let text = jobs[1].to_string();
    assert!(
        text.contains("/api/v1/nodes/${1}/proxy/metrics")
            && text.contains("kubernetes.default.svc:443"),
        "{text}"
    );
}
