//! Replies other than the reference fixture's: a standalone node, booleans instead of 0/1, and the malformed
//! replies upstream fails on (an unknown status entry type, a missing key).

mod common;

use common::{FakePve, exporter, key, params, parse, token_module};
use lookout_model::{ExportError, Exporter};
use serde_json::json;

async fn collect(fake: &FakePve, query: &[(&str, &str)]) -> Result<String, ExportError> {
    let dir = tempfile::tempdir().unwrap();
    let exporter = exporter(vec![token_module(
        "default",
        &fake.addr,
        &fake.write_ca(&dir),
    )]);
    exporter.collect(&params(query)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_node_with_boolean_flags() {
    let fake = FakePve::start().await;
    {
        let mut b = fake.behaviour.lock();
        b.overrides.insert(
            "/cluster/status".into(),
            json!([{"type":"node","id":"node/pve1","name":"pve1","nodeid":0,"ip":"10.0.0.11","local":true,"online":true,"level":""}]),
        );
        b.overrides.insert(
            "/nodes/pve1/qemu/100/config".into(),
            json!({"name":"web01","onboot":true}),
        );
    }
    let got = parse(&collect(&fake, &[]).await.unwrap());
    assert_eq!(
        got.samples.get(&key("pve_up", &[("id", "node/pve1")])),
        Some(&1.0)
    );
    assert_eq!(got.count("pve_up"), 1 + 4 + 5);
    assert!(!got.families.contains_key("pve_cluster_info"));
    assert!(!got.families.contains_key("pve_qdevice_up"));
    assert_eq!(
        got.samples.get(&key(
            "pve_node_info",
            &[
                ("id", "node/pve1"),
                ("level", ""),
                ("name", "pve1"),
                ("nodeid", "0")
            ]
        )),
        Some(&1.0)
    );
    // Upstream names the backup total after the first status entry, here the node.
    assert_eq!(
        got.samples
            .get(&key("pve_not_backed_up_total", &[("id", "cluster/pve1")])),
        Some(&1.0)
    );
    assert_eq!(
        got.samples.get(&key(
            "pve_onboot_status",
            &[("id", "qemu/100"), ("node", "pve1"), ("type", "qemu")]
        )),
        Some(&1.0)
    );
    assert!(fake.log().iter().all(|l| !l.contains("qdevice")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_replies_fail_the_collection() {
    let fake = FakePve::start().await;
    fake.behaviour
        .lock()
        .overrides
        .insert("/cluster/status".into(), json!([{"type":"weird","id":"x"}]));
    let err = collect(&fake, &[("node", "0")]).await.unwrap_err();
    assert!(
        matches!(&err, ExportError::Failed(m) if m.contains("Got unexpected status entry type weird")),
        "{err}"
    );

    let fake = FakePve::start().await;
    fake.behaviour.lock().overrides.insert(
        "/cluster/resources?type=vm".into(),
        json!([{"id":"qemu/100","type":"qemu"}]),
    );
    let err = collect(&fake, &[]).await.unwrap_err();
    assert!(
        matches!(&err, ExportError::Failed(m) if m.contains("missing key \"status\"")),
        "{err}"
    );

    let fake = FakePve::start().await;
    fake.behaviour.lock().overrides.insert(
        "/nodes/pve1/subscription".into(),
        json!({"status":"active","nextduedate":"soon"}),
    );
    let err = collect(&fake, &[("cluster", "0")]).await.unwrap_err();
    assert!(
        matches!(&err, ExportError::Failed(m) if m.contains("nextduedate")),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_cluster_has_37_series_per_guest() {
    const GUESTS: usize = 3000;
    let guests: Vec<serde_json::Value> = (0..GUESTS)
        .map(|i| {
            json!({"id": format!("qemu/{}", 1000 + i), "vmid": 1000 + i, "name": format!("vm{i}"), "node": "pve1",
                   "type": "qemu", "status": "running", "template": 0, "uptime": 10, "cpu": 0.5, "maxcpu": 2,
                   "mem": 1, "maxmem": 2, "disk": 3, "maxdisk": 4, "netin": 5, "netout": 6, "diskread": 7,
                   "diskwrite": 8})
        })
        .collect();
    let fake = FakePve::start().await;
    {
        let mut b = fake.behaviour.lock();
        b.overrides
            .insert("/cluster/resources".into(), json!(guests));
        b.overrides
            .insert("/cluster/resources?type=vm".into(), json!(guests));
        b.overrides
            .insert("/cluster/resources?type=storage".into(), json!([]));
    }
    let got = parse(&collect(&fake, &[("node", "0")]).await.unwrap());
    // Per guest 37; besides: pve_up of 3 nodes and the cluster, 3 node_info, cluster_info, version, 2 backup-info.
    assert_eq!(got.samples.len(), 37 * GUESTS + 4 + 3 + 1 + 1 + 2);
    assert_eq!(got.count("pve_ha_state"), 11 * GUESTS);
    assert_eq!(
        got.samples
            .get(&key("pve_disk_read_bytes_total", &[("id", "qemu/3999")])),
        Some(&7.0)
    );
}
