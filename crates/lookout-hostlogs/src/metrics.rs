//! Counters of every source, in atomics so the hot paths never lock, rendered as `lookout_hostlogs_*` families.

use std::sync::atomic::{AtomicU64, Ordering};

use lookout_model::{MetricKind, MetricsWriter};

/// Why an entry was dropped (the `reason` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DropReason {
    /// Above the line or message size limit.
    TooLarge,
    /// Refused by the store for good (a limit or rule).
    Invalid,
    /// Unparsable input.
    Malformed,
    /// An empty message (Promtail drops these too).
    Empty,
    /// Still unacknowledged when the source shut down (syslog only: other sources re-read it).
    Shutdown,
}

const DROP_REASONS: [(DropReason, &str); 5] = [
    (DropReason::TooLarge, "too_large"),
    (DropReason::Invalid, "invalid"),
    (DropReason::Malformed, "malformed"),
    (DropReason::Empty, "empty"),
    (DropReason::Shutdown, "shutdown"),
];

/// One source's counters.
#[derive(Debug, Default)]
pub(crate) struct SourceMetrics {
    pub read: AtomicU64,
    pub read_bytes: AtomicU64,
    pub pushed: AtomicU64,
    pub pushed_bytes: AtomicU64,
    dropped: [AtomicU64; 5],
    pub truncated: AtomicU64,
    pub push_rate_limited: AtomicU64,
    pub push_store_errors: AtomicU64,
    pub push_invalid: AtomicU64,
    pub pushes: AtomicU64,
    pub source_errors: AtomicU64,
    /// Journal: journalctl starts; syslog: connections accepted; files: files opened.
    pub starts: AtomicU64,
    /// Syslog: open TCP connections; files: files tailed.
    pub active: AtomicU64,
    /// Syslog: connections refused at the limit.
    pub rejected: AtomicU64,
    /// Files: rotations seen.
    pub rotations: AtomicU64,
    /// Files: truncations seen.
    pub truncations: AtomicU64,
    /// Pods: pod directories being tailed.
    pub pods: AtomicU64,
    /// Pods: lines in neither CRI nor docker JSON format (passed on as they are).
    pub unparsed: AtomicU64,
    /// Pods: pods tailed with the path labels only because their metadata did not come within `metadata_wait`.
    pub metadata_missing: AtomicU64,
}

pub(crate) fn inc(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

fn get(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

impl SourceMetrics {
    /// Counts `n` dropped entries.
    pub fn dropped(&self, reason: DropReason, n: u64) {
        let i = DROP_REASONS
            .iter()
            .position(|(r, _)| *r == reason)
            .unwrap_or(0);
        add(&self.dropped[i], n);
    }

    /// Entries dropped for `reason` so far.
    #[cfg(test)]
    pub fn dropped_count(&self, reason: DropReason) -> u64 {
        let i = DROP_REASONS
            .iter()
            .position(|(r, _)| *r == reason)
            .unwrap_or(0);
        get(&self.dropped[i])
    }
}

/// Writes every family for the running sources, named by `source` (`journal`, `syslog`, `file`, `pods`).
pub(crate) fn write_all(sources: &[(&str, &SourceMetrics)], out: &mut MetricsWriter) {
    type Field = fn(&SourceMetrics) -> &AtomicU64;
    let counters: [(&str, &str, Field); 10] = [
        (
            "lookout_hostlogs_entries_read_total",
            "Entries read from host log sources.",
            |m| &m.read,
        ),
        (
            "lookout_hostlogs_bytes_read_total",
            "Line bytes read from host log sources.",
            |m| &m.read_bytes,
        ),
        (
            "lookout_hostlogs_entries_pushed_total",
            "Entries the log store accepted from host log sources.",
            |m| &m.pushed,
        ),
        (
            "lookout_hostlogs_bytes_pushed_total",
            "Line bytes the log store accepted from host log sources.",
            |m| &m.pushed_bytes,
        ),
        (
            "lookout_hostlogs_lines_truncated_total",
            "Lines truncated to the size limit.",
            |m| &m.truncated,
        ),
        (
            "lookout_hostlogs_pushes_total",
            "Pushes to the log store attempted.",
            |m| &m.pushes,
        ),
        (
            "lookout_hostlogs_push_rate_limited_total",
            "Pushes refused for a rate limit or backlog (retried with backoff).",
            |m| &m.push_rate_limited,
        ),
        (
            "lookout_hostlogs_push_store_errors_total",
            "Pushes that failed in the store (retried with backoff).",
            |m| &m.push_store_errors,
        ),
        (
            "lookout_hostlogs_push_invalid_total",
            "Pushes refused for good (offending entries are isolated and dropped).",
            |m| &m.push_invalid,
        ),
        (
            "lookout_hostlogs_source_errors_total",
            "Errors of the sources themselves (journalctl failures, I/O errors, accept errors).",
            |m| &m.source_errors,
        ),
    ];
    for (name, help, field) in counters {
        let mut f = out.family(name, MetricKind::Counter, help);
        for (source, m) in sources {
            f.sample(&[("source", source)], get(field(m)));
        }
    }
    let mut f = out.family(
        "lookout_hostlogs_entries_dropped_total",
        MetricKind::Counter,
        "Entries dropped, by reason.",
    );
    for (source, m) in sources {
        for (i, (_, reason)) in DROP_REASONS.iter().enumerate() {
            f.sample(
                &[("source", source), ("reason", reason)],
                get(&m.dropped[i]),
            );
        }
    }
    for (source, m) in sources {
        match *source {
            "journal" => {
                out.counter(
                    "lookout_hostlogs_journal_starts_total",
                    "journalctl processes started.",
                    get(&m.starts),
                );
            }
            "syslog" => {
                out.counter(
                    "lookout_hostlogs_syslog_connections_accepted_total",
                    "Syslog TCP connections accepted.",
                    get(&m.starts),
                );
                out.counter(
                    "lookout_hostlogs_syslog_connections_rejected_total",
                    "Syslog TCP connections closed at accept because max_connections were open.",
                    get(&m.rejected),
                );
                out.gauge(
                    "lookout_hostlogs_syslog_connections",
                    "Syslog TCP connections open.",
                    get(&m.active),
                );
            }
            "pods" => {
                out.gauge(
                    "lookout_hostlogs_pods_active",
                    "Pod log directories being tailed.",
                    get(&m.pods),
                );
                out.gauge(
                    "lookout_hostlogs_pods_files_active",
                    "Pod log files being tailed.",
                    get(&m.active),
                );
                out.counter(
                    "lookout_hostlogs_pods_file_rotations_total",
                    "Pod log files renamed (kubelet rotation) or deleted (read to their end, then closed).",
                    get(&m.rotations),
                );
                out.counter(
                    "lookout_hostlogs_pods_file_truncations_total",
                    "Pod log files that shrank below the read position, read again from 0.",
                    get(&m.truncations),
                );
                out.counter(
                    "lookout_hostlogs_pods_unparsed_lines_total",
                    "Pod log lines in neither CRI nor docker JSON format, passed on unchanged.",
                    get(&m.unparsed),
                );
                out.counter(
                    "lookout_hostlogs_pods_metadata_missing_total",
                    "Pods tailed with path labels only because no metadata came within metadata_wait.",
                    get(&m.metadata_missing),
                );
            }
            _ => {
                out.gauge(
                    "lookout_hostlogs_files_active",
                    "Files being tailed.",
                    get(&m.active),
                );
                out.counter(
                    "lookout_hostlogs_file_rotations_total",
                    "Tailed files renamed or deleted (read to their end, then closed).",
                    get(&m.rotations),
                );
                out.counter(
                    "lookout_hostlogs_file_truncations_total",
                    "Tailed files that shrank below the read position (copytruncate), read again from 0.",
                    get(&m.truncations),
                );
            }
        }
    }
}
