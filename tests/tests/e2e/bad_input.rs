//! Bad input gets the documented error, and the process stays healthy with nothing accepted lost.

use std::time::Duration;

use lookout_e2e::{Lookout, get_json, post_bytes, post_form, serve_fixed, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_clearly_and_nothing_is_lost() {
    let bad = serve_fixed("good_metric 1\nbroken_metric{a=\"1\" 2\n").await;
    let config = format!(
        r#"
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: broken
    static_configs:
      - targets: ["{bad}"]
limits:
  query_max_samples: 50
  max_write_body: 8KiB
"#
    );
    let lo = Lookout::start(Some(&config)).await;
    let u = lo.url.clone();

    // Data accepted before the bad input.
    let (code, j) = post_bytes(
        &format!("{u}/api/v1/import/prometheus"),
        b"kept_metric 42 1700000000000\n".to_vec(),
        &[],
    )
    .await;
    assert_eq!(code, 204, "{j}");

    // Malformed exposition: the whole scrape fails, up = 0, lastError names the line, nothing stored from it.
    let target = wait_for(
        "the broken target to be scraped",
        Duration::from_secs(20),
        || async {
            let (_, j) = get_json(&format!("{u}/api/v1/targets")).await;
            let t = j["data"]["activeTargets"].as_array()?.first()?.clone();
            (t["health"] == "down").then_some(t)
        },
    )
    .await;
    let err = target["lastError"].as_str().unwrap();
    assert!(
        err.contains("line 2"),
        "lastError should name the line: {err}"
    );
    let (_, j) = get_json(&format!(
        "{u}/api/v1/query?query=up%7Bjob%3D%22broken%22%7D"
    ))
    .await;
    assert_eq!(j["data"]["result"][0]["value"][1], "0", "{j}");
    let (_, j) = get_json(&format!("{u}/api/v1/series?match[]=good_metric")).await;
    assert_eq!(
        j["data"],
        serde_json::json!([]),
        "nothing from a failed scrape is stored: {j}"
    );

    // Malformed remote_write: 400; oversized: 413.
    let rw = [
        ("content-type", "application/x-protobuf"),
        ("content-encoding", "snappy"),
    ];
    let (code, j) = post_bytes(&format!("{u}/api/v1/write"), vec![0xff; 100], &rw).await;
    assert_eq!(code, 400, "{j}");
    let (code, j) = post_bytes(&format!("{u}/api/v1/write"), vec![0; 16384], &rw).await;
    assert_eq!(code, 413, "{j}");
    assert!(
        j["error"]
            .as_str()
            .unwrap()
            .contains("limits.max_write_body"),
        "{j}"
    );

    // Invalid PromQL: 400 bad_data with a position.
    let (code, j) = post_form(
        &format!("{u}/api/v1/query"),
        &[("query", "sum(rate(x[5m])")],
    )
    .await;
    assert_eq!(code, 400, "{j}");
    assert_eq!(j["errorType"], "bad_data");
    assert!(j["error"].as_str().unwrap().contains("parse error"), "{j}");

    // Over the samples limit: 422 execution naming the limit.
    let mut body = String::new();
    for i in 0..100 {
        body.push_str(&format!(
            "many_samples {i} {}\n",
            1_700_000_000_000i64 + i * 1000
        ));
    }
    let (code, _) = post_bytes(
        &format!("{u}/api/v1/import/prometheus"),
        body.into_bytes(),
        &[],
    )
    .await;
    assert_eq!(code, 204);
    let (code, j) = post_form(
        &format!("{u}/api/v1/query"),
        &[
            ("query", "count_over_time(many_samples[5m])"),
            ("time", "1700000100"),
        ],
    )
    .await;
    assert_eq!(code, 422, "{j}");
    assert!(
        j["error"].as_str().unwrap().contains("query.max_samples"),
        "{j}"
    );

    // Each refusal is counted under its limit's name.
    let (_, metrics) = get_json(&format!("{u}/metrics")).await;
    let metrics = metrics.as_str().unwrap_or_default().to_string();
    for line in [
        "lookout_api_limit_hits_total{limit=\"limits.max_write_body\"} 1",
        "lookout_api_limit_hits_total{limit=\"query.max_samples\"} 1",
        "lookout_api_query_errors_total{type=\"bad_data\"} 1",
    ] {
        assert!(metrics.contains(line), "/metrics lacks {line:?}");
    }

    // Still healthy, and the accepted data is intact.
    let (code, _) = get_json(&format!("{u}/-/healthy")).await;
    assert_eq!(code, 200);
    let (_, j) = post_form(
        &format!("{u}/api/v1/query"),
        &[("query", "kept_metric"), ("time", "1700000001")],
    )
    .await;
    assert_eq!(j["data"]["result"][0]["value"][1], "42", "{j}");
    lo.server.stop().await.unwrap();
}
