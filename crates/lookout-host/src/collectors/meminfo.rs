//! The `meminfo` collector: every `/proc/meminfo` line as `node_memory_<Key>[_bytes]`, with node_exporter's
//! renaming: `Active(anon)` becomes `Active_anon`, a line with a unit (always kB) is multiplied by 1024 and gets
//! `_bytes`, and a key ending in `_total` would be a counter (none does today: `HugePages_Total` keeps its case).

use super::{CollectError, CollectResult, Context};
use crate::exposition::{Exposition, Kind};
use crate::procfile;

/// node_exporter's metric suffix for a `/proc/meminfo` key, and the value in the exported unit.
pub(crate) fn metric_key(line: &str) -> Result<Option<(String, f64)>, CollectError> {
    let parts: Vec<&str> = line.split_ascii_whitespace().collect();
    if parts.is_empty() {
        return Ok(None);
    }
    let bad = || CollectError::Failed(format!("invalid line in meminfo: {line}"));
    let mut value = super::parse_f64(parts.get(1).ok_or_else(bad)?, "meminfo")?;
    let raw = parts[0].strip_suffix(':').unwrap_or(parts[0]);
    // Go's `\((.*)\)` → `_${1}`: greedy, from the first `(` to the last `)`.
    let mut key = match (raw.find('('), raw.rfind(')')) {
        (Some(open), Some(close)) if open < close => {
            format!(
                "{}_{}{}",
                &raw[..open],
                &raw[open + 1..close],
                &raw[close + 1..]
            )
        }
        _ => raw.to_string(),
    };
    match parts.len() {
        2 => {}
        3 => {
            value *= 1024.0;
            key.push_str("_bytes");
        }
        _ => return Err(bad()),
    }
    Ok(Some((key, value)))
}

pub(crate) fn collect(ctx: &Context, out: &mut Exposition) -> CollectResult {
    let text = procfile::read(&ctx.proc("meminfo"))
        .map_err(|e| CollectError::Failed(format!("couldn't get meminfo: {e}")))?;
    // Parse everything first: node_exporter exports nothing when one line is malformed.
    let mut fields = Vec::with_capacity(64);
    for line in text.lines() {
        if let Some(kv) = metric_key(line)? {
            fields.push(kv);
        }
    }
    let mut name = String::with_capacity(64);
    let mut help = String::with_capacity(64);
    for (key, value) in fields {
        name.clear();
        name.push_str("node_memory_");
        name.push_str(&key);
        help.clear();
        help.push_str("Memory information field ");
        help.push_str(&key);
        help.push('.');
        let kind = if key.ends_with("_total") {
            Kind::Counter
        } else {
            Kind::Gauge
        };
        out.single(&name, &help, kind, value);
    }
    Ok(())
}
