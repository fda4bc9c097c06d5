//! Rule files: the check corpus (`tests/data/rules/check/`) is judged as its `# expect:` lines say — valid files
//! load, each invalid file is refused with promtool's wording or a listed, explained difference — and, with
//! Debian's `promtool`, `lookout check rules` agrees with `promtool check rules` file by file. The kubernetes-mixin
//! rules (as kube-prometheus ships them) load, evaluate and expand their templates without error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use lookout_model::Labels;
use lookout_promql::{Engine, EngineOptions, QueryContext};
use lookout_rules::{
    EvalEnv, Group, Health, PromTemplates, Templates, check_alert_template, parse,
};
use lookout_storage::Storage;
use lookout_storage::mem::MemStorage;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/rules")
}

fn files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(data().join("check").join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    v.sort();
    v
}

fn check(path: &Path) -> Result<(), Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    parse(&path.display().to_string(), &text, &check_alert_template)
        .map(|_| ())
        .map_err(|f| f.errors)
}

#[test]
fn the_check_corpus_is_judged_as_its_expect_lines_say() {
    let valid = files("valid");
    assert!(valid.len() >= 5, "corpus missing: {valid:?}");
    for f in &valid {
        assert_eq!(check(f), Ok(()), "{}", f.display());
    }
    let differences: BTreeMap<String, String> =
        std::fs::read_to_string(data().join("check/message-differences.txt"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let (f, why) = l.split_once(": ").unwrap();
                (f.to_string(), why.to_string())
            })
            .collect();
    let invalid = files("invalid");
    assert!(invalid.len() >= 10);
    let mut wrong = Vec::new();
    for f in &invalid {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(f).unwrap();
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{name}: no # expect: line"));
        let errors = match check(f) {
            Ok(()) => {
                wrong.push(format!("{name}: accepted, promtool refuses it ({expect})"));
                continue;
            }
            Err(e) => e,
        };
        assert!(
            errors
                .iter()
                .all(|e| e.starts_with(&f.display().to_string())),
            "{name}: errors name the file: {errors:?}"
        );
        let matches = errors.iter().any(|e| e.contains(expect));
        match (matches, differences.contains_key(&name)) {
            (true, true) => wrong.push(format!(
                "{name}: listed as a difference but matches promtool's wording"
            )),
            (false, false) => wrong.push(format!("{name}: {errors:?} lacks {expect:?}")),
            _ => {}
        }
    }
    for listed in differences.keys() {
        if !invalid
            .iter()
            .any(|f| f.file_name().unwrap().to_string_lossy() == *listed)
        {
            wrong.push(format!("{listed}: listed but not in the corpus"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
#[ignore = "needs Debian's promtool (installed by .ci/run)"]
fn lookout_check_rules_agrees_with_promtool_file_by_file() {
    let mut disagreements = Vec::new();
    for f in files("valid").into_iter().chain(files("invalid")) {
        let out = Command::new("promtool")
            .args(["check", "rules"])
            .arg(&f)
            .output()
            .unwrap_or_else(|e| {
                panic!("promtool is needed for this test (.ci/run installs it): {e}")
            });
        let promtool_ok = out.status.success();
        let ours_ok = check(&f).is_ok();
        if promtool_ok != ours_ok {
            disagreements.push(format!(
                "{}: promtool {} ({}), lookout {}",
                f.display(),
                if promtool_ok { "accepts" } else { "refuses" },
                String::from_utf8_lossy(&out.stderr).trim(),
                if ours_ok { "accepts" } else { "refuses" }
            ));
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}

#[test]
fn the_kubernetes_mixin_rules_load_evaluate_and_expand_without_error() {
    let path = data().join("kubernetes-mixin.rules.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    let (file, found) = parse("kubernetes-mixin.rules.yml", &text, &check_alert_template).unwrap();
    // kube-prometheus records code_verb:apiserver_request_total:increase1h four times (promtool warns too).
    assert_eq!(found.warnings.len(), 3, "{:?}", found.warnings);
    let rules: usize = file.groups.iter().map(|g| g.rules.len()).sum();
    assert_eq!((file.groups.len(), rules), (38, 234));

    let storage: Arc<dyn Storage> = Arc::new(MemStorage::new());
    let engine = Arc::new(Engine::new(EngineOptions::default()));
    // Some data the expressions select, so aggregations and joins have something to chew on.
    let mut app = storage.appender();
    for (pairs, v) in [
        (
            vec![
                ("__name__", "up"),
                ("job", "apiserver"),
                ("instance", "a:6443"),
            ],
            1.0,
        ),
        (
            vec![
                ("__name__", "kube_pod_container_status_restarts_total"),
                ("namespace", "ns"),
                ("pod", "p"),
                ("container", "c"),
                ("job", "kube-state-metrics"),
            ],
            3.0,
        ),
        // The one template that queries: PrometheusRemoteWriteDesiredShards reads the shard maximum of its instance.
        (
            vec![
                ("__name__", "prometheus_remote_storage_shards_max"),
                ("instance", "n1"),
                ("job", "prometheus-k8s"),
                ("namespace", "monitoring"),
            ],
            50.0,
        ),
        (
            vec![
                ("__name__", "node_filesystem_avail_bytes"),
                ("instance", "n1"),
                ("job", "node-exporter"),
                ("mountpoint", "/"),
                ("fstype", "ext4"),
                ("device", "/dev/sda1"),
            ],
            1e9,
        ),
    ] {
        for t in 0..10 {
            app.append(
                &Labels::from_pairs(&pairs).unwrap(),
                t * 30_000,
                v + t as f64,
            )
            .unwrap();
        }
    }
    app.commit().unwrap();
    let templates = PromTemplates::new(
        storage.clone(),
        engine.clone(),
        BTreeMap::new(),
        "http://lookout".into(),
    );
    let env = EvalEnv {
        storage: &*storage,
        engine: &engine,
        templates: &templates,
        resend_delay: Duration::from_secs(60),
        external_url: "http://lookout",
        query: QueryContext::default(),
    };
    let labels = Labels::from_pairs(&[
        ("namespace", "ns"),
        ("pod", "p"),
        ("container", "c"),
        ("instance", "n1"),
        ("job", "j"),
        ("node", "n1"),
        ("mountpoint", "/"),
        ("device", "sda"),
        ("cluster", "c1"),
        ("service", "s"),
        ("verb", "GET"),
    ])
    .unwrap();
    let mut failures = Vec::new();
    for spec in file.groups {
        let mut g = Group::new(
            spec,
            "kubernetes-mixin.rules.yml",
            Duration::from_secs(30),
            Duration::ZERO,
            true,
        );
        g.eval(&env, 300_000);
        for r in &g.rules {
            if r.health != Health::Ok {
                failures.push(format!("{} {}: {}", g.name, r.spec.name, r.last_error));
            }
            for (k, text) in r.spec.annotations.iter().chain(&r.spec.labels) {
                if let Err(e) = templates.expand(text, &labels, 0.5, 300_000) {
                    failures.push(format!("{} {} {k}: {e}", g.name, r.spec.name));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
