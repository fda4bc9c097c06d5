//! Loki push out against a fake Loki: body format, headers, 429 retry, 400 drop.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Receiver, Req, wait_for};
use lookout_forward::{ForwardOptions, Forwarders, LokiPushConfig};
use lookout_model::{Labels, MetricsWriter, PromDuration};
use lookout_storage::logs::mem::MemLogs;
use lookout_storage::logs::{Entry, LogSink, LogSource, PushStream};
use lookout_wire::loki::PushRequest;
use prost::Message;

fn decode(req: &Req) -> PushRequest {
    let raw = lookout_wire::body::decode_snappy(&req.body, 64 << 20).unwrap();
    PushRequest::decode(raw.as_slice()).unwrap()
}

fn cfg(url: String) -> LokiPushConfig {
    let mut c = LokiPushConfig::new(url);
    c.name = "loki".into();
    c.batch_wait = PromDuration::from_millis(50);
    c.min_backoff = PromDuration::from_millis(10);
    c.max_backoff = PromDuration::from_millis(100);
    c.tenant_id = "team-a".into();
    c
}

fn push(job: &str, n: i64, from: i64) -> Vec<PushStream> {
    vec![PushStream {
        labels: Labels::from_pairs(&[("job", job), ("level", "info")]).unwrap(),
        entries: (from..from + n)
            .map(|i| Entry {
                ts: 1_700_000_000_000_000_000 + i,
                line: format!("line {i}"),
                metadata: vec![("trace_id".into(), format!("t{i}"))],
            })
            .collect(),
    }]
}

/// (stream selector, line) of every entry in accepted requests.
fn entries(r: &Receiver) -> Vec<(String, String)> {
    r.requests()
        .iter()
        .filter(|q| q.status < 300)
        .flat_map(|q| {
            decode(q).streams.into_iter().flat_map(|s| {
                s.entries
                    .into_iter()
                    .map(move |e| (s.labels.clone(), e.line))
            })
        })
        .collect()
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_arrive_as_snappy_protobuf_with_metadata() {
    let r = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let f = Forwarders::start(
        ForwardOptions::new(dir.path(), vec![], vec![cfg(r.url("/loki/api/v1/push"))]),
        &tokio::runtime::Handle::current(),
    )
    .unwrap();
    let inner = Arc::new(MemLogs::new());
    let sink = f.wrap_log_sink(Some(inner.clone()));
    assert_eq!(sink.push(push("a", 3, 0)).unwrap(), 3);
    assert_eq!(sink.push(push("b", 2, 0)).unwrap(), 2);
    assert!(wait_for(10, || entries(&r).len() == 5).await);
    let req = &r.requests()[0];
    assert_eq!(
        req.header("content-type").as_deref(),
        Some("application/x-protobuf")
    );
    assert_eq!(req.header("x-scope-orgid").as_deref(), Some("team-a"));
    assert!(req.header("user-agent").unwrap().starts_with("Lookout/"));
    let all: Vec<_> = r
        .requests()
        .iter()
        .flat_map(|q| decode(q).streams)
        .collect();
    let a = all
        .iter()
        .find(|s| s.labels == r#"{job="a", level="info"}"#)
        .unwrap();
    let lines: Vec<_> = a.entries.iter().map(|e| e.line.as_str()).collect();
    assert_eq!(lines, vec!["line 0", "line 1", "line 2"]);
    let e = &a.entries[1];
    let ts = e.timestamp.unwrap();
    assert_eq!((ts.seconds, ts.nanos), (1_700_000_000, 1));
    assert_eq!(e.structured_metadata[0].name, "trace_id");
    assert_eq!(e.structured_metadata[0].value, "t1");
    assert_eq!(metric(&f, "lookout_loki_forward_entries_total{"), 5.0);
    // The inner store got them too.
    assert_eq!(inner.series(&[], 0, i64::MAX).len(), 2);
    f.stop(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_retried_and_bad_requests_dropped() {
    let r = Receiver::start().await;
    r.state.lock().script.extend([(429, None), (429, None)]);
    let dir = tempfile::tempdir().unwrap();
    let f = Forwarders::start(
        ForwardOptions::new(dir.path(), vec![], vec![cfg(r.url("/push"))]),
        &tokio::runtime::Handle::current(),
    )
    .unwrap();
    let sink = f.wrap_log_sink(None);
    sink.push(push("a", 4, 0)).unwrap();
    assert!(wait_for(10, || entries(&r).len() == 4).await);
    assert_eq!(r.requests().len(), 3);
    assert_eq!(
        r.requests()[2].header("retry-attempt").as_deref(),
        Some("2")
    );
    assert_eq!(metric(&f, "lookout_loki_forward_failed_total{"), 0.0);
    r.state.lock().script.push_back((400, None));
    sink.push(push("b", 6, 0)).unwrap();
    assert!(
        wait_for(10, || metric(&f, "lookout_loki_forward_failed_total{")
            == 6.0)
        .await
    );
    sink.push(push("c", 1, 0)).unwrap();
    assert!(wait_for(10, || entries(&r).len() == 5).await);
    assert_eq!(metric(&f, "lookout_loki_forward_entries_total{"), 5.0);
    assert_eq!(metric(&f, "lookout_loki_forward_pending{"), 0.0);
    f.stop(Duration::from_secs(5)).await;
}
