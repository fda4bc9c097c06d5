//! The journal source against a fake `journalctl` (a shell script printing fixture lines, honouring
//! `--after-cursor`, then waiting like `--follow`).

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{TestSink, metric, wait_for};
use lookout_hostlogs::{HostLogs, HostLogsConfig, JournalConfig};
use lookout_model::PromDuration;

fn entry(n: u32, extra: &str) -> String {
    format!(
        r#"{{"__CURSOR":"s=abc;i={n}","__REALTIME_TIMESTAMP":"{ts}","__MONOTONIC_TIMESTAMP":"1","_BOOT_ID":"b1","_SYSTEMD_UNIT":"pveproxy.service","PRIORITY":"{p}","_HOSTNAME":"pve1","SYSLOG_IDENTIFIER":"pveproxy","_PID":"{n}","MESSAGE":"message {n}"{extra}}}"#,
        ts = 1_700_000_000_000_000u64 + n as u64,
        p = n % 8
    )
}

/// Writes the fake journalctl into `dir`: prints `fixture` (after the cursor when given), logs its arguments to
/// `args.log`, then sleeps as `--follow` would.
fn fake_journalctl(dir: &Path) -> PathBuf {
    let script = dir.join("journalctl");
    let fixture = dir.join("fixture.jsonl");
    let args = dir.join("args.log");
    fs::write(
        &script,
        format!(
            r#"#!/bin/sh
echo "$@" >> '{args}'
cursor=""
for a in "$@"; do
  case "$a" in --after-cursor=*) cursor="${{a#--after-cursor=}}";; esac
done
if [ -z "$cursor" ]; then
  cat '{fixture}'
else
  awk -v c="\"__CURSOR\":\"$cursor\"" 'found {{ print }} index($0, c) {{ found = 1 }}' '{fixture}'
fi
exec sleep 600
"#,
            args = args.display(),
            fixture = fixture.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    script
}

fn config(journalctl: &Path) -> HostLogsConfig {
    let mut c = HostLogsConfig {
        journal: Some(JournalConfig {
            journalctl_path: journalctl.to_string_lossy().into_owned(),
            ..JournalConfig::default()
        }),
        ..HostLogsConfig::default()
    };
    c.batch.batch_wait = PromDuration::from_millis(100);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_resumes_after_the_saved_cursor() {
    let (bin, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let jctl = fake_journalctl(bin.path());
    let fixture = bin.path().join("fixture.jsonl");
    let lines: Vec<String> = (1..=3).map(|n| entry(n, "")).collect();
    fs::write(&fixture, lines.join("\n") + "\n").unwrap();
    let sink = TestSink::new();
    let h = HostLogs::start(config(&jctl), state.path(), sink.clone() as Arc<_>).unwrap();
    wait_for(10, "3 entries", || sink.all().len() == 3).await;
    wait_for(10, "cursor saved", || {
        fs::read_to_string(state.path().join("journal.cursor")).is_ok_and(|c| c == "s=abc;i=3")
    })
    .await;
    h.shutdown().await;
    // More entries arrive while Lookout is down.
    let lines: Vec<String> = (1..=6).map(|n| entry(n, "")).collect();
    fs::write(&fixture, lines.join("\n") + "\n").unwrap();
    let h = HostLogs::start(config(&jctl), state.path(), sink.clone() as Arc<_>).unwrap();
    wait_for(10, "6 entries", || sink.all().len() == 6).await;
    assert_eq!(
        sink.lines(),
        (1..=6).map(|n| format!("message {n}")).collect::<Vec<_>>()
    );
    // The counter moves right after the store acknowledged; this run pushed only the 3 new entries.
    wait_for(10, "pushed counted", || {
        metric(
            &h,
            "lookout_hostlogs_entries_pushed_total{source=\"journal\"}",
        ) == 3
    })
    .await;
    h.shutdown().await;
    let args = fs::read_to_string(bin.path().join("args.log")).unwrap();
    let runs: Vec<&str> = args.lines().collect();
    assert_eq!(runs.len(), 2, "{args}");
    assert!(
        runs[0].contains("-o json")
            && runs[0].contains("--follow")
            && runs[0].contains("--since=now"),
        "{args}"
    );
    assert!(
        runs[1].contains("--after-cursor=s=abc;i=3") && !runs[1].contains("--since"),
        "{args}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_metadata_and_binary_messages() {
    let (bin, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let jctl = fake_journalctl(bin.path());
    let binary = r#"{"__CURSOR":"s=abc;i=9","__REALTIME_TIMESTAMP":"1700000000000009","PRIORITY":"3","MESSAGE":[104,105,255,10,116,104,101,114,101],"BLOB":[0,159,146,150],"HUGE":null,"MULTI":["x","y"]}"#;
    let no_message =
        r#"{"__CURSOR":"s=abc;i=10","__REALTIME_TIMESTAMP":"1700000000000010","PRIORITY":"6"}"#;
    fs::write(
        bin.path().join("fixture.jsonl"),
        format!(
            "{}\nnot json\n{binary}\n{no_message}\n",
            entry(2, r#","CODE_FILE":"src/x.c""#)
        ),
    )
    .unwrap();
    let sink = TestSink::new();
    let h = HostLogs::start(config(&jctl), state.path(), sink.clone() as Arc<_>).unwrap();
    wait_for(10, "2 entries", || sink.all().len() == 2).await;
    let all = sink.all();
    let (l, e) = &all[0];
    assert_eq!(l.get("job"), Some("systemd-journal"));
    assert_eq!(l.get("unit"), Some("pveproxy.service"));
    assert_eq!(l.get("priority"), Some("2"));
    assert_eq!(l.get("level"), Some("crit"));
    assert_eq!(l.get("hostname"), Some("pve1"));
    assert_eq!(l.get("syslog_identifier"), Some("pveproxy"));
    assert_eq!(e.ts, 1_700_000_000_000_002_000);
    assert_eq!(e.line, "message 2");
    assert_eq!(
        e.metadata,
        vec![
            ("_boot_id".to_string(), "b1".to_string()),
            ("_pid".into(), "2".into()),
            ("code_file".into(), "src/x.c".into())
        ]
    );
    let (l, e) = &all[1];
    assert_eq!(l.get("level"), Some("error"));
    assert_eq!(e.line, "hi\u{fffd}\nthere");
    // The binary field and the null one are left out; repeated values are joined.
    assert_eq!(e.metadata, vec![("multi".to_string(), "x\ny".to_string())]);
    wait_for(10, "cursor after the entry without MESSAGE", || {
        fs::read_to_string(state.path().join("journal.cursor")).is_ok_and(|c| c == "s=abc;i=10")
    })
    .await;
    assert_eq!(
        metric(
            &h,
            "lookout_hostlogs_entries_dropped_total{source=\"journal\",reason=\"malformed\"}"
        ),
        1
    );
    assert_eq!(
        metric(
            &h,
            "lookout_hostlogs_entries_dropped_total{source=\"journal\",reason=\"empty\"}"
        ),
        1
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_exiting_journalctl_is_retried() {
    let (bin, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let missing = bin.path().join("no-such-journalctl");
    let sink = TestSink::new();
    let h = HostLogs::start(config(&missing), state.path(), sink.clone() as Arc<_>).unwrap();
    wait_for(10, "an error counted", || {
        metric(
            &h,
            "lookout_hostlogs_source_errors_total{source=\"journal\"}",
        ) >= 1
    })
    .await;
    // The program appears (and exits after printing): the source starts it and reads it.
    let script = bin.path().join("no-such-journalctl");
    // It honours --after-cursor as journalctl does (entry 1 is the only one).
    fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\ncase \"$*\" in *--after-cursor=*) ;; *) echo '{}';; esac\n",
            bin.path().join("args.log").display(),
            entry(1, "")
        ),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    wait_for(15, "1 entry", || sink.all().len() == 1).await;
    wait_for(15, "restarted after exit", || {
        metric(&h, "lookout_hostlogs_journal_starts_total") >= 2
    })
    .await;
    // Restarts resume after the cursor: no duplicate.
    assert_eq!(sink.all().len(), 1);
    // The restarted run resumes after the cursor (the script logs its arguments when it runs).
    wait_for(10, "a run with --after-cursor", || {
        fs::read_to_string(bin.path().join("args.log")).is_ok_and(|a| {
            a.lines()
                .nth(1)
                .is_some_and(|l| l.contains("--after-cursor=s=abc;i=1"))
        })
    })
    .await;
    assert_eq!(sink.all().len(), 1);
    h.shutdown().await;
}
