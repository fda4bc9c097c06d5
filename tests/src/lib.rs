//! Helpers for the end-to-end tests: start Lookout in-process on 127.0.0.1, run peer processes, talk HTTP.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lookout::serve::{ServeArgs, Server};

pub mod fake_kube;

/// A running Lookout and its data directory.
pub struct Lookout {
    /// The server.
    pub server: Server,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Lookout {
    /// Starts Lookout on an ephemeral loopback port with `config` (YAML) or the embedded default.
    pub async fn start(config: Option<&str>) -> Lookout {
        Self::start_with_files(config, &[]).await
    }

    /// Like [`Lookout::start`], with `files` (name, text) written next to the configuration file first (rule
    /// files named relative to it).
    pub async fn start_with_files(config: Option<&str>, files: &[(&str, &str)]) -> Lookout {
        Self::start_mode(config, files, false).await
    }

    /// Starts `lookout agent` in-process on an ephemeral loopback port with `config` (YAML).
    pub async fn start_agent(config: &str) -> Lookout {
        Self::start_mode(Some(config), &[], true).await
    }

    async fn start_mode(config: Option<&str>, files: &[(&str, &str)], agent: bool) -> Lookout {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).expect("write file");
        }
        let config_path = config.map(|text| {
            let p = dir.path().join("lookout.yml");
            std::fs::write(&p, text).expect("write config");
            p
        });
        let args = ServeArgs {
            config: config_path,
            data_dir: Some(dir.path().join("data")),
            listen: Some("127.0.0.1:0".into()),
            memory_limit: Some("512MiB".into()),
            log_format: None,
            web_config_file: None,
            wal_repair: false,
            drop_damaged_parts: false,
            agent,
        };
        let server = Server::start(args).await.expect("lookout starts");
        let url = format!("http://{}", server.addr);
        Lookout {
            server,
            url,
            _dir: dir,
        }
    }

    /// Stops the server (as a clean shutdown) and starts it again on the same configuration and data directory.
    pub async fn restart(self) -> Lookout {
        self.restart_with(|| {}).await
    }

    /// Like [`Lookout::restart`], running `while_down` between the stop and the start.
    pub async fn restart_with(self, while_down: impl FnOnce()) -> Lookout {
        let Lookout { server, _dir, .. } = self;
        server.stop().await.expect("lookout stops");
        while_down();
        let config = _dir.path().join("lookout.yml");
        let args = ServeArgs {
            config: config.exists().then_some(config),
            data_dir: Some(_dir.path().join("data")),
            listen: Some("127.0.0.1:0".into()),
            memory_limit: Some("512MiB".into()),
            log_format: None,
            web_config_file: None,
            wal_repair: false,
            drop_damaged_parts: false,
            agent: false,
        };
        let server = Server::start(args).await.expect("lookout restarts");
        let url = format!("http://{}", server.addr);
        Lookout { server, url, _dir }
    }

    /// The directory holding the configuration file (and the files written next to it).
    pub fn dir(&self) -> &Path {
        self._dir.path()
    }

    /// The configuration file written at start, if any.
    pub fn config_path(&self) -> Option<std::path::PathBuf> {
        let p = self._dir.path().join("lookout.yml");
        p.exists().then_some(p)
    }
}

/// A free TCP port on 127.0.0.1 (bound and released; peers bind it right after).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A child process killed when dropped.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a peer program; panics with a clear message when it is not installed.
pub fn spawn_peer(program: &str, args: &[&str], cwd: &Path) -> ChildGuard {
    let child = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} is needed for this test (.ci/run installs it): {e}"));
    ChildGuard(child)
}

/// Polls `check` every 250 ms until it returns Some or `timeout` passes.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The status and the body as JSON (non-JSON bodies become a JSON string).
async fn status_and_json(resp: reqwest::Response) -> (u16, serde_json::Value) {
    let code = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    (code, json)
}

/// GETs a URL and parses JSON.
pub async fn get_json(url: &str) -> (u16, serde_json::Value) {
    let resp = reqwest::get(url).await;
    status_and_json(resp.unwrap_or_else(|e| panic!("GET {url}: {e}"))).await
}

/// GETs a URL as text, with its status.
pub async fn get_text(url: &str) -> (u16, String) {
    let resp = reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let code = resp.status().as_u16();
    (code, resp.text().await.unwrap_or_default())
}

/// The result vector of an instant PromQL query (empty on any error).
pub async fn instant_query(url: &str, q: &str) -> Vec<serde_json::Value> {
    let (_, j) = get_json(&format!("{url}/api/v1/query?query={}", urlencode(q))).await;
    j["data"]["result"].as_array().cloned().unwrap_or_default()
}

/// Percent-encodes everything but unreserved characters, for query strings.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// POSTs a form and parses JSON.
pub async fn post_form(url: &str, form: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let resp = reqwest::Client::new().post(url).form(form).send().await;
    status_and_json(resp.unwrap_or_else(|e| panic!("POST {url}: {e}"))).await
}

/// POSTs raw bytes with headers.
pub async fn post_bytes(
    url: &str,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let mut req = reqwest::Client::new().post(url).body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    status_and_json(
        req.send()
            .await
            .unwrap_or_else(|e| panic!("POST {url}: {e}")),
    )
    .await
}

/// Serves a fixed exposition at `http://ADDR/metrics` on 127.0.0.1 for the rest of the test.
pub async fn serve_fixed(body: &'static str) -> std::net::SocketAddr {
    let app =
        axum::Router::new().route("/metrics", axum::routing::get(move || async move { body }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("bound address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// The scrape pools (job names) of `/api/v1/scrape_pools`.
pub async fn scrape_pools(url: &str) -> Vec<String> {
    let (_, j) = get_json(&format!("{url}/api/v1/scrape_pools")).await;
    j["data"]["scrapePools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// Percent-encodes a query parameter value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
