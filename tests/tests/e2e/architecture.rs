//! Architecture invariant: internal crates depend only on the edges ARCHITECTURE.md allows (checked with
//! `cargo metadata`, so a new edge fails here before it spreads).

use std::collections::BTreeMap;
use std::process::Command;

/// crate → the internal crates it may depend on (normal and dev dependencies alike).
const ALLOWED: &[(&str, &[&str])] = &[
    ("lookout-model", &[]),
    ("lookout-template", &[]),
    ("lookout-storage", &["lookout-model"]),
    ("lookout-wire", &["lookout-model"]),
    ("lookout-discovery", &["lookout-model"]),
    ("lookout-http-tls", &["lookout-model"]),
    ("lookout-notify", &["lookout-model", "lookout-http-tls"]),
    ("lookout-host", &["lookout-model", "lookout-wire"]),
    ("lookout-proxmox", &["lookout-model", "lookout-http-tls"]),
    ("lookout-ui", &[]),
    ("lookout-auth", &["lookout-model"]),
    // The checker takes the parsers as closures; only its tests name the PromQL and LogQL crates.
    ("lookout-dashboards", &["lookout-promql", "lookout-logql"]),
    ("lookout-hostlogs", &["lookout-model", "lookout-storage"]),
    (
        "lookout-forward",
        &[
            "lookout-model",
            "lookout-storage",
            "lookout-wire",
            "lookout-http-tls",
        ],
    ),
    (
        "lookout-rules",
        &[
            "lookout-model",
            "lookout-storage",
            "lookout-promql",
            "lookout-template",
        ],
    ),
    ("lookout-logs", &["lookout-model", "lookout-storage"]),
    (
        "lookout-logql",
        &[
            "lookout-model",
            "lookout-storage",
            "lookout-promql",
            "lookout-template",
        ],
    ),
    ("lookout-tsdb", &["lookout-model", "lookout-storage"]),
    ("lookout-promql", &["lookout-model", "lookout-storage"]),
    (
        "lookout-collect",
        &[
            "lookout-model",
            "lookout-storage",
            "lookout-wire",
            "lookout-discovery",
            "lookout-http-tls",
        ],
    ),
    (
        "lookout-api",
        &[
            "lookout-model",
            "lookout-storage",
            "lookout-collect",
            "lookout-promql",
            "lookout-wire",
            "lookout-logql",
            "lookout-rules",
            "lookout-dashboards",
            "lookout-auth",
        ],
    ),
    (
        "lookout",
        &[
            "lookout-model",
            "lookout-storage",
            "lookout-tsdb",
            "lookout-promql",
            "lookout-api",
            "lookout-collect",
            "lookout-wire",
            "lookout-discovery",
            "lookout-logs",
            "lookout-logql",
            "lookout-rules",
            "lookout-notify",
            "lookout-host",
            "lookout-proxmox",
            "lookout-hostlogs",
            "lookout-forward",
            "lookout-ui",
            "lookout-auth",
        ],
    ),
];

/// Crates that measure and test everything else and may use all of it (they ship nothing).
const TEST_CRATES: &[&str] = &["lookout-benches", "lookout-e2e", "lookout-fuzz"];

/// Crates that only the binary and the test/bench crates may name.
const STORE_ONLY_DEPS: &[(&str, &str)] = &[
    ("sled", "lookout-tsdb"),
    ("anyhow", "lookout"),
    ("clap", "lookout"),
    ("kube", "lookout-discovery"),
    ("k8s-openapi", "lookout-discovery"),
    ("tantivy", "lookout-logs"),
];

#[test]
fn crate_dependencies_follow_the_layering() {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut violations = Vec::new();
    for pkg in meta["packages"].as_array().unwrap() {
        let name = pkg["name"].as_str().unwrap();
        let deps: Vec<&str> = pkg["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap())
            .collect();
        if let Some(ok) = allowed.get(name) {
            for d in deps.iter().filter(|d| d.starts_with("lookout")) {
                if !ok.contains(d) {
                    violations.push(format!(
                        "{name} depends on {d}, which ARCHITECTURE.md does not allow"
                    ));
                }
            }
        } else if name.starts_with("lookout-") && !TEST_CRATES.contains(&name) {
            violations.push(format!(
                "{name} is not in the layering table: add it to ARCHITECTURE.md and this test"
            ));
        }
        for (dep, owner) in STORE_ONLY_DEPS {
            if deps.contains(dep) && name != *owner && !TEST_CRATES.contains(&name) {
                violations.push(format!("{name} depends on {dep}; only {owner} may"));
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}
