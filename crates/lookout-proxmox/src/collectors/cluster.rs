//! The small cluster collectors: `pve_up` (status), `pve_node_info`, `pve_cluster_info`, `pve_version_info`,
//! `pve_not_backed_up_*` (backup-info) and `pve_qdevice_*`. Label values are Python `str()` of the JSON fields, and
//! keys the exporter indexes directly are required.

use lookout_model::self_metrics::MetricValue;
use serde_json::Value;

use super::{CollectError, Session};
use crate::families::Family;
use crate::json::{
    Object, ShapeError, object, object_list, py_str, required, sample_value, truthy,
};

fn entry_type(entry: &Object) -> Result<&str, ShapeError> {
    let kind = required(entry, "type", "/cluster/status entry")?;
    Ok(kind.as_str().unwrap_or_default())
}

/// `pve_up`: node `online` and cluster `quorate` from `/cluster/status`, then guests running and storages
/// available from `/cluster/resources?type=vm` and `?type=storage`.
pub(super) async fn status(session: &mut Session<'_>) -> Result<Vec<Family>, CollectError> {
    let mut up = Family::gauge("pve_up", "Node/VM/CT-Status is online/running");
    for entry in session.cluster_status().await? {
        match entry_type(&entry)? {
            "node" => {
                let id = py_str(required(&entry, "id", "/cluster/status node entry")?);
                let online = required(&entry, "online", "/cluster/status node entry")?;
                up.add(
                    [("id", id)],
                    sample_value(online, "/cluster/status online")?,
                );
            }
            "cluster" => {
                let name = py_str(required(&entry, "name", "/cluster/status cluster entry")?);
                let quorate = required(&entry, "quorate", "/cluster/status cluster entry")?;
                up.add(
                    [("id", format!("cluster/{name}"))],
                    sample_value(quorate, "/cluster/status quorate")?,
                );
            }
            other => {
                return Err(ShapeError::Unexpected {
                    what: "/cluster/status".to_string(),
                    reason: format!("Got unexpected status entry type {other}"),
                }
                .into());
            }
        }
    }
    for (kind, good) in [("vm", "running"), ("storage", "available")] {
        let data = session
            .get(&["cluster", "resources"], &[("type", kind)])
            .await?;
        let what = format!("/cluster/resources?type={kind}");
        for resource in object_list(&data, &what)? {
            let id = py_str(required(resource, "id", &what)?);
            let status = required(resource, "status", &what)?;
            up.add([("id", id)], status.as_str() == Some(good));
        }
    }
    Ok(vec![up])
}

/// `pve_node_info{id,level,name,nodeid}` per node entry; no family at all without node entries.
pub(super) async fn node_info(session: &mut Session<'_>) -> Result<Vec<Family>, CollectError> {
    let mut info = Family::gauge("pve_node_info", "Node info");
    for entry in session.cluster_status().await? {
        if entry_type(&entry)? != "node" {
            continue;
        }
        let mut labels = Vec::with_capacity(4);
        for key in ["id", "level", "name", "nodeid"] {
            labels.push((
                key,
                py_str(required(&entry, key, "/cluster/status node entry")?),
            ));
        }
        info.add(labels, 1u64);
    }
    Ok(if info.samples.is_empty() {
        Vec::new()
    } else {
        vec![info]
    })
}

/// `pve_cluster_info` per cluster entry: its keys minus `type`, `name` folded into `id="cluster/<name>"`; no family
/// at all on a standalone node.
pub(super) async fn cluster_info(session: &mut Session<'_>) -> Result<Vec<Family>, CollectError> {
    let mut clusters = Vec::new();
    for entry in session.cluster_status().await? {
        if entry_type(&entry)? != "cluster" {
            continue;
        }
        let mut entry = entry;
        entry.remove("type");
        let name = py_str(required(&entry, "name", "/cluster/status cluster entry")?);
        entry.insert("id".to_string(), Value::String(format!("cluster/{name}")));
        entry.remove("name");
        clusters.push(entry);
    }
    let Some(first) = clusters.first() else {
        return Ok(Vec::new());
    };
    // The label names are the first entry's keys, as upstream takes them.
    let names: Vec<String> = first.keys().cloned().collect();
    let mut info = Family::gauge("pve_cluster_info", "Cluster info");
    for cluster in &clusters {
        let mut labels = Vec::with_capacity(names.len());
        for name in &names {
            let value = required(cluster, name, "/cluster/status cluster entry")?;
            labels.push((name.clone(), py_str(value)));
        }
        info.add_owned(labels, MetricValue::Int(1));
    }
    Ok(vec![info])
}

/// `pve_version_info{release,repoid,version}` from `/version` (other keys such as `console` are dropped).
pub(super) async fn version(session: &Session<'_>) -> Result<Vec<Family>, CollectError> {
    let data = session.get(&["version"], &[]).await?;
    let reply = object(&data, "/version")?;
    let labels: Vec<(&'static str, String)> = ["release", "repoid", "version"]
        .into_iter()
        .filter_map(|key| reply.get(key).map(|v| (key, py_str(v))))
        .collect();
    if labels.is_empty() {
        return Err(ShapeError::Unexpected {
            what: "/version".to_string(),
            reason: "none of release, repoid, version in the reply".to_string(),
        }
        .into());
    }
    let mut info = Family::gauge("pve_version_info", "Proxmox VE version info");
    info.add(labels, 1u64);
    Ok(vec![info])
}

/// `pve_not_backed_up_total{id="cluster/<first status entry's name>"}` and `pve_not_backed_up_info` per guest.
pub(super) async fn backup_info(session: &mut Session<'_>) -> Result<Vec<Family>, CollectError> {
    let what = "/cluster/backup-info/not-backed-up";
    let data = session
        .get(&["cluster", "backup-info", "not-backed-up"], &[])
        .await?;
    let guests = object_list(&data, what)?;
    let status = session.cluster_status().await?;
    let first = status.first().ok_or_else(|| ShapeError::Unexpected {
        what: "/cluster/status".to_string(),
        reason: "empty list".to_string(),
    })?;
    let cluster_name = py_str(required(first, "name", "/cluster/status entry")?);
    let mut total = Family::gauge(
        "pve_not_backed_up_total",
        "Total number of guests not covered by any backup job.",
    );
    let mut info = Family::gauge(
        "pve_not_backed_up_info",
        "Present if guest is not covered by any backup job.",
    );
    for guest in &guests {
        let kind = py_str(required(guest, "type", what)?);
        let vmid = py_str(required(guest, "vmid", what)?);
        info.add([("id", format!("{kind}/{vmid}"))], 1u64);
    }
    total.add([("id", format!("cluster/{cluster_name}"))], guests.len());
    Ok(vec![total, info])
}

const QDEVICE_LABELS: [(&str, &str); 5] = [
    ("Model", "model"),
    ("Algorithm", "algorithm"),
    ("QNetd host", "qnetd_host"),
    ("Tie-breaker", "tie_breaker"),
    ("State", "state"),
];

/// `pve_qdevice_up` and `pve_qdevice_info` from `/cluster/config/qdevice`; nothing on a standalone node, when no
/// QDevice is configured (`{}`), or when PVE answers that call with an HTTP error.
pub(super) async fn qdevice(session: &mut Session<'_>) -> Result<Vec<Family>, CollectError> {
    let mut cluster_id = None;
    for entry in session.cluster_status().await? {
        if entry_type(&entry)? == "cluster" {
            let name = py_str(required(&entry, "name", "/cluster/status cluster entry")?);
            cluster_id = Some(format!("cluster/{name}"));
            break;
        }
    }
    let Some(cluster_id) = cluster_id else {
        return Ok(Vec::new());
    };
    let data = match session.get(&["cluster", "config", "qdevice"], &[]).await {
        Ok(data) => data,
        Err(e) if e.is_http_status() => {
            tracing::debug!(error = %e, "no QDevice series");
            return Ok(Vec::new());
        }
        Err(e) => return Err(e.into()),
    };
    if !truthy(&data) {
        return Ok(Vec::new());
    }
    let qdevice = object(&data, "/cluster/config/qdevice")?;
    let mut labels = vec![("id", cluster_id.clone())];
    for (key, label) in QDEVICE_LABELS {
        labels.push((label, qdevice.get(key).map(py_str).unwrap_or_default()));
    }
    let mut up = Family::gauge(
        "pve_qdevice_up",
        "Proxmox VE QDevice is connected (1) or not (0)",
    );
    let connected = qdevice.get("State").and_then(Value::as_str) == Some("Connected");
    up.add([("id", cluster_id)], connected);
    let mut info = Family::gauge(
        "pve_qdevice_info",
        "Proxmox VE QDevice info (1 if configured)",
    );
    info.add(labels, 1u64);
    Ok(vec![up, info])
}
