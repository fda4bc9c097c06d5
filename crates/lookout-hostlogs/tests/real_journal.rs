//! The journal source against a real journal file read by the real `journalctl`. The file is written by
//! `systemd-journal-remote` from a Journal Export Format stream (<https://systemd.io/JOURNAL_EXPORT_FORMATS/>);
//! it assigns `__CURSOR`/`__SEQNUM` itself (the stream carries none) and appends to an existing output file.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use common::{TestSink, metric, wait_for};
use lookout_hostlogs::{HostLogs, HostLogsConfig, JournalConfig};
use lookout_model::{Labels, PromDuration};
use tokio::io::AsyncWriteExt;

const BOOT_ID: &str = "5d0c3b1e8f6a4c2e9b7d1a0f3e6c8b24";
/// 2024-03-01T10:00:00Z in µs.
const FIRST_US: u64 = 1_709_287_200_000_000;
/// The default `max_field_size`.
const MAX_FIELD: usize = 2048;
const LEVELS: [&str; 8] = [
    "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
];

/// One journal entry as written: its fields in order (values are bytes: MESSAGE may be binary).
struct Record {
    fields: Vec<(&'static str, Vec<u8>)>,
}

impl Record {
    fn get(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_slice())
    }

    fn text(&self, name: &str) -> &str {
        std::str::from_utf8(self.get(name).unwrap()).unwrap()
    }

    /// `__REALTIME_TIMESTAMP` in ns, as the entry should be stored.
    fn ts_ns(&self) -> i64 {
        self.text("__REALTIME_TIMESTAMP").parse::<i64>().unwrap() * 1000
    }

    fn line(&self) -> String {
        String::from_utf8_lossy(self.get("MESSAGE").unwrap()).into_owned()
    }

    /// The expected stream labels.
    fn labels(&self) -> Labels {
        let p: usize = self.text("PRIORITY").parse().unwrap();
        Labels::from_pairs(&[
            ("job", "systemd-journal"),
            ("unit", self.text("_SYSTEMD_UNIT")),
            ("priority", self.text("PRIORITY")),
            ("level", LEVELS[p]),
            ("hostname", self.text("_HOSTNAME")),
            ("syslog_identifier", self.text("SYSLOG_IDENTIFIER")),
        ])
        .unwrap()
    }

    /// The expected metadata: every other field, lowercased, sorted, without oversized values.
    fn metadata(&self) -> Vec<(String, String)> {
        let labels = [
            "MESSAGE",
            "_SYSTEMD_UNIT",
            "PRIORITY",
            "_HOSTNAME",
            "SYSLOG_IDENTIFIER",
        ];
        let mut m: Vec<(String, String)> = self
            .fields
            .iter()
            .filter(|(n, v)| !n.starts_with("__") && !labels.contains(n) && v.len() <= MAX_FIELD)
            .map(|(n, v)| {
                (
                    n.to_ascii_lowercase(),
                    String::from_utf8(v.clone()).unwrap(),
                )
            })
            .collect();
        m.sort();
        m
    }

    /// The entry in the Journal Export Format: `NAME=value` lines, the binary form (name, newline, 64-bit
    /// little-endian length, data, newline) for values with a newline or that are not UTF-8, then an empty line.
    fn export(&self, out: &mut Vec<u8>) {
        for (name, value) in &self.fields {
            out.extend_from_slice(name.as_bytes());
            if value.contains(&b'\n') || std::str::from_utf8(value).is_err() {
                out.push(b'\n');
                out.extend_from_slice(&(value.len() as u64).to_le_bytes());
            } else {
                out.push(b'=');
            }
            out.extend_from_slice(value);
            out.push(b'\n');
        }
        out.push(b'\n');
    }
}

/// Entry `i` of a Proxmox host's journal: a few daemons, every priority, one binary and one multi-line message,
/// one field above `max_field_size`.
fn record(i: u64) -> Record {
    const UNITS: [(&str, &str, &str); 4] = [
        ("pveproxy.service", "pveproxy", "pveproxy worker"),
        ("pvedaemon.service", "pvedaemon", "pvedaemon worke"),
        ("pvestatd.service", "pvestatd", "pvestatd"),
        ("cron.service", "CRON", "cron"),
    ];
    let (unit, ident, comm) = UNITS[(i % 4) as usize];
    let message: Vec<u8> = match i {
        17 => b"status update error: \xff\xfe invalid \x01bytes".to_vec(),
        29 => b"worker exited abnormally\n  at PVE::HTTPServer line 42\n  at main line 7".to_vec(),
        _ => format!("{ident}: event {i} handled").into_bytes(),
    };
    let mut fields = vec![
        (
            "__REALTIME_TIMESTAMP",
            // Irregular gaps, strictly increasing.
            (FIRST_US + i * 1_000_000 + (i * 7919) % 1000)
                .to_string()
                .into_bytes(),
        ),
        (
            "__MONOTONIC_TIMESTAMP",
            (86_400_000_000 + i * 1_000_000).to_string().into_bytes(),
        ),
        ("_BOOT_ID", BOOT_ID.into()),
        ("_TRANSPORT", "syslog".into()),
        ("PRIORITY", (i % 8).to_string().into_bytes()),
        ("SYSLOG_FACILITY", "3".into()),
        ("SYSLOG_IDENTIFIER", ident.into()),
        ("_PID", (1000 + i * 3).to_string().into_bytes()),
        ("_UID", "0".into()),
        ("_COMM", comm.into()),
        ("_SYSTEMD_UNIT", unit.into()),
        ("_HOSTNAME", "pve1".into()),
        ("MESSAGE", message),
    ];
    if i == 23 {
        fields.push(("STACK_DUMP", "x".repeat(MAX_FIELD + 1).into_bytes()));
    }
    Record { fields }
}

/// systemd-journal-remote, wherever Debian put it; panics (fails the test) when it is missing.
fn journal_remote() -> PathBuf {
    [
        "/usr/lib/systemd/systemd-journal-remote",
        "/lib/systemd/systemd-journal-remote",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
    .expect("systemd-journal-remote is missing: apt-get install systemd-journal-remote")
}

/// Runs `program args` with `input` on stdin (bounded to 30s); its stdout, or a panic on failure.
async fn run(program: &Path, args: &[String], input: Vec<u8>) -> Vec<u8> {
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let mut stdin = child.stdin.take().unwrap();
    let out = tokio::time::timeout(Duration::from_secs(30), async move {
        stdin.write_all(&input).await.unwrap();
        drop(stdin);
        child.wait_with_output().await.unwrap()
    })
    .await
    .unwrap_or_else(|_| panic!("{} did not finish in 30s", program.display()));
    assert!(
        out.status.success(),
        "{} {args:?}: {:?}\n{}",
        program.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Appends `records` to the journal file (creating it the first time).
async fn write_journal(file: &Path, records: &[Record]) {
    let mut stream = Vec::new();
    for r in records {
        r.export(&mut stream);
    }
    let args = [format!("--output={}", file.display()), "-".to_string()];
    run(&journal_remote(), &args, stream).await;
}

/// The real journalctl's `__CURSOR` of the file's last entry.
async fn last_cursor(file: &Path) -> String {
    let args = [
        format!("--file={}", file.display()),
        "-o".into(),
        "json".into(),
        "-n".into(),
        "1".into(),
        "--no-pager".into(),
    ];
    let out = run(Path::new("journalctl"), &args, Vec::new()).await;
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    v["__CURSOR"].as_str().unwrap().to_string()
}

fn config(file: &Path) -> HostLogsConfig {
    let mut c = HostLogsConfig {
        journal: Some(JournalConfig {
            files: vec![file.to_string_lossy().into_owned()],
            since: String::new(),
            ..JournalConfig::default()
        }),
        ..HostLogsConfig::default()
    };
    c.batch.batch_wait = PromDuration::from_millis(100);
    c.batch.batch_entries = 16;
    c
}

/// (timestamp, line) of every entry, sorted: a multiset.
fn keys(entries: impl IntoIterator<Item = (i64, String)>) -> Vec<(i64, String)> {
    let mut k: Vec<_> = entries.into_iter().collect();
    k.sort();
    k
}

fn journal_metric(h: &HostLogs, name: &str) -> u64 {
    metric(h, &format!("{name}{{source=\"journal\"}}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs systemd-journal-remote: run by .ci/run"]
async fn real_journal_file_is_read_and_resumed_after_restart() {
    // Both peers must be here: a missing one fails the test.
    journal_remote();
    run(Path::new("journalctl"), &["--version".into()], Vec::new()).await;
    let (dir, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let file = dir.path().join("host.journal");
    let first: Vec<Record> = (0..50).map(record).collect();
    write_journal(&file, &first).await;

    let sink = TestSink::new();
    let h = HostLogs::start(config(&file), state.path(), sink.clone() as Arc<_>).unwrap();
    wait_for(20, "50 entries", || sink.all().len() >= 50).await;
    wait_for(10, "50 pushed", || {
        journal_metric(&h, "lookout_hostlogs_entries_pushed_total") == 50
    })
    .await;
    let stored = sink.all();
    assert_eq!(stored.len(), 50);
    // Distinct increasing timestamps: the store's order is the journal's.
    for (r, (labels, e)) in first.iter().zip(&stored) {
        assert_eq!(labels, &r.labels(), "{}", r.line());
        assert_eq!(e.ts, r.ts_ns(), "{}", r.line());
        assert_eq!(e.line, r.line());
        assert_eq!(e.metadata, r.metadata(), "{}", r.line());
    }
    let (l, e) = &stored[17];
    assert_eq!(
        e.line,
        "status update error: \u{fffd}\u{fffd} invalid \u{1}bytes"
    );
    assert_eq!(l.get("level"), Some("alert"));
    let (l, e) = &stored[29];
    assert_eq!(
        e.line,
        "worker exited abnormally\n  at PVE::HTTPServer line 42\n  at main line 7"
    );
    assert_eq!(
        (l.get("unit"), l.get("level")),
        (Some("pvedaemon.service"), Some("notice"))
    );
    let (_, e) = &stored[5];
    assert!(e.metadata.contains(&("_pid".into(), "1015".into())));
    assert!(e.metadata.contains(&("_boot_id".into(), BOOT_ID.into())));
    assert!(!stored[23].1.metadata.iter().any(|(k, _)| k == "stack_dump"));
    // The real journalctl kept running (`--follow`): it never exited and was started once.
    assert_eq!(
        journal_metric(&h, "lookout_hostlogs_source_errors_total"),
        0
    );
    assert_eq!(metric(&h, "lookout_hostlogs_journal_starts_total"), 1);
    h.shutdown().await;
    assert_eq!(
        std::fs::read_to_string(state.path().join("journal.cursor")).unwrap(),
        last_cursor(&file).await,
        "the saved cursor is the last entry's"
    );

    // Twenty more entries are appended to the same file while Lookout is down.
    let more: Vec<Record> = (50..70).map(record).collect();
    write_journal(&file, &more).await;
    let h = HostLogs::start(config(&file), state.path(), sink.clone() as Arc<_>).unwrap();
    wait_for(20, "70 entries", || sink.all().len() >= 70).await;
    wait_for(10, "20 pushed", || {
        journal_metric(&h, "lookout_hostlogs_entries_pushed_total") == 20
    })
    .await;
    // Give a duplicate time to show up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stored = sink.all();
    let want = keys(first.iter().chain(&more).map(|r| (r.ts_ns(), r.line())));
    assert_eq!(
        keys(stored.iter().map(|(_, e)| (e.ts, e.line.clone()))),
        want
    );
    for (r, (labels, e)) in more.iter().zip(&stored[50..]) {
        assert_eq!((labels, &e.metadata), (&r.labels(), &r.metadata()));
    }

    // And entries written while it runs are followed live.
    let live: Vec<Record> = (70..75).map(record).collect();
    write_journal(&file, &live).await;
    wait_for(20, "75 entries", || sink.all().len() >= 75).await;
    wait_for(10, "25 pushed", || {
        journal_metric(&h, "lookout_hostlogs_entries_pushed_total") == 25
    })
    .await;
    let want = keys(
        first
            .iter()
            .chain(&more)
            .chain(&live)
            .map(|r| (r.ts_ns(), r.line())),
    );
    let stored = sink.all();
    assert_eq!(
        keys(stored.iter().map(|(_, e)| (e.ts, e.line.clone()))),
        want
    );
    assert_eq!(
        journal_metric(&h, "lookout_hostlogs_source_errors_total"),
        0
    );
    h.shutdown().await;
    assert_eq!(
        std::fs::read_to_string(state.path().join("journal.cursor")).unwrap(),
        last_cursor(&file).await
    );
}
