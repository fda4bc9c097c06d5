//! The node collectors, for the node answering the API only (`local` in `/cluster/status`): subscription,
//! `pve_onboot_status` from each local guest's config, and replication jobs.

use super::{CollectError, Session};
use crate::families::Family;
use crate::json::{ShapeError, object, object_list, py_str, required, sample_value, truthy};

const SUBSCRIPTION_STATUSES: [&str; 6] = [
    "new",
    "notfound",
    "active",
    "invalid",
    "expired",
    "suspended",
];

/// `pve_subscription_info`, `pve_subscription_status` (6 one-hot series) and
/// `pve_subscription_next_due_timestamp_seconds` (only with a due date).
pub(super) async fn subscription(session: &mut Session<'_>) -> Result<Vec<Family>, CollectError> {
    let node = session.local_node().await?;
    let path = format!("/nodes/{node}/subscription");
    let data = session.get(&["nodes", &node, "subscription"], &[]).await?;
    let reply = object(&data, &path)?;
    let id = format!("node/{node}");
    let level = reply
        .get("level")
        .map(py_str)
        .unwrap_or_else(|| "unknown".into());
    let status = reply
        .get("status")
        .map(py_str)
        .unwrap_or_else(|| "unknown".into());

    let mut info = Family::gauge(
        "pve_subscription_info",
        "Proxmox VE subscription info (1 if present)",
    );
    info.add([("id", id.clone()), ("level", level)], 1u64);
    let mut statuses = Family::gauge(
        "pve_subscription_status",
        "Proxmox VE subscription status (1 if matches status)",
    );
    for candidate in SUBSCRIPTION_STATUSES {
        statuses.add(
            [("id", id.clone()), ("status", candidate.to_string())],
            status == candidate,
        );
    }
    let mut next_due = Family::gauge(
        "pve_subscription_next_due_timestamp_seconds",
        "Subscription next due date as Unix timestamp",
    );
    if let Some(date) = reply.get("nextduedate").filter(|v| truthy(v)) {
        let text = py_str(date);
        let seconds = midnight_utc(&text).ok_or_else(|| ShapeError::Unexpected {
            what: path.clone(),
            reason: format!("nextduedate {text:?} is not YYYY-MM-DD"),
        })?;
        next_due.add([("id", id)], seconds as f64);
    }
    Ok(vec![info, statuses, next_due])
}

/// Seconds since the epoch of `YYYY-MM-DD` at 00:00 UTC. Upstream uses the exporter's local time zone; Lookout
/// uses UTC so the value does not depend on the host (equal to upstream run with TZ=UTC).
pub fn midnight_utc(text: &str) -> Option<i64> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || y.len() != 4
        || !(1..=2).contains(&m.len())
        || !(1..=2).contains(&d.len())
        || ![y, m, d]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let (y, m, d): (i64, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month[(m - 1) as usize] {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400)
}

/// `pve_onboot_status{id,node,type}` for each local guest whose config sets `onboot`.
pub(super) async fn onboot(session: &mut Session<'_>) -> Result<Vec<Family>, CollectError> {
    let node = session.local_node().await?;
    let mut family = Family::gauge("pve_onboot_status", "Proxmox vm config onboot value");
    for kind in ["qemu", "lxc"] {
        let list_path = format!("/nodes/{node}/{kind}");
        let list = session.get(&["nodes", &node, kind], &[]).await?;
        for guest in object_list(&list, &list_path)? {
            let vmid = py_str(required(guest, "vmid", &list_path)?);
            let config_path = format!("{list_path}/{vmid}/config");
            let config = session
                .get(&["nodes", &node, kind, &vmid, "config"], &[])
                .await?;
            let config = object(&config, &config_path)?;
            if let Some(onboot) = config.get("onboot") {
                family.add(
                    [
                        ("id", format!("{kind}/{vmid}")),
                        ("node", node.clone()),
                        ("type", kind.to_string()),
                    ],
                    sample_value(onboot, &config_path)?,
                );
            }
        }
    }
    Ok(vec![family])
}

/// (status key, family name, help) of the per-job replication gauges.
const REPLICATION_GAUGES: [(&str, &str, &str); 5] = [
    (
        "duration",
        "pve_replication_duration_seconds",
        "Proxmox vm replication duration",
    ),
    (
        "last_sync",
        "pve_replication_last_sync_timestamp_seconds",
        "Proxmox vm replication last_sync",
    ),
    (
        "last_try",
        "pve_replication_last_try_timestamp_seconds",
        "Proxmox vm replication last_try",
    ),
    (
        "next_sync",
        "pve_replication_next_sync_timestamp_seconds",
        "Proxmox vm replication next_sync",
    ),
    (
        "fail_count",
        "pve_replication_failed_syncs",
        "Proxmox vm replication fail_count",
    ),
];

/// `pve_replication_info` per local job and, from each job's status, the gauges it has keys for.
pub(super) async fn replication(session: &mut Session<'_>) -> Result<Vec<Family>, CollectError> {
    let node = session.local_node().await?;
    let list_path = format!("/nodes/{node}/replication");
    let jobs = session.get(&["nodes", &node, "replication"], &[]).await?;
    let mut gauges: Vec<Family> = REPLICATION_GAUGES
        .iter()
        .map(|(_, name, help)| Family::gauge(name, help))
        .collect();
    let mut info = Family::gauge("pve_replication_info", "Proxmox vm replication info");
    for job in object_list(&jobs, &list_path)? {
        let field = |key: &str| required(job, key, &list_path).map(py_str);
        let id = field("id")?;
        info.add(
            [
                ("id", id.clone()),
                ("type", field("type")?),
                ("source", format!("node/{}", field("source")?)),
                ("target", format!("node/{}", field("target")?)),
                ("guest", format!("{}/{}", field("vmtype")?, field("guest")?)),
            ],
            1u64,
        );
        let status_path = format!("{list_path}/{id}/status");
        // proxmoxer splits a string id on '/' into path segments.
        let mut segments = vec!["nodes", node.as_str(), "replication"];
        segments.extend(id.split('/'));
        segments.push("status");
        let status = session.get(&segments, &[]).await?;
        let status = object(&status, &status_path)?;
        for (family, (key, _, _)) in gauges.iter_mut().zip(REPLICATION_GAUGES) {
            if let Some(v) = status.get(key) {
                family.add([("id", id.clone())], sample_value(v, &status_path)?);
            }
        }
    }
    gauges.push(info);
    Ok(gauges)
}

#[cfg(test)]
mod tests {
    use super::midnight_utc;

    #[test]
    fn due_dates_are_utc_midnight() {
        assert_eq!(midnight_utc("2027-03-01"), Some(1_803_859_200));
        assert_eq!(midnight_utc("1970-01-01"), Some(0));
        assert_eq!(midnight_utc("2024-02-29"), Some(1_709_164_800));
        assert_eq!(midnight_utc("2027-3-1"), Some(1_803_859_200));
        assert_eq!(midnight_utc("2023-02-29"), None);
        assert_eq!(midnight_utc("2027-03-01T00:00"), None);
        assert_eq!(midnight_utc("soon"), None);
    }
}
