//! The README's run command: the embedded default scrapes Lookout itself, so `up{job="lookout"}` is 1 within 30 s.

use std::time::Duration;

use lookout_e2e::{Lookout, get_json, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_default_config_scrapes_itself_within_30s() {
    let lo = Lookout::start(None).await;
    let url = format!("{}/api/v1/query?query=up%7Bjob%3D%22lookout%22%7D", lo.url);
    let sample = wait_for(
        "up{job=\"lookout\"} = 1",
        Duration::from_secs(30),
        || async {
            let (code, j) = get_json(&url).await;
            assert_eq!(code, 200, "{j}");
            let r = j["data"]["result"].as_array()?.first()?.clone();
            Some(r)
        },
    )
    .await;
    assert_eq!(sample["metric"]["job"], "lookout");
    assert_eq!(sample["metric"]["instance"], lo.server.addr.to_string());
    assert_eq!(sample["value"][1], "1");
    // The self-scrape stored the self-metrics too.
    let (_, j) = get_json(&format!(
        "{}/api/v1/query?query=lookout_api_queries_total",
        lo.url
    ))
    .await;
    assert_eq!(j["data"]["result"].as_array().map(Vec::len), Some(1), "{j}");
    lo.server.stop().await.unwrap();
}
