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

/// Maps a level spelling to Loki's vocabulary (`None` when it is not a level).
pub fn normalize_level(v: &str) -> Option<&'static str> {
    let v = v.trim().trim_matches('"');
    let lower = v.to_ascii_lowercase();
    Some(match lower.as_str() {
        "trace" | "trc" | "trce" => "trace",
        "debug" | "dbg" | "debu" | "dbug" => "debug",
        "info" | "inf" | "information" | "informational" | "notice" => "info",
        "warn" | "warning" | "wrn" => "warn",
        "error" | "err" | "eror" | "erro" => "error",
        "critical" | "crit" | "alert" => "critical",
        "fatal" | "panic" | "emerg" | "emergency" | "ftl" => "fatal",
        _ => return None,
    })
}

/// A `level`-like key followed by `:` or `=` (JSON or logfmt), and the word after it.
fn level_field(head: &str) -> Option<&'static str> {
    for key in [
        "level", "lvl", "severity", "Level", "LEVEL", "Severity", "SEVERITY",
    ] {
        let mut from = 0;
        while let Some(at) = head[from..].find(key) {
            let start = from + at;
            from = start + key.len();
            // The key must start a word (`"level"`, ` level=`, `{level:`), not end one (`loglevel` is fine too).
            let rest = head[from..].trim_start_matches('"').trim_start();
            let Some(rest) = rest.strip_prefix([':', '=']) else {
                continue;
            };
            let rest = rest.trim_start().trim_start_matches('"');
            let end = rest
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(rest.len());
            if let Some(l) = normalize_level(&rest[..end]) {
                return Some(l);
            }
        }
    }
    None
}

/// The first level word (`ERROR`, `warn`, `Info`, …) in the text.
fn level_word(head: &str) -> Option<&'static str> {
    head.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| (3..=8).contains(&w.len()))
        .find_map(|w| {
            // Only whole-case spellings count, as in log prefixes: `ERROR`, `error`, `Error`.
            let first_upper = w.starts_with(|c: char| c.is_ascii_uppercase());
            let rest = &w[1..];
            let cased = rest.chars().all(|c| c.is_ascii_lowercase())
                || (first_upper && rest.chars().all(|c| c.is_ascii_uppercase()));
            if !cased {
                return None;
            }
            match w.to_ascii_lowercase().as_str() {
                "trace" => Some("trace"),
                "debug" => Some("debug"),
                "info" => Some("info"),
                "warn" | "warning" => Some("warn"),
                "error" | "err" => Some("error"),
                "critical" => Some("critical"),
                "fatal" => Some("fatal"),
                _ => None,
            }
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
        let mut p = vec![("app".to_string(), "x".to_string())];
        add_service_name(&mut p);
        assert_eq!(p[1], ("service_name".into(), "x".into()));
    }
}
