//! The acknowledgement contract of the binary: a write answered 2xx is in the WAL, so `kill -9` of the real
//! process loses none of it and the next start serves it.

mod common;

use std::time::Duration;

use common::{Proc, free_port, lookout_in, wait_ready};

fn start(dir: &std::path::Path, port: u16) -> Proc {
    lookout_in("serve", dir, port, "256MiB")
}

/// A data directory with an empty config, a free loopback port and its base URL, and the first process, ready.
async fn first_start() -> (tempfile::TempDir, u16, String, Proc) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lookout.yml"), "scrape_configs: []\n").unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let child = start(dir.path(), port);
    wait_ready(&format!("{base}/-/ready"), Duration::from_secs(30)).await;
    (dir, port, base, child)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9() {
    let (dir, port, base, child) = first_start().await;
    let client = reqwest::Client::new();
    let t0 = 1_700_000_000_000i64;
    let mut acked = 0;
    for batch in 0..40i64 {
        let mut body = String::new();
        for s in 0..25i64 {
            let i = batch * 25 + s;
            body.push_str(&format!(
                "kill9_metric{{series=\"{}\"}} {i} {}\n",
                s % 5,
                t0 + i * 1000
            ));
        }
        let r = client
            .post(format!("{base}/api/v1/import/prometheus"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 204);
        acked += 25;
    }
    child.kill9();

    let _child = start(dir.path(), port);
    wait_ready(&format!("{base}/-/ready"), Duration::from_secs(30)).await;
    let q = format!(
        "{base}/api/v1/query?query=sum(count_over_time(kill9_metric[1h]))&time={}",
        (t0 + 3_599_000) / 1000
    );
    let j: serde_json::Value = client.get(q).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        j["data"]["result"][0]["value"][1],
        acked.to_string(),
        "every acknowledged sample survives: {j}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_log_pushes_survive_kill_9() {
    let (dir, port, base, child) = first_start().await;
    let client = reqwest::Client::new();
    let t0 = 1_700_000_000_000_000_000i64;
    let mut acked = 0;
    // Pushes spread over more than one index commit (every second), so the kill finds entries both committed to
    // the index and only in the log WAL.
    for batch in 0..40i64 {
        let values: Vec<serde_json::Value> = (0..25i64)
            .map(|s| {
                let i = batch * 25 + s;
                serde_json::json!([(t0 + i * 1_000_000).to_string(), format!("line {i}")])
            })
            .collect();
        let body = serde_json::json!({"streams": [{"stream": {"app": "kill9"}, "values": values}]});
        let r = client
            .post(format!("{base}/loki/api/v1/push"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 204);
        acked += 25;
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    child.kill9();

    let _child = start(dir.path(), port);
    wait_ready(&format!("{base}/-/ready"), Duration::from_secs(30)).await;
    let q = format!(
        "{base}/loki/api/v1/query_range?query=%7Bapp%3D%22kill9%22%7D&start={}&end={}&limit=5000",
        t0,
        t0 + 3_600_000_000_000
    );
    let j: serde_json::Value = client.get(q).send().await.unwrap().json().await.unwrap();
    let mut got: Vec<String> = j["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["values"].as_array().unwrap().iter())
        .map(|v| v[1].as_str().unwrap().to_string())
        .collect();
    let total = got.len();
    got.sort();
    got.dedup();
    assert_eq!(got.len(), acked, "every acknowledged entry survives");
    assert_eq!(total, acked, "and none is there twice");
}
