//! Authentication self-metrics: `lookout_auth_failures_total{reason}` and friends. Every reason is written
//! from the start (at 0), so alerts on `rate()` work before the first failure.

use std::sync::atomic::{AtomicU64, Ordering};

use lookout_model::{MetricKind, MetricsWriter};

/// Why a request was refused (the `reason` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    /// No credentials at all (a browser's first request; not counted against the address).
    MissingCredentials,
    /// An `Authorization` header that is neither Basic nor Bearer, or undecodable.
    MalformedCredentials,
    /// A user name nobody configured.
    UnknownUser,
    /// A known user with the wrong password.
    WrongPassword,
    /// A bearer token nobody configured.
    InvalidToken,
    /// Valid credentials without the role the route needs (not counted against the address).
    Forbidden,
    /// Refused because the address failed too often.
    RateLimited,
}

impl FailureReason {
    /// Every reason, in label order.
    pub const ALL: [FailureReason; 7] = [
        FailureReason::MissingCredentials,
        FailureReason::MalformedCredentials,
        FailureReason::UnknownUser,
        FailureReason::WrongPassword,
        FailureReason::InvalidToken,
        FailureReason::Forbidden,
        FailureReason::RateLimited,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::MissingCredentials => "missing_credentials",
            FailureReason::MalformedCredentials => "malformed_credentials",
            FailureReason::UnknownUser => "unknown_user",
            FailureReason::WrongPassword => "wrong_password",
            FailureReason::InvalidToken => "invalid_token",
            FailureReason::Forbidden => "forbidden",
            FailureReason::RateLimited => "rate_limited",
        }
    }

    /// Whether this failure counts towards blocking the address (a guess, not a missing login or a role).
    pub fn counts_against_address(self) -> bool {
        matches!(
            self,
            FailureReason::MalformedCredentials
                | FailureReason::UnknownUser
                | FailureReason::WrongPassword
                | FailureReason::InvalidToken
        )
    }

    fn index(self) -> usize {
        FailureReason::ALL
            .iter()
            .position(|r| *r == self)
            .unwrap_or(0)
    }
}

/// Counters of the authenticator.
#[derive(Debug, Default)]
pub struct AuthMetrics {
    failures: [AtomicU64; 7],
    allowed: AtomicU64,
    bcrypt_checks: AtomicU64,
    cache_hits: AtomicU64,
    token_reload_failures: AtomicU64,
}

/// Gauges read from the authenticator's state when rendering.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct AuthGauges {
    pub(crate) blocked_addresses: usize,
    pub(crate) tracked_addresses: usize,
    pub(crate) cached_credentials: usize,
}

impl AuthMetrics {
    /// Counts a refusal.
    pub(crate) fn failure(&self, reason: FailureReason) {
        self.failures[reason.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Refusals so far for `reason`.
    pub fn failures(&self, reason: FailureReason) -> u64 {
        self.failures[reason.index()].load(Ordering::Relaxed)
    }

    pub(crate) fn allowed(&self) {
        self.allowed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn bcrypt_check(&self) {
        self.bcrypt_checks.fetch_add(1, Ordering::Relaxed);
    }

    /// bcrypt verifications run so far.
    pub fn bcrypt_checks(&self) -> u64 {
        self.bcrypt_checks.load(Ordering::Relaxed)
    }

    pub(crate) fn cache_hit(&self) {
        self.cache_hits.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn token_reload_failed(&self) {
        self.token_reload_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn write(&self, out: &mut MetricsWriter, gauges: AuthGauges) {
        let mut f = out.family(
            "lookout_auth_failures_total",
            MetricKind::Counter,
            "Requests refused by authentication or authorization, by reason.",
        );
        for r in FailureReason::ALL {
            f.sample(&[("reason", r.as_str())], self.failures(r));
        }
        out.counter(
            "lookout_auth_allowed_total",
            "Requests that passed authentication and authorization.",
            self.allowed.load(Ordering::Relaxed),
        );
        out.counter(
            "lookout_auth_bcrypt_verifications_total",
            "Password checks that ran bcrypt (cache misses).",
            self.bcrypt_checks(),
        );
        out.counter(
            "lookout_auth_credential_cache_hits_total",
            "Password checks answered from the cache of recent successes.",
            self.cache_hits.load(Ordering::Relaxed),
        );
        out.counter(
            "lookout_auth_token_reload_failures_total",
            "Token file reloads that failed; the previous tokens stayed.",
            self.token_reload_failures.load(Ordering::Relaxed),
        );
        out.gauge(
            "lookout_auth_blocked_addresses",
            "Client addresses refused now for too many failed attempts.",
            gauges.blocked_addresses,
        );
        out.gauge(
            "lookout_auth_tracked_addresses",
            "Client addresses with failed attempts remembered.",
            gauges.tracked_addresses,
        );
        out.gauge(
            "lookout_auth_credential_cache_entries",
            "Successful password checks remembered.",
            gauges.cached_credentials,
        );
    }
}
