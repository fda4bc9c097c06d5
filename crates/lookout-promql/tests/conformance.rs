//! PromQL conformance: runs Prometheus's own PromQL test files (`promql/promqltest/testdata/*.test` of
//! Prometheus v3.14.0) against `lookout_promql::Engine` over `MemStorage`.
//!
//! Data: `LOOKOUT_PROMQL_TESTDATA`, default `../shared/conformance/promql/testdata` from the workspace root; when
//! absent the test prints how to get the files and passes. Known failures are listed in
//! `tests/expected_failures.txt`; any other failure, and any listed case that now passes, fails the test.
//! `LOOKOUT_PROMQL_UPDATE_EXPECTED=1` rewrites that list from the current results instead.
//! `LOOKOUT_PROMQL_ONLY=<part of a file name>` runs only matching files (the list's other entries are left alone).
//!
//! What runs per case, as upstream's runner does: a range eval as given. An instant eval as given, then (unless
//! the expectation is a string or a range vector, or the query uses `start()`/`end()`/`range()`/`step()`) once
//! more as a range query over [t-1m, t+1m] step 1m whose middle step must give the same answer (not compared
//! for ordered results); then upstream's `@`-modifier variants (selectors pinned with `@ t`, evaluated at other
//! times, see `at_modifier.rs`), each with the same range-mode check. Engine settings are upstream's test
//! engine's: 5 m lookback, 1 m default subquery step, at most 10,000 samples per query. Every query has a 10 s
//! deadline; a watchdog ends the process if a case runs far past that.

#[path = "conformance/at_modifier.rs"]
mod at_modifier;
#[path = "conformance/compare.rs"]
mod compare;
#[path = "conformance/duration.rs"]
mod duration;
#[path = "conformance/exec.rs"]
mod exec;
#[path = "conformance/expected.rs"]
mod expected;
#[cfg(test)]
#[path = "conformance/mutation.rs"]
mod mutation;
#[path = "conformance/report.rs"]
mod report;
#[cfg(test)]
#[path = "conformance/runner_tests.rs"]
mod runner_tests;
#[path = "conformance/script.rs"]
mod script;
#[path = "conformance/series.rs"]
mod series;
#[path = "conformance/watchdog.rs"]
mod watchdog;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::exec::{CaseResult, EngineBackend, run_commands};
use crate::expected::{parse_expected, regenerate, render_expected};
use crate::script::parse_script;

/// A case may run several queries, each with its own deadline; past this the watchdog ends the process.
const CASE_LIMIT: Duration = Duration::from_secs(45);

fn testdata_dir() -> PathBuf {
    match std::env::var_os("LOOKOUT_PROMQL_TESTDATA") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/conformance/promql/testdata"),
    }
}

fn expected_failures_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expected_failures.txt")
}

fn print_missing_data(dir: &Path) {
    eprintln!(
        "\n==================== PromQL CONFORMANCE SKIPPED ====================\n\
         No test files at {}.\n\
         They are Prometheus v3.14.0's promql/promqltest/testdata/*.test. To run the suite:\n  \
         git clone --depth 1 --branch v3.14.0 https://github.com/prometheus/prometheus /tmp/prometheus\n  \
         LOOKOUT_PROMQL_TESTDATA=/tmp/prometheus/promql/promqltest/testdata \\\n    \
         cargo test -p lookout-promql --test conformance -- --nocapture\n\
         ====================================================================\n",
        dir.display()
    );
}

fn list_test_files(dir: &Path) -> Vec<PathBuf> {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    files
}

#[test]
fn promql_conformance() {
    let dir = testdata_dir();
    if !dir.is_dir() {
        print_missing_data(&dir);
        return;
    }
    let update = std::env::var("LOOKOUT_PROMQL_UPDATE_EXPECTED").is_ok_and(|v| v == "1");
    let started = Instant::now();
    let watchdog = watchdog::Watchdog::start(CASE_LIMIT, Duration::from_secs(3600));
    let backend = EngineBackend::upstream_test_settings();
    let mut hard_errors = Vec::new();
    let mut results: Vec<(String, Vec<CaseResult>)> = Vec::new();
    let only = std::env::var("LOOKOUT_PROMQL_ONLY").ok();
    for path in list_test_files(&dir) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if only.as_ref().is_some_and(|o| !name.contains(o.as_str())) {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let commands = match parse_script(&text) {
            Ok(c) => c,
            Err(e) => {
                hard_errors.push(format!("{name}: the runner cannot parse the file: {e}"));
                continue;
            }
        };
        watchdog::set_file(&name);
        let (cases, load_errors) = run_commands(&commands, &backend);
        hard_errors.extend(
            load_errors
                .iter()
                .map(|e| format!("{name}:{} load failed: {}", e.line, e.message)),
        );
        results.push((name, cases));
    }
    drop(watchdog);
    let elapsed = started.elapsed();

    let list_path = expected_failures_path();
    let listed = match std::fs::read_to_string(&list_path) {
        Ok(text) => {
            parse_expected(&text).unwrap_or_else(|e| panic!("{}: {e}", list_path.display()))
        }
        Err(_) => Default::default(),
    };
    let diff = report::diff(&listed, &results, only.is_none());
    report::print_summary(&listed, &results, elapsed);
    if update {
        let new = regenerate(&listed, &results);
        std::fs::write(&list_path, render_expected(&new))
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", list_path.display()));
        eprintln!(
            "rewrote {} with {} expected failures",
            list_path.display(),
            new.len()
        );
    } else {
        report::print_diff(&diff);
    }
    for e in &hard_errors {
        eprintln!("RUNNER ERROR: {e}");
    }
    assert!(
        hard_errors.is_empty(),
        "{} file(s) could not be parsed or loaded (see above)",
        hard_errors.len()
    );
    if !update {
        assert!(
            diff.is_empty(),
            "conformance differs from tests/expected_failures.txt: {} unexpected failures, {} listed cases now \
             pass, {} stale entries (see above; regenerate with LOOKOUT_PROMQL_UPDATE_EXPECTED=1 once intended)",
            diff.unexpected_failures.len(),
            diff.now_passing.len(),
            diff.stale_entries.len()
        );
    }
}
