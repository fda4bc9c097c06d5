//! Turning `tls_server_config` into a [`rustls::ServerConfig`] (ring provider, no OpenSSL): versions, cipher
//! suites, curves, the server certificate and key, and the client-certificate policy of `client_auth_type`.

mod client_verify;
pub(crate) mod pem;

use std::path::Path;
use std::sync::Arc;

use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;
use rustls::{RootCertStore, ServerConfig, SupportedCipherSuite, SupportedProtocolVersion};

use crate::error::WebConfigError;
use crate::file_stamp::read_stamped;
use crate::web_config::{ClientAuthType, TlsServerConfig, TlsVersion};
use client_verify::{AnyClientCert, SanCheck};

/// ALPN identifiers offered.
const ALPN_H2: &[u8] = b"h2";
const ALPN_HTTP11: &[u8] = b"http/1.1";

/// A built TLS configuration and facts about its certificate for self-metrics.
pub(crate) struct BuiltTls {
    pub(crate) config: ServerConfig,
    pub(crate) not_after: Option<i64>,
    pub(crate) serial: Option<Vec<u8>>,
}

/// Builds the server configuration; reads the files `t` names (blocking). `http2` adds `h2` to ALPN.
pub(crate) fn build_server_config(
    t: &TlsServerConfig,
    http2: bool,
    path: &Path,
) -> Result<BuiltTls, WebConfigError> {
    let err = |at: &str, msg: String| {
        WebConfigError::new(path, Some(&format!("tls_server_config.{at}")), msg)
    };
    if t.cert_file.is_empty() && t.cert.is_empty() {
        return Err(err("cert_file", "missing one of cert or cert_file".into()));
    }
    if t.key_file.is_empty() && t.key.is_empty() {
        return Err(err("key_file", "missing one of key or key_file".into()));
    }
    let versions = protocol_versions(t).map_err(|(at, m)| err(at, m))?;
    let provider = Arc::new(crypto_provider(t, http2, &versions).map_err(|(at, m)| err(at, m))?);

    let (cert_pem, cert_at) = source(&t.cert_file, t.cert.as_bytes(), "cert_file", "cert")
        .map_err(|(at, m)| err(at, m))?;
    let certs = pem::certificates(&cert_pem).map_err(|m| err(cert_at, m))?;
    let (key_pem, key_at) = source(&t.key_file, t.key.expose().as_bytes(), "key_file", "key")
        .map_err(|(at, m)| err(at, m))?;
    let key = pem::private_key(&key_pem).map_err(|m| err(key_at, m))?;

    let client_auth = t.client_auth();
    let ca = if !t.client_ca_file.is_empty() || !t.client_ca.is_empty() {
        Some(
            source(
                &t.client_ca_file,
                t.client_ca.as_bytes(),
                "client_ca_file",
                "client_ca",
            )
            .map_err(|(at, m)| err(at, m))?,
        )
    } else {
        None
    };
    if ca.is_some() && !client_auth.requests_certificate() {
        return Err(err(
            "client_auth_type",
            "client CA's have been configured without a Client Auth Policy; set client_auth_type \
             (RequireAndVerifyClientCert to authenticate clients)"
                .into(),
        ));
    }
    if client_auth.verifies() && ca.is_none() {
        return Err(err(
            "client_ca_file",
            format!(
                "client_auth_type {} verifies client certificates and needs client_ca_file or client_ca",
                client_auth.as_str()
            ),
        ));
    }
    if !t.client_allowed_sans.is_empty() && !client_auth.requests_certificate() {
        return Err(err(
            "client_allowed_sans",
            "needs a client_auth_type that asks for a client certificate".into(),
        ));
    }

    let verifier: Option<Arc<dyn ClientCertVerifier>> = match client_auth {
        ClientAuthType::NoClientCert => None,
        ClientAuthType::RequestClientCert | ClientAuthType::RequireAnyClientCert => {
            Some(Arc::new(AnyClientCert {
                mandatory: client_auth.requires(),
                algorithms: provider.signature_verification_algorithms,
            }))
        }
        ClientAuthType::VerifyClientCertIfGiven | ClientAuthType::RequireAndVerifyClientCert => {
            let Some((ca_pem, ca_at)) = &ca else {
                unreachable!("checked above: verifying policies have a CA")
            };
            let mut roots = RootCertStore::empty();
            for c in pem::certificates(ca_pem).map_err(|m| err(ca_at, m))? {
                roots
                    .add(c)
                    .map_err(|e| err(ca_at, format!("unusable CA certificate: {e}")))?;
            }
            let mut b =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
            if !client_auth.requires() {
                b = b.allow_unauthenticated();
            }
            Some(
                b.build()
                    .map_err(|e| err(ca_at, format!("cannot verify clients with it: {e}")))?,
            )
        }
    };
    let verifier = match verifier {
        Some(v) if !t.client_allowed_sans.is_empty() => Some(Arc::new(SanCheck {
            inner: v,
            allowed: t.client_allowed_sans.clone(),
        })
            as Arc<dyn ClientCertVerifier>),
        v => v,
    };

    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| {
            err(
                "cipher_suites",
                format!("no cipher suite fits the allowed TLS versions: {e}"),
            )
        })?;
    let builder = match verifier {
        Some(v) => builder.with_client_cert_verifier(v),
        None => builder.with_no_client_auth(),
    };
    let facts = pem::serial_and_not_after(&certs[0]);
    let mut config = builder.with_single_cert(certs, key).map_err(|e| {
        err(
            key_at,
            format!("the key does not match the certificate or cannot be used: {e}"),
        )
    })?;
    config.ignore_client_order = t.prefer_server_cipher_suites;
    config.alpn_protocols = if http2 {
        vec![ALPN_H2.to_vec(), ALPN_HTTP11.to_vec()]
    } else {
        vec![ALPN_HTTP11.to_vec()]
    };
    Ok(BuiltTls {
        config,
        serial: facts.as_ref().map(|(s, _)| s.clone()),
        not_after: facts.map(|(_, t)| t),
    })
}

/// The file's bytes when `file` is set, else the inline text; with the key name used.
fn source(
    file: &str,
    inline: &[u8],
    file_key: &'static str,
    inline_key: &'static str,
) -> Result<(Vec<u8>, &'static str), (&'static str, String)> {
    if file.is_empty() {
        if inline.is_empty() {
            return Err((inline_key, "empty".into()));
        }
        return Ok((inline.to_vec(), inline_key));
    }
    read_stamped(Path::new(file))
        .map(|(bytes, _)| (bytes, file_key))
        .map_err(|e| (file_key, format!("failed to read {file_key} ({file}): {e}")))
}

type Problem = (&'static str, String);

/// The protocol versions between `min_version` and `max_version` that rustls speaks.
fn protocol_versions(
    t: &TlsServerConfig,
) -> Result<Vec<&'static SupportedProtocolVersion>, Problem> {
    let (min, max) = (t.min_version(), t.max_version());
    if max < TlsVersion::Tls12 {
        return Err((
            "max_version",
            format!(
                "{max} is not supported: Lookout's TLS library (rustls) speaks only TLS12 and TLS13"
            ),
        ));
    }
    if min > max {
        return Err((
            "min_version",
            format!("min_version {min} is above max_version {max}"),
        ));
    }
    let mut v = Vec::new();
    if min <= TlsVersion::Tls12 {
        v.push(&rustls::version::TLS12);
    }
    if max >= TlsVersion::Tls13 {
        v.push(&rustls::version::TLS13);
    }
    Ok(v)
}

/// The ring provider restricted to `cipher_suites` and `curve_preferences`, in their order.
fn crypto_provider(
    t: &TlsServerConfig,
    http2: bool,
    versions: &[&'static SupportedProtocolVersion],
) -> Result<rustls::crypto::CryptoProvider, Problem> {
    let mut provider = rustls::crypto::ring::default_provider();
    let tls12_on = versions.contains(&&rustls::version::TLS12);
    if !t.cipher_suites.is_empty() {
        let mut tls12: Vec<SupportedCipherSuite> = Vec::new();
        let mut tls13: Vec<SupportedCipherSuite> = Vec::new();
        for c in &t.cipher_suites {
            let list = if c.is_tls13() { &mut tls13 } else { &mut tls12 };
            if !list.contains(&c.suite()) {
                list.push(c.suite());
            }
        }
        if tls13.is_empty() {
            tls13 = provider
                .cipher_suites
                .iter()
                .filter(|s| matches!(s, SupportedCipherSuite::Tls13(_)))
                .copied()
                .collect();
        }
        if tls12_on && versions.len() == 1 && tls12.is_empty() {
            return Err((
                "cipher_suites",
                "lists no TLS 1.2 cipher suite, but max_version is TLS12".into(),
            ));
        }
        if http2 && tls12_on && !t.cipher_suites.iter().any(|c| c.satisfies_http2()) {
            return Err((
                "cipher_suites",
                "TLSConfig.CipherSuites is missing an HTTP/2-required AES_128_GCM_SHA256 cipher: add \
                 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 or TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, or set \
                 http_server_config.http2: false"
                    .into(),
            ));
        }
        provider.cipher_suites = tls13.into_iter().chain(tls12).collect();
    }
    if !t.curve_preferences.is_empty() {
        let mut groups: Vec<&'static dyn rustls::crypto::SupportedKxGroup> = Vec::new();
        for c in &t.curve_preferences {
            if !groups.iter().any(|g| g.name() == c.group().name()) {
                groups.push(c.group());
            }
        }
        provider.kx_groups = groups;
    }
    Ok(provider)
}
