//! kube-prometheus-stack's jobs, written without an Operator: the API server, the kubelet's `/metrics`, cAdvisor
//! and probes (job `kubelet`, label `metrics_path`), the `prometheus.io/*` annotation jobs and the built-in
//! kube-state metrics, with the labels the kubernetes-mixin dashboards and alerts select on.

use serde_json::{Value, json};

use crate::client::SERVICE_ACCOUNT_DIR;
use crate::settings::KubernetesSettings;

fn replace(source: &[&str], target: &str, regex: &str, replacement: &str) -> Value {
    let mut v = json!({"target_label": target, "action": "replace"});
    if !source.is_empty() {
        v["source_labels"] = json!(source);
    }
    if !regex.is_empty() {
        v["regex"] = json!(regex);
    }
    if !replacement.is_empty() {
        v["replacement"] = json!(replacement);
    }
    v
}

fn service_account_auth(job: &mut Value, verify: bool) {
    job["authorization"] = json!({"credentials_file": format!("{SERVICE_ACCOUNT_DIR}/token")});
    job["tls_config"] = if verify {
        json!({"ca_file": format!("{SERVICE_ACCOUNT_DIR}/ca.crt")})
    } else {
        // Kubelet serving certificates are usually self-signed (kube-prometheus-stack's default too).
        json!({"ca_file": format!("{SERVICE_ACCOUNT_DIR}/ca.crt"), "insecure_skip_verify": true})
    };
}

fn kubelet_job(job_name: &str, path: &str, via_proxy: bool) -> Value {
    let mut relabel = vec![
        replace(&["__meta_kubernetes_node_name"], "node", "", ""),
        replace(&[], "namespace", "", "kube-system"),
        replace(&[], "service", "", "kubelet"),
        replace(&[], "endpoint", "", "https-metrics"),
        replace(&[], "metrics_path", "", path),
        replace(&[], "job", "", "kubelet"),
        replace(&["__address__"], "instance", "", ""),
    ];
    if via_proxy {
        relabel.push(replace(
            &[],
            "__address__",
            "",
            "kubernetes.default.svc:443",
        ));
        relabel.push(replace(
            &["__meta_kubernetes_node_name"],
            "__metrics_path__",
            "(.+)",
            &format!("/api/v1/nodes/${{1}}/proxy{path}"),
        ));
    } else {
        relabel.push(replace(&[], "__metrics_path__", "", path));
    }
    let mut job = json!({
        "job_name": job_name,
        "scheme": "https",
        "honor_labels": true,
        "honor_timestamps": true,
        "kubernetes_sd_configs": [{"role": "node"}],
        "relabel_configs": relabel,
    });
    service_account_auth(&mut job, via_proxy);
    job
}

fn annotation_job(job_name: &str, role: &str, kind: &str) -> Value {
    let a = |name: &str| format!("__meta_kubernetes_{kind}_annotation_prometheus_io_{name}");
    let ip = if kind == "pod" {
        "__meta_kubernetes_pod_ip"
    } else {
        "__address__"
    };
    let mut relabel = vec![
        json!({"source_labels": [a("scrape")], "regex": "true", "action": "keep"}),
        json!({"source_labels": [a("scrape_slow")], "regex": "true", "action": "drop"}),
        replace(&[&a("scheme")], "__scheme__", "(https?)", "$1"),
        replace(&[&a("path")], "__metrics_path__", "(.+)", "$1"),
    ];
    if kind == "pod" {
        relabel.push(replace(
            &[&a("port"), ip],
            "__address__",
            r"(\d+);(([A-Fa-f0-9]{1,4}::?){1,7}[A-Fa-f0-9]{1,4})",
            "[$2]:$1",
        ));
        relabel.push(replace(
            &[&a("port"), ip],
            "__address__",
            r"(\d+);((([0-9]+?)(\.|$)){4})",
            "$2:$1",
        ));
    } else {
        relabel.push(replace(
            &[ip, &a("port")],
            "__address__",
            r"(.+?)(?::\d+)?;(\d+)",
            "$1:$2",
        ));
    }
    relabel.push(json!({"regex": format!("__meta_kubernetes_{kind}_annotation_prometheus_io_param_(.+)"), "replacement": "__param_$1", "action": "labelmap"}));
    relabel.push(
        json!({"regex": format!("__meta_kubernetes_{kind}_label_(.+)"), "action": "labelmap"}),
    );
    relabel.push(replace(
        &["__meta_kubernetes_namespace"],
        "namespace",
        "",
        "",
    ));
    if kind == "pod" {
        relabel.push(replace(&["__meta_kubernetes_pod_name"], "pod", "", ""));
        relabel.push(json!({"source_labels": ["__meta_kubernetes_pod_phase"], "regex": "Pending|Succeeded|Failed|Completed", "action": "drop"}));
        relabel.push(replace(
            &["__meta_kubernetes_pod_node_name"],
            "node",
            "",
            "",
        ));
    } else {
        relabel.push(replace(
            &["__meta_kubernetes_service_name"],
            "service",
            "",
            "",
        ));
        relabel.push(replace(
            &["__meta_kubernetes_pod_node_name"],
            "node",
            "",
            "",
        ));
    }
    json!({
        "job_name": job_name,
        "honor_labels": true,
        "kubernetes_sd_configs": [{"role": role}],
        "relabel_configs": relabel,
    })
}

/// The default jobs for `settings`; `self_address` is Lookout's own `host:port`, where kube-state metrics are
/// served.
pub fn default_jobs(settings: &KubernetesSettings, self_address: &str) -> Vec<Value> {
    let mut apiserver = json!({
        "job_name": "apiserver",
        "scheme": "https",
        "kubernetes_sd_configs": [{"role": "endpoints", "namespaces": {"names": ["default"]}}],
        "relabel_configs": [
            {"source_labels": ["__meta_kubernetes_namespace", "__meta_kubernetes_service_name", "__meta_kubernetes_endpoint_port_name"],
             "regex": "default;kubernetes;https", "action": "keep"},
            replace(&[], "job", "", "apiserver"),
            replace(&["__meta_kubernetes_namespace"], "namespace", "", ""),
            replace(&["__meta_kubernetes_service_name"], "service", "", ""),
            replace(&[], "endpoint", "", "https"),
        ],
    });
    service_account_auth(&mut apiserver, true);
    let proxy = settings.kubelet.via_apiserver_proxy;
    let node = settings.node_name.as_str();
    let mut node_local = vec![
        kubelet_job("kubelet", "/metrics", proxy),
        kubelet_job("kubelet-cadvisor", "/metrics/cadvisor", proxy),
        kubelet_job("kubelet-probes", "/metrics/probes", proxy),
        annotation_job("kubernetes-pods", "pod", "pod"),
    ];
    if !node.is_empty() {
        // Server-side field selectors: the watches hold only this node and the pods scheduled on it.
        for job in &mut node_local {
            let sd = &mut job["kubernetes_sd_configs"][0];
            let selector = match sd["role"].as_str() {
                Some("node") => json!({"role": "node", "field": format!("metadata.name={node}")}),
                _ => json!({"role": "pod", "field": format!("spec.nodeName={node}")}),
            };
            sd["selectors"] = json!([selector]);
        }
        return keep_wanted(node_local, settings);
    }
    let mut jobs = vec![apiserver];
    jobs.append(&mut node_local);
    jobs.push(annotation_job(
        "kubernetes-service-endpoints",
        "endpoints",
        "service",
    ));
    if settings.kube_state_metrics.enabled {
        jobs.push(json!({
            "job_name": "kube-state-metrics",
            "honor_labels": true,
            "metrics_path": "/exporters/kube-state-metrics/metrics",
            "static_configs": [{"targets": [self_address]}],
        }));
    }
    keep_wanted(jobs, settings)
}

/// Leaves out the jobs named in `exclude_default_jobs`.
fn keep_wanted(mut jobs: Vec<Value>, settings: &KubernetesSettings) -> Vec<Value> {
    jobs.retain(|j| {
        !settings
            .exclude_default_jobs
            .iter()
            .any(|x| j["job_name"].as_str() == Some(x.as_str()))
    });
    jobs
}
