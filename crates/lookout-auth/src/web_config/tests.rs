//! Parsing and loading web config files shaped like Prometheus's docs and exporter-toolkit's test files, and
//! every error path with its message.

use std::path::{Path, PathBuf};

use super::*;

/// A temporary directory holding a self-signed certificate (`server.crt`, `server.key`), a second key that does
/// not match it (`other.key`) and a CA file (`ca.crt`).
struct Files {
    dir: tempfile::TempDir,
    cert_pem: String,
    key_pem: String,
}

impl Files {
    fn new() -> Files {
        let dir = tempfile::tempdir().unwrap();
        let c = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let other = rcgen::generate_simple_self_signed(vec!["other".into()]).unwrap();
        let (cert_pem, key_pem) = (c.cert.pem(), c.signing_key.serialize_pem());
        std::fs::write(dir.path().join("server.crt"), &cert_pem).unwrap();
        std::fs::write(dir.path().join("server.key"), &key_pem).unwrap();
        std::fs::write(
            dir.path().join("other.key"),
            other.signing_key.serialize_pem(),
        )
        .unwrap();
        std::fs::write(dir.path().join("ca.crt"), other.cert.pem()).unwrap();
        std::fs::write(dir.path().join("empty"), "").unwrap();
        Files {
            dir,
            cert_pem,
            key_pem,
        }
    }

    /// Writes `yaml` as the web config file and returns its path.
    fn config(&self, yaml: &str) -> PathBuf {
        let p = self.dir.path().join("web.yml");
        std::fs::write(&p, yaml).unwrap();
        p
    }

    fn load(&self, yaml: &str) -> Result<LoadedWebConfig, WebConfigError> {
        load(&self.config(yaml))
    }

    /// The error of loading `yaml`, as text, with the key path it names.
    fn error(&self, yaml: &str) -> (Option<String>, String) {
        let e = self.load(yaml).expect_err(yaml);
        assert_eq!(e.path, self.dir.path().join("web.yml"));
        (e.at.clone(), e.to_string())
    }
}

const TLS: &str = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n";

fn hash() -> String {
    crate::password::hash_password("pw", 4).unwrap()
}

#[test]
fn empty_and_comment_only_files_mean_plain_http_without_auth() {
    let f = Files::new();
    for yaml in ["", "\n", "# nothing\n---\n"] {
        let l = f.load(yaml).unwrap();
        assert!(l.tls.is_none());
        assert!(!l.config.has_users());
        assert!(l.config.http_server_config.http2);
    }
    // Sections present but null, as Go's YAML decoder accepts.
    let l = f
        .load("tls_server_config:\nhttp_server_config:\nbasic_auth_users:\nrate_limit:\n")
        .unwrap();
    assert!(l.tls.is_none());
}

#[test]
fn docs_sample_with_relative_files_users_and_rate_limit() {
    let f = Files::new();
    let h = hash();
    let yaml = format!(
        "{TLS}basic_auth_users:\n  alice: {h}\n  bob: '{h}'\nrate_limit:\n  interval: \"1s\"\n  burst: 20\n"
    );
    let l = f.load(&yaml).unwrap();
    let c = &l.config;
    assert_eq!(
        Path::new(&c.tls_server_config.cert_file),
        f.dir.path().join("server.crt")
    );
    assert_eq!(c.basic_auth_users.len(), 2);
    assert_eq!(c.basic_auth_users["alice"].expose(), h);
    assert_eq!(c.rate_limit.interval, Duration::from_secs(1));
    assert_eq!(c.rate_limit.burst, 20);
    let tls = l.tls.expect("TLS on");
    assert_eq!(
        tls.alpn_protocols,
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    );
    assert!(
        tls.ignore_client_order,
        "prefer_server_cipher_suites defaults to true"
    );
    assert!(l.certificate_not_after.unwrap() > 1_700_000_000);
    assert!(!l.certificate_serial.unwrap().is_empty());
    // Go durations as integer nanoseconds; zero turns the limiter off.
    let l = f
        .load("rate_limit:\n  interval: 1000000000\n  burst: 1\n")
        .unwrap();
    assert_eq!(l.config.rate_limit.interval, Duration::from_secs(1));
    let l = f.load("rate_limit:\n  interval: 0\n  burst: 0\n").unwrap();
    assert!(l.config.rate_limit.interval.is_zero());
}

#[test]
fn every_tls_option_is_accepted() {
    let f = Files::new();
    let yaml = format!(
        "{TLS}  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.crt\n  client_allowed_sans: [one, two]\n  min_version: TLS12\n  max_version: TLS13\n  cipher_suites:\n    - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\n    - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n    - TLS_AES_128_GCM_SHA256\n  prefer_server_cipher_suites: false\n  curve_preferences: [X25519, CurveP256, CurveP384]\nhttp_server_config:\n  http2: false\n"
    );
    let l = f.load(&yaml).unwrap();
    let t = &l.config.tls_server_config;
    assert_eq!(t.client_auth(), ClientAuthType::VerifyClientCertIfGiven);
    assert_eq!(
        t.cipher_suites.iter().map(|c| c.name()).collect::<Vec<_>>(),
        vec![
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_AES_128_GCM_SHA256"
        ]
    );
    let tls = l.tls.unwrap();
    assert!(!tls.ignore_client_order);
    assert_eq!(tls.alpn_protocols, vec![b"http/1.1".to_vec()]);
    let suites: Vec<_> = tls
        .crypto_provider()
        .cipher_suites
        .iter()
        .map(|s| s.suite())
        .collect();
    assert_eq!(
        suites,
        vec![
            rustls::CipherSuite::TLS13_AES_128_GCM_SHA256,
            rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ]
    );
    let groups: Vec<_> = tls
        .crypto_provider()
        .kx_groups
        .iter()
        .map(|g| g.name())
        .collect();
    assert_eq!(
        groups,
        vec![
            rustls::NamedGroup::X25519,
            rustls::NamedGroup::secp256r1,
            rustls::NamedGroup::secp384r1
        ]
    );
    // Old spelling of RequireAnyClientCert, and the other policies without a CA.
    for policy in [
        "RequireClientCert",
        "RequireAnyClientCert",
        "RequestClientCert",
        "NoClientCert",
    ] {
        f.load(&format!("{TLS}  client_auth_type: {policy}\n"))
            .unwrap();
    }
    // TLS 1.0/1.1 as a minimum mean "anything rustls speaks".
    f.load(&format!("{TLS}  min_version: TLS10\n")).unwrap();
}

#[test]
fn inline_certificate_and_key() {
    let f = Files::new();
    let indent = |s: &str| s.lines().map(|l| format!("    {l}\n")).collect::<String>();
    let yaml = format!(
        "tls_server_config:\n  cert: |\n{}  key: |\n{}",
        indent(&f.cert_pem),
        indent(&f.key_pem)
    );
    let l = f.load(&yaml).unwrap();
    assert!(l.tls.is_some());
    // The inline key never shows.
    let shown = format!("{:?} {:?}", l.config, l.config.redacted());
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    assert_eq!(
        l.config.redacted().tls_server_config.key.expose(),
        "<secret>"
    );
}

#[test]
fn headers_only_the_documented_security_headers() {
    let f = Files::new();
    let l = f
        .load("http_server_config:\n  headers:\n    X-Frame-Options: deny\n    Strict-Transport-Security: max-age=31536000; includeSubDomains\n    X-Content-Type-Options: nosniff\n    X-XSS-Protection: '1'\n    Content-Security-Policy: \"default-src 'self'\"\n    Content-Security-Policy-Report-Only: x\n")
        .map(|_| ())
        .unwrap_err();
    assert_eq!(
        l.at.as_deref(),
        Some("http_server_config.headers.Content-Security-Policy-Report-Only")
    );
    let l = f
        .load("http_server_config:\n  headers:\n    X-Frame-Options: sameorigin\n    X-XSS-Protection: ''\n    Content-Security-Policy: \"default-src 'self'\"\n")
        .unwrap();
    let headers: Vec<_> = l.config.response_headers().collect();
    assert_eq!(
        headers,
        vec![
            ("Content-Security-Policy", "default-src 'self'"),
            ("X-Frame-Options", "sameorigin")
        ],
        "blank values are unset"
    );
    let (at, e) = f.error("http_server_config:\n  headers:\n    Content-Type: foo\n");
    assert_eq!(
        at.as_deref(),
        Some("http_server_config.headers.Content-Type")
    );
    assert!(
        e.contains("HTTP header \"Content-Type\" can not be configured"),
        "{e}"
    );
    let (_, e) = f.error("http_server_config:\n  headers:\n    X-Frame-Options: foo\n");
    assert!(e.contains("invalid value for X-Frame-Options. Expected one of: [\"deny\", \"sameorigin\"], but got: \"foo\""), "{e}");
    let (_, e) = f.error("http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n");
    assert!(
        e.contains("invalid value for X-Content-Type-Options"),
        "{e}"
    );
}

#[test]
fn yaml_errors_name_the_key() {
    let f = Files::new();
    let (at, e) = f.error("tls_server_config:\n  cert_filse: server.crt\n");
    assert_eq!(at.as_deref(), Some("tls_server_config.cert_filse"), "{e}");
    assert!(
        e.contains("tls_server_config.cert_filse: unknown field `cert_filse`"),
        "{e}"
    );
    assert!(e.contains("line 2"), "{e}");
    let (at, e) = f.error("basic_auth_user:\n  a: b\n");
    assert_eq!(at.as_deref(), Some("basic_auth_user"), "{e}");
    let (_, e) = f.error("hWkNKCp3fvIx3jKnsaBI\nTuEjdwNS8A2vYdFbiKqr\n");
    assert!(e.contains("web.yml"), "{e}");
    let (at, e) = f.error("http_server_config:\n  http2: maybe\n");
    assert_eq!(at.as_deref(), Some("http_server_config.http2"), "{e}");
    let (at, e) = f.error("rate_limit:\n  interval: soon\n  burst: 1\n");
    assert_eq!(at.as_deref(), Some("rate_limit.interval"), "{e}");
    let (at, e) = f.error("rate_limit:\n  interval: 1s\n  burst: 0\n");
    assert_eq!(at.as_deref(), Some("rate_limit.burst"), "{e}");
    let e = load(&f.dir.path().join("missing.yml")).unwrap_err();
    assert!(e.to_string().contains("cannot read"), "{e}");
}

#[test]
fn bad_password_hashes_are_refused_at_load() {
    let f = Files::new();
    let (at, e) = f.error(&format!("{TLS}basic_auth_users:\n  john: doe\n"));
    assert_eq!(at.as_deref(), Some("basic_auth_users.john"));
    assert!(e.contains("not a bcrypt hash"), "{e}");
    let shown = format!(
        "{:?}",
        f.load(&format!("basic_auth_users:\n  john: {}\n", hash()))
            .unwrap()
            .config
    );
    assert!(!shown.contains("$2y$"), "{shown}");
}

#[test]
fn tls_name_errors() {
    let f = Files::new();
    let cases = [
        (
            "  min_version: TLS111\n",
            "tls_server_config.min_version",
            "unknown TLS version: \"TLS111\"",
        ),
        (
            "  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA2048]\n",
            "tls_server_config.cipher_suites[0]",
            "unknown cipher: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA2048",
        ),
        (
            "  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA]\n",
            "tls_server_config.cipher_suites[1]",
            "unsupported cipher: TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        ),
        (
            "  curve_preferences: [CurveP257]\n",
            "tls_server_config.curve_preferences[0]",
            "unknown curve: CurveP257",
        ),
        (
            "  curve_preferences: [X25519, CurveP521]\n",
            "tls_server_config.curve_preferences[1]",
            "unsupported curve: CurveP521",
        ),
        (
            "  client_auth_type: x\n",
            "tls_server_config.client_auth_type",
            "invalid ClientAuth: \"x\"",
        ),
    ];
    for (extra, want_at, want) in cases {
        let (at, e) = f.error(&format!("{TLS}{extra}"));
        assert_eq!(at.as_deref(), Some(want_at), "{e}");
        assert!(e.contains(want), "{e}");
    }
}

#[test]
fn tls_setting_errors() {
    let f = Files::new();
    let cases = [
        (
            "tls_server_config:\n  cert_file: ''\n  key_file: server.key\n",
            "tls_server_config.cert_file",
            "missing one of cert or cert_file",
        ),
        (
            "tls_server_config:\n  cert: ''\n  key_file: server.key\n",
            "tls_server_config.cert_file",
            "missing one of cert or cert_file",
        ),
        (
            "tls_server_config:\n  cert_file: ''\n  key_file: ''\n  client_auth_type: NoClientCert\n",
            "tls_server_config.cert_file",
            "missing one of cert or cert_file",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: ''\n",
            "tls_server_config.key_file",
            "missing one of key or key_file",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key: ''\n",
            "tls_server_config.key_file",
            "missing one of key or key_file",
        ),
        (
            "tls_server_config:\n  cert_file: somefile\n  key_file: server.key\n",
            "tls_server_config.cert_file",
            "failed to read cert_file (",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: somefile\n",
            "tls_server_config.key_file",
            "failed to read key_file (",
        ),
        (
            "tls_server_config:\n  cert_file: empty\n  key_file: server.key\n",
            "tls_server_config.cert_file",
            "no PEM certificate",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.crt\n",
            "tls_server_config.key_file",
            "no PEM private key",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: other.key\n",
            "tls_server_config.key_file",
            "does not match the certificate",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_ca_file: ca.crt\n",
            "tls_server_config.client_auth_type",
            "client CA's have been configured without a Client Auth Policy",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n",
            "tls_server_config.client_ca_file",
            "needs client_ca_file or client_ca",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: VerifyClientCertIfGiven\n",
            "tls_server_config.client_ca_file",
            "needs client_ca_file or client_ca",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: empty\n",
            "tls_server_config.client_ca_file",
            "no PEM certificate",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: somefile\n",
            "tls_server_config.client_ca_file",
            "failed to read client_ca_file",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_allowed_sans: [a]\n",
            "tls_server_config.client_allowed_sans",
            "needs a client_auth_type",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  max_version: TLS11\n",
            "tls_server_config.max_version",
            "TLS11 is not supported",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS13\n  max_version: TLS12\n",
            "tls_server_config.min_version",
            "min_version TLS13 is above max_version TLS12",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]\n  max_version: TLS12\n",
            "tls_server_config.cipher_suites",
            "missing an HTTP/2-required AES_128_GCM_SHA256 cipher",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n  max_version: TLS12\nhttp_server_config: {http2: false}\n",
            "tls_server_config.cipher_suites",
            "lists no TLS 1.2 cipher suite",
        ),
    ];
    for (yaml, want_at, want) in cases {
        let (at, e) = f.error(yaml);
        assert_eq!(at.as_deref(), Some(want_at), "{yaml}: {e}");
        assert!(e.contains(want), "{yaml}: {e}");
    }
    // Prometheus's own remedies are accepted: no HTTP/2 with that single suite, or TLS 1.3 only.
    f.load("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]\n  max_version: TLS12\nhttp_server_config:\n  http2: false\n").unwrap();
    f.load("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS13\n  curve_preferences: [CurveP384]\n").unwrap();
}

#[test]
fn tls_settings_alone_leave_plain_http() {
    // As in Prometheus: only certificate, key, CA or client-auth settings turn HTTPS on.
    let f = Files::new();
    let l = f
        .load("tls_server_config:\n  min_version: TLS13\n")
        .unwrap();
    assert!(l.tls.is_none());
}
