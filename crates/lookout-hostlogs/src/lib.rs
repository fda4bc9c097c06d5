//! Lookout's host log sources, what Promtail/Alloy do on a Proxmox host or Kubernetes node: the systemd journal
//! (through `journalctl`), a syslog receiver (RFC 5424/3164 over UDP and TCP), file tailing and Kubernetes pod
//! logs (`/var/log/pods`), each pushing batches to a [`LogSink`]. A source's progress (journal cursor, file positions) is saved in the state directory only after
//! the push carrying its entries was acknowledged, so a restart neither loses nor duplicates acknowledged entries.

pub mod config;
mod files;
mod journal;
mod labels;
mod metrics;
mod pods;
mod shipper;
pub mod syslog;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lookout_model::MetricsWriter;
use lookout_storage::logs::LogSink;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{
    BatchConfig, FileTargetConfig, HostLogsConfig, JournalConfig, MultilineConfig, NamespaceFilter,
    PodsConfig, SyslogConfig,
};
pub use pods::PodMetadata;

use metrics::SourceMetrics;
use shipper::{Shipper, Shutdown};

/// Why the host log sources could not start.
#[derive(Debug, thiserror::Error)]
pub enum HostLogsError {
    /// The configuration is invalid.
    #[error("invalid host logs configuration: {0}")]
    Config(String),
    /// A syslog listener could not bind.
    #[error("syslog: cannot listen on {addr}: {source}")]
    Bind {
        /// The configured address.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The state directory is unusable.
    #[error("host logs state directory {path}: {source}")]
    State {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The running host log sources.
pub struct HostLogs {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    metrics: Vec<(&'static str, Arc<SourceMetrics>)>,
    syslog_udp: Vec<SocketAddr>,
    syslog_tcp: Vec<SocketAddr>,
}

impl HostLogs {
    /// Starts every configured source (inside a tokio runtime). Listeners bind and configuration is checked
    /// here; journalctl and file errors are reported in metrics and logs and retried. Pod logs get the path
    /// labels only (see [`HostLogs::start_with_pod_metadata`]).
    pub fn start(
        config: HostLogsConfig,
        state_dir: &Path,
        sink: Arc<dyn LogSink>,
    ) -> Result<HostLogs, HostLogsError> {
        Self::start_with_pod_metadata(config, state_dir, sink, None)
    }

    /// [`HostLogs::start`], with the pods source labelling pod streams from `pod_metadata` (the binary's
    /// Kubernetes watches) when given.
    pub fn start_with_pod_metadata(
        config: HostLogsConfig,
        state_dir: &Path,
        sink: Arc<dyn LogSink>,
        pod_metadata: Option<Arc<dyn PodMetadata>>,
    ) -> Result<HostLogs, HostLogsError> {
        std::fs::create_dir_all(state_dir).map_err(|source| HostLogsError::State {
            path: state_dir.to_path_buf(),
            source,
        })?;
        let (stop, shutdown) = Shutdown::new();
        let mut this = HostLogs {
            stop,
            tasks: Vec::new(),
            metrics: Vec::new(),
            syslog_udp: Vec::new(),
            syslog_tcp: Vec::new(),
        };
        let shipper = |name: &'static str, m: &Arc<SourceMetrics>| {
            Shipper::new(
                sink.clone(),
                m.clone(),
                config.batch.clone(),
                shutdown.clone(),
                name,
            )
        };
        // On an error below, dropping `this` drops the stop sender, which stops the sources already started.
        if let Some(cfg) = &config.journal {
            let m = Arc::new(SourceMetrics::default());
            let task = journal::start(
                cfg,
                state_dir,
                shipper("journal", &m),
                m.clone(),
                shutdown.clone(),
            )?;
            this.tasks.push(task);
            this.metrics.push(("journal", m));
        }
        if let Some(cfg) = &config.syslog {
            let m = Arc::new(SourceMetrics::default());
            let src = syslog::start(cfg, shipper("syslog", &m), m.clone(), shutdown.clone())?;
            this.syslog_udp = src.udp;
            this.syslog_tcp = src.tcp;
            this.tasks.extend(src.tasks);
            this.metrics.push(("syslog", m));
        }
        if !config.files.is_empty() {
            let m = Arc::new(SourceMetrics::default());
            let task = files::start(
                &config.files,
                state_dir,
                shipper("file", &m),
                m.clone(),
                shutdown.clone(),
            )?;
            this.tasks.push(task);
            this.metrics.push(("file", m));
        }
        if let Some(cfg) = &config.pods {
            let m = Arc::new(SourceMetrics::default());
            let task = pods::start(
                cfg,
                state_dir,
                pod_metadata,
                shipper("pods", &m),
                m.clone(),
                shutdown.clone(),
            )?;
            this.tasks.push(task);
            this.metrics.push(("pods", m));
        }
        Ok(this)
    }

    /// The bound syslog UDP addresses, in configuration order.
    pub fn syslog_udp_addrs(&self) -> &[SocketAddr] {
        &self.syslog_udp
    }

    /// The bound syslog TCP addresses, in configuration order.
    pub fn syslog_tcp_addrs(&self) -> &[SocketAddr] {
        &self.syslog_tcp
    }

    /// Stops every source: listeners close, journalctl is killed, pending entries get a last push (retried
    /// for a few seconds at most) and progress is saved for what was stored.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            if let Err(e) = t.await {
                tracing::warn!(error = %e, "host log source task failed");
            }
        }
    }

    /// Writes the sources' `lookout_hostlogs_*` metrics.
    pub fn write_metrics(&self, out: &mut MetricsWriter) {
        let sources: Vec<(&str, &SourceMetrics)> =
            self.metrics.iter().map(|(n, m)| (*n, m.as_ref())).collect();
        metrics::write_all(&sources, out);
    }
}
