//! Connections to an API server: in-cluster service account, `api_server` with optional credentials and TLS, or a
//! kubeconfig file. Equal connection settings share one client and one set of watches.

use std::path::PathBuf;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::config::{ApiAuthorization, ApiTlsConfig, KubernetesSdConfig};
use crate::settings::KubernetesSettings;

/// Where the service-account files are mounted in a pod.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// A connection could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// In-cluster settings are missing (not running in a pod).
    #[error(
        "not running in a Kubernetes pod ({0}); set api_server or kubeconfig_file to discover from outside"
    )]
    InCluster(String),
    /// The kubeconfig file could not be used.
    #[error("kubeconfig file {path}: {reason}")]
    Kubeconfig {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// `api_server` is not a URL, or a credential file is unreadable.
    #[error("api_server {url}: {reason}")]
    ApiServer {
        /// The URL as written.
        url: String,
        /// Why.
        reason: String,
    },
    /// The client could not be built (TLS material, …).
    #[error("kubernetes client: {0}")]
    Client(String),
}

/// Everything that decides which API server and identity a watch uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Connection {
    /// API server URL; None = in-cluster or kubeconfig.
    pub api_server: Option<String>,
    /// kubeconfig file.
    pub kubeconfig_file: Option<String>,
    /// Credentials.
    pub authorization: Option<ApiAuthorization>,
    /// Token file (older spelling).
    pub bearer_token_file: Option<String>,
    /// TLS settings.
    pub tls_config: Option<ApiTlsConfig>,
}

impl Connection {
    /// The connection a `kubernetes_sd_configs` entry asks for.
    pub fn of(cfg: &KubernetesSdConfig) -> Self {
        Connection {
            api_server: cfg.api_server.clone(),
            kubeconfig_file: cfg.kubeconfig_file.clone(),
            authorization: cfg.authorization.clone(),
            bearer_token_file: cfg.bearer_token_file.clone(),
            tls_config: cfg.tls_config.clone(),
        }
    }

    /// The connection of Lookout's `kubernetes:` section.
    pub fn of_settings(s: &KubernetesSettings) -> Self {
        let non_empty = |v: &str| (!v.is_empty()).then(|| v.to_string());
        Connection {
            api_server: non_empty(&s.api_server),
            kubeconfig_file: non_empty(&s.kubeconfig_file),
            ..Connection::default()
        }
    }

    /// Builds a client; no request is made yet.
    pub async fn connect(&self) -> Result<Client, ConnectError> {
        let config = if let Some(path) = &self.kubeconfig_file {
            let err = |reason: String| ConnectError::Kubeconfig {
                path: path.clone(),
                reason,
            };
            let kubeconfig = Kubeconfig::read_from(path).map_err(|e| err(e.to_string()))?;
            Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .map_err(|e| err(e.to_string()))?
        } else if let Some(url) = &self.api_server {
            self.explicit_config(url)?
        } else {
            Config::incluster().map_err(|e| ConnectError::InCluster(e.to_string()))?
        };
        Client::try_from(config).map_err(|e| ConnectError::Client(e.to_string()))
    }

    fn explicit_config(&self, url: &str) -> Result<Config, ConnectError> {
        let err = |reason: String| ConnectError::ApiServer {
            url: lookout_model::http_client::redact_url(url),
            reason,
        };
        let uri: http::Uri = url.parse().map_err(|e| err(format!("{e}")))?;
        let mut config = Config::new(uri);
        let auth = self.authorization.as_ref();
        if let Some(token) = auth.and_then(|a| a.credentials.as_ref()) {
            config.auth_info.token = Some(token.expose().to_string().into());
        }
        if let Some(file) = auth
            .and_then(|a| a.credentials_file.clone())
            .or_else(|| self.bearer_token_file.clone())
        {
            config.auth_info.token_file = Some(file);
        }
        if let Some(tls) = &self.tls_config {
            config.accept_invalid_certs = tls.insecure_skip_verify;
            if let Some(ca) = &tls.ca_file {
                // Checked here so a bad file is named in the error; kube reads it again and re-reads it about
                // every minute, following a rotated CA.
                lookout_model::http_client::tls_files::read_ca_file(ca)
                    .map_err(|e| err(e.to_string()))?;
                config.root_cert_file = Some(PathBuf::from(ca));
            }
            if let Some(cert) = &tls.cert_file {
                config.auth_info.client_certificate = Some(cert.clone());
            }
            if let Some(key) = &tls.key_file {
                config.auth_info.client_key = Some(key.clone());
            }
        }
        Ok(config)
    }
}

/// The namespace this pod runs in, from the service-account mount.
pub fn own_namespace() -> Option<String> {
    std::fs::read_to_string(format!("{SERVICE_ACCOUNT_DIR}/namespace"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}
