use super::*;

fn parse(yaml: &str) -> Vec<RemoteWriteConfig> {
    serde_yaml_ng::from_str(yaml).unwrap()
}

#[test]
fn defaults_are_prometheus_defaults() {
    let c = &parse("- url: http://mimir:9009/api/v1/push\n")[0];
    assert_eq!(c.remote_timeout, PromDuration::from_secs(30));
    assert_eq!(c.protobuf_message, ProtobufMessage::V1);
    assert!(c.follow_redirects);
    let q = c.queue_config;
    assert_eq!(
        (
            q.capacity,
            q.min_shards,
            q.max_shards,
            q.max_samples_per_send
        ),
        (10_000, 1, 50, 2000)
    );
    assert_eq!(q.batch_send_deadline, PromDuration::from_secs(5));
    assert_eq!(q.min_backoff, PromDuration::from_millis(30));
    assert_eq!(q.max_backoff, PromDuration::from_secs(5));
    assert!(!q.retry_on_http_429);
    assert!(c.metadata_config.send);
    assert_eq!(c.metadata_config.send_interval, PromDuration::from_secs(60));
    assert_eq!(c.disk_queue.max_size, ByteSize(1 << 30));
    assert!(c.validate("remote_write[0]").is_ok());
    assert_eq!(c, &RemoteWriteConfig::new("http://mimir:9009/api/v1/push"));
}

#[test]
fn full_entry_parses() {
    let c = &parse(
        r#"
- url: https://vm/api/v1/write
  name: vm
  remote_timeout: 10s
  headers: {X-Tenant: a}
  protobuf_message: io.prometheus.write.v2.Request
  oauth2:
    client_id: id
    client_secret: s
    token_url: https://auth/token
    scopes: [a, b]
    endpoint_params: {audience: x}
  write_relabel_configs:
    - source_labels: [__name__]
      regex: go_.*
      action: drop
  queue_config: {max_shards: 4, retry_on_http_429: true, sample_age_limit: 1h}
  metadata_config: {send: false}
  disk_queue: {max_size: 64MiB}
"#,
    )[0];
    assert_eq!(c.protobuf_message, ProtobufMessage::V2);
    assert_eq!(c.queue_config.max_shards, 4);
    assert_eq!(c.disk_queue.max_size, ByteSize(64 << 20));
    c.validate("remote_write[0]").unwrap();
}

fn fault(yaml: &str) -> ConfigError {
    parse(yaml)[0].validate("remote_write[0]").unwrap_err()
}

#[test]
fn faults_name_the_field_path() {
    let e = fault("- url: http://x/\n  queue_config: {max_shards: 0}\n");
    assert_eq!(e.field, "remote_write[0].queue_config.max_shards");
    let e = fault("- url: http://x/\n  queue_config: {min_shards: 5, max_shards: 2}\n");
    assert_eq!(e.field, "remote_write[0].queue_config.min_shards");
    let e = fault("- url: ftp://x/\n");
    assert_eq!(e.field, "remote_write[0].url");
    let e = fault("- url: http://x/\n  sigv4: {region: eu}\n");
    assert_eq!(e.field, "remote_write[0].sigv4");
    assert!(e.to_string().contains("not supported"));
    let e = fault("- url: http://x/\n  send_exemplars: true\n");
    assert_eq!(e.field, "remote_write[0].send_exemplars");
    assert!(
        parse("- url: http://x/\n  send_exemplars: false\n")[0]
            .validate("r")
            .is_ok()
    );
    let e = fault("- url: http://x/\n  headers: {Content-Type: x}\n");
    assert_eq!(e.field, "remote_write[0].headers.Content-Type");
    let e = fault(
        "- url: http://x/\n  basic_auth: {username: u}\n  oauth2: {client_id: a, token_url: 'http://t/'}\n",
    );
    assert_eq!(e.field, "remote_write[0].oauth2");
    let e =
        fault("- url: http://x/\n  write_relabel_configs: [{action: hashmod, target_label: a}]\n");
    assert!(
        e.field
            .starts_with("remote_write[0].write_relabel_configs[0]."),
        "{e}"
    );
    let e = fault("- url: http://x/\n  name: ../etc\n");
    assert_eq!(e.field, "remote_write[0].name");
    // Unknown fields are refused by the parser, by name.
    let err = serde_yaml_ng::from_str::<Vec<RemoteWriteConfig>>("- url: http://x/\n  bogus: 1\n")
        .unwrap_err();
    assert!(err.to_string().contains("bogus"));
}

#[test]
fn names_are_unique_across_kinds() {
    let mut a = RemoteWriteConfig::new("http://a/");
    a.name = "x".into();
    let mut l = LokiPushConfig::new("http://l/loki/api/v1/push");
    l.name = "x".into();
    let e = validate_all(&[a], &[l]).unwrap_err();
    assert_eq!(e.field, "loki_push[0].name");
}

#[test]
fn loki_defaults_and_checks() {
    let l: LokiPushConfig =
        serde_yaml_ng::from_str("url: http://loki:3100/loki/api/v1/push\ntenant_id: t1\n").unwrap();
    assert_eq!(l.batch_size, ByteSize(1 << 20));
    assert_eq!(l.batch_wait, PromDuration::from_secs(1));
    assert_eq!(l.min_backoff, PromDuration::from_millis(500));
    assert_eq!(l.max_backoff, PromDuration::from_secs(300));
    assert_eq!(l.timeout, PromDuration::from_secs(10));
    assert_eq!(l.http().headers["X-Scope-OrgID"], "t1");
    l.validate("loki_push[0]").unwrap();
    let mut bad = l.clone();
    bad.batch_wait = PromDuration::default();
    assert_eq!(
        bad.validate("loki_push[0]").unwrap_err().field,
        "loki_push[0].batch_wait"
    );
}
