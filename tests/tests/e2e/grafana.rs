//! The request sequence Grafana's Prometheus data source makes (health check, version detection, metric browser,
//! label values, series, metadata, exemplar probe, range and instant queries via form POST), with the shapes it reads.

use lookout_e2e::{Lookout, enc, get_json, post_bytes, post_form};

async fn seeded() -> Lookout {
    let lo = Lookout::start(Some(
        "scrape_configs: []\nserver:\n  route_prefix: /prometheus\n",
    ))
    .await;
    let mut body = String::new();
    for i in 0..60i64 {
        let t = 1_700_000_000_000 + i * 15_000;
        for (inst, rate) in [("a:9100", 3), ("b:9100", 5)] {
            body.push_str(&format!(
                "gf_requests_total{{job=\"node\",instance=\"{inst}\"}} {} {t}\n",
                i * rate
            ));
            body.push_str(&format!(
                "gf_temp_celsius{{job=\"node\",instance=\"{inst}\"}} {}.5 {t}\n",
                20 + i % 7
            ));
        }
    }
    let (code, j) = post_bytes(
        &format!("{}/api/v1/import/prometheus", lo.url),
        body.into_bytes(),
        &[],
    )
    .await;
    assert_eq!(code, 204, "{j}");
    lo
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grafana_data_source_sequence() {
    let lo = seeded().await;
    let u = &lo.url;

    // 1. "Save & test": instant query 1+1 at time 4, form POST.
    let (code, j) = post_form(
        &format!("{u}/api/v1/query"),
        &[("query", "1+1"), ("time", "4")],
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        j,
        serde_json::json!({"status":"success","data":{"resultType":"scalar","result":[4,"2"]}})
    );

    // A data source URL with a path prefix reaches the same API.
    let (code, j) = get_json(&format!("{u}/prometheus/api/v1/query?query=1%2B1&time=4")).await;
    assert_eq!(code, 200, "{j}");
    assert_eq!(j["data"]["result"][1], "2");

    // 2. Version detection: Prometheus shape, semver, no `features`.
    let (_, j) = get_json(&format!("{u}/api/v1/status/buildinfo")).await;
    let version = j["data"]["version"].as_str().unwrap();
    assert_eq!(version.split('.').count(), 3, "{version}");
    assert!(j["data"].get("features").is_none());

    // 3. Metric browser: metric names with start/end/limit, and unknown parameters are ignored.
    let (code, j) = get_json(&format!(
        "{u}/api/v1/label/__name__/values?start=1699999000&end=1700001000&limit=40000&max_samples_processed_warning_threshold=1"
    ))
    .await;
    assert_eq!(code, 200, "{j}");
    assert_eq!(
        j["data"],
        serde_json::json!(["gf_requests_total", "gf_temp_celsius"])
    );

    // 4. Label names for a selector (POST form with match[]).
    let (code, j) = post_form(
        &format!("{u}/api/v1/labels"),
        &[
            ("match[]", "gf_temp_celsius"),
            ("start", "1699999000"),
            ("end", "1700001000"),
        ],
    )
    .await;
    assert_eq!(code, 200, "{j}");
    assert_eq!(
        j["data"],
        serde_json::json!(["__name__", "instance", "job"])
    );

    // 5. Label values for a selector.
    let (_, j) = get_json(&format!(
        "{u}/api/v1/label/instance/values?match[]={}",
        enc("gf_temp_celsius{job=\"node\"}")
    ))
    .await;
    assert_eq!(j["data"], serde_json::json!(["a:9100", "b:9100"]));

    // 6. Series for "everything".
    let (code, j) = post_form(
        &format!("{u}/api/v1/series"),
        &[
            ("match[]", "{__name__!=\"\"}"),
            ("start", "1699999000"),
            ("end", "1700001000"),
            ("limit", "40000"),
        ],
    )
    .await;
    assert_eq!(code, 200, "{j}");
    assert_eq!(j["data"].as_array().unwrap().len(), 4);

    // 7. Metadata: an object (may be empty).
    let (code, j) = get_json(&format!("{u}/api/v1/metadata")).await;
    assert_eq!(code, 200);
    assert!(j["data"].is_object(), "{j}");

    // 8. Exemplar probe with millisecond start/end.
    let (code, j) = post_form(
        &format!("{u}/api/v1/query_exemplars"),
        &[
            ("query", "test"),
            ("start", "1699998200000"),
            ("end", "1700000000000"),
        ],
    )
    .await;
    assert_eq!(code, 200, "{j}");
    assert_eq!(j["status"], "success");

    // 9. A panel's range query ($__rate_interval already substituted), step in seconds, form POST.
    let (code, j) = post_form(
        &format!("{u}/api/v1/query_range"),
        &[
            ("query", "sum by (instance) (rate(gf_requests_total[1m]))"),
            ("start", "1700000300"),
            ("end", "1700000600"),
            ("step", "60"),
        ],
    )
    .await;
    assert_eq!(code, 200, "{j}");
    assert_eq!(j["data"]["resultType"], "matrix");
    let series = j["data"]["result"].as_array().unwrap();
    assert_eq!(series.len(), 2);
    assert_eq!(
        series[0]["metric"],
        serde_json::json!({"instance":"a:9100"})
    );
    assert_eq!(series[0]["values"].as_array().unwrap().len(), 6);
    assert_eq!(series[0]["values"][0][0], serde_json::json!(1700000300));
    let v: f64 = series[0]["values"][0][1].as_str().unwrap().parse().unwrap();
    assert!((v - 0.2).abs() < 1e-9, "3 per 15 s is 0.2/s, got {v}");

    // 10. An instant query at an unaligned float time (the dashboard's range end).
    let (code, j) = post_form(
        &format!("{u}/api/v1/query"),
        &[("query", "gf_temp_celsius"), ("time", "1700000600.123")],
    )
    .await;
    assert_eq!(code, 200, "{j}");
    assert_eq!(
        j["data"]["result"][0]["value"][0],
        serde_json::json!(1700000600.123)
    );

    // Cardinality page (Prometheus UI and tools): head stats and top lists.
    let (code, j) = get_json(&format!("{u}/api/v1/status/tsdb")).await;
    assert_eq!(code, 200, "{j}");
    assert_eq!(j["data"]["headStats"]["numSeries"], 4, "{j}");
    assert!(
        j["data"]["headStats"]["chunkCount"].as_u64().unwrap() >= 4,
        "{j}"
    );
    assert!(
        j["data"]["seriesCountByMetricName"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "gf_temp_celsius"),
        "{j}"
    );

    lo.server.stop().await.unwrap();
}
