//! Serving securely: the web config file (`--web.config.file`: TLS, `basic_auth_users`, headers), the `auth:`
//! section's roles and the accept loop with its connection limits, all from `lookout-auth`. The API's routes
//! declare their roles themselves (`lookout_api::route_table`); the UI needs `read`.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use axum::Router;
use lookout_api::SelfMetrics;
use lookout_auth::{
    AuthConfig, Authenticator, RequireRole, Role, ServeLimits, ServeMetrics, WebConfigWatcher,
};
use lookout_model::MetricsWriter;
use tokio::net::TcpListener;

use crate::config::ServerSection;

/// How often the web config file and the files it names are compared with what is loaded.
const WEB_CONFIG_POLL: Duration = Duration::from_secs(2);

/// The security settings in force and their watchers.
pub struct WebSecurity {
    /// Checks every request (letting all through while no user, token or proxy is configured).
    pub auth: Authenticator,
    /// The web config file, watched for changes.
    pub watcher: Option<WebConfigWatcher>,
    /// Connection counters.
    pub serve_metrics: Arc<ServeMetrics>,
    limits: ServeLimits,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl WebSecurity {
    /// Loads the web config file (an error stops the start, as in Prometheus) and builds the authenticator;
    /// starts the file watchers. Blocking file reads run on the blocking pool.
    pub async fn start(
        web_config: Option<&Path>,
        auth: Option<&AuthConfig>,
        server: &ServerSection,
    ) -> Result<WebSecurity> {
        let watcher = match web_config {
            Some(p) => {
                let path = p.to_path_buf();
                let w = tokio::task::spawn_blocking(move || WebConfigWatcher::load(path))
                    .await?
                    .with_context(|| format!("--web.config.file {}", p.display()))?;
                Some(w)
            }
            None => None,
        };
        // Always a live authenticator: with nothing configured it lets everything through, and a reload that adds
        // users, tokens or a proxy turns checking on without a restart.
        let auth = {
            let cfg = auth.cloned().unwrap_or_default();
            let watcher = watcher.clone();
            tokio::task::spawn_blocking(move || Authenticator::new(&cfg, watcher.as_ref()))
                .await?
                .context("auth")?
        };
        let mut tasks = Vec::new();
        if let Some(w) = &watcher {
            tasks.push(w.spawn_polling(WEB_CONFIG_POLL));
        }
        tasks.extend(auth.spawn_token_watch());
        Ok(WebSecurity {
            auth,
            watcher,
            serve_metrics: Arc::new(ServeMetrics::default()),
            limits: ServeLimits {
                max_connections: server.max_connections,
                header_read_timeout: server.header_read_timeout.as_duration(),
                max_header_bytes: server.max_header_bytes.0 as usize,
                body_read_timeout: server.body_read_timeout.as_duration(),
                ..ServeLimits::default()
            },
            tasks,
        })
    }

    /// Whether the server speaks HTTPS.
    pub fn tls(&self) -> bool {
        self.watcher.as_ref().is_some_and(|w| w.tls().is_some())
    }

    /// The UI's router behind the `read` role.
    pub fn ui(&self, prefix: &str) -> Router {
        lookout_ui::router()
            .route_layer(RequireRole::new(self.auth.clone(), Role::Read).with_route_prefix(prefix))
    }

    /// Wraps the finished router with the web config file's headers and rate limit.
    pub fn wrap(&self, app: Router) -> Router {
        match &self.watcher {
            Some(w) => app.layer(w.layer()),
            None => app,
        }
    }

    /// Serves `app` on `listener` (HTTPS when the web config file asks for it) until `shutdown`.
    pub fn serve(
        &self,
        listener: TcpListener,
        app: Router,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> impl std::future::Future<Output = std::io::Result<()>> + Send + 'static {
        let tls = self.watcher.as_ref().and_then(|w| w.tls());
        lookout_auth::serve(
            listener,
            app,
            tls,
            self.limits.clone(),
            self.serve_metrics.clone(),
            shutdown,
        )
    }

    /// Re-reads the web config file and applies a new `auth:` section (SIGHUP and `/-/reload`). Blocking.
    pub fn reload(&self, auth: Option<&AuthConfig>) -> Result<(), String> {
        if let Some(w) = &self.watcher {
            w.check_now()
                .map_err(|e| format!("web config file {}: {e}", w.path().display()))?;
        }
        let cfg = auth.cloned().unwrap_or_default();
        self.auth
            .apply_config(&cfg)
            .map_err(|e| format!("auth: {e}"))
    }

    /// The address to log: `https://` or `http://`.
    pub fn url(&self, addr: SocketAddr) -> String {
        let scheme = if self.tls() { "https" } else { "http" };
        format!("{scheme}://{addr}")
    }
}

impl Drop for WebSecurity {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl SelfMetrics for WebSecurity {
    fn write_metrics(&self, out: &mut MetricsWriter) {
        self.auth.write_metrics(out);
        if let Some(w) = &self.watcher {
            w.write_metrics(out);
        }
        self.serve_metrics.write_metrics(out);
    }
}
