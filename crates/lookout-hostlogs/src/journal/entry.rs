//! One `journalctl -o json` line to an entry.
//!
//! journalctl writes a field as a string; as an array of numbers when its value is not printable UTF-8 (binary);
//! as an array of those when the entry has the field several times; as `null` when it was too large to show.
//! The line is `MESSAGE` (binary messages decoded as lossy UTF-8, repeated ones joined with newlines), the
//! timestamp `__REALTIME_TIMESTAMP` (µs). Labels: `unit` (`_SYSTEMD_UNIT`), `priority` (`PRIORITY`), `level`
//! (Promtail/Alloy's `__journal_priority_keyword`: emerg, alert, crit, error, warning, notice, info, debug),
//! `hostname` (`_HOSTNAME`), `syslog_identifier` (`SYSLOG_IDENTIFIER`), `job` and the configured ones. Every
//! other field goes to structured metadata under its lowercased name (Promtail's `__journal_<name>` without the
//! prefix), except address fields (`__*`), binary values and values above `max_field_size`.

use lookout_model::Labels;
use lookout_storage::logs::Entry;
use serde_json::Value;

use crate::labels::StaticLabels;
use crate::syslog::message::level_name;

/// Fields that become labels: (journal field, label).
const LABEL_FIELDS: [(&str, &str); 4] = [
    ("_SYSTEMD_UNIT", "unit"),
    ("PRIORITY", "priority"),
    ("_HOSTNAME", "hostname"),
    ("SYSLOG_IDENTIFIER", "syslog_identifier"),
];

/// A parsed journal entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JournalEntry {
    /// The stream's labels.
    pub labels: Labels,
    /// The entry (its line may be empty when the journal entry had no MESSAGE).
    pub entry: Entry,
    /// `__CURSOR`.
    pub cursor: Option<String>,
}

/// A field's values as text; `binary` when some value was not valid UTF-8.
struct Text {
    values: Vec<String>,
    binary: bool,
}

fn text(v: &Value) -> Option<Text> {
    let mut t = Text {
        values: Vec::new(),
        binary: false,
    };
    let one = |v: &Value, t: &mut Text| -> bool {
        match v {
            Value::String(s) => t.values.push(s.clone()),
            Value::Number(n) => t.values.push(n.to_string()),
            Value::Array(a) if a.iter().all(Value::is_u64) => {
                let bytes: Vec<u8> = a
                    .iter()
                    .filter_map(Value::as_u64)
                    .map(|b| b as u8)
                    .collect();
                match String::from_utf8(bytes) {
                    Ok(s) => t.values.push(s),
                    Err(e) => {
                        t.binary = true;
                        t.values
                            .push(String::from_utf8_lossy(e.as_bytes()).into_owned());
                    }
                }
            }
            _ => return false,
        }
        true
    };
    match v {
        Value::Array(a) if !a.is_empty() && !a.iter().all(Value::is_u64) => {
            for x in a {
                one(x, &mut t);
            }
        }
        other => {
            one(other, &mut t);
        }
    }
    (!t.values.is_empty()).then_some(t)
}

/// Parses one line; `Err` for a line that is not a JSON object.
pub(crate) fn parse(
    line: &[u8],
    labels: &StaticLabels,
    max_field: usize,
    now_ns: i64,
) -> Result<JournalEntry, String> {
    let Value::Object(fields) =
        serde_json::from_slice::<Value>(line).map_err(|e| format!("bad journal JSON: {e}"))?
    else {
        return Err("journal line is not a JSON object".into());
    };
    let mut b = labels.builder();
    for (field, label) in LABEL_FIELDS {
        if let Some(t) = fields.get(field).and_then(text) {
            b.set(label, &t.values[0]);
            if field == "PRIORITY"
                && let Ok(p) = t.values[0].parse::<u8>()
                && p < 8
            {
                b.set("level", level_name(p));
            }
        }
    }
    let line_text = fields
        .get("MESSAGE")
        .and_then(text)
        .map(|t| t.values.join("\n"))
        .unwrap_or_default();
    let ts = fields
        .get("__REALTIME_TIMESTAMP")
        .and_then(text)
        .and_then(|t| t.values[0].parse::<i64>().ok())
        .map_or(now_ns, |us| us.saturating_mul(1000));
    let cursor = fields
        .get("__CURSOR")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut metadata = Vec::new();
    for (k, v) in &fields {
        if k == "MESSAGE" || k.starts_with("__") || LABEL_FIELDS.iter().any(|(f, _)| f == k) {
            continue;
        }
        let Some(t) = text(v) else { continue };
        let value = t.values.join("\n");
        if t.binary || value.len() > max_field {
            continue;
        }
        metadata.push((k.to_ascii_lowercase(), value));
    }
    // journalctl's field order is not stable; sorted metadata keeps equal entries equal.
    metadata.sort();
    Ok(JournalEntry {
        labels: b.build_unchecked(),
        entry: Entry {
            ts,
            line: line_text,
            metadata,
        },
        cursor,
    })
}
