//! What Loki 3 adds to pushed streams: `service_name` (a stream label, from the first present of a list of
//! labels) and `detected_level` (structured metadata: from a level label or metadata, a `level` field of a JSON
//! or logfmt line, or a level word in the line), so Drilldown and the volume histogram work unchanged.

use lookout_storage::logs::PushStream;

/// Labels Loki takes `service_name` from, in order, when a stream has none.
pub const SERVICE_NAME_SOURCES: [&str; 13] = [
    "service",
    "app",
    "application",
    "app_name",
    "name",
    "app_kubernetes_io_name",
    "container",
    "container_name",
    "k8s_container_name",
    "component",
    "workload",
    "job",
    "k8s_job_name",
];

/// Adds `service_name` to a stream's label pairs when missing (`unknown_service` when nothing names it).
pub fn add_service_name(pairs: &mut Vec<(String, String)>) {
    if pairs.iter().any(|(n, _)| n == "service_name") {
        return;
    }
    let from = SERVICE_NAME_SOURCES
        .iter()
        .find_map(|src| pairs.iter().find(|(n, v)| n == src && !v.is_empty()))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "unknown_service".into());
    pairs.push(("service_name".into(), from));
}

const LEVEL_NAMES: [&str; 10] = [
    "level",
    "LEVEL",
    "Level",
    "lvl",
    "LVL",
    "Lvl",
    "severity",
    "SEVERITY",
    "Severity",
    "severity_text",
];

/// Loki's level vocabulary and the spellings that map to it (compared ignoring ASCII case).
const LEVEL_SPELLINGS: [(&str, &[&str]); 7] = [
    ("trace", &["trace", "trc", "trce"]),
    ("debug", &["debug", "dbg", "debu", "dbug"]),
    (
        "info",
        &["info", "inf", "information", "informational", "notice"],
    ),
    ("warn", &["warn", "warning", "wrn"]),
    ("error", &["error", "err", "eror", "erro"]),
    ("critical", &["critical", "crit", "alert"]),
    ("fatal", &["fatal", "panic", "emerg", "emergency", "ftl"]),
];

/// Maps a level spelling to Loki's vocabulary (`None` when it is not a level).
pub fn normalize_level(v: &str) -> Option<&'static str> {
    let v = v.trim().trim_matches('"');
    LEVEL_SPELLINGS
        .iter()
        .find(|(_, spellings)| spellings.iter().any(|s| s.eq_ignore_ascii_case(v)))
        .map(|(level, _)| *level)
}

/// Keys of a level field, in priority order.
const LEVEL_KEYS: [&str; 7] = [
    "level", "lvl", "severity", "Level", "LEVEL", "Severity", "SEVERITY",
];

/// The level a key occurrence ending at `from` announces: `:` or `=` (after an optional quote), then the word.
fn level_after_key(head: &str, from: usize) -> Option<&'static str> {
    let rest = head[from..].trim_start_matches('"').trim_start();
    let rest = rest.strip_prefix([':', '='])?;
    let rest = rest.trim_start().trim_start_matches('"');
    let end = rest
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(rest.len());
    normalize_level(&rest[..end])
}

/// A `level`-like key followed by `:` or `=` (JSON or logfmt), and the word after it: the first key of
/// [`LEVEL_KEYS`] with such an occurrence wins, its first one. One pass over the bytes (this runs for every pushed
/// line), allocation-free.
fn level_field(head: &str) -> Option<&'static str> {
    let bytes = head.as_bytes();
    let mut best: Option<(usize, &'static str)> = None;
    for (i, &b) in bytes.iter().enumerate() {
        // Every key starts with l/L/s/S followed by v/e/E: most bytes are rejected by two comparisons.
        if !matches!(b, b'l' | b'L' | b's' | b'S')
            || !matches!(bytes.get(i + 1), Some(b'e' | b'v' | b'E'))
        {
            continue;
        }
        for (k, key) in LEVEL_KEYS.iter().enumerate() {
            if best.is_some_and(|(bk, _)| bk <= k) {
                break;
            }
            if bytes[i..].starts_with(key.as_bytes())
                && let Some(level) = level_after_key(head, i + key.len())
            {
                best = Some((k, level));
                break;
            }
        }
        if best.is_some_and(|(k, _)| k == 0) {
            break;
        }
    }
    best.map(|(_, level)| level)
}

/// Level words as log prefixes spell them.
const LEVEL_WORDS: [(&str, &str); 9] = [
    ("trace", "trace"),
    ("debug", "debug"),
    ("info", "info"),
    ("warn", "warn"),
    ("warning", "warn"),
    ("error", "error"),
    ("err", "error"),
    ("critical", "critical"),
    ("fatal", "fatal"),
];

/// The first level word (`ERROR`, `warn`, `Info`, …) in the text.
fn level_word(head: &str) -> Option<&'static str> {
    head.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| (3..=8).contains(&w.len()))
        .find_map(|w| {
            // Only whole-case spellings count, as in log prefixes: `ERROR`, `error`, `Error`.
            let first_upper = w.starts_with(|c: char| c.is_ascii_uppercase());
            let rest = &w.as_bytes()[1..];
            let cased = rest.iter().all(u8::is_ascii_lowercase)
                || (first_upper && rest.iter().all(u8::is_ascii_uppercase));
            if !cased {
                return None;
            }
            LEVEL_WORDS
                .iter()
                .find(|(spelling, _)| spelling.eq_ignore_ascii_case(w))
                .map(|(_, level)| *level)
        })
}

/// The level of one line: a `level` field (JSON or logfmt) first, then a level word, else `unknown`.
pub fn detect_level_in_line(line: &str) -> &'static str {
    // Only the head of a long line is searched: levels sit near the start and ingestion must stay cheap.
    let mut end = line.len().min(1024);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    let head = &line[..end];
    level_field(head)
        .or_else(|| level_word(head))
        .unwrap_or("unknown")
}

/// Adds `detected_level` metadata to every entry of streams that carry no `detected_level`.
pub fn add_detected_level(streams: &mut [PushStream]) {
    for s in streams {
        if s.labels.get("detected_level").is_some() {
            continue;
        }
        let from_label = LEVEL_NAMES
            .iter()
            .find_map(|n| s.labels.get(n).and_then(normalize_level));
        for e in &mut s.entries {
            if e.metadata.iter().any(|(k, _)| k == "detected_level") {
                continue;
            }
            let level = from_label
                .or_else(|| {
                    e.metadata
                        .iter()
                        .find(|(k, _)| LEVEL_NAMES.contains(&k.as_str()))
                        .and_then(|(_, v)| normalize_level(v))
                })
                .unwrap_or_else(|| detect_level_in_line(&e.line));
            e.metadata.push(("detected_level".into(), level.into()));
        }
    }
}

/// Both derivations for streams that did not come through the push API's label parsing (host log sources):
/// `service_name` on the labels of streams without one, then `detected_level`.
pub fn add_derived_fields(streams: &mut [PushStream]) {
    for s in streams.iter_mut() {
        if s.labels.get("service_name").is_some() {
            continue;
        }
        let mut pairs: Vec<(String, String)> = s
            .labels
            .iter()
            .map(|l| (l.name.to_string(), l.value.to_string()))
            .collect();
        add_service_name(&mut pairs);
        if let Ok(labels) = lookout_model::Labels::from_pairs(&pairs) {
            s.labels = labels;
        }
    }
    add_detected_level(streams);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert_eq!(
            detect_level_in_line(r#"{"level":"WARNING","msg":"x"}"#),
            "warn"
        );
        assert_eq!(detect_level_in_line("ts=1 lvl=err msg=boom"), "error");
        assert_eq!(detect_level_in_line("2024 [ERROR] disk full"), "error");
        assert_eq!(detect_level_in_line("nothing here"), "unknown");
        // The first key in priority order wins, wherever it stands; a key without a level is skipped.
        assert_eq!(
            detect_level_in_line("severity=warn lvl=debug level=oops level=Error"),
            "error"
        );
        assert_eq!(detect_level_in_line("Severity=warn lvl=debug"), "debug");
        assert_eq!(detect_level_in_line("GET / 200 \"Mozilla\" FATAL"), "fatal");
        assert_eq!(detect_level_in_line("mixed eRRor Warning"), "warn");
        assert_eq!(normalize_level(" \"INFORMATIONAL\" "), Some("info"));
        assert_eq!(normalize_level("nope"), None);
        let mut p = vec![("app".to_string(), "x".to_string())];
        add_service_name(&mut p);
        assert_eq!(p[1], ("service_name".into(), "x".into()));
    }
}
