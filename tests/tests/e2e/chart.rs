//! The Helm chart (`deploy/helm/lookout`) and the image's default configuration. `tests/chart/check_chart.py`
//! renders, lints and validates the chart with the real Helm SDK (PyPI `helm-python-sdk`, no helm binary) and
//! `kubernetes-validate`, checks `deploy/kubernetes/lookout.yaml` against a fresh render, and writes every rendered
//! `lookout.yml` (the node agent's as `<case>-agent.yml`); each of those must then load with Lookout's own
//! configuration parser (the agent's with agent mode's checks too).

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `LOOKOUT_SHARED`, else `../shared` beside the workspace; the CRD schemas the script validates against live there.
fn shared_dir(root: &Path) -> PathBuf {
    let dir = std::env::var_os("LOOKOUT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared"));
    assert!(
        dir.join("reference/crds").is_dir(),
        "{}/reference/crds is missing: set LOOKOUT_SHARED to the shared reference material \
         (the Traefik and Prometheus Operator CRDs the chart's objects are validated against)",
        dir.display()
    );
    dir
}

#[test]
#[ignore = "needs PyPI helm-python-sdk and kubernetes-validate (installed by .ci/run)"]
fn chart_renders_validates_and_its_configs_load() {
    let root = workspace_root();
    let shared = shared_dir(&root);
    let out = tempfile::tempdir().expect("temp dir");
    let run = Command::new("python3")
        .arg("tests/chart/check_chart.py")
        .arg("--emit-configs")
        .arg(out.path())
        .arg("--check-manifest")
        .env("LOOKOUT_SHARED", &shared)
        .current_dir(&root)
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "tests/chart/check_chart.py failed ({}):\n{stdout}\n{stderr}",
        run.status
    );

    let mut configs: Vec<PathBuf> = std::fs::read_dir(out.path())
        .expect("emitted configs")
        .map(|e| e.expect("dir entry").path())
        .collect();
    configs.sort();
    assert!(
        configs.len() >= 4,
        "expected the defaults and at least three value sets, got {configs:?}"
    );
    // `<case>-agent.yml`: the node agent's lookout.yml of a value set with agent.enabled, loaded as `lookout agent`
    // loads it (the file's checks plus agent mode's).
    let is_agent = |p: &PathBuf| p.to_string_lossy().ends_with("-agent.yml");
    assert!(
        configs.iter().any(is_agent),
        "expected an agent lookout.yml (<case>-agent.yml), got {configs:?}"
    );
    let mut failures = Vec::new();
    for path in &configs {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).expect("read emitted config");
        let loaded = lookout::config::parse(&text, &name).and_then(|mut cfg| {
            if is_agent(path) {
                lookout::config::apply_agent(&mut cfg, &name)?;
            }
            Ok(cfg)
        });
        if let Err(e) = loaded {
            failures.push(format!("{e:#}\n--- {name}:\n{text}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} chart-rendered configs do not load:\n{}",
        failures.len(),
        configs.len(),
        failures.join("\n")
    );
}

#[test]
fn image_default_config_loads() {
    let path = workspace_root().join("deploy/docker/lookout.yml");
    let text = std::fs::read_to_string(&path).expect("deploy/docker/lookout.yml");
    let cfg = lookout::config::parse(&text, "deploy/docker/lookout.yml").expect("loads");
    assert_eq!(cfg.scrape_configs.len(), 1);
}
