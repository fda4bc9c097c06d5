//! LogQL through the running appliance, as Grafana's Loki data source, Logs Drilldown and logcli call it: the
//! data source's "Save & test" query, log queries with parsers (categorized labels), the volume histogram's metric
//! query, index stats and volume, detected labels and fields, format_query, and live tail over a WebSocket.

use futures_util::StreamExt;
use lookout_e2e::{Lookout, get_json, post_bytes, urlencode};
use serde_json::{Value, json};

const NS: i64 = 1_000_000_000;
/// 2026-12-01T00:00:00Z in ns.
const T0: i64 = 1_796_083_200 * NS;

async fn seed(url: &str) {
    let mut values = Vec::new();
    for i in 0..60i64 {
        let level = ["info", "info", "warn", "error"][(i % 4) as usize];
        values.push(json!([
            (T0 + i * NS).to_string(),
            format!(
                r#"{{"level":"{level}","dur_ms":{},"path":"/p/{}"}}"#,
                i * 20,
                i % 3
            )
        ]));
    }
    let body = json!({"streams": [
        {"stream": {"app": "api", "cluster": "c1"}, "values": values},
        {"stream": {"app": "controller", "cluster": "c1"}, "values": [
            [(T0 + 5 * NS).to_string(), "ts=1 level=info msg=\"reconciled pod-123\" took=15ms"],
            [(T0 + 6 * NS).to_string(), "ts=2 level=error msg=\"failed pod-9\" took=2s", {"trace_id": "abc"}]]}
    ]});
    let (code, b) = post_bytes(
        &format!("{url}/loki/api/v1/push"),
        body.to_string().into_bytes(),
        &[("content-type", "application/json")],
    )
    .await;
    assert_eq!(code, 204, "{b}");
}

async fn get(url: &str, path: &str, params: &[(&str, String)]) -> (u16, Value) {
    let q: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect();
    get_json(&format!("{url}{path}?{}", q.join("&"))).await
}

fn range() -> Vec<(&'static str, String)> {
    vec![
        ("start", T0.to_string()),
        ("end", (T0 + 120 * NS).to_string()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grafana_and_drilldown_queries_answer_in_loki_shapes() {
    let lo = Lookout::start(None).await;
    let url = lo.url.clone();
    seed(&url).await;

    // Grafana's "Save & test": exactly one vector sample of value 2.
    let (code, r) = get(
        &url,
        "/loki/api/v1/query",
        &[
            ("query", "vector(1)+vector(1)".into()),
            ("time", "4000000000".into()),
            ("direction", "backward".into()),
        ],
    )
    .await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["data"]["resultType"], "vector");
    assert_eq!(
        r["data"]["result"],
        json!([{"metric": {}, "value": [4000000000i64, "2"]}])
    );

    // The volume histogram Grafana sends for a log query in range mode.
    let mut p = range();
    p.push((
        "query",
        r#"sum by (level, detected_level) (count_over_time({app="api"} | json | drop __error__ [1m]))"#.into(),
    ));
    p.push(("step", "60000ms".into()));
    let (code, r) = get(&url, "/loki/api/v1/query_range", &p).await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["data"]["resultType"], "matrix");
    let series = r["data"]["result"].as_array().unwrap();
    let total = |lvl: &str| -> f64 {
        series
            .iter()
            .filter(|s| s["metric"]["level"] == lvl)
            .map(|s| {
                // The step at T0+60s covers (T0, T0+60s]: entries 1..=59.
                s["values"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|v| v[0] == json!((T0 / NS) + 60))
                    .map_or(0.0, |v| v[1].as_str().unwrap().parse::<f64>().unwrap())
            })
            .sum()
    };
    assert_eq!(total("info"), 29.0, "{r}");
    assert_eq!(total("warn"), 15.0, "{r}");
    assert_eq!(total("error"), 15.0, "{r}");
    assert!(
        series
            .iter()
            .all(|s| s["metric"]["detected_level"] == s["metric"]["level"]),
        "detected_level derived from the JSON level field: {r}"
    );

    // A parser query with the categorize flag: stream labels, structured metadata and parsed labels apart.
    let q = format!(
        "{url}/loki/api/v1/query_range?query={}&start={}&end={}&limit=5",
        urlencode(r#"{app="controller"} | logfmt | took > 1s"#),
        T0,
        T0 + 120 * NS
    );
    let resp = reqwest::Client::new()
        .get(&q)
        .header("X-Loki-Response-Encoding-Flags", "categorize-labels")
        .send()
        .await
        .unwrap();
    let r: Value = resp.json().await.unwrap();
    assert_eq!(
        r["data"]["encodingFlags"],
        json!(["categorize-labels"]),
        "{r}"
    );
    let s = &r["data"]["result"][0];
    assert_eq!(
        s["stream"],
        json!({"app": "controller", "cluster": "c1", "service_name": "controller"})
    );
    let entry = &s["values"][0];
    assert_eq!(entry[1], "ts=2 level=error msg=\"failed pod-9\" took=2s");
    assert_eq!(entry[2]["structuredMetadata"]["trace_id"], "abc");
    assert_eq!(entry[2]["structuredMetadata"]["detected_level"], "error");
    assert_eq!(entry[2]["parsed"]["took"], "2s");
    assert_eq!(entry[2]["parsed"]["msg"], "failed pod-9");

    // A selective needle, and a metric query with unwrap and a range query's matrix.
    let mut p = range();
    p.push(("query", r#"{app="controller"} |= "pod-123""#.into()));
    let (_, r) = get(&url, "/loki/api/v1/query_range", &p).await;
    assert_eq!(r["data"]["result"].as_array().unwrap().len(), 1, "{r}");
    let mut p = range();
    p.push((
        "query",
        r#"max_over_time({app="api"} | json | unwrap dur_ms [2m]) by (app)"#.into(),
    ));
    let (code, r) = get(
        &url,
        "/loki/api/v1/query",
        &[
            ("query", p[2].1.clone()),
            ("time", (T0 + 120 * NS).to_string()),
        ],
    )
    .await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["data"]["result"][0]["value"][1], "1180");

    // Index statistics and volume (Grafana's stats hint; Drilldown's service list with RFC 3339 times).
    let mut p = range();
    p.push(("query", r#"{cluster="c1"}"#.into()));
    let (code, r) = get(&url, "/loki/api/v1/index/stats", &p).await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["streams"], 2);
    assert_eq!(r["entries"], 62);
    assert!(r["bytes"].as_u64().unwrap() > 1000, "{r}");
    let (code, r) = get(
        &url,
        "/loki/api/v1/index/volume",
        &[
            ("query", r#"{service_name=~".+"}"#.into()),
            ("start", "2026-12-01T00:00:00.000Z".into()),
            ("end", "2026-12-01T00:02:00.000Z".into()),
            ("limit", "5000".into()),
        ],
    )
    .await;
    assert_eq!(code, 200, "{r}");
    let res = r["data"]["result"].as_array().unwrap();
    assert_eq!(res.len(), 2, "{r}");
    assert_eq!(
        res[0]["metric"],
        json!({"service_name": "api"}),
        "largest first: {r}"
    );
    let mut p = range();
    p.push(("query", r#"{app="api"}"#.into()));
    p.push(("step", "60".into()));
    let (code, r) = get(&url, "/loki/api/v1/index/volume_range", &p).await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["data"]["resultType"], "matrix");
    assert_eq!(
        r["data"]["result"][0]["values"].as_array().unwrap().len(),
        1,
        "{r}"
    );

    // Drilldown: detected labels and fields.
    let mut p = range();
    p.push(("query", r#"{cluster="c1"}"#.into()));
    let (code, r) = get(&url, "/loki/api/v1/detected_labels", &p).await;
    assert_eq!(code, 200, "{r}");
    let labels = r["detectedLabels"].as_array().unwrap();
    assert!(
        labels.contains(&json!({"label": "app", "cardinality": 2})),
        "{r}"
    );
    let mut p = range();
    p.push(("query", r#"{app="api"}"#.into()));
    let (code, r) = get(&url, "/loki/api/v1/detected_fields", &p).await;
    assert_eq!(code, 200, "{r}");
    let fields = r["fields"].as_array().unwrap();
    let dur = fields.iter().find(|f| f["label"] == "dur_ms").unwrap();
    assert_eq!(dur["type"], "int");
    assert_eq!(dur["parsers"], json!(["json"]));
    let (code, r) = get(&url, "/loki/api/v1/detected_field/level/values", &p).await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["values"], json!(["error", "info", "warn"]));

    // format_query, and its error shape.
    let (code, r) = get(
        &url,
        "/loki/api/v1/format_query",
        &[(
            "query",
            r#"sum(count_over_time({app="api"}|json[5m]))by(level)"#.into(),
        )],
    )
    .await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(
        r["data"],
        r#"sum by (level)(count_over_time({app="api"} | json [5m]))"#
    );
    let (code, r) = get(
        &url,
        "/loki/api/v1/format_query",
        &[("query", "sum(".into())],
    )
    .await;
    assert_eq!(code, 400);
    assert_eq!(r["status"], "invalid-query");

    // Limits: a regex bomb and over-long ranges are refused with their reasons; the server stays up.
    let mut p = range();
    p.push((
        "query",
        format!(r#"{{app="api"}} |~ "{}""#, "(a{1000}){1000}"),
    ));
    let (code, _) = get(&url, "/loki/api/v1/query_range", &p).await;
    assert_eq!(code, 400);
    let (code, _) = get(
        &url,
        "/loki/api/v1/query_range",
        &[
            ("query", r#"count_over_time({app="api"}[1m])"#.into()),
            ("start", (T0 - 366 * 86400 * NS).to_string()),
            ("end", T0.to_string()),
        ],
    )
    .await;
    assert_eq!(code, 400);
    let (code, _) = get(&url, "/ready", &[]).await;
    assert_eq!(code, 200);
    lo.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_streams_backfill_and_new_entries_over_a_websocket() {
    let lo = Lookout::start(None).await;
    let url = lo.url.clone();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    let push = |ts: i64, line: &str| {
        let url = url.clone();
        let body =
            json!({"streams": [{"stream": {"app": "tail"}, "values": [[ts.to_string(), line]]}]});
        async move {
            let (code, b) = post_bytes(
                &format!("{url}/loki/api/v1/push"),
                body.to_string().into_bytes(),
                &[("content-type", "application/json")],
            )
            .await;
            assert_eq!(code, 204, "{b}");
        }
    };
    push(now - NS, "before the tail").await;
    let ws_url = format!(
        "{}/loki/api/v1/tail?query={}&start={}",
        url.replacen("http://", "ws://", 1),
        urlencode(r#"{app="tail"} != "skip""#),
        now - 10 * NS
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    let mut seen: Vec<String> = Vec::new();
    let mut pushed_after = false;
    // Bounded: at most 20 frames or 10 s.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while seen.len() < 2 && tokio::time::Instant::now() < deadline {
        if seen.len() == 1 && !pushed_after {
            push(now + NS, "skip me").await;
            push(now + 2 * NS, "after the tail").await;
            pushed_after = true;
        }
        let msg = tokio::time::timeout(std::time::Duration::from_secs(3), ws.next()).await;
        let Ok(Some(Ok(msg))) = msg else { continue };
        let Ok(text) = msg.into_text() else { continue };
        let frame: Value = serde_json::from_str(&text).unwrap();
        for s in frame["streams"].as_array().unwrap() {
            assert_eq!(s["stream"]["app"], "tail", "{frame}");
            for v in s["values"].as_array().unwrap() {
                seen.push(v[1].as_str().unwrap().to_string());
            }
        }
    }
    assert_eq!(seen, ["before the tail", "after the tail"]);

    // A line stamped 3 s before it is pushed (as batching shippers send them), after the tail polled past its
    // timestamp, arrives too — once.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let real_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    push(real_now - 3 * NS, "stamped before it was pushed").await;
    let mut later: Vec<String> = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(4);
    while tokio::time::Instant::now() < deadline {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(1), ws.next()).await;
        let Ok(Some(Ok(msg))) = msg else { continue };
        let Ok(text) = msg.into_text() else { continue };
        let frame: Value = serde_json::from_str(&text).unwrap();
        for s in frame["streams"].as_array().unwrap() {
            for v in s["values"].as_array().unwrap() {
                later.push(v[1].as_str().unwrap().to_string());
            }
        }
    }
    assert_eq!(
        later,
        ["stamped before it was pushed"],
        "sent once, nothing resent"
    );
    drop(ws);
    lo.server.stop().await.unwrap();
}
