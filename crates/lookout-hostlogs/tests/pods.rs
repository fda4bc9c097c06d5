//! Kubernetes pod logs on a kubelet-style tree in a temp dir: CRI and docker JSON, partial lines, labels from the
//! path and from a fake `PodMetadata`, kubelet rotation, container restart, pod deletion, restart of the source.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{TestSink, metric, wait_for};
use lookout_hostlogs::{HostLogs, HostLogsConfig, PodMetadata, PodsConfig};
use lookout_model::{ByteSize, Labels, PromDuration};
use lookout_storage::logs::Entry;
use parking_lot::Mutex;

/// `2026-12-05T10:15:<s>.000000123Z` and its Unix nanoseconds.
fn t(s: u32) -> (String, i64) {
    let text = format!("2026-12-05T10:15:{s:02}.000000123Z");
    let ns = text.parse::<jiff::Timestamp>().unwrap().as_nanosecond() as i64;
    (text, ns)
}

fn cri(s: u32, stream: &str, flag: &str, content: &str) -> String {
    format!("{} {stream} {flag} {content}\n", t(s).0)
}

fn docker(s: u32, stream: &str, log: &str) -> String {
    let log = serde_json::to_string(log).unwrap();
    format!(
        "{{\"log\":{log},\"stream\":\"{stream}\",\"time\":\"{}\"}}\n",
        t(s).0
    )
}

/// The log file of `container` in pod `ns/pod` (created with its directories).
fn log_file(root: &Path, ns: &str, pod: &str, uid: &str, container: &str, n: u32) -> PathBuf {
    let dir = root.join(format!("{ns}_{pod}_{uid}")).join(container);
    fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{n}.log"))
}

fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn config(root: &Path, f: impl FnOnce(&mut PodsConfig)) -> HostLogsConfig {
    let mut p = PodsConfig {
        path: root.to_string_lossy().into_owned(),
        sync_period: PromDuration::from_millis(200),
        poll_interval: PromDuration::from_millis(30),
        metadata_wait: PromDuration::from_secs(1),
        ..PodsConfig::default()
    };
    f(&mut p);
    let mut c = HostLogsConfig {
        pods: Some(p),
        ..HostLogsConfig::default()
    };
    c.batch.batch_wait = PromDuration::from_millis(100);
    c
}

fn start(
    root: &Path,
    state: &Path,
    sink: &Arc<TestSink>,
    f: impl FnOnce(&mut PodsConfig),
) -> HostLogs {
    HostLogs::start(config(root, f), state, sink.clone()).unwrap()
}

/// Answers for `api-0` at once, for `api-1` from its third question on, never for other pods.
#[derive(Default)]
struct FakeMetadata {
    calls: Mutex<HashMap<String, usize>>,
}

impl PodMetadata for FakeMetadata {
    fn labels(&self, namespace: &str, pod: &str, uid: &str) -> Option<BTreeMap<String, String>> {
        let n = {
            let mut calls = self.calls.lock();
            let n = calls.entry(pod.to_string()).or_default();
            *n += 1;
            *n
        };
        let map = |pairs: &[(&str, &str)]| {
            Some(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        };
        match (namespace, pod, uid) {
            ("web", "api-0", "uid-0") => map(&[("app", "api"), ("node_name", "node-1")]),
            ("web", "api-1", "uid-1") if n >= 3 => map(&[("app", "api"), ("instance", "blue")]),
            _ => None,
        }
    }
}

fn find<'a>(all: &'a [(Labels, Entry)], line: &str) -> &'a (Labels, Entry) {
    all.iter()
        .find(|(_, e)| e.line == line)
        .unwrap_or_else(|| panic!("no entry {line:?} in {all:?}"))
}

fn labels_of(l: &Labels) -> BTreeMap<String, String> {
    l.iter()
        .map(|l| (l.name.to_string(), l.value.to_string()))
        .collect()
}

fn expect_labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn formats_partials_timestamps_and_labels() {
    let (root, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let root = root.path();
    let nginx0 = log_file(root, "web", "api-0", "uid-0", "nginx", 0);
    append(
        &nginx0,
        &[
            cri(1, "stdout", "F", "GET /"),
            cri(2, "stdout", "P", "part one, "),
            cri(3, "stdout", "P", "part two, "),
            cri(4, "stdout", "F", "end"),
            cri(5, "stderr", "F", "warn: slow"),
            "this is not a container line\n".to_string(),
        ]
        .concat(),
    );
    // A kubelet-rotated file and its compressed form are not read.
    append(
        &nginx0.with_file_name("0.log.20261205-000000"),
        &cri(0, "stdout", "F", "rotated"),
    );
    append(
        &nginx0.with_file_name("0.log.20261204-000000.gz"),
        &cri(0, "stdout", "F", "gz"),
    );
    let sidecar = log_file(root, "web", "api-0", "uid-0", "sidecar", 0);
    append(
        &sidecar,
        &[
            docker(6, "stdout", "side 1\n"),
            docker(7, "stdout", "docker part A "),
            docker(8, "stdout", "docker part B\n"),
        ]
        .concat(),
    );
    append(
        &log_file(root, "web", "api-1", "uid-1", "nginx", 0),
        &cri(9, "stdout", "F", "api-1 hello"),
    );
    append(
        &log_file(root, "batch", "job-x", "uid-2", "worker", 0),
        &docker(10, "stderr", "job line\n"),
    );
    append(
        &log_file(root, "kube-system", "coredns-1", "uid-3", "coredns", 0),
        &cri(11, "stdout", "F", "excluded"),
    );
    fs::create_dir_all(root.join("not-a-pod-dir/c")).unwrap();
    append(
        &root.join("not-a-pod-dir/c/0.log"),
        &cri(12, "stdout", "F", "not a pod"),
    );

    let sink = TestSink::new();
    let meta = Arc::new(FakeMetadata::default());
    let cfg = config(root, |p| {
        p.namespaces.exclude = vec!["kube-*".into()];
        p.labels = [("cluster".to_string(), "lab".to_string())].into();
    });
    let h = HostLogs::start_with_pod_metadata(cfg, state.path(), sink.clone(), Some(meta.clone()))
        .unwrap();
    wait_for(10, "8 entries", || sink.all().len() == 8).await;
    let all = sink.all();

    // CRI: P, P, F joined into one entry with the time of the F part; stream as a label.
    let (l, e) = find(&all, "part one, part two, end");
    assert_eq!(e.ts, t(4).1);
    let api0 = |container: &str, stream: &str| {
        expect_labels(&[
            ("app", "api"),
            ("cluster", "lab"),
            ("container", container),
            ("job", "web/api"),
            ("namespace", "web"),
            ("node_name", "node-1"),
            ("pod", "api-0"),
            ("stream", stream),
        ])
    };
    assert_eq!(labels_of(l), api0("nginx", "stdout"));
    assert_eq!(find(&all, "GET /").1.ts, t(1).1);
    let (l, e) = find(&all, "warn: slow");
    assert_eq!((labels_of(l), e.ts), (api0("nginx", "stderr"), t(5).1));
    // Docker JSON: the trailing newline removed, partials joined, time from the line.
    let (l, e) = find(&all, "side 1");
    assert_eq!((labels_of(l), e.ts), (api0("sidecar", "stdout"), t(6).1));
    assert_eq!(find(&all, "docker part A docker part B").1.ts, t(8).1);
    // Neither format: passed on unchanged with the read time and no stream label (Promtail's behaviour).
    let (l, e) = find(&all, "this is not a container line");
    assert!(e.ts > t(59).1, "read time expected, got {}", e.ts);
    assert_eq!(l.get("stream"), None);
    assert_eq!(l.get("container"), Some("nginx"));
    assert_eq!(metric(&h, "lookout_hostlogs_pods_unparsed_lines_total"), 1);
    // Metadata that came on the third question; metadata that never came (path labels, job from container).
    let (l, _) = find(&all, "api-1 hello");
    assert_eq!(l.get("instance"), Some("blue"));
    assert_eq!(l.get("job"), Some("web/api"));
    assert!(meta.calls.lock()["api-1"] >= 3);
    let (l, e) = find(&all, "job line");
    assert_eq!(
        labels_of(l),
        expect_labels(&[
            ("cluster", "lab"),
            ("container", "worker"),
            ("job", "batch/worker"),
            ("namespace", "batch"),
            ("pod", "job-x"),
            ("stream", "stderr"),
        ])
    );
    assert_eq!(e.ts, t(10).1);
    assert_eq!(
        metric(&h, "lookout_hostlogs_pods_metadata_missing_total"),
        1
    );
    assert_eq!(metric(&h, "lookout_hostlogs_pods_active"), 3);
    assert_eq!(metric(&h, "lookout_hostlogs_pods_files_active"), 4);
    assert_eq!(
        metric(&h, "lookout_hostlogs_entries_pushed_total{source=\"pods\"}"),
        8
    );
    // The excluded namespace, the non-pod directory and the rotated files never show up.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.all().len(), 8, "{:?}", sink.lines());
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubelet_rotation_and_container_restart() {
    let (root, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let path = log_file(root.path(), "web", "api-0", "uid-0", "app", 0);
    append(
        &path,
        &(cri(1, "stdout", "F", "one") + &cri(2, "stdout", "F", "two")),
    );
    let sink = TestSink::new();
    let h = start(root.path(), state.path(), &sink, |_| {});
    wait_for(10, "2 lines", || sink.all().len() == 2).await;
    // The runtime still writes to the file the kubelet renamed, then to the new one.
    let mut old = OpenOptions::new().append(true).open(&path).unwrap();
    let rotated = path.with_file_name("0.log.20261205-101500");
    fs::rename(&path, &rotated).unwrap();
    old.write_all(cri(3, "stdout", "F", "three (after rename)").as_bytes())
        .unwrap();
    drop(old);
    append(&path, &cri(4, "stdout", "F", "four (new file)"));
    wait_for(10, "4 lines", || sink.all().len() == 4).await;
    // Later the rotated file is compressed (`.gz`, here plain text that would show if it were read).
    fs::write(
        rotated.with_extension("20261205-101500.gz"),
        cri(5, "stdout", "F", "from the gz"),
    )
    .unwrap();
    fs::remove_file(&rotated).unwrap();
    // The container restarts: the runtime writes `1.log`.
    append(
        &path.with_file_name("1.log"),
        &cri(6, "stdout", "F", "five (restarted)"),
    );
    wait_for(10, "5 lines", || sink.all().len() == 5).await;
    wait_for(10, "0.log and 1.log open", || {
        metric(&h, "lookout_hostlogs_pods_files_active") == 2
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        sink.lines(),
        vec![
            "one",
            "two",
            "three (after rename)",
            "four (new file)",
            "five (restarted)"
        ]
    );
    assert!(
        sink.all()
            .iter()
            .all(|(l, _)| l.get("container") == Some("app"))
    );
    assert!(metric(&h, "lookout_hostlogs_pods_file_rotations_total") >= 1);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_pod_is_read_to_its_end_then_forgotten() {
    let (root, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let gone = log_file(root.path(), "web", "gone-0", "uid-gone", "app", 0);
    let stays = log_file(root.path(), "web", "stays-0", "uid-stays", "app", 0);
    let mut w = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&gone)
        .unwrap();
    w.write_all(cri(1, "stdout", "F", "before").as_bytes())
        .unwrap();
    append(&stays, &cri(2, "stdout", "F", "other pod"));
    let sink = TestSink::new();
    let h = start(root.path(), state.path(), &sink, |_| {});
    wait_for(10, "2 lines", || sink.all().len() == 2).await;
    wait_for(10, "positions saved", || {
        fs::read_to_string(state.path().join("pods-positions.json"))
            .is_ok_and(|p| p.contains("uid-gone"))
    })
    .await;
    fs::remove_dir_all(root.path().join("web_gone-0_uid-gone")).unwrap();
    // Written through the handle still open after the directory is gone.
    w.write_all(cri(3, "stdout", "F", "after delete").as_bytes())
        .unwrap();
    wait_for(10, "3 lines", || sink.all().len() == 3).await;
    assert_eq!(sink.lines(), vec!["before", "other pod", "after delete"]);
    wait_for(10, "pod forgotten", || {
        metric(&h, "lookout_hostlogs_pods_active") == 1
            && metric(&h, "lookout_hostlogs_pods_files_active") == 1
    })
    .await;
    h.shutdown().await;
    let positions = fs::read_to_string(state.path().join("pods-positions.json")).unwrap();
    assert!(!positions.contains("uid-gone"), "{positions}");
    assert!(positions.contains("uid-stays"), "{positions}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_resumes_without_loss_or_duplicates() {
    let (root, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let path = log_file(root.path(), "web", "api-0", "uid-0", "app", 0);
    // A stdout partial line is still open when the source stops; stderr goes on meanwhile.
    append(
        &path,
        &[
            cri(1, "stdout", "F", "a"),
            cri(2, "stdout", "P", "b1 "),
            cri(3, "stderr", "F", "err during partial"),
        ]
        .concat(),
    );
    let docker_path = log_file(root.path(), "web", "api-0", "uid-0", "docker", 0);
    append(&docker_path, &docker(4, "stdout", "d1 "));
    let sink = TestSink::new();
    let h = start(root.path(), state.path(), &sink, |_| {});
    wait_for(10, "2 lines", || sink.all().len() == 2).await;
    h.shutdown().await;
    let positions = fs::read_to_string(state.path().join("pods-positions.json")).unwrap();
    assert!(positions.contains("\"stored\""), "{positions}");
    // Written while the source is down.
    append(
        &path,
        &(cri(5, "stdout", "F", "b2") + &cri(6, "stdout", "F", "c")),
    );
    append(&docker_path, &docker(7, "stdout", "d2\n"));
    let h = start(root.path(), state.path(), &sink, |_| {});
    wait_for(10, "5 lines", || sink.all().len() == 5).await;
    append(&path, &cri(8, "stdout", "F", "d"));
    wait_for(10, "6 lines", || sink.all().len() == 6).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        sink.lines(),
        vec!["a", "err during partial", "b1 b2", "c", "d1 d2", "d"]
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joined_lines_over_the_limit_are_dropped_or_truncated() {
    let lines = [
        cri(1, "stdout", "P", "12345"),
        cri(2, "stdout", "P", "67890"),
        cri(3, "stdout", "F", "abc"),
        cri(4, "stdout", "F", "ok"),
    ]
    .concat();
    for truncate in [false, true] {
        let (root, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        append(
            &log_file(root.path(), "web", "api-0", "uid-0", "app", 0),
            &lines,
        );
        let sink = TestSink::new();
        let h = start(root.path(), state.path(), &sink, |p| {
            p.max_line_size = ByteSize(10);
            p.max_line_size_truncate = truncate;
        });
        let want = if truncate {
            vec!["1234567890", "ok"]
        } else {
            vec!["ok"]
        };
        wait_for(10, "entries", || sink.all().len() == want.len()).await;
        assert_eq!(sink.lines(), want);
        let (dropped, truncated) = (
            metric(
                &h,
                "lookout_hostlogs_entries_dropped_total{source=\"pods\",reason=\"too_large\"}",
            ),
            metric(
                &h,
                "lookout_hostlogs_lines_truncated_total{source=\"pods\"}",
            ),
        );
        assert_eq!((dropped, truncated), if truncate { (0, 1) } else { (1, 0) });
        h.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_from_end_skips_existing_content_but_not_new_pods() {
    let (root, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let old = log_file(root.path(), "web", "old-0", "uid-old", "app", 0);
    append(&old, &cri(1, "stdout", "F", "old content"));
    let sink = TestSink::new();
    let h = start(root.path(), state.path(), &sink, |p| p.tail_from_end = true);
    wait_for(10, "file opened", || {
        metric(&h, "lookout_hostlogs_pods_files_active") == 1
    })
    .await;
    append(&old, &cri(2, "stdout", "F", "new in old"));
    append(
        &log_file(root.path(), "web", "new-0", "uid-new", "app", 0),
        &cri(3, "stdout", "F", "whole new pod"),
    );
    // A restart of a container of a pod that was there at startup is new: read whole.
    append(
        &old.with_file_name("1.log"),
        &cri(4, "stdout", "F", "whole restarted container"),
    );
    wait_for(10, "3 lines", || sink.all().len() == 3).await;
    assert_eq!(
        sink.lines(),
        vec!["new in old", "whole new pod", "whole restarted container"]
    );
    h.shutdown().await;
}
