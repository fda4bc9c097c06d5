//! The collector's configuration: one module per Proxmox VE cluster (prometheus-pve-exporter's `pve.yml` modules,
//! as a list with a `name`), each with its API hosts, credentials, TLS settings, timeout and collector switches,
//! and the checks that refuse a bad module with the field at fault.

use lookout_model::http_client::{self, TlsConfig, check_tls};
use lookout_model::{ByteSize, PromDuration};
use serde::{Deserialize, Serialize};

use crate::target::ApiTarget;

/// The whole `pve` exporter section: its modules.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxmoxConfig {
    /// One entry per cluster; `module=<name>` selects one at collection time.
    #[serde(default)]
    pub modules: Vec<ModuleConfig>,
}

fn default_true() -> bool {
    true
}

fn default_timeout() -> PromDuration {
    PromDuration::from_secs(5)
}

/// The default cap on one API response body.
pub const DEFAULT_BODY_SIZE_LIMIT: ByteSize = ByteSize(16 << 20);

fn default_body_size_limit() -> ByteSize {
    DEFAULT_BODY_SIZE_LIMIT
}

/// One module: a Proxmox VE cluster (or standalone node) and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleConfig {
    /// The module name requested with `module=` (upstream's default is `default`).
    pub name: String,
    /// API hosts as `host[:port]` (port 8006 unless given), no scheme; the first is used when `target=` is absent.
    pub targets: Vec<String>,
    /// The PVE user as `user@realm`, without `!token` (upstream #388).
    pub user: String,
    /// API token id (the part after `!`); with a token value this selects token auth, which wins over a password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_name: Option<String>,
    /// API token secret, inline (`Debug` prints `<secret>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_value: Option<http_client::Secret>,
    /// A file holding the token secret (trailing newline trimmed), read at each collection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_value_file: Option<String>,
    /// Password for ticket auth, inline (`Debug` prints `<secret>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<http_client::Secret>,
    /// A file holding the password (trailing newline trimmed), read at each collection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<String>,
    /// Which servers to trust; verification is on unless `insecure_skip_verify` (upstream `verify_ssl: false`).
    #[serde(default)]
    pub tls_config: TlsConfig,
    /// Per-request timeout (upstream default 5 s).
    #[serde(default = "default_timeout")]
    pub timeout: PromDuration,
    /// Largest accepted API response body; larger replies fail the collection.
    #[serde(default = "default_body_size_limit")]
    pub body_size_limit: ByteSize,
    /// Run the cluster-wide collectors when the request has no `cluster=` parameter.
    #[serde(default = "default_true")]
    pub cluster: bool,
    /// Run the node collectors (for the node answering the API) when the request has no `node=` parameter.
    #[serde(default = "default_true")]
    pub node: bool,
    /// Upstream's `--[no-]collector.<name>` switches.
    #[serde(default)]
    pub collectors: CollectorSwitches,
}

/// Which collectors run; all on by default, as upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectorSwitches {
    /// `pve_up` (cluster gate).
    #[serde(default = "default_true")]
    pub status: bool,
    /// `/cluster/resources` families (cluster gate).
    #[serde(default = "default_true")]
    pub resources: bool,
    /// `pve_node_info` (cluster gate).
    #[serde(default = "default_true")]
    pub node: bool,
    /// `pve_cluster_info` (cluster gate).
    #[serde(default = "default_true")]
    pub cluster: bool,
    /// `pve_version_info` (cluster gate).
    #[serde(default = "default_true")]
    pub version: bool,
    /// `pve_not_backed_up_*` (cluster gate).
    #[serde(default = "default_true", alias = "backup-info")]
    pub backup_info: bool,
    /// `pve_qdevice_*` (cluster gate).
    #[serde(default = "default_true")]
    pub qdevice: bool,
    /// `pve_subscription_*` (node gate).
    #[serde(default = "default_true")]
    pub subscription: bool,
    /// `pve_onboot_status`, one API call per local guest (node gate).
    #[serde(default = "default_true")]
    pub config: bool,
    /// `pve_replication_*` (node gate).
    #[serde(default = "default_true")]
    pub replication: bool,
}

impl Default for CollectorSwitches {
    fn default() -> Self {
        CollectorSwitches {
            status: true,
            resources: true,
            node: true,
            cluster: true,
            version: true,
            backup_info: true,
            qdevice: true,
            subscription: true,
            config: true,
            replication: true,
        }
    }
}

/// A configuration the collector refuses: the module, the field at fault and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The YAML does not parse or has unknown keys.
    #[error("pve config: {0}")]
    Syntax(String),
    /// A field of a module is wrong.
    #[error("pve module {module:?}: {field}: {reason}")]
    Field {
        /// The module's name as written.
        module: String,
        /// The field at fault, e.g. `targets[1]` or `tls_config.ca_file`.
        field: String,
        /// What is wrong.
        reason: String,
    },
}

/// How a module authenticates, resolved from its fields (secrets may still live in files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    /// `Authorization: PVEAPIToken=<user>!<token_name>=<secret>` on every request.
    Token {
        /// `user@realm`.
        user: String,
        /// The token id.
        token_name: String,
        /// Where the secret comes from.
        secret: Secret,
    },
    /// `POST /access/ticket` with user and password, then the `PVEAuthCookie` ticket.
    Ticket {
        /// `user@realm`.
        user: String,
        /// Where the password comes from.
        secret: Secret,
    },
}

/// A secret given inline or as a file read at each use.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    /// The value itself.
    Inline(String),
    /// A path whose contents, trailing newline trimmed, are the value.
    File {
        /// The config key naming the file, for errors.
        field: &'static str,
        /// The path.
        path: String,
    },
}

impl std::fmt::Debug for Secret {
    /// Never prints an inline secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Secret::Inline(_) => f.write_str("Secret::Inline(<redacted>)"),
            Secret::File { field, path } => write!(f, "Secret::File({field}: {path})"),
        }
    }
}

impl ProxmoxConfig {
    /// Parses YAML (`modules: [...]`) and validates it.
    pub fn from_yaml(text: &str) -> Result<Self, ConfigError> {
        let config: ProxmoxConfig =
            serde_yaml_ng::from_str(text).map_err(|e| ConfigError::Syntax(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every module and that names are unique.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (i, module) in self.modules.iter().enumerate() {
            module.validate()?;
            if self.modules[..i].iter().any(|m| m.name == module.name) {
                return Err(field_error(module, "name", "duplicate module name"));
            }
        }
        Ok(())
    }
}

fn field_error(module: &ModuleConfig, field: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Field {
        module: module.name.clone(),
        field: field.to_string(),
        reason: reason.into(),
    }
}

impl ModuleConfig {
    /// A module with upstream's defaults and token auth; used by tests and programmatic setups.
    pub fn with_token(name: &str, target: &str, user: &str, token_name: &str, value: &str) -> Self {
        ModuleConfig {
            name: name.to_string(),
            targets: vec![target.to_string()],
            user: user.to_string(),
            token_name: Some(token_name.to_string()),
            token_value: Some(value.into()),
            token_value_file: None,
            password: None,
            password_file: None,
            tls_config: TlsConfig::default(),
            timeout: default_timeout(),
            body_size_limit: DEFAULT_BODY_SIZE_LIMIT,
            cluster: true,
            node: true,
            collectors: CollectorSwitches::default(),
        }
    }

    /// Checks the module, naming the field at fault.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.name.is_empty() {
            return Err(field_error(self, "name", "must not be empty"));
        }
        if self.targets.is_empty() {
            return Err(field_error(
                self,
                "targets",
                "at least one PVE API host (host[:port]) is required",
            ));
        }
        for (i, target) in self.targets.iter().enumerate() {
            ApiTarget::parse(target)
                .map_err(|reason| field_error(self, &format!("targets[{i}]"), reason))?;
        }
        self.validate_user()?;
        self.auth()?;
        check_tls(&self.tls_config)
            .map_err(|fault| field_error(self, fault.field, fault.reason))?;
        if self.timeout.is_zero() {
            return Err(field_error(self, "timeout", "must be greater than zero"));
        }
        if self.body_size_limit.0 == 0 {
            return Err(field_error(
                self,
                "body_size_limit",
                "must be greater than zero",
            ));
        }
        Ok(())
    }

    fn validate_user(&self) -> Result<(), ConfigError> {
        if self.user.contains('!') {
            return Err(field_error(
                self,
                "user",
                "must be user@realm without the token id: put the part after '!' in token_name \
                 (prometheus-pve-exporter #388: 'user: prometheus@pve!monitoring' sends a wrong token)",
            ));
        }
        match self.user.split_once('@') {
            Some((name, realm)) if !name.is_empty() && !realm.is_empty() => Ok(()),
            _ => Err(field_error(
                self,
                "user",
                "must be user@realm, e.g. prometheus@pve",
            )),
        }
    }

    /// The authentication method: token if `token_name` is set (as upstream, it wins over a password), else
    /// password ticket.
    pub fn auth(&self) -> Result<AuthMethod, ConfigError> {
        let secret = |inline: &Option<http_client::Secret>,
                      file: &Option<String>,
                      inline_key: &'static str,
                      file_key: &'static str|
         -> Result<Option<Secret>, ConfigError> {
            match (inline, file) {
                (Some(_), Some(_)) => Err(field_error(
                    self,
                    file_key,
                    format!("{inline_key} and {file_key} are mutually exclusive"),
                )),
                (Some(v), None) if v.is_empty() => {
                    Err(field_error(self, inline_key, "must not be empty"))
                }
                (Some(v), None) => Ok(Some(Secret::Inline(v.expose().to_string()))),
                (None, Some(p)) if p.is_empty() => {
                    Err(field_error(self, file_key, "must not be empty"))
                }
                (None, Some(p)) => Ok(Some(Secret::File {
                    field: file_key,
                    path: p.clone(),
                })),
                (None, None) => Ok(None),
            }
        };
        let token = secret(
            &self.token_value,
            &self.token_value_file,
            "token_value",
            "token_value_file",
        )?;
        let password = secret(
            &self.password,
            &self.password_file,
            "password",
            "password_file",
        )?;
        match (&self.token_name, token, password) {
            (Some(name), _, _) if name.is_empty() || name.contains(['!', '=', '@']) => {
                Err(field_error(
                    self,
                    "token_name",
                    "must be a non-empty token id without '!', '=' or '@'",
                ))
            }
            (Some(name), Some(secret), _) => Ok(AuthMethod::Token {
                user: self.user.clone(),
                token_name: name.clone(),
                secret,
            }),
            (Some(_), None, _) => Err(field_error(
                self,
                "token_value",
                "token_name needs token_value or token_value_file",
            )),
            (None, Some(_), _) => Err(field_error(
                self,
                "token_name",
                "token_value needs token_name",
            )),
            (None, None, Some(secret)) => Ok(AuthMethod::Ticket {
                user: self.user.clone(),
                secret,
            }),
            (None, None, None) => Err(field_error(
                self,
                "token_name",
                "no credentials: set token_name with token_value(_file), or password(_file)",
            )),
        }
    }
}

#[cfg(test)]
mod tests;
