//! The `diskstats` collector: `/proc/diskstats` per device not excluded by the device filter, with sectors turned
//! into bytes (×512, "standard UNIX sectors") and milliseconds into seconds; only the fields the kernel writes
//! (11, 15 or 17 of them) are exported. `node_disk_info` and the udev-derived families read udev's database.

use super::{CollectError, CollectResult, Context};
use crate::exposition::{Exposition, Kind};
use crate::procfile;

const SECTOR: f64 = 512.0;
const MS: f64 = 0.001;

/// The stat families in `/proc/diskstats` field order: name, help, type, scale.
const STATS: [(&str, &str, Kind, f64); 17] = [
    (
        "node_disk_reads_completed_total",
        "The total number of reads completed successfully.",
        Kind::Counter,
        1.0,
    ),
    (
        "node_disk_reads_merged_total",
        "The total number of reads merged.",
        Kind::Counter,
        1.0,
    ),
    (
        "node_disk_read_bytes_total",
        "The total number of bytes read successfully.",
        Kind::Counter,
        SECTOR,
    ),
    (
        "node_disk_read_time_seconds_total",
        "The total number of seconds spent by all reads.",
        Kind::Counter,
        MS,
    ),
    (
        "node_disk_writes_completed_total",
        "The total number of writes completed successfully.",
        Kind::Counter,
        1.0,
    ),
    (
        "node_disk_writes_merged_total",
        "The number of writes merged.",
        Kind::Counter,
        1.0,
    ),
    (
        "node_disk_written_bytes_total",
        "The total number of bytes written successfully.",
        Kind::Counter,
        SECTOR,
    ),
    (
        "node_disk_write_time_seconds_total",
        "This is the total number of seconds spent by all writes.",
        Kind::Counter,
        MS,
    ),
    (
        "node_disk_io_now",
        "The number of I/Os currently in progress.",
        Kind::Gauge,
        1.0,
    ),
    (
        "node_disk_io_time_seconds_total",
        "Total seconds spent doing I/Os.",
        Kind::Counter,
        MS,
    ),
    (
        "node_disk_io_time_weighted_seconds_total",
        "The weighted # of seconds spent doing I/Os.",
        Kind::Counter,
        MS,
    ),
    (
        "node_disk_discards_completed_total",
        "The total number of discards completed successfully.",
        Kind::Counter,
        1.0,
    ),
    (
        "node_disk_discards_merged_total",
        "The total number of discards merged.",
        Kind::Counter,
        1.0,
    ),
    (
        "node_disk_discarded_sectors_total",
        "The total number of sectors discarded successfully.",
        Kind::Counter,
        1.0,
    ),
    (
        "node_disk_discard_time_seconds_total",
        "This is the total number of seconds spent by all discards.",
        Kind::Counter,
        MS,
    ),
    (
        "node_disk_flush_requests_total",
        "The total number of flush requests completed successfully",
        Kind::Counter,
        1.0,
    ),
    (
        "node_disk_flush_requests_time_seconds_total",
        "This is the total number of seconds spent by all flush requests.",
        Kind::Counter,
        MS,
    ),
];

/// One `/proc/diskstats` line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DiskLine {
    pub(crate) major: String,
    pub(crate) minor: String,
    pub(crate) device: String,
    /// The raw counters after the name (11, 15 or 17 of them).
    pub(crate) fields: Vec<f64>,
}

pub(crate) fn parse(text: &str) -> Result<Vec<DiskLine>, CollectError> {
    let mut disks = Vec::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_ascii_whitespace().collect();
        if parts.is_empty() {
            continue;
        }
        if parts.len() < 14 {
            return Err(CollectError::Failed(format!(
                "couldn't get diskstats: short line {line:?}"
            )));
        }
        let fields = parts[3..]
            .iter()
            .take(STATS.len())
            .map(|f| super::parse_f64(f, "diskstats"))
            .collect::<Result<Vec<_>, _>>()?;
        disks.push(DiskLine {
            major: parts[0].to_string(),
            minor: parts[1].to_string(),
            device: parts[2].to_string(),
            fields,
        });
    }
    Ok(disks)
}

/// The `E:KEY=value` properties of udev's record for a block device, empty when there is none.
fn udev_properties(ctx: &Context, d: &DiskLine) -> Vec<(String, String)> {
    let path = procfile::join(&ctx.udev_data_path, &format!("b{}:{}", d.major, d.minor));
    let Ok(text) = procfile::read(&path) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| l.strip_prefix("E:"))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn prop<'a>(props: &'a [(String, String)], key: &str) -> &'a str {
    props
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

pub(crate) fn collect(ctx: &Context, out: &mut Exposition) -> CollectResult {
    let text = procfile::read(&ctx.proc("diskstats"))
        .map_err(|e| CollectError::Failed(format!("couldn't get diskstats: {e}")))?;
    let disks: Vec<(DiskLine, Vec<(String, String)>)> = parse(&text)?
        .into_iter()
        .filter(|d| !ctx.disk_filter.ignored(&d.device))
        .map(|d| {
            let props = udev_properties(ctx, &d);
            (d, props)
        })
        .collect();

    let name = "node_disk_info";
    out.header(name, "Info of /sys/block/<block_device>.", Kind::Gauge);
    for (d, p) in &disks {
        out.sample(
            name,
            &[
                ("device", &d.device),
                ("major", &d.major),
                ("minor", &d.minor),
                ("path", prop(p, "ID_PATH")),
                ("wwn", prop(p, "ID_WWN")),
                ("model", prop(p, "ID_MODEL")),
                ("serial", prop(p, "ID_SERIAL_SHORT")),
                ("revision", prop(p, "ID_REVISION")),
            ],
            1.0,
        );
    }
    for (i, (name, help, kind, scale)) in STATS.iter().enumerate() {
        if !disks.iter().any(|(d, _)| d.fields.len() > i) {
            continue;
        }
        out.header(name, help, *kind);
        for (d, _) in disks.iter().filter(|(d, _)| d.fields.len() > i) {
            out.sample(name, &[("device", &d.device)], d.fields[i] * scale);
        }
    }
    udev_families(&disks, out);
    Ok(())
}

/// `node_disk_filesystem_info`, `node_disk_device_mapper_info` and the ATA gauges, where udev knows them.
fn udev_families(disks: &[(DiskLine, Vec<(String, String)>)], out: &mut Exposition) {
    let with = |key: &'static str| disks.iter().filter(move |(_, p)| !prop(p, key).is_empty());
    let name = "node_disk_filesystem_info";
    if with("ID_FS_TYPE").next().is_some() {
        out.header(name, "Info about disk filesystem.", Kind::Gauge);
        for (d, p) in with("ID_FS_TYPE") {
            out.sample(
                name,
                &[
                    ("device", &d.device),
                    ("type", prop(p, "ID_FS_TYPE")),
                    ("usage", prop(p, "ID_FS_USAGE")),
                    ("uuid", prop(p, "ID_FS_UUID")),
                    ("version", prop(p, "ID_FS_VERSION")),
                ],
                1.0,
            );
        }
    }
    let name = "node_disk_device_mapper_info";
    if with("DM_NAME").next().is_some() {
        out.header(name, "Info about disk device mapper.", Kind::Gauge);
        for (d, p) in with("DM_NAME") {
            out.sample(
                name,
                &[
                    ("device", &d.device),
                    ("name", prop(p, "DM_NAME")),
                    ("uuid", prop(p, "DM_UUID")),
                    ("vg_name", prop(p, "DM_VG_NAME")),
                    ("lv_name", prop(p, "DM_LV_NAME")),
                    ("lv_layer", prop(p, "DM_LV_LAYER")),
                ],
                1.0,
            );
        }
    }
    let ata = [
        (
            "ID_ATA_WRITE_CACHE",
            "node_disk_ata_write_cache",
            "ATA disk has a write cache.",
        ),
        (
            "ID_ATA_WRITE_CACHE_ENABLED",
            "node_disk_ata_write_cache_enabled",
            "ATA disk has its write cache enabled.",
        ),
        (
            "ID_ATA_ROTATION_RATE_RPM",
            "node_disk_ata_rotation_rate_rpm",
            "ATA disk rotation rate in RPMs (0 for SSDs).",
        ),
    ];
    for (key, name, help) in ata {
        let rows: Vec<(&str, f64)> = with("ID_ATA")
            .filter_map(|(d, p)| Some((d.device.as_str(), prop(p, key).parse::<f64>().ok()?)))
            .collect();
        if rows.is_empty() {
            continue;
        }
        out.header(name, help, Kind::Gauge);
        for (dev, v) in rows {
            out.sample(name, &[("device", dev)], v);
        }
    }
}
