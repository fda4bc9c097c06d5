//! What Loki 3 adds to pushed streams: `service_name` (a stream label, from the first present of a list of
//! labels) and `detected_level` (structured metadata: from a level label or metadata, a `level` field of a JSON
//! or logfmt line, or a level word in the line), so Drilldown and the volume histogram work unchanged.

use lookout_storage::logs::{ColumnPush, PushStream};

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

/// The first level word (`ERROR`, `warn`, `Info`, …) in the text. Words are runs of ASCII letters (any other byte,
/// a multi-byte character's included, separates them); one pass over the bytes, and a word is compared with the
/// spellings only when its length and first letter could be one (most words of a line are neither).
fn level_word(head: &str) -> Option<&'static str> {
    let bytes = head.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let w = &bytes[start..i];
        if !(3..=8).contains(&w.len())
            || !matches!(
                w[0].to_ascii_lowercase(),
                b't' | b'd' | b'i' | b'w' | b'e' | b'c' | b'f'
            )
        {
            continue;
        }
        // Only whole-case spellings count, as in log prefixes: `ERROR`, `error`, `Error`.
        let rest = &w[1..];
        let cased = rest.iter().all(u8::is_ascii_lowercase)
            || (w[0].is_ascii_uppercase() && rest.iter().all(u8::is_ascii_uppercase));
        if !cased {
            continue;
        }
        if let Some((_, level)) = LEVEL_WORDS
            .iter()
            .find(|(spelling, _)| spelling.as_bytes().eq_ignore_ascii_case(w))
        {
            return Some(level);
        }
    }
    None
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

/// The level a stream's labels announce (`level`, `severity`, … normalised), which every entry takes.
fn level_from_labels(labels: &lookout_model::Labels) -> Option<&'static str> {
    // One pass over the (few) labels rather than a lookup per name: this runs for every pushed stream.
    labels
        .iter()
        .filter_map(|l| {
            let rank = LEVEL_NAMES.iter().position(|n| *n == &*l.name)?;
            Some((rank, normalize_level(&l.value)?))
        })
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, level)| level)
}

/// The `detected_level` of one entry, `None` when its metadata already has one: the stream's level label, else
/// a level in its metadata, else one found in the line.
fn entry_level<'a>(
    from_label: Option<&'static str>,
    mut metadata: impl Iterator<Item = (&'a str, &'a str)> + Clone,
    line: &str,
) -> Option<&'static str> {
    if metadata.clone().any(|(k, _)| k == "detected_level") {
        return None;
    }
    Some(
        from_label
            .or_else(|| {
                metadata
                    .find(|(k, _)| LEVEL_NAMES.contains(k))
                    .and_then(|(_, v)| normalize_level(v))
            })
            .unwrap_or_else(|| detect_level_in_line(line)),
    )
}

/// Adds `detected_level` metadata to every entry of streams that carry no `detected_level`.
pub fn add_detected_level(streams: &mut [PushStream]) {
    for s in streams {
        if s.labels.get("detected_level").is_some() {
            continue;
        }
        let from_label = level_from_labels(&s.labels);
        for e in &mut s.entries {
            let meta = e.metadata.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            if let Some(level) = entry_level(from_label, meta, &e.line) {
                e.metadata.push(("detected_level".into(), level.into()));
            }
        }
    }
}

/// [`add_detected_level`] for a push in columns: the level is one shared metadata pair per value, no strings per
/// entry.
pub fn add_detected_level_columns(push: &mut ColumnPush) {
    // Per entry, its stream's level label (`Some(None)`: the stream has none) or `None` when the stream carries
    // `detected_level` itself; streams are contiguous ranges, walked with the entries.
    let mut streams = push.streams.iter().map(|s| {
        let skip = s.labels.get("detected_level").is_some();
        (s.range.end, (!skip).then(|| level_from_labels(&s.labels)))
    });
    let mut current: Option<(usize, Option<Option<&'static str>>)> = None;
    push.entries
        .add_metadata_with("detected_level", |i, line, meta| {
            while current.is_none_or(|(end, _)| i >= end) {
                current = Some(streams.next()?);
            }
            let from_label = current?.1?;
            entry_level(from_label, meta.iter().copied(), line)
        });
}

/// Most bytes of keys and label sets a [`StreamLabelsCache`] holds by default before it starts over.
const LABELS_CACHE_BYTES: usize = 4 << 20;

/// What one remembered label set costs beyond its key and label bytes (map slot, string and `Arc` headers).
const LABELS_CACHE_ENTRY_OVERHEAD: usize = 96;

/// Stream label sets as a push spells them → the label set stored (validated, `service_name` derived),
/// remembered across pushes: shippers send the same few hundred streams in every body, and building a label set
/// costs a dozen allocations. Holds at most its capacity in keys and label sets (4 MiB by default; the server gives
/// it a sixteenth of the log store's memory share) and starts over when full (a push then builds its sets again;
/// nothing is refused).
#[derive(Debug)]
pub struct StreamLabelsCache {
    map: std::sync::Mutex<CachedLabels>,
    capacity: usize,
}

impl Default for StreamLabelsCache {
    fn default() -> Self {
        StreamLabelsCache::with_capacity_bytes(LABELS_CACHE_BYTES)
    }
}

#[derive(Debug, Default)]
struct CachedLabels {
    sets: rustc_hash::FxHashMap<String, lookout_model::Labels>,
    bytes: usize,
}

impl StreamLabelsCache {
    /// A cache holding at most `capacity` bytes.
    pub fn with_capacity_bytes(capacity: usize) -> Self {
        StreamLabelsCache {
            map: Default::default(),
            capacity,
        }
    }

    /// The label set for `key` (the decoder's spelling of the pushed labels): remembered, or made by `make` and
    /// remembered when it succeeds.
    pub fn get_or_make<E>(
        &self,
        key: &str,
        make: impl FnOnce() -> Result<lookout_model::Labels, E>,
    ) -> Result<lookout_model::Labels, E> {
        if let Some(l) = self.lock().sets.get(key) {
            return Ok(l.clone());
        }
        let labels = make()?;
        let cost = key.len()
            + labels
                .iter()
                .map(|l| l.name.len() + l.value.len())
                .sum::<usize>()
            + LABELS_CACHE_ENTRY_OVERHEAD;
        let mut cached = self.lock();
        if cached.bytes + cost > self.capacity {
            cached.sets.clear();
            cached.bytes = 0;
        }
        if cached.sets.insert(key.to_owned(), labels.clone()).is_none() {
            cached.bytes += cost;
        }
        Ok(labels)
    }

    /// The bytes remembered (keys, label sets and their overhead).
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CachedLabels> {
        // A panic elsewhere cannot leave the map half-updated (insert and clear are whole operations).
        self.map.lock().unwrap_or_else(|e| e.into_inner())
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

    #[test]
    fn columns_get_the_levels_entries_get() {
        use lookout_model::Labels;
        use lookout_storage::logs::Entry;
        let entry = |line: &str, meta: &[(&str, &str)]| Entry {
            ts: 1,
            line: line.into(),
            metadata: meta
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let entries = vec![
            entry("level=warn x", &[]),
            entry("plain", &[("severity", "ERR")]),
            entry("ERROR boom", &[("detected_level", "custom")]),
            entry("nothing", &[]),
        ];
        for labels in [
            Labels::from_pairs(&[("app", "a")]).unwrap(),
            Labels::from_pairs(&[("app", "a"), ("level", "debug")]).unwrap(),
            Labels::from_pairs(&[("app", "a"), ("detected_level", "x")]).unwrap(),
        ] {
            let mut pushed = vec![PushStream {
                labels: labels.clone(),
                entries: entries.clone(),
            }];
            // The same stream twice, and one with a level label after it, in one push.
            pushed.push(pushed[0].clone());
            pushed.push(PushStream {
                labels: Labels::from_pairs(&[("app", "b"), ("level", "warn")]).unwrap(),
                entries: entries.clone(),
            });
            let mut columns = ColumnPush::from_push_streams(&pushed);
            add_detected_level(&mut pushed);
            add_detected_level_columns(&mut columns);
            let back = columns.to_push_streams();
            for (b, p) in back.iter().zip(&pushed) {
                assert_eq!(b.entries, p.entries, "{labels}");
            }
        }
    }

    #[test]
    fn the_labels_cache_makes_a_set_once_and_never_remembers_a_failure() {
        use lookout_model::Labels;
        let cache = StreamLabelsCache::default();
        let mut made = 0;
        for _ in 0..3 {
            let l = cache
                .get_or_make("k", || {
                    made += 1;
                    Labels::from_pairs(&[("app", "a")]).map_err(|_| ())
                })
                .unwrap();
            assert_eq!(l.get("app"), Some("a"));
        }
        assert_eq!(made, 1);
        for _ in 0..2 {
            assert_eq!(
                cache.get_or_make("bad", || Err::<Labels, _>("nope")),
                Err("nope")
            );
        }
        let l = cache
            .get_or_make("bad", || Labels::from_pairs(&[("x", "1")]).map_err(|_| ()))
            .unwrap();
        assert_eq!(l.get("x"), Some("1"));
    }

    #[test]
    fn the_labels_cache_stays_within_its_bytes() {
        use lookout_model::Labels;
        let cache = StreamLabelsCache::default();
        let long = "v".repeat(10_000);
        let mut peak = 0;
        for i in 0..2_000 {
            let key = format!("k{i}");
            let l = cache
                .get_or_make(&key, || {
                    Labels::from_pairs(&[("app", long.as_str())]).map_err(|_| ())
                })
                .unwrap();
            assert_eq!(l.get("app").map(str::len), Some(10_000));
            peak = peak.max(cache.bytes());
        }
        assert!(peak <= LABELS_CACHE_BYTES, "{peak}");
        assert!(peak > LABELS_CACHE_BYTES / 2, "{peak}: it did fill");
    }

    /// The plain statement of [`level_word`]: words split on every non-letter character, compared in order.
    fn level_word_by_words(head: &str) -> Option<&'static str> {
        head.split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| (3..=8).contains(&w.len()))
            .find_map(|w| {
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

    #[test]
    fn the_byte_scan_finds_the_level_word_the_plain_statement_finds() {
        let parts = [
            "ERROR", "error", "Error", "eRRor", "WARNING", "Warn", "info", "INFO", "Info", "iNFO",
            "debug", "trace", "fatal", "critical", "err", "Err", "errors", "inform", "GET", "é",
            "ü", "✓", " ", "-", "[", "]", "1", "x", "w", "Mozilla", "warningx", "tracer", "_",
        ];
        // Every concatenation of up to three parts, so words meet at every kind of boundary.
        let mut seen = 0;
        for a in parts {
            for b in parts {
                for c in parts {
                    let text = format!("{a}{b}{c}");
                    assert_eq!(level_word(&text), level_word_by_words(&text), "{text:?}");
                    seen += 1;
                }
            }
        }
        assert_eq!(seen, parts.len().pow(3));
    }

    #[test]
    fn a_level_label_of_higher_rank_wins_wherever_it_sorts() {
        use lookout_model::Labels;
        let l = Labels::from_pairs(&[("severity", "error"), ("level", "warn"), ("lvl", "debug")]);
        assert_eq!(level_from_labels(&l.unwrap()), Some("warn"));
        let l = Labels::from_pairs(&[("severity", "error"), ("level", "nonsense")]).unwrap();
        assert_eq!(level_from_labels(&l), Some("error"));
        let l = Labels::from_pairs(&[("app", "x")]).unwrap();
        assert_eq!(level_from_labels(&l), None);
    }
}
