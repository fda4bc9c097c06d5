//! Side by side with the real node_exporter (Debian's `prometheus-node-exporter`, 1.5.0 in bookworm): the same
//! collectors, scraped over loopback, against Lookout's render right after.
//!
//! `node_exporter_side_by_side` compares this machine: family sets (less the intended differences listed in
//! `tests/node_exporter_differences.txt`), label sets exactly, HELP and TYPE exactly, values within stated
//! tolerances. `node_exporter_side_by_side_on_fixture` points both at the fixture tree, where values must agree
//! exactly. Both run node_exporter with its upstream default filters (Debian's package patches the mount-point
//! and netdev defaults), since Lookout follows upstream.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lookout_host::{HostCollector, HostOptions};
use lookout_wire::exposition::{Format, MetricKind, ParseOptions, parse_format};

const NODE_EXPORTER: &str = "/usr/bin/prometheus-node-exporter";
const UPSTREAM_MOUNT_POINTS_EXCLUDE: &str =
    "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)";

/// Kills the child process when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GET /metrics over HTTP/1.0 (no chunking, no compression).
fn scrape(port: u16) -> std::io::Result<String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(20)))?;
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut body = Vec::new();
    s.read_to_end(&mut body)?;
    let text = String::from_utf8(body).map_err(std::io::Error::other)?;
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    if !head.starts_with("HTTP/1.0 200") && !head.starts_with("HTTP/1.1 200") {
        return Err(std::io::Error::other(format!("status: {head}")));
    }
    Ok(body.to_string())
}

/// Starts node_exporter with only our collectors and the given extra flags; waits until it answers.
fn start_node_exporter(extra: &[String]) -> (Running, u16) {
    assert!(
        std::path::Path::new(NODE_EXPORTER).exists(),
        "{NODE_EXPORTER} is missing: apt-get install prometheus-node-exporter"
    );
    let port = free_port();
    let mut args = vec![
        format!("--web.listen-address=127.0.0.1:{port}"),
        "--collector.disable-defaults".to_string(),
        format!("--collector.filesystem.mount-points-exclude={UPSTREAM_MOUNT_POINTS_EXCLUDE}"),
        "--collector.netdev.device-exclude=".to_string(),
        "--log.level=error".to_string(),
    ];
    args.extend(HostCollector::collector_names().map(|c| format!("--collector.{c}")));
    args.extend(extra.iter().cloned());
    let child = Command::new(NODE_EXPORTER)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start node_exporter");
    let running = Running(child);
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if scrape(port).is_ok() {
            return (running, port);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("node_exporter did not answer on port {port}");
}

type Labels = Vec<(String, String)>;

/// A parsed exposition: node_* families with their HELP, TYPE and series.
#[derive(Default)]
struct Scrape {
    series: BTreeMap<String, BTreeMap<Labels, f64>>,
    meta: BTreeMap<String, (MetricKind, String)>,
}

fn parse(text: &str) -> Scrape {
    let mut out = Scrape::default();
    let stats = parse_format(
        text.as_bytes(),
        Format::Text,
        &ParseOptions::default(),
        &mut |s| {
            if !s.metric_name().starts_with("node_") {
                return;
            }
            let mut labels: Labels = s
                .labels()
                .map(|(k, v)| (k.to_string(), v.into_owned()))
                .collect();
            labels.sort();
            out.series
                .entry(s.metric_name().to_string())
                .or_default()
                .insert(labels, s.value);
        },
    )
    .unwrap_or_else(|e| panic!("invalid exposition: {e}\n{text}"));
    for m in stats.metadata {
        if m.family.starts_with("node_") {
            out.meta.insert(m.family.clone(), (m.kind, m.help.clone()));
        }
    }
    out
}

/// One line of the differences file.
struct Difference {
    ours_only: bool,
    family: String,
    always: bool,
}

fn differences() -> Vec<Difference> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/node_exporter_differences.txt"
    );
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (head, reason) = l.split_once(':').expect("`: reason` missing");
            assert!(!reason.trim().is_empty(), "no reason in {l:?}");
            let parts: Vec<&str> = head.split_whitespace().collect();
            assert_eq!(parts.len(), 3, "bad line {l:?}");
            Difference {
                ours_only: match parts[0] {
                    "ours-only" => true,
                    "theirs-only" => false,
                    other => panic!("bad side {other:?}"),
                },
                family: parts[1].to_string(),
                always: match parts[2] {
                    "always" => true,
                    "if-present" => false,
                    other => panic!("bad condition {other:?}"),
                },
            }
        })
        .collect()
}

/// Checks the family sets against the differences list, in both directions; returns the common families.
fn check_family_sets(ours: &Scrape, theirs: &Scrape, diffs: &[Difference]) -> Vec<String> {
    let o: BTreeSet<&String> = ours.series.keys().collect();
    let t: BTreeSet<&String> = theirs.series.keys().collect();
    let mut problems = Vec::new();
    for d in diffs {
        let (in_o, in_t) = (o.contains(&d.family), t.contains(&d.family));
        let listed_side_has = if d.ours_only { in_o } else { in_t };
        let other_side_has = if d.ours_only { in_t } else { in_o };
        if other_side_has {
            problems.push(format!(
                "{} is listed as a difference but both emit it or the side is wrong",
                d.family
            ));
        } else if d.always && !listed_side_has {
            problems.push(format!(
                "{} is listed as always different but neither emits it",
                d.family
            ));
        }
    }
    for f in o.symmetric_difference(&t) {
        let side_ours = o.contains(f);
        if !diffs
            .iter()
            .any(|d| &d.family == *f && d.ours_only == side_ours)
        {
            let side = if side_ours { "ours" } else { "theirs" };
            problems.push(format!("{f} is emitted only by {side} and not listed"));
        }
    }
    assert!(
        problems.is_empty(),
        "family set problems:\n{}",
        problems.join("\n")
    );
    o.intersection(&t).map(|s| s.to_string()).collect()
}

/// How a family's values must agree, given that theirs was scraped `gap_s` seconds before ours.
#[derive(Debug)]
enum Check {
    /// Not compared (durations, wall-clock-dependent counts).
    Skip,
    /// Equal within float rounding.
    Exact,
    /// A counter: theirs ≤ ours ≤ theirs + bound.
    Monotone(f64),
    /// |ours − theirs| ≤ max(rel × |theirs|, abs).
    Near { rel: f64, abs: f64 },
}

fn check_for(name: &str, kind: MetricKind, gap_s: f64, cpus: f64) -> Check {
    let seconds_gap = gap_s * cpus + 0.05;
    match name {
        "node_scrape_collector_duration_seconds" => Check::Skip,
        "node_time_seconds" => Check::Near {
            rel: 0.0,
            abs: gap_s + 1.0,
        },
        "node_procs_running" | "node_procs_blocked" => Check::Near {
            rel: 0.0,
            abs: 64.0,
        },
        "node_load1" | "node_load5" | "node_load15" => Check::Near { rel: 0.0, abs: 2.0 },
        "node_disk_io_now" => Check::Near {
            rel: 0.0,
            abs: 256.0,
        },
        n if n.ends_with("_info") || n == "node_scrape_collector_success" => Check::Exact,
        "node_boot_time_seconds" | "node_time_zone_offset_seconds" => Check::Exact,
        // Memory moves with whatever else runs (a build, the test itself): 5 % or 512 MiB.
        n if n.starts_with("node_memory_") => Check::Near {
            rel: 0.05,
            abs: 512.0 * 1048576.0,
        },
        "node_filesystem_size_bytes" | "node_filesystem_files" => Check::Near {
            rel: 0.01,
            abs: 0.0,
        },
        n if n.starts_with("node_filesystem_") => Check::Near {
            rel: 0.05,
            abs: 1e9,
        },
        n if n.starts_with("node_sockstat_") || n.starts_with("node_filefd_") => {
            Check::Near { rel: 0.1, abs: 1e6 }
        }
        // Untyped netstat/vmstat fields are mostly counters, but some are gauges (CurrEstab).
        _ if kind == MetricKind::Unknown => Check::Near { rel: 0.1, abs: 1e6 },
        n if kind == MetricKind::Counter && n.contains("_seconds_") => {
            // A CPU mode, a PSI total or a disk's busy time grows by at most the gap per CPU (weighted
            // disk time by the queue depth too).
            let factor = if n.contains("weighted") { 256.0 } else { 1.0 };
            Check::Monotone(seconds_gap * factor + 0.05)
        }
        n if kind == MetricKind::Counter && n.contains("bytes") => Check::Monotone(5e8),
        _ if kind == MetricKind::Counter => Check::Monotone(1e6),
        _ => Check::Near {
            rel: 0.05,
            abs: 1.0,
        },
    }
}

fn compare_values(ours: &Scrape, theirs: &Scrape, families: &[String], gap_s: f64) -> Vec<String> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let mut problems = Vec::new();
    for f in families {
        let kind = theirs.meta.get(f).map_or(MetricKind::Unknown, |m| m.0);
        let check = check_for(f, kind, gap_s, cpus);
        for (labels, t) in &theirs.series[f] {
            let Some(o) = ours.series[f].get(labels) else {
                continue; // reported by the label-set comparison
            };
            let ok = match check {
                Check::Skip => true,
                Check::Exact => (o - t).abs() <= 1e-9 * t.abs().max(1.0),
                Check::Monotone(bound) => *o >= t - 1e-9 * t.abs() && *o <= t + bound,
                Check::Near { rel, abs } => (o - t).abs() <= (rel * t.abs()).max(abs),
            };
            if !ok {
                problems.push(format!("{f}{labels:?}: ours {o}, theirs {t} ({check:?})"));
            }
        }
    }
    problems
}

fn compare_labels_and_meta(ours: &Scrape, theirs: &Scrape, families: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    for f in families {
        let o: BTreeSet<&Labels> = ours.series[f].keys().collect();
        let t: BTreeSet<&Labels> = theirs.series[f].keys().collect();
        for l in o.difference(&t) {
            problems.push(format!("{f}{l:?} only in ours"));
        }
        for l in t.difference(&o) {
            problems.push(format!("{f}{l:?} only in theirs"));
        }
        if ours.meta.get(f) != theirs.meta.get(f) {
            problems.push(format!(
                "{f}: HELP/TYPE differ: ours {:?}, theirs {:?}",
                ours.meta.get(f),
                theirs.meta.get(f)
            ));
        }
    }
    problems
}

#[test]
#[ignore = "needs prometheus-node-exporter: run by .ci/run"]
fn node_exporter_side_by_side() {
    let (_running, port) = start_node_exporter(&[]);
    let collector = HostCollector::new(HostOptions::default()).unwrap();
    let before = Instant::now();
    let theirs = parse(&scrape(port).unwrap());
    let ours = parse(&collector.render());
    let gap_s = before.elapsed().as_secs_f64();

    let families = check_family_sets(&ours, &theirs, &differences());
    assert!(
        families.len() > 50,
        "suspiciously few common families: {families:?}"
    );
    let mut problems = compare_labels_and_meta(&ours, &theirs, &families);
    problems.extend(compare_values(&ours, &theirs, &families, gap_s));
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
#[ignore = "needs prometheus-node-exporter: run by .ci/run"]
fn node_exporter_side_by_side_on_fixture() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let (_running, port) = start_node_exporter(&[
        format!("--path.procfs={fixture}/proc"),
        format!("--path.sysfs={fixture}/sys"),
        format!("--path.rootfs={fixture}/rootfs"),
        format!("--path.udev.data={fixture}/udev"),
        // Netlink would read this machine's interfaces, not the fixture's /proc/net/dev.
        "--no-collector.netdev.netlink".to_string(),
    ]);
    let collector = HostCollector::new(HostOptions {
        proc_root: format!("{fixture}/proc"),
        sys_root: format!("{fixture}/sys"),
        rootfs: format!("{fixture}/rootfs"),
        udev_data_path: format!("{fixture}/udev"),
        ..HostOptions::default()
    })
    .unwrap();
    let before = Instant::now();
    let theirs = parse(&scrape(port).unwrap());
    let mut ours = parse(&collector.render());
    let gap_s = before.elapsed().as_secs_f64();
    // node_exporter's /proc/net/dev mode has no rx_nohandler; its default (netlink) mode has, as we do.
    ours.series.remove("node_network_receive_nohandler_total");
    let families = check_family_sets(&ours, &theirs, &differences());
    // The fixture has data for every collector, hwmon and pressure included.
    for needed in [
        "node_hwmon_temp_celsius",
        "node_hwmon_chip_names",
        "node_pressure_io_stalled_seconds_total",
        "node_disk_info",
        "node_disk_device_mapper_info",
        "node_cpu_core_throttles_total",
    ] {
        assert!(
            families.iter().any(|f| f == needed),
            "{needed} not compared"
        );
    }
    let mut problems = compare_labels_and_meta(&ours, &theirs, &families);
    for f in &families {
        let check = match f.as_str() {
            "node_scrape_collector_duration_seconds" => continue,
            "node_time_seconds" => Check::Near {
                rel: 0.0,
                abs: gap_s + 1.0,
            },
            // The fixture's rootfs is a directory on a live filesystem.
            n if n.starts_with("node_filesystem_") && n != "node_filesystem_size_bytes" => {
                Check::Near {
                    rel: 0.05,
                    abs: 1e9,
                }
            }
            _ => Check::Exact,
        };
        for (labels, t) in &theirs.series[f] {
            let Some(o) = ours.series[f].get(labels) else {
                continue;
            };
            let ok = match check {
                Check::Exact => (o - t).abs() <= 1e-9 * t.abs().max(1.0),
                Check::Near { rel, abs } => (o - t).abs() <= (rel * t.abs()).max(abs),
                Check::Skip | Check::Monotone(_) => unreachable!(),
            };
            if !ok {
                problems.push(format!("{f}{labels:?}: ours {o}, theirs {t}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
