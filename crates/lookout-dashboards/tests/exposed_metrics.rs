//! `lookout.json` uses only self-metrics Lookout really exposes: every `lookout_*` / `prometheus_*` name in its
//! queries must occur as a string literal (`"name"`) in the sources of the other crates (`crates/*/src`, test
//! files left out), or be one of the few names built from parts, listed below with the evidence that builds them.
//! The list is checked both ways: an entry that is not needed any more, or whose evidence is gone, fails too.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use lookout_dashboards::check::{self, Language};

/// Why the `lookout_tsdb_*` names are not literals: the tsdb renders its counters and gauges from the fields of
/// the `tsdb_metrics!` macro (and six WAL rows) as `format!("lookout_tsdb_{name}{suffix}")`, adding `_total` to a
/// counter whose name lacks it.
const TSDB_FILE: &str = "crates/lookout-tsdb/src/metrics.rs";
const TSDB_PREFIX: &str = "format!(\"lookout_tsdb_{name}{suffix}\")";

/// `(metric name, the field or row that produces it in TSDB_FILE)`.
const BUILT_NAMES: &[(&str, &str)] = &[
    ("lookout_tsdb_head_series", "head_series: \"gauge\""),
    ("lookout_tsdb_head_chunks", "head_chunks: \"gauge\""),
    (
        "lookout_tsdb_samples_appended_total",
        "samples_appended: \"counter\"",
    ),
    (
        "lookout_tsdb_series_created_total",
        "series_created: \"counter\"",
    ),
    (
        "lookout_tsdb_out_of_order_rejected_total",
        "out_of_order_rejected: \"counter\"",
    ),
    (
        "lookout_tsdb_out_of_bounds_rejected_total",
        "out_of_bounds_rejected: \"counter\"",
    ),
    (
        "lookout_tsdb_duplicate_rejected_total",
        "duplicate_rejected: \"counter\"",
    ),
    (
        "lookout_tsdb_series_limit_rejected_total",
        "series_limit_rejected: \"counter\"",
    ),
    (
        "lookout_tsdb_memory_limit_rejected_total",
        "memory_limit_rejected: \"counter\"",
    ),
    (
        "lookout_tsdb_persisted_samples_total",
        "persisted_samples: \"counter\"",
    ),
    (
        "lookout_tsdb_persisted_data_bytes",
        "persisted_data_bytes: \"gauge\"",
    ),
    ("lookout_tsdb_sled_size_bytes", "sled_size_bytes: \"gauge\""),
    (
        "lookout_tsdb_retention_deleted_samples_total",
        "retention_deleted_samples: \"counter\"",
    ),
    (
        "lookout_tsdb_wal_size_bytes",
        "\"wal_size_bytes\", \"gauge\"",
    ),
    ("lookout_tsdb_wal_segments", "\"wal_segments\", \"gauge\""),
    (
        "lookout_tsdb_wal_bytes_written_total",
        "\"wal_bytes_written_total\", \"counter\"",
    ),
    (
        "lookout_tsdb_wal_fsyncs_total",
        "\"wal_fsyncs_total\", \"counter\"",
    ),
    (
        "lookout_tsdb_wal_fsync_seconds_sum",
        "\"wal_fsync_seconds_sum\", \"counter\"",
    ),
    (
        "lookout_tsdb_wal_fsync_seconds_max",
        "\"wal_fsync_seconds_max\", \"gauge\"",
    ),
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Appends the text of every `.rs` file under `dir`, test files and folders left out.
fn read_sources(dir: &Path, out: &mut String) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("listing sources").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if path.is_dir() {
            if name != "tests" {
                read_sources(&path, out);
            }
        } else if name.ends_with(".rs") && name != "tests.rs" {
            out.push_str(&std::fs::read_to_string(&path).expect("source is UTF-8"));
            out.push('\n');
        }
    }
}

/// The sources of every crate but this one.
fn sources() -> String {
    let mut text = String::new();
    let crates = repo().join("crates");
    let mut dirs: Vec<_> = std::fs::read_dir(&crates)
        .expect("crates/")
        .map(|e| e.expect("listing crates/").path())
        .filter(|p| p.file_name().is_some_and(|n| n != "lookout-dashboards"))
        .collect();
    dirs.sort();
    for dir in dirs {
        let src = dir.join("src");
        if src.is_dir() {
            read_sources(&src, &mut text);
        }
    }
    text
}

fn used_names() -> BTreeSet<String> {
    let (file, json) = lookout_dashboards::files()
        .iter()
        .find(|(f, _)| *f == "lookout.json")
        .expect("lookout.json is shipped");
    let report = check::check_dashboard(file, json, &support::parsers());
    report
        .queries
        .iter()
        .filter(|q| q.language == Language::PromQl)
        .flat_map(|q| check::metric_names(&q.expanded, &["lookout_", "prometheus_"]))
        .collect()
}

#[test]
fn lookout_json_uses_only_exposed_self_metrics() {
    let used = used_names();
    assert!(
        used.len() >= 40,
        "only {} self-metric names found: {used:?}",
        used.len()
    );
    let sources = sources();
    let built: BTreeSet<&str> = BUILT_NAMES.iter().map(|(n, _)| *n).collect();
    let mut wrong = Vec::new();
    for name in &used {
        let literal = sources.contains(&format!("\"{name}\""));
        match (literal, built.contains(name.as_str())) {
            (true, true) => wrong.push(format!("{name}: a literal now, drop it from BUILT_NAMES")),
            (false, false) => wrong.push(format!(
                "{name}: not exposed by Lookout (no \"{name}\" in crates/*/src)"
            )),
            _ => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_built_name_is_used_and_still_built() {
    let used = used_names();
    let tsdb = std::fs::read_to_string(repo().join(TSDB_FILE)).expect("tsdb metrics source");
    assert!(
        tsdb.contains(TSDB_PREFIX),
        "{TSDB_FILE} no longer builds names with {TSDB_PREFIX}"
    );
    for (name, evidence) in BUILT_NAMES {
        assert!(
            used.contains(*name),
            "{name} is listed but lookout.json does not use it"
        );
        assert!(
            tsdb.contains(evidence),
            "{name}: {evidence:?} is gone from {TSDB_FILE}"
        );
    }
}
