//! File-based service discovery: YAML or JSON lists of target groups, re-read every `refresh_interval`.
//!
//! Each file holds `[{targets: ["host:port", …], labels: {name: value, …}}, …]`. Every target gets
//! `__meta_filepath`. Groups are identified as `<path>:<index>`; when a file shrinks or disappears, empty groups are
//! sent for the sources it no longer has, so the scraper stops their targets. Polling, no inotify: the files are
//! small and the interval is minutes.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use lookout_model::{Labels, TargetGroup};
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::config::FileSdConfig;

/// Label carrying the file a target came from.
pub const FILEPATH_LABEL: &str = "__meta_filepath";

/// A discovery file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FileSdError {
    /// The file could not be read.
    #[error("file_sd: reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid list of target groups.
    #[error("file_sd: parsing {path}: {reason}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A glob pattern is malformed.
    #[error("file_sd: bad pattern {pattern:?}: {reason}")]
    Pattern {
        /// The pattern.
        pattern: String,
        /// What is wrong.
        reason: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// Parses one file's contents into target groups (JSON when the name ends in `.json`, YAML otherwise).
pub fn parse_file(path: &Path, contents: &str) -> Result<Vec<TargetGroup>, FileSdError> {
    let display = path.display().to_string();
    let parse_err = |reason: String| FileSdError::Parse {
        path: display.clone(),
        reason,
    };
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let raw: Vec<RawGroup> = if is_json {
        serde_json::from_str(contents).map_err(|e| parse_err(e.to_string()))?
    } else if contents.trim().is_empty() {
        Vec::new()
    } else {
        serde_yaml_ng::from_str(contents).map_err(|e| parse_err(e.to_string()))?
    };
    let mut groups = Vec::with_capacity(raw.len());
    for (i, g) in raw.into_iter().enumerate() {
        let mut pairs: Vec<(&str, &str)> = g
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        pairs.push((FILEPATH_LABEL, &display));
        let labels =
            Labels::from_pairs(&pairs).map_err(|e| parse_err(format!("group {i}: {e}")))?;
        for t in &g.targets {
            if t.is_empty() || t.contains('/') {
                return Err(parse_err(format!(
                    "group {i}: {t:?} is not a host:port address"
                )));
            }
        }
        groups.push(TargetGroup::from_addresses(
            format!("{display}:{i}"),
            &g.targets,
            labels,
        ));
    }
    Ok(groups)
}

/// Polls the files of one `file_sd_configs` entry and reports changed groups.
pub struct FileSd {
    config: FileSdConfig,
    /// Group sources last sent, per file, so removals can be announced.
    sources: HashMap<PathBuf, Vec<TargetGroup>>,
}

impl FileSd {
    /// A poller for `config`.
    pub fn new(config: FileSdConfig) -> Self {
        FileSd {
            config,
            sources: HashMap::new(),
        }
    }

    fn expand_patterns(&self) -> (Vec<PathBuf>, Vec<FileSdError>) {
        let mut files = Vec::new();
        let mut errors = Vec::new();
        for pattern in &self.config.files {
            match glob::glob(pattern) {
                Ok(paths) => files.extend(paths.filter_map(Result::ok)),
                Err(e) => errors.push(FileSdError::Pattern {
                    pattern: pattern.clone(),
                    reason: e.to_string(),
                }),
            }
        }
        files.sort();
        files.dedup();
        (files, errors)
    }

    /// Re-reads every file; returns the groups that changed (an empty group for each source that went away) and
    /// the problems met. A file that fails to read or parse keeps its previous groups, as Prometheus does.
    pub fn refresh(&mut self) -> (Vec<TargetGroup>, Vec<FileSdError>) {
        let (files, mut errors) = self.expand_patterns();
        let mut changed = Vec::new();
        let mut next: HashMap<PathBuf, Vec<TargetGroup>> = HashMap::new();
        for path in files {
            let read = std::fs::read_to_string(&path)
                .map_err(|source| FileSdError::Read {
                    path: path.display().to_string(),
                    source,
                })
                .and_then(|text| parse_file(&path, &text));
            let groups = match read {
                Ok(groups) => groups,
                Err(e) => {
                    errors.push(e);
                    match self.sources.get(&path) {
                        Some(old) => old.clone(),
                        None => continue,
                    }
                }
            };
            let old = self.sources.get(&path);
            for g in &groups {
                if old.is_none_or(|o| !o.contains(g)) {
                    changed.push(g.clone());
                }
            }
            if let Some(old) = old {
                for g in old.iter().skip(groups.len()) {
                    changed.push(TargetGroup {
                        source: g.source.clone(),
                        ..TargetGroup::default()
                    });
                }
            }
            next.insert(path, groups);
        }
        for (path, old) in &self.sources {
            if !next.contains_key(path) {
                changed.extend(old.iter().map(|g| TargetGroup {
                    source: g.source.clone(),
                    ..TargetGroup::default()
                }));
            }
        }
        self.sources = next;
        (changed, errors)
    }

    /// Polls until the receiver is dropped, sending each non-empty change set.
    pub async fn run(mut self, tx: mpsc::Sender<Vec<TargetGroup>>) {
        let mut ticker = tokio::time::interval(self.config.refresh_interval.as_duration());
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            // Reading a handful of small files is cheap, but it is still file I/O: keep it off the runtime threads.
            let (back, changed, errors) = match tokio::task::spawn_blocking(move || {
                let (changed, errors) = self.refresh();
                (self, changed, errors)
            })
            .await
            {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "file_sd refresh task failed");
                    return;
                }
            };
            self = back;
            for e in errors {
                tracing::warn!(error = %e, "file_sd");
            }
            if !changed.is_empty() && tx.send(changed).await.is_err() {
                return;
            }
            if tx.is_closed() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PromDuration;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_yaml_and_json_and_tracks_removals() {
        let dir = tempfile::tempdir().unwrap();
        let yml = write(
            dir.path(),
            "a.yml",
            "- targets: ['h1:1', 'h2:2']\n  labels: {env: prod}\n- targets: ['h3:3']\n",
        );
        write(
            dir.path(),
            "b.json",
            r#"[{"targets": ["j:9"], "labels": {"team": "x"}}]"#,
        );
        write(dir.path(), "ignored.txt", "- targets: ['no:1']");
        let json_pattern = format!("{}/*.json", dir.path().display());
        let yml_pattern = format!("{}/*.yml", dir.path().display());
        let mut sd = FileSd::new(FileSdConfig {
            files: vec![yml_pattern, json_pattern],
            refresh_interval: PromDuration::from_secs(1),
        });

        let (groups, errors) = sd.refresh();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(groups.len(), 3);
        let first = groups
            .iter()
            .find(|g| g.source.ends_with("a.yml:0"))
            .unwrap();
        assert_eq!(first.targets.len(), 2);
        assert_eq!(first.targets[0].get("__address__"), Some("h1:1"));
        assert_eq!(first.labels.get("env"), Some("prod"));
        assert_eq!(
            first.labels.get(FILEPATH_LABEL),
            Some(yml.display().to_string().as_str())
        );

        // Nothing changed: nothing sent.
        assert!(sd.refresh().0.is_empty());

        // The second group goes away, and a broken file keeps its previous groups.
        write(
            dir.path(),
            "a.yml",
            "- targets: ['h1:1', 'h2:2']\n  labels: {env: prod}\n",
        );
        write(dir.path(), "b.json", "[{");
        let (groups, errors) = sd.refresh();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].to_string().contains("b.json"));
        assert_eq!(groups.len(), 1);
        assert!(groups[0].source.ends_with("a.yml:1") && groups[0].targets.is_empty());

        // A deleted file clears all its groups.
        std::fs::remove_file(&yml).unwrap();
        let (groups, _) = sd.refresh();
        assert_eq!(groups.len(), 1);
        assert!(groups[0].source.ends_with("a.yml:0") && groups[0].targets.is_empty());
    }

    #[test]
    fn rejects_bad_groups() {
        for (name, text) in [
            ("x.yml", "- targets: ['a/b']"),
            ("x.yml", "- targets: ['a:1']\n  labels: {'bad-name': v}"),
            ("x.yml", "- target: ['a:1']"),
            ("x.json", "{}"),
        ] {
            assert!(parse_file(Path::new(name), text).is_err(), "{text}");
        }
        assert!(parse_file(Path::new("empty.yml"), "").unwrap().is_empty());
    }

    #[tokio::test]
    async fn run_sends_changes_until_the_receiver_goes() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "t.yml", "- targets: ['h:1']");
        let sd = FileSd::new(FileSdConfig {
            files: vec![format!("{}/*.yml", dir.path().display())],
            refresh_interval: PromDuration::from_millis(20),
        });
        let (tx, mut rx) = mpsc::channel(4);
        let task = tokio::spawn(sd.run(tx));
        let first = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.len(), 1);
        write(dir.path(), "t.yml", "- targets: ['h:1', 'h:2']");
        let second = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(second[0].targets.len(), 2);
        drop(rx);
        tokio::time::timeout(std::time::Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap();
    }
}
