//! The `stat` collector: interrupts, context switches, forks, boot time and process states from `/proc/stat`.

use super::{CollectError, CollectResult, Context};
use crate::exposition::{Exposition, Kind};
use crate::procfile;

/// The system-wide counters of `/proc/stat`.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct SystemStat {
    pub(crate) intr: f64,
    pub(crate) ctxt: f64,
    pub(crate) btime: f64,
    pub(crate) processes: f64,
    pub(crate) procs_running: f64,
    pub(crate) procs_blocked: f64,
}

pub(crate) fn parse(text: &str) -> Result<SystemStat, CollectError> {
    let mut s = SystemStat::default();
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let (Some(key), Some(value)) = (fields.next(), fields.next()) else {
            continue;
        };
        let slot = match key {
            "intr" => &mut s.intr,
            "ctxt" => &mut s.ctxt,
            "btime" => &mut s.btime,
            "processes" => &mut s.processes,
            "procs_running" => &mut s.procs_running,
            "procs_blocked" => &mut s.procs_blocked,
            _ => continue,
        };
        *slot = super::parse_f64(value, "stat")?;
    }
    Ok(s)
}

pub(crate) fn collect(ctx: &Context, out: &mut Exposition) -> CollectResult {
    let s = parse(&procfile::read(&ctx.proc("stat"))?)?;
    out.single(
        "node_intr_total",
        "Total number of interrupts serviced.",
        Kind::Counter,
        s.intr,
    );
    out.single(
        "node_context_switches_total",
        "Total number of context switches.",
        Kind::Counter,
        s.ctxt,
    );
    out.single(
        "node_forks_total",
        "Total number of forks.",
        Kind::Counter,
        s.processes,
    );
    out.single(
        "node_boot_time_seconds",
        "Node boot time, in unixtime.",
        Kind::Gauge,
        s.btime,
    );
    out.single(
        "node_procs_running",
        "Number of processes in runnable state.",
        Kind::Gauge,
        s.procs_running,
    );
    out.single(
        "node_procs_blocked",
        "Number of processes blocked waiting for I/O to complete.",
        Kind::Gauge,
        s.procs_blocked,
    );
    Ok(())
}
