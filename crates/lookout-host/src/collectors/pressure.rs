//! The `pressure` collector: PSI totals from `/proc/pressure/{cpu,io,memory}` in seconds, named as
//! node_exporter 1.5 names them; plus `irq` (kernel ≥ 6.1) as newer node_exporters export it.
//! A missing file ends the collector with "no data", keeping what was written, as node_exporter 1.5 does.

use super::{CollectError, CollectResult, Context};
use crate::exposition::{Exposition, Kind};
use crate::procfile;

/// The `total=` of the `some` and `full` lines, in microseconds.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Psi {
    pub(crate) some: Option<f64>,
    pub(crate) full: Option<f64>,
}

pub(crate) fn parse(text: &str) -> Result<Psi, CollectError> {
    let mut psi = Psi::default();
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let slot = match fields.next() {
            Some("some") => &mut psi.some,
            Some("full") => &mut psi.full,
            _ => continue,
        };
        for f in fields {
            if let Some(total) = f.strip_prefix("total=") {
                *slot = Some(super::parse_f64(total, "pressure")?);
            }
        }
    }
    Ok(psi)
}

fn read(ctx: &Context, resource: &str) -> Result<Option<Psi>, CollectError> {
    match procfile::read(&ctx.proc(&format!("pressure/{resource}"))) {
        Ok(text) => Ok(Some(parse(&text)?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        // Reading fails with EOPNOTSUPP when PSI is compiled in but disabled (psi=0).
        Err(e) if e.raw_os_error() == Some(95) => Ok(None),
        Err(e) => Err(CollectError::Failed(format!(
            "failed to retrieve pressure stats: {e}"
        ))),
    }
}

const US: f64 = 1_000_000.0;

pub(crate) fn collect(ctx: &Context, out: &mut Exposition) -> CollectResult {
    let Some(cpu) = read(ctx, "cpu")? else {
        return Err(CollectError::NoData);
    };
    out.single(
        "node_pressure_cpu_waiting_seconds_total",
        "Total time in seconds that processes have waited for CPU time",
        Kind::Counter,
        cpu.some.unwrap_or(0.0) / US,
    );
    let Some(io) = read(ctx, "io")? else {
        return Err(CollectError::NoData);
    };
    out.single(
        "node_pressure_io_waiting_seconds_total",
        "Total time in seconds that processes have waited due to IO congestion",
        Kind::Counter,
        io.some.unwrap_or(0.0) / US,
    );
    out.single(
        "node_pressure_io_stalled_seconds_total",
        "Total time in seconds no process could make progress due to IO congestion",
        Kind::Counter,
        io.full.unwrap_or(0.0) / US,
    );
    let Some(mem) = read(ctx, "memory")? else {
        return Err(CollectError::NoData);
    };
    out.single(
        "node_pressure_memory_waiting_seconds_total",
        "Total time in seconds that processes have waited for memory",
        Kind::Counter,
        mem.some.unwrap_or(0.0) / US,
    );
    out.single(
        "node_pressure_memory_stalled_seconds_total",
        "Total time in seconds no process could make progress due to memory congestion",
        Kind::Counter,
        mem.full.unwrap_or(0.0) / US,
    );
    if let Some(irq) = read(ctx, "irq")?
        && let Some(full) = irq.full
    {
        out.single(
            "node_pressure_irq_stalled_seconds_total",
            "Total time in seconds no process could make progress due to IRQ congestion",
            Kind::Counter,
            full / US,
        );
    }
    Ok(())
}
