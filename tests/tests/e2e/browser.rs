//! The built-in web UI in a real browser: Lookout scrapes itself and runs the host collector, a rule file records
//! and fires an alert at once, synthetic Kubernetes and Proxmox VE series (one hour at 15 s steps) are imported for
//! their dashboards and log lines with levels are pushed; then `tests/browser/run.mjs` drives Debian's Chromium
//! through every page, the query and logs explorers, live tail and every panel of every shipped dashboard, and saves
//! screenshots to `target/browser-screenshots` (`LOOKOUT_UPDATE_SCREENSHOTS=1` also copies the README's two to
//! `docs/screenshots/`). `tests/browser/firefox.mjs` makes a smaller pass in Debian's firefox-esr against the same
//! setup. The data below is the contract `run.mjs` and `firefox.mjs` rely on (named at the top of `run.mjs`).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lookout::serve::{ServeArgs, Server};
use lookout_e2e::fake_kube::FakeKube;
use lookout_e2e::{free_port, instant_query, post_bytes, wait_for};
use serde_json::json;

const RULES: &str = r#"
groups:
  - name: browser-check
    interval: 1s
    rules:
      - record: browser_check:up:sum
        expr: sum by (job) (up)
      - alert: BrowserCheckAlwaysFiring
        expr: vector(1)
        for: 0s
        labels:
          severity: info
        annotations:
          summary: Always firing, for the browser checks
"#;

/// Everything the shipped dashboards chart, on loopback: the self and host jobs, a Proxmox VE module whose API is
/// closed (a target down on purpose, and the collector's own series), Kubernetes discovery with Operator monitors
/// against a fake API server, forwarding (remote_write, Loki push), an Alertmanager and a webhook receiver (all
/// at `sink`), and a tailed log file.
fn config(port: u16, sink: SocketAddr, closed: u16, kube: &str, logs: &Path) -> String {
    format!(
        r#"
global:
  scrape_interval: 2s
  scrape_timeout: 2s
  evaluation_interval: 1s
rule_files: ["browser.rules.yml"]
rules: {{resend_delay: 1s}}
scrape_configs:
  - job_name: lookout
    static_configs:
      - targets: ["127.0.0.1:{port}"]
collectors:
  host:
    scrape_interval: 2s
  proxmox:
    scrape_interval: 2s
    modules:
      - {{name: lab, targets: ["127.0.0.1:{closed}"], user: prometheus@pve, token_name: mon, token_value: s3cret, timeout: 500ms}}
kubernetes:
  enabled: true
  api_server: "{kube}"
  default_scrape_jobs: false
  kube_state_metrics: {{enabled: false}}
  monitors: {{selector: release=lookout}}
remote_write:
  - url: http://{sink}/api/v1/write
    queue_config: {{batch_send_deadline: 200ms}}
loki_write:
  - url: http://{sink}/loki/api/v1/push
    batch_wait: 200ms
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["{sink}"]
notifications:
  route:
    receiver: hook
    group_wait: 100ms
    group_interval: 500ms
    repeat_interval: 1h
  receivers:
    - name: hook
      webhook_configs:
        - url: http://{sink}/hook
host_logs:
  batch: {{batch_wait: 100ms}}
  files:
    - paths: ["{logs}/*.log"]
      labels: {{job: browser-file}}
      poll_interval: 100ms
"#,
        logs = logs.display()
    )
}

/// Accepts whatever the forwarding, the Alertmanager client and the webhook notifier send.
async fn sink() -> SocketAddr {
    use axum::http::StatusCode;
    use axum::routing::post;
    let app = axum::Router::new()
        .route("/api/v1/write", post(|| async { StatusCode::NO_CONTENT }))
        .route(
            "/loki/api/v1/push",
            post(|| async { StatusCode::NO_CONTENT }),
        )
        .route("/api/v2/alerts", post(|| async { StatusCode::OK }))
        .route("/hook", post(|| async { StatusCode::OK }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("bound address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// Samples over the last hour at 15 s steps, as text exposition with timestamps (labels written as in the text
/// format, without braces).
struct Synthetic {
    out: String,
    times_ms: Vec<i64>,
}

impl Synthetic {
    fn new(now_ms: i64) -> Self {
        // 59 minutes back to now: inside the dashboards' default `now-1h`.
        let times_ms = (0..=236).rev().map(|k| now_ms - k * 15_000).collect();
        Synthetic {
            out: String::new(),
            times_ms,
        }
    }

    fn series(&mut self, name: &str, labels: &str, values: impl Iterator<Item = f64>) {
        for (t, v) in self.times_ms.iter().zip(values) {
            let _ = writeln!(self.out, "{name}{{{labels}}} {v} {t}");
        }
    }

    /// A constant (info metrics, one-hot states, sizes).
    fn constant(&mut self, name: &str, labels: &str, v: f64) {
        self.series(name, labels, std::iter::repeat(v));
    }

    /// A gauge wobbling ±`wobble` (a fraction) around `base`, phase-shifted by its labels.
    fn gauge(&mut self, name: &str, labels: &str, base: f64, wobble: f64) {
        let phase = labels.len() as f64 / 7.0;
        let values = (0..).map(move |k| base * (1.0 + wobble * (f64::from(k) / 9.0 + phase).sin()));
        self.series(name, labels, values);
    }

    /// A counter growing by about `per_s` a second (never decreasing).
    fn counter(&mut self, name: &str, labels: &str, per_s: f64) {
        let phase = labels.len() as f64 / 7.0;
        let values = (0..).scan(0.0, move |total, k: i32| {
            let now = *total;
            *total += per_s * 15.0 * (1.0 + 0.4 * (f64::from(k) / 7.0 + phase).sin());
            Some(f64::round(now))
        });
        self.series(name, labels, values);
    }

    /// One series per state of a one-hot family: 1 for `current`, 0 for the others.
    fn one_hot(&mut self, name: &str, labels: &str, key: &str, states: &[&str], current: &str) {
        for state in states {
            let v = if *state == current { 1.0 } else { 0.0 };
            self.constant(name, &format!("{labels},{key}=\"{state}\""), v);
        }
    }
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
const HA_STATES: [&str; 3] = ["started", "stopped", "ignored"];
const LOCK_STATES: [&str; 3] = ["backup", "migrate", "snapshot"];

/// kube-state-metrics, cAdvisor (kubelet) and kubelet volume series for `dashboards/kubernetes.json`.
fn kubernetes(s: &mut Synthetic) {
    let ksm = r#"job="kube-state-metrics",instance="10.0.0.5:8080""#;
    for (node, pressure) in [("node-a", "false"), ("node-b", "true")] {
        let n = format!(r#"{ksm},node="{node}""#);
        s.constant(
            "kube_node_info",
            &format!(r#"{n},kubelet_version="v1.33.1""#),
            1.0,
        );
        let statuses = ["true", "false", "unknown"];
        let cond = |c: &str| format!(r#"{n},condition="{c}""#);
        let condition = "kube_node_status_condition";
        s.one_hot(condition, &cond("Ready"), "status", &statuses, "true");
        s.one_hot(
            condition,
            &cond("MemoryPressure"),
            "status",
            &statuses,
            pressure,
        );
        s.one_hot(
            condition,
            &cond("DiskPressure"),
            "status",
            &statuses,
            "false",
        );
        let alloc = "kube_node_status_allocatable";
        s.constant(alloc, &format!(r#"{n},resource="cpu",unit="core""#), 4.0);
        s.constant(
            alloc,
            &format!(r#"{n},resource="memory",unit="byte""#),
            16.0 * GIB,
        );
        s.constant(
            alloc,
            &format!(r#"{n},resource="pods",unit="integer""#),
            110.0,
        );
    }
    // (namespace, pod, container, node, phase, CPU cores used)
    let pods = [
        ("shop", "web-5d8f7-abcde", "web", "node-a", "Running", 0.35),
        ("shop", "web-5d8f7-fghij", "web", "node-b", "Running", 0.3),
        ("shop", "db-0", "postgres", "node-a", "Running", 0.6),
        (
            "shop",
            "worker-8c9d-uvwxy",
            "worker",
            "node-b",
            "Pending",
            0.0,
        ),
        (
            "shop",
            "report-28473-zzzzz",
            "report",
            "node-a",
            "Failed",
            0.0,
        ),
        (
            "monitoring",
            "lookout-0",
            "lookout",
            "node-b",
            "Running",
            0.2,
        ),
        (
            "kube-system",
            "coredns-6f7b-klmno",
            "coredns",
            "node-a",
            "Running",
            0.05,
        ),
        (
            "kube-system",
            "kube-proxy-pqrst",
            "kube-proxy",
            "node-b",
            "Running",
            0.02,
        ),
    ];
    let phases = ["Pending", "Running", "Succeeded", "Failed", "Unknown"];
    for (ns, pod, container, node, phase, cpu) in pods {
        let p = format!(r#"namespace="{ns}",pod="{pod}""#);
        s.constant("kube_pod_info", &format!(r#"{ksm},{p},node="{node}""#), 1.0);
        s.one_hot(
            "kube_pod_status_phase",
            &format!("{ksm},{p}"),
            "phase",
            &phases,
            phase,
        );
        let c = format!(r#"{ksm},{p},container="{container}""#);
        let restarts = if pod == "db-0" { 1.0 / 600.0 } else { 0.0 };
        s.counter("kube_pod_container_status_restarts_total", &c, restarts);
        for (metric, factor) in [("requests", 1.0), ("limits", 2.0)] {
            let metric = format!("kube_pod_container_resource_{metric}");
            let cpu_l = format!(r#"{c},node="{node}",resource="cpu",unit="core""#);
            let mem_l = format!(r#"{c},node="{node}",resource="memory",unit="byte""#);
            s.constant(&metric, &cpu_l, 0.25 * factor);
            s.constant(&metric, &mem_l, 0.5 * GIB * factor);
        }
        if phase != "Running" {
            continue;
        }
        let kubelet = r#"job="kubelet",metrics_path="/metrics/cadvisor""#;
        let pod_l = format!(r#"{kubelet},instance="{node}",node="{node}",{p}"#);
        let ctr = format!(r#"{pod_l},container="{container}",image="registry.example/app:1""#);
        s.counter("container_cpu_usage_seconds_total", &ctr, cpu);
        s.gauge(
            "container_memory_working_set_bytes",
            &ctr,
            3e8 * (1.0 + cpu),
            0.1,
        );
        s.counter("container_cpu_cfs_periods_total", &ctr, 10.0);
        s.counter("container_cpu_cfs_throttled_periods_total", &ctr, 5.0 * cpu);
        let dev = format!(r#"{ctr},device="/dev/sda""#);
        s.counter("container_fs_reads_bytes_total", &dev, 20_000.0 * cpu);
        s.counter("container_fs_writes_bytes_total", &dev, 50_000.0 * cpu);
        let net = format!(r#"{pod_l},interface="eth0""#);
        s.counter(
            "container_network_receive_bytes_total",
            &net,
            80_000.0 * cpu,
        );
        s.counter(
            "container_network_transmit_bytes_total",
            &net,
            40_000.0 * cpu,
        );
    }
    let worker = r#"namespace="shop",pod="worker-8c9d-uvwxy",container="worker""#;
    let waiting = format!(r#"{ksm},{worker},reason="ContainerCreating""#);
    s.constant("kube_pod_container_status_waiting_reason", &waiting, 1.0);
    let db = r#"namespace="shop",pod="db-0",container="postgres""#;
    let oom = format!(r#"{ksm},{db},reason="OOMKilled""#);
    s.constant(
        "kube_pod_container_status_last_terminated_reason",
        &oom,
        1.0,
    );
    let job = format!(r#"{ksm},namespace="shop",job_name="report-28473""#);
    s.constant("kube_job_status_failed", &job, 1.0);
    for (ns, name, spec, available) in [
        ("shop", "web", 2.0, 2.0),
        ("shop", "worker", 1.0, 0.0),
        ("kube-system", "coredns", 1.0, 1.0),
    ] {
        let l = format!(r#"{ksm},namespace="{ns}",deployment="{name}""#);
        s.constant("kube_deployment_spec_replicas", &l, spec);
        s.constant("kube_deployment_status_replicas_available", &l, available);
        s.constant("kube_deployment_status_replicas_updated", &l, spec);
        s.constant(
            "kube_deployment_status_replicas_unavailable",
            &l,
            spec - available,
        );
    }
    for (ns, name) in [("shop", "db"), ("monitoring", "lookout")] {
        let l = format!(r#"{ksm},namespace="{ns}",statefulset="{name}""#);
        s.constant("kube_statefulset_replicas", &l, 1.0);
        s.constant("kube_statefulset_status_replicas_ready", &l, 1.0);
    }
    let ds = format!(r#"{ksm},namespace="kube-system",daemonset="kube-proxy""#);
    s.constant("kube_daemonset_status_desired_number_scheduled", &ds, 2.0);
    s.constant("kube_daemonset_status_number_ready", &ds, 2.0);
    s.constant("kube_daemonset_status_number_unavailable", &ds, 0.0);
    for (ns, pvc, pv, size) in [
        ("shop", "data-db-0", "pvc-1a2b", 20.0 * GIB),
        ("monitoring", "data-lookout-0", "pvc-3c4d", 50.0 * GIB),
    ] {
        let claim = format!(r#"namespace="{ns}",persistentvolumeclaim="{pvc}""#);
        let vol = format!(r#"job="kubelet",metrics_path="/metrics",instance="node-a",{claim}"#);
        s.constant("kubelet_volume_stats_capacity_bytes", &vol, size);
        s.gauge("kubelet_volume_stats_used_bytes", &vol, size * 0.4, 0.05);
        let c = format!("{ksm},{claim}");
        let requests = "kube_persistentvolumeclaim_resource_requests_storage_bytes";
        s.constant(requests, &c, size);
        let claim_phases = ["Bound", "Pending", "Lost"];
        let claim_phase = "kube_persistentvolumeclaim_status_phase";
        s.one_hot(claim_phase, &c, "phase", &claim_phases, "Bound");
        let v = format!(r#"{ksm},persistentvolume="{pv}""#);
        s.constant("kube_persistentvolume_capacity_bytes", &v, size);
        let pv_phases = ["Pending", "Available", "Bound", "Released", "Failed"];
        s.one_hot(
            "kube_persistentvolume_status_phase",
            &v,
            "phase",
            &pv_phases,
            "Bound",
        );
    }
}

/// prometheus-pve-exporter's series (Lookout's Proxmox VE collector names them alike) for
/// `dashboards/proxmox.json`.
fn proxmox(s: &mut Synthetic) {
    let pve = r#"job="pve",instance="pve.lab.example:8006""#;
    let id = |id: &str| format!(r#"{pve},id="{id}""#);
    s.constant("pve_up", &id("cluster/lab"), 1.0);
    s.constant("pve_not_backed_up_total", &id("cluster/lab"), 1.0);
    let version = format!(r#"{pve},release="8.4",repoid="2a5fa54a",version="8.4.1""#);
    s.constant("pve_version_info", &version, 1.0);
    for (n, name) in [("node/pve1", "pve1"), ("node/pve2", "pve2")] {
        let l = id(n);
        s.constant("pve_up", &l, 1.0);
        let info = format!(r#"{l},level="",name="{name}",nodeid="1""#);
        s.constant("pve_node_info", &info, 1.0);
        s.gauge("pve_cpu_usage_ratio", &l, 0.2, 0.25);
        s.constant("pve_cpu_usage_limit", &l, 16.0);
        s.constant("pve_memory_size_bytes", &l, 64.0 * GIB);
        s.gauge("pve_memory_usage_bytes", &l, 30.0 * GIB, 0.1);
        s.constant("pve_disk_size_bytes", &l, 100.0 * GIB);
        s.gauge("pve_disk_usage_bytes", &l, 30.0 * GIB, 0.01);
        s.counter("pve_uptime_seconds", &l, 1.0);
        let statuses = ["active", "notfound", "expired"];
        s.one_hot("pve_subscription_status", &l, "status", &statuses, "active");
        let due = "pve_subscription_next_due_timestamp_seconds";
        s.constant(due, &l, 1_798_675_200.0);
    }
    // (id, node, name, type, running)
    for (g, node, name, kind, up) in [
        ("qemu/100", "pve1", "web", "qemu", 1.0),
        ("qemu/101", "pve2", "db", "qemu", 1.0),
        ("lxc/200", "pve1", "dns", "lxc", 1.0),
        ("lxc/201", "pve2", "build", "lxc", 0.0),
    ] {
        let l = id(g);
        s.constant("pve_up", &l, up);
        let guest =
            format!(r#"node="{node}",name="{name}",type="{kind}",template="0",tags="prod""#);
        s.constant("pve_guest_info", &format!("{l},{guest}"), 1.0);
        s.gauge("pve_cpu_usage_ratio", &l, 0.1 * up, 0.25);
        s.constant("pve_cpu_usage_limit", &l, 4.0);
        s.constant("pve_memory_size_bytes", &l, 8.0 * GIB);
        s.gauge("pve_memory_usage_bytes", &l, 3.0 * GIB * up, 0.1);
        s.constant("pve_disk_size_bytes", &l, 32.0 * GIB);
        s.gauge("pve_disk_usage_bytes", &l, 12.0 * GIB, 0.01);
        s.counter("pve_uptime_seconds", &l, up);
        s.counter("pve_network_receive_bytes_total", &l, 60_000.0 * up);
        s.counter("pve_network_transmit_bytes_total", &l, 30_000.0 * up);
        s.counter("pve_disk_read_bytes_total", &l, 100_000.0 * up);
        s.counter("pve_disk_written_bytes_total", &l, 200_000.0 * up);
        let ha = if g == "qemu/100" { "started" } else { "" };
        s.one_hot("pve_ha_state", &l, "state", &HA_STATES, ha);
        let lock = if g == "qemu/101" { "backup" } else { "" };
        s.one_hot("pve_lock_state", &l, "state", &LOCK_STATES, lock);
    }
    s.constant("pve_not_backed_up_info", &id("lxc/201"), 1.0);
    // (id, node, storage, plugin type, shared)
    for (st, node, storage, plugin, shared) in [
        ("storage/pve1/local", "pve1", "local", "dir", 0.0),
        (
            "storage/pve1/local-lvm",
            "pve1",
            "local-lvm",
            "lvmthin",
            0.0,
        ),
        ("storage/pve2/nfs", "pve2", "nfs", "nfs", 1.0),
    ] {
        let l = id(st);
        s.constant("pve_up", &l, 1.0);
        let info = format!(r#"node="{node}",storage="{storage}",plugintype="{plugin}""#);
        let content = r#"content="images,rootdir""#;
        s.constant("pve_storage_info", &format!("{l},{info},{content}"), 1.0);
        s.constant("pve_storage_shared", &l, shared);
        s.constant("pve_disk_size_bytes", &l, 500.0 * GIB);
        s.gauge("pve_disk_usage_bytes", &l, 200.0 * GIB, 0.02);
    }
    let r = id("100-0");
    let job = r#"type="local",source="node/pve1",target="node/pve2",guest="qemu/100""#;
    s.constant("pve_replication_info", &format!("{r},{job}"), 1.0);
    s.constant("pve_replication_failed_syncs", &r, 0.0);
    s.gauge("pve_replication_duration_seconds", &r, 4.0, 0.3);
    let last_sync = s.times_ms.last().copied().unwrap_or_default() / 1000 - 300;
    let sync = "pve_replication_last_sync_timestamp_seconds";
    s.constant(sync, &r, last_sync as f64);
}

/// Log lines with levels over the last hour, as a Loki JSON push: the stream `run.mjs` looks at and two pods'.
fn log_push(now_ms: i64) -> serde_json::Value {
    const LINES: [(&str, [&str; 2]); 3] = [
        ("error", ["payment failed", "upstream timed out"]),
        ("warn", ["slow response", "retrying"]),
        ("info", ["request served", "cache warmed"]),
    ];
    let ns = |t: i64| format!("{t}000000");
    let mut streams = Vec::new();
    for (n, (level, texts)) in (0i64..).zip(LINES) {
        let values: Vec<_> = (0..20i64)
            .map(|i| {
                let t = now_ms - (50 - i * 2) * 60_000 - n * 1000;
                json!([ns(t), format!("browser check: {}", texts[(i % 2) as usize])])
            })
            .collect();
        let stream = json!({"job": "browser-check", "level": level});
        streams.push(json!({"stream": stream, "values": values}));
    }
    for (namespace, pod) in [("shop", "web-5d8f7-abcde"), ("monitoring", "lookout-0")] {
        let values: Vec<_> = (0..30i64)
            .map(|i| {
                let level = ["info", "info", "warn", "error"][(i % 4) as usize];
                let line = format!("level={level} msg=\"handled request {i}\" pod={pod}");
                json!([ns(now_ms - (59 - i * 2) * 60_000), line])
            })
            .collect();
        let stream = json!({"job": "kubernetes-pods", "namespace": namespace, "pod": pod, "container": "app"});
        streams.push(json!({"stream": stream, "values": values}));
    }
    json!({ "streams": streams })
}

/// Whether an instant query answers anything.
async fn has(url: &str, query: &str) -> bool {
    !instant_query(url, query).await.is_empty()
}

/// POSTs a body and checks the status.
async fn post(url: &str, body: Vec<u8>, content_type: &str, want: u16, what: &str) {
    let (code, answer) = post_bytes(url, body, &[("content-type", content_type)]).await;
    assert_eq!(code, want, "{what}: {answer}");
}

/// A machine without temperature sensors (a VM, CI) gets one synthetic sensor for the host dashboard's
/// "Temperatures" panel, under the host collector's own job and instance.
async fn hwmon_if_missing(url: &str, now: i64) {
    if has(url, "node_hwmon_temp_celsius{job=\"node\"}").await {
        return;
    }
    let uname = instant_query(url, "node_uname_info{job=\"node\"}").await;
    let instance = uname
        .first()
        .and_then(|s| s["metric"]["instance"].as_str())
        .expect("node_uname_info has an instance")
        .to_string();
    let mut s = Synthetic::new(now);
    let sensor = r#"chip="platform_coretemp_0",sensor="temp1""#;
    let labels = format!(r#"job="node",instance="{instance}",{sensor}"#);
    s.gauge("node_hwmon_temp_celsius", &labels, 48.0, 0.05);
    let import = format!("{url}/api/v1/import/prometheus");
    post(
        &import,
        s.out.into_bytes(),
        "text/plain",
        204,
        "import a sensor",
    )
    .await;
}

/// Imports the synthetic series, pushes the log lines and one push a limit refuses (so the "pushes refused"
/// panels have a series).
async fn seed(url: &str, now: i64) {
    let mut synthetic = Synthetic::new(now);
    kubernetes(&mut synthetic);
    proxmox(&mut synthetic);
    let import = format!("{url}/api/v1/import/prometheus");
    post(
        &import,
        synthetic.out.into_bytes(),
        "text/plain",
        204,
        "import",
    )
    .await;
    let push = format!("{url}/loki/api/v1/push");
    let body = serde_json::to_vec(&log_push(now)).expect("JSON");
    post(&push, body, "application/json", 204, "loki push").await;
    let labels: serde_json::Map<String, serde_json::Value> =
        (0..40).map(|i| (format!("l{i}"), json!("x"))).collect();
    let refused =
        json!({"streams": [{"stream": labels, "values": [[format!("{now}000000"), "x"]]}]});
    let body = serde_json::to_vec(&refused).expect("JSON");
    post(
        &push,
        body,
        "application/json",
        400,
        "a push with 40 labels",
    )
    .await;
}

/// Waits for a few scrapes of both jobs (rates need two samples), the log store's self-metrics, the recording
/// rule's output and the alert firing.
async fn wait_ready(url: &str) {
    let queries = [
        "count_over_time(up{job=\"lookout\"}[1m]) >= 4",
        "count_over_time(up{job=\"node\"}[1m]) >= 4",
        "count_over_time(lookout_logs_streams{job=\"lookout\"}[1m]) >= 2",
        "browser_check:up:sum",
        "ALERTS{alertname=\"BrowserCheckAlwaysFiring\",alertstate=\"firing\"}",
    ];
    for q in queries {
        wait_for(q, Duration::from_secs(30), || async {
            has(url, q).await.then_some(())
        })
        .await;
    }
}

fn now_ms() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH);
    since.expect("clock after 1970").as_millis() as i64
}

/// Runs a command in its own process group to completion within `limit`; panics with its output when it fails.
/// On timeout the group gets SIGTERM, then SIGKILL: playwright and puppeteer start the browser in a process group
/// of its own and kill it on SIGTERM.
async fn run(mut cmd: tokio::process::Command, what: &str, limit: Duration) -> String {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start ({e}); .ci/run installs Node.js and npm"));
    let pid = child.id().expect("a running child has an id");
    let Ok(out) = tokio::time::timeout(limit, child.wait_with_output()).await else {
        let group = format!("-{pid}");
        let _ = std::process::Command::new("kill")
            .args(["-TERM", "--", &group])
            .status();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &group])
            .status();
        panic!("{what}: no result after {limit:?}");
    };
    let out = out.unwrap_or_else(|e| panic!("{what}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let text = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{text}",
        out.status
    );
    text
}

/// A browser the checks need: the path (`env` overrides `default`), or a panic naming the Debian package.
fn browser_binary(env: &str, default: &str, package: &str) -> String {
    let path = std::env::var(env).unwrap_or_else(|_| default.into());
    assert!(
        Path::new(&path).exists(),
        "{path} is missing: this test needs Debian's {package} (apt-get install {package}; .ci/run installs it) \
         or {env} set to a {package} binary"
    );
    path
}

/// `tests/browser` with its node_modules: `npm ci` (the lockfile's playwright-core and puppeteer-core) when the
/// driver `module` is missing.
async fn browser_dir(repo: &Path, module: &str) -> PathBuf {
    let dir = repo.join("tests/browser");
    if !dir
        .join(format!("node_modules/{module}/package.json"))
        .exists()
    {
        let mut npm = tokio::process::Command::new("npm");
        npm.args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
            .current_dir(&dir);
        let limit = Duration::from_secs(90);
        let what =
            format!("{module} is missing in tests/browser/node_modules; npm ci in tests/browser");
        run(npm, &what, limit).await;
    }
    dir
}

/// The two browser tests one at a time: each starts a Lookout and a browser, too much at once for a small CI
/// machine (and run.mjs measures first paint).
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A running Lookout with the data the browser checks rely on, and what it needs kept alive.
struct Seeded {
    server: Server,
    url: String,
    _kube: FakeKube,
    _dir: tempfile::TempDir,
}

/// Starts Lookout (self scrape, host collector, rules, a Proxmox VE module with a closed port, Kubernetes against a
/// fake API server, forwarding to a sink, a tailed log file), imports the synthetic data and waits until the
/// scrapes, the recording rule and the alert are there.
async fn seeded_lookout() -> Seeded {
    let dir = tempfile::tempdir().expect("temp dir");
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).expect("create the logs dir");
    std::fs::write(
        logs.join("app.log"),
        "level=info msg=\"file source started\"\n",
    )
    .expect("write a log file");
    let (port, closed, sink, kube) = (
        free_port(),
        free_port(),
        sink().await,
        FakeKube::start().await,
    );
    let cfg = config(port, sink, closed, &kube.url(), &logs);
    std::fs::write(dir.path().join("lookout.yml"), cfg).expect("write config");
    std::fs::write(dir.path().join("browser.rules.yml"), RULES).expect("write rules");
    let server = Server::start(ServeArgs {
        config: Some(dir.path().join("lookout.yml")),
        data_dir: Some(dir.path().join("data")),
        listen: Some(format!("127.0.0.1:{port}")),
        memory_limit: Some("512MiB".into()),
        log_format: None,
        web_config_file: None,
        wal_repair: false,
        drop_damaged_parts: false,
        agent: false,
    })
    .await
    .expect("lookout starts");
    let url = format!("http://{}", server.addr);

    let now = now_ms();
    seed(&url, now).await;
    wait_ready(&url).await;
    hwmon_if_missing(&url, now).await;
    Seeded {
        server,
        url,
        _kube: kube,
        _dir: dir,
    }
}

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and playwright-core: run by .ci/run"]
async fn the_web_ui_works_in_chromium() {
    let _one = ONE_BROWSER.lock().await;
    let deadline = Instant::now() + Duration::from_secs(180);
    let repo = repo_root();
    browser_binary("LOOKOUT_CHROMIUM", "/usr/bin/chromium", "chromium");
    let browser = browser_dir(repo, "playwright-core").await;
    let lookout = seeded_lookout().await;
    let update = std::env::var("LOOKOUT_UPDATE_SCREENSHOTS").as_deref() == Ok("1");
    if update {
        // The README's host dashboard shows the last 5 minutes: some history of the host collector first.
        tokio::time::sleep(Duration::from_secs(90)).await;
    }

    let shots = repo.join("target/browser-screenshots");
    std::fs::create_dir_all(&shots).expect("create the screenshot dir");
    let mut node = tokio::process::Command::new("node");
    node.arg(browser.join("run.mjs"))
        .arg(&lookout.url)
        .arg(&shots)
        .current_dir(repo);
    let left = deadline.saturating_duration_since(Instant::now());
    let started = Instant::now();
    let output = run(node, "node tests/browser/run.mjs", left).await;
    println!("{output}\nbrowser: run.mjs took {:?}", started.elapsed());

    if update {
        let docs = repo.join("docs/screenshots");
        std::fs::create_dir_all(&docs).expect("create docs/screenshots");
        for name in ["query-explorer.png", "dashboard-host.png"] {
            std::fs::copy(shots.join(name), docs.join(name))
                .unwrap_or_else(|e| panic!("copying {name} to docs/screenshots: {e}"));
        }
    }
    lookout.server.stop().await.expect("lookout stops");
}

/// The smaller pass of `tests/browser/firefox.mjs` in Debian's firefox-esr (puppeteer-core over WebDriver BiDi):
/// every page, the query explorer's graph, the host dashboard, the logs explorer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs firefox-esr and puppeteer-core: run by .ci/run"]
async fn the_web_ui_works_in_firefox() {
    let _one = ONE_BROWSER.lock().await;
    let repo = repo_root();
    browser_binary("LOOKOUT_FIREFOX", "/usr/bin/firefox-esr", "firefox-esr");
    let browser = browser_dir(repo, "puppeteer-core").await;
    let lookout = seeded_lookout().await;

    let shots = repo.join("target/browser-screenshots");
    std::fs::create_dir_all(&shots).expect("create the screenshot dir");
    let mut node = tokio::process::Command::new("node");
    node.arg(browser.join("firefox.mjs"))
        .arg(&lookout.url)
        .arg(&shots)
        .current_dir(repo);
    // firefox.mjs gives up after 75 s and kills Firefox; this is the backstop.
    let started = Instant::now();
    let output = run(
        node,
        "node tests/browser/firefox.mjs",
        Duration::from_secs(90),
    )
    .await;
    println!(
        "{output}\nbrowser: firefox.mjs took {:?}",
        started.elapsed()
    );
    lookout.server.stop().await.expect("lookout stops");
}
