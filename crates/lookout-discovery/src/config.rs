//! `kubernetes_sd_configs` entries, with Prometheus's field names, defaults and validation rules.

use serde::{Deserialize, Serialize};

/// The kind of object a `kubernetes_sd_configs` entry turns into targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// One target per node (kubelet address).
    Node,
    /// One target per service port.
    Service,
    /// One target per pod container port.
    Pod,
    /// One target per endpoint address and port.
    Endpoints,
    /// One target per EndpointSlice endpoint and port.
    #[serde(rename = "endpointslice")]
    EndpointSlice,
    /// One target per ingress host and path.
    Ingress,
}

impl Role {
    /// The name as written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Node => "node",
            Role::Service => "service",
            Role::Pod => "pod",
            Role::Endpoints => "endpoints",
            Role::EndpointSlice => "endpointslice",
            Role::Ingress => "ingress",
        }
    }

    /// The roles whose `selectors` entries this role accepts (Prometheus's table).
    fn allowed_selector_roles(self) -> &'static [Role] {
        match self {
            Role::Node => &[Role::Node],
            Role::Service => &[Role::Service],
            Role::Pod => &[Role::Pod, Role::Node],
            Role::Endpoints => &[Role::Pod, Role::Service, Role::Endpoints],
            Role::EndpointSlice => &[Role::Pod, Role::Service, Role::EndpointSlice],
            Role::Ingress => &[Role::Ingress],
        }
    }
}

/// `namespaces:`: which namespaces to watch; none named and not `own_namespace` means all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamespaceDiscovery {
    /// Namespaces to watch.
    #[serde(default)]
    pub names: Vec<String>,
    /// Also watch the namespace this pod runs in (from the service-account mount).
    #[serde(default)]
    pub own_namespace: bool,
}

/// One `selectors:` entry: server-side label and field selectors for the objects of `role`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectorConfig {
    /// The object kind the selectors apply to.
    pub role: Role,
    /// A Kubernetes label selector, e.g. `app=web,tier in (a,b)`.
    #[serde(default)]
    pub label: Option<String>,
    /// A Kubernetes field selector, e.g. `spec.nodeName=n1`.
    #[serde(default)]
    pub field: Option<String>,
}

/// `attach_metadata:`: related objects whose labels are added to targets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachMetadata {
    /// The hosting node's labels and annotations (pod, endpoints, endpointslice).
    #[serde(default)]
    pub node: bool,
    /// The namespace's labels and annotations (all namespaced roles).
    #[serde(default)]
    pub namespace: bool,
}

/// `authorization:` for the API server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiAuthorization {
    /// Scheme, `Bearer` by default.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The token itself (`Debug` prints `<secret>`).
    #[serde(default)]
    pub credentials: Option<lookout_model::http_client::Secret>,
    /// A file holding the token (re-read on reconnect).
    #[serde(default)]
    pub credentials_file: Option<String>,
}

/// `tls_config:` for the API server. Without `ca_file` the server is verified against the system's roots (kube's
/// platform verifier, `rustls-native-certs` on Linux); with it, against that CA only, re-read about every minute
/// so a rotated cluster CA is followed (kube's reloading verifier), as client-go and Prometheus trust a cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiTlsConfig {
    /// CA bundle (PEM).
    #[serde(default)]
    pub ca_file: Option<String>,
    /// Client certificate (PEM).
    #[serde(default)]
    pub cert_file: Option<String>,
    /// Client key (PEM).
    #[serde(default)]
    pub key_file: Option<String>,
    /// Skip certificate verification (never in production).
    #[serde(default)]
    pub insecure_skip_verify: bool,
}

/// One `kubernetes_sd_configs` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesSdConfig {
    /// What to discover.
    pub role: Role,
    /// API server URL; absent means in-cluster (service account), or `kubeconfig_file`.
    #[serde(default)]
    pub api_server: Option<String>,
    /// A kubeconfig file to read the API server and credentials from.
    #[serde(default)]
    pub kubeconfig_file: Option<String>,
    /// Which namespaces to watch.
    #[serde(default)]
    pub namespaces: NamespaceDiscovery,
    /// Server-side selectors, at most one per role.
    #[serde(default)]
    pub selectors: Vec<SelectorConfig>,
    /// Related objects whose labels are added.
    #[serde(default)]
    pub attach_metadata: AttachMetadata,
    /// Credentials for the API server (with `api_server`).
    #[serde(default)]
    pub authorization: Option<ApiAuthorization>,
    /// Prometheus's older spelling of `authorization.credentials_file`.
    #[serde(default)]
    pub bearer_token_file: Option<String>,
    /// TLS settings for the API server (with `api_server`).
    #[serde(default)]
    pub tls_config: Option<ApiTlsConfig>,
}

/// A `kubernetes_sd_configs` entry breaks one of Prometheus's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct SdConfigError {
    /// Field path, e.g. `scrape_configs[0].kubernetes_sd_configs[1].selectors[0].role`.
    pub path: String,
    /// What is wrong.
    pub reason: String,
}

impl KubernetesSdConfig {
    /// Checks Prometheus's rules; `path` names the entry in errors.
    pub fn validate(&self, path: &str) -> Result<(), SdConfigError> {
        let err = |field: &str, reason: String| SdConfigError {
            path: format!("{path}.{field}"),
            reason,
        };
        if self.api_server.is_some() && self.kubeconfig_file.is_some() {
            return Err(err(
                "kubeconfig_file",
                "cannot be used together with api_server".into(),
            ));
        }
        let explicit = self.api_server.is_some() || self.kubeconfig_file.is_some();
        if self.namespaces.own_namespace && explicit {
            return Err(err(
                "namespaces.own_namespace",
                "only works in-cluster, not with api_server or kubeconfig_file".into(),
            ));
        }
        if !explicit && (self.authorization.is_some() || self.tls_config.is_some()) {
            return Err(err(
                "api_server",
                "custom HTTP client settings (authorization, tls_config) need an explicit api_server".into(),
            ));
        }
        if let Some(url) = &self.api_server
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(err(
                "api_server",
                format!("{url:?} must be an http:// or https:// URL"),
            ));
        }
        let mut seen = Vec::new();
        for (i, s) in self.selectors.iter().enumerate() {
            if !self.role.allowed_selector_roles().contains(&s.role) {
                return Err(err(
                    &format!("selectors[{i}].role"),
                    format!(
                        "role {:?} is not allowed for a {:?} discovery (allowed: {})",
                        s.role.as_str(),
                        self.role.as_str(),
                        self.role
                            .allowed_selector_roles()
                            .iter()
                            .map(|r| r.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            if seen.contains(&s.role) {
                return Err(err(
                    &format!("selectors[{i}].role"),
                    format!("a selector for role {:?} is given twice", s.role.as_str()),
                ));
            }
            seen.push(s.role);
        }
        if self.attach_metadata.node
            && !matches!(self.role, Role::Pod | Role::Endpoints | Role::EndpointSlice)
        {
            return Err(err(
                "attach_metadata.node",
                format!(
                    "only applies to the pod, endpoints and endpointslice roles, not {:?}",
                    self.role.as_str()
                ),
            ));
        }
        Ok(())
    }

    /// The label and field selector given for objects of `role`, if any.
    pub fn selector_for(&self, role: Role) -> (Option<&str>, Option<&str>) {
        self.selectors
            .iter()
            .find(|s| s.role == role)
            .map(|s| (s.label.as_deref(), s.field.as_deref()))
            .unwrap_or((None, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> KubernetesSdConfig {
        serde_yaml_ng::from_str(text).unwrap()
    }

    #[test]
    fn prometheus_rules_are_enforced() {
        let ok = parse(
            "role: pod\nselectors: [{role: pod, label: app=web}, {role: node, field: metadata.name=n1}]\nattach_metadata: {node: true}\n",
        );
        ok.validate("sd").unwrap();
        assert_eq!(ok.selector_for(Role::Pod), (Some("app=web"), None));
        for (text, needle) in [
            (
                "role: service\nselectors: [{role: pod}]\n",
                "selectors[0].role",
            ),
            (
                "role: pod\nselectors: [{role: pod}, {role: pod}]\n",
                "twice",
            ),
            (
                "role: node\nattach_metadata: {node: true}\n",
                "attach_metadata.node",
            ),
            (
                "role: pod\napi_server: http://x\nnamespaces: {own_namespace: true}\n",
                "own_namespace",
            ),
            (
                "role: pod\ntls_config: {insecure_skip_verify: true}\n",
                "explicit api_server",
            ),
            ("role: pod\napi_server: x:6443\n", "http:// or https://"),
        ] {
            let e = parse(text).validate("sd").unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
        assert!(serde_yaml_ng::from_str::<KubernetesSdConfig>("role: pods\n").is_err());
        assert!(
            serde_yaml_ng::from_str::<KubernetesSdConfig>("role: pod\nnamespace: [a]\n").is_err()
        );
    }
}
