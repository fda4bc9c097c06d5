//! The host log sources' configuration: one struct per source under [`HostLogsConfig`], with Promtail/Alloy's
//! names and defaults where they have one (noted on each field).

use std::collections::BTreeMap;

use lookout_model::{ByteSize, PromDuration};
use serde::{Deserialize, Serialize};

/// Every host log source; absent sources do not run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HostLogsConfig {
    /// How entries are batched and retried (shared by every source).
    pub batch: BatchConfig,
    /// The systemd journal.
    pub journal: Option<JournalConfig>,
    /// The syslog receiver.
    pub syslog: Option<SyslogConfig>,
    /// File tailing targets.
    pub files: Vec<FileTargetConfig>,
    /// Kubernetes pod logs under `/var/log/pods`.
    pub pods: Option<PodsConfig>,
}

/// Batching and retry of pushes to the store (Promtail's client `batchwait`/`batchsize` and backoff).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BatchConfig {
    /// Longest an entry waits in a batch before it is pushed (Promtail's `batchwait`, 1s).
    pub batch_wait: PromDuration,
    /// Most line bytes per push (Promtail's `batchsize`, 1MiB).
    pub batch_size: ByteSize,
    /// Most entries per push.
    pub batch_entries: usize,
    /// First wait after a rate-limited or failed push.
    pub min_backoff: PromDuration,
    /// Longest wait between retries (the wait doubles up to this; retries go on until shutdown).
    pub max_backoff: PromDuration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            batch_wait: PromDuration::from_secs(1),
            batch_size: ByteSize(1 << 20),
            batch_entries: 1000,
            min_backoff: PromDuration::from_millis(500),
            max_backoff: PromDuration::from_secs(5),
        }
    }
}

/// The systemd journal, followed through `journalctl -o json --follow`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JournalConfig {
    /// The `journalctl` program.
    pub journalctl_path: String,
    /// A journal directory (`--directory`; Promtail's `path`); the system journal when absent.
    pub path: Option<String>,
    /// Journal files (`--file`, repeatable).
    pub files: Vec<String>,
    /// Where to start when no cursor is saved (`--since`): `now` (default), a date, or `""` for the whole journal.
    pub since: String,
    /// The fixed `job` label.
    pub job: String,
    /// More fixed labels.
    pub labels: BTreeMap<String, String>,
    /// Field values longer than this are left out of structured metadata.
    pub max_field_size: ByteSize,
}

impl Default for JournalConfig {
    fn default() -> Self {
        JournalConfig {
            journalctl_path: "journalctl".into(),
            path: None,
            files: Vec::new(),
            since: "now".into(),
            job: "systemd-journal".into(),
            labels: BTreeMap::new(),
            max_field_size: ByteSize(2048),
        }
    }
}

/// The syslog receiver (RFC 5424 and RFC 3164 over UDP and TCP).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyslogConfig {
    /// UDP listen addresses (`host:port`).
    pub udp_listen: Vec<String>,
    /// TCP listen addresses (`host:port`); framing (octet counting or newline) is detected per connection.
    pub tcp_listen: Vec<String>,
    /// Longest message (Promtail's `max_message_length`, 8KiB); longer ones are dropped and counted.
    pub max_message_length: ByteSize,
    /// Most TCP connections open at once; more are closed at accept and counted.
    pub max_connections: usize,
    /// A TCP connection silent for this long is closed (Promtail's `idle_timeout`, 120s).
    pub idle_timeout: PromDuration,
    /// Use the message's timestamp (true) or the receive time (false); the receive time when it has none.
    pub use_incoming_timestamp: bool,
    /// The fixed `job` label.
    pub job: String,
    /// More fixed labels.
    pub labels: BTreeMap<String, String>,
    /// When set, the peer's IP address goes in this label.
    pub peer_label: Option<String>,
}

impl Default for SyslogConfig {
    fn default() -> Self {
        SyslogConfig {
            udp_listen: Vec::new(),
            tcp_listen: Vec::new(),
            max_message_length: ByteSize(8192),
            max_connections: 256,
            idle_timeout: PromDuration::from_secs(120),
            use_incoming_timestamp: true,
            job: "syslog".into(),
            labels: BTreeMap::new(),
            peer_label: None,
        }
    }
}

/// One file tailing target: globs plus the labels of their streams.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileTargetConfig {
    /// Glob patterns of the files to tail (Promtail's `__path__`).
    pub paths: Vec<String>,
    /// Glob patterns of files to leave out (Promtail's `__path_exclude__`).
    pub exclude: Vec<String>,
    /// Fixed labels (`job`, ...); `filename` is added per file.
    pub labels: BTreeMap<String, String>,
    /// Files found at startup without a saved position start at their end (Alloy's `tail_from_end`, false);
    /// files appearing later always start at their beginning.
    pub tail_from_end: bool,
    /// How often the globs are expanded again (Promtail's `sync_period`, 10s).
    pub sync_period: PromDuration,
    /// How often open files are checked for new data.
    pub poll_interval: PromDuration,
    /// Longest line (Promtail's `max_line_size`); 0 for no limit.
    pub max_line_size: ByteSize,
    /// Truncate longer lines to the limit instead of dropping them (Promtail's `max_line_size_truncate`).
    pub max_line_size_truncate: bool,
    /// Joins multi-line entries (Promtail's `multiline` stage).
    pub multiline: Option<MultilineConfig>,
}

impl Default for FileTargetConfig {
    fn default() -> Self {
        FileTargetConfig {
            paths: Vec::new(),
            exclude: Vec::new(),
            labels: BTreeMap::new(),
            tail_from_end: false,
            sync_period: PromDuration::from_secs(10),
            poll_interval: PromDuration::from_millis(250),
            max_line_size: ByteSize(256 << 10),
            max_line_size_truncate: false,
            multiline: None,
        }
    }
}

/// Promtail's `multiline` stage: a line matching `firstline` starts an entry, others are appended to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultilineConfig {
    /// The regex a block's first line matches.
    pub firstline: String,
    /// A block is sent when no line arrived for this long (3s).
    #[serde(default = "default_max_wait_time")]
    pub max_wait_time: PromDuration,
    /// A block is sent when it has this many lines (128).
    #[serde(default = "default_max_lines")]
    pub max_lines: usize,
}

fn default_max_wait_time() -> PromDuration {
    PromDuration::from_secs(3)
}

fn default_max_lines() -> usize {
    128
}

/// Kubernetes pod logs as the kubelet writes them on a node (`<path>/<namespace>_<pod>_<uid>/<container>/<n>.log`),
/// what the Promtail helm chart's `kubernetes-pods` job tails (with its `cri` stage, plus docker JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PodsConfig {
    /// The kubelet's pod log directory (`/var/log/pods`).
    pub path: String,
    /// Which namespaces are tailed.
    pub namespaces: NamespaceFilter,
    /// Fixed labels (`cluster`, `node_name`, ...); they override the derived `job`, not the path labels.
    pub labels: BTreeMap<String, String>,
    /// Files found at startup without a saved position start at their end (Alloy's `tail_from_end`, false);
    /// files appearing later (new pods, restarts, rotations) always start at their beginning.
    pub tail_from_end: bool,
    /// How often the directory is listed again for new pods, containers and files (Promtail's `sync_period`, 10s).
    pub sync_period: PromDuration,
    /// How often open files are checked for new data.
    pub poll_interval: PromDuration,
    /// Longest entry, after CRI/docker decoding and partial-line joining (Promtail's `max_line_size`); 0 for none.
    pub max_line_size: ByteSize,
    /// Truncate longer entries to the limit instead of dropping them (Promtail's `max_line_size_truncate`).
    pub max_line_size_truncate: bool,
    /// How long a new pod's files wait for its metadata (labels from the Kubernetes watches) before being tailed
    /// with the path labels only (5s).
    pub metadata_wait: PromDuration,
}

impl Default for PodsConfig {
    fn default() -> Self {
        PodsConfig {
            path: "/var/log/pods".into(),
            namespaces: NamespaceFilter::default(),
            labels: BTreeMap::new(),
            tail_from_end: false,
            sync_period: PromDuration::from_secs(10),
            poll_interval: PromDuration::from_millis(250),
            max_line_size: ByteSize(256 << 10),
            max_line_size_truncate: false,
            metadata_wait: PromDuration::from_secs(5),
        }
    }
}

/// Namespace names or glob patterns: a namespace is tailed when `include` is empty or matches it, and `exclude`
/// does not.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NamespaceFilter {
    /// Namespaces to tail (all when empty).
    pub include: Vec<String>,
    /// Namespaces to leave out.
    pub exclude: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_shape_and_defaults() {
        let yaml = r#"
batch: { batch_wait: 2s, batch_size: 512KiB, batch_entries: 500 }
journal:
  path: /var/log/journal
  since: ""
  labels: { host: pve1 }
syslog:
  udp_listen: ["0.0.0.0:514"]
  tcp_listen: ["0.0.0.0:601"]
  max_message_length: 16KiB
  idle_timeout: 5m
  peer_label: peer
files:
  - paths: ["/var/log/*.log"]
    exclude: ["/var/log/lastlog.log"]
    labels: { job: varlogs }
    multiline: { firstline: '^\d{4}' }
pods:
  namespaces: { exclude: [kube-system] }
  labels: { cluster: lab }
  max_line_size_truncate: true
"#;
        let c: HostLogsConfig = serde_yaml_ng::from_str(yaml).unwrap();
        assert_eq!(c.batch.batch_size, ByteSize(512 << 10));
        assert_eq!(c.batch.max_backoff, PromDuration::from_secs(5));
        let j = c.journal.unwrap();
        assert_eq!(
            (j.path.as_deref(), j.since.as_str(), j.job.as_str()),
            (Some("/var/log/journal"), "", "systemd-journal")
        );
        let s = c.syslog.unwrap();
        assert_eq!(s.max_message_length, ByteSize(16 << 10));
        assert_eq!(s.job, "syslog");
        let f = &c.files[0];
        assert_eq!(f.max_line_size, ByteSize(256 << 10));
        let m = f.multiline.as_ref().unwrap();
        assert_eq!(
            (m.max_lines, m.max_wait_time),
            (128, PromDuration::from_secs(3))
        );
        let p = c.pods.unwrap();
        assert_eq!(
            (p.path.as_str(), p.namespaces.exclude.as_slice()),
            ("/var/log/pods", ["kube-system".to_string()].as_slice())
        );
        assert_eq!(
            (p.max_line_size, p.max_line_size_truncate, p.metadata_wait),
            (ByteSize(256 << 10), true, PromDuration::from_secs(5))
        );
        for bad in [
            "pods: { namespace: [a] }",
            "pods: { namespaces: { only: [a] } }",
            "journal: { bogus: 1 }",
            "files: [{ path: x }]",
            "syslog: { idle_timeout: 5 }",
        ] {
            assert!(
                serde_yaml_ng::from_str::<HostLogsConfig>(bad).is_err(),
                "{bad}"
            );
        }
    }
}
