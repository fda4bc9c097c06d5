//! The `netstat` collector: `/proc/net/netstat`, `/proc/net/snmp` and (if present) `/proc/net/snmp6` fields
//! matching the field regex, as untyped `node_netstat_<Protocol>_<Field>`. As node_exporter merges them by
//! protocol, a protocol in a later file replaces the same protocol of an earlier one.

use super::{CollectError, CollectResult, Context};
use crate::exposition::{Exposition, Kind};
use crate::procfile;

/// A protocol and its (field, value) pairs.
pub(crate) type ProtocolStats = (String, Vec<(String, f64)>);

/// Parses the header/value line pairs of `netstat` and `snmp`.
pub(crate) fn parse_pairs(text: &str, file: &str) -> Result<Vec<ProtocolStats>, CollectError> {
    let mut out: Vec<ProtocolStats> = Vec::new();
    let mut lines = text.lines();
    while let Some(names) = lines.next() {
        let values = lines.next().unwrap_or("");
        let names: Vec<&str> = names.split(' ').collect();
        let values: Vec<&str> = values.split(' ').collect();
        let protocol = names[0].strip_suffix(':').unwrap_or(names[0]).to_string();
        if names.len() != values.len() {
            return Err(CollectError::Failed(format!(
                "mismatch field count mismatch in {file}: {protocol}"
            )));
        }
        let mut fields = Vec::with_capacity(names.len());
        for (n, v) in names.iter().zip(&values).skip(1) {
            fields.push((n.to_string(), super::parse_f64(v, file)?));
        }
        out.retain(|(p, _)| *p != protocol);
        out.push((protocol, fields));
    }
    Ok(out)
}

/// Parses `snmp6`'s `Ip6InReceives 123` lines, splitting each name after its first `6`.
pub(crate) fn parse_snmp6(text: &str) -> Result<Vec<ProtocolStats>, CollectError> {
    let mut out: Vec<ProtocolStats> = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        if fields.len() < 2 {
            continue;
        }
        let Some(six) = fields[0].find('6') else {
            continue;
        };
        let (protocol, name) = fields[0].split_at(six + 1);
        let value = super::parse_f64(fields[1], "snmp6")?;
        match out.iter_mut().find(|(p, _)| p == protocol) {
            Some((_, stats)) => stats.push((name.to_string(), value)),
            None => out.push((protocol.to_string(), vec![(name.to_string(), value)])),
        }
    }
    Ok(out)
}

pub(crate) fn collect(ctx: &Context, out: &mut Exposition) -> CollectResult {
    let netstat = procfile::read(&ctx.proc("net/netstat"))
        .map_err(|e| CollectError::Failed(format!("couldn't get netstats: {e}")))?;
    let snmp = procfile::read(&ctx.proc("net/snmp"))
        .map_err(|e| CollectError::Failed(format!("couldn't get SNMP stats: {e}")))?;
    let snmp6 = match procfile::read(&ctx.proc("net/snmp6")) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(CollectError::Failed(format!(
                "couldn't get SNMP6 stats: {e}"
            )));
        }
    };
    let mut merged = parse_pairs(&netstat, "net/netstat")?;
    let mut later = parse_pairs(&snmp, "net/snmp")?;
    if let Some(t) = snmp6 {
        later.extend(parse_snmp6(&t)?);
    }
    for (protocol, stats) in later {
        merged.retain(|(p, _)| *p != protocol);
        merged.push((protocol, stats));
    }
    let mut name = String::with_capacity(64);
    let mut help = String::with_capacity(64);
    let mut key = String::with_capacity(48);
    for (protocol, stats) in &merged {
        for (field, value) in stats {
            key.clear();
            key.push_str(protocol);
            key.push('_');
            key.push_str(field);
            if !ctx.netstat_fields.is_match(&key) {
                continue;
            }
            name.clear();
            name.push_str("node_netstat_");
            name.push_str(&key);
            help.clear();
            help.push_str("Statistic ");
            help.push_str(protocol);
            help.push_str(field);
            help.push('.');
            out.single(&name, &help, Kind::Untyped, *value);
        }
    }
    Ok(())
}
