//! Scrape configuration parsing, defaults and validation.

use super::*;

#[test]
fn full_job_parses_with_prometheus_names() {
    let yaml = r#"
- job_name: node
  scrape_interval: 15s
  scrape_timeout: 5s
  metrics_path: /probe
  scheme: https
  params: {module: [http_2xx, other]}
  honor_labels: true
  honor_timestamps: false
  static_configs:
    - targets: ["a:9100", "b:9100"]
      labels: {env: prod}
  file_sd_configs:
    - files: ["/etc/sd/*.yml"]
      refresh_interval: 1m30s
  relabel_configs:
    - {source_labels: [__address__], target_label: instance}
  metric_relabel_configs:
    - {source_labels: [__name__], regex: 'go_.*', action: drop}
  sample_limit: 1000
  label_limit: 30
  label_name_length_limit: 100
  label_value_length_limit: 200
  body_size_limit: 10MB
  basic_auth: {username: u, password_file: /run/pw}
  tls_config: {ca_file: /ca.pem, insecure_skip_verify: true}
"#;
    let jobs = parse_scrape_configs(yaml, &GlobalConfig::default()).unwrap();
    let j = &jobs[0];
    assert_eq!(j.interval(), PromDuration::from_secs(15));
    assert_eq!(j.timeout(), PromDuration::from_secs(5));
    assert_eq!(j.params["module"], vec!["http_2xx", "other"]);
    assert!(j.honor_labels && !j.honor_timestamps);
    assert_eq!(
        j.file_sd_configs[0].refresh_interval,
        PromDuration::from_millis(90_000)
    );
    assert_eq!(j.body_size_limit, Some(ByteSize(10 << 20)));
    assert_eq!(j.sample_limit, Some(1000));
    assert_eq!(
        j.basic_auth.as_ref().unwrap().password_file.as_deref(),
        Some("/run/pw")
    );
}

#[test]
fn defaults_come_from_global() {
    let jobs = parse_scrape_configs(
        "- job_name: a\n- job_name: b\n  scrape_interval: 5s",
        &GlobalConfig::default(),
    )
    .unwrap();
    assert_eq!(jobs[0].interval(), PromDuration::from_secs(60));
    assert_eq!(jobs[0].timeout(), PromDuration::from_secs(10));
    assert_eq!(jobs[0].metrics_path, "/metrics");
    assert_eq!(jobs[0].scheme, "http");
    assert!(jobs[0].honor_timestamps && !jobs[0].honor_labels);
    // The global timeout is capped at a shorter job interval.
    assert_eq!(jobs[1].timeout(), PromDuration::from_secs(5));

    let lookout = GlobalConfig {
        scrape_interval: PromDuration::from_secs(15),
        sample_limit: 50_000,
        ..GlobalConfig::default()
    };
    let jobs = parse_scrape_configs("- job_name: a", &lookout).unwrap();
    assert_eq!(jobs[0].interval(), PromDuration::from_secs(15));
    assert_eq!(jobs[0].sample_limit, Some(50_000));
}

#[test]
fn errors_name_the_field_path() {
    let cases = [
        (
            "- job_name: a\n  scrape_interval: 5s\n  scrape_timeout: 10s",
            "scrape_configs[0].scrape_timeout",
        ),
        ("- job_name: a\n- job_name: a", "scrape_configs[1].job_name"),
        ("- job_name: ''", "scrape_configs[0].job_name"),
        ("- job_name: a\n  scheme: ftp", "scrape_configs[0].scheme"),
        (
            "- job_name: a\n  metrics_path: metrics",
            "scrape_configs[0].metrics_path",
        ),
        (
            "- job_name: a\n  static_configs: [{targets: ['http://x/']}]",
            "scrape_configs[0].static_configs[0].targets[0]",
        ),
        (
            "- job_name: a\n  static_configs: [{targets: [x], labels: {'a-b': c}}]",
            "scrape_configs[0].static_configs[0].labels",
        ),
        (
            "- job_name: a\n  file_sd_configs: [{files: [x.txt]}]",
            "scrape_configs[0].file_sd_configs[0].files[0]",
        ),
        (
            "- job_name: a\n  relabel_configs: [{target_label: a}, {action: hashmod, target_label: x}]",
            "scrape_configs[0].relabel_configs[1].modulus",
        ),
        (
            "- job_name: a\n  metric_relabel_configs: [{action: lowercase}]",
            "scrape_configs[0].metric_relabel_configs[0].target_label",
        ),
        (
            "- job_name: a\n  basic_auth: {username: u, password: p, password_file: f}",
            "scrape_configs[0].basic_auth.password_file",
        ),
        (
            "- job_name: a\n  basic_auth: {username: u}\n  bearer_token: t",
            "scrape_configs[0].authorization",
        ),
        (
            "- job_name: a\n  authorization: {type: Basic, credentials: x}",
            "scrape_configs[0].authorization.type",
        ),
        (
            "- job_name: a\n  bearer_token: t\n  bearer_token_file: f",
            "scrape_configs[0].bearer_token_file",
        ),
        (
            "- job_name: a\n  tls_config: {cert_file: c}",
            "scrape_configs[0].tls_config.key_file",
        ),
    ];
    for (yaml, path) in cases {
        match parse_scrape_configs(yaml, &GlobalConfig::default()) {
            Err(ConfigError::Invalid { path: got, .. }) => assert_eq!(got, path, "{yaml}"),
            other => panic!("{yaml}: expected an error at {path}, got {other:?}"),
        }
    }
}

#[test]
fn unknown_fields_and_bad_values_fail_parsing() {
    for yaml in [
        "- job_name: a\n  scrape_intervall: 5s",
        "- job_name: a\n  scrape_interval: 5",
        "- job_name: a\n  body_size_limit: 10 apples",
        "- job_name: a\n  tls_config: {verify: false}",
        "- job_name: a\n  static_configs: [{targets: [x], label: {}}]",
    ] {
        assert!(
            matches!(
                parse_scrape_configs(yaml, &GlobalConfig::default()),
                Err(ConfigError::Parse(_))
            ),
            "{yaml}"
        );
    }
}

#[test]
fn for_targets_builds_a_valid_job() {
    let j = ScrapeConfig::for_targets("self", &["127.0.0.1:9090"]);
    assert_eq!(j.static_configs[0].targets, vec!["127.0.0.1:9090"]);
    assert_eq!(j.interval(), PromDuration::from_secs(60));
}
