//! Kubernetes pod logs on a node, as the Promtail helm chart's `kubernetes-pods` job tails them: the kubelet's
//! `/var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart count>.log` files, in CRI or docker JSON format
//! (detected per line), through the file tailer (rotation, positions saved after acknowledged pushes, size limit).
//!
//! Each container's entries carry `namespace`, `pod`, `container`, `stream` (`stdout`/`stderr`), `job` and the
//! labels [`PodMetadata`] gives for the pod (the chart's `app`, `instance`, `component`, `node_name`). The entry
//! time is the line's; partial lines are joined. Positions go to `pods-positions.json` in the state directory.

mod discovery;
mod format;
mod lines;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::HostLogsError;
use crate::config::PodsConfig;
use crate::files::{self, FilesState, Format, Target};
use crate::labels::StaticLabels;
use crate::metrics::SourceMetrics;
use crate::shipper::{Shipper, Shutdown};
use discovery::PodDiscovery;
pub(crate) use format::Stream;
pub(crate) use lines::ContainerLines;

/// Labels of pods from the Kubernetes API, implemented by the binary from its watches.
///
/// Promtail's `kubernetes-pods` job (Grafana's helm chart) sets, and an implementation should return:
/// `app` (the pod label `app.kubernetes.io/name`, else `app`, else the controller name without its hash suffix,
/// else the pod name), `instance` (`app.kubernetes.io/instance`, else `instance`), `component`
/// (`app.kubernetes.io/component`, else `component`) and `node_name`; empty values are left out. A `job` returned
/// here replaces the derived one. Names that are not valid label names, or start with `__`, are ignored.
pub trait PodMetadata: Send + Sync {
    /// The labels of pod `namespace/pod` with uid `uid`, or `None` when it is not known (yet): the source then
    /// asks again at every poll, for at most `metadata_wait`. Called from a blocking thread; must be quick.
    fn labels(&self, namespace: &str, pod: &str, uid: &str) -> Option<BTreeMap<String, String>>;
}

/// Checks the configuration and starts the pods task.
pub(crate) fn start(
    cfg: &PodsConfig,
    state_dir: &Path,
    metadata: Option<Arc<dyn PodMetadata>>,
    shipper: Shipper,
    metrics: Arc<SourceMetrics>,
    shutdown: Shutdown,
) -> Result<JoinHandle<()>, HostLogsError> {
    let patterns = |list: &[String], what: &str| {
        list.iter()
            .map(|p| {
                glob::Pattern::new(p).map_err(|e| {
                    HostLogsError::Config(format!("pods.namespaces.{what}: bad pattern {p:?}: {e}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()
    };
    let include = patterns(&cfg.namespaces.include, "include")?;
    let exclude = patterns(&cfg.namespaces.exclude, "exclude")?;
    let labels = StaticLabels::new("", &cfg.labels)?;
    for reserved in ["namespace", "pod", "container", "stream"] {
        if cfg.labels.contains_key(reserved) {
            return Err(HostLogsError::Config(format!(
                "pods.labels: {reserved:?} is set from the pod log path"
            )));
        }
    }
    let target = Target {
        format: Format::Container,
        multiline: None,
        max_line: cfg.max_line_size.0 as usize,
        truncate: cfg.max_line_size_truncate,
        tail_from_end: cfg.tail_from_end,
    };
    let discovery = PodDiscovery::new(
        PathBuf::from(&cfg.path),
        include,
        exclude,
        labels,
        metadata,
        cfg.metadata_wait.as_duration(),
        metrics.clone(),
    );
    let sync = cfg.sync_period.as_duration();
    let poll = cfg
        .poll_interval
        .as_duration()
        .max(Duration::from_millis(10));
    let m = metrics.clone();
    let state = move |saved| FilesState::new(vec![target], Box::new(discovery), saved, sync, m);
    Ok(files::spawn(
        state,
        &state_dir.join("pods-positions.json"),
        poll,
        shipper,
        metrics,
        shutdown,
    ))
}

#[cfg(test)]
mod tests;
