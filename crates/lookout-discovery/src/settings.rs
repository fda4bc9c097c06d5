//! Lookout's `kubernetes:` section: the connection to the cluster and what is collected without any scrape
//! configuration written by hand (default jobs, Operator monitors and rules, kube-state metrics).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `kubernetes.kubelet`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KubeletSettings {
    /// Scrape kubelet and cAdvisor through the API server's node proxy instead of each node's port 10250.
    pub via_apiserver_proxy: bool,
}

/// `kubernetes.monitors`: which ServiceMonitor and PodMonitor objects are honoured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonitorSettings {
    /// Honour monitors at all (default true).
    pub enabled: bool,
    /// A Kubernetes label selector on the monitor objects (e.g. `release=lookout`); empty selects all.
    pub selector: String,
    /// Namespaces whose monitors are honoured; empty means all.
    pub namespaces: Vec<String>,
}

impl Default for MonitorSettings {
    fn default() -> Self {
        MonitorSettings {
            enabled: true,
            selector: String::new(),
            namespaces: Vec::new(),
        }
    }
}

/// `kubernetes.rules`: which PrometheusRule objects are loaded as rule files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuleSettings {
    /// Load PrometheusRule objects at all (default true).
    pub enabled: bool,
    /// A Kubernetes label selector on the PrometheusRule objects (e.g. `release=lookout`); empty selects all.
    pub selector: String,
    /// Namespaces whose PrometheusRule objects are loaded; empty means all.
    pub namespaces: Vec<String>,
}

impl Default for RuleSettings {
    fn default() -> Self {
        RuleSettings {
            enabled: true,
            selector: String::new(),
            namespaces: Vec::new(),
        }
    }
}

/// `kubernetes.kube_state_metrics`: the built-in kube-state metrics exporter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KubeStateSettings {
    /// Serve and scrape kube-state metrics (default true).
    pub enabled: bool,
    /// Kubernetes labels exposed as `kube_<resource>_labels` labels, by resource (plural, e.g. `pods`) → label
    /// names, `*` for all; as kube-state-metrics' `--metric-labels-allowlist` (default none).
    pub metric_labels_allowlist: BTreeMap<String, Vec<String>>,
    /// The same for annotations and `kube_<resource>_annotations`.
    pub metric_annotations_allowlist: BTreeMap<String, Vec<String>>,
}

impl Default for KubeStateSettings {
    fn default() -> Self {
        KubeStateSettings {
            enabled: true,
            metric_labels_allowlist: BTreeMap::new(),
            metric_annotations_allowlist: BTreeMap::new(),
        }
    }
}

/// Lookout's `kubernetes:` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KubernetesSettings {
    /// Connect to a cluster at all (default false; the Helm chart sets it).
    pub enabled: bool,
    /// API server URL; empty means in-cluster (service account) or `kubeconfig_file`.
    pub api_server: String,
    /// A kubeconfig file to read the API server and credentials from.
    pub kubeconfig_file: String,
    /// Add kube-prometheus-stack's jobs: apiserver, kubelet, cAdvisor, annotated pods and service endpoints,
    /// kube-state-metrics (default true).
    pub default_scrape_jobs: bool,
    /// Kubelet scraping.
    pub kubelet: KubeletSettings,
    /// Operator monitors.
    pub monitors: MonitorSettings,
    /// Operator PrometheusRule objects.
    pub rules: RuleSettings,
    /// Built-in kube-state metrics.
    pub kube_state_metrics: KubeStateSettings,
    /// Default jobs left out by name (`kubelet`, `kubelet-cadvisor`, `kubelet-probes`, `kubernetes-pods`, …), e.g.
    /// on a server whose agents scrape every node's kubelet and pods.
    pub exclude_default_jobs: Vec<String>,
    /// This node's name (agent mode: the `NODE_NAME` environment variable, from the downward API, when empty).
    /// When set, the default jobs are node-local: the kubelet jobs select only this node and `kubernetes-pods`
    /// only the pods scheduled on it; the cluster-wide jobs (apiserver, service endpoints, kube-state-metrics)
    /// are left to the server.
    pub node_name: String,
}

/// The default jobs' names, for `exclude_default_jobs`.
pub const DEFAULT_JOB_NAMES: &[&str] = &[
    "apiserver",
    "kubelet",
    "kubelet-cadvisor",
    "kubelet-probes",
    "kubernetes-pods",
    "kubernetes-service-endpoints",
    "kube-state-metrics",
];

impl Default for KubernetesSettings {
    fn default() -> Self {
        KubernetesSettings {
            enabled: false,
            api_server: String::new(),
            kubeconfig_file: String::new(),
            default_scrape_jobs: true,
            kubelet: KubeletSettings::default(),
            monitors: MonitorSettings::default(),
            rules: RuleSettings::default(),
            kube_state_metrics: KubeStateSettings::default(),
            exclude_default_jobs: Vec::new(),
            node_name: String::new(),
        }
    }
}

impl KubernetesSettings {
    /// Refuses an unknown name in `exclude_default_jobs`, naming it and the known ones.
    pub fn check(&self) -> Result<(), String> {
        for (i, name) in self.exclude_default_jobs.iter().enumerate() {
            if !DEFAULT_JOB_NAMES.contains(&name.as_str()) {
                return Err(format!(
                    "kubernetes.exclude_default_jobs[{i}]: {name:?} is not a default job (known: {})",
                    DEFAULT_JOB_NAMES.join(", ")
                ));
            }
        }
        Ok(())
    }
}
