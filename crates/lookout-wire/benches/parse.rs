//! Parsing a nodegen-like exposition of 10,900 series (100 hosts × 109 series, the shape
//! `shared/bench/nodegen.py serve` exposes), plus a 2,000-sample remote_write request.
//!
//! Run: `cargo bench -p lookout-wire -- --warm-up-time 1 --measurement-time 3`; throughput is in lines
//! (elements) per second.

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_main};
use lookout_model::{Labels, Sample};
use lookout_wire::exposition::{Format, ParseOptions, parse_format};
use lookout_wire::remote_write::{
    InvalidSeriesPolicy, RemoteWriteVersion, WireLimits, WriteSeries, decode_write_request,
    encode_write_request,
};

const MODES: [&str; 8] = [
    "idle", "user", "system", "iowait", "irq", "softirq", "steal", "nice",
];

/// The 109 (name, extra labels) pairs of one nodegen host.
fn host_series() -> Vec<(String, Vec<(&'static str, String)>)> {
    let mut out = Vec::new();
    for cpu in 0..4 {
        for mode in MODES {
            out.push((
                "node_cpu_seconds_total".to_owned(),
                vec![("cpu", cpu.to_string()), ("mode", mode.to_owned())],
            ));
        }
    }
    for k in [
        "MemTotal",
        "MemFree",
        "MemAvailable",
        "Buffers",
        "Cached",
        "SwapTotal",
        "SwapFree",
        "Active",
        "Inactive",
        "Dirty",
        "Shmem",
        "Slab",
        "SReclaimable",
        "SUnreclaim",
        "PageTables",
        "Mapped",
        "AnonPages",
        "Committed_AS",
        "VmallocUsed",
        "HugePages_Total",
    ] {
        out.push((format!("node_memory_{k}_bytes"), vec![]));
    }
    for dev in ["eth0", "eth1", "lo", "vmbr0"] {
        for d in ["receive", "transmit"] {
            out.push((
                format!("node_network_{d}_bytes_total"),
                vec![("device", dev.to_owned())],
            ));
        }
    }
    for dev in ["sda", "sdb", "nvme0n1", "nvme1n1"] {
        for m in [
            "reads_completed_total",
            "writes_completed_total",
            "read_bytes_total",
            "written_bytes_total",
            "io_time_seconds_total",
        ] {
            out.push((format!("node_disk_{m}"), vec![("device", dev.to_owned())]));
        }
    }
    for mp in ["/", "/boot", "/var", "/home", "/data"] {
        for m in ["avail_bytes", "free_bytes"] {
            out.push((
                format!("node_filesystem_{m}"),
                vec![("mountpoint", mp.to_owned()), ("fstype", "ext4".to_owned())],
            ));
        }
    }
    for n in ["node_load1", "node_load5", "node_load15"] {
        out.push((n.to_owned(), vec![]));
    }
    for le in [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "+Inf",
    ] {
        out.push((
            "node_scrape_latency_seconds_bucket".to_owned(),
            vec![("le", le.to_owned())],
        ));
    }
    out.push(("node_scrape_latency_seconds_sum".to_owned(), vec![]));
    out.push(("node_scrape_latency_seconds_count".to_owned(), vec![]));
    out.push((
        "node_uname_info".to_owned(),
        vec![
            ("release", "6.8.12-pve".to_owned()),
            ("machine", "x86_64".to_owned()),
        ],
    ));
    for n in [
        "node_boot_time_seconds",
        "node_time_seconds",
        "node_procs_running",
        "node_context_switches_total",
        "node_intr_total",
    ] {
        out.push((n.to_owned(), vec![]));
    }
    assert_eq!(out.len(), 109);
    out
}

/// A deterministic value with two decimals or an integer, like nodegen's.
fn value(i: u64) -> String {
    let x = i
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        >> 20;
    if i.is_multiple_of(3) {
        format!("{}.0", x % 10_000_000_000)
    } else {
        format!("{}.{:02}", x % 100_000, x % 100)
    }
}

/// `hosts` × 109 series; OpenMetrics variant adds seconds timestamps and `# EOF`, as `nodegen.py dataset`.
fn exposition(hosts: usize, openmetrics: bool) -> (String, u64) {
    let mut body = String::new();
    let mut lines = 0;
    let series = host_series();
    for h in 0..hosts {
        for (idx, (name, extra)) in series.iter().enumerate() {
            write!(body, "{name}{{job=\"node\",instance=\"host{h:04}:9100\"").unwrap();
            for (k, v) in extra {
                write!(body, ",{k}=\"{v}\"").unwrap();
            }
            body.push_str("} ");
            body.push_str(&value((h * 100 + idx) as u64));
            if openmetrics {
                body.push_str(" 1795608015");
            }
            body.push('\n');
            lines += 1;
        }
    }
    if openmetrics {
        body.push_str("# EOF\n");
        lines += 1;
    }
    (body, lines)
}

fn bench_parse(c: &mut Criterion) {
    let opts = ParseOptions::default();
    let (text, text_lines) = exposition(100, false);
    let (om, om_lines) = exposition(100, true);
    let mut group = c.benchmark_group("exposition_10k_series");

    group.throughput(Throughput::Elements(text_lines));
    group.bench_function("text_parse", |b| {
        b.iter(|| {
            let mut sum = 0.0;
            parse_format(black_box(text.as_bytes()), Format::Text, &opts, &mut |s| {
                sum += s.value + s.series_text.len() as f64;
            })
            .unwrap();
            sum
        })
    });

    group.bench_function("text_parse_and_build_labels", |b| {
        b.iter(|| {
            let mut n = 0;
            parse_format(black_box(text.as_bytes()), Format::Text, &opts, &mut |s| {
                n += s.to_labels().unwrap().len();
            })
            .unwrap();
            n
        })
    });

    group.throughput(Throughput::Elements(om_lines));
    group.bench_function("openmetrics_parse_with_timestamps", |b| {
        b.iter(|| {
            let mut sum = 0i64;
            parse_format(
                black_box(om.as_bytes()),
                Format::OpenMetrics,
                &opts,
                &mut |s| {
                    sum = sum.wrapping_add(s.timestamp_ms.unwrap_or(0));
                },
            )
            .unwrap();
            sum
        })
    });
    group.finish();
}

fn bench_remote_write(c: &mut Criterion) {
    // Prometheus's default batch: 2000 samples, here 2000 series of one sample each.
    let series: Vec<WriteSeries> = (0..2000)
        .map(|i| WriteSeries {
            labels: Labels::from_pairs(&[
                ("__name__", "node_cpu_seconds_total".to_owned()),
                ("instance", format!("host{:04}:9100", i / 32)),
                ("job", "node".to_owned()),
                ("cpu", (i % 4).to_string()),
                ("mode", MODES[i % 8].to_owned()),
            ])
            .unwrap(),
            samples: vec![Sample::new(1_795_608_015_000, i as f64)],
            exemplars: 0,
            histograms: 0,
        })
        .collect();
    let body = encode_write_request(&series, &[]);
    let limits = WireLimits::default();
    let mut group = c.benchmark_group("remote_write_v1");
    group.throughput(Throughput::Elements(2000));
    group.bench_function("decode_2000_series", |b| {
        b.iter(|| {
            decode_write_request(
                black_box(&body),
                RemoteWriteVersion::V1,
                &limits,
                InvalidSeriesPolicy::Reject,
            )
            .unwrap()
            .series
            .len()
        })
    });
    group.finish();
}

/// The generated group function; private so it needs no public docs.
mod groups {
    use super::{bench_parse, bench_remote_write};
    criterion::criterion_group!(benches, bench_parse, bench_remote_write);
}

criterion_main!(groups::benches);
