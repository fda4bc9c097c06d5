//! The `vmstat` collector: `/proc/vmstat` fields matching the field regex, as untyped `node_vmstat_<field>`.

use super::{CollectResult, Context};
use crate::exposition::{Exposition, Kind};
use crate::procfile;

pub(crate) fn collect(ctx: &Context, out: &mut Exposition) -> CollectResult {
    let text = procfile::read(&ctx.proc("vmstat"))?;
    let mut name = String::with_capacity(48);
    let mut help = String::with_capacity(64);
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let (Some(key), Some(value)) = (fields.next(), fields.next()) else {
            continue;
        };
        // node_exporter parses before filtering, so any malformed value fails the collector.
        let value = super::parse_f64(value, "vmstat")?;
        if !ctx.vmstat_fields.is_match(key) {
            continue;
        }
        name.clear();
        name.push_str("node_vmstat_");
        name.push_str(key);
        help.clear();
        help.push_str("/proc/vmstat information field ");
        help.push_str(key);
        help.push('.');
        out.single(&name, &help, Kind::Untyped, value);
    }
    Ok(())
}
