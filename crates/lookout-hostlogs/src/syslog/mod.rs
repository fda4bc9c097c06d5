//! The syslog receiver: UDP and TCP listeners parse messages into entries, one batching task pushes them.
//!
//! Labels: `job` (default `syslog`) and the configured ones, `hostname`, `app` (APP-NAME or TAG), `severity`
//! and `facility` (Promtail's names for the PRI parts), `level` (the journal's priority keyword), and the peer's
//! IP address in `peer_label` when configured. Structured metadata: `proc_id`, `msg_id` and every SD-PARAM as
//! `sd_<SD-ID>_<PARAM-NAME>` (characters outside `[A-Za-z0-9_]` become `_`, as Promtail turns `@` into `_`).

pub mod framing;
pub mod message;
pub mod rfc3164;
pub mod rfc5424;
mod server;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use lookout_model::LabelsBuilder;
use lookout_storage::logs::Entry;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::HostLogsError;
use crate::config::SyslogConfig;
use crate::labels::StaticLabels;
use crate::metrics::{DropReason, SourceMetrics, add, inc};
use crate::shipper::{Batch, Item, Shipper, Shutdown, now_ns};
use message::{SyslogMessage, facility_name, level_name, severity_name};

/// A running syslog receiver.
pub(crate) struct SyslogSource {
    /// Bound UDP addresses.
    pub udp: Vec<SocketAddr>,
    /// Bound TCP addresses.
    pub tcp: Vec<SocketAddr>,
    /// Its tasks: listeners first, the batching task last.
    pub tasks: Vec<JoinHandle<()>>,
}

/// Turns messages into entries.
pub(crate) struct Converter {
    labels: StaticLabels,
    peer_label: Option<String>,
    use_incoming_timestamp: bool,
    metrics: Arc<SourceMetrics>,
}

impl Converter {
    /// Parses `raw` from `peer` into an entry, counting it; `None` (counted) when malformed or empty.
    pub fn convert(&self, raw: &[u8], peer: Option<IpAddr>) -> Option<Item> {
        let now = now_ns();
        inc(&self.metrics.read);
        add(&self.metrics.read_bytes, raw.len() as u64);
        let msg = match message::parse(raw, now) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(error = %e, ?peer, "dropping malformed syslog message");
                self.metrics.dropped(DropReason::Malformed, 1);
                return None;
            }
        };
        if msg.message.is_empty() {
            self.metrics.dropped(DropReason::Empty, 1);
            return None;
        }
        Some(self.entry(msg, peer, now))
    }

    fn entry(&self, msg: SyslogMessage, peer: Option<IpAddr>, now: i64) -> Item {
        let mut b: LabelsBuilder = self.labels.builder();
        let set = |b: &mut LabelsBuilder, k: &str, v: Option<&str>| {
            if let Some(v) = v {
                b.set(k, v);
            }
        };
        set(&mut b, "hostname", msg.hostname.as_deref());
        set(&mut b, "app", msg.app_name.as_deref());
        b.set("severity", severity_name(msg.severity()));
        b.set("level", level_name(msg.severity()));
        b.set("facility", facility_name(msg.facility()));
        if let (Some(name), Some(ip)) = (&self.peer_label, peer) {
            b.set(name, &ip.to_string());
        }
        let mut metadata = Vec::new();
        if let Some(p) = msg.proc_id {
            metadata.push(("proc_id".to_string(), p));
        }
        if let Some(m) = msg.msg_id {
            metadata.push(("msg_id".to_string(), m));
        }
        for (id, params) in msg.structured_data {
            for (name, value) in params {
                metadata.push((sanitize(&format!("sd_{id}_{name}")), value));
            }
        }
        let ts = match msg.timestamp {
            Some(t) if self.use_incoming_timestamp => t,
            _ => now,
        };
        (
            b.build_unchecked(),
            Entry {
                ts,
                line: msg.message,
                metadata,
            },
        )
    }
}

/// Replaces characters a label name cannot hold with `_`.
fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Binds every listener (errors here fail startup) and starts the tasks.
pub(crate) fn start(
    cfg: &SyslogConfig,
    shipper: Shipper,
    metrics: Arc<SourceMetrics>,
    shutdown: Shutdown,
) -> Result<SyslogSource, HostLogsError> {
    let labels = StaticLabels::new(&cfg.job, &cfg.labels)?;
    if let Some(p) = &cfg.peer_label
        && !lookout_model::labels::is_valid_label_name(p)
    {
        return Err(HostLogsError::Config(format!(
            "syslog.peer_label {p:?} is not a valid label name"
        )));
    }
    let converter = Arc::new(Converter {
        labels,
        peer_label: cfg.peer_label.clone(),
        use_incoming_timestamp: cfg.use_incoming_timestamp,
        metrics: metrics.clone(),
    });
    let (tx, rx) = mpsc::channel::<Item>(4096);
    let mut src = SyslogSource {
        udp: Vec::new(),
        tcp: Vec::new(),
        tasks: Vec::new(),
    };
    let limits = server::Limits {
        max_message: cfg.max_message_length.0.max(1) as usize,
        max_connections: cfg.max_connections.max(1),
        idle_timeout: cfg.idle_timeout.as_duration(),
    };
    for addr in &cfg.udp_listen {
        let (bound, task) = server::udp(
            addr,
            &limits,
            converter.clone(),
            tx.clone(),
            shutdown.clone(),
        )?;
        src.udp.push(bound);
        src.tasks.push(task);
    }
    for addr in &cfg.tcp_listen {
        let (bound, task) = server::tcp(
            addr,
            &limits,
            converter.clone(),
            tx.clone(),
            shutdown.clone(),
        )?;
        src.tcp.push(bound);
        src.tasks.push(task);
    }
    drop(tx);
    src.tasks
        .push(tokio::spawn(batch_loop(rx, shipper, metrics)));
    Ok(src)
}

/// Collects entries until a batch is ready, pushes it; ends when every listener has ended.
async fn batch_loop(mut rx: mpsc::Receiver<Item>, shipper: Shipper, metrics: Arc<SourceMetrics>) {
    let mut batch = Batch::default();
    loop {
        let due = batch.due_at(shipper.cfg());
        tokio::select! {
            item = rx.recv() => match item {
                Some(item) => batch.add(item),
                None => break,
            },
            _ = async { tokio::time::sleep_until(due.unwrap().into()).await }, if due.is_some() => {}
        }
        if batch.ready(shipper.cfg())
            && let Err(stopped) = shipper.ship(batch.take(), false).await
        {
            metrics.dropped(DropReason::Shutdown, stopped.unshipped);
        }
    }
    if !batch.is_empty()
        && let Err(stopped) = shipper.ship(batch.take(), true).await
    {
        tracing::warn!(
            entries = stopped.unshipped,
            "syslog entries not stored at shutdown"
        );
        metrics.dropped(DropReason::Shutdown, stopped.unshipped);
    }
}

#[cfg(test)]
mod tests;
