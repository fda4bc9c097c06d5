//! The `sockstat` collector: `/proc/net/sockstat` and `sockstat6` as `node_sockstat_<PROTO>_<field>` gauges,
//! plus `_mem_bytes` (pages × page size) and IPv4's `node_sockstat_sockets_used`. Missing files are skipped.

use super::{CollectError, CollectResult, Context};
use crate::exposition::{Exposition, Kind};
use crate::procfile;

/// The fields node_exporter exports, in its order.
const FIELDS: [&str; 6] = ["inuse", "orphan", "tw", "alloc", "mem", "memory"];

/// One protocol line: its name and the known fields present.
#[derive(Debug, PartialEq)]
pub(crate) struct ProtoLine {
    pub(crate) protocol: String,
    pub(crate) values: [Option<f64>; 6],
}

/// Parses a sockstat file: the `sockets: used N` value and the protocol lines.
pub(crate) fn parse(text: &str) -> Result<(Option<f64>, Vec<ProtoLine>), CollectError> {
    let mut used = None;
    let mut protos = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let Some(head) = fields.next() else { continue };
        let protocol = head.strip_suffix(':').unwrap_or(head);
        let rest: Vec<&str> = fields.collect();
        if !rest.len().is_multiple_of(2) {
            return Err(CollectError::Failed(format!(
                "odd number of fields in sockstat line {line:?}"
            )));
        }
        if protocol == "sockets" {
            for kv in rest.chunks(2) {
                if kv[0] == "used" {
                    used = Some(super::parse_f64(kv[1], "sockstat")?);
                }
            }
            continue;
        }
        // procfs always fills `inuse` (0 when absent); the other fields only when present.
        let mut values = [Some(0.0), None, None, None, None, None];
        for kv in rest.chunks(2) {
            if let Some(i) = FIELDS.iter().position(|f| *f == kv[0]) {
                values[i] = Some(super::parse_f64(kv[1], "sockstat")?);
            }
        }
        protos.push(ProtoLine {
            protocol: protocol.to_string(),
            values,
        });
    }
    Ok((used, protos))
}

fn read(ctx: &Context, name: &str) -> Result<Option<String>, CollectError> {
    match procfile::read(&ctx.proc(name)) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CollectError::Failed(format!("failed to get {name}: {e}"))),
    }
}

pub(crate) fn collect(ctx: &Context, out: &mut Exposition) -> CollectResult {
    let v4 = read(ctx, "net/sockstat")?;
    let v6 = read(ctx, "net/sockstat6")?;
    let page = rustix::param::page_size() as f64;
    let mut name = String::with_capacity(48);
    let mut help = String::with_capacity(64);
    for (is_v6, text) in [(false, v4), (true, v6)] {
        let Some(text) = text else { continue };
        let (used, protos) = parse(&text)?;
        if !is_v6 && let Some(used) = used {
            out.single(
                "node_sockstat_sockets_used",
                "Number of IPv4 sockets in use.",
                Kind::Gauge,
                used,
            );
        }
        for p in protos {
            let mem_bytes = p.values[4].map(|m| m * page);
            let extra = [("mem_bytes", mem_bytes)];
            let pairs = FIELDS.iter().zip(p.values).map(|(f, v)| (*f, v));
            for (field, value) in pairs.chain(extra) {
                let Some(value) = value else { continue };
                name.clear();
                name.push_str("node_sockstat_");
                name.push_str(&p.protocol);
                name.push('_');
                name.push_str(field);
                help.clear();
                help.push_str("Number of ");
                help.push_str(&p.protocol);
                help.push_str(" sockets in state ");
                help.push_str(field);
                help.push('.');
                out.single(&name, &help, Kind::Gauge, value);
            }
        }
    }
    Ok(())
}
