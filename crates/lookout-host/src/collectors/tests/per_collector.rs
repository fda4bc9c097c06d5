//! One test per collector over the fixture tree; expected values are the fixture files' numbers.

use super::{Rendered, close, fixture, fixture_options};
use crate::{DeviceFilterOptions, HostCollector, HostOptions};
use lookout_wire::exposition::MetricKind;

#[test]
fn cpu_modes_guest_and_throttles() {
    let r = Rendered::of(fixture_options());
    // cpu0: 2362800 600 625015 13157650 6172 0 5617 1700 300 10 (USER_HZ ticks).
    let cpu0 = [
        ("user", 2362800.0),
        ("nice", 600.0),
        ("system", 625015.0),
        ("idle", 13157650.0),
        ("iowait", 6172.0),
        ("irq", 0.0),
        ("softirq", 5617.0),
        ("steal", 1700.0),
    ];
    for (mode, ticks) in cpu0 {
        let v = r.get("node_cpu_seconds_total", &[("cpu", "0"), ("mode", mode)]);
        assert!(close(v, ticks / 100.0), "{mode}: {v}");
    }
    assert!(close(
        r.get(
            "node_cpu_seconds_total",
            &[("cpu", "1"), ("mode", "system")]
        ),
        6250.16
    ));
    assert_eq!(r.label_values("node_cpu_seconds_total", "cpu"), ["0", "1"]);
    assert_eq!(
        r.get(
            "node_cpu_guest_seconds_total",
            &[("cpu", "1"), ("mode", "user")]
        ),
        2.0
    );
    assert_eq!(
        r.get(
            "node_cpu_guest_seconds_total",
            &[("cpu", "0"), ("mode", "nice")]
        ),
        0.1
    );
    assert_eq!(r.kind("node_cpu_seconds_total"), MetricKind::Counter);
    assert_eq!(r.get("node_cpu_isolated", &[("cpu", "1")]), 1.0);
    assert_eq!(
        r.get("node_cpu_package_throttles_total", &[("package", "0")]),
        33.0
    );
    assert_eq!(
        r.get(
            "node_cpu_core_throttles_total",
            &[("package", "0"), ("core", "1")]
        ),
        11.0
    );
}

#[test]
fn cpu_counters_never_go_backwards() {
    let dir = tempfile::tempdir().unwrap();
    let proc = dir.path().join("proc");
    std::fs::create_dir(&proc).unwrap();
    let opts = HostOptions {
        proc_root: proc.to_string_lossy().into_owned(),
        sys_root: dir.path().join("sys").to_string_lossy().into_owned(),
        ..HostOptions::default()
    };
    let c = HostCollector::new(opts).unwrap();
    let write = |user: u64, idle: u64| {
        let line = format!("cpu0 {user} 0 0 {idle} 0 0 0 0 0 0\n");
        std::fs::write(proc.join("stat"), line).unwrap();
    };
    let user_of = |text: &str| -> String {
        text.lines()
            .find(|l| l.starts_with("node_cpu_seconds_total{cpu=\"0\",mode=\"user\"}"))
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap()
            .to_string()
    };
    write(500, 100_000);
    assert_eq!(user_of(&c.render()), "5");
    write(400, 100_100); // user fell back: the last value is held
    assert_eq!(user_of(&c.render()), "5");
    write(300, 10_000); // idle fell by 901 s: hotplug, start over
    assert_eq!(user_of(&c.render()), "3");
}

#[test]
fn meminfo_names_units_and_types() {
    let r = Rendered::of(fixture_options());
    assert_eq!(
        r.get("node_memory_MemTotal_bytes", &[]),
        16331944.0 * 1024.0
    );
    assert_eq!(
        r.get("node_memory_Active_anon_bytes", &[]),
        2345678.0 * 1024.0
    );
    assert_eq!(
        r.get("node_memory_Inactive_file_bytes", &[]),
        6419754.0 * 1024.0
    );
    assert_eq!(r.get("node_memory_HugePages_Total", &[]), 4.0);
    assert_eq!(r.kind("node_memory_HugePages_Total"), MetricKind::Gauge);
    assert_eq!(
        r.get("node_memory_Hugepagesize_bytes", &[]),
        2048.0 * 1024.0
    );
    let names = r
        .series
        .keys()
        .filter(|(n, _)| n.starts_with("node_memory_"))
        .count();
    assert_eq!(names, 18, "one family per meminfo line");
}

#[test]
fn loadavg_stat_filefd_and_vmstat() {
    let r = Rendered::of(fixture_options());
    assert_eq!(r.get("node_load1", &[]), 0.52);
    assert_eq!(r.get("node_load5", &[]), 0.58);
    assert_eq!(r.get("node_load15", &[]), 0.59);
    assert_eq!(r.get("node_intr_total", &[]), 987654321.0);
    assert_eq!(r.get("node_context_switches_total", &[]), 123456789.0);
    assert_eq!(r.get("node_forks_total", &[]), 424242.0);
    assert_eq!(r.get("node_boot_time_seconds", &[]), 1700000000.0);
    assert_eq!(r.get("node_procs_running", &[]), 3.0);
    assert_eq!(r.get("node_procs_blocked", &[]), 1.0);
    assert_eq!(r.get("node_filefd_allocated", &[]), 1024.0);
    assert_eq!(r.get("node_filefd_maximum", &[]), 1048576.0);
    let vm: Vec<&str> = r
        .series
        .keys()
        .filter_map(|(n, _)| n.strip_prefix("node_vmstat_"))
        .collect();
    assert_eq!(
        vm,
        [
            "oom_kill",
            "pgfault",
            "pgmajfault",
            "pgpgin",
            "pgpgout",
            "pswpin",
            "pswpout"
        ]
    );
    assert_eq!(r.get("node_vmstat_pgfault", &[]), 2098434234.0);
    assert_eq!(r.kind("node_vmstat_pgfault"), MetricKind::Unknown);
}

#[test]
fn filesystem_excludes_and_statfs() {
    let r = Rendered::of(fixture_options());
    let mut mounts = r.label_values("node_filesystem_device_error", "mountpoint");
    mounts.sort();
    assert_eq!(mounts, ["/", "/boot", "/srv/missing share"]);
    let root = [
        ("device", "/dev/sda2"),
        ("mountpoint", "/"),
        ("fstype", "ext4"),
    ];
    let boot = [
        ("device", "/dev/sda1"),
        ("mountpoint", "/boot"),
        ("fstype", "ext4"),
    ];
    let nfs = [
        ("device", "server:/export"),
        ("mountpoint", "/srv/missing share"),
        ("fstype", "nfs4"),
    ];
    assert_eq!(r.get("node_filesystem_device_error", &root), 0.0);
    assert_eq!(r.get("node_filesystem_device_error", &nfs), 1.0);
    assert!(
        !r.series
            .keys()
            .any(|(n, l)| n == "node_filesystem_size_bytes" && l.iter().any(|(_, v)| v == "nfs4"))
    );
    assert_eq!(r.get("node_filesystem_readonly", &boot), 1.0);
    assert_eq!(r.get("node_filesystem_readonly", &root), 0.0);
    let s = rustix::fs::statfs(fixture("rootfs").as_str()).unwrap();
    let size = s.f_blocks as f64 * s.f_bsize as f64;
    assert_eq!(r.get("node_filesystem_size_bytes", &root), size);
    assert_eq!(r.get("node_filesystem_files", &root), s.f_files as f64);
    for name in ["node_filesystem_free_bytes", "node_filesystem_avail_bytes"] {
        assert!(r.get(name, &root) <= size);
    }
}

#[test]
fn diskstats_filters_scales_and_udev_labels() {
    let r = Rendered::of(fixture_options());
    assert_eq!(
        r.label_values("node_disk_info", "device"),
        ["dm-0", "nvme0n1", "sda"]
    );
    // sda: 25354637 34367663 1003346126 18492372 28444756 11134226 505697032 63877960 2 9169616 82621804
    //      1234 5 678900 1500 4321 987
    let sda = [("device", "sda")];
    assert_eq!(r.get("node_disk_reads_completed_total", &sda), 25354637.0);
    assert_eq!(
        r.get("node_disk_read_bytes_total", &sda),
        1003346126.0 * 512.0
    );
    assert_eq!(
        r.get("node_disk_written_bytes_total", &sda),
        505697032.0 * 512.0
    );
    assert!(close(
        r.get("node_disk_read_time_seconds_total", &sda),
        18492.372
    ));
    assert_eq!(r.get("node_disk_io_now", &sda), 2.0);
    assert!(close(
        r.get("node_disk_io_time_seconds_total", &sda),
        9169.616
    ));
    assert_eq!(r.get("node_disk_discarded_sectors_total", &sda), 678900.0);
    assert_eq!(r.get("node_disk_flush_requests_total", &sda), 4321.0);
    assert!(close(
        r.get("node_disk_flush_requests_time_seconds_total", &sda),
        0.987
    ));
    assert_eq!(r.kind("node_disk_io_now"), MetricKind::Gauge);
    // nvme0n1 has 15 fields (no flush), dm-0 has 11 (no discard).
    assert_eq!(
        r.label_values("node_disk_discards_completed_total", "device"),
        ["nvme0n1", "sda"]
    );
    assert_eq!(
        r.label_values("node_disk_flush_requests_total", "device"),
        ["sda"]
    );
    assert_eq!(
        r.get("node_disk_writes_completed_total", &[("device", "dm-0")]),
        2345.0
    );
    let info = [
        ("device", "sda"),
        ("major", "8"),
        ("minor", "0"),
        ("path", "pci-0000:00:17.0-ata-1"),
        ("wwn", "0x5002538e40a0eb32"),
        ("model", "Samsung_SSD_860"),
        ("serial", "S3Z9NB0K123456"),
        ("revision", "RVT04B6Q"),
    ];
    assert_eq!(r.get("node_disk_info", &info), 1.0);
    assert_eq!(r.get("node_disk_ata_rotation_rate_rpm", &sda), 0.0);
    assert_eq!(r.get("node_disk_ata_write_cache_enabled", &sda), 1.0);
    let fs = [
        ("device", "dm-0"),
        ("type", "ext4"),
        ("usage", "filesystem"),
        ("uuid", "f0e1d2c3"),
        ("version", "1.0"),
    ];
    assert_eq!(r.get("node_disk_filesystem_info", &fs), 1.0);
    let dm = [
        ("device", "dm-0"),
        ("name", "vg0-root"),
        ("uuid", "LVM-abc"),
        ("vg_name", "vg0"),
        ("lv_name", "root"),
        ("lv_layer", ""),
    ];
    assert_eq!(r.get("node_disk_device_mapper_info", &dm), 1.0);
}

#[test]
fn netdev_columns_and_filters() {
    let r = Rendered::of(fixture_options());
    assert_eq!(
        r.label_values("node_network_receive_bytes_total", "device"),
        ["docker0", "eth0", "lo"]
    );
    let eth0 = [("device", "eth0")];
    // eth0: 68210035552 520993275 1 2 3 4 5 6 | 9315587528 43451486 7 8 9 10 11 12
    let expected = [
        ("receive_bytes", 68210035552.0),
        ("receive_packets", 520993275.0),
        ("receive_errs", 1.0),
        ("receive_drop", 2.0),
        ("receive_fifo", 3.0),
        ("receive_frame", 4.0),
        ("receive_compressed", 5.0),
        ("receive_multicast", 6.0),
        ("transmit_bytes", 9315587528.0),
        ("transmit_packets", 43451486.0),
        ("transmit_errs", 7.0),
        ("transmit_drop", 8.0),
        ("transmit_fifo", 9.0),
        ("transmit_colls", 10.0),
        ("transmit_carrier", 11.0),
        ("transmit_compressed", 12.0),
        ("receive_nohandler", 7.0),
    ];
    for (key, v) in expected {
        let name = format!("node_network_{key}_total");
        assert_eq!(r.get(&name, &eth0), v, "{name}");
        assert_eq!(r.kind(&name), MetricKind::Counter);
    }
    assert_eq!(
        r.get("node_network_receive_nohandler_total", &[("device", "lo")]),
        0.0
    );

    let opts = HostOptions {
        netdev: DeviceFilterOptions {
            device_exclude: Some("^(lo|docker.*)$".into()),
            device_include: None,
        },
        ..fixture_options()
    };
    let r = Rendered::of(opts);
    assert_eq!(
        r.label_values("node_network_receive_bytes_total", "device"),
        ["eth0"]
    );
}

#[test]
fn pressure_seconds() {
    let r = Rendered::of(fixture_options());
    assert!(close(
        r.get("node_pressure_cpu_waiting_seconds_total", &[]),
        14.036781
    ));
    assert!(close(
        r.get("node_pressure_io_waiting_seconds_total", &[]),
        159.886802
    ));
    assert!(close(
        r.get("node_pressure_io_stalled_seconds_total", &[]),
        130.844741
    ));
    assert!(close(
        r.get("node_pressure_memory_waiting_seconds_total", &[]),
        0.0003
    ));
    assert!(close(
        r.get("node_pressure_memory_stalled_seconds_total", &[]),
        0.0001
    ));
    assert!(!r.has_family("node_pressure_irq_stalled_seconds_total"));
}

#[test]
fn netstat_fields_and_merge() {
    let r = Rendered::of(fixture_options());
    let got: Vec<&str> = r
        .series
        .keys()
        .filter_map(|(n, _)| n.strip_prefix("node_netstat_"))
        .collect();
    let mut want = vec![
        "TcpExt_SyncookiesSent",
        "TcpExt_SyncookiesRecv",
        "TcpExt_SyncookiesFailed",
        "TcpExt_ListenOverflows",
        "TcpExt_ListenDrops",
        "TcpExt_TCPTimeouts",
        "TcpExt_TCPSynRetrans",
        "IpExt_InOctets",
        "IpExt_OutOctets",
        "Ip_Forwarding",
        "Icmp_InMsgs",
        "Icmp_InErrors",
        "Icmp_OutMsgs",
        "Tcp_ActiveOpens",
        "Tcp_PassiveOpens",
        "Tcp_CurrEstab",
        "Tcp_InSegs",
        "Tcp_OutSegs",
        "Tcp_RetransSegs",
        "Tcp_InErrs",
        "Tcp_OutRsts",
        "Udp_InDatagrams",
        "Udp_NoPorts",
        "Udp_InErrors",
        "Udp_OutDatagrams",
        "Udp_RcvbufErrors",
        "Udp_SndbufErrors",
        "UdpLite_InErrors",
        "Ip6_InOctets",
        "Ip6_OutOctets",
        "Icmp6_InMsgs",
        "Icmp6_InErrors",
        "Icmp6_OutMsgs",
        "Udp6_InDatagrams",
        "Udp6_NoPorts",
        "Udp6_InErrors",
        "Udp6_OutDatagrams",
    ];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(r.get("node_netstat_Tcp_InSegs", &[]), 57252008.0);
    assert_eq!(r.get("node_netstat_IpExt_InOctets", &[]), 6286396970.0);
    assert_eq!(r.get("node_netstat_Icmp6_InErrors", &[]), 2.0);
    assert_eq!(r.kind("node_netstat_Tcp_InSegs"), MetricKind::Unknown);
}

#[test]
fn sockstat_protocols() {
    let r = Rendered::of(fixture_options());
    assert_eq!(r.get("node_sockstat_sockets_used", &[]), 229.0);
    assert_eq!(r.get("node_sockstat_TCP_inuse", &[]), 4.0);
    assert_eq!(r.get("node_sockstat_TCP_orphan", &[]), 1.0);
    assert_eq!(r.get("node_sockstat_TCP_tw", &[]), 4.0);
    assert_eq!(r.get("node_sockstat_TCP_alloc", &[]), 17.0);
    assert_eq!(r.get("node_sockstat_TCP_mem", &[]), 3.0);
    let page = rustix::param::page_size() as f64;
    assert_eq!(r.get("node_sockstat_TCP_mem_bytes", &[]), 3.0 * page);
    assert_eq!(r.get("node_sockstat_FRAG_memory", &[]), 0.0);
    assert_eq!(r.get("node_sockstat_TCP6_inuse", &[]), 17.0);
    assert_eq!(r.get("node_sockstat_RAW6_inuse", &[]), 1.0);
    assert!(!r.has_family("node_sockstat_UDPLITE_mem"));
}

#[test]
fn hwmon_chip_names_and_temperatures() {
    let r = Rendered::of(fixture_options());
    let chip = ("chip", "platform_coretemp_0");
    assert_eq!(
        r.get("node_hwmon_chip_names", &[chip, ("chip_name", "coretemp")]),
        1.0
    );
    assert_eq!(
        r.get("node_hwmon_temp_celsius", &[chip, ("sensor", "temp1")]),
        45.0
    );
    assert_eq!(
        r.get("node_hwmon_temp_celsius", &[chip, ("sensor", "temp2")]),
        41.5
    );
    assert_eq!(
        r.get("node_hwmon_temp_crit_celsius", &[chip, ("sensor", "temp1")]),
        100.0
    );
    assert_eq!(
        r.get("node_hwmon_temp_max_celsius", &[chip, ("sensor", "temp1")]),
        84.0
    );
    assert_eq!(
        r.get(
            "node_hwmon_temp_crit_alarm_celsius",
            &[chip, ("sensor", "temp2")]
        ),
        0.0
    );
    let label = [chip, ("sensor", "temp1"), ("label", "Package id 0")];
    assert_eq!(r.get("node_hwmon_sensor_label", &label), 1.0);
    // No device link: the chip is named after the `name` file, cleaned.
    let acpi = ("chip", "acpi_tz");
    assert_eq!(
        r.get("node_hwmon_chip_names", &[acpi, ("chip_name", "acpi_tz")]),
        1.0
    );
    assert_eq!(
        r.get("node_hwmon_temp_celsius", &[acpi, ("sensor", "temp1")]),
        27.8
    );
}

#[test]
fn time_uname_and_clocksources() {
    let r = Rendered::of(fixture_options());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((r.get("node_time_seconds", &[]) - now).abs() < 60.0);
    assert_eq!(
        r.label_values("node_time_zone_offset_seconds", "time_zone")
            .len(),
        1
    );
    let avail = r.label_values("node_time_clocksource_available_info", "clocksource");
    assert_eq!(avail, ["acpi_pm", "hpet", "tsc"]);
    let cur = [("device", "0"), ("clocksource", "tsc")];
    assert_eq!(r.get("node_time_clocksource_current_info", &cur), 1.0);
    let u = rustix::system::uname();
    assert_eq!(
        r.label_values("node_uname_info", "nodename"),
        [u.nodename().to_string_lossy().into_owned()]
    );
}

/// While set, the test statfs hangs (as on a dead NFS server) instead of answering.
static HANG: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);
/// statfs calls made by the test statfs.
static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn hanging_statfs(path: &std::path::Path) -> rustix::io::Result<rustix::fs::StatFs> {
    use std::sync::atomic::Ordering;
    CALLS.fetch_add(1, Ordering::SeqCst);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while HANG.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    rustix::fs::statfs(path)
}

#[test]
fn a_hung_mount_is_marked_unresponsive_and_skipped_until_statfs_returns() {
    use std::sync::atomic::Ordering;
    let mut opts = fixture_options();
    opts.filesystem.mount_timeout = lookout_model::PromDuration::from_millis(100);
    let mut ctx = crate::collectors::Context::new(opts).unwrap();
    ctx.statfs = hanging_statfs;
    let device_errors = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("node_filesystem_device_error{") && l.ends_with(" 1"))
            .map(str::to_string)
            .collect()
    };
    // Three mounts pass the filters; each statfs hangs, so each is given 100 ms and marked unresponsive.
    let started = std::time::Instant::now();
    let first = crate::collectors::render(&ctx);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(device_errors(&first).len(), 3, "{first}");
    assert!(!first.contains("node_filesystem_size_bytes{"), "{first}");
    let calls = CALLS.load(Ordering::SeqCst);
    assert_eq!(calls, 3);
    // While the calls hang, a render skips the stuck mounts without a new statfs.
    let second = crate::collectors::render(&ctx);
    assert_eq!(CALLS.load(Ordering::SeqCst), calls);
    assert_eq!(device_errors(&second).len(), 3);
    // Once they return, the mounts are statted again and report their sizes.
    HANG.store(false, Ordering::SeqCst);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !ctx.stuck_mounts.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "stuck mounts never recovered"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let third = crate::collectors::render(&ctx);
    assert!(
        third.contains("node_filesystem_size_bytes{device=\"/dev/sda2\""),
        "{third}"
    );
    assert_eq!(
        device_errors(&third).len(),
        1,
        "only the missing share fails: {third}"
    );
}
