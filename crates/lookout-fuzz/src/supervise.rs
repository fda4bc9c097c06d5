//! Runs a fuzz test in a child process (the test binary itself, filtered to that one test), so that a crash no
//! `catch_unwind` survives — a stack overflow, an abort — fails the test with the input that caused it: the
//! parent re-runs the child with every input traced to a file (the run is deterministic) and reports the last.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use crate::runner::TRACE_DIR_ENV;

/// Set in the child to the name of the test it runs.
const CHILD_ENV: &str = "LOOKOUT_FUZZ_CHILD";

/// Runs `body` in a child process when called from the test named `test_name` (its full libtest path), or runs
/// it directly when this process is that child. Lines the child prints starting with `lookout-fuzz:` (the
/// reports) are copied to this process's stderr, past libtest's capture, so CI logs show the counts.
pub fn supervised(test_name: &str, body: impl FnOnce()) {
    if std::env::var(CHILD_ENV).as_deref() == Ok(test_name) {
        body();
        return;
    }
    let out = run_child(test_name, None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut err = std::io::stderr().lock();
    for line in stdout.lines().chain(stderr.lines()) {
        if let Some(at) = line.find("lookout-fuzz:") {
            let _ = writeln!(err, "{}", &line[at..]);
        }
    }
    drop(err);
    if out.status.success() {
        assert!(
            stdout.contains("1 passed"),
            "the child process ran no test named {test_name}:\n{stdout}"
        );
        return;
    }
    if out.status.code().is_some() {
        panic!(
            "{test_name} failed in its child process ({}):\n{}\n{}",
            out.status,
            tail(&stdout),
            tail(&stderr)
        );
    }
    // Killed by a signal: find the input by running again with every input written to a file first.
    let dir = std::env::temp_dir().join(format!("lookout-fuzz-trace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the trace directory");
    let again = run_child(test_name, Some(&dir));
    let mut inputs = String::new();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap_or_default();
        inputs.push_str(&format!(
            "\n  last input of {} ({} bytes, kept at {}): b\"{}\"",
            entry.file_name().to_string_lossy(),
            bytes.len(),
            entry.path().display(),
            bytes[..bytes.len().min(4096)].escape_ascii()
        ));
    }
    panic!(
        "{test_name}: the child process died ({}); the traced re-run died too ({}):\n{}{inputs}",
        out.status,
        again.status,
        tail(&stderr),
    );
}

fn run_child(test_name: &str, trace_dir: Option<&Path>) -> Output {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut cmd = Command::new(exe);
    cmd.args([
        test_name,
        "--exact",
        "--include-ignored",
        "--nocapture",
        "--test-threads",
        "1",
    ])
    .env(CHILD_ENV, test_name);
    if let Some(dir) = trace_dir {
        cmd.env(TRACE_DIR_ENV, dir);
    }
    cmd.output()
        .expect("run the test binary as a child process")
}

/// A child's output, cut to its last 400 lines.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(400)..].join("\n")
}
