//! End-to-end scrapes of a local HTTP server on 127.0.0.1 into the in-memory store.

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use lookout_collect::config::{GlobalConfig, parse_scrape_configs};
use lookout_collect::scrape::{Health, ScrapeManager, ScrapeOptions, TargetsSnapshot};
use lookout_model::{Labels, Matcher, Sample, TimeRange, is_stale_nan};
use lookout_storage::mem::MemStorage;
use lookout_storage::{SelectHints, Storage};
use parking_lot::Mutex;

#[derive(Default)]
struct Exposition {
    body: String,
    content_type: Option<&'static str>,
    gzip: bool,
    delay: Duration,
    seen_headers: Option<HeaderMap>,
}

type Shared = Arc<Mutex<Exposition>>;

async fn metrics(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let (body, ct, gzip, delay) = {
        let mut s = state.lock();
        s.seen_headers = Some(headers);
        (s.body.clone(), s.content_type, s.gzip, s.delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(ct.unwrap_or("text/plain; version=0.0.4")),
    );
    if gzip {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(body.as_bytes()).unwrap();
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        return (StatusCode::OK, headers, enc.finish().unwrap()).into_response();
    }
    (StatusCode::OK, headers, body).into_response()
}

async fn serve(body: &str) -> (String, Shared) {
    let state: Shared = Arc::new(Mutex::new(Exposition {
        body: body.to_string(),
        ..Exposition::default()
    }));
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route(
            "/broken",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "no") }),
        )
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr.to_string(), state)
}

fn manager(storage: &Arc<MemStorage>, yaml: &str) -> ScrapeManager {
    let m = ScrapeManager::new(
        storage.clone() as Arc<dyn Storage>,
        ScrapeOptions::default(),
    );
    let configs = parse_scrape_configs(yaml, &GlobalConfig::default()).unwrap();
    m.apply_config(configs).unwrap();
    m
}

fn job(addr: &str, extra: &str) -> String {
    format!(
        "- job_name: test\n  scrape_interval: 250ms\n  scrape_timeout: 250ms\n  static_configs: [{{targets: ['{addr}']}}]\n{extra}"
    )
}

fn series(storage: &MemStorage, name: &str) -> Vec<(Labels, Vec<Sample>)> {
    let q = storage.querier(TimeRange::ALL).unwrap();
    q.select(
        &[Matcher::equal("__name__", name)],
        SelectHints::samples(TimeRange::ALL),
    )
    .unwrap()
    .map(|s| {
        let mut s = s.unwrap();
        let mut v = Vec::new();
        s.samples.collect_into(&mut v);
        (s.labels, v)
    })
    .collect()
}

fn values(storage: &MemStorage, name: &str) -> Vec<f64> {
    series(storage, name)
        .into_iter()
        .flat_map(|(_, s)| s)
        .map(|s| s.v)
        .collect()
}

/// Polls `cond` every 20 ms for at most 10 s.
async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn only_target(m: &ScrapeManager) -> lookout_collect::scrape::TargetStatus {
    let TargetsSnapshot { active, .. } = m.targets();
    assert_eq!(active.len(), 1);
    active.into_iter().next().unwrap()
}

const EXPOSITION: &str = "# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\n\
http_requests_total{code=\"200\",path=\"/\"} 1027\nhttp_requests_total{code=\"500\",path=\"/\"} 3\n\
# TYPE temperature gauge\ntemperature 21.5\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrape_stores_samples_and_synthetic_series() {
    let (addr, state) = serve(EXPOSITION).await;
    state.lock().gzip = true;
    let storage = Arc::new(MemStorage::new());
    let m = manager(&storage, &job(&addr, ""));
    wait_for("a successful scrape", || !values(&storage, "up").is_empty()).await;

    assert_eq!(values(&storage, "up")[0], 1.0);
    let reqs = series(&storage, "http_requests_total");
    assert_eq!(reqs.len(), 2);
    let expected = Labels::from_pairs(&[
        ("__name__", "http_requests_total"),
        ("code", "200"),
        ("path", "/"),
        ("instance", &addr),
        ("job", "test"),
    ])
    .unwrap();
    assert_eq!(reqs[0].0, expected);
    assert_eq!(reqs[0].1[0].v, 1027.0);
    assert_eq!(values(&storage, "temperature")[0], 21.5);
    assert_eq!(values(&storage, "scrape_samples_scraped")[0], 3.0);
    assert_eq!(
        values(&storage, "scrape_samples_post_metric_relabeling")[0],
        3.0
    );
    assert_eq!(values(&storage, "scrape_series_added")[0], 3.0);
    assert!(values(&storage, "scrape_duration_seconds")[0] > 0.0);
    // The report series carry the target labels too, and every series of a scrape shares its timestamp.
    let up = &series(&storage, "up")[0];
    assert_eq!(up.0.get("instance"), Some(addr.as_str()));
    assert_eq!(up.1[0].t, reqs[0].1[0].t);

    let headers = state.lock().seen_headers.clone().unwrap();
    assert!(
        headers[header::ACCEPT]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    assert_eq!(headers["x-prometheus-scrape-timeout-seconds"], "0.25");
    assert_eq!(headers[header::ACCEPT_ENCODING], "gzip");

    // Health is updated just after the batch commits.
    wait_for("target health", || {
        only_target(&m).health.health == Health::Up
    })
    .await;
    let t = only_target(&m);
    assert_eq!(t.health.last_error, "");
    assert_eq!(t.target.url, format!("http://{addr}/metrics"));
    let mut w = lookout_model::MetricsWriter::new();
    m.write_metrics(&mut w);
    let text = w.finish();
    assert!(
        text.lines().any(|l| l == "lookout_scrape_targets 1"),
        "{text}"
    );
    m.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_body_fails_the_whole_scrape() {
    let (addr, _state) = serve("good_metric 1\nbad_metric{x=y} 2\n").await;
    let storage = Arc::new(MemStorage::new());
    let m = manager(&storage, &job(&addr, ""));
    wait_for("a failed scrape", || !values(&storage, "up").is_empty()).await;
    assert_eq!(values(&storage, "up")[0], 0.0);
    assert!(
        series(&storage, "good_metric").is_empty(),
        "nothing from a malformed body is stored"
    );
    wait_for("target health", || {
        only_target(&m).health.health == Health::Down
    })
    .await;
    let err = only_target(&m).health.last_error;
    assert!(err.contains("line 2"), "{err}");
    m.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vanished_series_and_removed_targets_get_stale_markers() {
    let (addr, state) = serve("stays 1\ngoes 2\n").await;
    let storage = Arc::new(MemStorage::new());
    let m = manager(&storage, &job(&addr, ""));
    wait_for("first scrape", || !values(&storage, "goes").is_empty()).await;
    state.lock().body = "stays 1\n".to_string();
    wait_for("stale marker", || {
        values(&storage, "goes").iter().any(|v| is_stale_nan(*v))
    })
    .await;
    let goes = values(&storage, "goes");
    assert!(is_stale_nan(*goes.last().unwrap()), "{goes:?}");

    // The whole target disappears from the configuration: everything it wrote is marked stale.
    m.apply_config(Vec::new()).unwrap();
    wait_for("end-of-run markers", || {
        ["stays", "up"]
            .iter()
            .all(|n| values(&storage, n).last().is_some_and(|v| is_stale_nan(*v)))
    })
    .await;
    assert!(m.targets().active.is_empty());
    m.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_limit_exceeded_fails_the_scrape() {
    let (addr, _state) = serve(EXPOSITION).await;
    let storage = Arc::new(MemStorage::new());
    let m = manager(&storage, &job(&addr, "  sample_limit: 2\n"));
    wait_for("a scrape", || {
        only_target(&m).health.health != Health::Unknown
    })
    .await;
    let t = only_target(&m);
    assert_eq!(t.health.health, Health::Down);
    assert!(
        t.health.last_error.contains("sample limit exceeded"),
        "{}",
        t.health.last_error
    );
    assert!(series(&storage, "temperature").is_empty());
    assert_eq!(values(&storage, "up")[0], 0.0);
    m.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honor_labels_conflicts_get_the_exported_prefix() {
    let (addr, _state) = serve("m{job=\"inner\",instance=\"x\"} 1\n").await;
    let storage = Arc::new(MemStorage::new());
    let m = manager(&storage, &job(&addr, ""));
    wait_for("a scrape", || !values(&storage, "m").is_empty()).await;
    let labels = &series(&storage, "m")[0].0;
    assert_eq!(labels.get("job"), Some("test"));
    assert_eq!(labels.get("exported_job"), Some("inner"));
    assert_eq!(labels.get("instance"), Some(addr.as_str()));
    assert_eq!(labels.get("exported_instance"), Some("x"));
    m.shutdown(Duration::from_secs(2)).await;

    let storage = Arc::new(MemStorage::new());
    let m = manager(&storage, &job(&addr, "  honor_labels: true\n"));
    wait_for("a scrape", || !values(&storage, "m").is_empty()).await;
    let labels = &series(&storage, "m")[0].0;
    assert_eq!(
        (
            labels.get("job"),
            labels.get("instance"),
            labels.get("exported_job")
        ),
        (Some("inner"), Some("x"), None)
    );
    m.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_failures_are_reported() {
    let (addr, state) = serve(&"padding_metric 1\n".repeat(200)).await;
    let storage = Arc::new(MemStorage::new());
    let yaml = format!(
        "{}- job_name: small\n  scrape_interval: 250ms\n  scrape_timeout: 250ms\n  body_size_limit: 1KB\n  static_configs: [{{targets: ['{addr}']}}]\n\
         - job_name: status\n  scrape_interval: 250ms\n  scrape_timeout: 250ms\n  metrics_path: /broken\n  static_configs: [{{targets: ['{addr}']}}]\n",
        job(&addr, "  basic_auth: {username: user, password: secret}\n")
    );
    let m = manager(&storage, &yaml);
    let by_job = |j: &str| {
        m.targets()
            .active
            .into_iter()
            .find(|t| t.target.job == j)
            .unwrap()
            .health
    };
    wait_for("the body size limit", || {
        by_job("small")
            .last_error
            .contains("body size limit exceeded")
    })
    .await;
    wait_for("the HTTP status", || {
        by_job("status").last_error == "server returned HTTP status 500 Internal Server Error"
    })
    .await;
    wait_for("the authenticated job to be up", || {
        by_job("test").health == Health::Up
    })
    .await;

    // A slow target times out.
    state.lock().delay = Duration::from_millis(1000);
    wait_for("a timeout", || {
        by_job("test").last_error.contains("timed out")
    })
    .await;
    m.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_in_flight_share_the_ingest_memory_pool() {
    // A 3.4 KB body under a 2 KB pool fails with the pool's reason (no body_size_limit is in the way); after the
    // failure the pool is empty again, and a small target beside it stays up.
    let (big, _) = serve(&"padding_metric 1\n".repeat(200)).await;
    let (small, _) = serve("small_metric 1\n").await;
    let storage = Arc::new(MemStorage::new());
    let m = ScrapeManager::new(
        storage.clone() as Arc<dyn Storage>,
        ScrapeOptions {
            body_memory_bytes: 2048,
            ..ScrapeOptions::default()
        },
    );
    let yaml = format!(
        "- job_name: big\n  scrape_interval: 250ms\n  scrape_timeout: 250ms\n  static_configs: [{{targets: ['{big}']}}]\n\
         - job_name: small\n  scrape_interval: 250ms\n  scrape_timeout: 250ms\n  static_configs: [{{targets: ['{small}']}}]\n"
    );
    m.apply_config(parse_scrape_configs(&yaml, &GlobalConfig::default()).unwrap())
        .unwrap();
    let by_job = |j: &str| {
        m.targets()
            .active
            .into_iter()
            .find(|t| t.target.job == j)
            .unwrap()
            .health
    };
    wait_for("the pool's refusal", || {
        by_job("big")
            .last_error
            .contains("scrape bodies in flight would exceed their memory share (2048 bytes")
    })
    .await;
    wait_for("the small target up", || {
        by_job("small").health == Health::Up
    })
    .await;
    let mut text = lookout_model::MetricsWriter::new();
    m.write_metrics(&mut text);
    let text = text.finish();
    assert!(
        text.lines().any(
            |l| l.starts_with("lookout_scrape_body_memory_exceeded_total ")
                && l != "lookout_scrape_body_memory_exceeded_total 0"
        ),
        "{text}"
    );
    assert!(
        text.contains("lookout_scrape_body_memory_limit_bytes 2048"),
        "{text}"
    );
    m.shutdown(Duration::from_secs(2)).await;
    assert!(
        text.contains("lookout_scrape_body_memory_bytes "),
        "the pool's use is exported: {text}"
    );
}
