//! Metric metadata from scraped expositions: listed while the target is scraped, gone with it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use lookout_collect::config::{GlobalConfig, parse_scrape_configs};
use lookout_collect::scrape::{ScrapeManager, ScrapeOptions};
use lookout_storage::Storage;
use lookout_storage::mem::MemStorage;

const EXPOSITION: &str = "# HELP http_requests_total Requests served.\n\
# TYPE http_requests_total counter\n\
http_requests_total{code=\"200\"} 3\n\
# HELP queue_depth Items waiting.\n\
# TYPE queue_depth gauge\n\
queue_depth 2\n\
# HELP latency_seconds Request latency.\n\
# TYPE latency_seconds histogram\n\
latency_seconds_bucket{le=\"+Inf\"} 1\n\
latency_seconds_sum 0.5\n\
latency_seconds_count 1\n\
untyped_thing 1\n";

async fn serve() -> String {
    let app = Router::new().route("/metrics", get(|| async { EXPOSITION }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr.to_string()
}

/// Polls `cond` every 20 ms for at most 10 s.
async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn metric_line(m: &ScrapeManager, name: &str) -> Option<String> {
    let mut w = lookout_model::MetricsWriter::new();
    m.write_metrics(&mut w);
    let text = w.finish();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")).map(str::to_owned))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_comes_and_goes_with_the_target() {
    let storage = Arc::new(MemStorage::new());
    let m = ScrapeManager::new(storage as Arc<dyn Storage>, ScrapeOptions::default());
    assert!(m.metadata().is_empty());
    let job = |name: &str, addr: &str| {
        format!(
            "- job_name: {name}\n  scrape_interval: 250ms\n  scrape_timeout: 250ms\n  static_configs: [{{targets: ['{addr}']}}]\n"
        )
    };
    let (a, b) = (serve().await, serve().await);
    let both = format!("{}{}", job("a", &a), job("b", &b));
    m.apply_config(parse_scrape_configs(&both, &GlobalConfig::default()).unwrap())
        .unwrap();
    let row = |f: &str, k: &str, h: &str| (f.to_owned(), k.to_owned(), h.to_owned(), String::new());
    let want = vec![
        row("http_requests_total", "counter", "Requests served."),
        row("latency_seconds", "histogram", "Request latency."),
        row("queue_depth", "gauge", "Items waiting."),
    ];
    // Two targets expose the same families: each is listed once, but both targets hold entries.
    wait_for("both targets' metadata", || {
        metric_line(&m, "lookout_scrape_metadata_entries").as_deref() == Some("6")
    })
    .await;
    assert_eq!(m.metadata(), want);
    assert_eq!(
        metric_line(&m, "lookout_scrape_metadata_dropped_total").as_deref(),
        Some("0")
    );

    // One target goes: the other still provides the same metadata.
    m.apply_config(parse_scrape_configs(&job("b", &b), &GlobalConfig::default()).unwrap())
        .unwrap();
    wait_for("the first target's metadata to go", || {
        metric_line(&m, "lookout_scrape_metadata_entries").as_deref() == Some("3")
    })
    .await;
    assert_eq!(m.metadata(), want);

    // The last target goes: nothing is left.
    m.apply_config(Vec::new()).unwrap();
    wait_for("all metadata to go", || m.metadata().is_empty()).await;
    assert_eq!(
        metric_line(&m, "lookout_scrape_metadata_entries").as_deref(),
        Some("0")
    );
    m.shutdown(Duration::from_secs(2)).await;
}
