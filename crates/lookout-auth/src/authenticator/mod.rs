//! The authenticator: who is asking (trusted proxy header, Basic credentials, bearer token) and whether their
//! roles allow the route. Password checks run bcrypt on the blocking pool, a few at a time, with recent
//! successes cached; unknown users cost a bcrypt check too, so timing does not reveal which names exist.
//! Repeated failures from one address block it for a while (429).

mod cache;
mod credentials;
mod limiter;
mod policy;
mod proxy;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use axum::extract::ConnectInfo;
use axum::extract::connect_info::MockConnectInfo;
use http::request::Parts;
use lookout_model::MetricsWriter;
use parking_lot::Mutex;

use crate::config::AuthConfig;
use crate::error::AuthConfigError;
use crate::file_stamp::{self, Stamps, digest};
use crate::metrics::{AuthGauges, AuthMetrics, FailureReason};
use crate::password::{DEFAULT_COST, hash_password, verify_password};
use crate::role::{Role, RoleSet};
use crate::secret::Secret;
use crate::watcher::WebConfigWatcher;
use cache::CredentialCache;
use credentials::Presented;
use limiter::FailureLimiter;
use policy::Policy;

/// How an identity was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// Authentication is off (no users, tokens or proxy configured).
    Disabled,
    /// The path is in `public_paths`.
    Public,
    /// Basic credentials checked against a bcrypt hash.
    Basic,
    /// A configured bearer token.
    Bearer,
    /// A trusted proxy's user header.
    Proxy,
}

/// Who made a request; [`crate::RequireRole`] puts it in the request's extensions for handlers and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user or token name (empty when unauthenticated).
    pub name: String,
    /// The roles held.
    pub roles: RoleSet,
    /// How the identity was established.
    pub method: AuthMethod,
}

/// Why a request is refused; rendered by [`crate::RequireRole`] as Prometheus's JSON error envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// 401: no or wrong credentials.
    Unauthorized {
        /// The message for the client.
        message: String,
        /// Whether to offer `Bearer` in `WWW-Authenticate` (tokens are configured).
        offer_bearer: bool,
    },
    /// 403: right credentials, wrong role.
    Forbidden {
        /// The message for the client.
        message: String,
    },
    /// 429: the address failed too often.
    TooManyRequests {
        /// How long until the address may try again.
        retry_after: Duration,
    },
}

/// Checks requests against the `auth:` section and the web config's users. Cheap to clone.
#[derive(Clone)]
pub struct Authenticator {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    policy: ArcSwap<Policy>,
    web: Option<WebConfigWatcher>,
    limiter: Mutex<FailureLimiter>,
    cache: Mutex<CredentialCache>,
    metrics: AuthMetrics,
    bcrypt_slots: tokio::sync::Semaphore,
    /// Stamps of the token files as last seen (also after a failed reload, so it is not retried unchanged).
    seen: Mutex<Stamps>,
    last_error: Mutex<Option<AuthConfigError>>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("enabled", &self.is_enabled())
            .finish_non_exhaustive()
    }
}

/// A bcrypt hash of no one's password, checked for unknown users so they take as long as known ones.
static DUMMY_HASH: OnceLock<String> = OnceLock::new();

impl Authenticator {
    /// Authentication off: every request is allowed with every role (Lookout's behaviour without a web config
    /// or an `auth:` section).
    pub fn disabled() -> Self {
        Authenticator { inner: None }
    }

    /// An authenticator for `config` and the users of `web` (if a web config file is used). Reads token files
    /// (blocking: call at startup or on the blocking pool). Authentication is on whenever any user, token or
    /// proxy is configured at the time of a request, so users added to the web config later turn it on, as
    /// in Prometheus.
    pub fn new(
        config: &AuthConfig,
        web: Option<&WebConfigWatcher>,
    ) -> Result<Self, AuthConfigError> {
        let (policy, stamps) = Policy::build(config);
        let policy = policy?;
        let slots = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(1, 4);
        Ok(Authenticator {
            inner: Some(Arc::new(Inner {
                policy: ArcSwap::from_pointee(policy),
                web: web.cloned(),
                limiter: Mutex::new(FailureLimiter::new(&config.brute_force)),
                cache: Mutex::new(CredentialCache::new(
                    config.credential_cache.ttl.as_duration(),
                    config.credential_cache.max_entries,
                )),
                metrics: AuthMetrics::default(),
                bcrypt_slots: tokio::sync::Semaphore::new(slots),
                seen: Mutex::new(stamps),
                last_error: Mutex::new(None),
            })),
        })
    }

    /// Whether requests are checked now.
    pub fn is_enabled(&self) -> bool {
        self.inner.as_ref().is_some_and(|i| {
            let web = i.web.as_ref().map(|w| w.current());
            i.policy
                .load()
                .enabled(web.as_ref().map(|w| &w.config.basic_auth_users))
        })
    }

    /// Replaces the `auth:` section (configuration reload); reads token files (blocking). On error the previous
    /// section stays.
    pub fn apply_config(&self, config: &AuthConfig) -> Result<(), AuthConfigError> {
        let Some(inner) = &self.inner else {
            return Err(AuthConfigError::new(
                "",
                "authentication was disabled at startup; restart Lookout to turn it on",
            ));
        };
        let mut seen = inner.seen.lock();
        let (policy, stamps) = Policy::build(config);
        *seen = stamps;
        let policy = policy?;
        inner.limiter.lock().reconfigure(&config.brute_force);
        inner.cache.lock().reconfigure(
            config.credential_cache.ttl.as_duration(),
            config.credential_cache.max_entries,
        );
        inner.policy.store(Arc::new(policy));
        *inner.last_error.lock() = None;
        Ok(())
    }

    /// Re-reads the token files when one changed: `Ok(true)` reloaded, `Ok(false)` unchanged, `Err` a file is
    /// unusable and the previous tokens stay. Blocking.
    pub fn reload_tokens(&self) -> Result<bool, AuthConfigError> {
        let Some(inner) = &self.inner else {
            return Ok(false);
        };
        let mut seen = inner.seen.lock();
        if !file_stamp::changed(&seen) {
            return Ok(false);
        }
        let config = inner.policy.load().config.clone();
        let (policy, stamps) = Policy::build(&config);
        *seen = stamps;
        match policy {
            Ok(p) => {
                inner.policy.store(Arc::new(p));
                *inner.last_error.lock() = None;
                tracing::info!("auth token files reloaded");
                Ok(true)
            }
            Err(e) => {
                inner.metrics.token_reload_failed();
                tracing::error!(error = %e, "auth token reload failed; the previous tokens stay");
                *inner.last_error.lock() = Some(e.clone());
                Err(e)
            }
        }
    }

    /// The error of the last failed token reload, until a reload succeeds.
    pub fn last_error(&self) -> Option<AuthConfigError> {
        self.inner
            .as_ref()
            .and_then(|i| i.last_error.lock().clone())
    }

    /// Polls the token files every `token_reload_interval` on the blocking pool; stops when the last handle to
    /// this authenticator is dropped. `None` when authentication is disabled.
    pub fn spawn_token_watch(&self) -> Option<tokio::task::JoinHandle<()>> {
        let weak: Weak<Inner> = Arc::downgrade(self.inner.as_ref()?);
        Some(tokio::spawn(async move {
            loop {
                let every = match weak.upgrade() {
                    Some(i) => i.policy.load().config.token_reload_interval.as_duration(),
                    None => return,
                };
                tokio::time::sleep(every.max(Duration::from_millis(10))).await;
                let Some(inner) = weak.upgrade() else {
                    return;
                };
                let auth = Authenticator { inner: Some(inner) };
                let _ = tokio::task::spawn_blocking(move || auth.reload_tokens()).await;
            }
        }))
    }

    /// Decides a request needing `needed`. `route_path` is the path without the route prefix (public paths match
    /// either form).
    pub async fn check(
        &self,
        parts: &Parts,
        route_path: &str,
        needed: Role,
    ) -> Result<Principal, Denial> {
        match &self.inner {
            None => Ok(Principal::unauthenticated(AuthMethod::Disabled)),
            Some(inner) => inner.check(parts, route_path, needed).await,
        }
    }

    /// Counters of this authenticator (none when disabled).
    pub fn metrics(&self) -> Option<&AuthMetrics> {
        self.inner.as_ref().map(|i| &i.metrics)
    }

    /// Renders `lookout_auth_*`.
    pub fn write_metrics(&self, out: &mut MetricsWriter) {
        out.gauge(
            "lookout_auth_enabled",
            "Whether requests are authenticated (users, tokens or a proxy configured).",
            self.is_enabled(),
        );
        if let Some(i) = &self.inner {
            let now = Instant::now();
            let gauges = {
                let l = i.limiter.lock();
                AuthGauges {
                    blocked_addresses: l.blocked_count(now),
                    tracked_addresses: l.len(),
                    cached_credentials: i.cache.lock().len(),
                }
            };
            i.metrics.write(out, gauges);
        }
    }
}

impl Principal {
    fn unauthenticated(method: AuthMethod) -> Self {
        Principal {
            name: String::new(),
            roles: if method == AuthMethod::Disabled {
                RoleSet::ALL
            } else {
                RoleSet::NONE
            },
            method,
        }
    }
}

/// The TCP peer, from axum's connection info (or its test stand-in).
fn peer_ip(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .or_else(|| {
            parts
                .extensions
                .get::<MockConnectInfo<SocketAddr>>()
                .map(|m| m.0.ip())
        })
}

impl Inner {
    async fn check(
        &self,
        parts: &Parts,
        route_path: &str,
        needed: Role,
    ) -> Result<Principal, Denial> {
        let policy = self.policy.load_full();
        let web = self.web.as_ref().map(|w| w.current());
        let web_users = web.as_ref().map(|w| &w.config.basic_auth_users);
        if !policy.enabled(web_users) {
            return Ok(Principal::unauthenticated(AuthMethod::Disabled));
        }
        if policy.is_public(parts.uri.path()) || policy.is_public(route_path) {
            return Ok(Principal::unauthenticated(AuthMethod::Public));
        }
        let peer = peer_ip(parts);
        let client = proxy::client_address(policy.config.proxy.as_ref(), peer, &parts.headers);
        let blocked = client.and_then(|c| self.limiter.lock().blocked(c, Instant::now()));
        if let Some(retry_after) = blocked {
            self.metrics.failure(FailureReason::RateLimited);
            return Err(Denial::TooManyRequests { retry_after });
        }
        let principal = match self.identify(&policy, web_users, peer, parts).await {
            Ok(p) => p,
            Err(reason) => {
                self.metrics.failure(reason);
                tracing::debug!(
                    reason = reason.as_str(),
                    client = ?client,
                    path = %parts.uri.path(),
                    "authentication failed"
                );
                if reason.counts_against_address()
                    && let Some(c) = client
                    && self.limiter.lock().record_failure(c, Instant::now())
                {
                    tracing::warn!(client = %c, "client address blocked after repeated authentication failures");
                }
                let message = if reason == FailureReason::MissingCredentials {
                    "authentication required"
                } else {
                    "invalid credentials"
                };
                return Err(Denial::Unauthorized {
                    message: message.into(),
                    offer_bearer: !policy.tokens.is_empty(),
                });
            }
        };
        if principal.roles.allows(needed) {
            self.metrics.allowed();
            Ok(principal)
        } else {
            self.metrics.failure(FailureReason::Forbidden);
            Err(Denial::Forbidden {
                message: format!(
                    "{:?} lacks the {needed} role that {} {} needs",
                    principal.name,
                    parts.method,
                    parts.uri.path()
                ),
            })
        }
    }

    async fn identify(
        &self,
        policy: &Policy,
        web_users: Option<&BTreeMap<String, Secret>>,
        peer: Option<IpAddr>,
        parts: &Parts,
    ) -> Result<Principal, FailureReason> {
        if let Some(p) = &policy.config.proxy
            && let Some(user) = proxy::vouched_user(p, peer, &parts.headers)
        {
            let roles = match policy.config.users.get(user) {
                Some(u) => RoleSet::of(&u.roles),
                None => RoleSet::of(&p.default_roles),
            };
            return Ok(Principal {
                name: user.to_string(),
                roles,
                method: AuthMethod::Proxy,
            });
        }
        match credentials::parse(parts.headers.get(http::header::AUTHORIZATION)) {
            Presented::Missing => Err(FailureReason::MissingCredentials),
            Presented::Malformed => Err(FailureReason::MalformedCredentials),
            Presented::Bearer(token) => policy
                .tokens
                .get(&digest(token.as_bytes()))
                .map(|t| Principal {
                    name: t.name.clone(),
                    roles: t.roles,
                    method: AuthMethod::Bearer,
                })
                .ok_or(FailureReason::InvalidToken),
            Presented::Basic { user, password } => {
                match policy.password_hash(&user, web_users) {
                    Some(hash) => {
                        if self.verify(&user, &password, hash).await {
                            Ok(Principal {
                                roles: policy.user_roles(&user),
                                name: user,
                                method: AuthMethod::Basic,
                            })
                        } else {
                            Err(FailureReason::WrongPassword)
                        }
                    }
                    None => {
                        // Same cost as a real check, so response times do not tell which users exist.
                        self.bcrypt(password, None).await;
                        Err(FailureReason::UnknownUser)
                    }
                }
            }
        }
    }

    /// Checks a password, through the cache of recent successes.
    async fn verify(&self, user: &str, password: &str, hash: &str) -> bool {
        let key = cache::key(user, hash, password);
        if self.cache.lock().hit(&key, Instant::now()) {
            self.metrics.cache_hit();
            return true;
        }
        let ok = self
            .bcrypt(password.to_string(), Some(hash.to_string()))
            .await;
        if ok {
            self.cache.lock().insert(key, Instant::now());
        }
        ok
    }

    /// One bcrypt check on the blocking pool, a bounded number at once (`None`: against the dummy hash).
    async fn bcrypt(&self, password: String, hash: Option<String>) -> bool {
        let Ok(_slot) = self.bcrypt_slots.acquire().await else {
            return false;
        };
        self.metrics.bcrypt_check();
        tokio::task::spawn_blocking(move || match hash {
            Some(h) => verify_password(&password, &h).unwrap_or(false),
            None => {
                let dummy = DUMMY_HASH.get_or_init(|| {
                    hash_password("lookout: no such user", DEFAULT_COST).unwrap_or_default()
                });
                let _ = verify_password(&password, dummy);
                false
            }
        })
        .await
        .unwrap_or(false)
    }
}
