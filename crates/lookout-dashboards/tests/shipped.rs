//! Every shipped dashboard passes the checker, with its queries parsed by Lookout's own parsers.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use lookout_dashboards::check::{self, Language};

/// The repository's `dashboards/` folder, read now (not through the embedding) so no file can be left out.
fn folder_files() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dashboards");
    std::fs::read_dir(&dir)
        .expect("dashboards/ exists")
        .map(|e| {
            e.expect("listing dashboards/")
                .file_name()
                .into_string()
                .expect("UTF-8 name")
        })
        .filter(|n| n.ends_with(".json"))
        .collect()
}

#[test]
fn every_file_of_the_folder_is_embedded() {
    let embedded: BTreeSet<String> = lookout_dashboards::files()
        .iter()
        .map(|(f, _)| f.to_string())
        .collect();
    assert_eq!(embedded, folder_files());
    let expected = [
        "host.json",
        "kubernetes.json",
        "logs.json",
        "lookout.json",
        "proxmox.json",
    ];
    for f in expected {
        assert!(embedded.contains(f), "{f} is missing");
    }
}

#[test]
fn every_shipped_dashboard_passes_the_check() {
    let report = check::check_all(lookout_dashboards::files(), &support::parsers());
    let problems: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // Every file contributed queries (so none passed by being skipped), and both languages were exercised.
    for (file, _) in lookout_dashboards::files() {
        let n = report.queries.iter().filter(|q| q.file == *file).count();
        assert!(n >= 10, "{file}: only {n} queries were checked");
    }
    for language in [Language::PromQl, Language::LogQl] {
        assert!(
            report.queries.iter().any(|q| q.language == language),
            "no {language:?} query checked"
        );
    }
}

#[test]
fn log_panels_query_loki_and_the_rest_query_prometheus() {
    let report = check::check_all(lookout_dashboards::files(), &support::parsers());
    let loki_files: BTreeSet<&str> = report
        .queries
        .iter()
        .filter(|q| q.language == Language::LogQl)
        .map(|q| q.file.as_str())
        .collect();
    assert_eq!(loki_files, BTreeSet::from(["logs.json"]));
}
