//! The pods source's discovery: the kubelet's tree `<root>/<namespace>_<pod>_<uid>/<container>/<n>.log` listed,
//! namespaces filtered, and each pod's labels built once when its directory is first seen.
//!
//! Only `<n>.log` files are tailed: the kubelet's rotated `<n>.log.<timestamp>` and their `.gz` are not (a file
//! renamed away is read to its end through its open handle by the tailer). A pod's metadata is asked for when its
//! directory appears; while the answer is `None` (the watch cache may not have the pod yet) it is asked again at
//! every poll, its files wait and their saved positions are kept, until it answers or `metadata_wait` passed
//! (then the path labels alone are used). A pod directory that disappears is forgotten: its open files are read
//! to their end and closed, and their positions are no longer saved.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use lookout_model::labels::is_valid_label_name;
use lookout_model::{Labels, LabelsBuilder};

use super::PodMetadata;
use crate::files::{Discovery, Found};
use crate::labels::StaticLabels;
use crate::metrics::{SourceMetrics, inc};

/// A pod directory name split into namespace, pod name and uid (none of which can contain `_`).
pub(crate) fn parse_pod_dir(name: &str) -> Option<(&str, &str, &str)> {
    let mut it = name.split('_');
    let (ns, pod, uid) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || ns.is_empty() || pod.is_empty() || uid.is_empty() {
        return None;
    }
    Some((ns, pod, uid))
}

/// Whether `name` is a kubelet container log (`<restart count>.log`).
fn is_container_log(name: &str) -> bool {
    name.strip_suffix(".log")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The labels of a container's stream: the pod's metadata labels, `job` (`<namespace>/<app>` when the metadata
/// has `app`, else `<namespace>/<container>`) unless the metadata sets it, the static labels over those, and the
/// path labels `namespace`, `pod`, `container` over everything.
pub(crate) fn stream_labels(
    meta: &BTreeMap<String, String>,
    fixed: &StaticLabels,
    (ns, pod, container): (&str, &str, &str),
) -> Labels {
    let mut b = LabelsBuilder::new();
    for (k, v) in meta {
        if is_valid_label_name(k) && !k.starts_with("__") {
            b.set(k, v);
        }
    }
    if b.get("job").is_none() {
        let app = b.get("app").unwrap_or(container);
        let job = format!("{ns}/{app}");
        b.set("job", &job);
    }
    for (k, v) in fixed.pairs() {
        b.set(k, v);
    }
    b.set("namespace", ns);
    b.set("pod", pod);
    b.set("container", container);
    b.build_unchecked()
}

struct Pod {
    /// The metadata labels once known (or given up on).
    meta: Option<BTreeMap<String, String>>,
    first_seen: Instant,
    /// Seen at the first listing.
    at_startup: bool,
    /// Its files were listed already (files appearing later are new, whatever `at_startup`).
    listed: bool,
}

/// Lists the pod log tree.
pub(crate) struct PodDiscovery {
    root: PathBuf,
    include: Vec<glob::Pattern>,
    exclude: Vec<glob::Pattern>,
    labels: StaticLabels,
    metadata: Option<Arc<dyn PodMetadata>>,
    wait: Duration,
    pods: HashMap<String, Pod>,
    scanned_once: bool,
    metrics: Arc<SourceMetrics>,
}

impl PodDiscovery {
    /// A discovery of `root` (the tailer's target 0 reads every file).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        root: PathBuf,
        include: Vec<glob::Pattern>,
        exclude: Vec<glob::Pattern>,
        labels: StaticLabels,
        metadata: Option<Arc<dyn PodMetadata>>,
        wait: Duration,
        metrics: Arc<SourceMetrics>,
    ) -> Self {
        PodDiscovery {
            root,
            include,
            exclude,
            labels,
            metadata,
            wait,
            pods: HashMap::new(),
            scanned_once: false,
            metrics,
        }
    }

    fn wanted(&self, ns: &str) -> bool {
        (self.include.is_empty() || self.include.iter().any(|p| p.matches(ns)))
            && !self.exclude.iter().any(|p| p.matches(ns))
    }

    /// Whether the pod's metadata labels are settled (asked for when not known yet); false while waiting.
    fn resolve(&mut self, dir: &str, (ns, pod, uid): (&str, &str, &str), now: Instant) -> bool {
        let at_startup = !self.scanned_once;
        let p = self.pods.entry(dir.to_string()).or_insert(Pod {
            meta: None,
            first_seen: now,
            at_startup,
            listed: false,
        });
        if p.meta.is_some() {
            return true;
        }
        let answer = match &self.metadata {
            None => Some(BTreeMap::new()),
            Some(md) => md.labels(ns, pod, uid),
        };
        p.meta = match answer {
            Some(m) => Some(m),
            None if now.duration_since(p.first_seen) >= self.wait => {
                tracing::debug!(
                    namespace = ns,
                    pod,
                    "no pod metadata; tailing with path labels"
                );
                inc(&self.metrics.metadata_missing);
                Some(BTreeMap::new())
            }
            None => None,
        };
        p.meta.is_some()
    }

    fn container_files(&self, dir: &Path, pod: &Pod, names: (&str, &str), out: &mut Vec<Found>) {
        let Ok(containers) = std::fs::read_dir(dir) else {
            return;
        };
        let meta = pod.meta.as_ref().expect("resolved pod");
        for c in containers.flatten() {
            let Some(container) = c.file_name().to_str().map(str::to_string) else {
                continue;
            };
            let Ok(files) = std::fs::read_dir(c.path()) else {
                continue;
            };
            let mut labels = None;
            for f in files.flatten() {
                if !f.file_name().to_str().is_some_and(is_container_log) {
                    continue;
                }
                let path = f.path();
                let Ok(md) = std::fs::metadata(&path) else {
                    continue;
                };
                if !md.is_file() {
                    continue;
                }
                let labels = labels
                    .get_or_insert_with(|| {
                        stream_labels(meta, &self.labels, (names.0, names.1, &container))
                    })
                    .clone();
                out.push(Found {
                    path,
                    target: 0,
                    dev: md.dev(),
                    ino: md.ino(),
                    labels,
                    at_startup: pod.at_startup && !pod.listed,
                });
            }
        }
    }
}

impl Discovery for PodDiscovery {
    fn discover(&mut self) -> Vec<Found> {
        let now = Instant::now();
        let mut found = Vec::new();
        let mut present: HashSet<String> = HashSet::new();
        match std::fs::read_dir(&self.root) {
            Ok(dirs) => {
                for d in dirs.flatten() {
                    let Some(name) = d.file_name().to_str().map(str::to_string) else {
                        continue;
                    };
                    let Some(ids) = parse_pod_dir(&name) else {
                        continue;
                    };
                    if !self.wanted(ids.0) || !d.path().is_dir() {
                        continue;
                    }
                    present.insert(name.clone());
                    if self.resolve(&name, ids, now) {
                        let pod = &self.pods[&name];
                        self.container_files(&d.path(), pod, (ids.0, ids.1), &mut found);
                        if let Some(p) = self.pods.get_mut(&name) {
                            p.listed = true;
                        }
                    }
                }
            }
            Err(e) => {
                tracing::debug!(path = %self.root.display(), error = %e, "cannot list pod logs");
            }
        }
        self.pods.retain(|name, _| present.contains(name));
        self.scanned_once = true;
        let tailed = self.pods.values().filter(|p| p.meta.is_some()).count();
        self.metrics.pods.store(tailed as u64, Ordering::Relaxed);
        found
    }

    fn again_soon(&self) -> bool {
        self.pods.values().any(|p| p.meta.is_none())
    }

    fn holds(&self, path: &Path) -> bool {
        let Ok(rel) = path.strip_prefix(&self.root) else {
            return false;
        };
        rel.components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .and_then(|dir| self.pods.get(dir))
            .is_some_and(|p| p.meta.is_none())
    }
}
