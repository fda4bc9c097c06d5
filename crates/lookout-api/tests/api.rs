//! Router-level tests: the request shapes Grafana and promtool send, answered from an in-memory store.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use lookout_api::{ApiLimits, ApiState, Services, router};
use lookout_model::Labels;
use lookout_promql::{Engine, EngineOptions};
use lookout_storage::Storage;
use lookout_storage::mem::MemStorage;
use tower::ServiceExt;

fn state_with_data() -> ApiState {
    let storage = Arc::new(MemStorage::new());
    let mut a = storage.appender();
    for (job, inst) in [
        ("node", "a:9100"),
        ("node", "b:9100"),
        ("lookout", "localhost:9090"),
    ] {
        let l =
            Labels::from_pairs(&[("__name__", "up"), ("job", job), ("instance", inst)]).unwrap();
        for i in 0..20 {
            a.append(&l, i * 15_000, 1.0).unwrap();
        }
    }
    a.commit().unwrap();
    let limits = ApiLimits {
        max_form_body_bytes: 1024,
        ..ApiLimits::default()
    };
    ApiState::new(
        storage,
        Arc::new(Engine::new(EngineOptions::default())),
        Services::none(),
        limits,
    )
}

async fn call(state: &ApiState, req: Request<Body>) -> (StatusCode, serde_json::Value) {
    let resp = router(state.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
    });
    (status, json)
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn post_form(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn label_names_and_values_are_sorted_lists() {
    let st = state_with_data();
    let (code, j) = call(&st, get("/api/v1/labels")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        j["data"],
        serde_json::json!(["__name__", "instance", "job"])
    );
    let (_, j) = call(&st, get("/api/v1/label/job/values")).await;
    assert_eq!(j["data"], serde_json::json!(["lookout", "node"]));
    let (_, j) = call(
        &st,
        get("/api/v1/label/job/values?match[]=up%7Binstance%3D%22a:9100%22%7D"),
    )
    .await;
    assert_eq!(j["data"], serde_json::json!(["node"]));
    let (_, j) = call(&st, get("/api/v1/label/nothing/values")).await;
    assert_eq!(j["data"], serde_json::json!([]));
}

#[tokio::test]
async fn series_needs_match_and_accepts_form_posts() {
    let st = state_with_data();
    let (code, j) = call(&st, get("/api/v1/series")).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(j["errorType"], "bad_data");
    let (code, j) = call(
        &st,
        post_form("/api/v1/series", "match%5B%5D=up%7Bjob%3D%22node%22%7D"),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{j}");
    assert_eq!(j["data"].as_array().unwrap().len(), 2);
    assert_eq!(j["data"][0]["instance"], "a:9100");
    let (_, j) = call(&st, get("/api/v1/series?match[]=up&limit=1")).await;
    assert_eq!(j["data"].as_array().unwrap().len(), 1);
    assert_eq!(j["warnings"][0], "results truncated due to limit");
}

#[tokio::test]
async fn buildinfo_looks_like_prometheus_without_features() {
    let st = state_with_data();
    let (code, j) = call(&st, get("/api/v1/status/buildinfo")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(j["data"]["version"], "2.50.1");
    assert!(j["data"].get("features").is_none());
}

#[tokio::test]
async fn bad_parameters_get_bad_data_errors() {
    let st = state_with_data();
    let (code, j) = call(
        &st,
        get("/api/v1/query_range?query=up&start=10&end=5&step=1"),
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(
        j["error"]
            .as_str()
            .unwrap()
            .contains("end timestamp must not be before start time")
    );
    let (code, j) = call(
        &st,
        get("/api/v1/query_range?query=up&start=0&end=100000&step=1"),
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(j["error"].as_str().unwrap().contains("11,000 points"));
    let (code, j) = call(&st, get("/api/v1/query?query=up&time=yesterday")).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(
        j["error"]
            .as_str()
            .unwrap()
            .contains("invalid parameter \"time\"")
    );
}

#[tokio::test]
async fn oversized_form_body_is_413() {
    let st = state_with_data();
    let body = format!("query={}", "a".repeat(4096));
    let (code, j) = call(&st, post_form("/api/v1/query", &body)).await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        j["error"]
            .as_str()
            .unwrap()
            .contains("limits.max_form_body_bytes"),
        "{j}"
    );
}

#[tokio::test]
async fn grafana_health_check_query() {
    let st = state_with_data();
    let (code, j) = call(&st, post_form("/api/v1/query", "query=1%2B1&time=4")).await;
    assert_eq!(code, StatusCode::OK, "{j}");
    assert_eq!(
        j,
        serde_json::json!({"status":"success","data":{"resultType":"scalar","result":[4,"2"]}})
    );
}

#[tokio::test]
async fn instant_and_range_queries_return_prometheus_shapes() {
    let st = state_with_data();
    let (code, j) = call(
        &st,
        get("/api/v1/query?query=up%7Bjob%3D%22node%22%7D&time=60"),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{j}");
    assert_eq!(j["data"]["resultType"], "vector");
    let r = j["data"]["result"].as_array().unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0]["value"], serde_json::json!([60, "1"]));
    let (code, j) = call(
        &st,
        post_form("/api/v1/query_range", "query=up&start=0&end=60&step=15"),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{j}");
    assert_eq!(j["data"]["resultType"], "matrix");
    assert_eq!(
        j["data"]["result"][0]["values"].as_array().unwrap().len(),
        5
    );
    let (code, j) = call(&st, get("/api/v1/query?query=sum(")).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(j["errorType"], "bad_data");
}

#[tokio::test]
async fn lifecycle_endpoints_answer_like_prometheus() {
    let st = state_with_data();
    let (code, j) = call(&st, get("/-/healthy")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(j, "Prometheus is Healthy.\n");
    let (code, _) = call(&st, get("/-/reload")).await;
    assert_eq!(code, StatusCode::METHOD_NOT_ALLOWED);
    let (code, j) = call(&st, get("/metrics")).await;
    assert_eq!(code, StatusCode::OK);
    assert!(j.as_str().unwrap().contains("lookout_api_queries_total"));
}

fn write_request(series: &[(Labels, Vec<lookout_model::Sample>)]) -> Vec<u8> {
    let v: Vec<lookout_wire::remote_write::WriteSeries> = series
        .iter()
        .map(
            |(labels, samples)| lookout_wire::remote_write::WriteSeries {
                labels: labels.clone(),
                samples: samples.clone(),
                exemplars: 0,
                histograms: 0,
            },
        )
        .collect();
    lookout_wire::remote_write::encode_write_request(&v, &[])
}

#[tokio::test]
async fn remote_write_commits_whole_requests_or_names_the_bad_series() {
    use lookout_model::Sample;
    let st = state_with_data();
    let good = Labels::from_pairs(&[("__name__", "rw_metric"), ("job", "rw")]).unwrap();
    let body = write_request(&[(
        good.clone(),
        vec![Sample::new(1000, 1.0), Sample::new(2000, 2.0)],
    )]);
    let req = Request::post("/api/v1/write")
        .header("content-type", "application/x-protobuf")
        .header("content-encoding", "snappy")
        .header("x-prometheus-remote-write-version", "0.1.0")
        .body(Body::from(body))
        .unwrap();
    let (code, j) = call(&st, req).await;
    assert_eq!(code, StatusCode::NO_CONTENT, "{j}");
    let (_, j) = call(&st, get("/api/v1/series?match[]=rw_metric")).await;
    assert_eq!(j["data"].as_array().unwrap().len(), 1);

    // An out-of-order sample in the second series rejects the request whole: the first series' sample is not kept.
    let other = Labels::from_pairs(&[("__name__", "rw_other"), ("job", "rw")]).unwrap();
    let body = write_request(&[
        (other, vec![Sample::new(5000, 1.0)]),
        (good, vec![Sample::new(1500, 9.0)]),
    ]);
    let req = Request::post("/api/v1/write")
        .header("content-type", "application/x-protobuf")
        .header("content-encoding", "snappy")
        .body(Body::from(body))
        .unwrap();
    let (code, j) = call(&st, req).await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{j}");
    assert!(j["error"].as_str().unwrap().contains("rw_metric"), "{j}");
    let (_, j) = call(&st, get("/api/v1/series?match[]=rw_other")).await;
    assert_eq!(j["data"], serde_json::json!([]));

    let req = Request::post("/api/v1/write")
        .header("content-type", "application/x-protobuf")
        .header("content-encoding", "snappy")
        .body(Body::from(vec![0xffu8; 64]))
        .unwrap();
    let (code, _) = call(&st, req).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn import_accepts_text_with_ms_timestamps_and_rejects_bad_lines() {
    let st = state_with_data();
    let body = "imp_metric{a=\"1\"} 5 1000\nimp_metric{a=\"1\"} 6 2000\n";
    let (code, j) = call(
        &st,
        Request::post("/api/v1/import/prometheus")
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_eq!(code, StatusCode::NO_CONTENT, "{j}");
    let (_, j) = call(&st, get("/api/v1/query?query=imp_metric&time=2")).await;
    assert_eq!(j["data"]["result"][0]["value"], serde_json::json!([2, "6"]));
    let bad = "imp_bad 1 1000\nimp_bad{ 2 2000\n";
    let (code, j) = call(
        &st,
        Request::post("/api/v1/import/prometheus")
            .body(Body::from(bad))
            .unwrap(),
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(j["error"].as_str().unwrap().contains("line 2"), "{j}");
    let (_, j) = call(&st, get("/api/v1/series?match[]=imp_bad")).await;
    assert_eq!(j["data"], serde_json::json!([]));
}

#[tokio::test]
async fn shipped_dashboards_are_listed_and_served_as_grafana_json() {
    let st = state_with_data();
    let (code, list) = call(&st, get("/api/lookout/v1/dashboards")).await;
    assert_eq!(code, StatusCode::OK);
    let entries = list["data"].as_array().expect("a list");
    assert!(!entries.is_empty(), "{list}");
    for e in entries {
        let uid = e["uid"].as_str().unwrap();
        let (code, d) = call(&st, get(&format!("/api/lookout/v1/dashboards/{uid}"))).await;
        assert_eq!(code, StatusCode::OK, "{uid}");
        assert_eq!(d["uid"], uid, "the dashboard itself, not an envelope");
        assert_eq!(d["title"], e["title"]);
        assert!(d["panels"].is_array(), "{uid}");
    }
    let (code, j) = call(&st, get("/api/lookout/v1/dashboards/nope")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(j["errorType"], "not_found");
}

/// A range answer large enough to be written in pieces on the query threads (over 32 series, over 10,000
/// points) arrives whole: its length header matches, it parses, and every series and point is in it in order.
#[tokio::test]
async fn a_large_range_answer_written_in_pieces_arrives_whole() {
    let storage = Arc::new(MemStorage::new());
    let mut a = storage.appender();
    for i in 0..100 {
        let l = Labels::from_pairs(&[("__name__", "g"), ("i", &format!("{i:03}"))]).unwrap();
        for k in 0..400 {
            a.append(&l, k * 15_000, (i * 1000 + k) as f64 + 0.25)
                .unwrap();
        }
    }
    a.commit().unwrap();
    let state = ApiState::new(
        storage,
        Arc::new(Engine::new(EngineOptions::default())),
        Services::none(),
        ApiLimits::default(),
    );
    let resp = router(state)
        .oneshot(get("/api/v1/query_range?query=g&start=0&end=5985&step=15"))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let length: usize = resp.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(length, bytes.len());
    let j: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let result = j["data"]["result"].as_array().unwrap();
    assert_eq!(result.len(), 100);
    for (i, s) in result.iter().enumerate() {
        assert_eq!(s["metric"]["i"], format!("{i:03}"));
        let values = s["values"].as_array().unwrap();
        assert_eq!(values.len(), 400);
        for (k, v) in values.iter().enumerate() {
            assert_eq!(v[0].as_f64().unwrap(), (k * 15) as f64);
            assert_eq!(v[1], format!("{}.25", i * 1000 + k));
        }
    }
}
