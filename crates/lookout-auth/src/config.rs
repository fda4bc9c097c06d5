//! Lookout's `auth:` section: who may do what. Users come from the web config's `basic_auth_users` (and may be
//! added here with their own bcrypt hash); bearer tokens come from files (Kubernetes Secret mounts) or, when
//! explicitly written, inline; a reverse proxy may vouch for a user through a header when it connects from a
//! trusted network. Each identity maps to [`Role`]s.
//!
//! ```yaml
//! auth:
//!   default_roles: [admin]          # web-config users not listed below (Prometheus gives them full access)
//!   users:
//!     grafana: {roles: [read]}      # password in the web config's basic_auth_users
//!     vector: {roles: [write], password_hash: $2y$10$...}
//!   tokens:
//!     - {name: vmagent, token_file: /var/run/secrets/lookout/vmagent, roles: [write]}
//!   proxy:
//!     user_header: X-Forwarded-User
//!     trusted_proxies: [10.0.0.0/8]
//!     default_roles: [read]
//!   public_paths: [/-/healthy, /-/ready]
//!   brute_force: {max_failures: 5, window: 1m, block_for: 1m, max_addresses: 10000}
//!   credential_cache: {ttl: 1m, max_entries: 1024}
//!   token_reload_interval: 10s
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ipnet::IpNet;
use lookout_model::PromDuration;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::AuthConfigError;
use crate::password::validate_hash;
use crate::role::Role;
use crate::secret::Secret;

/// The `auth:` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Roles of users, and users of this section's own (with `password_hash`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub users: BTreeMap<String, UserConfig>,
    /// Roles of the web config's `basic_auth_users` not listed under `users` (default `[admin]`: full access,
    /// as in Prometheus).
    pub default_roles: Vec<Role>,
    /// Bearer tokens.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tokens: Vec<TokenConfig>,
    /// A reverse proxy that authenticates users itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyConfig>,
    /// Paths served without authentication (exact match, with or without the route prefix), e.g. the probes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub public_paths: Vec<String>,
    /// Per-address limits on failed attempts.
    pub brute_force: BruteForceConfig,
    /// Caching of successful password checks.
    pub credential_cache: CredentialCacheConfig,
    /// How often token files are checked for changes.
    pub token_reload_interval: PromDuration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            users: BTreeMap::new(),
            default_roles: vec![Role::Admin],
            tokens: Vec::new(),
            proxy: None,
            public_paths: Vec::new(),
            brute_force: BruteForceConfig::default(),
            credential_cache: CredentialCacheConfig::default(),
            token_reload_interval: PromDuration::from_secs(10),
        }
    }
}

/// One entry of `users`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UserConfig {
    /// The user's roles.
    pub roles: Vec<Role>,
    /// A bcrypt hash, for a user not in the web config (wins over the web config's hash for the same name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<Secret>,
}

/// One entry of `tokens`: exactly one of `token_file` and `token`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenConfig {
    /// Who the token stands for (the user name handlers and logs see).
    pub name: String,
    /// File holding the token (surrounding whitespace ignored); re-read when it changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
    /// The token itself, inline (prefer `token_file`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    /// The token's roles.
    pub roles: Vec<Role>,
}

/// `proxy`: trust a header naming the user, but only from these networks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyConfig {
    /// The header carrying the authenticated user name.
    pub user_header: String,
    /// Networks the proxy connects from (`10.0.0.0/8`, or a single address).
    pub trusted_proxies: Vec<Cidr>,
    /// Roles of proxy users not listed under `users` (empty: such users get 403).
    #[serde(default)]
    pub default_roles: Vec<Role>,
}

/// `brute_force`: after `max_failures` failed attempts within `window`, an address gets 429 for `block_for`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BruteForceConfig {
    /// Failed attempts allowed per window (0 turns the limit off).
    pub max_failures: u32,
    /// The counting window.
    pub window: PromDuration,
    /// How long an address is refused once over the limit.
    pub block_for: PromDuration,
    /// Addresses tracked at most; the least recently seen are forgotten first.
    pub max_addresses: usize,
}

impl Default for BruteForceConfig {
    fn default() -> Self {
        BruteForceConfig {
            max_failures: 5,
            window: PromDuration::from_secs(60),
            block_for: PromDuration::from_secs(60),
            max_addresses: 10_000,
        }
    }
}

/// `credential_cache`: successful password checks remembered so repeated requests skip bcrypt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CredentialCacheConfig {
    /// How long a success is remembered (0 turns caching off).
    pub ttl: PromDuration,
    /// Entries at most.
    pub max_entries: usize,
}

impl Default for CredentialCacheConfig {
    fn default() -> Self {
        CredentialCacheConfig {
            ttl: PromDuration::from_secs(60),
            max_entries: 1024,
        }
    }
}

/// A network in CIDR form; a bare address means just that address.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Cidr(pub IpNet);

impl Cidr {
    /// Whether `ip` is inside (IPv4-mapped IPv6 addresses count as their IPv4 address).
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        let ip = match ip {
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map(std::net::IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.0.contains(&ip)
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if let Ok(net) = s.parse::<IpNet>() {
            return Ok(Cidr(net.trunc()));
        }
        s.parse::<std::net::IpAddr>()
            .map(|ip| Cidr(IpNet::from(ip)))
            .map_err(|_| format!("{s:?} is neither a CIDR network (10.0.0.0/8) nor an IP address"))
    }
}

impl fmt::Debug for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Cidr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl AuthConfig {
    /// Whether this section configures any credential of its own (the web config's users count separately).
    pub fn has_credentials(&self) -> bool {
        !self.tokens.is_empty()
            || self.proxy.is_some()
            || self.users.values().any(|u| u.password_hash.is_some())
    }

    /// A copy with relative `token_file` paths joined to `dir` (the main config file's directory).
    pub fn with_base_dir(&self, dir: &Path) -> AuthConfig {
        let mut c = self.clone();
        for t in &mut c.tokens {
            if let Some(p) = &t.token_file
                && p.is_relative()
            {
                t.token_file = Some(dir.join(p));
            }
        }
        c
    }

    /// A copy safe to show (`/api/v1/status/config`): password hashes and inline tokens become `<secret>`.
    /// (Serializing never shows secrets either; this also covers `Debug` and the values themselves.)
    pub fn redacted(&self) -> AuthConfig {
        let mut c = self.clone();
        for u in c.users.values_mut() {
            u.password_hash = u.password_hash.as_ref().map(Secret::redacted);
        }
        for t in &mut c.tokens {
            t.token = t.token.as_ref().map(Secret::redacted);
        }
        c
    }

    /// Checks what can be checked without reading files.
    pub fn validate(&self) -> Result<(), AuthConfigError> {
        for (name, u) in &self.users {
            if name.is_empty() || name.contains(':') {
                return Err(AuthConfigError::new(
                    format!("users.{name:?}"),
                    "a user name must be non-empty and contain no ':' (basic auth cannot carry it)",
                ));
            }
            if let Some(h) = &u.password_hash {
                validate_hash(h.expose()).map_err(|e| {
                    AuthConfigError::new(format!("users.{name}.password_hash"), e.to_string())
                })?;
            }
        }
        let mut names = BTreeSet::new();
        for (i, t) in self.tokens.iter().enumerate() {
            let at = |k: &str| format!("tokens[{i}].{k}");
            if t.name.is_empty() {
                return Err(AuthConfigError::new(at("name"), "every token needs a name"));
            }
            if !names.insert(t.name.as_str()) {
                return Err(AuthConfigError::new(
                    at("name"),
                    format!("duplicate token name {:?}", t.name),
                ));
            }
            match (&t.token_file, &t.token) {
                (Some(_), Some(_)) => {
                    return Err(AuthConfigError::new(
                        at("token"),
                        "set only one of token_file and token",
                    ));
                }
                (None, None) => {
                    return Err(AuthConfigError::new(
                        at("token_file"),
                        "set token_file (a file holding the token) or, explicitly, token",
                    ));
                }
                (None, Some(s)) if s.expose().trim().is_empty() => {
                    return Err(AuthConfigError::new(at("token"), "the token is empty"));
                }
                _ => {}
            }
            if t.roles.is_empty() {
                return Err(AuthConfigError::new(
                    at("roles"),
                    "a token needs at least one role",
                ));
            }
        }
        if let Some(p) = &self.proxy {
            if http::HeaderName::from_bytes(p.user_header.as_bytes()).is_err() {
                return Err(AuthConfigError::new(
                    "proxy.user_header",
                    format!("{:?} is not a valid HTTP header name", p.user_header),
                ));
            }
            if p.trusted_proxies.is_empty() {
                return Err(AuthConfigError::new(
                    "proxy.trusted_proxies",
                    "list the networks the proxy connects from; the header is never trusted from anywhere else",
                ));
            }
        }
        for (i, p) in self.public_paths.iter().enumerate() {
            if !p.starts_with('/') {
                return Err(AuthConfigError::new(
                    format!("public_paths[{i}]"),
                    "a path starts with '/'",
                ));
            }
        }
        let b = &self.brute_force;
        if b.max_failures > 0
            && (b.window.is_zero() || b.block_for.is_zero() || b.max_addresses == 0)
        {
            return Err(AuthConfigError::new(
                "brute_force",
                "window, block_for and max_addresses must be above zero (or set max_failures: 0 to turn the limit off)",
            ));
        }
        if self.token_reload_interval.is_zero() {
            return Err(AuthConfigError::new(
                "token_reload_interval",
                "must be above zero",
            ));
        }
        Ok(())
    }
}
