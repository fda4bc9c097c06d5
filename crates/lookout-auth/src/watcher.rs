//! Hot reload of the web config file and the certificate, key and CA files it names. A poller compares every
//! file's contents (not only its time: Kubernetes swaps a symlink) and, when one changed, loads everything
//! anew. A good result replaces the published configuration atomically: new TLS connections get the new
//! certificate, open ones keep theirs. A bad result keeps the previous configuration and is recorded for the
//! logs and `lookout_web_config_last_reload_successful`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use lookout_model::{MetricKind, MetricsWriter};
use parking_lot::Mutex;
use rustls::ServerConfig;

use crate::error::WebConfigError;
use crate::file_stamp::{self, Stamps};
use crate::web_config::LoadedWebConfig;
use crate::web_config::load::load_stamped;
use crate::web_layer::WebConfigLayer;

/// The TLS configuration new connections use; swapped on reload. Cheap to clone.
#[derive(Clone)]
pub struct TlsReloader {
    inner: Arc<TlsState>,
}

struct TlsState {
    config: ArcSwap<ServerConfig>,
    handshake_failures: AtomicU64,
}

impl std::fmt::Debug for TlsReloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsReloader").finish_non_exhaustive()
    }
}

impl TlsReloader {
    /// A reloader serving `config` until [`TlsReloader::replace`] (used directly in tests and by the watcher).
    pub fn new(config: Arc<ServerConfig>) -> Self {
        TlsReloader {
            inner: Arc::new(TlsState {
                config: ArcSwap::new(config),
                handshake_failures: AtomicU64::new(0),
            }),
        }
    }

    /// The configuration for the next handshake.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        self.inner.config.load_full()
    }

    /// An acceptor for the next connection (take a fresh one per connection to follow reloads).
    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.server_config())
    }

    /// Whether the current configuration offers HTTP/2.
    pub fn http2(&self) -> bool {
        self.inner
            .config
            .load()
            .alpn_protocols
            .iter()
            .any(|p| p == b"h2")
    }

    /// Publishes a new configuration for new connections.
    pub fn replace(&self, config: Arc<ServerConfig>) {
        self.inner.config.store(config);
    }

    /// Counts a failed or timed-out handshake.
    pub(crate) fn handshake_failed(&self) {
        self.inner
            .handshake_failures
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Handshakes that failed or timed out so far.
    pub fn handshake_failures(&self) -> u64 {
        self.inner.handshake_failures.load(Ordering::Relaxed)
    }
}

/// The web config file, kept current. Cheap to clone; the poller stops when the last clone is dropped.
#[derive(Clone)]
pub struct WebConfigWatcher {
    inner: Arc<WatcherState>,
}

struct WatcherState {
    path: PathBuf,
    current: ArcSwap<LoadedWebConfig>,
    tls: Option<TlsReloader>,
    stamps: Mutex<Stamps>,
    last_error: Mutex<Option<WebConfigError>>,
    last_success: Mutex<SystemTime>,
    reloads: AtomicU64,
    failures: AtomicU64,
}

impl std::fmt::Debug for WebConfigWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfigWatcher")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl WebConfigWatcher {
    /// Loads the file at `path` and everything it names; an error here should stop startup, as in Prometheus.
    /// Blocking. Whether the server speaks TLS is decided now: switching it needs a restart.
    pub fn load(path: impl Into<PathBuf>) -> Result<Self, WebConfigError> {
        let path = path.into();
        let (result, stamps) = load_stamped(&path);
        let loaded = result?;
        let tls = loaded.tls.clone().map(TlsReloader::new);
        Ok(WebConfigWatcher {
            inner: Arc::new(WatcherState {
                path,
                current: ArcSwap::from_pointee(loaded),
                tls,
                stamps: Mutex::new(stamps),
                last_error: Mutex::new(None),
                last_success: Mutex::new(SystemTime::now()),
                reloads: AtomicU64::new(0),
                failures: AtomicU64::new(0),
            }),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The configuration in force.
    pub fn current(&self) -> Arc<LoadedWebConfig> {
        self.inner.current.load_full()
    }

    /// The TLS configuration to serve with, when the file turned HTTPS on at startup.
    pub fn tls(&self) -> Option<TlsReloader> {
        self.inner.tls.clone()
    }

    /// The error of the last reload attempt, when it failed (cleared by the next success).
    pub fn last_error(&self) -> Option<WebConfigError> {
        self.inner.last_error.lock().clone()
    }

    /// The layer applying the file's `http_server_config.headers` and `rate_limit` to every response.
    pub fn layer(&self) -> WebConfigLayer {
        WebConfigLayer::new(self.clone())
    }

    /// Reloads when any watched file changed: `Ok(true)` reloaded, `Ok(false)` nothing changed, `Err` the new
    /// files are unusable and the previous configuration stays. Blocking (reads files); also the SIGHUP path.
    pub fn check_now(&self) -> Result<bool, WebConfigError> {
        let s = &self.inner;
        let mut stamps = s.stamps.lock();
        if !file_stamp::changed(&stamps) {
            return Ok(false);
        }
        let (result, new_stamps) = load_stamped(&s.path);
        // Remember what was seen even on failure, so an unchanged broken file is not re-read and re-logged
        // every poll; the next change (a fix, or the second half of a cert/key rotation) triggers a retry.
        *stamps = new_stamps;
        let result = result.and_then(|loaded| {
            if loaded.tls.is_some() != s.tls.is_some() {
                return Err(WebConfigError::new(
                    &s.path,
                    Some("tls_server_config"),
                    "turning TLS on or off needs a restart of Lookout; the previous configuration stays",
                ));
            }
            Ok(loaded)
        });
        match result {
            Ok(loaded) => {
                if let (Some(tls), Some(config)) = (&s.tls, &loaded.tls) {
                    tls.replace(config.clone());
                }
                tracing::info!(
                    file = %s.path.display(),
                    certificate_serial = loaded.certificate_serial.as_deref().map(hex).unwrap_or_default(),
                    "web config reloaded"
                );
                s.current.store(Arc::new(loaded));
                s.reloads.fetch_add(1, Ordering::Relaxed);
                *s.last_success.lock() = SystemTime::now();
                *s.last_error.lock() = None;
                Ok(true)
            }
            Err(e) => {
                tracing::error!(error = %e, "web config reload failed; the previous configuration stays");
                s.failures.fetch_add(1, Ordering::Relaxed);
                *s.last_error.lock() = Some(e.clone());
                Err(e)
            }
        }
    }

    /// Polls every `every` on the tokio runtime (the reads run on the blocking pool); stops when the last
    /// handle to this watcher is dropped, or when the returned task is aborted.
    pub fn spawn_polling(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let weak: Weak<WatcherState> = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else {
                    return;
                };
                let watcher = WebConfigWatcher { inner };
                let _ = tokio::task::spawn_blocking(move || watcher.check_now()).await;
            }
        })
    }

    /// Renders `lookout_web_config_*` and `lookout_tls_*`.
    pub fn write_metrics(&self, out: &mut MetricsWriter) {
        let s = &self.inner;
        out.gauge(
            "lookout_web_config_last_reload_successful",
            "Whether the last reload of the web config file (and the files it names) succeeded.",
            s.last_error.lock().is_none(),
        );
        let since = s
            .last_success
            .lock()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        out.gauge(
            "lookout_web_config_last_reload_success_timestamp_seconds",
            "When the web config was last loaded successfully.",
            since,
        );
        out.counter(
            "lookout_web_config_reloads_total",
            "Successful reloads of the web config after a change.",
            s.reloads.load(Ordering::Relaxed),
        );
        out.counter(
            "lookout_web_config_reload_failures_total",
            "Reloads of the web config that failed; the previous configuration stayed.",
            s.failures.load(Ordering::Relaxed),
        );
        if let Some(tls) = &s.tls {
            out.counter(
                "lookout_tls_handshake_failures_total",
                "TLS handshakes that failed or timed out.",
                tls.handshake_failures(),
            );
            if let Some(t) = s.current.load().certificate_not_after {
                out.family(
                    "lookout_tls_certificate_expiry_timestamp_seconds",
                    MetricKind::Gauge,
                    "notAfter of the certificate served to new connections.",
                )
                .sample(&[], t as f64);
            }
        }
    }
}

/// Lower-case hex of `bytes` (certificate serials in logs).
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
