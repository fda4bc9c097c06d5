//! A fake Proxmox VE API for the integration tests: HTTPS on 127.0.0.1 (an ephemeral port) with a certificate from
//! a CA made at test time, serving the reference fixture (tests/fixtures, the 3-node cluster `lab` answered by
//! pve1), checking the token header or ticket cookie, and misbehaving on request (403, delays, qdevice modes,
//! no subscription). Also a small exposition parser and helpers to build exporters against it.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use lookout_proxmox::{ModuleConfig, ProxmoxConfig, ProxmoxExporter};
use parking_lot::Mutex;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::Value;

/// The API token the fake accepts: `PVEAPIToken=prometheus@pve!monitoring=<TOKEN_VALUE>`.
pub const USER: &str = "prometheus@pve";
/// The token id.
pub const TOKEN_NAME: &str = "monitoring";
/// The token secret.
pub const TOKEN_VALUE: &str = "5f3c9a1e-7d2b-4c6f-9e8a-0b1c2d3e4f50";
/// The password for ticket auth.
pub const PASSWORD: &str = "s3cret pass&word";

/// How the fake answers `/cluster/config/qdevice`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QDevice {
    /// `{}`: none configured.
    None,
    /// The fixture's Net QDevice.
    Present,
    /// HTTP 500.
    Error,
}

/// Knobs and the request log of a fake server.
#[derive(Debug)]
pub struct Behaviour {
    /// Accept token auth (else ticket auth only).
    pub token_auth: bool,
    /// 403 on `/cluster/status`.
    pub forbid_status: bool,
    /// Sleep this long before answering any GET.
    pub delay: Option<Duration>,
    /// The qdevice mode.
    pub qdevice: QDevice,
    /// `/nodes/pve1/subscription` says notfound.
    pub no_subscription: bool,
    /// Replies that replace the fixture's, by path below `/api2/json` (with `?query` when there is one).
    pub overrides: std::collections::HashMap<String, Value>,
    /// Every request as `METHOD /path?query`.
    pub log: Vec<String>,
}

/// A running fake API.
pub struct FakePve {
    /// `127.0.0.1:<port>`.
    pub addr: String,
    /// PEM of the CA that signed the server certificate.
    pub ca_pem: String,
    /// Shared knobs.
    pub behaviour: Arc<Mutex<Behaviour>>,
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A fixture file's JSON (the value of `data`).
pub fn fixture(name: &str) -> Value {
    let path = fixtures_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json_reply(status: StatusCode, body: Value, reason: Option<&'static str>) -> Response {
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        body.to_string(),
    )
        .into_response();
    if let Some(reason) = reason {
        // PVE writes its error text in the status line too.
        response
            .extensions_mut()
            .insert(hyper::ext::ReasonPhrase::from_static(reason.as_bytes()));
    }
    response
}

fn data(value: Value) -> Response {
    json_reply(StatusCode::OK, serde_json::json!({ "data": value }), None)
}

/// `application/x-www-form-urlencoded` decoding, enough for the login form.
fn form_decode(body: &[u8]) -> BTreeMap<String, String> {
    let decode = |s: &str| {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                    out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn ticket() -> String {
    fixture("ticket.json")["ticket"]
        .as_str()
        .unwrap()
        .to_string()
}

fn authorized(b: &Behaviour, headers: &HeaderMap) -> bool {
    if b.token_auth {
        let expected = format!("PVEAPIToken={USER}!{TOKEN_NAME}={TOKEN_VALUE}");
        return headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            == Some(&expected);
    }
    let cookie = format!("PVEAuthCookie={}", ticket());
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split("; ").any(|c| c == cookie))
}

async fn handle(
    State(state): State<Arc<Mutex<Behaviour>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (delay, token_auth) = {
        let mut b = state.lock();
        let line = format!(
            "{method} {}",
            uri.path_and_query().map_or("", |p| p.as_str())
        );
        b.log.push(line);
        (b.delay, b.token_auth)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let Some(path) = uri.path().strip_prefix("/api2/json") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if method == Method::POST && path == "/access/ticket" {
        let form = form_decode(&body);
        let ok = !token_auth
            && form.get("username").map(String::as_str) == Some(USER)
            && form.get("password").map(String::as_str) == Some(PASSWORD);
        return if ok {
            data(fixture("ticket.json"))
        } else {
            json_reply(
                StatusCode::UNAUTHORIZED,
                serde_json::json!({ "data": null }),
                Some("authentication failure"),
            )
        };
    }
    if method != Method::GET {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let b = state.lock();
    if !authorized(&b, &headers) {
        return json_reply(
            StatusCode::UNAUTHORIZED,
            serde_json::json!({ "data": null }),
            Some("invalid token value!"),
        );
    }
    let query = uri.query().unwrap_or("");
    let full = if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    };
    if let Some(value) = b.overrides.get(&full) {
        return data(value.clone());
    }
    match path {
        "/cluster/status" if b.forbid_status => json_reply(
            StatusCode::FORBIDDEN,
            serde_json::json!({ "data": null, "message": "Permission check failed (/, Sys.Audit)\n" }),
            Some("Permission check failed (/, Sys.Audit)"),
        ),
        "/cluster/status" => data(fixture("cluster_status.json")),
        "/cluster/resources" => {
            let all = fixture("cluster_resources.json");
            let keep = |kinds: &[&str]| {
                let list = all.as_array().unwrap().iter();
                Value::Array(
                    list.filter(|r| kinds.contains(&r["type"].as_str().unwrap()))
                        .cloned()
                        .collect(),
                )
            };
            match query {
                "" => data(all.clone()),
                "type=vm" => data(keep(&["qemu", "lxc"])),
                "type=storage" => data(keep(&["storage"])),
                _ => json_reply(
                    StatusCode::BAD_REQUEST,
                    serde_json::json!({"data": null, "errors": {"type": "value not allowed"}}),
                    Some("Parameter verification failed."),
                ),
            }
        }
        "/version" => data(fixture("version.json")),
        "/cluster/backup-info/not-backed-up" => data(fixture("not_backed_up.json")),
        "/cluster/config/qdevice" => match b.qdevice {
            QDevice::None => data(fixture("qdevice_none.json")),
            QDevice::Present => data(fixture("qdevice_present.json")),
            QDevice::Error => json_reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                serde_json::json!({ "data": null, "message": "unable to get QDevice status\n" }),
                Some("unable to get QDevice status"),
            ),
        },
        "/nodes/pve1/qemu" => data(fixture("nodes_pve1_qemu.json")),
        "/nodes/pve1/lxc" => data(fixture("nodes_pve1_lxc.json")),
        "/nodes/pve1/qemu/100/config" => data(fixture("qemu_100_config.json")),
        "/nodes/pve1/lxc/200/config" => data(fixture("lxc_200_config.json")),
        "/nodes/pve1/replication" => data(fixture("replication.json")),
        "/nodes/pve1/replication/100-0/status" => data(fixture("replication.json")[0].clone()),
        "/nodes/pve1/subscription" if b.no_subscription => {
            data(fixture("subscription_notfound.json"))
        }
        "/nodes/pve1/subscription" => data(fixture("subscription_active.json")),
        _ => json_reply(
            StatusCode::NOT_IMPLEMENTED,
            serde_json::json!({ "data": null, "message": format!("Method 'GET {path}' not implemented\n") }),
            None,
        ),
    }
}

/// A CA and a server certificate for 127.0.0.1 signed by it: (CA PEM, server cert DER, server key DER).
fn make_pki() -> (String, CertificateDer<'static>, PrivateKeyDer<'static>) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(
        rcgen::DnType::CommonName,
        "Proxmox Virtual Environment test CA",
    );
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let server_key = rcgen::KeyPair::generate().unwrap();
    let server_params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    let server_cert = server_params.signed_by(&server_key, &ca).unwrap();
    (
        ca.pem(),
        server_cert.der().clone(),
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
    )
}

impl FakePve {
    /// Starts a fake with token auth, no qdevice, an active subscription.
    pub async fn start() -> FakePve {
        let (ca_pem, cert, key) = make_pki();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let behaviour = Arc::new(Mutex::new(Behaviour {
            token_auth: true,
            forbid_status: false,
            delay: None,
            qdevice: QDevice::None,
            no_subscription: false,
            overrides: Default::default(),
            log: Vec::new(),
        }));
        let app = Router::new().fallback(handle).with_state(behaviour.clone());
        // The accept loop lives as long as the test's runtime.
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let app = app.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), TowerToHyperService::new(app))
                        .await;
                });
            }
        });
        FakePve {
            addr,
            ca_pem,
            behaviour,
        }
    }

    /// The request log so far.
    pub fn log(&self) -> Vec<String> {
        self.behaviour.lock().log.clone()
    }

    /// Writes the CA to `dir/ca.pem` and returns its path.
    pub fn write_ca(&self, dir: &tempfile::TempDir) -> String {
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, &self.ca_pem).unwrap();
        path.display().to_string()
    }
}

/// A token-auth module named `name` for `addr` trusting `ca_file`.
pub fn token_module(name: &str, addr: &str, ca_file: &str) -> ModuleConfig {
    let mut m = ModuleConfig::with_token(name, addr, USER, TOKEN_NAME, TOKEN_VALUE);
    m.tls_config.ca_file = Some(ca_file.to_string());
    m
}

/// An exporter over `modules`.
pub fn exporter(modules: Vec<ModuleConfig>) -> ProxmoxExporter {
    ProxmoxExporter::new(&ProxmoxConfig { modules }).unwrap()
}

/// Query parameters from pairs.
pub fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A parsed exposition: families (from TYPE lines) and samples keyed by `name{sorted labels}`.
#[derive(Debug, Default)]
pub struct Exposition {
    /// Family name → type.
    pub families: BTreeMap<String, String>,
    /// `name{a="x",b="y"}` → value.
    pub samples: BTreeMap<String, f64>,
}

impl Exposition {
    /// Samples of one metric name.
    pub fn count(&self, name: &str) -> usize {
        self.samples
            .keys()
            .filter(|k| k.split('{').next() == Some(name))
            .count()
    }
}

/// A sample key with labels sorted: `name{a="x",b="y"}`.
pub fn key(name: &str, labels: &[(&str, &str)]) -> String {
    let mut labels: Vec<_> = labels.to_vec();
    labels.sort();
    if labels.is_empty() {
        return name.to_string();
    }
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{name}{{{}}}", inner.join(","))
}

/// Parses the text format as written by the exporter (no escapes in the fixture's label values).
pub fn parse(text: &str) -> Exposition {
    let mut out = Exposition::default();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(
                out.families
                    .insert(name.to_string(), kind.to_string())
                    .is_none(),
                "family {name} twice"
            );
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => {
                let inner = rest.strip_suffix('}').unwrap();
                let pairs: Vec<(&str, &str)> = if inner.is_empty() {
                    Vec::new()
                } else {
                    inner
                        .split("\",")
                        .map(|p| {
                            let (k, v) = p.split_once("=\"").unwrap();
                            (k, v.trim_end_matches('"'))
                        })
                        .collect()
                };
                (name, pairs)
            }
            None => (series, Vec::new()),
        };
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line}"));
        let k = key(name, &labels);
        assert!(
            out.samples.insert(k.clone(), value).is_none(),
            "sample {k} twice"
        );
    }
    out
}
