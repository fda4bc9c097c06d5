//! `/api/v1/metadata` lists the `# TYPE`/`# HELP` of scraped targets, as Grafana's metric browser expects.

use std::time::Duration;

use lookout_e2e::{Lookout, get_json, serve_fixed, wait_for};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_lists_scraped_families() {
    let target = serve_fixed(
        "# HELP e2e_jobs_processed_total Jobs processed by the \\\\ worker.\n\
         # TYPE e2e_jobs_processed_total counter\n\
         e2e_jobs_processed_total{queue=\"a\"} 7\n\
         e2e_jobs_processed_total{queue=\"b\"} 9\n",
    )
    .await;
    let config = format!(
        r#"
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: meta
    static_configs:
      - targets: ["{target}"]
"#
    );
    let lo = Lookout::start(Some(&config)).await;
    let u = lo.url.clone();

    let want = json!([{"type": "counter", "help": "Jobs processed by the \\ worker.", "unit": ""}]);
    let all = wait_for("the target's metadata", Duration::from_secs(20), || async {
        let (code, j) = get_json(&format!("{u}/api/v1/metadata")).await;
        assert_eq!(code, 200, "{j}");
        (j["data"]["e2e_jobs_processed_total"] != serde_json::Value::Null).then_some(j)
    })
    .await;
    assert_eq!(all["status"], "success", "{all}");
    assert_eq!(all["data"]["e2e_jobs_processed_total"], want, "{all}");

    // Filtered to the family: exactly that entry.
    let (code, j) = get_json(&format!(
        "{u}/api/v1/metadata?metric=e2e_jobs_processed_total"
    ))
    .await;
    assert_eq!(code, 200, "{j}");
    assert_eq!(j["data"], json!({"e2e_jobs_processed_total": want}), "{j}");
    lo.server.stop().await.unwrap();
}
