//! Lookout's web security, one crate for everything between a TCP connection and a handler:
//!
//! - [`web_config`]: Prometheus's `--web.config.file` (exporter-toolkit's format): TLS server settings, HTTP
//!   headers, `basic_auth_users`, `rate_limit`, parsed strictly and turned into a [`rustls::ServerConfig`].
//! - [`watcher`]: [`WebConfigWatcher`] re-reads that file and the files it names when their contents change and
//!   publishes the new TLS configuration through a [`TlsReloader`]; a broken file keeps the previous one.
//! - [`serve`]: [`serve_tls`], the HTTPS accept loop (axum's own `serve` speaks no TLS).
//! - [`config`], [`authenticator`], [`layer`]: Lookout's `auth:` section (users, bearer tokens, a trusted proxy
//!   header) mapping identities to [`Role`]s, checked per route group by the [`RequireRole`] layer, with
//!   per-address brute-force limits.
//! - [`password`]: [`hash_password`] for `lookout hash-password`.

pub mod authenticator;
pub mod body_deadline;
pub mod config;
pub mod error;
mod file_stamp;
pub mod layer;
pub mod metrics;
pub mod password;
pub mod redact;
pub mod role;
pub mod routes;
pub mod secret;
pub mod serve;
mod tls;
pub mod watcher;
pub mod web_config;
pub mod web_layer;

pub use authenticator::{AuthMethod, Authenticator, Denial, Principal};
pub use config::{
    AuthConfig, BruteForceConfig, Cidr, CredentialCacheConfig, ProxyConfig, TokenConfig, UserConfig,
};
pub use error::{AuthConfigError, WebConfigError};
pub use layer::RequireRole;
pub use password::{PasswordError, hash_password, verify_password};
pub use redact::redact_config_yaml;
pub use role::{Role, RoleSet};
pub use routes::lookout_route_role;
pub use secret::Secret;
pub use serve::{ServeLimits, ServeMetrics, serve, serve_tls};
pub use watcher::{TlsReloader, WebConfigWatcher};
pub use web_config::WebConfig;
pub use web_layer::WebConfigLayer;
