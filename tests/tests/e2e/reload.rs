//! `/-/reload`: a bad new configuration is refused with the old one still running; a good one takes effect.

use std::time::Duration;

use lookout_e2e::{Lookout, get_json, scrape_pools, wait_for};

const GOOD: &str = "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: first\n    static_configs:\n      - targets: [\"127.0.0.1:9\"]\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_keeps_old_config_on_error_and_applies_good_one() {
    let lo = Lookout::start(Some(GOOD)).await;
    let path = lo.config_path().unwrap();
    assert_eq!(scrape_pools(&lo.url).await, vec!["first"]);

    std::fs::write(&path, "global:\n  scrape_intervl: 1s\n").unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{}/-/reload", lo.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 500);
    let body = resp.text().await.unwrap();
    assert!(
        body.contains("failed to reload config") && body.contains("scrape_intervl"),
        "{body}"
    );
    assert_eq!(
        scrape_pools(&lo.url).await,
        vec!["first"],
        "the old configuration keeps running"
    );

    std::fs::write(&path, GOOD.replace("first", "second")).unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{}/-/reload", lo.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let url = lo.url.clone();
    wait_for("the new job", Duration::from_secs(5), || async {
        (scrape_pools(&url).await == vec!["second"]).then_some(())
    })
    .await;
    let (_, j) = get_json(&format!("{}/api/v1/status/config", lo.url)).await;
    assert!(j["data"]["yaml"].as_str().unwrap().contains("second"));
    lo.server.stop().await.unwrap();
}
