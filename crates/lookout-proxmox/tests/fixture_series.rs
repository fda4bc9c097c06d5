//! The reference fixture (pve-exporter.md §8: cluster `lab`, answered by pve1, pve3 offline) against the fake API:
//! the exposed sample set must equal the set prometheus-pve-exporter produces. The expected set is built here from
//! the fixture files with the reference's rules, its per-family counts are the reference's numbers, and the sample
//! lines quoted in the reference must appear exactly.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Exposition, FakePve, QDevice, exporter, fixture, key, params, parse, token_module};
use lookout_model::Exporter;
use serde_json::Value;

/// Python `str()` of a fixture value (the fixture holds strings and integers only).
fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("unexpected fixture value {other}"),
    }
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

/// Adds one expected sample.
type Put<'a> = dyn FnMut(&str, &[(&str, &str)], f64) + 'a;

/// The samples upstream writes for the fixture with cluster=1&node=1, from the reference's rules (§3, §4).
fn expected() -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let mut put = |name: &str, labels: &[(&str, &str)], value: f64| {
        assert!(out.insert(key(name, labels), value).is_none());
    };
    let status = fixture("cluster_status.json");
    let resources = fixture("cluster_resources.json");
    let status = status.as_array().unwrap();
    let resources = resources.as_array().unwrap();
    let bool_value = |b: bool| if b { 1.0 } else { 0.0 };

    // status
    for e in status {
        match e["type"].as_str().unwrap() {
            "node" => put("pve_up", &[("id", &s(&e["id"]))], num(&e["online"])),
            _ => put(
                "pve_up",
                &[("id", &format!("cluster/{}", s(&e["name"])))],
                num(&e["quorate"]),
            ),
        }
    }
    for r in resources {
        let id = s(&r["id"]);
        match r["type"].as_str().unwrap() {
            "qemu" | "lxc" => put(
                "pve_up",
                &[("id", &id)],
                bool_value(r["status"] == "running"),
            ),
            "storage" => put(
                "pve_up",
                &[("id", &id)],
                bool_value(r["status"] == "available"),
            ),
            _ => {}
        }
    }
    // resources
    let numeric = [
        ("maxdisk", "pve_disk_size_bytes"),
        ("disk", "pve_disk_usage_bytes"),
        ("maxmem", "pve_memory_size_bytes"),
        ("mem", "pve_memory_usage_bytes"),
        ("netout", "pve_network_transmit_bytes"),
        ("netin", "pve_network_receive_bytes"),
        ("diskwrite", "pve_disk_write_bytes"),
        ("diskread", "pve_disk_read_bytes"),
        ("cpu", "pve_cpu_usage_ratio"),
        ("maxcpu", "pve_cpu_usage_limit"),
        ("uptime", "pve_uptime_seconds"),
        ("shared", "pve_storage_shared"),
        ("netout", "pve_network_transmit_bytes_total"),
        ("netin", "pve_network_receive_bytes_total"),
        ("diskwrite", "pve_disk_written_bytes_total"),
        ("diskread", "pve_disk_read_bytes_total"),
    ];
    let guest_ha = [
        "stopped",
        "request_stop",
        "request_start",
        "request_start_balance",
        "started",
        "fence",
        "recovery",
        "migrate",
        "relocate",
        "freeze",
        "error",
    ];
    let node_ha = ["online", "maintenance", "unknown", "fence", "gone"];
    let locks = [
        "backup",
        "clone",
        "create",
        "migrate",
        "rollback",
        "snapshot",
        "snapshot-delete",
        "suspended",
        "suspending",
    ];
    let field = |r: &Value, k: &str| r.get(k).map(s).unwrap_or_default();
    for r in resources {
        let id = s(&r["id"]);
        for (k, name) in numeric {
            if let Some(v) = r.get(k) {
                put(name, &[("id", &id)], num(v));
            }
        }
        let kind = r["type"].as_str().unwrap();
        let one_hot = |states: &[&str], k: &str, put: &mut Put| {
            for st in states {
                let hit = r.get(k).and_then(Value::as_str) == Some(*st);
                put(
                    if k == "lock" {
                        "pve_lock_state"
                    } else {
                        "pve_ha_state"
                    },
                    &[("id", &id), ("state", st)],
                    bool_value(hit),
                );
            }
        };
        match kind {
            "qemu" | "lxc" => {
                one_hot(&guest_ha, "hastate", &mut put);
                one_hot(&locks, "lock", &mut put);
                let labels =
                    ["id", "node", "name", "type", "template", "tags"].map(|k| (k, field(r, k)));
                let labels: Vec<(&str, &str)> =
                    labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
                put("pve_guest_info", &labels, 1.0);
            }
            "node" => one_hot(&node_ha, "hastate", &mut put),
            "storage" => {
                let mut content: Vec<String> =
                    field(r, "content").split(',').map(String::from).collect();
                content.sort();
                let content = content.join(",");
                let labels = ["id", "node", "storage", "plugintype"].map(|k| (k, field(r, k)));
                let mut labels: Vec<(&str, &str)> =
                    labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
                labels.push(("content", &content));
                put("pve_storage_info", &labels, 1.0);
            }
            _ => {}
        }
    }
    // node, cluster, version
    for e in status {
        if e["type"] == "node" {
            let labels = ["id", "level", "name", "nodeid"].map(|k| (k, s(&e[k])));
            let labels: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
            put("pve_node_info", &labels, 1.0);
        } else {
            let id = format!("cluster/{}", s(&e["name"]));
            let (nodes, quorate, version) = (s(&e["nodes"]), s(&e["quorate"]), s(&e["version"]));
            put(
                "pve_cluster_info",
                &[
                    ("id", &id),
                    ("nodes", &nodes),
                    ("quorate", &quorate),
                    ("version", &version),
                ],
                1.0,
            );
        }
    }
    let version = fixture("version.json");
    let labels = ["release", "repoid", "version"].map(|k| (k, s(&version[k])));
    let labels: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
    put("pve_version_info", &labels, 1.0);
    // backup-info
    let not_backed_up = fixture("not_backed_up.json");
    let not_backed_up = not_backed_up.as_array().unwrap();
    let first_name = format!("cluster/{}", s(&status[0]["name"]));
    put(
        "pve_not_backed_up_total",
        &[("id", &first_name)],
        not_backed_up.len() as f64,
    );
    for g in not_backed_up {
        put(
            "pve_not_backed_up_info",
            &[("id", &format!("{}/{}", s(&g["type"]), s(&g["vmid"])))],
            1.0,
        );
    }
    // subscription (the due date's value is the reference's, computed upstream with TZ=UTC)
    let sub = fixture("subscription_active.json");
    put(
        "pve_subscription_info",
        &[("id", "node/pve1"), ("level", &s(&sub["level"]))],
        1.0,
    );
    for st in [
        "new",
        "notfound",
        "active",
        "invalid",
        "expired",
        "suspended",
    ] {
        put(
            "pve_subscription_status",
            &[("id", "node/pve1"), ("status", st)],
            bool_value(sub["status"] == st),
        );
    }
    assert_eq!(sub["nextduedate"], "2027-03-01");
    put(
        "pve_subscription_next_due_timestamp_seconds",
        &[("id", "node/pve1")],
        1_803_859_200.0,
    );
    // config (local guests only)
    for (kind, list, config) in [
        ("qemu", "nodes_pve1_qemu.json", "qemu_100_config.json"),
        ("lxc", "nodes_pve1_lxc.json", "lxc_200_config.json"),
    ] {
        let list = fixture(list);
        assert_eq!(list.as_array().unwrap().len(), 1);
        let id = format!("{kind}/{}", s(&list[0]["vmid"]));
        let config = fixture(config);
        if let Some(v) = config.get("onboot") {
            put(
                "pve_onboot_status",
                &[("id", &id), ("node", "pve1"), ("type", kind)],
                num(v),
            );
        }
    }
    // replication
    let jobs = fixture("replication.json");
    for job in jobs.as_array().unwrap() {
        let id = s(&job["id"]);
        put(
            "pve_replication_info",
            &[
                ("id", &id),
                ("type", &s(&job["type"])),
                ("source", &format!("node/{}", s(&job["source"]))),
                ("target", &format!("node/{}", s(&job["target"]))),
                (
                    "guest",
                    &format!("{}/{}", s(&job["vmtype"]), s(&job["guest"])),
                ),
            ],
            1.0,
        );
        for (k, name) in [
            ("duration", "pve_replication_duration_seconds"),
            ("last_sync", "pve_replication_last_sync_timestamp_seconds"),
            ("last_try", "pve_replication_last_try_timestamp_seconds"),
            ("next_sync", "pve_replication_next_sync_timestamp_seconds"),
            ("fail_count", "pve_replication_failed_syncs"),
        ] {
            put(name, &[("id", &id)], num(&job[k]));
        }
    }
    out
}

/// The families written without samples as well (all but node_info, cluster_info, qdevice).
const NODE_FAMILIES: [&str; 10] = [
    "pve_subscription_info",
    "pve_subscription_status",
    "pve_subscription_next_due_timestamp_seconds",
    "pve_onboot_status",
    "pve_replication_duration_seconds",
    "pve_replication_last_sync_timestamp_seconds",
    "pve_replication_last_try_timestamp_seconds",
    "pve_replication_next_sync_timestamp_seconds",
    "pve_replication_failed_syncs",
    "pve_replication_info",
];

/// The sample lines quoted in the reference (§8).
const REFERENCE_LINES: &str = r#"pve_up{id="cluster/lab"} 1
pve_up{id="node/pve3"} 0
pve_up{id="storage/pve3/local"} 0
pve_cluster_info{id="cluster/lab",nodes="3",quorate="1",version="7"} 1
pve_guest_info{id="qemu/9000",name="debian12-tmpl",node="pve2",tags="",template="1",type="qemu"} 1
pve_storage_info{content="images,rootdir",id="storage/pve1/ceph",node="pve1",plugintype="rbd",storage="ceph"} 1
pve_cpu_usage_ratio{id="/pool/prod"} 0.036
pve_cpu_usage_limit{id="node/pve3"} 8
pve_lock_state{id="lxc/200",state="backup"} 1
pve_ha_state{id="node/pve3",state="unknown"} 1
pve_onboot_status{id="lxc/200",node="pve1",type="lxc"} 0
pve_not_backed_up_total{id="cluster/lab"} 1
pve_replication_info{guest="qemu/100",id="100-0",source="node/pve1",target="node/pve2",type="local"} 1
pve_subscription_next_due_timestamp_seconds{id="node/pve1"} 1803859200
"#;

async fn scrape(fake: &FakePve, query: &[(&str, &str)]) -> Exposition {
    let dir = tempfile::tempdir().unwrap();
    let ca = fake.write_ca(&dir);
    let exporter = exporter(vec![token_module("default", &fake.addr, &ca)]);
    let text = exporter.collect(&params(query)).await.unwrap();
    parse(&text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_scrape_equals_upstream_sample_set() {
    let fake = FakePve::start().await;
    let got = scrape(
        &fake,
        &[("target", &fake.addr), ("cluster", "1"), ("node", "1")],
    )
    .await;
    let want = expected();

    assert_eq!(got.samples.len(), 235);
    assert_eq!(got.families.len(), 36, "{:?}", got.families.keys());
    let missing: Vec<_> = want
        .keys()
        .filter(|k| !got.samples.contains_key(*k))
        .collect();
    let extra: Vec<_> = got
        .samples
        .keys()
        .filter(|k| !want.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:#?}\nextra {extra:#?}"
    );
    assert_eq!(got.samples, want);

    // The reference's per-family counts.
    for (name, n) in [
        ("pve_up", 13),
        ("pve_ha_state", 59),
        ("pve_lock_state", 36),
        ("pve_disk_size_bytes", 11),
        ("pve_disk_usage_bytes", 10),
        ("pve_memory_size_bytes", 8),
        ("pve_cpu_usage_limit", 8),
        ("pve_memory_usage_bytes", 7),
        ("pve_cpu_usage_ratio", 7),
        ("pve_uptime_seconds", 7),
        ("pve_guest_info", 4),
        ("pve_storage_info", 5),
        ("pve_node_info", 3),
        ("pve_onboot_status", 2),
        ("pve_subscription_status", 6),
        ("pve_qdevice_up", 0),
        ("pve_qdevice_info", 0),
    ] {
        assert_eq!(got.count(name), n, "{name}");
    }
    for line in parse(REFERENCE_LINES).samples {
        assert_eq!(got.samples.get(&line.0), Some(&line.1), "{}", line.0);
    }
    // Counter families are typed as counters, the rest as gauges.
    for (name, kind) in &got.families {
        let want_kind = if name.ends_with("_total") && name != "pve_not_backed_up_total" {
            "counter"
        } else {
            "gauge"
        };
        assert_eq!(kind, want_kind, "{name}");
    }
    assert!(!got.families.contains_key("pve_qdevice_up"));

    // Node series come from the local node only; node status is never asked for.
    let log = fake.log();
    assert!(
        log.iter()
            .all(|l| !l.contains("/nodes/pve2") && !l.contains("/nodes/pve3")),
        "{log:#?}"
    );
    assert!(
        log.iter()
            .all(|l| !l.ends_with("/status") || !l.contains("/nodes/pve1/status"))
    );
    assert!(
        log.iter()
            .any(|l| l == "GET /api2/json/nodes/pve1/replication/100-0/status")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_and_node_gates() {
    let fake = FakePve::start().await;
    let want = expected();
    let is_node = |k: &String| NODE_FAMILIES.contains(&k.split('{').next().unwrap());
    let node_only: BTreeMap<_, _> = want
        .iter()
        .filter(|(k, _)| is_node(k))
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    let cluster_only: BTreeMap<_, _> = want
        .iter()
        .filter(|(k, _)| !is_node(k))
        .map(|(k, v)| (k.clone(), *v))
        .collect();

    let got = scrape(&fake, &[("cluster", "0"), ("node", "1")]).await;
    assert_eq!(got.samples, node_only);
    assert_eq!(got.samples.len(), 16);
    let families: BTreeSet<&str> = got.families.keys().map(String::as_str).collect();
    assert_eq!(families, NODE_FAMILIES.into_iter().collect());

    for off in ["0", "false", "FALSE", ""] {
        let got = scrape(&fake, &[("cluster", "True"), ("node", off)]).await;
        assert_eq!(got.samples, cluster_only, "node={off:?}");
        assert_eq!(got.samples.len(), 235 - 16);
        assert_eq!(got.families.len(), 26);
    }

    let got = scrape(&fake, &[("cluster", "false"), ("node", "0")]).await;
    assert!(got.samples.is_empty() && got.families.is_empty());

    // The first of repeated parameters wins.
    let got = scrape(&fake, &[("node", "0"), ("node", "1"), ("cluster", "1")]).await;
    assert_eq!(got.samples, cluster_only);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn module_gates_are_defaults_the_query_overrides() {
    let fake = FakePve::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut module = token_module("default", &fake.addr, &fake.write_ca(&dir));
    module.cluster = false;
    module.collectors.replication = false;
    let exporter = exporter(vec![module]);
    let got = parse(&exporter.collect(&params(&[])).await.unwrap());
    assert_eq!(got.families.len(), 4, "{:?}", got.families.keys());
    assert_eq!(got.samples.len(), 10);
    let got = parse(
        &exporter
            .collect(&params(&[("cluster", "1")]))
            .await
            .unwrap(),
    );
    assert_eq!(got.families.len(), 30);
    assert_eq!(got.count("pve_replication_info"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qdevice_present_absent_and_failing() {
    let fake = FakePve::start().await;
    fake.behaviour.lock().qdevice = QDevice::Present;
    let got = scrape(&fake, &[]).await;
    assert_eq!(got.samples.len(), 237);
    assert_eq!(got.families.len(), 38);
    let q = fixture("qdevice_present.json");
    let info = key(
        "pve_qdevice_info",
        &[
            ("id", "cluster/lab"),
            ("model", q["Model"].as_str().unwrap()),
            ("algorithm", q["Algorithm"].as_str().unwrap()),
            ("qnetd_host", q["QNetd host"].as_str().unwrap()),
            ("tie_breaker", q["Tie-breaker"].as_str().unwrap()),
            ("state", q["State"].as_str().unwrap()),
        ],
    );
    assert_eq!(got.samples.get(&info), Some(&1.0));
    assert_eq!(
        got.samples
            .get(&key("pve_qdevice_up", &[("id", "cluster/lab")])),
        Some(&1.0)
    );

    // An HTTP error from the qdevice call drops only the qdevice series.
    fake.behaviour.lock().qdevice = QDevice::Error;
    let got = scrape(&fake, &[]).await;
    assert_eq!(got.samples, expected());
    assert_eq!(got.families.len(), 36);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_notfound() {
    let fake = FakePve::start().await;
    fake.behaviour.lock().no_subscription = true;
    let got = scrape(&fake, &[("cluster", "0")]).await;
    assert_eq!(
        got.samples.get(&key(
            "pve_subscription_info",
            &[("id", "node/pve1"), ("level", "unknown")]
        )),
        Some(&1.0)
    );
    for st in [
        "new",
        "notfound",
        "active",
        "invalid",
        "expired",
        "suspended",
    ] {
        let want = if st == "notfound" { 1.0 } else { 0.0 };
        let k = key(
            "pve_subscription_status",
            &[("id", "node/pve1"), ("status", st)],
        );
        assert_eq!(got.samples.get(&k), Some(&want), "{st}");
    }
    assert_eq!(got.count("pve_subscription_next_due_timestamp_seconds"), 0);
    assert!(
        got.families
            .contains_key("pve_subscription_next_due_timestamp_seconds")
    );
}
