//! The names Prometheus's web config uses for TLS settings (Go's `crypto/tls` names) and what they mean to
//! rustls. Names Go knows but rustls with *ring* does not implement (CBC cipher suites, P-521, TLS 1.0/1.1 as a
//! maximum) are refused with a message saying so, rather than silently dropped from a security setting.

use std::fmt;

use rustls::SupportedCipherSuite;
use rustls::crypto::SupportedKxGroup;
use rustls::crypto::ring::{cipher_suite as cs, kx_group};
use serde::{Deserialize, Deserializer};

/// `client_auth_type`: Go's `tls.ClientAuthType` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthType {
    /// No client certificate is asked for.
    NoClientCert,
    /// Asked for, not required, not verified.
    RequestClientCert,
    /// Required, not verified (`RequireClientCert` is the old spelling).
    RequireAnyClientCert,
    /// Optional, but verified against the client CA when sent.
    VerifyClientCertIfGiven,
    /// Required and verified against the client CA: the one secure choice for client authentication.
    RequireAndVerifyClientCert,
}

const CLIENT_AUTH_NAMES: [(&str, ClientAuthType); 6] = [
    ("NoClientCert", ClientAuthType::NoClientCert),
    ("RequestClientCert", ClientAuthType::RequestClientCert),
    ("RequireAnyClientCert", ClientAuthType::RequireAnyClientCert),
    ("RequireClientCert", ClientAuthType::RequireAnyClientCert),
    (
        "VerifyClientCertIfGiven",
        ClientAuthType::VerifyClientCertIfGiven,
    ),
    (
        "RequireAndVerifyClientCert",
        ClientAuthType::RequireAndVerifyClientCert,
    ),
];

impl ClientAuthType {
    /// Whether a certificate is asked for at all.
    pub fn requests_certificate(self) -> bool {
        self != ClientAuthType::NoClientCert
    }

    /// Whether presented certificates are verified against the client CA.
    pub fn verifies(self) -> bool {
        matches!(
            self,
            ClientAuthType::VerifyClientCertIfGiven | ClientAuthType::RequireAndVerifyClientCert
        )
    }

    /// Whether a handshake without a certificate is refused.
    pub fn requires(self) -> bool {
        matches!(
            self,
            ClientAuthType::RequireAnyClientCert | ClientAuthType::RequireAndVerifyClientCert
        )
    }

    /// Go's name.
    pub fn as_str(self) -> &'static str {
        CLIENT_AUTH_NAMES
            .iter()
            .find(|(_, t)| *t == self)
            .map(|(n, _)| *n)
            .unwrap_or("NoClientCert")
    }
}

/// Deserializes `client_auth_type`; the empty string or null is unset (`None`), as in Go.
pub(crate) fn client_auth_type<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<ClientAuthType>, D::Error> {
    let s = Option::<String>::deserialize(d)?.unwrap_or_default();
    if s.is_empty() {
        return Ok(None);
    }
    CLIENT_AUTH_NAMES
        .iter()
        .find(|(n, _)| *n == s)
        .map(|(_, t)| Some(*t))
        .ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid ClientAuth: {s:?}; expected one of NoClientCert, RequestClientCert, \
                 RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert"
            ))
        })
}

/// `min_version` / `max_version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    /// TLS 1.0 (accepted as a minimum only: rustls speaks 1.2 and 1.3, so it means TLS 1.2).
    Tls10,
    /// TLS 1.1 (as TLS 1.0).
    Tls11,
    /// TLS 1.2.
    Tls12,
    /// TLS 1.3.
    Tls13,
}

impl TlsVersion {
    /// The configuration name.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsVersion::Tls10 => "TLS10",
            TlsVersion::Tls11 => "TLS11",
            TlsVersion::Tls12 => "TLS12",
            TlsVersion::Tls13 => "TLS13",
        }
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TlsVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "TLS10" => Ok(TlsVersion::Tls10),
            "TLS11" => Ok(TlsVersion::Tls11),
            "TLS12" => Ok(TlsVersion::Tls12),
            "TLS13" => Ok(TlsVersion::Tls13),
            _ => Err(serde::de::Error::custom(format!(
                "unknown TLS version: {s:?}; expected one of TLS10, TLS11, TLS12, TLS13"
            ))),
        }
    }
}

/// One entry of `cipher_suites`, resolved to a rustls suite.
#[derive(Clone, Copy, PartialEq)]
pub struct CipherSuiteName {
    name: &'static str,
    suite: SupportedCipherSuite,
}

impl fmt::Debug for CipherSuiteName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// Go's names of the suites rustls (ring) implements, then rustls's own names of its TLS 1.3 suites.
fn cipher_suites() -> [(&'static str, SupportedCipherSuite); 12] {
    [
        ("TLS_AES_128_GCM_SHA256", cs::TLS13_AES_128_GCM_SHA256),
        ("TLS_AES_256_GCM_SHA384", cs::TLS13_AES_256_GCM_SHA384),
        (
            "TLS_CHACHA20_POLY1305_SHA256",
            cs::TLS13_CHACHA20_POLY1305_SHA256,
        ),
        (
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        ),
        (
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        ),
        (
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ),
        (
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ),
        (
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        ),
        (
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ),
        ("TLS13_AES_128_GCM_SHA256", cs::TLS13_AES_128_GCM_SHA256),
        ("TLS13_AES_256_GCM_SHA384", cs::TLS13_AES_256_GCM_SHA384),
        (
            "TLS13_CHACHA20_POLY1305_SHA256",
            cs::TLS13_CHACHA20_POLY1305_SHA256,
        ),
    ]
}

/// Suites Go's `tls.CipherSuites()` offers that rustls does not implement.
const GO_ONLY_CIPHER_SUITES: [&str; 4] = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
];

/// The suites HTTP/2 needs one of when TLS 1.2 suites are listed (Go's net/http2 check, kept for parity).
const HTTP2_REQUIRED: [&str; 2] = [
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
];

impl CipherSuiteName {
    /// The rustls suite.
    pub fn suite(self) -> SupportedCipherSuite {
        self.suite
    }

    /// The name as written.
    pub fn name(self) -> &'static str {
        self.name
    }

    /// Whether this is a TLS 1.3 suite.
    pub fn is_tls13(self) -> bool {
        matches!(self.suite, SupportedCipherSuite::Tls13(_))
    }

    /// Whether this is one of the suites HTTP/2 requires.
    pub(crate) fn satisfies_http2(self) -> bool {
        HTTP2_REQUIRED.contains(&self.name)
    }

    fn supported_names() -> String {
        cipher_suites()[..9]
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl<'de> Deserialize<'de> for CipherSuiteName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if let Some((name, suite)) = cipher_suites().into_iter().find(|(n, _)| *n == s) {
            return Ok(CipherSuiteName { name, suite });
        }
        let why = if GO_ONLY_CIPHER_SUITES.contains(&s.as_str()) {
            format!(
                "unsupported cipher: {s} (a CBC suite Go offers but Lookout's TLS library, rustls, does not \
                 implement); remove it"
            )
        } else {
            format!("unknown cipher: {s}")
        };
        Err(serde::de::Error::custom(format!(
            "{why}; supported: {}",
            CipherSuiteName::supported_names()
        )))
    }
}

/// One entry of `curve_preferences`, resolved to a rustls key-exchange group.
#[derive(Clone, Copy)]
pub struct CurveName {
    name: &'static str,
    group: &'static dyn SupportedKxGroup,
}

impl PartialEq for CurveName {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl fmt::Debug for CurveName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl CurveName {
    /// The rustls group.
    pub fn group(self) -> &'static dyn SupportedKxGroup {
        self.group
    }

    /// The name as written.
    pub fn name(self) -> &'static str {
        self.name
    }
}

impl<'de> Deserialize<'de> for CurveName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let group: &'static dyn SupportedKxGroup = match s.as_str() {
            "CurveP256" => kx_group::SECP256R1,
            "CurveP384" => kx_group::SECP384R1,
            "X25519" => kx_group::X25519,
            "CurveP521" => {
                return Err(serde::de::Error::custom(
                    "unsupported curve: CurveP521 (Lookout's TLS library, rustls with ring, does not implement \
                     P-521); supported: CurveP256, CurveP384, X25519",
                ));
            }
            _ => {
                return Err(serde::de::Error::custom(format!(
                    "unknown curve: {s}; supported: CurveP256, CurveP384, X25519"
                )));
            }
        };
        let name = ["CurveP256", "CurveP384", "X25519"]
            .into_iter()
            .find(|n| *n == s)
            .unwrap_or("X25519");
        Ok(CurveName { name, group })
    }
}
