//! File tailing on temp dirs: rotation, truncation, deletion, multi-line, size limit, restart.

mod common;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use common::{TestSink, metric, wait_for};
use lookout_hostlogs::{FileTargetConfig, HostLogs, HostLogsConfig, MultilineConfig};
use lookout_model::{ByteSize, PromDuration};

fn config(dir: &Path, f: impl FnOnce(&mut FileTargetConfig)) -> HostLogsConfig {
    let mut t = FileTargetConfig {
        paths: vec![dir.join("*.log").to_string_lossy().into_owned()],
        labels: [("job".to_string(), "varlogs".to_string())].into(),
        sync_period: PromDuration::from_millis(200),
        poll_interval: PromDuration::from_millis(30),
        ..FileTargetConfig::default()
    };
    f(&mut t);
    let mut c = HostLogsConfig {
        files: vec![t],
        ..HostLogsConfig::default()
    };
    c.batch.batch_wait = PromDuration::from_millis(100);
    c
}

fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn start(
    logs: &Path,
    state: &Path,
    sink: &Arc<TestSink>,
    f: impl FnOnce(&mut FileTargetConfig),
) -> HostLogs {
    HostLogs::start(config(logs, f), state, sink.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_rotation_reads_the_old_file_to_its_end() {
    let (logs, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let path = logs.path().join("app.log");
    append(&path, "one\ntwo\n");
    let sink = TestSink::new();
    let h = start(logs.path(), state.path(), &sink, |_| {});
    wait_for(10, "2 lines", || sink.all().len() == 2).await;
    let (labels, _) = &sink.all()[0];
    assert_eq!(labels.get("filename"), Some(path.to_str().unwrap()));
    assert_eq!(labels.get("job"), Some("varlogs"));
    // The writer still holds the old file when it is renamed away, and writes once more.
    let mut old = OpenOptions::new().append(true).open(&path).unwrap();
    fs::rename(&path, logs.path().join("app.log.1")).unwrap();
    old.write_all(b"three (after rename)\n").unwrap();
    append(&path, "four (new file)\nfive\n");
    wait_for(10, "5 lines", || sink.all().len() == 5).await;
    assert_eq!(
        sink.lines(),
        vec![
            "one",
            "two",
            "three (after rename)",
            "four (new file)",
            "five"
        ]
    );
    assert!(
        sink.all()
            .iter()
            .all(|(l, _)| l.get("filename") == Some(path.to_str().unwrap()))
    );
    assert!(metric(&h, "lookout_hostlogs_file_rotations_total") >= 1);
    wait_for(10, "old file closed", || {
        metric(&h, "lookout_hostlogs_files_active") == 1
    })
    .await;
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copytruncate_and_truncation_restart_at_zero() {
    let (logs, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let path = logs.path().join("app.log");
    append(&path, "a long first line\na long second line\n");
    let sink = TestSink::new();
    let h = start(logs.path(), state.path(), &sink, |_| {});
    wait_for(10, "2 lines", || sink.all().len() == 2).await;
    // copytruncate: copy aside (not matched by the glob), truncate in place, keep writing.
    fs::copy(&path, logs.path().join("app.log.1")).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&path, "after copy\n");
    wait_for(10, "3 lines", || sink.all().len() == 3).await;
    // Plain truncation to zero, then new content.
    OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    append(&path, "fresh\n");
    wait_for(10, "4 lines", || sink.all().len() == 4).await;
    assert_eq!(
        sink.lines(),
        vec![
            "a long first line",
            "a long second line",
            "after copy",
            "fresh"
        ]
    );
    assert_eq!(metric(&h, "lookout_hostlogs_file_truncations_total"), 2);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_deleted_mid_tail_is_read_to_its_end_then_closed() {
    let (logs, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let path = logs.path().join("gone.log");
    let mut w = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap();
    w.write_all(b"before\n").unwrap();
    let sink = TestSink::new();
    let h = start(logs.path(), state.path(), &sink, |_| {});
    wait_for(10, "1 line", || sink.all().len() == 1).await;
    fs::remove_file(&path).unwrap();
    w.write_all(b"after delete\n").unwrap();
    wait_for(10, "2 lines", || sink.all().len() == 2).await;
    assert_eq!(sink.lines(), vec!["before", "after delete"]);
    wait_for(10, "file closed", || {
        metric(&h, "lookout_hostlogs_files_active") == 0
    })
    .await;
    h.shutdown().await;
    let positions = fs::read_to_string(state.path().join("positions.json")).unwrap();
    assert!(!positions.contains("gone.log"), "{positions}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multiline_blocks_join_and_flush_after_max_wait() {
    let (logs, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let path = logs.path().join("java.log");
    let sink = TestSink::new();
    let h = start(logs.path(), state.path(), &sink, |t| {
        t.multiline = Some(MultilineConfig {
            firstline: r"^\d{4}-\d{2}-\d{2}".into(),
            max_wait_time: PromDuration::from_millis(400),
            max_lines: 3,
        });
    });
    append(
        &path,
        "2024-01-01 boom\n  at a\n  at b\n2024-01-02 long\n l1\n l2\n l3\n2024-01-03 last\n  at c\n",
    );
    // The first block ends at the next firstline; the second at max_lines; the last after max_wait.
    wait_for(10, "4 entries", || sink.all().len() == 4).await;
    assert_eq!(
        sink.lines(),
        vec![
            "2024-01-01 boom\n  at a\n  at b",
            "2024-01-02 long\n l1\n l2",
            " l3",
            "2024-01-03 last\n  at c"
        ]
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_lines_are_dropped_or_truncated() {
    let (logs, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    append(
        &logs.path().join("a.log"),
        &format!("short\n{}\nok\n", "x".repeat(100_000)),
    );
    let sink = TestSink::new();
    let h = start(logs.path(), state.path(), &sink, |t| {
        t.max_line_size = ByteSize(10)
    });
    wait_for(10, "2 lines", || sink.all().len() == 2).await;
    assert_eq!(sink.lines(), vec!["short", "ok"]);
    assert_eq!(
        metric(
            &h,
            "lookout_hostlogs_entries_dropped_total{source=\"file\",reason=\"too_large\"}"
        ),
        1
    );
    h.shutdown().await;

    let (logs, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    append(
        &logs.path().join("a.log"),
        &format!("{}\nok\n", "y".repeat(50)),
    );
    let sink = TestSink::new();
    let h = start(logs.path(), state.path(), &sink, |t| {
        t.max_line_size = ByteSize(10);
        t.max_line_size_truncate = true;
    });
    wait_for(10, "2 lines", || sink.all().len() == 2).await;
    assert_eq!(sink.lines(), vec!["yyyyyyyyyy", "ok"]);
    assert_eq!(
        metric(
            &h,
            "lookout_hostlogs_lines_truncated_total{source=\"file\"}"
        ),
        1
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_resumes_from_saved_positions_without_loss_or_duplicates() {
    let (logs, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let path = logs.path().join("app.log");
    append(&path, "1\n2\n3\npartial");
    let sink = TestSink::new();
    let h = start(logs.path(), state.path(), &sink, |_| {});
    wait_for(10, "3 lines", || sink.all().len() == 3).await;
    h.shutdown().await;
    // Written while Lookout is down, including the end of the incomplete line.
    append(&path, " line\n4\n5\n");
    let h = start(logs.path(), state.path(), &sink, |_| {});
    wait_for(10, "6 lines", || sink.all().len() == 6).await;
    append(&path, "6\n");
    wait_for(10, "7 lines", || sink.all().len() == 7).await;
    assert_eq!(
        sink.lines(),
        vec!["1", "2", "3", "partial line", "4", "5", "6"]
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn positions_are_saved_only_after_the_push_is_stored() {
    let (logs, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let path = logs.path().join("app.log");
    append(&path, "a\nb\n");
    let sink = TestSink::new();
    // Refused pushes (rate limited) for a long while: nothing may be recorded as done.
    sink.rate_limit
        .store(usize::MAX, std::sync::atomic::Ordering::SeqCst);
    let h = start(logs.path(), state.path(), &sink, |_| {});
    wait_for(10, "a refused push", || {
        metric(
            &h,
            "lookout_hostlogs_push_rate_limited_total{source=\"file\"}",
        ) >= 1
    })
    .await;
    h.shutdown().await;
    let saved = fs::read_to_string(state.path().join("positions.json")).unwrap_or_default();
    assert!(!saved.contains("\"pos\": 4"), "{saved}");
    // Next run, the store accepts: both lines arrive exactly once.
    sink.rate_limit
        .store(0, std::sync::atomic::Ordering::SeqCst);
    let h = start(logs.path(), state.path(), &sink, |_| {});
    wait_for(10, "2 lines", || sink.all().len() == 2).await;
    h.shutdown().await;
    assert_eq!(sink.lines(), vec!["a", "b"]);
    let saved = fs::read_to_string(state.path().join("positions.json")).unwrap();
    assert!(saved.contains("\"pos\": 4"), "{saved}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_from_end_skips_existing_content_but_not_new_files() {
    let (logs, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    append(&logs.path().join("old.log"), "old content\n");
    let sink = TestSink::new();
    let h = start(logs.path(), state.path(), &sink, |t| t.tail_from_end = true);
    wait_for(10, "file opened", || {
        metric(&h, "lookout_hostlogs_files_active") == 1
    })
    .await;
    append(&logs.path().join("old.log"), "new in old\n");
    append(&logs.path().join("new.log"), "whole new file\n");
    wait_for(10, "2 lines", || sink.all().len() == 2).await;
    let mut lines = sink.lines();
    lines.sort();
    assert_eq!(lines, vec!["new in old", "whole new file"]);
    h.shutdown().await;
}
