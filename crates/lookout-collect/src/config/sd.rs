//! Static and file-based target lists inside a scrape job.

use serde::{Deserialize, Serialize};

use super::ConfigError;
use lookout_model::PromDuration;

pub use lookout_model::target_group::StaticConfig;

fn default_refresh_interval() -> PromDuration {
    PromDuration::from_secs(300)
}

/// `file_sd_configs` entry: files (globs in the last path element) holding target groups in YAML or JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSdConfig {
    /// File patterns ending in `.json`, `.yml` or `.yaml`.
    pub files: Vec<String>,
    /// How often the files are re-read; default 5m.
    #[serde(default = "default_refresh_interval")]
    pub refresh_interval: PromDuration,
}

/// True when `pattern` names JSON/YAML files and has wildcards only in its last path element.
fn is_valid_file_pattern(pattern: &str) -> bool {
    let (dir, file) = pattern.rsplit_once('/').unwrap_or(("", pattern));
    let lower = file.to_ascii_lowercase();
    let ext_ok = [".json", ".yml", ".yaml"]
        .iter()
        .any(|e| lower.ends_with(e));
    ext_ok && !dir.contains(['*', '?', '['])
}

impl FileSdConfig {
    pub(crate) fn validate(&self, path: &str) -> Result<(), ConfigError> {
        if self.files.is_empty() {
            return Err(ConfigError::field(
                path,
                "files",
                "at least one file pattern is required",
            ));
        }
        for (i, f) in self.files.iter().enumerate() {
            if !is_valid_file_pattern(f) {
                return Err(ConfigError::field(
                    path,
                    &format!("files[{i}]"),
                    &format!(
                        "{f:?}: must end in .json, .yml or .yaml, with wildcards only in the file name"
                    ),
                ));
            }
        }
        if self.refresh_interval.is_zero() {
            return Err(ConfigError::field(
                path,
                "refresh_interval",
                "must be greater than zero",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_patterns() {
        for ok in ["a.json", "/etc/sd/*.yml", "dir/x-*.YAML"] {
            assert!(is_valid_file_pattern(ok), "{ok}");
        }
        for bad in ["a.txt", "/etc/*/x.yml", "noext"] {
            assert!(!is_valid_file_pattern(bad), "{bad}");
        }
    }
}
