//! Renders this machine's /proc and /sys and checks that the output is a valid exposition in which every
//! family whose source exists here has samples.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use lookout_host::{HostCollector, HostOptions};
use lookout_wire::exposition::{Format, ParseOptions, parse_format};

#[test]
fn renders_valid_exposition_from_this_machine() {
    let collector = HostCollector::new(HostOptions::default()).unwrap();
    let text = collector.render();
    let mut families: BTreeMap<String, usize> = BTreeMap::new();
    let mut series = BTreeSet::new();
    let stats = parse_format(
        text.as_bytes(),
        Format::Text,
        &ParseOptions::default(),
        &mut |s| {
            *families.entry(s.metric_name().to_string()).or_default() += 1;
            assert!(
                series.insert(String::from_utf8_lossy(s.series_text).into_owned()),
                "duplicate series {}",
                String::from_utf8_lossy(s.series_text)
            );
            assert!(s.value.is_finite(), "non-finite value in {s:?}");
        },
    )
    .unwrap_or_else(|e| panic!("invalid exposition: {e}\n{text}"));

    // Every HELP/TYPE header has samples (empty families are dropped).
    for m in &stats.metadata {
        assert!(
            families.contains_key(&m.family),
            "family {} has no samples",
            m.family
        );
    }
    // Families from files every Linux has.
    let always = [
        "node_cpu_seconds_total",
        "node_cpu_guest_seconds_total",
        "node_memory_MemTotal_bytes",
        "node_memory_MemAvailable_bytes",
        "node_load1",
        "node_load5",
        "node_load15",
        "node_boot_time_seconds",
        "node_context_switches_total",
        "node_intr_total",
        "node_forks_total",
        "node_procs_running",
        "node_procs_blocked",
        "node_uname_info",
        "node_time_seconds",
        "node_time_zone_offset_seconds",
        "node_vmstat_pgfault",
        "node_vmstat_pgmajfault",
        "node_vmstat_pgpgin",
        "node_vmstat_pgpgout",
        "node_filefd_allocated",
        "node_filefd_maximum",
        "node_network_receive_bytes_total",
        "node_network_transmit_bytes_total",
        "node_netstat_Tcp_InSegs",
        "node_sockstat_sockets_used",
        "node_filesystem_size_bytes",
        "node_filesystem_avail_bytes",
        "node_scrape_collector_success",
        "node_scrape_collector_duration_seconds",
    ];
    for f in always {
        assert!(families.contains_key(f), "missing {f}");
    }
    let cpus = std::fs::read_to_string("/proc/stat")
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("cpu") && !l.starts_with("cpu "))
        .count();
    assert_eq!(families["node_cpu_seconds_total"], cpus * 8);
    assert_eq!(
        families["node_scrape_collector_success"],
        HostCollector::collector_names().count()
    );
    // Families whose sources depend on the machine: present exactly when the source is.
    let conditional = [
        (
            "/proc/pressure/cpu",
            "node_pressure_cpu_waiting_seconds_total",
        ),
        (
            "/proc/pressure/memory",
            "node_pressure_memory_stalled_seconds_total",
        ),
        (
            "/proc/pressure/irq",
            "node_pressure_irq_stalled_seconds_total",
        ),
        (
            "/sys/devices/system/clocksource/clocksource0",
            "node_time_clocksource_current_info",
        ),
        ("/proc/net/sockstat6", "node_sockstat_TCP6_inuse"),
    ];
    for (path, family) in conditional {
        assert_eq!(
            Path::new(path).exists(),
            families.contains_key(family),
            "{family} vs {path}"
        );
    }
    let has_disk = std::fs::read_to_string("/proc/diskstats")
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .any(|d| {
            !regex::Regex::new(lookout_host_default_disk_exclude())
                .unwrap()
                .is_match(d)
        });
    assert_eq!(
        has_disk,
        families.contains_key("node_disk_reads_completed_total")
    );
    let hwmon_temps = std::fs::read_dir("/sys/class/hwmon")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read_dir(e.path()).ok())
                .flatten()
                .filter_map(|e| e.ok())
                .any(|e| {
                    e.file_name().to_string_lossy().ends_with("_input")
                        && e.file_name().to_string_lossy().starts_with("temp")
                })
        })
        .unwrap_or(false);
    if hwmon_temps {
        assert!(families.contains_key("node_hwmon_temp_celsius"));
    }
}

/// node_exporter's default diskstats exclusion, restated here so the test does not trust the crate's copy.
fn lookout_host_default_disk_exclude() -> &'static str {
    "^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$"
}

#[test]
fn render_is_fast() {
    let collector = HostCollector::new(HostOptions::default()).unwrap();
    collector.render();
    let start = std::time::Instant::now();
    for _ in 0..10 {
        collector.render();
    }
    let per_render = start.elapsed() / 10;
    // A few ms on a VM in a debug build; the bound leaves room for a loaded CI machine.
    assert!(
        per_render < std::time::Duration::from_millis(250),
        "{per_render:?}"
    );
}

#[tokio::test]
async fn exporter_trait_collects_on_the_blocking_pool() {
    use lookout_model::Exporter;
    let collector = HostCollector::new(HostOptions::default()).unwrap();
    assert_eq!(collector.name(), "node");
    let text = collector.collect(&[]).await.unwrap();
    assert!(text.contains("\nnode_load1 "));
}
