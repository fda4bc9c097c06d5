//! The parts of `ServiceMonitor`/`PodMonitor` specs Lookout honours (camelCase as in the CRDs; unknown fields are
//! tolerated because the objects come from the cluster).

use std::collections::BTreeMap;

use serde::Deserialize;

/// `metav1.LabelSelector`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// Exact labels.
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    /// Set-based requirements.
    #[serde(default)]
    pub match_expressions: Vec<Requirement>,
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct Requirement {
    /// The label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`.
    pub operator: String,
    /// Values for `In`/`NotIn`.
    #[serde(default)]
    pub values: Vec<String>,
}

/// `namespaceSelector`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceSelector {
    /// All namespaces.
    #[serde(default)]
    pub any: bool,
    /// These namespaces.
    #[serde(default)]
    pub match_names: Vec<String>,
}

/// `corev1.SecretKeySelector`.
#[derive(Debug, Clone, Deserialize)]
pub struct SecretKeySelector {
    /// Secret name.
    pub name: String,
    /// Key in the Secret.
    pub key: String,
}

/// A Secret or ConfigMap key (`tlsConfig.ca`, `.cert`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretOrConfigMap {
    /// From a Secret.
    pub secret: Option<SecretKeySelector>,
    /// From a ConfigMap (not supported: an error names it).
    pub config_map: Option<serde_json::Value>,
}

/// `tlsConfig`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsConfig {
    /// CA bundle.
    pub ca: Option<SecretOrConfigMap>,
    /// Client certificate.
    pub cert: Option<SecretOrConfigMap>,
    /// Client key.
    pub key_secret: Option<SecretKeySelector>,
    /// Server name for SNI and verification.
    pub server_name: Option<String>,
    /// Skip verification.
    #[serde(default)]
    pub insecure_skip_verify: bool,
}

/// `basicAuth`.
#[derive(Debug, Clone, Deserialize)]
pub struct BasicAuth {
    /// Username secret.
    pub username: Option<SecretKeySelector>,
    /// Password secret.
    pub password: Option<SecretKeySelector>,
}

/// `authorization`.
#[derive(Debug, Clone, Deserialize)]
pub struct Authorization {
    /// Scheme (default Bearer).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Credentials secret.
    pub credentials: Option<SecretKeySelector>,
}

/// A relabel rule as the CRDs spell it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelabelRule {
    /// `sourceLabels`.
    #[serde(default)]
    pub source_labels: Vec<String>,
    /// `separator`.
    pub separator: Option<String>,
    /// `targetLabel`.
    pub target_label: Option<String>,
    /// `regex`.
    pub regex: Option<String>,
    /// `modulus`.
    pub modulus: Option<u64>,
    /// `replacement`.
    pub replacement: Option<String>,
    /// `action` (any case).
    pub action: Option<String>,
}

/// A port given by name or number (`targetPort`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum IntOrString {
    /// A number.
    Int(i64),
    /// A name.
    Str(String),
}

/// One `endpoints[]` / `podMetricsEndpoints[]` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// Port name.
    pub port: Option<String>,
    /// Container port number (PodMonitor).
    pub port_number: Option<i64>,
    /// Deprecated target port.
    pub target_port: Option<IntOrString>,
    /// Metrics path.
    pub path: Option<String>,
    /// `http` or `https`.
    pub scheme: Option<String>,
    /// URL parameters.
    #[serde(default)]
    pub params: BTreeMap<String, Vec<String>>,
    /// Scrape interval.
    pub interval: Option<String>,
    /// Scrape timeout.
    pub scrape_timeout: Option<String>,
    /// `honor_labels`.
    pub honor_labels: Option<bool>,
    /// `honor_timestamps`.
    pub honor_timestamps: Option<bool>,
    /// Target relabelings.
    #[serde(default)]
    pub relabelings: Vec<RelabelRule>,
    /// Sample relabelings.
    #[serde(default)]
    pub metric_relabelings: Vec<RelabelRule>,
    /// Drop Failed/Succeeded pods (default true).
    pub filter_running: Option<bool>,
    /// Authorization header from a Secret.
    pub authorization: Option<Authorization>,
    /// Basic auth from Secrets.
    pub basic_auth: Option<BasicAuth>,
    /// Bearer token from a Secret (deprecated).
    pub bearer_token_secret: Option<SecretKeySelector>,
    /// TLS settings.
    pub tls_config: Option<TlsConfig>,
}

/// The monitor spec fields shared by both kinds.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MonitorSpec {
    /// Selector on Service (ServiceMonitor) or Pod (PodMonitor) labels.
    #[serde(default)]
    pub selector: LabelSelector,
    /// Namespaces to look in.
    #[serde(default)]
    pub namespace_selector: NamespaceSelector,
    /// ServiceMonitor endpoints.
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
    /// PodMonitor endpoints.
    #[serde(default)]
    pub pod_metrics_endpoints: Vec<Endpoint>,
    /// Label whose value becomes `job`.
    pub job_label: Option<String>,
    /// Service labels copied to targets.
    #[serde(default)]
    pub target_labels: Vec<String>,
    /// Pod labels copied to targets.
    #[serde(default)]
    pub pod_target_labels: Vec<String>,
    /// `sample_limit`.
    pub sample_limit: Option<u64>,
    /// `label_limit`.
    pub label_limit: Option<u64>,
    /// `label_name_length_limit`.
    pub label_name_length_limit: Option<u64>,
    /// `label_value_length_limit`.
    pub label_value_length_limit: Option<u64>,
    /// `attachMetadata.node`.
    #[serde(default)]
    pub attach_metadata: Option<AttachMetadata>,
    /// `Endpoints` or `EndpointSlice`.
    pub service_discovery_role: Option<String>,
}

/// `attachMetadata`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AttachMetadata {
    /// Attach node metadata.
    #[serde(default)]
    pub node: bool,
}
