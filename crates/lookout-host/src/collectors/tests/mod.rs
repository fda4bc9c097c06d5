//! Renders the fixture tree in `tests/fixtures/` (a fake proc, sys, udev and rootfs) and checks names, label sets
//! and values against the numbers written in those files.

use std::collections::BTreeMap;

use lookout_wire::exposition::{Format, MetricKind, ParseOptions, parse_format};

use crate::{DeviceFilterOptions, HostCollector, HostOptions};

type Series = BTreeMap<(String, Vec<(String, String)>), f64>;

fn fixture(path: &str) -> String {
    format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))
}

fn fixture_options() -> HostOptions {
    HostOptions {
        proc_root: fixture("proc"),
        sys_root: fixture("sys"),
        rootfs: fixture("rootfs"),
        udev_data_path: fixture("udev"),
        ..HostOptions::default()
    }
}

/// Every series of a valid exposition (sorted labels) with its value, and each family's type.
struct Rendered {
    series: Series,
    kinds: BTreeMap<String, MetricKind>,
}

impl Rendered {
    fn of(opts: HostOptions) -> Rendered {
        let text = HostCollector::new(opts).unwrap().render();
        let mut series = Series::new();
        let stats = parse_format(
            text.as_bytes(),
            Format::Text,
            &ParseOptions::default(),
            &mut |s| {
                let mut labels: Vec<(String, String)> = s
                    .labels()
                    .map(|(k, v)| (k.to_string(), v.into_owned()))
                    .collect();
                labels.sort();
                let key = (s.metric_name().to_string(), labels);
                assert!(
                    series.insert(key, s.value).is_none(),
                    "duplicate series in\n{text}"
                );
            },
        )
        .unwrap_or_else(|e| panic!("invalid exposition: {e}\n{text}"));
        let kinds = stats
            .metadata
            .iter()
            .map(|m| (m.family.clone(), m.kind))
            .collect();
        Rendered { series, kinds }
    }

    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let mut l: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        l.sort();
        *self
            .series
            .get(&(name.to_string(), l))
            .unwrap_or_else(|| panic!("no series {name}{labels:?}"))
    }

    /// The values of one label across a family's series, sorted.
    fn label_values(&self, name: &str, label: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .series
            .keys()
            .filter(|(n, _)| n == name)
            .filter_map(|(_, l)| l.iter().find(|(k, _)| k == label).map(|(_, v)| v.clone()))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    fn has_family(&self, name: &str) -> bool {
        self.series.keys().any(|(n, _)| n == name)
    }

    fn kind(&self, name: &str) -> MetricKind {
        self.kinds[name]
    }
}

pub(super) fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

mod per_collector;

#[test]
fn every_collector_succeeds_on_the_fixture_and_failures_are_isolated() {
    let r = Rendered::of(fixture_options());
    for name in HostCollector::collector_names() {
        assert_eq!(
            r.get("node_scrape_collector_success", &[("collector", name)]),
            1.0,
            "{name}"
        );
        assert!(
            r.get(
                "node_scrape_collector_duration_seconds",
                &[("collector", name)]
            ) >= 0.0
        );
    }
    // A root without the files: collectors fail (hwmon and pressure with "no data"), uname and time still render.
    let empty = tempfile::tempdir().unwrap();
    let root = empty.path().to_string_lossy().into_owned();
    let r = Rendered::of(HostOptions {
        proc_root: root.clone(),
        sys_root: root.clone(),
        rootfs: root,
        ..HostOptions::default()
    });
    let ok = |c: &str| r.get("node_scrape_collector_success", &[("collector", c)]);
    for failed in [
        "cpu",
        "meminfo",
        "diskstats",
        "hwmon",
        "pressure",
        "stat",
        "netdev",
    ] {
        assert_eq!(ok(failed), 0.0, "{failed}");
    }
    assert_eq!(ok("uname"), 1.0);
    assert_eq!(ok("time"), 1.0);
    assert!(r.has_family("node_uname_info"));
    assert!(!r.has_family("node_cpu_seconds_total"));
}

#[test]
fn options_deserialize_and_validate() {
    let yaml = "proc_root: /host/proc\nsys_root: /host/sys\nrootfs: /host\n\
                filesystem:\n  fs_types_exclude: ^tmpfs$\ndiskstats:\n  device_include: ^sd\n";
    let o: HostOptions = serde_yaml_ng::from_str(yaml).unwrap();
    assert_eq!(o.proc_root, "/host/proc");
    assert_eq!(o.filesystem.fs_types_exclude, "^tmpfs$");
    assert_eq!(
        o.filesystem.mount_points_exclude,
        crate::options::DEFAULT_MOUNT_POINTS_EXCLUDE
    );
    assert!(
        HostCollector::new(o).is_ok(),
        "include replaces the default exclude"
    );
    assert!(serde_yaml_ng::from_str::<HostOptions>("procfs: /x\n").is_err());
    let both = HostOptions {
        diskstats: DeviceFilterOptions {
            device_exclude: Some("^loop".into()),
            device_include: Some("^sd".into()),
        },
        ..HostOptions::default()
    };
    assert!(HostCollector::new(both).is_err());
    let bad = HostOptions {
        vmstat: crate::FieldsOptions {
            fields: Some("(".into()),
        },
        ..HostOptions::default()
    };
    assert!(matches!(
        HostCollector::new(bad),
        Err(crate::HostError::Regex {
            key: "vmstat.fields",
            ..
        })
    ));
}

#[test]
fn diskstats_include_replaces_default_exclude() {
    let opts = HostOptions {
        diskstats: DeviceFilterOptions {
            device_exclude: None,
            device_include: Some("^(sda1|loop0)$".into()),
        },
        ..fixture_options()
    };
    let r = Rendered::of(opts);
    assert_eq!(
        r.label_values("node_disk_info", "device"),
        ["loop0", "sda1"]
    );
}
