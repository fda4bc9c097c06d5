//! remote_write out against a fake receiver: delivery, order, retries, drops, outages, restarts, the disk bound,
//! relabeling, authentication and metadata.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Receiver, samples_by_series, wait_for};
use lookout_forward::{
    ForwardOptions, Forwarders, ForwardingStorage, MetadataSource, ProtobufMessage,
    RemoteWriteConfig,
};
use lookout_model::{ByteSize, Labels, MetricsWriter, PromDuration};
use lookout_storage::Storage;

fn cfg(url: String, f: impl FnOnce(&mut RemoteWriteConfig)) -> RemoteWriteConfig {
    let mut c = RemoteWriteConfig::new(url);
    c.name = "rw".into();
    c.queue_config.batch_send_deadline = PromDuration::from_millis(50);
    c.queue_config.min_backoff = PromDuration::from_millis(10);
    c.queue_config.max_backoff = PromDuration::from_millis(200);
    c.metadata_config.send = false;
    f(&mut c);
    c
}

fn start(dir: &std::path::Path, c: RemoteWriteConfig) -> (Forwarders, Arc<ForwardingStorage>) {
    start_with(ForwardOptions::new(dir, vec![c], vec![]))
}

fn start_with(opts: ForwardOptions) -> (Forwarders, Arc<ForwardingStorage>) {
    let f = Forwarders::start(opts, &tokio::runtime::Handle::current()).unwrap();
    let s = f.wrap_storage(None);
    (f, s)
}

fn series(name: &str, i: usize) -> Labels {
    Labels::from_pairs(&[("__name__", name.to_string()), ("i", i.to_string())]).unwrap()
}

/// One commit per timestamp, every series in each.
fn append(s: &ForwardingStorage, name: &str, n_series: usize, ts: std::ops::Range<i64>) {
    for t in ts {
        let mut app = s.appender();
        for i in 0..n_series {
            app.append(&series(name, i), t, t as f64).unwrap();
        }
        app.commit().unwrap();
    }
}

fn metric(f: &Forwarders, prefix: &str) -> f64 {
    let mut w = MetricsWriter::new();
    f.write_metrics(&mut w);
    let text = w.finish();
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn received(r: &Receiver) -> usize {
    samples_by_series(&r.requests())
        .values()
        .map(Vec::len)
        .sum()
}

async fn exactly_once_in_order(version: ProtobufMessage) {
    let r = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (f, s) = start(
        dir.path(),
        cfg(r.url("/api/v1/write"), |c| {
            c.protobuf_message = version;
            c.queue_config.min_shards = 4;
            c.queue_config.max_shards = 4;
            c.queue_config.max_samples_per_send = 100;
        }),
    );
    append(&s, "m", 50, 1000..1040);
    assert!(
        wait_for(20, || received(&r) >= 2000).await,
        "got {}",
        received(&r)
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let got = samples_by_series(&r.requests());
    assert_eq!(got.len(), 50);
    for (labels, ts) in &got {
        assert_eq!(ts, &(1000..1040).collect::<Vec<_>>(), "{labels}");
    }
    let (ct, ver) = match version {
        ProtobufMessage::V1 => (
            "application/x-protobuf;proto=prometheus.WriteRequest",
            "0.1.0",
        ),
        ProtobufMessage::V2 => (
            "application/x-protobuf;proto=io.prometheus.write.v2.Request",
            "2.0.0",
        ),
    };
    for req in r.requests() {
        assert_eq!(req.path, "/api/v1/write");
        assert_eq!(req.header("content-type").as_deref(), Some(ct));
        assert_eq!(req.header("content-encoding").as_deref(), Some("snappy"));
        assert_eq!(
            req.header("x-prometheus-remote-write-version").as_deref(),
            Some(ver)
        );
        assert!(req.header("user-agent").unwrap().starts_with("Lookout/"));
        assert!(req.header("retry-attempt").is_none());
        assert!(common::decode_rw(&req).sample_count() <= 100);
    }
    assert_eq!(
        metric(&f, "prometheus_remote_storage_samples_total{"),
        2000.0
    );
    assert_eq!(metric(&f, "prometheus_remote_storage_shards{"), 4.0);
    assert_eq!(
        metric(
            &f,
            "prometheus_remote_storage_queue_highest_sent_timestamp_seconds{"
        ),
        1.039
    );
    f.stop(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_every_sample_once_in_order() {
    exactly_once_in_order(ProtobufMessage::V1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_every_sample_once_in_order() {
    exactly_once_in_order(ProtobufMessage::V2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_with_retry_attempt() {
    let r = Receiver::start().await;
    r.state
        .lock()
        .script
        .extend([(503, None), (500, Some("1".to_string()))]);
    let dir = tempfile::tempdir().unwrap();
    let (f, s) = start(dir.path(), cfg(r.url("/w"), |_| {}));
    append(&s, "m", 10, 0..5);
    assert!(wait_for(10, || received(&r) == 50).await);
    let reqs = r.requests();
    assert_eq!(reqs[0].status, 503);
    assert_eq!(reqs[1].header("retry-attempt").as_deref(), Some("1"));
    assert_eq!(reqs[2].header("retry-attempt").as_deref(), Some("2"));
    assert_eq!(reqs[2].status, 204);
    for ts in samples_by_series(&reqs).values() {
        assert_eq!(ts, &(0..5).collect::<Vec<_>>());
    }
    assert!(metric(&f, "prometheus_remote_storage_samples_retried_total{") >= 50.0);
    assert_eq!(
        metric(&f, "prometheus_remote_storage_samples_failed_total{"),
        0.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_drop_the_batch_and_count_it() {
    let r = Receiver::start().await;
    r.state.lock().script.push_back((400, None));
    let dir = tempfile::tempdir().unwrap();
    let (f, s) = start(dir.path(), cfg(r.url("/w"), |_| {}));
    append(&s, "a", 30, 0..1);
    assert!(wait_for(10, || r.requests().len() == 1).await);
    assert!(
        wait_for(10, || metric(
            &f,
            "prometheus_remote_storage_samples_failed_total{"
        ) == 30.0)
        .await
    );
    append(&s, "b", 7, 0..1);
    assert!(wait_for(10, || received(&r) == 7).await);
    assert_eq!(r.requests().len(), 2, "the dropped batch is not retried");
    assert_eq!(metric(&f, "prometheus_remote_storage_samples_total{"), 7.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_depends_on_retry_on_http_429() {
    for retry in [false, true] {
        let r = Receiver::start().await;
        r.state.lock().script.push_back((429, None));
        let dir = tempfile::tempdir().unwrap();
        let (f, s) = start(
            dir.path(),
            cfg(r.url("/w"), |c| c.queue_config.retry_on_http_429 = retry),
        );
        append(&s, "a", 20, 0..1);
        if retry {
            assert!(wait_for(10, || received(&r) == 20).await);
            assert_eq!(
                metric(&f, "prometheus_remote_storage_samples_failed_total{"),
                0.0
            );
            assert_eq!(
                metric(&f, "prometheus_remote_storage_samples_retried_total{"),
                20.0
            );
        } else {
            assert!(
                wait_for(10, || metric(
                    &f,
                    "prometheus_remote_storage_samples_failed_total{"
                ) == 20.0)
                .await
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert_eq!(r.requests().len(), 1);
            assert_eq!(received(&r), 0);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_outage_loses_nothing() {
    let mut r = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (f, s) = start(
        dir.path(),
        cfg(r.url("/w"), |c| {
            c.queue_config.max_shards = 2;
            c.queue_config.min_shards = 2;
        }),
    );
    append(&s, "m", 20, 0..10);
    assert!(wait_for(10, || received(&r) == 200).await);
    r.stop().await;
    append(&s, "m", 20, 10..40);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(metric(&f, "prometheus_remote_storage_samples_pending{") > 0.0);
    r.restart().await;
    append(&s, "m", 20, 40..50);
    assert!(
        wait_for(20, || received(&r) >= 1000).await,
        "got {}",
        received(&r)
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    for ts in samples_by_series(&r.requests()).values() {
        assert_eq!(ts, &(0..50).collect::<Vec<_>>());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_resumes_from_the_acknowledged_position() {
    let r = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let c = cfg(r.url("/w"), |_| {});
    {
        let (f, s) = start(dir.path(), c.clone());
        append(&s, "a", 10, 0..10);
        assert!(wait_for(10, || received(&r) == 100).await);
        r.state.lock().default_status = 503;
        append(&s, "b", 10, 0..10);
        assert!(wait_for(10, || r.requests().iter().any(|q| q.status == 503)).await);
        drop(s);
        drop(f);
    }
    // A request in flight when the forwarder went away may still reach the receiver; answered 204 it would be
    // stored without the old forwarder acknowledging it, so the restart would send it again (at-least-once, as
    // Prometheus). Let such requests land on the 503 first: wait until no request arrived for 300 ms.
    let mut seen = r.requests().len();
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = r.requests().len();
        if now == seen {
            break;
        }
        seen = now;
    }
    r.state.lock().default_status = 204;
    let (f, _s) = start(dir.path(), c);
    assert!(
        wait_for(10, || received(&r) >= 200).await,
        "got {}",
        received(&r)
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Acknowledged data ("a") is not sent again; unacknowledged data ("b") arrives after the restart. Duplicates
    // could only be of batches in flight when the forwarder went away.
    let got = samples_by_series(&r.requests());
    for (l, ts) in &got {
        assert_eq!(ts, &(0..10).collect::<Vec<_>>(), "{l}");
    }
    assert_eq!(got.len(), 20);
    f.stop(Duration::from_secs(5)).await;
}

fn dir_size(p: &std::path::Path) -> u64 {
    std::fs::read_dir(p)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_bound_holds_and_drops_are_counted() {
    let r = Receiver::start().await;
    r.state.lock().default_status = 503;
    let dir = tempfile::tempdir().unwrap();
    let (f, s) = start(
        dir.path(),
        cfg(r.url("/w"), |c| {
            c.disk_queue.max_size = ByteSize(1 << 20);
            c.queue_config.capacity = 500;
            c.queue_config.max_samples_per_send = 500;
        }),
    );
    let qdir = dir.path().join("forward/rw");
    let total = 200 * 300;
    for t in 0..300 {
        append(&s, "m", 200, t..t + 1);
        assert!(
            dir_size(&qdir) <= (1 << 20) + (64 << 10) + 64 * 1024,
            "over the bound"
        );
    }
    let dropped = metric(&f, "lookout_forward_disk_queue_dropped_samples_total{");
    assert!(dropped > 0.0);
    r.state.lock().default_status = 204;
    assert!(
        wait_for(30, || received(&r) as f64 + dropped >= total as f64).await,
        "received {} + dropped {dropped} < {total}",
        received(&r)
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(received(&r) as f64 + dropped, total as f64);
    // What arrived is the newest data, in order per series.
    for ts in samples_by_series(&r.requests()).values() {
        assert!(ts.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(*ts.last().unwrap(), 299);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_relabel_configs_drop_and_keep() {
    let r = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut c = cfg(r.url("/w"), |_| {});
    c.write_relabel_configs = serde_yaml_ng::from_str(
        r#"
- source_labels: [__name__]
  regex: drop_.*
  action: drop
- source_labels: [i]
  regex: "[0-4]"
  action: keep
- target_label: env
  replacement: prod
"#,
    )
    .unwrap();
    let (f, s) = start(dir.path(), c);
    append(&s, "keep_me", 10, 0..3);
    append(&s, "drop_me", 10, 0..3);
    assert!(
        wait_for(10, || metric(
            &f,
            "prometheus_remote_storage_samples_dropped_total{reason=\"dropped_series\""
        ) == 45.0)
        .await
    );
    assert!(wait_for(10, || received(&r) == 15).await);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let got = samples_by_series(&r.requests());
    assert_eq!(got.len(), 5);
    for l in got.keys() {
        assert_eq!(l.metric_name(), Some("keep_me"));
        assert_eq!(l.get("env"), Some("prod"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_headers() {
    let r = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s3cret\n").unwrap();
    let mk = |name: &str, yaml: &str| {
        let mut c: RemoteWriteConfig =
            serde_yaml_ng::from_str(&format!("url: {}\n{yaml}", r.url(&format!("/{name}"))))
                .unwrap();
        c.name = name.into();
        c.queue_config.batch_send_deadline = PromDuration::from_millis(20);
        c.metadata_config.send = false;
        c
    };
    let cfgs = vec![
        mk(
            "basic",
            &format!(
                "basic_auth: {{username: u, password_file: {}}}",
                secret.display()
            ),
        ),
        mk("bearer", "authorization: {credentials: abc}"),
        mk(
            "oauth",
            &format!(
                "oauth2: {{client_id: cid, client_secret: cs, token_url: {}, scopes: [w, r], endpoint_params: {{audience: aud}}}}",
                r.url("/token")
            ),
        ),
    ];
    let (f, s) = start_with(ForwardOptions::new(dir.path(), cfgs, vec![]));
    for t in 0..3 {
        append(&s, "m", 1, t..t + 1);
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    assert!(wait_for(10, || r.requests().len() >= 9).await);
    let auth = |path: &str| {
        r.requests()
            .iter()
            .filter(|q| q.path == path)
            .map(|q| q.header("authorization").unwrap())
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(
        auth("/basic").into_iter().collect::<Vec<_>>(),
        vec!["Basic dTpzM2NyZXQ=".to_string()]
    );
    assert_eq!(
        auth("/bearer").into_iter().collect::<Vec<_>>(),
        vec!["Bearer abc".to_string()]
    );
    assert_eq!(
        auth("/oauth").into_iter().collect::<Vec<_>>(),
        vec!["Bearer tok-123".to_string()]
    );
    let tokens = r.state.lock().token_requests.clone();
    assert_eq!(tokens.len(), 1, "the token is cached until it expires");
    assert_eq!(
        tokens[0].header("authorization").as_deref(),
        Some("Basic Y2lkOmNz")
    );
    let form = String::from_utf8(tokens[0].body.clone()).unwrap();
    assert!(form.contains("grant_type=client_credentials"), "{form}");
    assert!(form.contains("scope=w+r"), "{form}");
    assert!(form.contains("audience=aud"), "{form}");
    f.stop(Duration::from_secs(5)).await;
}

struct Meta;

impl MetadataSource for Meta {
    fn metadata(&self) -> Vec<lookout_wire::MetricMetadata> {
        vec![lookout_wire::MetricMetadata {
            family: "m".into(),
            kind: lookout_wire::MetricKind::Counter,
            help: "A counter.".into(),
            unit: "seconds".into(),
        }]
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_is_sent_for_v1_and_attached_for_v2() {
    for version in [ProtobufMessage::V1, ProtobufMessage::V2] {
        let r = Receiver::start().await;
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(r.url("/w"), |c| {
            c.protobuf_message = version;
            c.metadata_config.send = true;
            c.metadata_config.send_interval = PromDuration::from_millis(100);
        });
        let mut opts = ForwardOptions::new(dir.path(), vec![c], vec![]);
        opts.metadata = Some(Arc::new(Meta));
        let (f, s) = start_with(opts);
        tokio::time::sleep(Duration::from_millis(300)).await;
        append(&s, "m", 1, 0..1);
        assert!(wait_for(10, || received(&r) == 1).await);
        let with_meta = r
            .requests()
            .iter()
            .map(common::decode_rw)
            .filter(|b| !b.metadata.is_empty())
            .map(|b| b.metadata[0].clone())
            .next()
            .expect("metadata was sent");
        assert_eq!(with_meta.family, "m");
        assert_eq!(with_meta.kind, lookout_wire::MetricKind::Counter);
        assert_eq!(with_meta.help, "A counter.");
        assert_eq!(with_meta.unit, "seconds");
        if version == ProtobufMessage::V1 {
            assert!(metric(&f, "prometheus_remote_storage_metadata_total{") >= 1.0);
        }
        f.stop(Duration::from_secs(5)).await;
    }
}
