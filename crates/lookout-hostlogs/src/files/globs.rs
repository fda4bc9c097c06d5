//! The files source's discovery: every target's include globs expanded, excluded paths left out, each file (by
//! device and inode) listed once, for the first target matching it, with the target's labels plus `filename`.

use std::os::unix::fs::MetadataExt;

use super::tailer::{Discovery, Found};
use crate::labels::StaticLabels;

/// One target's globs and labels.
pub(crate) struct GlobTarget {
    pub include: Vec<String>,
    pub exclude: Vec<glob::Pattern>,
    pub labels: StaticLabels,
}

/// Expands the targets' globs.
pub(crate) struct GlobDiscovery {
    targets: Vec<GlobTarget>,
    scanned_once: bool,
}

impl GlobDiscovery {
    /// A discovery over `targets` (in the order of the tailer's targets).
    pub fn new(targets: Vec<GlobTarget>) -> Self {
        GlobDiscovery {
            targets,
            scanned_once: false,
        }
    }
}

impl Discovery for GlobDiscovery {
    fn discover(&mut self) -> Vec<Found> {
        let at_startup = !self.scanned_once;
        self.scanned_once = true;
        let mut found: Vec<Found> = Vec::new();
        for (ti, t) in self.targets.iter().enumerate() {
            for pattern in &t.include {
                let Ok(paths) = glob::glob(pattern) else {
                    continue;
                };
                for p in paths.flatten() {
                    if t.exclude.iter().any(|x| x.matches_path(&p)) {
                        continue;
                    }
                    let Ok(md) = std::fs::metadata(&p) else {
                        continue;
                    };
                    if !md.is_file() || found.iter().any(|f| f.dev == md.dev() && f.ino == md.ino())
                    {
                        continue;
                    }
                    let mut labels = t.labels.builder();
                    labels.set("filename", &p.to_string_lossy());
                    found.push(Found {
                        path: p,
                        target: ti,
                        dev: md.dev(),
                        ino: md.ino(),
                        labels: labels.build_unchecked(),
                        at_startup,
                    });
                }
            }
        }
        found
    }
}
