//! The `loadavg` collector: `node_load1`, `node_load5`, `node_load15` from `/proc/loadavg`.

use super::{CollectError, CollectResult, Context};
use crate::exposition::{Exposition, Kind};
use crate::procfile;

pub(crate) fn collect(ctx: &Context, out: &mut Exposition) -> CollectResult {
    let text = procfile::read(&ctx.proc("loadavg"))
        .map_err(|e| CollectError::Failed(format!("couldn't get load: {e}")))?;
    let parts: Vec<&str> = text.split_ascii_whitespace().take(3).collect();
    if parts.len() < 3 {
        return Err(CollectError::Failed("unexpected content in loadavg".into()));
    }
    let mut loads = [0.0; 3];
    for (slot, p) in loads.iter_mut().zip(&parts) {
        *slot = super::parse_f64(p, "loadavg")?;
    }
    out.single("node_load1", "1m load average.", Kind::Gauge, loads[0]);
    out.single("node_load5", "5m load average.", Kind::Gauge, loads[1]);
    out.single("node_load15", "15m load average.", Kind::Gauge, loads[2]);
    Ok(())
}
