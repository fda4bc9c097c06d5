//! The resources collector: one pass over `/cluster/resources` (pools, guests, nodes, storages, sdn). Numeric
//! families get a sample for every entry that has the key; guests and nodes get the full HA state set, guests the
//! lock state set; guests and storages an info series.

use lookout_model::self_metrics::MetricValue;

use super::{CollectError, Session};
use crate::families::Family;
use crate::json::{Object, object_list, py_str, required, sample_value};

/// (JSON key, family name, help) of the gauges, in upstream's order.
const GAUGES: [(&str, &str, &str); 12] = [
    (
        "maxdisk",
        "pve_disk_size_bytes",
        "Storage size in bytes (for type 'storage'), root image size for VMs (for types 'qemu' and 'lxc').",
    ),
    (
        "disk",
        "pve_disk_usage_bytes",
        "Used disk space in bytes (for type 'storage'), used root image space for VMs (for types 'qemu' and 'lxc').",
    ),
    (
        "maxmem",
        "pve_memory_size_bytes",
        "Number of available memory in bytes (for types 'node', 'qemu' and 'lxc').",
    ),
    (
        "mem",
        "pve_memory_usage_bytes",
        "Used memory in bytes (for types 'node', 'qemu' and 'lxc').",
    ),
    (
        "netout",
        "pve_network_transmit_bytes",
        "The amount of traffic in bytes that was sent from the guest over the network since it was started. \
         (for types 'qemu' and 'lxc') DEPRECATED: Use pve_network_transmit_bytes_total instead.",
    ),
    (
        "netin",
        "pve_network_receive_bytes",
        "The amount of traffic in bytes that was sent to the guest over the network since it was started. \
         (for types 'qemu' and 'lxc') DEPRECATED: Use pve_network_receive_bytes_total instead.",
    ),
    (
        "diskwrite",
        "pve_disk_write_bytes",
        "The amount of bytes the guest wrote to its block devices since the guest was started. This info is not \
         available for all storage types. (for types 'qemu' and 'lxc') DEPRECATED: Use \
         pve_disk_written_bytes_total instead.",
    ),
    (
        "diskread",
        "pve_disk_read_bytes",
        "The amount of bytes the guest read from its block devices since the guest was started. This info is not \
         available for all storage types. (for types 'qemu' and 'lxc') DEPRECATED: Use \
         pve_disk_read_bytes_total instead.",
    ),
    (
        "cpu",
        "pve_cpu_usage_ratio",
        "CPU utilization (for types 'node', 'qemu' and 'lxc').",
    ),
    (
        "maxcpu",
        "pve_cpu_usage_limit",
        "Number of available CPUs (for types 'node', 'qemu' and 'lxc').",
    ),
    (
        "uptime",
        "pve_uptime_seconds",
        "Uptime of node or virtual guest in seconds (for types 'node', 'qemu' and 'lxc').",
    ),
    (
        "shared",
        "pve_storage_shared",
        "Whether or not the storage is shared among cluster nodes",
    ),
];

/// (JSON key, family name, help) of the counters (3.8.0+).
const COUNTERS: [(&str, &str, &str); 4] = [
    (
        "netout",
        "pve_network_transmit_bytes_total",
        "The amount of traffic in bytes that was sent from the guest over the network since it was started. \
         (for types 'qemu' and 'lxc')",
    ),
    (
        "netin",
        "pve_network_receive_bytes_total",
        "The amount of traffic in bytes that was sent to the guest over the network since it was started. \
         (for types 'qemu' and 'lxc')",
    ),
    (
        "diskwrite",
        "pve_disk_written_bytes_total",
        "The amount of bytes the guest wrote to its block devices since the guest was started. This info is not \
         available for all storage types. (for types 'qemu' and 'lxc')",
    ),
    (
        "diskread",
        "pve_disk_read_bytes_total",
        "The amount of bytes the guest read from its block devices since the guest was started. This info is not \
         available for all storage types. (for types 'qemu' and 'lxc')",
    ),
];

/// HA states of guests (`pve_ha_state`).
pub const GUEST_HA_STATES: [&str; 11] = [
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

/// HA states of nodes (`pve_ha_state`).
pub const NODE_HA_STATES: [&str; 5] = ["online", "maintenance", "unknown", "fence", "gone"];

/// Config locks of guests (`pve_lock_state`).
pub const LOCK_STATES: [&str; 9] = [
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

const GUEST_INFO_LABELS: [&str; 6] = ["id", "node", "name", "type", "template", "tags"];
const STORAGE_INFO_LABELS: [&str; 4] = ["id", "node", "storage", "plugintype"];

/// A one-hot family over `states`: 1 where the entry's `key` equals the state.
fn one_hot(family: &mut Family, id: &str, entry: &Object, key: &str, states: &[&str]) {
    let current = entry.get(key).and_then(|v| v.as_str());
    for state in states {
        family.add(
            [("id", id.to_string()), ("state", (*state).to_string())],
            current == Some(*state),
        );
    }
}

/// Python `str(entry.get(key, ''))`.
fn label(entry: &Object, key: &str) -> String {
    entry.get(key).map(py_str).unwrap_or_default()
}

/// PVE lists storage content types in random order; sorting keeps the label stable (3.5.3+).
fn sorted_csv(value: &str) -> String {
    let mut parts: Vec<&str> = value.split(',').collect();
    parts.sort_unstable();
    parts.join(",")
}

/// The resources families, in upstream's order.
pub(super) async fn resources(session: &Session<'_>) -> Result<Vec<Family>, CollectError> {
    let data = session.get(&["cluster", "resources"], &[]).await?;
    // A big cluster has thousands of entries and ~37 series each: build them on the blocking pool.
    tokio::task::spawn_blocking(move || families(&data))
        .await
        .map_err(|e| {
            CollectError::Shape(crate::json::ShapeError::Unexpected {
                what: "/cluster/resources".to_string(),
                reason: e.to_string(),
            })
        })?
}

fn families(data: &serde_json::Value) -> Result<Vec<Family>, CollectError> {
    let what = "/cluster/resources";
    let mut gauges: Vec<Family> = GAUGES.iter().map(|(_, n, h)| Family::gauge(n, h)).collect();
    let mut counters: Vec<Family> = COUNTERS
        .iter()
        .map(|(_, n, h)| Family::counter(n, h))
        .collect();
    let mut ha = Family::gauge("pve_ha_state", "HA service status (for HA managed VMs).");
    let mut lock = Family::gauge(
        "pve_lock_state",
        "The guest's current config lock (for types 'qemu' and 'lxc')",
    );
    let mut guest_info = Family::gauge("pve_guest_info", "VM/CT info");
    let mut storage_info = Family::gauge("pve_storage_info", "Storage info");

    for resource in object_list(data, what)? {
        let kind = required(resource, "type", what)?
            .as_str()
            .unwrap_or_default();
        match kind {
            "qemu" | "lxc" => {
                let labels = GUEST_INFO_LABELS.map(|key| (key, label(resource, key)));
                guest_info.add(labels, 1u64);
            }
            "storage" => {
                let mut labels: Vec<(&str, String)> = STORAGE_INFO_LABELS
                    .iter()
                    .map(|key| (*key, label(resource, key)))
                    .collect();
                labels.push(("content", sorted_csv(&label(resource, "content"))));
                storage_info.add(labels, 1u64);
            }
            _ => {}
        }
        let id = py_str(required(resource, "id", what)?);
        match kind {
            "qemu" | "lxc" => {
                one_hot(&mut ha, &id, resource, "hastate", &GUEST_HA_STATES);
                one_hot(&mut lock, &id, resource, "lock", &LOCK_STATES);
            }
            "node" => one_hot(&mut ha, &id, resource, "hastate", &NODE_HA_STATES),
            _ => {}
        }
        for (family, (key, _, _)) in gauges.iter_mut().zip(GAUGES) {
            if let Some(v) = resource.get(key) {
                family.add([("id", id.clone())], value(v, &id, key)?);
            }
        }
        for (family, (key, _, _)) in counters.iter_mut().zip(COUNTERS) {
            if let Some(v) = resource.get(key) {
                family.add([("id", id.clone())], value(v, &id, key)?);
            }
        }
    }
    let mut families = gauges;
    families.extend(counters);
    families.extend([ha, lock, guest_info, storage_info]);
    Ok(families)
}

fn value(v: &serde_json::Value, id: &str, key: &str) -> Result<MetricValue, CollectError> {
    Ok(sample_value(v, &format!("/cluster/resources {id} {key}"))?)
}
