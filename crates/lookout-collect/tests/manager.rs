//! The scrape manager: file discovery, external target groups, dropped targets and configuration reloads.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use lookout_collect::config::{GlobalConfig, parse_scrape_configs};
use lookout_collect::scrape::{Health, ScrapeManager, ScrapeOptions};
use lookout_model::{Labels, Matcher, TargetGroup, TimeRange, is_stale_nan};
use lookout_storage::mem::MemStorage;
use lookout_storage::{SelectHints, Storage};

async fn serve() -> String {
    let app = Router::new().route("/metrics", get(|| async { "some_metric 1\n" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr.to_string()
}

fn values(storage: &MemStorage, name: &str) -> Vec<f64> {
    let q = storage.querier(TimeRange::ALL).unwrap();
    let mut out = Vec::new();
    for s in q
        .select(
            &[Matcher::equal("__name__", name)],
            SelectHints::samples(TimeRange::ALL),
        )
        .unwrap()
    {
        let mut s = s.unwrap();
        let mut v = Vec::new();
        s.samples.collect_into(&mut v);
        out.extend(v.into_iter().map(|s| s.v));
    }
    out
}

/// Polls `cond` every 20 ms for at most 10 s.
async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn configs(yaml: &str) -> Vec<lookout_collect::config::ScrapeConfig> {
    parse_scrape_configs(yaml, &GlobalConfig::default()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_sd_targets_come_and_go() {
    let addr = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets.yml");
    std::fs::write(
        &file,
        format!("- targets: ['{addr}']\n  labels: {{team: core}}\n"),
    )
    .unwrap();
    let storage = Arc::new(MemStorage::new());
    let m = ScrapeManager::new(
        storage.clone() as Arc<dyn Storage>,
        ScrapeOptions::default(),
    );
    let yaml = format!(
        "- job_name: files\n  scrape_interval: 250ms\n  scrape_timeout: 250ms\n  file_sd_configs: [{{files: ['{}/*.yml'], refresh_interval: 50ms}}]\n  relabel_configs: [{{source_labels: [__meta_filepath], regex: '.*/(.*)', target_label: from}}]\n",
        dir.path().display()
    );
    m.apply_config(configs(&yaml)).unwrap();
    wait_for("the file target to be scraped", || {
        m.targets()
            .active
            .iter()
            .any(|t| t.health.health == Health::Up)
    })
    .await;
    let t = &m.targets().active[0];
    assert_eq!(t.target.labels.get("team"), Some("core"));
    assert_eq!(t.target.labels.get("from"), Some("targets.yml"));
    assert_eq!(
        t.target.discovered_labels.get("__meta_filepath"),
        Some(file.display().to_string().as_str())
    );

    std::fs::write(&file, "[]\n").unwrap();
    wait_for("the target to go", || m.targets().active.is_empty()).await;
    wait_for("staleness markers", || {
        values(&storage, "some_metric")
            .last()
            .is_some_and(|v| is_stale_nan(*v))
    })
    .await;
    m.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_groups_dropped_targets_and_reload() {
    let addr = serve().await;
    let storage = Arc::new(MemStorage::new());
    let m = ScrapeManager::new(
        storage.clone() as Arc<dyn Storage>,
        ScrapeOptions::default(),
    );
    let yaml = |interval: &str| {
        format!(
            "- job_name: ext\n  scrape_interval: {interval}\n  scrape_timeout: 250ms\n  relabel_configs: [{{source_labels: [__meta_keep], regex: 'yes', action: keep}}]\n"
        )
    };
    m.apply_config(configs(&yaml("250ms"))).unwrap();
    let group = |targets: Vec<Labels>| TargetGroup {
        source: "pod/a".into(),
        targets,
        labels: Labels::empty(),
    };
    let kept =
        Labels::from_pairs(&[("__address__", addr.as_str()), ("__meta_keep", "yes")]).unwrap();
    let dropped =
        Labels::from_pairs(&[("__address__", "127.0.0.1:1"), ("__meta_keep", "no")]).unwrap();
    m.update_target_groups("ext", "k8s", vec![group(vec![kept.clone(), dropped])]);
    // Groups for unknown jobs are ignored.
    m.update_target_groups("nope", "k8s", vec![group(vec![kept.clone()])]);

    let snapshot = m.targets();
    assert_eq!(snapshot.active.len(), 1);
    assert_eq!(snapshot.dropped.len(), 1);
    assert_eq!(snapshot.dropped[0].job, "ext");
    assert_eq!(
        snapshot.dropped[0]
            .dropped
            .discovered_labels
            .get("__meta_keep"),
        Some("no")
    );
    wait_for("a scrape", || values(&storage, "up").len() >= 2).await;

    // A reload that changes the interval restarts the loop without marking the target's series stale.
    m.apply_config(configs(&yaml("500ms"))).unwrap();
    assert_eq!(m.targets().active[0].target.interval.as_millis(), 500);
    let before = values(&storage, "up").len();
    wait_for("a scrape after the reload", || {
        values(&storage, "up").len() > before
    })
    .await;
    assert!(
        values(&storage, "up").iter().all(|v| *v == 1.0),
        "{:?}",
        values(&storage, "up")
    );

    // The provider clears its group: the target stops and its series go stale.
    m.update_target_groups("ext", "k8s", vec![group(Vec::new())]);
    assert!(m.targets().active.is_empty());
    wait_for("staleness markers", || {
        values(&storage, "up")
            .last()
            .is_some_and(|v| is_stale_nan(*v))
    })
    .await;

    let metrics = || {
        let mut w = lookout_model::MetricsWriter::new();
        m.write_metrics(&mut w);
        w.finish()
    };
    assert!(
        metrics().lines().any(|l| l == "lookout_scrape_targets 0"),
        "{}",
        metrics()
    );
    // The counter is bumped once the end-of-run batch has committed, just after the markers became visible.
    wait_for("the stale marker counter", || {
        metrics()
            .lines()
            .any(|l| l.starts_with("lookout_scrape_stale_markers_total ") && !l.ends_with(" 0"))
    })
    .await;
    m.shutdown(Duration::from_secs(2)).await;
}
