//! Target building, checked against what Prometheus produces for the same configuration.

use super::*;
use crate::config::GlobalConfig;

fn job(yaml: &str) -> ScrapeConfig {
    let mut c: ScrapeConfig = serde_yaml_ng::from_str(yaml).unwrap();
    c.resolve(0, &GlobalConfig::default()).unwrap();
    c
}

fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs).unwrap()
}

fn active(b: TargetBuild) -> Target {
    match b {
        TargetBuild::Active(t) => t,
        TargetBuild::Dropped(d) => panic!("unexpectedly dropped: {d:?}"),
    }
}

#[test]
fn defaults_and_instance() {
    let cfg = job("job_name: node\nscrape_interval: 15s");
    let t = active(build_target(
        &cfg,
        &l(&[("__address__", "h:9100")]),
        &l(&[("env", "prod")]),
    ));
    assert_eq!(
        t.labels,
        l(&[("instance", "h:9100"), ("job", "node"), ("env", "prod")])
    );
    assert_eq!(t.url, "http://h:9100/metrics");
    assert_eq!(t.interval, PromDuration::from_secs(15));
    assert_eq!(t.timeout, PromDuration::from_secs(10));
    assert_eq!(
        t.discovered_labels,
        l(&[
            ("__address__", "h:9100"),
            ("__metrics_path__", "/metrics"),
            ("__scheme__", "http"),
            ("__scrape_interval__", "15s"),
            ("__scrape_timeout__", "10s"),
            ("env", "prod"),
            ("job", "node"),
        ])
    );
}

#[test]
fn target_labels_win_over_group_labels_and_defaults() {
    let cfg = job("job_name: node");
    let t = active(build_target(
        &cfg,
        &l(&[
            ("__address__", "h:1"),
            ("env", "dev"),
            ("job", "custom"),
            ("__metrics_path__", "/m"),
        ]),
        &l(&[("env", "prod"), ("dc", "x")]),
    ));
    assert_eq!(
        t.labels,
        l(&[
            ("dc", "x"),
            ("env", "dev"),
            ("instance", "h:1"),
            ("job", "custom")
        ])
    );
    assert_eq!(t.url, "http://h:1/m");
}

#[test]
fn relabeling_drops_meta_and_sets_url_parts() {
    let cfg = job(r#"
job_name: k8s
params: {module: [a, b], other: [x]}
relabel_configs:
  - {source_labels: [__meta_pod_annotation_scrape], regex: 'true', action: keep}
  - {source_labels: [__meta_pod_annotation_scheme], regex: '(https?)', target_label: __scheme__}
  - {source_labels: [__meta_pod_annotation_path], regex: '(.+)', target_label: __metrics_path__}
  - {source_labels: [__meta_pod_annotation_port, __meta_pod_ip], regex: '(\d+);(.+)', target_label: __address__, replacement: '$2:$1'}
  - {regex: '__meta_pod_label_(.+)', action: labelmap}
  - {target_label: __param_module, replacement: c}
  - {source_labels: [__meta_pod_name], target_label: instance}
"#);
    let meta = l(&[
        ("__address__", "10.0.0.5"),
        ("__meta_pod_annotation_scrape", "true"),
        ("__meta_pod_annotation_scheme", "https"),
        ("__meta_pod_annotation_path", "/probe path"),
        ("__meta_pod_annotation_port", "8443"),
        ("__meta_pod_ip", "10.0.0.5"),
        ("__meta_pod_label_app", "web"),
        ("__meta_pod_name", "web-1"),
    ]);
    let t = active(build_target(&cfg, &meta, &Labels::empty()));
    assert_eq!(
        t.labels,
        l(&[("app", "web"), ("instance", "web-1"), ("job", "k8s")])
    );
    assert_eq!(
        t.url,
        "https://10.0.0.5:8443/probe%20path?module=c&module=b&other=x"
    );
    assert_eq!(t.discovered_labels.get("__param_module"), Some("a"));

    let not_annotated = l(&[("__address__", "10.0.0.6")]);
    match build_target(&cfg, &not_annotated, &Labels::empty()) {
        TargetBuild::Dropped(d) => {
            assert_eq!(d.reason, DropReason::Relabeling);
            assert_eq!(d.discovered_labels.get("__address__"), Some("10.0.0.6"));
            assert_eq!(d.discovered_labels.get("job"), Some("k8s"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn invalid_targets_are_dropped_with_a_reason() {
    let cases = [
        (
            "job_name: a\nrelabel_configs: [{target_label: __address__, replacement: ''}]",
            "no address",
        ),
        (
            "job_name: a\nrelabel_configs: [{target_label: __address__, replacement: 'h/x'}]",
            "not a valid hostname",
        ),
        (
            "job_name: a\nrelabel_configs: [{target_label: __scrape_interval__, replacement: 'soon'}]",
            "__scrape_interval__",
        ),
        (
            "job_name: a\nrelabel_configs: [{target_label: __scrape_timeout__, replacement: '0s'}]",
            "cannot be 0",
        ),
        (
            "job_name: a\nrelabel_configs: [{target_label: __scrape_timeout__, replacement: '2m'}]",
            "greater than",
        ),
        (
            "job_name: a\nrelabel_configs: [{target_label: __scheme__, replacement: 'ftp'}]",
            "scheme",
        ),
    ];
    for (yaml, why) in cases {
        let cfg = job(yaml);
        match build_target(&cfg, &l(&[("__address__", "h:1")]), &Labels::empty()) {
            TargetBuild::Dropped(DroppedTarget {
                reason: DropReason::Invalid(got),
                ..
            }) => {
                assert!(got.contains(why), "{yaml}: {got}")
            }
            other => panic!("{yaml}: {other:?}"),
        }
    }
}

#[test]
fn per_target_interval_from_relabeling() {
    let cfg = job(
        "job_name: a\nscrape_interval: 30s\nrelabel_configs: [{target_label: __scrape_interval__, replacement: 1m}]",
    );
    let t = active(build_target(
        &cfg,
        &l(&[("__address__", "h:1")]),
        &Labels::empty(),
    ));
    assert_eq!(t.interval, PromDuration::from_secs(60));
    assert_eq!(t.timeout, PromDuration::from_secs(10));
}

#[test]
fn groups_dedupe_and_static_sources() {
    let cfg = job(
        "job_name: a\nstatic_configs: [{targets: ['h:1', 'h:2', 'h:1'], labels: {x: y}}, {targets: ['h:3']}]",
    );
    let groups = static_groups(&cfg);
    assert_eq!(
        groups.iter().map(|g| g.source.as_str()).collect::<Vec<_>>(),
        vec!["static/0", "static/1"]
    );
    let (active, dropped) = targets_from_groups(&cfg, &groups);
    let urls: Vec<_> = active.iter().map(|t| t.url.as_str()).collect();
    assert_eq!(
        urls,
        vec![
            "http://h:1/metrics",
            "http://h:2/metrics",
            "http://h:3/metrics"
        ]
    );
    assert!(dropped.is_empty());
    assert_eq!(active[0].labels.get("x"), Some("y"));
    assert_eq!(active[2].labels.get("x"), None);
}
