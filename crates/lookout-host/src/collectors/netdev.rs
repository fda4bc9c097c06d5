//! The `netdev` collector: per-interface counters as node_exporter 1.5 exports them by default (netlink stats
//! folded into `/proc/net/dev`'s legacy names). `/proc/net/dev` already holds those folded sums (drop includes
//! missed, frame includes length/over/crc, carrier includes aborted/window/heartbeat); `receive_nohandler`,
//! which only netlink has, comes from sysfs (0 when the file is missing).

use super::{CollectError, CollectResult, Context};
use crate::exposition::{Exposition, Kind};
use crate::procfile;

/// `/proc/net/dev`'s 16 columns, as node_exporter's legacy names.
const COLUMNS: [&str; 16] = [
    "receive_bytes",
    "receive_packets",
    "receive_errs",
    "receive_drop",
    "receive_fifo",
    "receive_frame",
    "receive_compressed",
    "receive_multicast",
    "transmit_bytes",
    "transmit_packets",
    "transmit_errs",
    "transmit_drop",
    "transmit_fifo",
    "transmit_colls",
    "transmit_carrier",
    "transmit_compressed",
];

/// One interface: its name and the 16 columns.
#[derive(Debug, PartialEq)]
pub(crate) struct NetDevLine {
    pub(crate) device: String,
    pub(crate) values: [f64; 16],
}

pub(crate) fn parse(text: &str) -> Result<Vec<NetDevLine>, CollectError> {
    let mut devs = Vec::new();
    for line in text.lines().skip(2) {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        let mut values = [0.0; 16];
        let mut n = 0;
        for (slot, f) in values.iter_mut().zip(rest.split_ascii_whitespace()) {
            *slot = super::parse_f64(f, "net/dev")?;
            n += 1;
        }
        if n < 16 {
            return Err(CollectError::Failed(format!(
                "failed to parse /proc/net/dev: short line {line:?}"
            )));
        }
        devs.push(NetDevLine {
            device: name.trim().to_string(),
            values,
        });
    }
    Ok(devs)
}

pub(crate) fn collect(ctx: &Context, out: &mut Exposition) -> CollectResult {
    let text = procfile::read(&ctx.proc("net/dev"))
        .map_err(|e| CollectError::Failed(format!("couldn't get netstats: {e}")))?;
    let devs: Vec<(NetDevLine, f64)> = parse(&text)?
        .into_iter()
        .filter(|d| !ctx.netdev_filter.ignored(&d.device))
        .map(|d| {
            let path = ctx.sys(&format!("class/net/{}/statistics/rx_nohandler", d.device));
            let nohandler = procfile::read_u64(&path).unwrap_or(0) as f64;
            (d, nohandler)
        })
        .collect();
    let mut name = String::with_capacity(48);
    let mut help = String::with_capacity(64);
    let keys = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, k)| (*k, Some(i)))
        .chain([("receive_nohandler", None)]);
    for (key, column) in keys {
        name.clear();
        name.push_str("node_network_");
        name.push_str(key);
        name.push_str("_total");
        help.clear();
        help.push_str("Network device statistic ");
        help.push_str(key);
        help.push('.');
        out.header(&name, &help, Kind::Counter);
        for (d, nohandler) in &devs {
            let v = column.map_or(*nohandler, |i| d.values[i]);
            out.sample(&name, &[("device", &d.device)], v);
        }
    }
    Ok(())
}
